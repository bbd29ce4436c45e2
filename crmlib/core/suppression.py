"""The suppression list: customers erased on request, kept as salted SHA-256 hashes, never as ids.

``python -m crmlib forget`` adds to ``<reports>/suppression.json``; every later run reads it and leaves those
customers out of every table, even when the source export still holds them (KVKK art. 7, GDPR art. 17: the
erasure must last). The data-quality section counts them and never names them.

The hashes are salted with a random value kept in the same file; ids are short, so a hash is
pseudonymisation rather than anonymisation: the file is owner-only like everything the workbook writes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from crmlib.errors import DataError

FILE_NAME = "suppression.json"


def normalise_id(customer_id: Any) -> str:
    """A customer id as the loader keeps it: text without surrounding spaces."""
    return str(customer_id).strip()


@dataclasses.dataclass
class Suppression:
    """Salt and hashed ids of the erased customers (``entries``: ``{"sha256": ..., "date": "YYYY-MM-DD"}``)."""

    salt: str
    entries: list[dict[str, str]] = dataclasses.field(default_factory=list)

    @property
    def hashes(self) -> frozenset[str]:
        """The hashed ids."""
        return frozenset(e["sha256"] for e in self.entries)

    def digest(self, customer_id: Any) -> str:
        """Salted SHA-256 of a customer id (hex)."""
        return hashlib.sha256(f"{self.salt}\x00{normalise_id(customer_id)}".encode()).hexdigest()

    def add(self, ids: Iterable[Any], *, date: dt.date | None = None) -> int:
        """Add ``ids`` (dated ``date``, default today); return how many were new."""
        known = set(self.hashes)
        day = (date or dt.date.today()).isoformat()
        added = 0
        for customer_id in ids:
            digest = self.digest(customer_id)
            if digest not in known:
                self.entries.append({"sha256": digest, "date": day})
                known.add(digest)
                added += 1
        return added

    def matches(self, ids: pd.Series) -> pd.Series:
        """Boolean mask of the ``ids`` that are suppressed."""
        hashes = self.hashes
        if not hashes:
            return pd.Series(False, index=ids.index)
        unique = pd.Series(ids.dropna().unique())
        hit = {v for v in unique if self.digest(v) in hashes}
        return ids.isin(hit)

    def to_json(self) -> str:
        """The file's text."""
        return json.dumps({"about": "customers erased on request (python -m crmlib forget): salted SHA-256 of "
                                    "their ids; later runs leave them out",
                           "algorithm": "sha256(salt + NUL + customer_id)", "salt": self.salt,
                           "entries": self.entries}, indent=2, ensure_ascii=False)


def load(root: Path | None) -> Suppression:
    """Read ``<root>/suppression.json`` (an empty list with a new salt when there is none)."""
    path = Path(root) / FILE_NAME if root is not None else None
    if path is None or not path.exists():
        return Suppression(salt=secrets.token_hex(16))
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Suppression(salt=str(raw["salt"]), entries=list(raw.get("entries", [])))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DataError(f"The suppression list {str(path)!r} cannot be read ({err}). It lists customers "
                        "erased on request; restore it from a backup rather than deleting it.") from err


def write(suppression: Suppression, path: Path) -> Path:
    """Write the list to ``path`` (owner-only, atomically)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(suppression.to_json(), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def apply(ctx: Any, suppression: Suppression) -> int:
    """Leave the suppressed customers out of ``ctx`` (every table, in place); return how many were found.

    Their order lines, orders, per-customer row and the rows of every optional table go; a ``referred_by``
    naming one of them is blanked. One data-quality note counts them (``erased_customers``), without ids.

    Raises
    ------
    DataError
        When no customer is left.
    """
    if not suppression.entries:
        return 0
    hit = suppression.matches(ctx.customer_summary["customer_id"])
    lines_hit = suppression.matches(ctx.order_lines["customer_id"])
    found = int(hit.sum())
    rows = int(lines_hit.sum())
    if found == 0 and rows == 0:
        return 0
    if bool(hit.all()):
        raise DataError("Every customer in the data is on the suppression list (erased on request with "
                        "python -m crmlib forget); there is nothing left to analyse.")
    ctx.order_lines = ctx.order_lines.loc[~lines_hit].reset_index(drop=True)
    ctx.orders = ctx.orders.loc[~suppression.matches(ctx.orders["customer_id"])].reset_index(drop=True)
    ctx.customer_summary = ctx.customer_summary.loc[~hit].reset_index(drop=True)
    for name, frame in ctx.tables.items():
        if frame is None or "customer_id" not in frame.columns:
            continue
        frame = frame.loc[~suppression.matches(frame["customer_id"])].reset_index(drop=True)
        if "referred_by" in frame.columns:
            frame = frame.assign(referred_by=frame["referred_by"].where(
                ~suppression.matches(frame["referred_by"]), None))
        ctx.tables[name] = frame
    ctx.quality.append({"table": "orders", "column": "customer_id", "kind": "erased_customers", "count": found,
                        "values": {"lines": rows},
                        "message": f"{found} customers erased on request were left out ({rows} order lines)"})
    return found
