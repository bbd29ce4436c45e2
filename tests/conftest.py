"""Shared fixtures: one synthetic sample per test session (2,000 customers, seed 7) and its context; crmlib
compiled once when the session starts."""

from __future__ import annotations

import compileall
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CUSTOMERS = 2000
SAMPLE_SEED = 7


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile crmlib's modules once, as an installation has them after its first run.

    With ``PYTHONDONTWRITEBYTECODE`` set (as in this project's CI environment) no process writes them, so
    every kernel, worker and command-line run of the suite would compile the modules it imports again
    (about 2.6 s of CPU for the runner's and the notebooks' modules, well over 100 processes per session).
    Only stale or missing files are written, into the ``__pycache__`` folders git ignores.
    """
    import crmlib

    compileall.compile_dir(Path(crmlib.__file__).parent, quiet=1)


def write_sample_params(sample_dir: Path, target: Path, *, language: str = "en", **extra) -> Path:
    """Write a params file for ``sample_dir`` based on the shipped params/default.yaml."""
    raw = yaml.safe_load((ROOT / "params" / "default.yaml").read_text(encoding="utf-8"))
    raw["data"] = {name: ({**spec, "path": str(sample_dir / Path(spec["path"]).name)} if isinstance(spec, dict)
                          else str(sample_dir / Path(spec).name)) for name, spec in raw["data"].items()}
    raw["language"] = language
    raw.update(extra)
    target.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    """The generated sample (all input tables and truth.csv)."""
    from crmlib.data.sample import generate

    out = tmp_path_factory.mktemp("sample")
    generate(out, customers=SAMPLE_CUSTOMERS, seed=SAMPLE_SEED)
    return out


@pytest.fixture(scope="session")
def sample_params(sample_dir, tmp_path_factory) -> Path:
    """An English params file pointing at the session's sample."""
    return write_sample_params(sample_dir, tmp_path_factory.mktemp("params") / "sample.yaml")


def context_from(params_file: Path, export_dir: Path | None = None):
    """A run context built from ``params_file`` (its data paths relative to it), writing exports to ``export_dir``."""
    from crmlib.core import params
    from crmlib.core.context import build_context

    return build_context(params.load(params_file), params_dir=params_file.parent, export_dir=export_dir)


@pytest.fixture(scope="session")
def sample_ctx(sample_params):
    """The run context built on the sample at its as-of date (the last order)."""
    from crmlib.core import params
    from crmlib.core.context import build_context

    return build_context(params.load(sample_params), params_dir=sample_params.parent)


@pytest.fixture(scope="session")
def sample_truth(sample_dir):
    """``truth.csv``: each customer's simulated fate after the as-of date."""
    import pandas as pd

    return pd.read_csv(sample_dir / "truth.csv", dtype={"customer_id": str})
