"""How long runs are kept: ``report.keep_days`` deletes runs created more than N days ago, with their rows in
the run history, so that personal data is stored no longer than needed (KVKK art. 4(2)(d), GDPR art. 5(1)(e)).

The history rows go first (one atomic rewrite of ``history.duckdb``), then the folders; an interruption in
between leaves folders that the next run deletes again, never history rows without their run.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)


def stored_runs(root: Path) -> list[dict[str, Any]]:
    """The published runs under ``root``: ``folder``, ``run_id`` and ``created`` (oldest first)."""
    runs = []
    for run_json in Path(root).glob("*/run.json"):
        try:
            record = json.loads(run_json.read_text(encoding="utf-8"))
            created = pd.Timestamp(record["created"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a run this workbook published: never deleted
        runs.append({"folder": run_json.parent, "run_id": str(record.get("run_id") or run_json.parent.name),
                     "created": created})
    return sorted(runs, key=lambda r: (r["created"], r["run_id"]))


def expired_by_age(runs: list[dict[str, Any]], *, keep_days: int | None, now: dt.datetime) -> list[dict[str, Any]]:
    """The runs created more than ``keep_days`` days before ``now`` (none when ``keep_days`` is null)."""
    if keep_days is None:
        return []
    limit = pd.Timestamp(now) - pd.Timedelta(days=int(keep_days))
    return [r for r in runs if r["created"] < limit]


def delete_runs(root: Path, runs: list[dict[str, Any]], *, keep: Path | None = None) -> list[str]:
    """Delete ``runs`` (their history rows, then their folders), never the folder ``keep``; return run ids."""
    from crmlib.core import history

    runs = [r for r in runs if keep is None or Path(r["folder"]).resolve() != Path(keep).resolve()]
    if not runs:
        return []
    ids = [r["run_id"] for r in runs]
    db = Path(root) / "history.duckdb"
    if db.exists():
        history.delete_runs(db, ids, file_mode=os.stat(db).st_mode & 0o777)
    for run in runs:
        folder = Path(run["folder"])
        doomed = folder.with_name(f".expired-{folder.name}-{os.getpid()}")
        os.replace(folder, doomed)  # out of the index at once, removed after
        shutil.rmtree(doomed, ignore_errors=True)
    log.info("retention: deleted %d runs", len(ids))
    return ids


def apply(root: Path, report: dict[str, Any], *, now: dt.datetime | None = None,
          keep: Path | None = None) -> list[str]:
    """Delete the runs past ``report.keep_days``; return the deleted run ids."""
    for leftover in Path(root).glob(".expired-*"):  # a deletion interrupted after the history was updated
        shutil.rmtree(leftover, ignore_errors=True)
    now = now or dt.datetime.now()
    expired = expired_by_age(stored_runs(root), keep_days=report.get("keep_days"), now=now)
    return delete_runs(root, expired, keep=keep)
