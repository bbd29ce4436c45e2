"""Customer segmentation: RFM scores, the 11 named RFM segments, wholesale A/B/C tiers and value flags.

Who the customers are and what each group is worth, at ``as_of``:

- **RFM scores** 1..``bins`` for recency (recent = high), frequency (purchase orders) and monetary value
  (net revenue), after Hughes, *Strategic Database Marketing* (1994): quintiles by default.
- **Named segments**: the 11-segment map on the R score and the mean of the F and M scores (Putler,
  "RFM Analysis For Successful Customer Segmentation", 2020), written as ordered rules in ``DEFAULTS``.
- **A/B/C tiers**: the wholesale 30/60/90-day practice (recency, orders a month, volume).
- **Value flags**: margin-based value, tenure band, referrers and "effortless" customers.

A/B/C tiers and value flags live in :mod:`crmlib.segmentation.tiers`; strategies, migration between runs,
masking and contact lists in :mod:`crmlib.segmentation.actions`. Both are served from here too
(``seg.abc_tiers``, ``seg.migration``), so that ``from crmlib import segmentation as seg`` is the one import
notebooks need.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from crmlib.data.frames import require_columns
from crmlib.data.textops import arrow_text
from crmlib.errors import DataError, ParamsError
from crmlib.segmentation.params import (
    DEFAULTS,
    LAPSED_SEGMENTS,
    TIERS,
    check_rules,
    lapsed_limit,
    resolve_params,
    rule_bounds,
)
from crmlib.segmentation.tiers import _rank_fast, abc_table, text_from_codes, twice_mid_rank, value_flags

log = logging.getLogger(__name__)

def _examples(ids: pd.Series) -> str:
    return ", ".join(map(str, ids.head(5)))


def _quantile_score(values: pd.Series, bins: int) -> pd.Series:
    """Score 1..bins = floor(bins * percentile) + 1, in integer arithmetic (no float edge cases)."""
    n = len(values)
    if _rank_fast(values) and not (values.dtype.kind == "f" and values.isna().any()):
        twice_rank = pd.Series(twice_mid_rank(values.to_numpy()), index=values.index, name=values.name)
    else:
        twice_rank = (2 * values.rank(method="average")).round().astype("int64")
    return ((twice_rank - 1) * bins // (2 * n) + 1).astype("int64")


def _fixed_score(values: pd.Series, edges: Sequence[float], bins: int, *, name: str) -> pd.Series:
    edges = [float(e) for e in edges]
    if len(edges) != bins - 1 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise ParamsError(f"Params key 'segmentation.{name}' must be {bins - 1} increasing numbers for "
                          f"bins = {bins}, got {edges!r}. Fix it, or use method: quantile.")
    return pd.Series(np.searchsorted(edges, values.to_numpy(float), side="left") + 1, index=values.index,
                     dtype="int64")


# -- RFM scores -------------------------------------------------------------------------------------------
def rfm_scores(customer_summary: pd.DataFrame, *, bins: int = 5, method: str = "quantile",
               edges: Mapping[str, Sequence[float] | None] | None = None, recency_method: str | None = None,
               lapsed_days: float | None = None) -> pd.DataFrame:
    """Score recency, frequency and monetary value 1..``bins`` (Hughes 1994; recent = ``bins``).

    ``method="quantile"`` bins the mid-rank percentile p = (rank - 0.5) / n (ties averaged; Hazen's
    plotting position): score = floor(bins * p) + 1. So n distinct values fill the bins equally, tied
    customers always share a score (a tied block straddling a bin edge takes the bin of its middle), one
    customer or all-identical customers score the middle level (3 of 5), and the order of rows never
    matters. With heavy ties a level can stay empty (e.g. 60% one-order customers all score F = 2).
    ``method="fixed"`` uses ``edges`` (keys ``recency_edges_days``, ``frequency_edges``, ``monetary_edges``;
    upper bounds, inclusive).

    ``recency_method`` (default: ``method``) scores recency alone: ``"fixed"`` on ``recency_edges_days``
    (the wholesale 30/60/90/180-day rule by default), ``"quantile"`` on the quantiles of the active customers.
    With ``lapsed_days``, customers silent for that many days or more score R = 1 and the others 2..bins
    (quantiles of the active customers only, or the fixed edges floored at 2): the bottom recency level
    then means "lapsed" and nothing else, whatever the spread of the rest.

    Parameters
    ----------
    customer_summary
        One row per customer with columns:

        - ``customer_id``
        - ``recency_days``: days from the last purchase to as_of
        - ``n_orders``: purchase orders
        - ``revenue``: net revenue

    Returns
    -------
    DataFrame
        ``customer_id, recency_days, frequency (= n_orders), monetary (= revenue), r_score, f_score,
        m_score``, in the input's order and index.
    """
    require_columns(customer_summary, ["customer_id", "recency_days", "n_orders", "revenue"], "customer_summary")
    if not isinstance(bins, (int, np.integer)) or isinstance(bins, bool) or not 2 <= bins <= 10:
        raise ParamsError(f"Params key 'segmentation.bins' must be a whole number from 2 to 10, got {bins!r}.")
    if method not in ("quantile", "fixed"):
        raise ParamsError(f"Params key 'segmentation.method' must be 'quantile' or 'fixed', got {method!r}.")
    out = pd.DataFrame({
        "customer_id": customer_summary["customer_id"],
        "recency_days": customer_summary["recency_days"].astype(float),
        "frequency": customer_summary["n_orders"].astype("int64"),
        "monetary": customer_summary["revenue"].astype(float),
    })
    for col, source in (("recency_days", "recency_days"), ("monetary", "revenue")):
        bad = out[col].isna()
        if bad.any():
            raise DataError(f"customer_summary.{source} is missing for {int(bad.sum())} customer(s), e.g. "
                            f"{_examples(out.loc[bad, 'customer_id'])}. Rebuild it with crmlib.data.tables.")
    if out.empty:
        return out.assign(r_score=pd.Series(dtype="int64"), f_score=pd.Series(dtype="int64"),
                          m_score=pd.Series(dtype="int64"))
    recency_method = method if recency_method is None else recency_method
    if recency_method not in ("quantile", "fixed"):
        raise ParamsError(f"Params key 'segmentation.recency_method' must be 'quantile' or 'fixed', got "
                          f"{recency_method!r}.")
    edges = {**{k: DEFAULTS[k] for k in ("recency_edges_days", "frequency_edges", "monetary_edges")},
             **(edges or {})}
    lapsed = (out["recency_days"] >= float(lapsed_days) if lapsed_days is not None
              else pd.Series(False, index=out.index))
    if recency_method == "quantile":
        active = ~lapsed
        r_score = pd.Series(1, index=out.index, dtype="int64")
        if active.any():
            levels = bins - 1 if lapsed_days is not None else bins
            r_score[active] = _quantile_score(-out.loc[active, "recency_days"], levels) + (bins - levels)
        out["r_score"] = r_score
    else:
        if edges["recency_edges_days"] is None:
            raise ParamsError("Params key 'segmentation.recency_edges_days' is required with recency_method: "
                              "fixed (upper bounds in days, e.g. [30, 60, 90, 180]).")
        r_score = bins + 1 - _fixed_score(out["recency_days"], edges["recency_edges_days"], bins,
                                          name="recency_edges_days")
        if lapsed_days is not None:
            r_score = r_score.clip(lower=2).where(~lapsed, 1)
        out["r_score"] = r_score.astype("int64")
    if method == "quantile":
        out["f_score"] = _quantile_score(out["frequency"], bins)
        out["m_score"] = _quantile_score(out["monetary"], bins)
        return out
    for key in ("frequency_edges", "monetary_edges"):
        if edges[key] is None:
            raise ParamsError(f"Params key 'segmentation.{key}' is required with method: fixed (upper bounds "
                              f"of scores 1..{bins - 1}, e.g. in your currency for monetary_edges).")
    out["f_score"] = _fixed_score(out["frequency"], edges["frequency_edges"], bins, name="frequency_edges")
    out["m_score"] = _fixed_score(out["monetary"], edges["monetary_edges"], bins, name="monetary_edges")
    return out


# -- named segments ---------------------------------------------------------------------------------------
def assign_segments(scores: pd.DataFrame, *, rules: Sequence[Mapping[str, Any]] | None = None,
                    bins: int = 5, lapsed_days: float | None = None) -> pd.Series:
    """Name each customer's segment from its R score and FM = (F + M) / 2 (Putler 2020), first rule wins.

    With ``bins`` other than 5 the scores are first rescaled to 1..5 (R to the nearest whole number, FM to
    the nearest half) so that the same rules apply. With ``lapsed_days`` (and a ``recency_days`` column),
    a customer silent for that many days or more whom the rules put in a segment outside
    :data:`LAPSED_SEGMENTS` (custom rules, quantile recency) is moved to ``lapsed`` (FM >= 3: was valuable)
    or ``lost``: no segment named loyal, champions, at risk or can't lose holds a lapsed customer.

    Parameters
    ----------
    scores
        Columns ``r_score``, ``f_score``, ``m_score`` (from :func:`rfm_scores`).

    Returns
    -------
    Series
        Segment codes (``champions``, ``loyal``, ...), named ``rfm_segment``, on ``scores``' index.
    """
    require_columns(scores, ["r_score", "f_score", "m_score"], "scores")
    rules = DEFAULTS["segment_rules"] if rules is None else rules
    check_rules(rules)
    if lapsed_days is not None:
        require_columns(scores, ["recency_days"], "scores")
    r_f_m = [scores[c].to_numpy() for c in ("r_score", "f_score", "m_score")]
    if len(scores) and all(a.dtype.kind in "iu" and a.min() >= 1 and a.max() <= bins for a in r_f_m):
        # whole scores 1..bins: each of the bins**3 score triples is named once, then looked up
        grid = np.indices((bins, bins, bins)).reshape(3, -1) + 1
        named, fm = _segment_rules(*grid, rules=rules, bins=bins)
        code = ((r_f_m[0].astype(np.intp) - 1) * bins + (r_f_m[1].astype(np.intp) - 1)) * bins + (
            r_f_m[2].astype(np.intp) - 1)
        out = named[code]
        if lapsed_days is not None:
            lapsed = (scores["recency_days"].to_numpy(float) >= float(lapsed_days)) & ~np.isin(
                named.astype(str), LAPSED_SEGMENTS)[code]
            out[lapsed] = np.where(fm[code[lapsed]] >= 3, "lapsed", "lost")
    else:
        out, fm = _segment_rules(*r_f_m, rules=rules, bins=bins)
        if lapsed_days is not None:
            lapsed = (scores["recency_days"].to_numpy(float) >= float(lapsed_days)) & ~np.isin(
                out.astype(str), LAPSED_SEGMENTS)
            out[lapsed] = np.where(fm[lapsed] >= 3, "lapsed", "lost")
    return pd.Series(out, index=scores.index, name="rfm_segment", dtype=object)


def _segment_rules(r_score: np.ndarray, f_score: np.ndarray, m_score: np.ndarray, *,
                   rules: Sequence[Mapping[str, Any]], bins: int) -> tuple[np.ndarray, np.ndarray]:
    """The first matching rule's code of each score triple (``None`` where none matches) and its FM.

    R is rescaled from 1..``bins`` to 1..5 (nearest whole number), FM = (F + M) / 2 likewise (nearest half).
    """
    scale = 4.0 / (bins - 1)
    r = np.floor(1 + (np.asarray(r_score, dtype=float) - 1) * scale + 0.5)
    fm_raw = (np.asarray(f_score, dtype=float) + np.asarray(m_score, dtype=float)) / 2
    fm = np.floor((1 + (fm_raw - 1) * scale) * 2 + 0.5) / 2
    out = np.full(len(r), None, dtype=object)
    for i, rule in enumerate(rules):
        code, lo, hi, flo, fhi = rule_bounds(rule, i)
        hit = pd.isna(out) & (r >= lo) & (r <= hi) & (fm >= flo) & (fm <= fhi)
        out[hit] = code
    return out, fm


# -- the per-customer result ------------------------------------------------------------------------------
CONTRACT_COLUMNS: tuple[str, ...] = ("customer_id", "recency_days", "frequency", "monetary", "r_score",
                                     "f_score", "m_score", "rfm_segment", "abc_tier")


def segment_table(data: Any, orders: pd.DataFrame | None = None, *, as_of: pd.Timestamp | str | None = None,
                  params: Mapping[str, Any] | None = None,
                  tables: Mapping[str, pd.DataFrame | None] | None = None) -> pd.DataFrame:
    """The full per-customer segmentation, the rows of ``segments.csv``.

    Call it with a :class:`crmlib.core.context.Context` (``segment_table(ctx)``) or with frames
    (``segment_table(customer_summary, orders, as_of=..., params=..., tables=...)``).

    Returns
    -------
    DataFrame
        The contract's columns ``customer_id, recency_days, frequency, monetary, r_score, f_score, m_score,
        rfm_segment, abc_tier``, then ``fm_score, rfm_code, abc_fallback, orders_window, orders_per_month,
        revenue_window, volume_pct`` and the :func:`value_flags` columns; sorted by customer_id.
    """
    run = hasattr(data, "customer_summary") and params is None  # the run's params: its RFM table is reused
    if hasattr(data, "customer_summary"):
        summary, orders, as_of = data.customer_summary, data.orders, data.as_of
        params = data.params.get("segmentation", {}) if params is None else params
        tables = data.tables if tables is None else tables
    else:
        summary = data
    if orders is None or as_of is None:
        raise ParamsError("segment_table needs orders and as_of with a customer_summary frame "
                          "(or pass the run's Context).")
    p = _resolved(params, data)
    scores = data.rfm_segments().copy() if run and hasattr(data, "rfm_segments") else _rfm(summary, p)
    abc = abc_table(summary, orders, as_of=as_of, params=p, lapsed_days=p["lapsed_days"])
    scores["abc_tier"] = abc["abc_tier"]
    scores["fm_score"] = (scores["f_score"] + scores["m_score"]) / 2
    scores["rfm_code"] = rfm_code(scores, bins=p["bins"])
    flags = value_flags(summary, tables=tables, as_of=as_of, params=p)
    columns = {**dict(scores.items()), **{c: abc[c] for c in abc.columns if c not in ("customer_id", "abc_tier")},
               **{c: flags[c] for c in flags.columns if c != "customer_id"}}
    for names, decimals in ((("monetary", "revenue_window", "margin"), 2),
                            (("volume_pct", "value_pct", "margin_rate"), 4)):
        for name in names:
            columns[name] = columns[name].round(decimals)
    out = pd.DataFrame(columns, copy=False)
    if ascending(out["customer_id"]):  # a stable sort would keep every row where it is
        return out.reset_index(drop=True)
    return out.sort_values("customer_id", kind="stable").reset_index(drop=True)


def rfm_table(data: Any, *, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Each customer's RFM scores and segment: the first columns of :func:`segment_table`, which starts from
    this table (the registry's ``rfm_segments`` product, computed once per run; the lifetime-value page groups
    by its segments without the rest of the segment table).

    Call it with a :class:`crmlib.core.context.Context` or with the per-customer table and ``params`` (the
    ``segmentation`` section).

    Returns
    -------
    DataFrame
        ``customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, rfm_segment`` in the
        per-customer table's order (by customer_id).
    """
    summary = data.customer_summary if hasattr(data, "customer_summary") else data
    if params is None and hasattr(data, "params"):
        params = data.params.get("segmentation", {})
    return _rfm(summary, _resolved(params, data))


