"""Customer service: complaint handling metrics, recurring problems and this week's follow-up lists.

The complaint functions read the ``tickets`` table (contract columns: customer_id, ticket_id, opened_at,
acknowledged_at, resolved_at, category, product_id); the smart follow-ups read the canonical ``orders`` and
``customer_summary`` frames.

"This week" is the 7 days STARTING at as_of (as_of .. as_of + 6): the lists are what the team has to do in
the coming week, so a review request falls in this week's list when order date + ``review_request_days``
lies in that window. Day counts are calendar days added with ``pd.Timedelta`` (31 January + 30 days =
1 March in a leap year, 2 March otherwise; 22 February 2024 + 7 days = 29 February 2024).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from crmlib.data.frames import require_columns
from crmlib.errors import ParamsError
from crmlib.service.params import DEFAULTS

logger = logging.getLogger(__name__)

_TICKET_COLUMNS = ("customer_id", "opened_at")


def _known_at(values: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """Event timestamps as known at the end of ``as_of``: later ones are blanked (still pending then)."""
    end = as_of + pd.Timedelta(days=1)
    return values.where(values < end)


def _ticket_ids(tickets: pd.DataFrame) -> pd.Series:
    if "ticket_id" in tickets.columns:
        return tickets["ticket_id"].astype("str")
    return pd.Series([f"#{i + 1}" for i in range(len(tickets))], index=tickets.index, dtype="str")


def service_metrics(tickets: pd.DataFrame, *, as_of: pd.Timestamp) -> dict[str, float]:
    """Headline complaint-handling figures as of ``as_of``.

    - ``same_day_ack_rate``: tickets acknowledged on the calendar day they were opened / tickets that could
      have been (opened before as_of, or opened on as_of and already acknowledged); NaN without
      ``acknowledged_at``.
    - ``median_resolution_days``, ``p90_resolution_days``: (resolved_at - opened_at) in days over tickets
      resolved by as_of (the median and 90th percentile, SERVQUAL-style responsiveness measures,
      Parasuraman, Zeithaml & Berry 1988); NaN without ``resolved_at``.
    - ``tickets``, ``open``, ``resolved``.

    Required columns: ``customer_id``, ``opened_at``; ``acknowledged_at``, ``resolved_at`` optional.
    """
    require_columns(tickets, _TICKET_COLUMNS, "tickets")
    as_of = pd.Timestamp(as_of).normalize()
    t = tickets[tickets["opened_at"] < as_of + pd.Timedelta(days=1)]
    out: dict[str, float] = {"tickets": float(len(t))}
    if "acknowledged_at" in t.columns:
        ack = _known_at(t["acknowledged_at"], as_of)
        same_day = ack.notna() & (ack.dt.normalize() == t["opened_at"].dt.normalize())
        eligible = (t["opened_at"] < as_of) | ack.notna()
        out["same_day_ack_rate"] = float(same_day[eligible].mean()) if eligible.any() else float("nan")
    else:
        out["same_day_ack_rate"] = float("nan")
    if "resolved_at" in t.columns:
        resolved = _known_at(t["resolved_at"], as_of)
        days = (resolved - t["opened_at"]).dt.total_seconds() / 86400.0
        days = days.dropna()
        out["resolved"] = float(len(days))
        out["open"] = float(len(t) - len(days))
        out["median_resolution_days"] = float(days.median()) if len(days) else float("nan")
        out["p90_resolution_days"] = float(days.quantile(0.9)) if len(days) else float("nan")
    else:
        out.update(resolved=float("nan"), open=float("nan"), median_resolution_days=float("nan"),
                   p90_resolution_days=float("nan"))
    return out


def service_by_month(tickets: pd.DataFrame, *, as_of: pd.Timestamp, months: int = 12) -> pd.DataFrame:
    """Monthly tickets opened, same-day acknowledgement rate and median days to resolve (by opening month).

    Required columns: ``customer_id``, ``opened_at``; ``acknowledged_at``, ``resolved_at`` optional.
    Empty months give 0 tickets and NaN rates; the table starts at the month of the first ticket when the
    tickets begin later.
    """
    require_columns(tickets, _TICKET_COLUMNS, "tickets")
    as_of = pd.Timestamp(as_of).normalize()
    periods = pd.period_range(end=as_of.to_period("M"), periods=months, freq="M")
    month = tickets["opened_at"].dt.to_period("M")
    if month.notna().any():  # months before the first ticket are outside the data, not months without tickets
        periods = periods[periods >= min(month.min(), periods[-1])]
    rows = []
    for p in periods:
        m = service_metrics(tickets[month == p], as_of=as_of)
        rows.append({"month": p.to_timestamp(), "tickets": int(m["tickets"]),
                     "same_day_ack_rate": m["same_day_ack_rate"], "median_resolution_days": m["median_resolution_days"]})
    return pd.DataFrame(rows)


def open_complaints(
    tickets: pd.DataFrame, *, as_of: pd.Timestamp, bands: list[int] = DEFAULTS["open_age_bands_days"]
) -> pd.DataFrame:
    """Complaints still open at ``as_of`` with their age (whole days since opened) and age band.

    Open = no ``resolved_at`` by the end of as_of. Band labels are ``"0-7"``, ``"8-30"``, ``"31-90"``,
    ``">90"`` for the default bounds.

    Required columns: ``customer_id``, ``opened_at``, ``resolved_at``.

    Returns
    -------
    DataFrame
        ``ticket_id``, ``customer_id``, ``opened_at``, ``age_days``, ``age_band`` (ordered categorical),
        ``category`` and ``product_id`` when present; oldest first.
    """
    require_columns(tickets, (*_TICKET_COLUMNS, "resolved_at"), "tickets")
    if not bands or any(b <= a for a, b in zip(bands[:-1], bands[1:], strict=True)) or bands[0] < 0:
        raise ParamsError(f"service.open_age_bands_days must be increasing non-negative days, got {bands}.")
    as_of = pd.Timestamp(as_of).normalize()
    t = tickets[tickets["opened_at"] < as_of + pd.Timedelta(days=1)]
    t = t[_known_at(t["resolved_at"], as_of).isna()]
    labels = age_band_labels(bands)
    age = (as_of - t["opened_at"].dt.normalize()).dt.days.astype(int)
    band = pd.cut(age, [-1, *bands, np.inf], labels=labels, right=True)
    out = pd.DataFrame({"ticket_id": _ticket_ids(t), "customer_id": t["customer_id"], "opened_at": t["opened_at"],
                        "age_days": age, "age_band": band})
    for col in ("category", "product_id"):
        if col in t.columns:
            out[col] = t[col]
    return out.sort_values(["age_days", "ticket_id"], ascending=[False, True], ignore_index=True)


def age_band_labels(bands: list[int]) -> list[str]:
    """``[7, 30, 90]`` → ``["0-7", "8-30", "31-90", ">90"]``."""
    lows = [0, *[b + 1 for b in bands]]
    return [f"{lo}-{hi}" for lo, hi in zip(lows[:-1], bands, strict=True)] + [f">{bands[-1]}"]


def open_by_age(open_tickets: pd.DataFrame) -> pd.DataFrame:
    """Count of open complaints per age band (every band listed). Requires ``age_band`` (categorical)."""
    require_columns(open_tickets, ("age_band",), "open complaints")
    counts = open_tickets["age_band"].value_counts(sort=False)
    return counts.rename("open").rename_axis("age_band").reset_index()


def recurring_categories(
    tickets: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    lookback_days: int = DEFAULTS["recurring_lookback_days"],
    min_complaints: int = DEFAULTS["recurring_min_complaints"],
) -> pd.DataFrame:
    """Complaint categories in the last ``lookback_days`` against the period before, flagged when recurring.

    Required columns: ``customer_id``, ``opened_at``, ``category``.

    Returns
    -------
    DataFrame
        ``category``, ``complaints`` (lookback), ``previous`` (the lookback before), ``customers`` (distinct),
        ``is_recurring`` (complaints >= min_complaints); most complaints first.
    """
    require_columns(tickets, (*_TICKET_COLUMNS, "category"), "tickets")
    as_of = pd.Timestamp(as_of).normalize()
    age = (as_of - tickets["opened_at"].dt.normalize()).dt.days
    now = tickets[(age >= 0) & (age < lookback_days)]
    before = tickets[(age >= lookback_days) & (age < 2 * lookback_days)]
    out = now.groupby("category").agg(complaints=("customer_id", "size"), customers=("customer_id", "nunique"))
    out["previous"] = before.groupby("category").size().reindex(out.index, fill_value=0)
    out["is_recurring"] = out["complaints"] >= min_complaints
    out = out.rename_axis("category").reset_index()[["category", "complaints", "previous", "customers", "is_recurring"]]
    return out.sort_values(["complaints", "category"], ascending=[False, True], ignore_index=True)


def recurring_products(
    tickets: pd.DataFrame,
    order_lines: pd.DataFrame | None = None,
    *,
    as_of: pd.Timestamp,
    lookback_days: int = DEFAULTS["recurring_lookback_days"],
    min_complaints: int = DEFAULTS["recurring_min_complaints"],
    min_rate: float = DEFAULTS["recurring_min_rate"],
    product_orders: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Products with repeated complaints in the last ``lookback_days`` (a product or supplier problem).

    Complaint rate = complaints / orders containing the product in the same window (orders rather than
    units: units differ between products, a box is not a kilo). A product is flagged when it has at least
    ``min_complaints`` complaints AND (its rate is at least ``min_rate`` or it had no sales to compare).
    Without ``order_lines`` (or its ``product_id``) the rate is NaN and the count alone decides. Instead of
    the lines, ``product_orders`` (the ``product_orders`` view with ``lookback_days``: product_id, orders).

    Required columns: ``tickets``: ``customer_id``, ``opened_at``, ``product_id``; ``order_lines``:
    ``order_id``, ``order_date``, ``product_id``.

    Returns
    -------
    DataFrame
        ``product_id``, ``complaints``, ``customers``, ``orders``, ``complaint_rate``, ``is_recurring``;
        flagged first, then most complaints.
    """
    require_columns(tickets, (*_TICKET_COLUMNS, "product_id"), "tickets")
    as_of = pd.Timestamp(as_of).normalize()
    start = as_of - pd.Timedelta(days=lookback_days - 1)
    t = tickets[(tickets["opened_at"].dt.normalize() >= start) & (tickets["opened_at"] < as_of + pd.Timedelta(days=1))]
    t = t[t["product_id"].notna()]
    out = t.groupby("product_id").agg(complaints=("customer_id", "size"), customers=("customer_id", "nunique"))
    have_lines = order_lines is not None and {"product_id", "order_id", "order_date"} <= set(order_lines.columns)
    if product_orders is not None or have_lines:
        if product_orders is not None:
            orders = product_orders.set_index("product_id")["orders"]
        else:
            lines = order_lines[(order_lines["order_date"] >= start) & (order_lines["order_date"] <= as_of)]
            orders = lines.groupby("product_id")["order_id"].nunique()
        out["orders"] = orders.reindex(out.index).fillna(0).astype(int)
        rate = out["complaints"] / out["orders"].where(out["orders"] > 0)
        out["complaint_rate"] = rate
        out["is_recurring"] = (out["complaints"] >= min_complaints) & (rate.isna() | (rate >= min_rate))
    else:
        out["orders"] = np.nan
        out["complaint_rate"] = np.nan
        out["is_recurring"] = out["complaints"] >= min_complaints
    out = out.rename_axis("product_id").reset_index()
    return out.sort_values(["is_recurring", "complaints", "product_id"], ascending=[False, False, True],
                           ignore_index=True)


