"""Loyalty params: the ``loyalty`` section of the params file, its defaults and its checks.

:data:`DEFAULTS` documents every key; :func:`check` runs when the params file loads, so a bad value stops
the run with one message before any notebook starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmlib.core.params import Check, merge_over_defaults
from crmlib.errors import ParamsError

DEFAULTS: dict = {
    # Volume-discount tiers on average monthly spend (net revenue, currency units). A tier starts AT its
    # threshold: exactly 10,000 earns 3 %, exactly 25,000 earns 5 % ("10.000 TL ve üzeri"), the usual
    # wording of Turkish wholesale price lists. The discount applies to the whole monthly spend (all-units
    # volume discount, Dolan, "Quantity discounts", Management Science 1987). null = proposed from the
    # company's own spend (tier_spend_quantiles below), ARTICLE_THRESHOLDS (10,000 / 25,000, the seed
    # article's example) when too few customers buy; a list = these thresholds as given.
    "tier_thresholds": None,
    # discount of each tier, one more than the thresholds: below the first threshold, then each tier
    "tier_discounts": [0.0, 0.03, 0.05],
    # months of history the tier is computed on (average monthly spend over the last N calendar months
    # ending at as_of; customers with a shorter history are averaged over N months too)
    "tier_months": 3,
    # "near the next tier": the gap to the next threshold is at most this share of that threshold
    "near_tier_share": 0.2,
    # payment terms (days) for loyal customers and for everyone else (new or not yet loyal): 30 days is the
    # default term of Turkish commercial law for B2B sales (TTK art. 1530), 45 days the loyalty extension
    "loyal_terms_days": 45,
    "standard_terms_days": 30,
    # loyal = tenure >= N months AND >= N purchase orders AND no late payment in the lookback
    "loyal_min_tenure_months": 12,
    "loyal_min_orders": 6,
    "loyal_max_late_payments": 0,
    # a payment is late when paid (or still unpaid at as_of) more than this many days after its due date
    "late_grace_days": 0,
    "late_lookback_months": 12,
    # priority stock: products first sold within the last N days are "new"; customers who bought a
    # product within its first M days on sale are its early buyers
    "new_product_days": 90,
    "early_buyer_days": 30,
    # the first N days of the order history are left-censored: products already on sale then are the
    # existing range, not launches, and customers who first ordered then may be older customers, so their
    # first-order anniversary is unknown
    "burn_in_days": 60,
    "priority_top_n": 50,
    # special days (birthdays, first-order anniversaries) in the N days starting at as_of
    "special_days_ahead": 14,
    # Referral reward per referred customer who placed at least one purchase order: a fixed amount in
    # currency units, or null to scale it to the business: referral_reward_share of the referred customer's
    # first purchase order (5% = the top volume-discount rate above: a referral costs no more than the
    # discount a key account gets on the same order; a flat 20 TL against a 13,000 TL first order is no
    # incentive at all). The reward is payable once the referred customer has paid an invoice.
    "referral_reward": None,
    "referral_reward_share": 0.05,
    # Payment terms are an offer to customers who are buying now and pay: the last purchase order within
    # terms_max_recency_days (90: the wholesale 30/60/90/180-day rule, beyond a quarter an account is
    # cooling off and longer terms would only extend credit to an account that may have left) and at least
    # terms_min_invoices invoices due in the late-payment lookback ("no late payment" means nothing without
    # invoices), all paid in time.
    "terms_max_recency_days": 90,
    "terms_min_invoices": 3,
    # Volume-discount tiers proposed from the company's own spend: the thresholds at these quantiles of the
    # average monthly spend of the customers buying in the window (top 20% and top 5%: Pareto's key
    # accounts and the very top), rounded to two significant digits; with fewer than tier_min_customers
    # buying customers the article's 10,000 / 25,000 are kept.
    "tier_spend_quantiles": [0.80, 0.95],
    "tier_min_customers": 30,
}


#: the seed article's example thresholds: the fallback when the spend distribution is too thin
ARTICLE_THRESHOLDS: list[float] = [10000.0, 25000.0]


def check_tiers(thresholds: list[float], discounts: list[float]) -> None:
    """Raise :class:`ParamsError` unless the discounts fit the thresholds (one more, each in [0, 1)) and the
    thresholds are positive and increasing."""
    if len(discounts) != len(thresholds) + 1:
        raise ParamsError(
            f"loyalty.tier_discounts needs one entry more than loyalty.tier_thresholds "
            f"(got {len(discounts)} discounts for {len(thresholds)} thresholds); add the discount below the "
            "first threshold (usually 0)."
        )
    if any(b <= a for a, b in zip(thresholds[:-1], thresholds[1:], strict=True)) or any(t <= 0 for t in thresholds):
        raise ParamsError(
            f"loyalty.tier_thresholds must be positive and increasing, got {list(thresholds)}; sort them."
        )
    if any(not 0 <= d < 1 for d in discounts):
        raise ParamsError(f"loyalty.tier_discounts must be fractions in [0, 1), got {list(discounts)}; write 3 % as 0.03.")


def check(params: Mapping[str, Any]) -> None:
    """Raise :class:`ParamsError` for a ``loyalty`` value that cannot work (merged section)."""
    c = Check("loyalty", params, DEFAULTS)
    c.increasing("tier_spend_quantiles", low=0, what="increasing shares in (0, 1) (0.8 = the top 20%)")
    if not all(0 < q < 1 for q in params["tier_spend_quantiles"]):
        raise c.fail("tier_spend_quantiles", "increasing shares in (0, 1) (0.8 = the top 20%)")
    if params["tier_thresholds"] is not None:
        c.increasing("tier_thresholds", what="null (proposed from your spend) or increasing amounts",
                     example=ARTICLE_THRESHOLDS)
    discounts = c.get("tier_discounts")
    if not isinstance(discounts, (list, tuple)) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in discounts):
        raise c.fail("tier_discounts", "a list of fractions in [0, 1) (0.03 = 3%)")
    thresholds = params["tier_thresholds"]
    if thresholds is None:
        thresholds = [1.0 + i for i in range(len(params["tier_spend_quantiles"]))]
        if len(discounts) != len(thresholds) + 1:
            raise ParamsError(f"loyalty.tier_discounts needs one entry more than loyalty.tier_spend_quantiles "
                              f"(got {len(discounts)} discounts for {len(thresholds)} quantiles); "
                              "add the discount below the first threshold (usually 0).")
    check_tiers(list(thresholds), list(discounts))
    c.positive("tier_months")
    c.share("near_tier_share")
    c.share("referral_reward_share")
    c.number("referral_reward", low=0, optional=True, example=20.0)
    for key in ("loyal_terms_days", "standard_terms_days", "late_lookback_months", "new_product_days",
                "early_buyer_days", "priority_top_n", "special_days_ahead", "loyal_min_orders",
                "terms_max_recency_days", "tier_min_customers"):
        c.positive(key)
    for key in ("loyal_min_tenure_months", "loyal_max_late_payments", "late_grace_days", "burn_in_days",
                "terms_min_invoices"):
        c.number(key, low=0, whole=True)


def resolve(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``loyalty`` section with ``params`` merged over :data:`DEFAULTS`, checked."""
    out = merge_over_defaults(DEFAULTS, params, where="loyalty.")
    check(out)
    return out