def _resolved(params: Mapping[str, Any] | None, data: Any) -> dict[str, Any]:
    """The ``segmentation`` params with their defaults, the lapsed limit filled in and the rules checked."""
    p = resolve_params(params)
    if p["lapsed_days"] is None:
        p["lapsed_days"] = lapsed_limit(data.params if hasattr(data, "params") else None)
    check_rules(p["segment_rules"], order=p["segment_order"])
    return p


def _rfm(summary: pd.DataFrame, p: Mapping[str, Any]) -> pd.DataFrame:
    """The RFM scores and segment of each customer of ``summary`` with the resolved params ``p``."""
    scores = rfm_scores(summary, bins=p["bins"], method=p["method"],
                        edges={k: p[k] for k in ("recency_edges_days", "frequency_edges", "monetary_edges")},
                        recency_method=p["recency_method"], lapsed_days=p["lapsed_days"])
    scores["rfm_segment"] = assign_segments(scores, rules=p["segment_rules"], bins=p["bins"],
                                            lapsed_days=p["lapsed_days"])
    return scores


def ascending(values: pd.Series) -> bool:
    """Whether Arrow text ``values`` never decrease (byte order, pandas' sort order of Arrow text) and none is
    missing; False for anything else (then sort)."""
    text = arrow_text(values)
    if text is None or text.null_count:
        return False
    text = text.combine_chunks()
    return len(text) < 2 or not pc.any(pc.less(text.slice(1), text.slice(0, len(text) - 1))).as_py()


