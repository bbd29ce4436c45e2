"""Retention: report.keep_days deletes exactly the runs past the limit, with their history rows."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pandas as pd

from crmlib.core import history, retention
from crmlib.report import render


def _publish(root, name, created, *, as_of="2026-01-31"):
    folder = root / name
    (folder / "exports").mkdir(parents=True)
    (folder / "exports" / "segments.csv").write_text("customer_id\nC1\n", encoding="utf-8")
    (folder / "run.json").write_text(json.dumps({"run_id": name, "created": created, "as_of": as_of,
                                                 "notebooks": []}), encoding="utf-8")
    history.record(root / "history.duckdb", run_id=name, as_of=pd.Timestamp(created).normalize(),
                   created=pd.Timestamp(created), fingerprint="f",
                   staged={"segments": pd.DataFrame({"customer_id": ["C1", "C2"], "rfm_segment": ["a", "b"]})})
    return folder


def test_keep_days_deletes_exactly_the_runs_past_the_limit_and_their_history(tmp_path):
    root = tmp_path / "reports"
    created = ["2026-01-01T08:00:00", "2026-03-01T08:00:00", "2026-03-30T08:00:00", "2026-04-06T08:00:00"]
    for i, when in enumerate(created):
        _publish(root, f"run{i}", when)
    (root / "notes").mkdir()  # not a run: never touched
    (root / ".expired-old-1").mkdir()  # left by an interrupted deletion
    now = dt.datetime(2026, 4, 6, 9, 0)
    assert retention.apply(root, {"keep_days": None}, now=now) == []
    deleted = retention.apply(root, {"keep_days": 30}, now=now, keep=root / "run3")
    assert deleted == ["run0", "run1"]  # 95 and 36 days old; run2 is 7 days old
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["notes", "run2", "run3"]
    con = duckdb.connect(str(root / "history.duckdb"), read_only=True)
    assert [r[0] for r in con.execute("SELECT run_id FROM runs ORDER BY 1").fetchall()] == ["run2", "run3"]
    assert con.execute("SELECT DISTINCT run_id FROM segments ORDER BY 1").fetchall() == [("run2",), ("run3",)]
    con.close()
    index = render.render_reports_index(root, lang="en").read_text(encoding="utf-8")
    assert "run2" in index and "run3" in index and "run0" not in index and "run1" not in index
    assert retention.apply(root, {"keep_days": 30}, now=now) == []  # idempotent


def test_the_run_being_published_is_never_deleted(tmp_path):
    root = tmp_path / "reports"
    current = _publish(root, "current", "2020-01-01T00:00:00")  # a clock set wrong when it was created
    assert retention.apply(root, {"keep_days": 1}, now=dt.datetime(2026, 1, 1), keep=current) == []
    assert current.exists()
