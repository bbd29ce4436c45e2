"""The cross-sell report's assembly: strongest rules, rules in words, sales-rep grouping, one call for all.

The numbers come from :mod:`crmlib.cross_sell.rules`; this module only selects, words and groups them for the
``04_cross_sell`` notebook and its exports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd

from crmlib.cross_sell.rules import (
    association_rules,
    bundles,
    data_readiness,
    evaluate,
    frequent_itemsets,
    join_items,
    merged_params,
    premium_alternatives,
    preseason,
    preseason_lead_days,
    reason_text,
    recommend,
)


def strongest_rules(rules: pd.DataFrame, *, n: int = 10) -> pd.DataFrame:
    """The ``n`` strongest rules by lift, one per item set (of A→B and B→A the one with higher confidence).

    Required columns: ``antecedents``, ``consequents``, ``confidence``, ``lift``, ``support``.
    """
    if rules.empty:
        return rules.copy()
    key = [
        join_items(f"{a}, {c}".split(", "))
        for a, c in zip(rules["antecedents"], rules["consequents"], strict=True)
    ]
    ranked = rules.assign(_set=key).sort_values(
        ["lift", "confidence", "support"], ascending=False, kind="stable"
    )
    return ranked.drop_duplicates("_set").head(n).drop(columns="_set").reset_index(drop=True)


def rule_text(rules: pd.DataFrame, *, lang: str) -> pd.Series:
    """Each rule in plain words: "orders with A also contain B in 38% of cases (2.1× as often as usual)"."""
    from crmlib.report.formatting import number, pct
    from crmlib.report.i18n import t

    a = rules["antecedent_names"] if "antecedent_names" in rules else rules["antecedents"]
    c = rules["consequent_names"] if "consequent_names" in rules else rules["consequents"]
    texts = [
        t(
            "xsell.rule_sentence",
            lang,
            antecedent=x,
            consequent=y,
            confidence=pct(conf, lang, 0),
            lift=number(lift, lang, 1),
        )
        for x, y, conf, lift in zip(a, c, rules["confidence"], rules["lift"], strict=True)
    ]
    return pd.Series(texts, index=rules.index, dtype=object, name="rule")


def action_groups(recs: pd.DataFrame, customers: pd.DataFrame | None) -> tuple[pd.DataFrame, str]:
    """Attach what a sales rep's list is cut by and sort by it: the customers table's ``sales_rep`` column if
    present, else ``city``, else nothing (the contract's customers table has no sales-rep column).

    Also adds the customer's ``name`` when the customers table has one (mask it in the report layer).
    Returns the frame and the column used (``"sales_rep"``, ``"city"`` or ``""``).
    """
    used = ""
    out = recs.copy()
    if customers is not None and "customer_id" in customers.columns:
        used = next((c for c in ("sales_rep", "city") if c in customers.columns), "")
        lookup = customers.assign(customer_id=customers["customer_id"].astype(str)).drop_duplicates(
            "customer_id"
        )
        lookup = lookup.set_index("customer_id")
        for col in ("name", used):
            if col:
                out[col] = out["customer_id"].map(lookup[col]).astype(object)
    keys = ([used] if used else []) + ["customer_id"] + (["rank"] if "rank" in out.columns else [])
    return out.sort_values(keys, na_position="last", ignore_index=True), used


def with_names(frame: pd.DataFrame, customers: pd.DataFrame | None) -> pd.DataFrame:
    """``frame`` with the customers table's ``name`` right after ``customer_id`` (a rep reads company names,
    not account codes); unchanged without a name column. Mask it in the report layer."""
    if customers is None or "name" not in customers.columns or "customer_id" not in frame.columns \
            or "name" in frame.columns:
        return frame
    names = customers.assign(customer_id=customers["customer_id"].astype(str)).drop_duplicates("customer_id")
    out = frame.copy()
    out.insert(list(out.columns).index("customer_id") + 1, "name",
               out["customer_id"].astype(str).map(names.set_index("customer_id")["name"]).astype(object))
    return out


def selling_only(frame: pd.DataFrame | None, lapsed_ids: set[str]) -> pd.DataFrame | None:
    """``frame`` without the lapsed customers' rows: selling lists are for customers who still buy (the
    win-back list is the lapsed customers')."""
    if frame is None or not lapsed_ids:
        return frame
    return frame.loc[~frame["customer_id"].astype(str).isin(lapsed_ids)].reset_index(drop=True)


