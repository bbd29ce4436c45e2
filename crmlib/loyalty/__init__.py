"""Loyalty levers: volume-discount tiers, payment terms, priority stock, special days, referral rewards.

Submodules: offers, params, plots, programme, report
(what the notebook shows: :func:`report.analyse`). Parameters: ``params.DEFAULTS`` (documented) and
``params.check``; the practice's registry entry is in :mod:`crmlib.core.registry`.
"""

from crmlib.lazy import attach

#: the public names by the submodule that defines them; a submodule is imported when one of its names is
#: first used (:mod:`crmlib.lazy`), so that reading ``params`` or running a computation does not import
#: the report and plotting modules
EXPORTS: dict[str, tuple[str, ...]] = {
    "offers": (
        "contact_person", "discount_economics", "proposed_thresholds", "tier_thresholds", "without_lapsed",
    ),
    "params": ("ARTICLE_THRESHOLDS", "DEFAULTS", "check"),
    "plots": (),
    "programme": (
        "assign_tier", "discount_tiers", "invoices_due", "late_payments", "near_next_tier", "next_occurrence",
        "payment_terms", "priority_stock", "product_launches", "referral_rewards", "special_days",
        "tier_summary",
    ),
    "report": ("UNITS", "LoyaltyAnalysis", "analyse", "special_day_calls", "tier_label", "tier_names"),
}

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

__getattr__, __dir__ = attach(__name__, EXPORTS, __all__)
