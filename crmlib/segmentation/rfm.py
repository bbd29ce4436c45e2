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

import copy
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlib.data.frames import require_columns
from crmlib.errors import DataError, ParamsError

log = logging.getLogger(__name__)

#: segment codes, best to worst (the migration ranking and the display order)
SEGMENTS: tuple[str, ...] = ("champions", "loyal", "potential_loyalist", "new", "promising", "need_attention",
                             "about_to_sleep", "at_risk", "cant_lose", "hibernating", "lapsed", "lost")
#: segments a customer silent for ``lapsed_days`` or more may be in; any other segment name (loyal,
#: champions, at risk, can't lose) promises a customer who still buys
LAPSED_SEGMENTS: tuple[str, ...] = ("hibernating", "lapsed", "lost")
#: the passive tier: customers lapsed past ``lapsed_days`` (no order in the A/B/C window either)
PASSIVE_TIER = "P"
TIERS: tuple[str, ...] = ("A", "B", "C", "P")

DEFAULTS: dict[str, Any] = {
    # "quantile": mid-rank percentile bins, ties share a score (see rfm_scores); "fixed": the edges below.
    "method": "quantile",
    # score levels; 5 = quintiles (Hughes 1994). The segment rules are written for 1..5; other values are
    # rescaled to 1..5 before the rules are applied.
    "bins": 5,
    # How recency is scored: "fixed" = the day limits of recency_edges_days (the default: a day count means
    # the same thing in every run and every company); "quantile" = quintiles of the *active* customers only
    # (those with an order within lapsed_days), lapsed customers all score 1. Null = the same as method.
    "recency_method": "fixed",
    # Customers without a purchase for this many days or more are lapsed: R = 1, segment "lapsed" (were
    # valuable), "hibernating" or "lost" only, tier P (passive). Null = churn.lapsed_days (180 days by
    # default: the wholesale 30/60/90/180-day rule, where 180+ days without an order is a lapsed account), so
    # that every page of a run draws the same line.
    "lapsed_days": None,
    # method "fixed": upper bounds (inclusive) of each score band, bins-1 increasing numbers.
    # Recency in days, recent = 5: <=30, <=60, <=90, <=180 days, older (the wholesale 30/60/90/180-day rule:
    # a wholesaler's accounts are active within a month, warm within two, cooling within a quarter, at risk
    # within six months and lapsed after). Used by recency_method "fixed" whatever method says.
    "recency_edges_days": [30, 60, 90, 180],
    # Purchase orders, <=1, <=2, <=4, <=8, more: doubling steps (a convention; tune to your order cycle).
    "frequency_edges": [1, 2, 4, 8],
    # Net revenue in your currency; no sensible default across businesses: required with method "fixed".
    "monetary_edges": None,
    # Named segments: ordered rules, first match wins. r = [min, max] of the R score, fm = [min, max] of
    # (F + M) / 2, both inclusive, on the 1..5 scale. After Putler (2020)'s 11 segments, made a partition of
    # the 5 x 9 grid of (R, FM) cells (FM moves in halves); every cell must be covered. R = 1 is the lapsed
    # row (no order for lapsed_days), so the "can't lose" and "at risk" customers are the ones silent for
    # 3-6 months (R = 2), still reachable; the valuable lapsed ones are "lapsed" (a win-back list's job).
    "segment_rules": [
        {"segment": "champions", "r": [4, 5], "fm": [4, 5]},
        {"segment": "loyal", "r": [3, 5], "fm": [3, 5]},
        {"segment": "potential_loyalist", "r": [4, 5], "fm": [2, 2.5]},
        {"segment": "new", "r": [5, 5], "fm": [1, 1.5]},
        {"segment": "promising", "r": [4, 4], "fm": [1, 1.5]},
        {"segment": "need_attention", "r": [3, 3], "fm": [2, 2.5]},
        {"segment": "about_to_sleep", "r": [3, 3], "fm": [1, 1.5]},
        {"segment": "cant_lose", "r": [2, 2], "fm": [4, 5]},
        {"segment": "at_risk", "r": [2, 2], "fm": [3, 3.5]},
        {"segment": "lapsed", "r": [1, 1], "fm": [3, 5]},
        {"segment": "lost", "r": [1, 1], "fm": [1, 1.5]},
        {"segment": "hibernating", "r": [1, 2], "fm": [1, 2.5]},
    ],
    # segment codes best to worst: a customer whose segment comes later than last run's "moved down".
    "segment_order": list(SEGMENTS),
    # Wholesale A/B/C tiers (wholesale practice: 30/60/90-day tiers; volume bars after the Pareto 80/20 rule).
    "abc": {
        "window_days": 90,              # orders and volume are measured over the last 90 days
        "a_max_recency_days": 30,       # A: ordered within 30 days ...
        "a_min_orders_per_month": 3.0,  # ... at least 3 purchase orders a month on average over the window ...
        "a_top_volume_share": 0.2,      # ... and among the top 20% by window revenue of customers buying in it
        "b_max_recency_days": 60,       # B: ordered within 60 days, >= 1 order a month, top 50% by volume
        "b_min_orders_per_month": 1.0,
        "b_top_volume_share": 0.5,
        "c_min_recency_days": 90,       # C: no order for 90+ days, or below B's bars on both frequency and volume
    },
    # Value flags
    "value": {
        "high_value_share": 0.2,        # high value = top 20% by margin (revenue where cost is unknown); Pareto
        "tenure_edges_days": [90, 365, 730],  # tenure bands: < 3 months, < 1 year, < 2 years, 2 years +
        "referrer_min_referrals": 1,    # referrer = brought at least 1 customer who ordered
        "ticket_window_days": 365,      # complaints counted over the last year
        "effortless_max_tickets": 1,    # effortless = high value with at most 1 ticket in that window
    },
    "top_customers": 5,                 # customers shown per segment in the report
    "contact_segments": None,           # segment codes in the contact list; null = every segment
}


