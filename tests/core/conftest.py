"""Fixtures shared by the runner's tests."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmlib.core.run import run
from tests.conftest import write_sample_params


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """A 300-customer sample (seed 5) for whole runs, generated once per test module."""
    from crmlib.data.sample import generate

    folder = tmp_path_factory.mktemp("small")
    generate(folder, customers=300, seed=5)
    return folder


def tree_digest(folder: Path) -> dict[str, str]:
    """Each file's path under ``folder`` and the SHA-256 of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def small_dir(tmp_path_factory) -> Iterator[Path]:
    """The generated sample at 400 customers (three years, every table, seed 7): enough for every section of
    every notebook, and the runs on it check the runner, not the analyses' numbers (those have their own
    tests). Shared by the session: a test that changes data copies it first."""
    from crmlib.data.sample import generate

    out = tmp_path_factory.mktemp("small400")
    generate(out, customers=400, seed=7)
    before = tree_digest(out)
    yield out
    assert tree_digest(out) == before, "a test changed the shared 400-customer sample: copy it first"


@pytest.fixture(scope="session")
def published(small_dir: Path, tmp_path_factory) -> Iterator[tuple[Path, dict[str, tuple[int, Path]]]]:
    """Every notebook run once in English and once in Turkish on :func:`small_dir` into one reports folder
    (root, {language: (exit code, run folder)}): the whole-workbook runs that several modules check. They only
    read it (a test that changes it works on a copy); the session ends with an error if any file changed."""
    root = tmp_path_factory.mktemp("reports")
    results = {}
    for lang in ("en", "tr"):
        params = write_sample_params(small_dir, root.parent / f"params_{lang}.yaml", language=lang)
        out = root / f"run-{lang}"
        results[lang] = (run(params, out=out, progress=False), out)
    before = tree_digest(root)
    yield root, results
    assert tree_digest(root) == before, "a test changed the shared published reports: copy them first"
