"""Churn early-warning params: the ``churn`` section of the params file, its defaults and its checks.

:data:`DEFAULTS` documents every key; :func:`check` runs when the params file loads (and on every
:func:`resolve`), so a bad value stops the run with one message before any notebook starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmlib.core.params import Check, merge_over_defaults

DEFAULTS: dict[str, Any] = {
    # horizon of the label, of BG/NBD expected orders and of the value at stake; 90 days is the usual
    # wholesale review cycle (the 30/60/90-day receivables and activity tiers)
    "horizon_days": 90,
    # the classic weekly list: no order for this many days (wholesale practice's 60-day tier)
    "no_order_days": 60,
    # overdue against own rhythm: own gaps needed, else fall back to pooled / population gaps
    "min_gaps": 2,
    "gap_prior_weight": 3,        # pseudo-gaps of the pooled log-gap variance (shrinkage, BDA3 sec. 3.3)
    "default_gap_days": 30,       # typical gap when no customer has two gaps yet (monthly reorder)
    "overdue_ratio": 2.0,         # fires when the wait is at least twice the usual gap ...
    "overdue_prob": 0.9,          # ... and longer than 90% of the customer's usual gaps
    # falling order frequency: recent window against the window before (Buckinx & Van den Poel 2005)
    "frequency_window_days": 90,
    "frequency_min_previous": 2,  # at least two orders in the earlier window
    "frequency_drop": 0.5,        # fires at a drop of 50% or more
    # falling order value: median of the last orders against the median of the earlier ones
    "aov_recent_orders": 3,
    "aov_min_previous_orders": 3,
    "aov_drop": 0.3,              # fires at a drop of 30% or more
    # late payments (payments table): last invoices due within the window
    "payments_window_days": 180,
    "late_recent_invoices": 5,
    "late_grace_days": 0,         # days after the due date still counted as on time
    "late_min_invoices": 2,       # fires with at least two late invoices ...
    "late_share": 0.4,            # ... making at least 40% of the recent ones
    # unanswered outreach (contacts table)
    "contacts_window_days": 90,
    "unanswered_min": 2,          # fires on two or more unanswered contacts and none answered
    # complaints (tickets table)
    "tickets_window_days": 90,
    "tickets_open_max_age_days": 365,  # older open tickets are treated as stale records
    "complaints_min": 1,          # fires on a recent complaint or any open one
    # BG/NBD expected orders over the horizon (Fader, Hardie & Lee 2005), from the CLV module
    "expected_orders_min": 1.0,   # fires when fewer than one order is expected over the horizon
    # value at stake: the customer's purchases over the lookback, scaled to the horizon, times the risk
    "value_lookback_days": 365,
    # lapsed: no order for this long (six months, the usual "lapsed customer" cut in B2B reactivation
    # programmes); lapsed customers leave the weekly call list (a reactivation campaign's job) and the
    # "active" backtest population
    "lapsed_days": 180,
    # the learned score (logistic regression, out of time) and its fallback
    "min_train_customers": 200,   # fewer customers in the training snapshot → points score
    "min_train_class": 20,        # fewer lost or kept customers → points score
    "regularization_c": 1.0,      # inverse L2 strength of the logistic regression (scikit-learn's default)
    "weights": {                  # points score (fallback): the risk each firing signal means on its own,
        # combined as 1 - prod(1 - w x); no_order is graded, x = 1 - exp(-days / no_order_days). Judgement
        # defaults: overdue alone is "high", 60 days without an order "high", both "critical"; tune them
        "overdue": 0.6, "frequency_drop": 0.3, "aov_drop": 0.15, "late_payments": 0.2,
        "unanswered_outreach": 0.2, "complaints": 0.25, "no_order": 1.0, "low_expected_orders": 0.4,
    },
    # risk levels: lower bounds of the score (a probability of no order over the horizon)
    "levels": {"medium": 0.3, "high": 0.5, "critical": 0.75},
    "n_reasons": 3,               # reasons shown per customer
    "list_levels": ["high", "critical"],  # levels that enter the weekly list
    "list_size": 50,              # customers on the weekly list
    # the team's capacity: calls it can make in a week; the weekly list is cut there (null = list_size).
    # Control-group customers count against it too (they take a list place without a call).
    "calls_per_week": None,
    # per-customer contact-frequency cap: a customer reached (contacts table, any channel) within this many
    # days is not put on this week's list again (two weeks: one call per fortnightly cycle at most; a
    # judgement default, set your own cadence); they come back the week after
    "min_days_between_calls": 14,
    # a customer on this many consecutive weekly lists without ordering leaves the call list for the
    # win-back campaign list (a team that made its calls gets new names; four weeks = one monthly cycle)
    "max_weeks_on_list": 4,
    # a random share of each week's newly listed customers is not contacted (a control group), so that
    # win-back of called customers can be told apart from customers who would have come back anyway
    # (holdout groups as in Optimove's campaign measurement); reproducible by the seed
    "control_share": 0.10,
    "control_seed": 0,
    # lapsed products: a product bought on at least this many days (two gaps make a rhythm) and not bought
    # for more than `ratio` times its usual gap, by a customer who still orders (crmlib/churn/products.py)
    "lapsed_product_min_days": 3,
    "lapsed_product_ratio": 2.0,
    "lapsed_product_min_gap_days": 7,  # weekly or slower: shorter usual gaps are bursts, not a rhythm
    "call_value_quantile": 0.8,   # customers above this quantile of value (among buyers of the lookback) get a call
    "regular_min_orders": 4,      # "once regular": at least this many purchase days
    "backtest_thresholds": [0.1, 0.2],  # precision in the top 10% and 20%
}

#: risk levels, lowest first; ``DEFAULTS["levels"]`` gives the lower bounds of the three upper ones
LEVELS: tuple[str, ...] = ("low", "medium", "high", "critical")
#: the level of customers with no order for ``lapsed_days`` or more: beyond early warning, the same word
#: ("lapsed") as the segments' and every other page's
LAPSED_LEVEL = "lapsed"

_WHOLE_DAYS = ("horizon_days", "no_order_days", "default_gap_days", "frequency_window_days", "payments_window_days",
               "contacts_window_days", "tickets_window_days", "tickets_open_max_age_days", "value_lookback_days",
               "lapsed_days")
_AT_LEAST_ONE = ("min_gaps", "frequency_min_previous", "aov_recent_orders", "aov_min_previous_orders",
                 "late_recent_invoices", "late_min_invoices", "unanswered_min", "complaints_min",
                 "min_train_customers", "min_train_class", "n_reasons", "list_size", "regular_min_orders",
                 "max_weeks_on_list")
_SHARES = ("overdue_prob", "frequency_drop", "aov_drop", "late_share")


def check(params: Mapping[str, Any]) -> None:
    """Raise :class:`~crmlib.errors.ParamsError` for a ``churn`` value that cannot work (merged section)."""
    c = Check("churn", params, DEFAULTS)
    for key in _WHOLE_DAYS:
        c.positive(key, unit="days")
    for key in _AT_LEAST_ONE:
        c.positive(key)
    for key in _SHARES:
        c.share(key)
    c.number("gap_prior_weight", low=0)
    c.number("overdue_ratio", low=0, low_open=True)
    c.number("late_grace_days", low=0, whole=True)
    c.number("expected_orders_min", low=0)
    c.number("regularization_c", low=0, low_open=True)
    c.number("call_value_quantile", low=0, high=1)
    c.number("calls_per_week", low=1, whole=True, optional=True, what="a whole number >= 1 or null (= list_size)",
             example=40)
    c.number("min_days_between_calls", low=0, whole=True)
    c.number("control_share", low=0, high=1, high_open=True, what="a share in [0, 1) (0 = no control group)")
    c.number("control_seed", whole=True)
    c.positive("lapsed_product_min_days")
    c.positive("lapsed_product_min_gap_days", whole=False, unit="days")
    c.number("lapsed_product_ratio", low=0, low_open=True)
    for signal in DEFAULTS["weights"]:
        c.number(f"weights.{signal}", low=0, high=1)
    levels = c.get("levels")
    bounds = [levels.get(k) for k in ("medium", "high", "critical")] if isinstance(levels, Mapping) else []
    numeric = len(bounds) == 3 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bounds)
    if not numeric or not 0 < bounds[0] <= bounds[1] <= bounds[2] <= 1:
        raise c.fail("levels", "three lower bounds of the risk score in the order medium <= high <= critical, "
                     "each in (0, 1]")
    chosen = c.get("list_levels")
    known = (*LEVELS, LAPSED_LEVEL)
    if not isinstance(chosen, (list, tuple)) or not chosen or any(lv not in known for lv in chosen):
        raise c.fail("list_levels", f"a non-empty list of risk levels among {', '.join(known)}")
    thresholds = c.get("backtest_thresholds")
    if not isinstance(thresholds, (list, tuple)) or not thresholds or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 1 for v in thresholds):
        raise c.fail("backtest_thresholds", "a non-empty list of shares in (0, 1] (0.1 = the top 10%)")


def resolve(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``churn`` section with ``params`` merged over :data:`DEFAULTS`, checked."""
    out = merge_over_defaults(DEFAULTS, params, where="churn.")
    check(out)
    return out
