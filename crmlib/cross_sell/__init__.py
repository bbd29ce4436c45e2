"""Cross-sell and upsell: association rules, next-best products, premium alternatives, bundles, pre-season.

Submodules: families, params, plots, report, rules. Parameters: ``params.DEFAULTS`` (documented) and
``params.check``; the practice's registry entry is in :mod:`crmlib.core.registry`.
"""

from crmlib.lazy import attach

#: the public names by the submodule that defines them; a submodule is imported when one of its names is
#: first used (:mod:`crmlib.lazy`), so that reading ``params`` or running a computation does not import
#: the report and plotting modules
EXPORTS: dict[str, tuple[str, ...]] = {
    "families": ("TIER_WORDS", "family_key", "product_families"),
    "params": ("DEFAULTS",),
    "plots": (),
    "report": (
        "UNITS", "CrossSellAnalysis", "action_groups", "analyse", "compute", "reason_text", "rule_text",
        "selling_only", "strongest_rules", "with_names",
    ),
    "rules": (
        "REASON_CODES", "RULE_COLUMNS", "association_rules", "baskets", "bundles", "customer_items",
        "data_readiness", "evaluate", "frequent_itemsets", "has_products", "join_items", "merged_params",
        "premium_alternatives", "preseason", "product_names", "purchase_lines", "recommend",
    ),
}

__all__ = [
    "params",
    "families",
    "TIER_WORDS",
    "family_key",
    "product_families",
    "selling_only",
    "with_names",
    "plots",
    "report",
    "rules",
    "DEFAULTS",
    "REASON_CODES",
    "RULE_COLUMNS",
    "action_groups",
    "analyse",
    "compute",
    "CrossSellAnalysis",
    "UNITS",
    "association_rules",
    "baskets",
    "bundles",
    "customer_items",
    "data_readiness",
    "evaluate",
    "frequent_itemsets",
    "has_products",
    "join_items",
    "merged_params",
    "premium_alternatives",
    "preseason",
    "product_names",
    "purchase_lines",
    "reason_text",
    "recommend",
    "rule_text",
    "strongest_rules",
]

__getattr__, __dir__ = attach(__name__, EXPORTS, __all__)