def this_week(as_of: pd.Timestamp, *, days: int = DEFAULTS["week_days"]) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of "this week": as_of .. as_of + days - 1 (both inclusive)."""
    if days < 1:
        raise ParamsError(f"service.week_days must be at least 1, got {days}.")
    start = pd.Timestamp(as_of).normalize()
    return start, start + pd.Timedelta(days=days - 1)


def _due_this_week(dates: pd.Series, offset_days: int, as_of: pd.Timestamp, week_days: int) -> tuple[pd.Series, pd.Series]:
    start, end = this_week(as_of, days=week_days)
    due = dates.dt.normalize() + pd.Timedelta(days=offset_days)
    return due, (due >= start) & (due <= end)


def resolution_followups(
    tickets: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    after_days: int = DEFAULTS["followup_after_resolution_days"],
    week_days: int = DEFAULTS["week_days"],
) -> pd.DataFrame:
    """This week's "is everything all right?" calls: resolved date + ``after_days`` falls in this week.

    Required columns: ``customer_id``, ``opened_at``, ``resolved_at``.

    Returns
    -------
    DataFrame
        ``customer_id``, ``ticket_id``, ``resolved_at``, ``due_date``, ``category`` when present; by due date.
    """
    require_columns(tickets, (*_TICKET_COLUMNS, "resolved_at"), "tickets")
    as_of = pd.Timestamp(as_of).normalize()
    resolved = _known_at(tickets["resolved_at"], as_of)
    due, mask = _due_this_week(resolved, after_days, as_of, week_days)
    out = pd.DataFrame({"customer_id": tickets["customer_id"], "ticket_id": _ticket_ids(tickets),
                        "resolved_at": resolved.dt.normalize(), "due_date": due})
    if "category" in tickets.columns:
        out["category"] = tickets["category"]
    return out[mask.fillna(False)].sort_values(["due_date", "customer_id"], ignore_index=True)


def review_requests(
    orders: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    after_days: int = DEFAULTS["review_request_days"],
    week_days: int = DEFAULTS["week_days"],
) -> pd.DataFrame:
    """This week's review requests: purchase orders whose date + ``after_days`` falls in this week.

    One row per customer (their latest such order). Required columns: ``customer_id``, ``order_id``,
    ``order_date``, ``amount`` (``is_purchase`` optional).

    Returns
    -------
    DataFrame
        ``customer_id``, ``order_id``, ``order_date``, ``amount``, ``due_date``; by due date.
    """
    require_columns(orders, ("customer_id", "order_id", "order_date", "amount"), "orders")
    as_of = pd.Timestamp(as_of).normalize()
    buys = orders[orders["is_purchase"].astype(bool)] if "is_purchase" in orders.columns else orders[orders["amount"] > 0]
    due, mask = _due_this_week(buys["order_date"], after_days, as_of, week_days)
    out = buys.loc[mask, ["customer_id", "order_id", "order_date", "amount"]].assign(due_date=due[mask])
    out = out.sort_values(["customer_id", "order_date"]).drop_duplicates("customer_id", keep="last")
    return out.sort_values(["due_date", "customer_id"], ignore_index=True)


def checkins(
    customer_summary: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    after_days: list[int] = DEFAULTS["checkin_days"],
    week_days: int = DEFAULTS["week_days"],
) -> pd.DataFrame:
    """This week's onboarding check-ins: first order date + each of ``after_days`` falls in this week.

    Required columns: ``customer_id``, ``first_order_date``; ``n_orders`` is carried when present (has the
    new customer ordered again?).

    Returns
    -------
    DataFrame
        ``customer_id``, ``first_order_date``, ``checkin_day`` (15, 30...), ``due_date``, ``n_orders``; by due
        date.
    """
    require_columns(customer_summary, ("customer_id", "first_order_date"), "customer_summary")
    as_of = pd.Timestamp(as_of).normalize()
    parts = []
    for day in after_days:
        due, mask = _due_this_week(customer_summary["first_order_date"], int(day), as_of, week_days)
        part = customer_summary.loc[mask, ["customer_id", "first_order_date"]].assign(checkin_day=int(day),
                                                                                      due_date=due[mask])
        if "n_orders" in customer_summary.columns:
            part["n_orders"] = customer_summary.loc[mask, "n_orders"]
        parts.append(part)
    columns = ["customer_id", "first_order_date", "checkin_day", "due_date", "n_orders"]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    return out.sort_values(["due_date", "customer_id"], ignore_index=True)
