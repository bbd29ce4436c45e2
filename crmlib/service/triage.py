"""Which complaints and calls come first: stale tickets apart, valuable customers flagged, weekly call
lists sized to the team.

Pure functions on the frames of :mod:`crmlib.service.complaints`; the defaults are
``crmlib.service.params.DEFAULTS``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from crmlib.data.frames import require_columns
from crmlib.service.params import DEFAULTS


def split_stale(open_tickets: pd.DataFrame, *,
                stale_days: float = DEFAULTS["stale_open_days"]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split open complaints into the ones to work on and the stale records (open ``stale_days`` or more).

    A complaint "open" for years is almost always a ticket nobody closed in the system: listing it with this
    week's complaints buries the real ones (and makes the oldest open complaint 1,000 days old). Stale
    tickets get their own list: check them and close or reopen them.

    Required columns: ``age_days`` (from :func:`crmlib.service.complaints.open_complaints`).
    """
    require_columns(open_tickets, ("age_days",), "open complaints")
    stale = open_tickets["age_days"] >= float(stale_days)
    return open_tickets.loc[~stale].reset_index(drop=True), open_tickets.loc[stale].reset_index(drop=True)


def flag_priority(open_tickets: pd.DataFrame, segments: pd.DataFrame | None, *,
                  priority_segments: Sequence[str] = DEFAULTS["priority_segments"]) -> pd.DataFrame:
    """Open complaints with ``segment`` (the customer's segment code) and ``priority`` (the customer is in
    one of ``priority_segments``, "can't lose them" by default), priority customers first, then oldest.

    Required columns: ``customer_id`` (``open_tickets``); ``customer_id``, ``rfm_segment`` (``segments``,
    the per-customer segment table; without it nobody is flagged and ``segment`` is missing).
    """
    require_columns(open_tickets, ("customer_id",), "open complaints")
    out = open_tickets.copy()
    if segments is None or "rfm_segment" not in segments.columns:
        out["segment"] = pd.NA
        out["priority"] = False
        return out
    seg = segments.assign(customer_id=segments["customer_id"].astype(str)).drop_duplicates("customer_id")
    out["segment"] = out["customer_id"].astype(str).map(seg.set_index("customer_id")["rfm_segment"])
    out["priority"] = out["segment"].isin(list(priority_segments))
    keys = ["priority"] + (["age_days"] if "age_days" in out.columns else [])
    return out.sort_values(keys, ascending=[False] * len(keys), kind="mergesort", ignore_index=True)


def weekly_calls(calls: pd.DataFrame, contacts: pd.DataFrame | None, *, as_of: Any, capacity: int | None,
                 min_days_between: float = DEFAULTS["min_days_between_calls"],
                 value: str | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """A follow-up list the team can work: customers reached within ``min_days_between`` days left out
    (the per-customer contact-frequency cap), then the first ``capacity`` rows by ``value`` (largest first;
    the list's own order without it). ``capacity=None`` keeps every row.

    Returns
    -------
    (calls, counts)
        ``counts``: ``deferred_recent_contact`` and ``cut_by_capacity`` (rows held back by each rule).
    """
    require_columns(calls, ("customer_id",), "call list")
    out = calls
    deferred = 0
    if contacts is not None and min_days_between and {"customer_id", "date"} <= set(contacts.columns):
        as_of = pd.Timestamp(as_of).normalize()
        when = pd.to_datetime(contacts["date"]).dt.normalize()
        recent = (when <= as_of) & (when > as_of - pd.Timedelta(days=float(min_days_between)))
        reached = set(contacts.loc[recent, "customer_id"].astype(str))
        held = out["customer_id"].astype(str).isin(reached)
        deferred = int(held.sum())
        out = out.loc[~held]
    if value is not None and value in out.columns:
        out = out.sort_values(value, ascending=False, kind="mergesort")
    cut = 0
    if capacity is not None and len(out) > int(capacity):
        cut = len(out) - int(capacity)
        out = out.head(int(capacity))
    return out.reset_index(drop=True), {"deferred_recent_contact": deferred, "cut_by_capacity": cut}


__all__ = ["flag_priority", "split_stale", "weekly_calls"]
