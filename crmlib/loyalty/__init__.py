"""Loyalty levers: volume-discount tiers, payment terms, priority stock, special days, referral rewards.

Submodules: offers, params, plots, programme, report
(what the notebook shows: :func:`report.analyse`). Parameters: ``params.DEFAULTS`` (documented) and
``params.check``; the practice's registry entry is in :mod:`crmlib.core.registry`.
"""

from crmlib.loyalty import offers, params, plots, programme, report
from crmlib.loyalty.offers import (
    contact_person,
    discount_economics,
    proposed_thresholds,
    tier_thresholds,
    without_lapsed,
)
from crmlib.loyalty.params import ARTICLE_THRESHOLDS, DEFAULTS, check
from crmlib.loyalty.programme import (
    assign_tier,
    discount_tiers,
    invoices_due,
    late_payments,
    near_next_tier,
    next_occurrence,
    payment_terms,
    priority_stock,
    product_launches,
    referral_rewards,
    special_days,
    tier_summary,
)
from crmlib.loyalty.report import UNITS, LoyaltyAnalysis, analyse, special_day_calls, tier_label, tier_names

__all__ = [
    "report",
    "UNITS",
    "LoyaltyAnalysis",
    "analyse",
    "offers",
    "params",
    "plots",
    "programme",
    "ARTICLE_THRESHOLDS",
    "DEFAULTS",
    "contact_person",
    "discount_economics",
    "invoices_due",
    "proposed_thresholds",
    "special_day_calls",
    "tier_label",
    "tier_names",
    "tier_thresholds",
    "without_lapsed",
    "assign_tier",
    "check",
    "discount_tiers",
    "late_payments",
    "near_next_tier",
    "next_occurrence",
    "payment_terms",
    "priority_stock",
    "product_launches",
    "referral_rewards",
    "special_days",
    "tier_summary",
]