def rfm_code(scores: pd.DataFrame, *, bins: int = 5) -> pd.Series:
    """The scores written side by side (R, F, M: ``"545"``) as pandas' text dtype.

    Whole scores 1..``bins`` are written once per score triple and decoded from their codes; other scores
    are joined as text.
    """
    r_f_m = [scores[c].to_numpy() for c in ("r_score", "f_score", "m_score")]
    if not (len(scores) and all(a.dtype.kind in "iu" and a.min() >= 1 and a.max() <= bins for a in r_f_m)):
        return scores["r_score"].astype(str) + scores["f_score"].astype(str) + scores["m_score"].astype(str)
    grid = np.indices((bins, bins, bins)).reshape(3, -1) + 1
    labels = [f"{r}{f}{m}" for r, f, m in zip(*grid.tolist(), strict=True)]
    code = ((r_f_m[0].astype(np.intp) - 1) * bins + (r_f_m[1].astype(np.intp) - 1)) * bins + (
        r_f_m[2].astype(np.intp) - 1)
    return text_from_codes(code, labels, index=scores.index)


def segment_profile(table: pd.DataFrame, *, by: str = "rfm_segment", order: Sequence[str] | None = None,
                    include_empty: bool = False, value: str | None = None) -> pd.DataFrame:
    """Size, revenue and margin share and typical behaviour of each segment (or tier, ``by="abc_tier"``).

    Parameters
    ----------
    table
        From :func:`segment_table`: ``by``, ``customer_id``, ``recency_days``, ``frequency``,
        ``monetary`` and optionally ``margin``.

    Returns
    -------
    DataFrame
        Indexed by group code in ``order`` (default: segment or tier order): ``n_customers,
        customer_share, revenue, revenue_share, margin, margin_share, median_recency_days, mean_orders,
        mean_revenue``. Shares are of the totals (NaN margin share without cost data), so each share column
        adds up to 100% of its base: every customer in ``table``, and their revenue over the period of
        ``value``.
    value
        The revenue column: ``monetary`` (all-time net revenue) for segments; for tiers
        (``by="abc_tier"``) by default ``revenue_window``, the period the tiers are set on, so that "A brings
        x% of revenue" speaks of the same days as the tier itself.
    """
    if value is None:
        value = "revenue_window" if by == "abc_tier" and "revenue_window" in table.columns else "monetary"
    require_columns(table, [by, "customer_id", "recency_days", "frequency", value], "segment table")
    table = table.assign(monetary=table[value])
    if order is None:
        order = TIERS if by == "abc_tier" else DEFAULTS["segment_order"]
    margin = table["margin"] if "margin" in table.columns else pd.Series(np.nan, index=table.index)
    frame = table.assign(_margin=margin.astype(float))
    grouped = frame.groupby(by, sort=False)
    prof = pd.DataFrame({
        "n_customers": grouped.size(),
        "revenue": grouped["monetary"].sum(),
        "margin": grouped["_margin"].sum(min_count=1),
        "median_recency_days": grouped["recency_days"].median(),
        "mean_orders": grouped["frequency"].mean(),
        "mean_revenue": grouped["monetary"].mean(),
    })
    extra = [g for g in prof.index if g not in order]
    prof = prof.reindex([*order, *extra])
    prof["n_customers"] = prof["n_customers"].fillna(0).astype("int64")
    if not include_empty:
        prof = prof.loc[prof["n_customers"] > 0]
    total_rev = frame["monetary"].sum()
    total_margin = frame["_margin"].sum(min_count=1)
    prof["customer_share"] = prof["n_customers"] / max(len(frame), 1)
    prof["revenue_share"] = prof["revenue"] / total_rev if total_rev else np.nan
    prof["margin_share"] = prof["margin"] / total_margin if pd.notna(total_margin) and total_margin else np.nan
    prof.index.name = by
    return prof[["n_customers", "customer_share", "revenue", "revenue_share", "margin", "margin_share",
                 "median_recency_days", "mean_orders", "mean_revenue"]]


def top_customers(table: pd.DataFrame, *, by: str = "rfm_segment", n: int = 5,
                  value: str = "monetary", order: Sequence[str] | None = None) -> pd.DataFrame:
    """The ``n`` customers with the highest ``value`` in each group, groups in ``order``."""
    require_columns(table, [by, "customer_id", value], "segment table")
    if order is None:
        order = TIERS if by == "abc_tier" else DEFAULTS["segment_order"]
    rank = {code: i for i, code in enumerate(order)}
    top = (table.sort_values(value, ascending=False, kind="stable").groupby(by, sort=False).head(n))
    key = top[by].map(rank).fillna(len(rank))
    return top.assign(_k=key).sort_values(["_k", value], ascending=[True, False]).drop(columns="_k") \
        .reset_index(drop=True)


__all__ = ["CONTRACT_COLUMNS", "assign_segments", "rfm_scores", "segment_profile", "segment_table",
           "top_customers"]
