"""Fixtures shared by the runner's tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """A 300-customer sample (seed 5) for whole runs, generated once per test module."""
    from crmlib.data.sample import generate

    folder = tmp_path_factory.mktemp("small")
    generate(folder, customers=300, seed=5)
    return folder
