"""Who may read what a run writes: owner-only by default, the owner's group with report.share_with_group."""

from __future__ import annotations

import html
import json
import os
import stat
from pathlib import Path

import pytest

from crmlib.core import params as params_mod
from crmlib.core import privacy
from crmlib.core.run import run
from crmlib.errors import ParamsError
from tests.conftest import write_sample_params


def _modes(root: Path) -> tuple[set[int], set[int]]:
    folders = {stat.S_IMODE(root.stat().st_mode)}
    files = set()
    for path in root.rglob("*"):
        (folders if path.is_dir() else files).add(stat.S_IMODE(path.stat().st_mode))
    return folders, files


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("share, expected", [(False, (0o700, 0o600)), (True, (0o750, 0o640))])
def test_run_folders_and_files_get_the_modes_whatever_the_umask(small_dir, tmp_path, umask_022, share,
                                                                expected):
    params = write_sample_params(small_dir, tmp_path / "p.yaml", report={"share_with_group": share})
    root = tmp_path / "reports"
    out = root / "weekly"
    only = ["overview"] if share else ["overview", "segmentation"]
    assert run(params, out=out, only=only, progress=False) == 0
    folders, files = _modes(root)
    assert folders == {expected[0]} and files == {expected[1]}
    assert {p.name for p in root.iterdir()} >= {"history.duckdb", "index.html", "weekly"}
    assert share or (out / "exports" / "action_lists.xlsx").exists()
    recorded = json.loads((out / "run.json").read_text(encoding="utf-8"))["file_modes"]
    assert recorded == {"folders": f"{expected[0]:04o}", "files": f"{expected[1]:04o}",
                        "shared_with_group": share}
    page = html.unescape((out / "index.html").read_text(encoding="utf-8"))
    assert ("owner and the owner's group" if share else "by their owner only") in page
    assert f"files {expected[1]:04o}" in page


def test_an_existing_reports_folder_keeps_its_mode_but_new_runs_are_private(tmp_path, umask_022):
    existing = tmp_path / "shared"
    existing.mkdir(mode=0o755)
    privacy.make_dir(existing / "a" / "b", privacy.OWNER_ONLY)
    assert stat.S_IMODE(existing.stat().st_mode) == 0o755
    assert stat.S_IMODE((existing / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((existing / "a" / "b").stat().st_mode) == 0o700


@pytest.mark.parametrize("report, match", [
    ({"share_with_group": "yes"}, r"report.share_with_group' must be true or false, got 'yes'"),
    ({"mask_pii_in_html": 1}, r"report.mask_pii_in_html' must be true or false, got 1"),
    ({"keep_days": 0}, r"report.keep_days' must be a whole number of days \(1 or more\) or null, got 0"),
    ({"keep_days": "30"}, r"report.keep_days' .* got '30'"),
])
def test_privacy_keys_are_checked_when_the_params_load(report, match):
    with pytest.raises(ParamsError, match=match):
        params_mod.normalize({"data": {"orders": "o.csv"}, "report": report})


def test_privacy_defaults_are_owner_only_and_masked_html():
    report = params_mod.normalize({"data": {"orders": "o.csv"}})["report"]
    assert report["share_with_group"] is False and report["mask_pii_in_html"] is True
    assert report["keep_days"] is None
    assert privacy.modes(report) == (0o700, 0o600)
