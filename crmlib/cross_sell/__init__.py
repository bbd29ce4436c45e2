"""Cross sell: cross-sell and upsell: association rules, next-best products, premium alternatives, bundles, pre-season.

Submodules: plots, report, rules.
"""

from crmlib.cross_sell import plots, report, rules
from crmlib.cross_sell.report import (
    action_groups,
    analyse,
    rule_text,
    strongest_rules,
)
from crmlib.cross_sell.rules import (
    DEFAULTS,
    REASON_CODES,
    RULE_COLUMNS,
    association_rules,
    baskets,
    bundles,
    customer_items,
    evaluate,
    frequent_itemsets,
    has_products,
    join_items,
    merged_params,
    premium_alternatives,
    preseason,
    product_names,
    purchase_lines,
    reason_text,
    recommend,
)

__all__ = [
    "plots",
    "report",
    "rules",
    "DEFAULTS",
    "REASON_CODES",
    "RULE_COLUMNS",
    "action_groups",
    "analyse",
    "association_rules",
    "baskets",
    "bundles",
    "customer_items",
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
