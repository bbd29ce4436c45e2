"""Who may read what a run writes: owner-only files and folders, or the owner's group when asked.

Reports, exports, executed notebooks and the run history hold customers' names, phones and e-mails (KVKK
art. 12, GDPR art. 32: access limited to those who need it). Every folder the workbook creates is ``0700``
and every file ``0600`` — set with ``chmod``, so the umask does not matter — unless
``report.share_with_group: true``, which gives ``0750`` / ``0640`` for a team share. See ``docs/PRIVACY.md``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crmlib.errors import ParamsError

OWNER_ONLY: tuple[int, int] = (0o700, 0o600)
GROUP_READABLE: tuple[int, int] = (0o750, 0o640)


def check_params(report: Mapping[str, Any]) -> None:
    """Refuse a ``report`` section whose privacy keys have the wrong type (ParamsError names key and value)."""
    for key in ("share_with_group", "mask_pii_in_html", "mask_pii"):
        value = report.get(key)
        if not isinstance(value, bool):
            raise ParamsError(f"Params key 'report.{key}' must be true or false, got {value!r}.")
    days = report.get("keep_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 1):
        raise ParamsError(f"Params key 'report.keep_days' must be a whole number of days (1 or more) or null, "
                          f"got {days!r}. Runs created longer ago are deleted with their history rows.")


def modes(report: Mapping[str, Any] | None = None, *, share_with_group: bool | None = None) -> tuple[int, int]:
    """``(folder mode, file mode)`` for the params' ``report`` section (or an explicit ``share_with_group``)."""
    if share_with_group is None:
        share_with_group = bool((report or {}).get("share_with_group"))
    return GROUP_READABLE if share_with_group else OWNER_ONLY


def describe(mode: tuple[int, int]) -> dict[str, Any]:
    """The modes as recorded in ``run.json``: ``{"folders": "0700", "files": "0600", "shared_with_group": ...}``."""
    return {"folders": f"{mode[0]:04o}", "files": f"{mode[1]:04o}", "shared_with_group": mode == GROUP_READABLE}


def make_dir(path: Path, mode: tuple[int, int]) -> Path:
    """Create ``path`` (and missing parents) with the folder mode; a folder that already exists is left as is."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        folder.mkdir(mode=mode[0], exist_ok=True)
        os.chmod(folder, mode[0])
    return path


def restrict(path: Path, mode: tuple[int, int]) -> None:
    """``chmod`` ``path`` and, for a folder, everything under it: folders ``mode[0]``, files ``mode[1]``."""
    path = Path(path)
    if not path.exists():
        return
    if path.is_file():
        os.chmod(path, mode[1])
        return
    os.chmod(path, mode[0])
    for folder, dirs, files in os.walk(path):
        for name in dirs:
            os.chmod(os.path.join(folder, name), mode[0])
        for name in files:
            target = os.path.join(folder, name)
            if not os.path.islink(target):
                os.chmod(target, mode[1])
