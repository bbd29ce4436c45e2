"""Churn early-warning signals: per customer, each signal's value and whether it fires.

Every signal is computed from data dated on or before ``as_of`` only, so the same code builds the features
of an earlier snapshot (out-of-time training and backtests). A signal whose optional table (or column) is
missing is *unavailable*: its values are NaN, it never fires, and it is listed in
``signals.attrs["unavailable"]``. :func:`crmlib.churn.scoring.compute_signals` is the public entry point.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.stats import norm

from crmlib.data.frames import require_columns

log = logging.getLogger(__name__)

#: the signal catalogue, in display order; each code has a ``<code>_fires`` column and a reason text
SIGNALS: tuple[str, ...] = ("overdue", "frequency_drop", "aov_drop", "late_payments", "unanswered_outreach",
                            "complaints", "no_order", "low_expected_orders")

#: table (and columns) each optional signal needs
NEEDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "late_payments": ("payments", ("customer_id", "due_date", "paid_date")),
    "unanswered_outreach": ("contacts", ("customer_id", "date", "responded")),
    "complaints": ("tickets", ("customer_id", "opened_at")),
}


def purchase_rows(orders: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The rows of :func:`purchases`, in the orders' order (unsorted)."""
    require_columns(orders, ("customer_id", "order_date", "amount"), "orders")
    keep = orders["order_date"] <= as_of
    keep &= orders["is_purchase"].astype(bool) if "is_purchase" in orders.columns else orders["amount"] > 0
    cols = ["customer_id", "order_date", "amount"] + (["order_id"] if "order_id" in orders.columns else [])
    out = orders.loc[keep, cols].copy()
    out["order_date"] = pd.to_datetime(out["order_date"]).dt.normalize()
    return out


