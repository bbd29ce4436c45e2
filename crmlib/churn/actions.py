"""What the sales team does with the churn scores: next expected order, the weekly list, win-back counts.

Pure functions on frames with the complete churn params; :mod:`crmlib.churn.scoring` is the public interface.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlib.churn.signals import purchases, require_columns

log = logging.getLogger(__name__)

#: days at which BG/NBD expected orders are evaluated to find when one order is expected
_GRID_DAYS = np.array([1, 2, 3, 5, 7, 10, 14, 21, 30, 45, 60, 75, 90, 120, 150, 180, 240, 300, 365, 450,
                       540, 630, 730], dtype=float)

#: (action, message) per situation, first match wins (see :func:`suggest`)
ACTIONS: dict[str, tuple[str, str]] = {
    "complaint": ("resolve_complaint", "complaint_followup"),
    "complaint_closed": ("complaint_checkin", "complaint_closed_followup"),
    "high_value": ("call", "personal_call"),
    "late_payments": ("finance_call", "payment_terms"),
    "once_regular": ("email", "we_miss_you"),
    "unanswered": ("change_channel", "short_checkin"),
    "one_time": ("email", "second_order_offer"),
    "other": ("email", "we_miss_you"),
}

LIST_COLUMNS: tuple[str, ...] = (
    "rank", "customer_id", "name", "phone", "email", "city", "risk_score", "risk_level", "risk_text",
    "value_at_stake",
    "reasons", "reasons_text", "last_order_date", "days_since_last_order", "usual_gap_days",
    "expected_next_order_date", "action_code", "message_code", "action_text", "message_text")


def next_order(customer_summary: pd.DataFrame, *, as_of: pd.Timestamp, model: Any, min_gaps: int) -> pd.DataFrame:
    """Expected next order date: last order + median gap with ``min_gaps`` gaps or more ("rhythm"), else
    the day the model's expected orders reach one ("model"; ``model.expected_orders(summary, horizon_days=t)``
    on a grid of days, interpolated linearly), else NaT ("none")."""
    require_columns(customer_summary, ("customer_id", "last_order_date", "n_order_days", "median_gap_days"),
                    "customer_summary")
    s = customer_summary.reset_index(drop=True)
    own = (s["n_order_days"] - 1) >= min_gaps
    out = pd.DataFrame({"customer_id": s["customer_id"].astype(str), "usual_gap_days": s["median_gap_days"],
                        "last_order_date": s["last_order_date"]})
    date = s["last_order_date"] + pd.to_timedelta(s["median_gap_days"].where(own).round(), unit="D")
    basis = np.where(own, "rhythm", "none")
    if model is not None and (~own).any():
        short = s.loc[~own]
        grid = model.expected_orders_at(short, [float(t) for t in _GRID_DAYS])  # one column per grid day
        reach = grid >= 1.0
        found = reach.any(axis=1)
        idx = np.where(found, reach.argmax(axis=1), 0)
        lo_t = np.where(idx > 0, _GRID_DAYS[np.maximum(idx - 1, 0)], 0.0)
        lo_e = np.where(idx > 0, grid[np.arange(len(short)), np.maximum(idx - 1, 0)], 0.0)
        hi_t, hi_e = _GRID_DAYS[idx], grid[np.arange(len(short)), idx]
        days = lo_t + (1.0 - lo_e) * (hi_t - lo_t) / np.where(hi_e > lo_e, hi_e - lo_e, 1.0)
        model_date = pd.Series(as_of + pd.to_timedelta(np.round(days), unit="D"), index=short.index)
        date[~own] = model_date.where(found)
        basis = np.where(own, "rhythm", np.where(np.isin(np.arange(len(s)), short.index[found]), "model", "none"))
    out["expected_next_order_date"] = pd.to_datetime(date)
    out["days_to_next_order"] = (out["expected_next_order_date"] - as_of).dt.days
    out["basis"] = basis
    return out


def suggest(row: Mapping[str, Any], *, high_value: float, regular_min_orders: int) -> tuple[str, str]:
    """(action, message) codes for one customer; first match wins:

    an open complaint → resolve it; a recent complaint, all closed → check the fix worked; high value (``horizon_value`` ≥ ``high_value``) → a personal
    call; late payments → a finance call about terms; once regular (``regular_min_orders`` purchase days)
    and overdue or slowing → "we miss you"; unanswered outreach → another channel; one-time buyer → a
    second-order offer; otherwise "we miss you".
    """
    if row["complaints_fires"]:
        return ACTIONS["complaint"] if row.get("tickets_open", 0) > 0 else ACTIONS["complaint_closed"]
    if row["horizon_value"] > 0 and row["horizon_value"] >= high_value:
        return ACTIONS["high_value"]
    if row["late_payments_fires"]:
        return ACTIONS["late_payments"]
    if row["n_gaps"] + 1 >= regular_min_orders and (row["overdue_fires"] or row["frequency_drop_fires"]):
        return ACTIONS["once_regular"]
    if row["unanswered_outreach_fires"]:
        return ACTIONS["unanswered"]
    if row["n_gaps"] == 0:
        return ACTIONS["one_time"]
    return ACTIONS["other"]


def recently_contacted(contacts: pd.DataFrame | None, *, as_of: Any, days: float) -> set[str]:
    """Customers reached (any channel, answered or not) within ``days`` before ``as_of``, inclusive: the
    per-customer contact-frequency cap. Required columns of ``contacts``: ``customer_id``, ``date``."""
    if contacts is None or as_of is None or not days or not {"customer_id", "date"} <= set(contacts.columns):
        return set()
    as_of = pd.Timestamp(as_of).normalize()
    when = pd.to_datetime(contacts["date"]).dt.normalize()
    recent = (when <= as_of) & (when > as_of - pd.Timedelta(days=float(days)))
    return set(contacts.loc[recent, "customer_id"].astype(str))


def open_complaints(tickets: pd.DataFrame | None, *, as_of: Any, max_age_days: float) -> pd.DataFrame:
    """Each customer's oldest complaint still open at ``as_of`` and opened within ``max_age_days`` (older
    open tickets are stale records, the service page's own list): ``customer_id``, ``ticket_id``,
    ``category``, ``opened_at``, ``n_open``. Empty without ``resolved_at``."""
    cols = ["customer_id", "ticket_id", "category", "opened_at", "n_open"]
    if tickets is None or as_of is None or not {"customer_id", "opened_at", "resolved_at"} <= set(tickets.columns):
        return pd.DataFrame(columns=cols)
    as_of = pd.Timestamp(as_of)
    t = tickets.assign(customer_id=tickets["customer_id"].astype(str), opened_at=pd.to_datetime(tickets["opened_at"]),
                       resolved_at=pd.to_datetime(tickets["resolved_at"]))
    age = (as_of - t["opened_at"]).dt.total_seconds() / 86400
    t = t.loc[(t["opened_at"] <= as_of) & (t["resolved_at"].isna() | (t["resolved_at"] > as_of))
              & (age < float(max_age_days))]
    if t.empty:
        return pd.DataFrame(columns=cols)
    t = t.assign(ticket_id=t["ticket_id"] if "ticket_id" in t else np.nan,
                 category=t["category"] if "category" in t else np.nan)
    t = t.sort_values(["customer_id", "opened_at"], kind="mergesort")
    first = t.drop_duplicates("customer_id").assign(n_open=t.groupby("customer_id").size().reindex(
        t.drop_duplicates("customer_id")["customer_id"]).to_numpy())
    return first[cols].reset_index(drop=True)


def build_list(risk: pd.DataFrame, signals: pd.DataFrame, *, params: Mapping[str, Any],
               customers: pd.DataFrame | None, next_orders: pd.DataFrame | None,
               contacts: pd.DataFrame | None = None, as_of: Any = None) -> pd.DataFrame:
    """The weekly at-risk list (see :func:`crmlib.churn.scoring.at_risk_list`), in codes: the sentences
    (``risk_text``, ``reasons_text``, ``action_text``, ``message_text``) and the masking of contacts are
    added by :func:`crmlib.churn.report.worded_list`.

    The list takes at most ``calls_per_week`` customers (the team's capacity; ``list_size`` when null) and
    skips customers reached within ``min_days_between_calls`` (:func:`recently_contacted`); ``attrs``
    records ``deferred_recent_contact`` and ``cut_by_capacity`` (how many eligible customers each rule held
    back this week).
    """
    listed = risk.loc[risk["risk_level"].isin(list(params["list_levels"])) & (risk["value_at_stake"] > 0)
                      & (risk["days_since_last_order"] < float(params["lapsed_days"]))]
    listed = listed.sort_values(["value_at_stake", "risk_score", "customer_id"], ascending=[False, False, True],
                                kind="mergesort")
    recent = recently_contacted(contacts, as_of=as_of, days=params.get("min_days_between_calls") or 0)
    held = listed["customer_id"].astype(str).isin(recent)
    eligible = listed.loc[~held]
    size = int(params["list_size"])
    if params.get("calls_per_week") is not None:
        size = min(size, int(params["calls_per_week"]))
    cut = max(len(eligible) - size, 0)
    listed = eligible.head(size).reset_index(drop=True)
    sig = signals.set_index("customer_id")
    buying = sig["horizon_value"].loc[sig["horizon_value"] > 0]
    high_value = float(buying.quantile(float(params["call_value_quantile"]))) if len(buying) else np.inf
    rows = sig.loc[listed["customer_id"]]
    out = listed[["customer_id", "risk_score", "risk_level", "value_at_stake", "reasons",
                  "days_since_last_order", "usual_gap_days"]].copy()
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out["last_order_date"] = rows["last_order_date"].to_numpy()
    pairs = [suggest(row, high_value=high_value, regular_min_orders=int(params["regular_min_orders"]))
             for _, row in rows.iterrows()]
    out["action_code"] = [a for a, _ in pairs]
    out["message_code"] = [m for _, m in pairs]
    if next_orders is not None:
        nxt = next_orders.set_index("customer_id")["expected_next_order_date"]
        out["expected_next_order_date"] = nxt.reindex(out["customer_id"]).to_numpy()
    else:
        out["expected_next_order_date"] = pd.NaT
    if customers is not None and "customer_id" in customers.columns:
        cols = [c for c in ("name", "phone", "email", "city") if c in customers.columns]
        info = customers.assign(customer_id=customers["customer_id"].astype(str)).drop_duplicates("customer_id")
        info = info.set_index("customer_id")[cols]
        for col in cols:
            out[col] = info[col].reindex(out["customer_id"]).to_numpy()
    out = out[[c for c in LIST_COLUMNS if c in out.columns]]
    out.attrs.update(deferred_recent_contact=int(held.sum()), cut_by_capacity=int(cut))
    return out


def count_winback(flags: pd.DataFrame | None, orders: pd.DataFrame, *, as_of: pd.Timestamp, by: str) -> pd.DataFrame:
    """Flags of earlier runs that ordered again after the run's as_of (see :func:`crmlib.churn.scoring.winback`)."""
    keys = {"week": ["week"], "reason": ["reason"], "run": ["run_id", "run_as_of"], "level": ["risk_level"]}
    if by not in keys:
        raise ValueError(f"winback by={by!r} is not one of {', '.join(keys)}")
    columns = keys[by] + ["n_flagged", "n_won_back", "winback_rate"]
    if flags is None or flags.empty:
        return pd.DataFrame(columns=columns)
    require_columns(flags, ("run_id", "as_of", "customer_id"), "churn_flags history")
    f = flags.assign(customer_id=flags["customer_id"].astype(str), run_as_of=pd.to_datetime(flags["as_of"]))
    f = f.loc[f["run_as_of"] < as_of]
    if f.empty:
        return pd.DataFrame(columns=columns)
    buys = purchases(orders.assign(customer_id=orders["customer_id"].astype(str)), as_of)
    last_buy = buys.groupby("customer_id")["order_date"].max()
    f["week"] = (f["run_as_of"] - pd.to_timedelta(f["run_as_of"].dt.day_of_week, unit="D")).dt.normalize()
    if by == "week":  # a customer flagged by several runs of one week counts once, from the first run
        f = f.sort_values(["week", "customer_id", "run_as_of"]).drop_duplicates(["week", "customer_id"])
    if by == "reason":
        reasons = f.get("reasons", pd.Series("", index=f.index)).fillna("").astype(str)
        f = f.assign(reason=reasons.str.split(";")).explode("reason")
        f["reason"] = f["reason"].replace("", "none")
    f["won_back"] = last_buy.reindex(f["customer_id"]).to_numpy() > f["run_as_of"].to_numpy()
    out = f.groupby(keys[by], sort=True).agg(n_flagged=("customer_id", "size"), n_won_back=("won_back", "sum"))
    out["winback_rate"] = out["n_won_back"] / out["n_flagged"]
    out = out.reset_index()
    out["n_won_back"] = out["n_won_back"].astype("int64")
    return out[columns]
