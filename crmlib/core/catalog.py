"""The runs of a reports folder: list them, prune the oldest (``report.keep_runs``), keep the list of runs
(``index.html``) and the history's ``runs`` table in step with the folders.

``python -m crmlib runs PARAMS.yaml`` lists; ``--keep N`` (or ``report.keep_runs``) prunes. The runner
prunes after publishing when ``report.keep_runs`` is set. Call these holding the folder's lock
(:func:`crmlib.core.locking.reports_lock`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from crmlib.core import history


def list_runs(root: Path) -> list[dict[str, Any]]:
    """The published runs under ``root``, newest first: each ``run.json`` plus its ``folder`` name."""
    runs = []
    for run_json in Path(root).glob("*/run.json"):
        if run_json.parent.name.startswith("."):
            continue
        try:
            record = json.loads(run_json.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        runs.append({**record, "folder": run_json.parent.name})
    runs.sort(key=lambda r: (str(r.get("created", "")), r["folder"]), reverse=True)
    return runs


def prune_runs(root: Path, *, keep: int, protect: set[str] | None = None) -> list[str]:
    """Remove all but the newest ``keep`` runs (never a folder named in ``protect``); return the removed
    folders. Their entries leave the history's ``runs`` table; the caller re-renders the list of runs."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    protect = protect or set()
    runs = list_runs(root)
    removed, forgotten = [], set()
    for run in runs[keep:]:
        if run["folder"] in protect:
            continue
        shutil.rmtree(Path(root) / run["folder"], ignore_errors=True)
        removed.append(run["folder"])
        if run.get("run_id"):
            forgotten.add(str(run["run_id"]))
    history.forget_runs(Path(root) / "history.duckdb", forgotten)
    return removed


def describe(runs: list[dict[str, Any]]) -> str:
    """A plain table of runs for the terminal (folder, as-of date, created, language, status, params file)."""
    lines = [f"{'run':<34} {'as of':<10}  {'created':<16}  lang  status  params file"]
    for run in runs:
        notebooks = run.get("notebooks", [])
        ok = sum(nb.get("status") == "ok" for nb in notebooks)
        lines.append(f"{run['folder']:<34} {run.get('as_of', ''):<10}  {str(run.get('created', ''))[:16]:<16}  "
                     f"{run.get('language') or (run.get('params') or {}).get('language', ''):<4}  "
                     f"{ok}/{len(notebooks):<5} {run.get('params_file', '')}")
    if not runs:
        lines.append("(no runs)")
    return "\n".join(lines)
