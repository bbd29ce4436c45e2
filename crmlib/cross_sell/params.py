"""Cross-sell params: the ``cross_sell`` section of the params file, its defaults and its checks.

:data:`DEFAULTS` documents every key; :func:`check` runs when the params file loads (and on every
:func:`resolve`), so a bad value stops the run with one message before any notebook starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmlib.core.params import Check, merge_over_defaults

DEFAULTS: dict[str, Any] = {
    # Share of orders an item set must appear in (FP-growth's minimum support). 0.5 % keeps pairs that a
    # wholesaler with tens of thousands of orders sees hundreds of times (mlxtend's 0.5 is for toy sets).
    "min_support": 0.005,
    # Minimum confidence P(consequent | antecedent) of a rule (Agrawal et al. 1993); 10 % is the usual floor
    # for retail baskets, where most pairs have single-digit confidence.
    "min_confidence": 0.10,
    # Minimum lift of a rule or bundle (Brin et al. 1997): > 1 means bought together more than by chance;
    # 1.2 drops pairs that are only popular.
    "min_lift": 1.2,
    # Largest item set FP-growth looks for (pairs and triples: what a sales rep can say in one sentence).
    "max_len": 3,
    # Suggestions per customer (next-best products, premium alternatives, pre-season) and the k of hit rate@k.
    "top_n": 5,
    # "Regularly bought" (never suggested again): bought in at least this many orders ...
    "regular_min_orders": 2,
    # ... or at least once in the last this many days (a typical wholesale reorder cycle is under 90 days).
    "regular_recent_days": 90,
    # Only products someone bought in the last this many days are suggested (drops discontinued items).
    "candidate_recent_days": 365,
    # A product pair counts for suggestions only when at least this many customers bought both (noise floor).
    "min_pair_customers": 5,
    # Bundles: how many to list and the discount to suggest on the bundle's list price, in percent (5-10 % is
    # the common wholesale bundle discount; set it from your own margins).
    "bundle_top_n": 10,
    "bundle_discount_pct": 5.0,
    # A bundle is left out when a bundle with one more product is in at least (1 − this) of its orders: the
    # bigger set tells the same story (δ-tolerance closed item sets, Cheng, Ke & Ng 2006; 0 = closed sets).
    "bundle_closed_tolerance": 0.2,
    # Premium alternative: same category, price between these multiples of the standard item's price (a step
    # up a customer can accept, not a different product class) and a higher margin rate when unit costs are
    # known, bought by at least min_premium_share of the standard item's buyers.
    # Premium alternatives are versions of the same item: the same products.family, or (without that column)
    # names that differ only by one of these tier words (e.g. "Zımba Standart" -> "Zımba Premium"); null =
    # crmlib.cross_sell.families.TIER_WORDS.
    "premium_tier_words": None,
    "premium_min_price_ratio": 1.10,
    "premium_max_price_ratio": 3.0,
    "min_premium_share": 0.05,
    # Pre-season: how many weeks ahead to look in last year's history (what the customer bought in the next
    # 8 weeks last year); items bought in the last 8 weeks count as already bought this season.
    "preseason_lead_weeks": 8,
    # ... and only products ordered in those weeks last year at least this multiple as often as in an average
    # period of the same length (a seasonal index as in ratio-to-moving-average decomposition, where 1 is an
    # average period; 1.2 = a fifth above average, a judgement call that keeps all-year staples out).
    "preseason_min_index": 1.2,
    # Validation: the time split puts the last this many days (before the as-of date) in the test period.
    "validation_cut_days": 90,
    # Minimum-data rules: below either, no association rules or bundles are shown and the suggestions are the
    # best sellers a customer does not buy yet (the rule-based view, labelled); 0 turns a rule off. Chosen
    # from benchmarks/bench_thresholds.py on the sample (docs/THRESHOLDS.md): with 94-158 training orders the
    # co-bought suggestions hit no more often than the best sellers (hit rate@5 0.65 / 0.25 against 0.65 /
    # 0.27); from about 300 orders they do (0.48-0.75 against 0.30-0.59), even with only 30 customers.
    "min_orders": 300,      # purchase orders with a product
    "min_customers": 30,    # customers with a purchase with a product (the fewest measured)
    "min_products": 2,      # different products bought (with one, nothing is bought "with" anything)
}

_WHOLE = ("max_len", "top_n", "regular_min_orders", "regular_recent_days", "candidate_recent_days",
          "min_pair_customers", "bundle_top_n", "preseason_lead_weeks", "validation_cut_days")


def check(params: Mapping[str, Any]) -> None:
    """Raise :class:`~crmlib.errors.ParamsError` for a ``cross_sell`` value that cannot work (merged section)."""
    c = Check("cross_sell", params, DEFAULTS)
    for key in ("min_support", "min_confidence", "min_premium_share"):
        c.share(key)
    for key in _WHOLE:
        c.positive(key)
    c.number("min_lift", low=0)
    c.number("preseason_min_index", low=0)
    c.number("bundle_closed_tolerance", low=0, high=1, high_open=True)
    c.number("bundle_discount_pct", low=0, high=100, high_open=True, what="a percentage in [0, 100)")
    for key in ("min_orders", "min_customers", "min_products"):
        c.number(key, low=0, whole=True, what="a whole number >= 0 (0 = no rule)")
    words = c.get("premium_tier_words")
    if words is not None and (not isinstance(words, (list, tuple)) or not all(isinstance(w, str) for w in words)):
        raise c.fail("premium_tier_words", "null (the built-in tier words) or a list of words",
                     example=["Standart", "Premium", "Ekonomik"])
    c.number("premium_min_price_ratio", low=1)
    c.number("premium_max_price_ratio", low=float(params["premium_min_price_ratio"]),
             what=f"a price multiple >= premium_min_price_ratio ({params['premium_min_price_ratio']!r})")


def resolve(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``cross_sell`` section with ``params`` merged over :data:`DEFAULTS`, checked."""
    out = merge_over_defaults(DEFAULTS, params, where="cross_sell.")
    check(out)
    return out
