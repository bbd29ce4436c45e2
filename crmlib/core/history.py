"""Run history in an embedded DuckDB database (``reports/history.duckdb``).

Notebooks never write it. The runner snapshots what earlier runs recorded into the run's context before the
notebooks start (:func:`snapshot`), and records what this run staged when it publishes (:func:`record`):
into a copy of the database that replaces the original in one rename, so an interrupted run leaves the
history as it was. The runner holds the reports folder's lock meanwhile, so no two runs write it at once.

Each as-of date has one set of records per table: re-running an as_of replaces that as_of's earlier records
(the newest run wins), so migration, win-back and "first run" read the same after one run or five. The
``runs`` table lists the published runs; pruning a run (:func:`forget_runs`) removes it there, while the
records of its as_of stay (the analysis history does not depend on which report folders are kept).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd

log = logging.getLogger(__name__)

RUNS_DDL = ("CREATE TABLE IF NOT EXISTS runs (run_id VARCHAR PRIMARY KEY, as_of DATE, created TIMESTAMP, "
            "fingerprint VARCHAR)")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def snapshot(db_path: Path, *, as_of: pd.Timestamp, out_dir: Path) -> list[str]:
    """Write every recorded table's rows from runs with an earlier ``as_of`` to ``out_dir/<name>.parquet``."""
    db_path = Path(db_path)
    if not db_path.exists():
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_name <> 'runs'").fetchall()]
        for name in names:
            frame = con.execute(f"SELECT * FROM {_quote(name)} WHERE as_of < ? ORDER BY as_of, run_id",
                                [as_of.date()]).df()
            if "as_of" in frame.columns:
                frame["as_of"] = pd.to_datetime(frame["as_of"])
            frame.to_parquet(out_dir / f"{name}.parquet", index=False)
            written.append(name)
    finally:
        con.close()
    return written


def run_ids(db_path: Path) -> set[str]:
    """The ids of the runs recorded in the history (empty without one)."""
    db_path = Path(db_path)
    if not db_path.exists():
        return set()
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'runs'").fetchone()[0]:
            return set()
        return {r[0] for r in con.execute("SELECT run_id FROM runs").fetchall()}
    finally:
        con.close()


def forget_runs(db_path: Path, ids: set[str]) -> None:
    """Remove runs from the ``runs`` table, atomically (their as_of's records stay: see the module docstring)."""
    db_path = Path(db_path)
    if not db_path.exists() or not ids:
        return
    with rewrite(db_path, file_mode=db_path.stat().st_mode & 0o777) as con:
        con.execute(RUNS_DDL)
        for run_id in sorted(ids):
            con.execute("DELETE FROM runs WHERE run_id = ?", [run_id])


@contextlib.contextmanager
def rewrite(db_path: Path, *, file_mode: int = 0o600) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a copy of the history that replaces the original in one rename when the block ends
    without an error (an interrupted change leaves the history as it was); the file gets ``file_mode``."""
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(db_path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    if db_path.exists():
        shutil.copyfile(db_path, tmp)
    con = duckdb.connect(str(tmp))
    try:
        yield con
        con.execute("CHECKPOINT")
    finally:
        con.close()
    tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    os.chmod(tmp, file_mode)
    os.replace(tmp, db_path)


def record(db_path: Path, *, run_id: str, as_of: pd.Timestamp, created: pd.Timestamp, fingerprint: str,
           staged: dict[str, pd.DataFrame], file_mode: int = 0o600) -> None:
    """Add this run's staged frames to the history, atomically (copy, write, rename); the file gets ``file_mode``."""
    with rewrite(db_path, file_mode=file_mode) as con:
        con.execute(RUNS_DDL)
        con.execute("DELETE FROM runs WHERE run_id = ?", [run_id])
        con.execute("INSERT INTO runs VALUES (?, ?, ?, ?)", [run_id, as_of.date(), created.to_pydatetime(),
                                                            fingerprint])
        for name, frame in staged.items():
            frame = frame.copy()
            frame.insert(0, "as_of", as_of.normalize())
            frame.insert(0, "run_id", run_id)
            con.register("staged", frame)
            exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                                 [name]).fetchone()[0]
            if not exists:
                con.execute(f"CREATE TABLE {_quote(name)} AS SELECT * FROM staged LIMIT 0")
                con.execute(f"ALTER TABLE {_quote(name)} ALTER as_of TYPE DATE")
            have = {r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [name]).fetchall()}
            types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE staged)").fetchall())
            for col in frame.columns:
                if col not in have:
                    con.execute(f"ALTER TABLE {_quote(name)} ADD COLUMN {_quote(col)} {types[col]}")
            # one set of records per as_of: the newest run replaces earlier runs of the same date
            con.execute(f"DELETE FROM {_quote(name)} WHERE run_id = ? OR as_of = ?", [run_id, as_of.date()])
            con.execute(f"INSERT INTO {_quote(name)} BY NAME SELECT * FROM staged")
            con.unregister("staged")


def delete_runs(db_path: Path, run_ids: list[str], *, file_mode: int = 0o600) -> int:
    """Delete the runs ``run_ids`` and their rows in every table, atomically (copy, delete, rename).

    Returns how many rows went. Used by retention (``report.keep_days``).
    """
    db_path = Path(db_path)
    if not db_path.exists() or not run_ids:
        return 0
    removed = 0
    with rewrite(db_path, file_mode=file_mode) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        for name in names:
            cols = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                              "WHERE table_name = ?", [name]).fetchall()}
            if "run_id" in cols:
                removed += con.execute(f"DELETE FROM {_quote(name)} WHERE run_id IN (SELECT unnest(?::VARCHAR[]))",
                                       [list(run_ids)]).fetchone()[0]
    return removed

