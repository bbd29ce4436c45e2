"""The layer rules (docs/ARCHITECTURE.md) hold: import-linter's contracts in pyproject.toml are all kept."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_three_layer_contracts_are_declared():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    kinds = sorted(c["type"] for c in config["contracts"])
    assert kinds == ["acyclic_siblings", "forbidden", "forbidden"]
    shared = next(c for c in config["contracts"] if c["type"] == "forbidden" and "crmlib.core" in c["source_modules"])
    from crmlib.core import registry

    assert sorted(shared["forbidden_modules"]) == sorted(p.package for p in registry.PRACTICES)


def test_lint_imports_keeps_every_contract():
    tool = Path(sys.executable).parent / "lint-imports"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([str(tool), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout
