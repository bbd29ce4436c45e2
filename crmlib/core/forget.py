"""Erasure on request: ``python -m crmlib forget CUSTOMER_ID [...] [--reports DIR]``.

Removes the customers from the run history (``history.duckdb``) and from every stored run: their rows are
dropped from the CSV exports, the action-list workbook, the tables of the HTML reports and of the executed
notebooks, and any other mention of their id, name, phone or e-mail is replaced by ``***``.

Rows are dropped rather than the runs re-rendered: a stored run keeps neither its input data nor its context
(they are deleted once the run is published), and re-running an old run on today's export would change what
was reported then. What stays is what carries no personal data: totals, shares, counts and charts of groups
(a chart never names a customer).

The erasure is atomic like a run: every changed file is written to ``<reports>/.forget-<pid>/`` first; a
``COMMIT`` marker is written when all are ready, then the files are moved into place. Interrupted before the
marker, nothing has changed and the folder is removed by the next ``forget`` or run; interrupted after it,
the next ``forget`` or run completes the moves. The ids are added (salted and hashed, with the date) to the
suppression list that later runs honour (:mod:`crmlib.core.suppression`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from crmlib.core import erase_files as scrub
from crmlib.core import privacy, suppression
from crmlib.errors import CrmError

COMMIT = "COMMIT"
LOCK_NAME = ".crmlib.lock"  # shared with the runner (crmlib.core.locking)
MANIFEST = "manifest.json"


@dataclasses.dataclass
class ForgetReport:
    """What one ``forget`` changed: ``changes`` maps a file (relative to the reports folder) to a summary."""

    reports: Path
    ids: list[str]
    found_in_runs: int = 0
    history_rows: int = 0
    suppressed_new: int = 0
    changes: dict[str, str] = dataclasses.field(default_factory=dict)

    def text(self) -> str:
        """The summary the command prints (hashes and counts only; never the names)."""
        lines = [f"forget: {len(self.ids)} customer id(s) in {self.reports}",
                 f"  stored runs that held them: {self.found_in_runs}",
                 f"  run history rows deleted: {self.history_rows}"]
        lines += [f"  {path}: {what}" for path, what in sorted(self.changes.items())]
        lines.append(f"  suppression list: {self.suppressed_new} new (later runs leave them out)")
        return "\n".join(lines)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(root: Path) -> None:
    """Finish (marker written) or discard (no marker) the erasures of processes that no longer run."""
    for staging in Path(root).glob(".forget-*"):
        try:
            pid = int(staging.name.rsplit("-", 1)[1])
        except (ValueError, IndexError):
            continue
        if pid != os.getpid() and _alive(pid):
            continue
        if (staging / COMMIT).exists():
            _move_into_place(staging, Path(root))
        shutil.rmtree(staging, ignore_errors=True)


def _move_into_place(staging: Path, root: Path) -> None:
    manifest = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
    for rel in manifest:
        source = staging / "files" / rel
        if source.exists():  # already moved by an earlier, interrupted attempt otherwise
            os.replace(source, root / rel)


def _stage(staging: Path, root: Path, rel: str) -> Path:
    target = staging / "files" / rel
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return target


def forget(ids: Sequence[str], *, reports: str | Path = "reports", date: Any = None) -> ForgetReport:
    """Erase ``ids`` from the run history and every stored run under ``reports``; see the module docstring.

    Raises
    ------
    CrmError
        When no id is given or ``reports`` is not a reports folder.
    """
    ids = [suppression.normalise_id(i) for i in ids if suppression.normalise_id(i)]
    if not ids:
        raise CrmError("forget needs at least one customer id, e.g. python -m crmlib forget 120.01.00042.")
    root = Path(reports).resolve()
    if not root.is_dir():
        raise CrmError(f"Reports folder {str(root)!r} not found. Pass the folder that holds the runs and "
                       "history.duckdb with --reports DIR.")
    from filelock import FileLock

    # the reports folder's lock, the one runs take: no run publishes (with the customers) while we erase
    with FileLock(str(root / LOCK_NAME), mode=0o600):
        return _forget_locked(ids, root, date)


def _forget_locked(ids: list[str], root: Path, date: Any) -> ForgetReport:
    recover(root)
    report = ForgetReport(reports=root, ids=ids)
    staging = root / f".forget-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    privacy.make_dir(staging, privacy.OWNER_ONLY)
    committed = False
    try:
        staged: list[str] = []
        traces = scrub.Traces.for_ids(ids)
        runs = sorted(p.parent for p in root.glob("*/run.json"))
        db = root / "history.duckdb"
        for run_dir in runs:  # rows of the exports first: they give the names, phones and e-mails to look for
            traces.collect(run_dir / "exports")
        if db.exists():
            traces.collect_history(db)
        for run_dir in runs:
            touched = False
            for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
                rel = str(path.relative_to(root))
                summary = scrub.scrub_file(path, _stage(staging, root, rel), traces)
                if summary:
                    staged.append(rel)
                    report.changes[rel] = summary
                    touched = True
                else:
                    (staging / "files" / rel).unlink(missing_ok=True)
            report.found_in_runs += touched
        if db.exists():
            report.history_rows = scrub.scrub_history(db, _stage(staging, root, db.name), ids)
            staged.append(db.name)
            report.changes[db.name] = f"{report.history_rows} rows deleted; database rewritten"
        listed = suppression.load(root)
        report.suppressed_new = listed.add(ids, date=date)
        suppression.write(listed, _stage(staging, root, suppression.FILE_NAME))
        staged.append(suppression.FILE_NAME)
        for rel in staged:  # the replaced files keep the modes they had (owner-only or group)
            original = root / rel
            if original.exists():
                os.chmod(staging / "files" / rel, stat.S_IMODE(original.stat().st_mode))
        (staging / MANIFEST).write_text(json.dumps(staged), encoding="utf-8")
        _commit(staging)
        committed = True
        _move_into_place(staging, root)
        shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        if not committed:  # nothing has changed: discard what was prepared
            shutil.rmtree(staging, ignore_errors=True)
        raise  # committed: the next forget or run finishes the moves (recover)
    return report


def _commit(staging: Path) -> None:
    """Write the marker after which the erasure is complete even if interrupted (the next start finishes it)."""
    tmp = staging / (COMMIT + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write("ready\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, staging / COMMIT)
