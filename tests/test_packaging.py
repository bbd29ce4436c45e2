"""Packaging promises: environment.yml in step with pyproject.toml, notebooks committed clean."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from crmlib.core.notebooks import check

ROOT = Path(__file__).resolve().parents[1]


def _norm(spec: str) -> str:
    return re.sub(r"\s+", "", spec).lower()


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_norm(d) for d in project["dependencies"]} | {
        _norm(d) for extra in ("dev", "spark") for d in project["optional-dependencies"][extra]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    have = {_norm(d) for d in pip if not d.startswith("-e")}
    assert have == wanted, f"only in pyproject: {sorted(wanted - have)}; only in environment.yml: {sorted(have - wanted)}"
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python.replace("python", "") == project["requires-python"]


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_committed_clean(path):
    assert check(path) == []


def test_contract_notebooks_present():
    from crmlib.core.run import NOTEBOOKS

    present = {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")}
    missing = [n for n in NOTEBOOKS if n not in present]
    assert not missing, f"notebooks missing: {missing}"