# -- helpers ----------------------------------------------------------------------------------------------
#: the lapsed limit when neither segmentation.lapsed_days nor churn.lapsed_days is given (the wholesale
#: 30/60/90/180-day rule: no order for 180 days or more = a lapsed account)
LAPSED_DAYS = 180


def lapsed_limit(params: Mapping[str, Any] | None = None) -> float:
    """The run's one lapsed limit in days: ``segmentation.lapsed_days``, else ``churn.lapsed_days``, else 180.

    Every page (segments, churn levels, loyalty offers, selling lists) calls a customer with no purchase for
    this many days or more lapsed.
    """
    params = params or {}
    for section in ("segmentation", "churn"):
        value = (params.get(section) or {}).get("lapsed_days")
        if value is not None:
            return float(value)
    return float(LAPSED_DAYS)


def is_lapsed(recency_days: pd.Series, params: Mapping[str, Any] | None = None) -> pd.Series:
    """Whether each customer is lapsed (``recency_days`` >= :func:`lapsed_limit`); missing recency = lapsed."""
    return ~(recency_days.astype(float) < lapsed_limit(params))


def resolve_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return ``params`` (the ``segmentation`` section, or a whole params dict) merged over ``DEFAULTS``."""
    params = dict(params or {})
    if "segmentation" in params and isinstance(params["segmentation"], Mapping):
        params = dict(params["segmentation"])
    out = copy.deepcopy(DEFAULTS)
    for key, value in params.items():
        if isinstance(out.get(key), dict) and isinstance(value, Mapping):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def group_params(params: Mapping[str, Any] | None, group: str) -> dict[str, Any]:
    """The ``abc`` or ``value`` group: from a section/whole params dict, or the group's own keys."""
    if params and set(params) <= set(DEFAULTS[group]):
        p = {**DEFAULTS[group], **params}
    else:
        p = resolve_params(params)[group]
    unknown = sorted(set(p) - set(DEFAULTS[group]))
    if unknown:
        raise ParamsError(f"Unknown params key(s) 'segmentation.{group}.{unknown[0]}'"
                          f"{' and more' if len(unknown) > 1 else ''}. Known keys: {', '.join(DEFAULTS[group])}.")
    return p


def _examples(ids: pd.Series) -> str:
    return ", ".join(map(str, ids.head(5)))


def percentile(values: pd.Series) -> pd.Series:
    """Mid-rank percentile ``(rank - 0.5) / n`` of each value, ties averaged (Hazen plotting position).

    Identical values get the same percentile; a single value gets 0.5; n distinct values get
    0.5/n, 1.5/n, ..., (n - 0.5)/n.
    """
    n = int(values.notna().sum())
    return (values.rank(method="average") - 0.5) / max(n, 1)


def _quantile_score(values: pd.Series, bins: int) -> pd.Series:
    """Score 1..bins = floor(bins * percentile) + 1, in integer arithmetic (no float edge cases)."""
    n = len(values)
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
def _rule_bounds(rule: Any, i: int) -> tuple[str, float, float, float, float]:
    try:
        code = str(rule["segment"])
        r_lo, r_hi = (float(x) for x in rule["r"])
        fm_lo, fm_hi = (float(x) for x in rule["fm"])
    except (KeyError, TypeError, ValueError):
        raise ParamsError(f"Params key 'segmentation.segment_rules' item {i + 1} must look like "
                          f"{{segment: loyal, r: [3, 5], fm: [3, 5]}}, got {rule!r}.") from None
    if r_lo > r_hi or fm_lo > fm_hi:
        raise ParamsError(f"Params key 'segmentation.segment_rules' item {i + 1} ({code}) has a range with "
                          f"min > max: r {[r_lo, r_hi]}, fm {[fm_lo, fm_hi]}. Swap the bounds.")
    return code, r_lo, r_hi, fm_lo, fm_hi