def analyse(
    order_lines: pd.DataFrame | None,
    *,
    as_of: Any,
    params: Mapping[str, Any] | None = None,
    products: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    lang: str = "en",
    customer_ids: Iterable[str] | None = None,
    lapsed_ids: Iterable[str] | None = None,
    view: Callable[..., pd.DataFrame] | None = None,
    itemsets: tuple[pd.DataFrame, int] | None = None,
) -> dict[str, Any]:
    """Everything the cross-sell report shows, computed once: the notebook's single call.

    Premium alternatives need a products table with ``category`` and ``price`` (``None`` otherwise). The
    validation cut is ``as_of − validation_cut_days``, its horizon ``validation_cut_days``, its k ``top_n``.
    ``customer_ids`` limits the suggestions to those customers (e.g. the per-customer table's);
    ``lapsed_ids`` (no order for the run's lapsed limit) are left out of every selling list (next-best
    products, premium alternatives, pre-season), and counted in ``lapsed_left_out``. The rules, bundles and
    the validation still learn from their history. With ``view`` (the context's ``ctx.view``) every figure
    comes from the SQL views (``customer_products`` at ``as_of`` and at the validation cut,
    ``order_products``, ``preseason_items``) and ``order_lines`` is not read (pass ``None``).
    ``itemsets``: the frequent item sets already mined for these lines
    (:func:`~crmlib.cross_sell.rules.stored_itemsets`: on Spark), instead of mining them here.

    Returns
    -------
    dict
        readiness (:func:`~crmlib.cross_sell.rules.data_readiness`; when not met, no rules or bundles and
        the suggestions are best sellers), method (``item_to_item`` or ``popularity``), evaluation_status
        (``ok``, ``no_training``, ``no_test``: see :func:`~crmlib.cross_sell.rules.evaluate`), rules, top_rules, n_combinations (distinct item sets among the rules), bundles, recommendations
        (with ``reason`` text in ``lang``), premium (or None), preseason, evaluation, cut (Timestamp),
        action_list (export frame), group_by (see :func:`action_groups`) and lapsed_left_out (customers
        who would have had suggestions but are lapsed). Premium and pre-season rows carry the customer's
        ``name`` when the customers table has one.
    """
    p = merged_params(params)
    as_of = pd.Timestamp(as_of)
    cut = as_of - pd.Timedelta(days=int(p["validation_cut_days"]))
    if view is not None:  # the aggregates, never the lines
        items = view("customer_products")
        baskets = view("order_products")
        held: dict[str, Any] = {"items": items}
        at_cut: dict[str, Any] = {"items_at_cut": view("customer_products", as_of=cut), "items_at_end": items}
        season_from: dict[str, Any] = {"candidates": view("preseason_items", lead_days=preseason_lead_days(p))}
        order_lines = None
    else:
        order_lines = order_lines[order_lines["order_date"] <= as_of]
        baskets, held, at_cut, season_from = None, {}, {}, {}
    ready = data_readiness(order_lines, as_of=as_of, params=p, baskets=baskets, **held)
    if ready.ready:
        found = itemsets if itemsets is not None else frequent_itemsets(order_lines, params=p, baskets=baskets)
    else:  # too few orders or customers: no rules or bundles, best-seller suggestions (the rule-based view)
        found = (pd.DataFrame({"support": pd.Series(dtype=float), "itemsets": pd.Series(dtype=object)}), 0)
    method = "item_to_item" if ready.ready else "popularity"
    rules = association_rules(order_lines, params=p, products=products, itemsets=found)
    recs = recommend(order_lines, customers=customer_ids, products=products, params=p, as_of=as_of, method=method,
                     **held)
    recs["reason"] = reason_text(recs, lang=lang, products=products)
    premium = None
    if (
        products is not None
        and {"product_id", "category", "price"} <= set(products.columns)
        and products[["category", "price"]].notna().all(axis=1).any()
    ):
        premium = premium_alternatives(order_lines, products, params=p, as_of=as_of, **held)
    evaluation = evaluate(
        order_lines,
        cut=cut,
        horizon_days=int(p["validation_cut_days"]),
        k=int(p["top_n"]),
        params=p,
        products=products,
        **at_cut,
    )
    lapsed = {str(c) for c in (lapsed_ids if lapsed_ids is not None else [])}
    season = preseason(order_lines, as_of=as_of, params=p, products=products, **season_from)
    suggested = set(recs["customer_id"].astype(str)) | set(season["customer_id"].astype(str)) | (
        set(premium["customer_id"].astype(str)) if premium is not None else set())
    lapsed_left_out = len(suggested & lapsed)
    recs, season, premium = (selling_only(recs, lapsed), selling_only(season, lapsed), selling_only(premium, lapsed))
    key = ["customer_id", "rank", "product_id", "score", "reason"]
    extra = [
        c for c in ("product_name", "reason_code", "reason_product_id", "reason_share") if c in recs.columns
    ]
    action_list, group_by = action_groups(recs[key + extra], customers)
    return {
        "readiness": ready,
        "method": method,
        "evaluation_status": evaluation.attrs.get("status", "ok"),
        "rules": rules,
        "top_rules": strongest_rules(rules, n=10),
        "n_combinations": len(strongest_rules(rules, n=len(rules))),
        "bundles": bundles(order_lines, params=p, products=products, itemsets=found),
        "recommendations": recs,
        "premium": with_names(premium, customers) if premium is not None else None,
        "preseason": with_names(season, customers),
        "lapsed_left_out": lapsed_left_out,
        "evaluation": evaluation,
        "cut": cut,
        "action_list": action_list,
        "group_by": group_by,
    }
