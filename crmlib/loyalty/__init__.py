"""Loyalty: loyalty levers: volume-discount tiers, payment terms, priority stock, special days, referral rewards.

Submodules: plots, programme.
"""

from crmlib.loyalty import plots, programme
from crmlib.loyalty.programme import (
    DEFAULTS,
    assign_tier,
    check_params,
    discount_tiers,
    late_payments,
    logger,
    near_next_tier,
    next_occurrence,
    payment_terms,
    priority_stock,
    product_launches,
    referral_rewards,
    special_days,
    tier_summary,
)

__all__ = [
    "plots",
    "programme",
    "DEFAULTS",
    "assign_tier",
    "check_params",
    "discount_tiers",
    "late_payments",
    "logger",
    "near_next_tier",
    "next_occurrence",
    "payment_terms",
    "priority_stock",
    "product_launches",
    "referral_rewards",
    "special_days",
    "tier_summary",
]
