"""Wholesale A/B/C tiers and value flags (margin value, tenure, referrers, effortless customers).

Part of the segmentation practice: the defaults are ``DEFAULTS["abc"]`` and ``DEFAULTS["value"]`` of
:mod:`crmlib.segmentation.params`; :func:`crmlib.segmentation.rfm.segment_table` joins them to the RFM
scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crmlib.data.frames import require_columns
from crmlib.data.textops import arrow_text, map_or
from crmlib.errors import ParamsError
from crmlib.segmentation.params import PASSIVE_TIER, group_params

#: Largest span of whole-number values counted by :func:`twice_mid_rank` with one bin per value (beyond it,
#: values are sorted).
_COUNT_SPAN = 1 << 22


def twice_mid_rank(values: np.ndarray) -> np.ndarray:
    """Twice the average rank (1-based, ties averaged) of each value, as whole numbers.

    A tied block at sorted positions ``s .. e - 1`` (0-based) holds ranks ``s + 1 .. e``, whose mean is
    ``(s + 1 + e) / 2``: twice it is ``s + e + 1``, exact in integers. Whole numbers over a short span are
    counted (one pass, no sort); other values are sorted once. Equals ``2 * Series.rank(method="average")``.

    Parameters
    ----------
    values
        One-dimensional numbers (integers or floats) without NaN.

    Returns
    -------
    ndarray
        ``int64``, in the order of ``values``.
    """
    v = np.asarray(values)
    n = len(v)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if v.dtype.kind == "b":
        v = v.view(np.uint8)
    if v.dtype.kind in "iu" or (v.dtype.kind == "f" and np.isfinite(v).all() and (v == np.floor(v)).all()):
        lo, hi = v.min(), v.max()
        if float(hi) - float(lo) < _COUNT_SPAN:
            pos = (v - lo).astype(np.intp)  # no overflow: the span is short
            counts = np.bincount(pos)
            below = np.cumsum(counts) - counts
            return (2 * below + counts + 1)[pos].astype(np.int64)
    order = np.argsort(v)
    ordered = v[order]
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], n)
    out = np.empty(n, dtype=np.int64)
    out[order] = (starts + ends + 1)[np.cumsum(first) - 1]
    return out


def _rank_fast(values: pd.Series) -> bool:
    """Whether :func:`twice_mid_rank` applies to ``values``: numpy integers or floats (NaN allowed by
    callers that leave it out)."""
    return isinstance(values.dtype, np.dtype) and values.dtype.kind in "iuf"


def percentile(values: pd.Series) -> pd.Series:
    """Mid-rank percentile ``(rank - 0.5) / n`` of each value, ties averaged (Hazen plotting position).

    Identical values get the same percentile; a single value gets 0.5; n distinct values get
    0.5/n, 1.5/n, ..., (n - 0.5)/n. Missing values stay missing and are not counted in n.
    """
    if not _rank_fast(values):
        n = int(values.notna().sum())
        return (values.rank(method="average") - 0.5) / max(n, 1)
    return pd.Series(_percentile(values.to_numpy()), index=values.index, name=values.name)


def _percentile(values: np.ndarray) -> np.ndarray:
    """:func:`percentile` of numpy numbers (NaN stays NaN and is not counted)."""
    if values.dtype.kind == "f":
        known = ~np.isnan(values)
        if not known.all():
            out = np.full(len(values), np.nan)
            out[known] = (twice_mid_rank(values[known]) / 2.0 - 0.5) / max(int(known.sum()), 1)
            return out
    return (twice_mid_rank(values) / 2.0 - 0.5) / max(len(values), 1)


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
    dates = orders["order_date"]
    in_window = ((dates > as_of - pd.Timedelta(days=window)) & (dates <= as_of)).to_numpy()
    # the window's order lines grouped once on their customers' codes, then looked up by position
    codes, buyers = pd.factorize(orders["customer_id"][in_window])
    known = codes >= 0
    purchase = orders["is_purchase"][in_window].astype(bool).to_numpy()
    n_orders = np.bincount(codes[known & purchase], minlength=len(buyers))
    volume = (pd.Series(orders["amount"][in_window].to_numpy()[known]).groupby(codes[known]).sum()
              .reindex(range(len(buyers)), fill_value=0.0).to_numpy(float))
    ids = customer_summary["customer_id"]
    pos = _positions(ids, buyers)
    found = pos >= 0
    pos = np.where(found, pos, 0)
    out = pd.DataFrame({"customer_id": ids}, index=customer_summary.index)
    orders_window = np.where(found, n_orders[pos] if len(buyers) else 0, 0).astype("int64")
    per_month = orders_window / (window / 30.0)
    revenue_window = np.where(found, volume[pos] if len(buyers) else 0.0, 0.0).astype(float)
    active = revenue_window > 0
    volume_pct = np.zeros(len(out))
    volume_pct[active] = _percentile(revenue_window[active])
    out["orders_window"] = orders_window
    out["orders_per_month"] = per_month
    out["revenue_window"] = revenue_window
    out["volume_pct"] = volume_pct
    recency = customer_summary["recency_days"].to_numpy(float)
    eps = 1e-9
    top_a = volume_pct >= 1 - float(p["a_top_volume_share"]) - eps
    top_b = volume_pct >= 1 - float(p["b_top_volume_share"]) - eps
    is_a = (recency <= p["a_max_recency_days"]) & (per_month >= p["a_min_orders_per_month"]) & top_a
    is_b = (recency <= p["b_max_recency_days"]) & (per_month >= p["b_min_orders_per_month"]) & top_b
    is_c = (recency >= p["c_min_recency_days"]) | ((per_month < p["b_min_orders_per_month"]) & ~top_b)
    labels = ["A", "B", "C", PASSIVE_TIER]
    tier = np.select([is_a, is_b, is_c], [0, 1, 2], default=-1)
    fallback = tier < 0
    tier = np.where(fallback, np.where(top_b, 1, 2), tier)
    if lapsed_days is not None:
        passive = ~(recency < float(lapsed_days))
        tier = np.where(passive, 3, tier)
        fallback = fallback & ~passive
    out["abc_tier"] = text_from_codes(tier, labels, index=out.index)
    out["abc_fallback"] = fallback
    return out


def _positions(values: pd.Series, keys: pd.Index) -> np.ndarray:
    """Position of each value among the distinct ``keys``, -1 where absent (one hash lookup; Arrow's when
    both hold Arrow text)."""
    left, right = arrow_text(values), arrow_text(keys)
    if left is not None and right is not None and len(keys):
        found = pc.index_in(left, value_set=right.cast(left.type).combine_chunks())
        return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)
    return pd.Index(keys).get_indexer(values)


def among(values: pd.Series, candidates: pd.Series) -> np.ndarray:
    """``values.isin(candidates)`` as a numpy bool array (a missing value matches a missing one), hashing the
    distinct ``values`` instead of the candidates: fast for a few values among many candidates."""
    codes, distinct = pd.factorize(values)
    hit = np.zeros(len(distinct) + 1, dtype=bool)
    pos = _positions(candidates, distinct)
    hit[pos[pos >= 0]] = True
    hit[-1] = bool(candidates.isna().any())  # code -1: a missing value
    return hit[codes]


def text_from_codes(codes: np.ndarray, labels: Sequence[str], *, index: pd.Index | None = None) -> pd.Series:
    """``labels[code]`` of each code as pandas' text dtype (what a numpy array of these strings becomes in a
    frame), decoded by Arrow from the codes instead of built from a million Python strings.

    Parameters
    ----------
    codes
        Whole numbers ``0 .. len(labels) - 1``.
    labels
        The distinct texts.
    """
    dtype = pd.StringDtype(na_value=np.nan)
    codes = np.asarray(codes)
    if dtype.storage != "pyarrow":
        return pd.Series(np.asarray(labels, dtype=object)[codes], index=index, dtype=dtype)
    array = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(list(labels), pa.string()))
    return pd.Series(pd.array(array.cast(pa.large_string()), dtype=dtype), index=index)


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
    margin = customer_summary["margin"].to_numpy(float)
    revenue = customer_summary["revenue"].to_numpy(float)
    known = ~np.isnan(margin)
    out["value_basis"] = text_from_codes(np.where(known, 0, 1), ["margin", "revenue"], index=out.index)
    out["margin"] = margin
    with np.errstate(divide="ignore", invalid="ignore"):
        out["margin_rate"] = margin / np.where(revenue > 0, revenue, np.nan)
    value_pct = np.full(len(out), np.nan)
    value_pct[known] = _percentile(margin[known])
    value_pct[~known] = _percentile(revenue[~known])
    out["value_pct"] = value_pct
    out["high_value"] = value_pct >= 1 - float(p["high_value_share"]) - 1e-9
    out["tenure_days"] = customer_summary["tenure_days"].astype(float)
    edges = [float(e) for e in p["tenure_edges_days"]]
    if any(b <= a for a, b in zip(edges, edges[1:], strict=False)) or not edges or edges[0] <= 0:
        raise ParamsError(f"Params key 'segmentation.value.tenure_edges_days' must be increasing positive "
                          f"numbers of days, got {edges!r}.")
    labels = [f"{a:g}-{b:g}" for a, b in zip([0.0, *edges], edges, strict=False)] + [f"{edges[-1]:g}+"]
    # pd.cut(tenure, [-inf, *edges, inf], right=False, labels=labels) as text: the band below each value
    tenure = out["tenure_days"].to_numpy()
    band = np.searchsorted(edges, tenure, side="right")
    band[np.isnan(tenure) | (tenure == np.inf)] = len(labels)  # outside every band: missing
    out["tenure_band"] = pd.Series(np.array([*labels, np.nan], dtype=object)[band], index=out.index, dtype=object)
    customers = tables.get("customers")
    if customers is not None and "referred_by" in customers.columns:
        referring = customers.loc[customers["referred_by"].notna().to_numpy(), ["customer_id", "referred_by"]]
        referred = referring.loc[among(referring["customer_id"], ids)].drop_duplicates()
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