def check_rules(rules: Sequence[Mapping[str, Any]], *, order: Sequence[str] | None = None) -> None:
    """Raise :class:`ParamsError` unless the rules cover every (R, FM) cell of the 1..5 grid.

    Every segment a rule names must also appear in ``order`` (the best-to-worst ranking) when given.
    """
    bounds = [_rule_bounds(rule, i) for i, rule in enumerate(rules)]
    uncovered = [(r, fm) for r in range(1, 6) for fm in np.arange(1, 5.5, 0.5)
                 if not any(lo <= r <= hi and flo <= fm <= fhi for _, lo, hi, flo, fhi in bounds)]
    if uncovered:
        cells = ", ".join(f"R={r} FM={fm:g}" for r, fm in uncovered[:5])
        raise ParamsError(f"Params key 'segmentation.segment_rules' leaves {len(uncovered)} (R, FM) cell(s) "
                          f"without a segment, e.g. {cells}. Add a rule covering them.")
    if order is not None:
        unknown = sorted({code for code, *_ in bounds} - set(order))
        if unknown:
            raise ParamsError(f"Segment(s) {', '.join(unknown)} of 'segmentation.segment_rules' are not in "
                              "'segmentation.segment_order'. Add them there (best to worst).")


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
    scale = 4.0 / (bins - 1)
    r = np.floor(1 + (scores["r_score"].to_numpy(float) - 1) * scale + 0.5)
    fm_raw = (scores["f_score"].to_numpy(float) + scores["m_score"].to_numpy(float)) / 2
    fm = np.floor((1 + (fm_raw - 1) * scale) * 2 + 0.5) / 2
    out = np.full(len(scores), None, dtype=object)
    for i, rule in enumerate(rules):
        code, lo, hi, flo, fhi = _rule_bounds(rule, i)
        hit = pd.isna(out) & (r >= lo) & (r <= hi) & (fm >= flo) & (fm <= fhi)
        out[hit] = code
    if lapsed_days is not None:
        require_columns(scores, ["recency_days"], "scores")
        lapsed = (scores["recency_days"].to_numpy(float) >= float(lapsed_days)) & ~np.isin(
            out.astype(str), LAPSED_SEGMENTS)
        out[lapsed] = np.where(fm[lapsed] >= 3, "lapsed", "lost")
    return pd.Series(out, index=scores.index, name="rfm_segment", dtype=object)


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
    if hasattr(data, "customer_summary"):
        summary, orders, as_of = data.customer_summary, data.orders, data.as_of
        params = data.params.get("segmentation", {}) if params is None else params
        tables = data.tables if tables is None else tables
    else:
        summary = data
    if orders is None or as_of is None:
        raise ParamsError("segment_table needs orders and as_of with a customer_summary frame "
                          "(or pass the run's Context).")
    from crmlib.segmentation.tiers import abc_table, value_flags

    p = resolve_params(params)
    if p["lapsed_days"] is None:
        p["lapsed_days"] = lapsed_limit(data.params if hasattr(data, "params") else None)
    check_rules(p["segment_rules"], order=p["segment_order"])
    scores = rfm_scores(summary, bins=p["bins"], method=p["method"],
                        edges={k: p[k] for k in ("recency_edges_days", "frequency_edges", "monetary_edges")},
                        recency_method=p["recency_method"], lapsed_days=p["lapsed_days"])
    scores["rfm_segment"] = assign_segments(scores, rules=p["segment_rules"], bins=p["bins"],
                                            lapsed_days=p["lapsed_days"])
    abc = abc_table(summary, orders, as_of=as_of, params=p, lapsed_days=p["lapsed_days"])
    scores["abc_tier"] = abc["abc_tier"]
    scores["fm_score"] = (scores["f_score"] + scores["m_score"]) / 2
    scores["rfm_code"] = (scores["r_score"].astype(str) + scores["f_score"].astype(str)
                          + scores["m_score"].astype(str))
    extra = abc.drop(columns=["customer_id", "abc_tier"])
    flags = value_flags(summary, tables=tables, as_of=as_of, params=p).drop(columns=["customer_id"])
    out = pd.concat([scores, extra, flags], axis=1)
    out[["monetary", "revenue_window", "margin"]] = out[["monetary", "revenue_window", "margin"]].round(2)
    out[["volume_pct", "value_pct", "margin_rate"]] = out[["volume_pct", "value_pct", "margin_rate"]].round(4)
    return out.sort_values("customer_id", kind="stable").reset_index(drop=True)


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


__all__ = [
    "DEFAULTS", "LAPSED_DAYS", "LAPSED_SEGMENTS", "PASSIVE_TIER", "SEGMENTS", "TIERS", "CONTRACT_COLUMNS",
    "assign_segments", "is_lapsed", "lapsed_limit", "check_rules", "group_params",
    "percentile", "require_columns", "resolve_params", "rfm_scores", "segment_profile", "segment_table",
    "top_customers", "check_params",
]


def check_params(section: Mapping[str, Any]) -> None:
    """Raise :class:`ParamsError` for segmentation values that cannot work (run when params are loaded)."""
    p = resolve_params(section)
    check_rules(p["segment_rules"], order=p["segment_order"])
    probe = pd.DataFrame({"customer_id": ["x"], "recency_days": [1.0], "n_orders": [1], "revenue": [1.0]})
    rfm_scores(probe, bins=p["bins"], method=p["method"],
               edges={k: p[k] for k in ("recency_edges_days", "frequency_edges", "monetary_edges")})
