"""Lifetime-value params: the ``clv`` section of the params file, its defaults and its checks.

:data:`DEFAULTS` documents every key; :func:`check` runs when the params file loads (and on every
:func:`resolve`), so a bad value stops the run with one message before any notebook starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmlib.core.params import Check, merge_over_defaults

DEFAULTS: dict[str, Any] = {
    # Forecast horizon of expected orders and CLV, in days (one year: the usual CLV planning horizon).
    "horizon_days": 365,
    # Model time unit: "W" weeks (as in Fader, Hardie & Lee 2005) or "D" days. Results do not depend on it
    # beyond optimiser tolerance; it only sets the scale of alpha.
    "time_unit": "W",
    # L2 penalizer of lifetimes' fitters; 0 = plain maximum likelihood as in the papers.
    "penalizer": 0.0,
    # Penalizers tried in turn when a fit does not converge (lifetimes' advice: "try adding a larger
    # penalizer"); the one used is recorded in the model and explained in the report.
    "retry_penalizers": [0.001, 0.01, 0.1],
    # Annual discount rate for the CLV, applied monthly: (1 + rate) ** (-k / 12) for month k. 10% is a
    # placeholder for the firm's cost of capital; set it (Turkish lira rates are far higher).
    "annual_discount_rate": 0.10,
    # Holdout window for the validation in the report: calibrate up to as_of - holdout_days, compare
    # predicted with actual purchases after it (Fader, Hardie & Lee 2005 use 39 + 39 weeks).
    "holdout_days": 180,
    # simulations behind clv_p10 / clv_p90 and the range of the existing customers' total (crmlib/clv/ranges.py)
    "interval_draws": 200,
    # purchase model: auto = the best of BG/NBD, MBG/NBD and Pareto/NBD on the holdout (crmlib/clv/choice.py)
    "model": "auto",
    "pareto_max_rows": 20_000,    # distinct (x, t_x, T) rows above which Pareto/NBD is not fitted (slow)
    "compare_max_customers": 20_000,  # the holdout comparison runs on a random subset of this many customers
    # CLV on "revenue" (default) or "margin": margin uses margin_rate if set, else the data's margin share
    # (sum of margin / sum of revenue) when costs are known.
    "value": "revenue",
    # Fixed margin share (0..1) for value "margin"; null = from the data's cost column.
    "margin_rate": None,
    # Gamma-Gamma assumes spend per purchase independent of purchase frequency; |Pearson r| above this
    # among repeat buyers is called out (Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value", note
    # 025, check the correlation before using the model; 0.3 is the conventional "weak" correlation bound).
    "correlation_threshold": 0.3,
    # Fewer repeat buyers than this: no Gamma-Gamma fit; each customer's own mean purchase value is used.
    "min_repeat_buyers": 20,
    # LTV:CAC below this is called out (the 3:1 rule of thumb, Skok, "SaaS Metrics 2.0", forEntrepreneurs).
    "min_ltv_to_cac": 3.0,
    # Rows of the top-customers table in the report.
    "top_n": 20,
    # Minimum-data rules: below any of them the model is not fitted and the report shows each customer's value
    # to date (the rule-based view) instead of forecasts; 0 turns a rule off. Chosen from
    # benchmarks/bench_thresholds.py against the sample's truth (table in docs/THRESHOLDS.md):
    # ... days from the first purchase to the as-of date: with 30-90 days the model ranks customers' next-year
    # purchases no better than "the next year is like the last days" (Spearman 0.43-0.80 against 0.65-0.79)
    # and over-forecasts the total by 18-30%; from 180 days it ranks better (0.78-0.87) and errs 1-18%
    "min_history_days": 180,
    # ... customers with a purchase: with 30 the total's error swings by +-25% between draws, with 100 it stays
    # within 17%
    "min_customers": 100,
    # ... customers with purchases on two or more days (the purchase model learns from repeat purchases; as
    # for the spend model's min_repeat_buyers, 20: the 30-customer cells above had 19-26)
    "min_repeat_customers": 20,
}


def check(params: Mapping[str, Any]) -> None:
    """Raise :class:`~crmlib.errors.ParamsError` for a ``clv`` value that cannot work (merged section)."""
    c = Check("clv", params, DEFAULTS)
    c.positive("horizon_days", whole=False, unit="days")
    c.positive("holdout_days", whole=False, unit="days")
    c.choice("time_unit", ("W", "D"))
    c.number("penalizer", low=0)
    penalizers = c.get("retry_penalizers")
    if not isinstance(penalizers, (list, tuple)) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in penalizers):
        raise c.fail("retry_penalizers", "a list of numbers >= 0 (tried in turn when a fit does not converge)")
    c.number("annual_discount_rate", low=0, high=10, high_open=True,
             what="a yearly rate in [0, 10) (0.10 = 10%)")
    c.choice("value", ("revenue", "margin"))
    c.choice("model", ("auto", "bgnbd", "mbgnbd", "pareto"))
    c.positive("pareto_max_rows")
    c.positive("compare_max_customers")
    c.share("margin_rate", optional=True, example=0.25)
    c.share("correlation_threshold")
    c.positive("min_repeat_buyers")
    c.number("min_ltv_to_cac", low=0)
    c.positive("top_n")
    for key in ("min_customers", "min_history_days", "min_repeat_customers"):
        c.number(key, low=0, whole=True, what="a whole number >= 0 (0 = no rule)")


def resolve(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``clv`` section with ``params`` merged over :data:`DEFAULTS`, checked."""
    out = merge_over_defaults(DEFAULTS, params, where="clv.")
    check(out)
    return out
