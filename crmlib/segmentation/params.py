"""Segmentation params: the ``segmentation`` section of the params file, its defaults and its checks.

:data:`DEFAULTS` documents every key; :func:`check` runs when the params file loads (and on every
:func:`resolve_params`), so a bad value stops the run with one message before any notebook starts. The
run's one lapsed limit (:func:`lapsed_limit`) is read here too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlib.core.params import Check, merge_over_defaults
from crmlib.errors import ParamsError

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
    # Fewer days of order history than this (first order to the as-of date) and the page's summary opens with
    # a caution: every customer who bought in the data looks recent (the recency bands run to 180 days), so
    # the segments say more about the export's start than about the customers. The page is still shown.
    "min_history_days": 180,
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
    """Return ``params`` (the ``segmentation`` section, or a whole params dict) merged over ``DEFAULTS``,
    checked."""
    params = dict(params or {})
    if "segmentation" in params and isinstance(params["segmentation"], Mapping):
        params = dict(params["segmentation"])
    out = merge_over_defaults(DEFAULTS, params, where="segmentation.")
    check(out)
    return out


def group_params(params: Mapping[str, Any] | None, group: str) -> dict[str, Any]:
    """The ``abc`` or ``value`` group: from a section/whole params dict, or the group's own keys."""
    if params and set(params) <= set(DEFAULTS[group]):
        out = merge_over_defaults(DEFAULTS[group], params, where=f"segmentation.{group}.")
        _check_group(Check("segmentation", {group: out}, DEFAULTS), group)
        return out
    return resolve_params(params)[group]


def rule_bounds(rule: Any, i: int) -> tuple[str, float, float, float, float]:
    """``(code, r_min, r_max, fm_min, fm_max)`` of rule number ``i`` (0-based), or a ParamsError."""
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
    bounds = [rule_bounds(rule, i) for i, rule in enumerate(rules)]
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


def _check_group(c: Check, group: str) -> None:
    if group == "abc":
        for key in DEFAULTS["abc"]:
            c.number(f"abc.{key}", low=0, what="a number >= 0")
        c.number("abc.window_days", low=0, low_open=True, what="a number of days > 0")
        return
    c.share("value.high_value_share")
    c.increasing("value.tenure_edges_days", low=0, what="increasing days >= 0 (upper bounds of the tenure bands)")
    c.positive("value.referrer_min_referrals")
    c.positive("value.ticket_window_days")
    c.number("value.effortless_max_tickets", low=0, whole=True)


def check(params: Mapping[str, Any]) -> None:
    """Raise :class:`ParamsError` for a ``segmentation`` value that cannot work (merged section)."""
    c = Check("segmentation", params, DEFAULTS)
    c.choice("method", ("quantile", "fixed"))
    if params["recency_method"] is not None:
        c.choice("recency_method", ("quantile", "fixed"))
    c.number("lapsed_days", low=0, low_open=True, optional=True, what="a positive number of days or null",
             example=180)
    c.number("min_history_days", low=0, what="a number of days >= 0", example=180)
    c.number("bins", low=2, high=10, whole=True, what="a whole number from 2 to 10")
    bins = int(params["bins"])
    recency_method = params["recency_method"] or params["method"]
    for key in ("recency_edges_days", "frequency_edges", "monetary_edges"):
        needed = recency_method if key == "recency_edges_days" else params["method"]
        if needed == "fixed" and params[key] is None:
            which = "recency_method" if key == "recency_edges_days" else "method"
            raise ParamsError(f"Params key 'segmentation.{key}' is required with {which}: fixed (upper bounds "
                              f"of scores 1..{bins - 1}, e.g. in your currency for monetary_edges). For "
                              f"example: segmentation: {{{key}: [1000, 5000, 20000, 50000]}}.")
        c.increasing(key, length=bins - 1, optional=True,
                     what=f"{bins - 1} increasing numbers for bins = {bins} (or null with method: quantile)",
                     example=[1000, 5000, 20000, 50000] if key == "monetary_edges" else None)
    order = params["segment_order"]
    if not isinstance(order, (list, tuple)) or not order or len(set(map(str, order))) != len(order):
        raise c.fail("segment_order", "a list of distinct segment codes, best to worst")
    if not isinstance(params["segment_rules"], (list, tuple)) or not params["segment_rules"]:
        raise c.fail("segment_rules", "a list of rules like {segment: loyal, r: [3, 5], fm: [3, 5]}",
                     example=DEFAULTS["segment_rules"][:1])
    check_rules(params["segment_rules"], order=order)
    _check_group(c, "abc")
    _check_group(c, "value")
    c.positive("top_customers")
    chosen = params["contact_segments"]
    if chosen is not None and (not isinstance(chosen, (list, tuple)) or any(s not in order for s in chosen)):
        raise c.fail("contact_segments", f"null (every segment) or a list of codes among {', '.join(map(str, order))}",
                     example=["at_risk", "cant_lose"])