def purchases(orders: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Purchase orders (net amount > 0) dated on or before ``as_of``, sorted by customer, day and order.

    Required columns: ``customer_id``, ``order_date``, ``amount``; ``is_purchase`` is used when present.
    """
    out = purchase_rows(orders, as_of)
    return sorted_rows(out, ["customer_id", "order_date"] + (["order_id"] if "order_id" in out.columns else []))


def sorted_rows(frame: pd.DataFrame, keys: list[str], ascending: list[bool] | None = None) -> pd.DataFrame:
    """``frame.sort_values(keys, ascending=ascending, kind="mergesort").reset_index(drop=True)`` by Arrow's
    stable sort: the same order (text by code point, missing values last in every key) without pandas
    factorizing each text column first."""
    ascending = [True] * len(keys) if ascending is None else ascending
    table = pa.table({k: pa.array(frame[k], from_pandas=True) for k in keys})  # NaN/NaT as missing: last
    order = pc.sort_indices(table, sort_keys=[(k, "ascending" if up else "descending")
                                              for k, up in zip(keys, ascending, strict=True)]).to_numpy()
    return frame.iloc[order].reset_index(drop=True)


def _days(delta: pd.Series) -> pd.Series:
    return delta.dt.total_seconds() / 86400.0


def rhythm(buys: pd.DataFrame, customers: pd.Index, *, as_of: pd.Timestamp, params: Mapping[str, Any]
           ) -> pd.DataFrame:
    """Days since the last order against the customer's own gaps between purchase days.

    The gaps (days between distinct purchase days) are modelled as log-normal, as inter-purchase times
    commonly are (Allenby, Leone & Jen 1999, JASA 94:365-374). With at least ``min_gaps`` gaps the customer's
    own mean of log gaps is used, its variance shrunk towards the pooled within-customer variance with
    ``gap_prior_weight`` pseudo-gaps (conjugate normal prior, Gelman et al., *Bayesian Data Analysis*, 3rd ed.,
    sec. 3.3); with fewer gaps it falls back to the pooled variance (one gap) or the population's typical
    gap (one-time buyers). ``overdue_prob`` = P(a usual gap is shorter than the current wait) = Phi(z).
    """
    days = buys[["customer_id", "order_date"]].drop_duplicates()
    gaps = _days(days.groupby("customer_id")["order_date"].diff()).dropna()
    log_gaps = np.log(gaps.clip(lower=1.0))
    g = pd.DataFrame({"customer_id": days.loc[gaps.index, "customer_id"], "log_gap": log_gaps, "gap": gaps})
    per = g.groupby("customer_id").agg(n_gaps=("gap", "size"), usual_gap_days=("gap", "median"),
                                       mu=("log_gap", "mean"), var=("log_gap", "var"))
    last = days.groupby("customer_id")["order_date"].max()
    out = pd.DataFrame(index=customers)
    out["last_order_date"] = last.reindex(customers)
    out["days_since_last_order"] = _days(as_of - out["last_order_date"])
    out = out.join(per)
    out["n_gaps"] = out["n_gaps"].fillna(0).astype("int64")
    own = out["n_gaps"] >= int(params["min_gaps"])
    if own.any():
        dof = out.loc[own, "n_gaps"] - 1
        pooled_var = float((dof * out.loc[own, "var"]).sum() / max(int(dof.sum()), 1))
        pooled_var = pooled_var if pooled_var > 0 else 1.0
        mu_pop = float(out.loc[own, "mu"].median())
        between = float(out.loc[own, "mu"].var()) if own.sum() > 1 else 0.0
    else:  # nobody has a rhythm yet: a documented default gap, log-sd 1
        pooled_var, mu_pop, between = 1.0, math.log(float(params["default_gap_days"])), 0.0
    nu = float(params["gap_prior_weight"])
    sigma2 = pd.Series(pooled_var, index=out.index)
    sigma2[own] = ((out.loc[own, "n_gaps"] - 1) * out.loc[own, "var"] + nu * pooled_var) / (
        out.loc[own, "n_gaps"] - 1 + nu)
    none = out["n_gaps"] == 0
    sigma2[none] = pooled_var + between
    mu = out["mu"].where(~none, mu_pop)
    wait = np.log(out["days_since_last_order"].clip(lower=1.0))
    z = ((wait - mu) / np.sqrt(sigma2)).clip(-6, 6)
    out["gap_source"] = np.where(own, "own", np.where(none, "population", "one_gap"))
    out["overdue_ratio"] = out["days_since_last_order"] / np.exp(mu)
    out["overdue_z"] = z
    out["overdue_prob"] = norm.cdf(z)
    out["overdue_fires"] = (own & (out["overdue_ratio"] >= float(params["overdue_ratio"]))
                            & (out["overdue_prob"] >= float(params["overdue_prob"])))
    out["no_order_fires"] = out["days_since_last_order"] >= float(params["no_order_days"])
    first = days.groupby("customer_id")["order_date"].min().reindex(customers)
    out["tenure_days"] = _days(as_of - first)
    return out.drop(columns=["mu", "var"])


def frequency_and_value(buys: pd.DataFrame, customers: pd.Index, *, as_of: pd.Timestamp,
                        params: Mapping[str, Any]) -> pd.DataFrame:
    """Falling order frequency, falling order value and the customer's value over the horizon.

    - frequency: purchase orders in the last ``frequency_window_days`` against the window before; defined
      only for customers whose first purchase precedes both windows (RFM-trend practice, e.g. Buckinx &
      Van den Poel 2005, EJOR 164:252-268, who use such recent-vs-earlier frequency ratios).
    - order value: median of the last ``aov_recent_orders`` purchase orders against the median of the
      earlier ones (medians, so that one huge order does not make every later order look like a drop).
    - ``horizon_value``: purchases in the last ``value_lookback_days``, scaled to ``horizon_days`` over
      ``max(min(lookback, tenure), horizon)`` days (no extrapolation of a single recent order).
    """
    w = pd.Timedelta(days=int(params["frequency_window_days"]))
    first = buys.groupby("customer_id")["order_date"].min().reindex(customers)
    recent = buys.loc[buys["order_date"] > as_of - w].groupby("customer_id").size().reindex(customers)
    prev = buys.loc[(buys["order_date"] > as_of - 2 * w) & (buys["order_date"] <= as_of - w)]
    prev = prev.groupby("customer_id").size().reindex(customers)
    eligible = first <= as_of - 2 * w
    out = pd.DataFrame(index=customers)
    out["orders_recent"] = recent.fillna(0).where(eligible)
    out["orders_previous"] = prev.fillna(0).where(eligible)
    out["frequency_change"] = (out["orders_recent"] / out["orders_previous"].replace(0, np.nan)) - 1
    out["frequency_drop_fires"] = (eligible & (out["orders_previous"] >= float(params["frequency_min_previous"]))
                                   & (out["frequency_change"] <= -float(params["frequency_drop"])))

    k = int(params["aov_recent_orders"])
    from_end = buys.groupby("customer_id").cumcount(ascending=False)
    is_recent = from_end < k
    n = buys.groupby("customer_id")["amount"].size().reindex(customers).fillna(0)
    aov_recent = buys.loc[is_recent].groupby("customer_id")["amount"].median().reindex(customers)
    aov_prev = buys.loc[~is_recent].groupby("customer_id")["amount"].median().reindex(customers)
    enough = n >= k + int(params["aov_min_previous_orders"])
    out["aov_recent"] = aov_recent.where(enough)
    out["aov_previous"] = aov_prev.where(enough)
    out["aov_change"] = out["aov_recent"] / out["aov_previous"] - 1
    out["aov_drop_fires"] = enough & (out["aov_change"] <= -float(params["aov_drop"]))

    lookback = float(params["value_lookback_days"])
    horizon = float(params["horizon_days"])
    spend = buys.loc[buys["order_date"] > as_of - pd.Timedelta(days=lookback)]
    spend = spend.groupby("customer_id")["amount"].sum().reindex(customers).fillna(0.0)
    tenure = _days(as_of - first).fillna(0.0) + 1.0
    out["horizon_value"] = spend * horizon / np.maximum(np.minimum(lookback, tenure), horizon)
    return out


def late_payments(payments: pd.DataFrame, customers: pd.Index, *, as_of: pd.Timestamp,
                  params: Mapping[str, Any]) -> pd.DataFrame:
    """Late payment on the last ``late_recent_invoices`` invoices due within ``payments_window_days``.

    An invoice is late when paid more than ``late_grace_days`` after its due date, or still unpaid at
    ``as_of`` that long after it (a payment dated after ``as_of`` counts as unpaid then).
    """
    p = payments.loc[:, ["customer_id", "due_date", "paid_date"]].copy()
    p["due_date"] = pd.to_datetime(p["due_date"])
    p["paid_date"] = pd.to_datetime(p["paid_date"])
    p = p.loc[(p["due_date"] <= as_of) & (p["due_date"] > as_of - pd.Timedelta(days=int(params["payments_window_days"])))]
    paid = p["paid_date"].where(p["paid_date"] <= as_of)
    p["days_late"] = _days(paid.fillna(as_of) - p["due_date"]).clip(lower=0)
    p["late"] = p["days_late"] > float(params["late_grace_days"])
    p["days_late_when_late"] = p["days_late"].where(p["late"])
    p = p.sort_values(["customer_id", "due_date"], kind="mergesort")
    p = p.loc[p.groupby("customer_id").cumcount(ascending=False) < int(params["late_recent_invoices"])]
    agg = p.groupby("customer_id").agg(invoices_recent=("late", "size"), invoices_late=("late", "sum"),
                                       days_late_mean=("days_late_when_late", "mean"))
    out = agg.reindex(customers)
    out[["invoices_recent", "invoices_late"]] = out[["invoices_recent", "invoices_late"]].fillna(0)
    out["late_share"] = out["invoices_late"] / out["invoices_recent"].replace(0, np.nan)
    out["late_payments_fires"] = ((out["invoices_late"] >= float(params["late_min_invoices"]))
                                  & (out["late_share"] >= float(params["late_share"])))
    return out


def unanswered_outreach(contacts: pd.DataFrame, customers: pd.Index, *, as_of: pd.Timestamp,
                        params: Mapping[str, Any]) -> pd.DataFrame:
    """Outreach in the last ``contacts_window_days`` with ``responded == 0``; fires on
    ``unanswered_min`` or more unanswered contacts and no answered one in the window."""
    c = contacts.loc[:, ["customer_id", "date", "responded"]].copy()
    c["date"] = pd.to_datetime(c["date"])
    c = c.loc[(c["date"] <= as_of) & (c["date"] > as_of - pd.Timedelta(days=int(params["contacts_window_days"])))]
    responded = pd.to_numeric(c["responded"].astype("object").replace({True: 1, False: 0, "true": 1,
                                                                      "false": 0}), errors="coerce")
    c["unanswered"] = responded == 0
    c["answered"] = responded > 0
    agg = c.groupby("customer_id").agg(contacts_recent=("date", "size"), contacts_unanswered=("unanswered", "sum"),
                                       contacts_answered=("answered", "sum"))
    out = agg.reindex(customers).fillna(0)
    out["unanswered_outreach_fires"] = ((out["contacts_unanswered"] >= float(params["unanswered_min"]))
                                        & (out["contacts_answered"] == 0))
    return out


def complaints(tickets: pd.DataFrame, customers: pd.Index, *, as_of: pd.Timestamp,
               params: Mapping[str, Any]) -> pd.DataFrame:
    """Complaints opened in the last ``tickets_window_days``, and tickets still open at ``as_of`` (opened
    within ``tickets_open_max_age_days``; without ``resolved_at`` none counts as open)."""
    t = tickets.loc[:, ["customer_id", "opened_at"] + (["resolved_at"] if "resolved_at" in tickets else [])].copy()
    t["opened_at"] = pd.to_datetime(t["opened_at"])
    t = t.loc[t["opened_at"] <= as_of]
    age = _days(as_of - t["opened_at"])
    t["recent"] = age < float(params["tickets_window_days"])
    if "resolved_at" in t.columns:
        resolved = pd.to_datetime(t["resolved_at"])
        t["open"] = (resolved.isna() | (resolved > as_of)) & (age < float(params["tickets_open_max_age_days"]))
    else:
        t["open"] = False
    agg = t.groupby("customer_id").agg(tickets_recent=("recent", "sum"), tickets_open=("open", "sum"))
    out = agg.reindex(customers).fillna(0)
    out["complaints_fires"] = (out["tickets_recent"] >= float(params["complaints_min"])) | (out["tickets_open"] > 0)
    return out


def optional_table(tables: Mapping[str, pd.DataFrame | None] | None, signal: str) -> pd.DataFrame | None:
    """The table a signal needs, or ``None`` when it (or one of its columns) is missing or empty."""
    name, columns = NEEDS[signal]
    frame = (tables or {}).get(name)
    if frame is None or frame.empty or any(c not in frame.columns or frame[c].isna().all() for c in columns):
        return None
    return frame
