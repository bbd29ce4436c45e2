"""Wholesale A/B/C tiers and value flags (margin value, tenure, referrers, effortless customers).

Part of the segmentation practice: the defaults are ``DEFAULTS["abc"]`` and ``DEFAULTS["value"]`` of
:mod:`crmlib.segmentation.params`; :func:`crmlib.segmentation.rfm.segment_table` joins them to the RFM
scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlib.data.frames import require_columns
from crmlib.data.textops import isin, map_or
from crmlib.errors import ParamsError
from crmlib.segmentation.params import PASSIVE_TIER, group_params


def percentile(values: pd.Series) -> pd.Series:
    """Mid-rank percentile ``(rank - 0.5) / n`` of each value, ties averaged (Hazen plotting position).

    Identical values get the same percentile; a single value gets 0.5; n distinct values get
    0.5/n, 1.5/n, ..., (n - 0.5)/n.
    """
    n = int(values.notna().sum())
    return (values.rank(method="average") - 0.5) / max(n, 1)


# -- wholesale A/B/C tiers --------------------------------------------------------------------------------
def abc_table(customer_summary: pd.DataFrame, orders: pd.DataFrame, *, as_of: pd.Timestamp | str,
              params: Mapping[str, Any] | None = None, lapsed_days: float | None = None) -> pd.DataFrame:
    """Wholesale A/B/C tiers with the measures behind them (wholesale practice: 30/60/90-day tiers).

    Over the last ``window_days`` (90) before ``as_of``: purchase orders, orders a month
    (orders / (window_days / 30)) and volume (net revenue of every order, returns included) with its
    mid-rank percentile (:func:`percentile`) among the customers with a positive volume in the window
    (0 for the others, so that "top 20%" means the top of the customers who are buying now). Then, with
    ``params["abc"]``:

    - **A**: recency <= 30 days, >= 3 orders a month and volume in the top 20%;
    - **B**: recency <= 60 days, >= 1 order a month and volume in the top 50%;
    - **C**: recency >= 90 days, or below B's frequency *and* volume bars;
    - **fallback** (fits none of these, e.g. last order 61-89 days ago, or recent but below only one of
      B's bars): placed by volume rank alone, top 50% (B's volume bar) -> B, otherwise C. A fallback
      never reaches A, which needs all three A conditions. ``abc_fallback`` marks these customers.
    - **P** (passive), with ``lapsed_days``: no purchase for ``lapsed_days`` or more; they leave C, so that
      "C: occasional buyers" holds customers who still buy.

    Tier and revenue share use the same period: compare tiers on ``revenue_window`` (see
    :func:`crmlib.segmentation.rfm.segment_profile` with ``value="revenue_window"``).

    Parameters
    ----------
    customer_summary
        Columns ``customer_id``, ``recency_days``.
    orders
        Columns ``customer_id``, ``order_date``, ``amount``, ``is_purchase``.

    Returns
    -------
    DataFrame
        ``customer_id, orders_window, orders_per_month, revenue_window, volume_pct, abc_tier,
        abc_fallback`` on ``customer_summary``'s index.
    """
    require_columns(customer_summary, ["customer_id", "recency_days"], "customer_summary")
    require_columns(orders, ["customer_id", "order_date", "amount", "is_purchase"], "orders")
    p = group_params(params, "abc")
    for key, value in p.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise ParamsError(f"Params key 'segmentation.abc.{key}' must be a number >= 0, got {value!r}.")
    as_of = pd.Timestamp(as_of)
    window = float(p["window_days"])
    if window <= 0:
        raise ParamsError(f"Params key 'segmentation.abc.window_days' must be > 0, got {window!r}.")
    recent = orders.loc[(orders["order_date"] > as_of - pd.Timedelta(days=window))
                        & (orders["order_date"] <= as_of)]
    n_orders = recent.loc[recent["is_purchase"].astype(bool)].groupby("customer_id").size()
    volume = recent.groupby("customer_id")["amount"].sum()
    ids = customer_summary["customer_id"]
    out = pd.DataFrame({"customer_id": ids}, index=customer_summary.index)
    out["orders_window"] = map_or(ids, n_orders, 0).astype("int64")
    out["orders_per_month"] = out["orders_window"] / (window / 30.0)
    out["revenue_window"] = map_or(ids, volume, 0.0).astype(float)
    active = out["revenue_window"] > 0
    out["volume_pct"] = 0.0
    out.loc[active, "volume_pct"] = percentile(out.loc[active, "revenue_window"])
    recency = customer_summary["recency_days"].astype(float)
    eps = 1e-9
    top_a = out["volume_pct"] >= 1 - float(p["a_top_volume_share"]) - eps
    top_b = out["volume_pct"] >= 1 - float(p["b_top_volume_share"]) - eps
    is_a = (recency <= p["a_max_recency_days"]) & (out["orders_per_month"] >= p["a_min_orders_per_month"]) & top_a
    is_b = (recency <= p["b_max_recency_days"]) & (out["orders_per_month"] >= p["b_min_orders_per_month"]) & top_b
    is_c = (recency >= p["c_min_recency_days"]) | (
        (out["orders_per_month"] < p["b_min_orders_per_month"]) & ~top_b)
    tier = np.select([is_a, is_b, is_c], ["A", "B", "C"], default="")
    fallback = tier == ""
    tier = np.where(fallback, np.where(top_b, "B", "C"), tier)
    if lapsed_days is not None:
        passive = (~(recency < float(lapsed_days))).to_numpy()
        tier = np.where(passive, PASSIVE_TIER, tier)
        fallback = fallback & ~passive
    out["abc_tier"] = tier
    out["abc_fallback"] = fallback
    return out


def abc_tiers(customer_summary: pd.DataFrame, orders: pd.DataFrame, *, as_of: pd.Timestamp | str,
              params: Mapping[str, Any] | None = None) -> pd.Series:
    """Return each customer's wholesale tier ``'A'``/``'B'``/``'C'`` (see :func:`abc_table` for the rules)."""
    return abc_table(customer_summary, orders, as_of=as_of, params=params)["abc_tier"]


