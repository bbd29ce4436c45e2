"""Run history: snapshots see only earlier runs; recording is atomic and idempotent per run."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlib.core import history


def _segments(ids, segs):
    return pd.DataFrame({"customer_id": ids, "rfm_segment": segs})


def test_record_then_snapshot_earlier_runs_only(tmp_path):
    db = tmp_path / "history.duckdb"
    history.record(db, run_id="r1", as_of=pd.Timestamp("2026-01-04"), created=pd.Timestamp("2026-01-05"),
                   fingerprint="f1", staged={"segments": _segments(["a", "b"], ["champions", "lost"])})
    history.record(db, run_id="r2", as_of=pd.Timestamp("2026-01-11"), created=pd.Timestamp("2026-01-12"),
                   fingerprint="f2", staged={"segments": _segments(["a"], ["loyal"])})
    out = tmp_path / "snap"
    assert history.snapshot(db, as_of=pd.Timestamp("2026-01-11"), out_dir=out) == ["segments"]
    frame = pd.read_parquet(out / "segments.parquet")
    assert list(frame["run_id"].unique()) == ["r1"]  # the run with the same as_of is not "earlier"
    assert list(frame.columns[:2]) == ["run_id", "as_of"]
    history.snapshot(db, as_of=pd.Timestamp("2026-02-01"), out_dir=out)
    assert set(pd.read_parquet(out / "segments.parquet")["run_id"]) == {"r1", "r2"}


def test_rerecording_a_run_replaces_its_rows_and_new_columns_are_added(tmp_path):
    db = tmp_path / "h.duckdb"
    kwargs = dict(run_id="r1", as_of=pd.Timestamp("2026-01-04"), created=pd.Timestamp("2026-01-05"), fingerprint="f")
    history.record(db, staged={"segments": _segments(["a", "b"], ["x", "y"])}, **kwargs)
    history.record(db, staged={"segments": _segments(["a"], ["z"]).assign(abc_tier="A")}, **kwargs)
    history.snapshot(db, as_of=pd.Timestamp("2027-01-01"), out_dir=tmp_path / "s")
    frame = pd.read_parquet(tmp_path / "s" / "segments.parquet")
    assert frame[["customer_id", "rfm_segment", "abc_tier"]].values.tolist() == [["a", "z", "A"]]


def test_failed_record_leaves_history_unchanged(tmp_path, monkeypatch):
    db = tmp_path / "h.duckdb"
    history.record(db, run_id="r1", as_of=pd.Timestamp("2026-01-04"), created=pd.Timestamp("2026-01-05"),
                   fingerprint="f", staged={"segments": _segments(["a"], ["x"])})
    before = db.read_bytes()

    class Boom(Exception):
        pass

    real = history.os.replace

    def explode(*args, **kwargs):
        raise Boom("interrupted")

    monkeypatch.setattr(history.os, "replace", explode)
    with pytest.raises(Boom):
        history.record(db, run_id="r2", as_of=pd.Timestamp("2026-01-11"), created=pd.Timestamp("2026-01-12"),
                       fingerprint="f", staged={"segments": _segments(["b"], ["y"])})
    monkeypatch.setattr(history.os, "replace", real)
    assert db.read_bytes() == before


def test_snapshot_without_database_is_empty(tmp_path):
    assert history.snapshot(tmp_path / "none.duckdb", as_of=pd.Timestamp("2026-01-01"), out_dir=tmp_path / "s") == []


def test_rerunning_an_as_of_replaces_its_records_so_later_runs_see_one_set(tmp_path):
    """The same as_of recorded by two runs: the newest run's rows replace the earlier run's, for every table
    it recorded; tables it did not record keep their rows."""
    db = tmp_path / "h.duckdb"
    day = pd.Timestamp("2026-01-11")
    history.record(db, run_id="r1", as_of=day, created=pd.Timestamp("2026-01-12 06:00"), fingerprint="f",
                   staged={"segments": _segments(["a", "b"], ["x", "y"]), "flags": _segments(["a"], ["f"])})
    once = tmp_path / "once"
    history.snapshot(db, as_of=pd.Timestamp("2026-02-01"), out_dir=once)
    history.record(db, run_id="r2", as_of=day, created=pd.Timestamp("2026-01-12 07:00"), fingerprint="f",
                   staged={"segments": _segments(["a", "b"], ["x", "y"])})
    twice = tmp_path / "twice"
    history.snapshot(db, as_of=pd.Timestamp("2026-02-01"), out_dir=twice)
    segments = pd.read_parquet(twice / "segments.parquet")
    assert len(segments) == 2 and set(segments["run_id"]) == {"r2"}
    cols = ["customer_id", "rfm_segment"]
    pd.testing.assert_frame_equal(segments[cols], pd.read_parquet(once / "segments.parquet")[cols])
    assert pd.read_parquet(twice / "flags.parquet")["run_id"].tolist() == ["r1"]
    assert history.run_ids(db) == {"r1", "r2"}
    history.forget_runs(db, {"r1"})
    assert history.run_ids(db) == {"r2"}
    history.snapshot(db, as_of=pd.Timestamp("2026-02-01"), out_dir=tmp_path / "pruned")
    assert len(pd.read_parquet(tmp_path / "pruned" / "flags.parquet")) == 1  # the as_of's records stay