# -- value flags ------------------------------------------------------------------------------------------
def value_flags(customer_summary: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame | None] | None = None,
                as_of: pd.Timestamp | str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Margin-based value, tenure band, referrers and effortless customers.

    - ``value_pct``: percentile (:func:`percentile`) of margin among customers whose cost is known, of
      revenue among the others (``value_basis``); a customer who leaves more profit is worth more than one
      who buys more. ``high_value``: in the top ``high_value_share`` (20%, Pareto).
    - ``tenure_band``: days since the first purchase cut at ``tenure_edges_days`` (``"0-90"``, ...,
      ``"730+"``).
    - ``referrals``: customers in ``customers.referred_by`` pointing at this customer who have purchased;
      ``referrer`` when >= ``referrer_min_referrals``. ``<NA>`` without that column.
    - ``tickets``: tickets opened in the ``ticket_window_days`` up to as_of; ``effortless`` = high value and
      at most ``effortless_max_tickets`` tickets. ``<NA>`` without a tickets table.

    Parameters
    ----------
    customer_summary
        Columns ``customer_id``, ``revenue``, ``margin``, ``tenure_days``.
    tables
        Optional ``customers`` (``customer_id``, ``referred_by``) and ``tickets`` (``customer_id``,
        ``opened_at``).
    """
    require_columns(customer_summary, ["customer_id", "revenue", "margin", "tenure_days"], "customer_summary")
    p = group_params(params, "value")
    tables = tables or {}
    as_of = pd.Timestamp(as_of)
    ids = customer_summary["customer_id"]
    out = pd.DataFrame({"customer_id": ids}, index=customer_summary.index)
    margin = customer_summary["margin"].astype(float)
    revenue = customer_summary["revenue"].astype(float)
    known = margin.notna()
    out["value_basis"] = np.where(known, "margin", "revenue")
    out["margin"] = margin
    out["margin_rate"] = (margin / revenue.where(revenue > 0)).astype(float)
    value_pct = pd.Series(np.nan, index=out.index)
    value_pct[known] = percentile(margin[known])
    value_pct[~known] = percentile(revenue[~known])
    out["value_pct"] = value_pct
    out["high_value"] = out["value_pct"] >= 1 - float(p["high_value_share"]) - 1e-9
    out["tenure_days"] = customer_summary["tenure_days"].astype(float)
    edges = [float(e) for e in p["tenure_edges_days"]]
    if any(b <= a for a, b in zip(edges, edges[1:], strict=False)) or not edges or edges[0] <= 0:
        raise ParamsError(f"Params key 'segmentation.value.tenure_edges_days' must be increasing positive "
                          f"numbers of days, got {edges!r}.")
    labels = [f"{a:g}-{b:g}" for a, b in zip([0.0, *edges], edges, strict=False)] + [f"{edges[-1]:g}+"]
    out["tenure_band"] = pd.cut(out["tenure_days"], [-np.inf, *edges, np.inf], right=False,
                                labels=labels).astype(object)
    customers = tables.get("customers")
    if customers is not None and "referred_by" in customers.columns:
        referred = customers.loc[isin(customers["customer_id"], ids) & customers["referred_by"].notna().to_numpy(),
                                 ["customer_id", "referred_by"]].drop_duplicates()
        counts = referred.groupby(referred["referred_by"].astype(str))["customer_id"].nunique()
        out["referrals"] = map_or(ids.astype(str), counts, 0).astype("int64")
        out["referrer"] = (out["referrals"] >= int(p["referrer_min_referrals"])).astype("boolean")
    else:
        out["referrals"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["referrer"] = pd.array([pd.NA] * len(out), dtype="boolean")
    tickets = tables.get("tickets")
    if tickets is not None and {"customer_id", "opened_at"} <= set(tickets.columns):
        opened = pd.to_datetime(tickets["opened_at"])
        window = tickets.loc[(opened > as_of - pd.Timedelta(days=float(p["ticket_window_days"])))
                             & (opened <= as_of)]
        counts = window.groupby("customer_id").size()
        out["tickets"] = map_or(ids, counts, 0).astype("int64")
        out["effortless"] = (out["high_value"] & (out["tickets"] <= int(p["effortless_max_tickets"]))
                             ).astype("boolean")
    else:
        out["tickets"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["effortless"] = pd.array([pd.NA] * len(out), dtype="boolean")
    return out
