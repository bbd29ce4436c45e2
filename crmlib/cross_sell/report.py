"""The cross-sell report's assembly: strongest rules, rules and reasons in words, sales-rep grouping, and
:func:`analyse`, the ``04_cross_sell`` notebook's one call (a :class:`CrossSellAnalysis`).

The numbers come from :mod:`crmlib.cross_sell.rules` (:func:`compute` gathers them once); this module selects,
words and groups them for the notebook and its exports. ``UNITS`` is the column-unit map of the practice's
tables (``rp.table(ctx, frame, ns="xsell")``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlib.core.readiness import describe
from crmlib.cross_sell.rules import (
    REASON_CODES,
    association_rules,
    bundles,
    data_readiness,
    evaluate,
    frequent_itemsets,
    isin,
    join_items,
    merged_params,
    premium_alternatives,
    preseason,
    preseason_lead_days,
    product_names,
    recommend,
    regular_items,
    stored_itemsets,
)
from crmlib.errors import DataError
from crmlib.report import formatting as fmt
from crmlib.report.display import mask_contacts
from crmlib.report.i18n import t


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
    number, pct = fmt.number, fmt.pct
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
    return frame.loc[~isin(frame["customer_id"].astype(str), lapsed_ids)].reset_index(drop=True)


def reason_text(recs: pd.DataFrame, *, lang: str, products: pd.DataFrame | None = None) -> pd.Series:
    """The reason of each suggestion in words, e.g. "bought with Z by 38% of Z's buyers".

    Required columns: ``reason_code``, ``reason_product_id``, ``reason_share``, ``reason_buyers``.
    """
    names = product_names(products)
    cols = ["reason_code", "reason_product_id", "reason_share", "reason_buyers"]
    if len(recs) == 0:
        return pd.Series([], index=recs.index, dtype=object, name="reason")
    # one text per distinct (code, anchor, share, buyers): many suggestions share them
    group = recs[cols].groupby(cols, dropna=False, sort=False).ngroup().to_numpy()
    _, first = np.unique(group, return_index=True)
    distinct = recs[cols].iloc[first]
    texts = []
    for code, anchor, share, n in zip(
        distinct["reason_code"],
        distinct["reason_product_id"],
        distinct["reason_share"],
        distinct["reason_buyers"],
        strict=True,
    ):
        if code not in REASON_CODES:
            raise DataError(f"reason_text: unknown reason_code {code!r}; expected one of {REASON_CODES}.")
        texts.append(
            t(
                f"xsell.reason.{code}",
                lang,
                anchor=names.get(anchor, anchor) if anchor else "",
                share=fmt.pct(share, lang, 0),
                buyers=fmt.number(n, lang),
            )
        )
    return pd.Series(np.asarray(texts, dtype=object)[group], index=recs.index, dtype=object, name="reason")


def compute(
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
    """Every frame the cross-sell report shows, computed once (:func:`analyse` words them for the notebook).

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
    # each view is read when its section needs it and let go after it (keep=False: not held by the context),
    # so that the largest ones (customer x product at the run's date and at the validation cut, every order's
    # products: each about a gigabyte at 10M order lines) are never all in memory at once
    if view is not None:  # the aggregates, never the lines
        items = view("customer_products", keep=False)
        baskets = view("order_products", keep=False)  # used for the item sets only: not held afterwards
        held: dict[str, Any] = {"items": items}
        regular: dict[str, Any] = {"held": regular_items(items, as_of=as_of, params=p)}  # computed once
        order_lines = None
    else:
        order_lines = order_lines[order_lines["order_date"] <= as_of]
        baskets, held, regular = None, {}, {}
    ready = data_readiness(order_lines, as_of=as_of, params=p, baskets=baskets, **held)
    if ready.ready:
        found = itemsets if itemsets is not None else frequent_itemsets(order_lines, params=p, baskets=baskets)
    else:  # too few orders or customers: no rules or bundles, best-seller suggestions (the rule-based view)
        found = (pd.DataFrame({"support": pd.Series(dtype=float), "itemsets": pd.Series(dtype=object)}), 0)
    baskets = None  # every order's products: the largest frame, not needed below
    method = "item_to_item" if ready.ready else "popularity"
    rules = association_rules(order_lines, params=p, products=products, itemsets=found)
    recs = recommend(order_lines, customers=customer_ids, products=products, params=p, as_of=as_of, method=method,
                     **held, **regular)
    recs["reason"] = reason_text(recs, lang=lang, products=products)
    premium = None
    if (
        products is not None
        and {"product_id", "category", "price"} <= set(products.columns)
        and products[["category", "price"]].notna().all(axis=1).any()
    ):
        premium = premium_alternatives(order_lines, products, params=p, as_of=as_of, **held, **regular)
    at_cut: dict[str, Any] = {}
    if view is not None:
        # of the run's customer x product table the validation needs only the pairs bought after the cut (its
        # test items): the rest is let go before the table at the cut is read
        after_cut = items.loc[items["last_date"] > cut, ["customer_id", "product_id", "last_date"]]
        items, held, regular = None, {}, {}
        at_cut = {"items_at_cut": view("customer_products", as_of=cut, keep=False), "items_at_end": after_cut}
        after_cut = None
    evaluation = evaluate(
        order_lines,
        cut=cut,
        horizon_days=int(p["validation_cut_days"]),
        k=int(p["top_n"]),
        params=p,
        products=products,
        **at_cut,
    )
    at_cut = {}
    season_from = {} if view is None else {"candidates": view("preseason_items", keep=False,
                                                               lead_days=preseason_lead_days(p))}
    lapsed = {str(c) for c in (lapsed_ids if lapsed_ids is not None else [])}
    season = preseason(order_lines, as_of=as_of, params=p, products=products, **season_from)
    listed = [recs["customer_id"], season["customer_id"]] + ([premium["customer_id"]] if premium is not None else [])
    suggested = pd.Series(pd.unique(pd.concat([ids.astype(str) for ids in listed], ignore_index=True)))
    lapsed_left_out = int(isin(suggested, lapsed).sum())
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


# -- the notebook's one call -----------------------------------------------------------------------------
#: units of the columns the report's tables show (``rp.table(ctx, frame, ns="xsell")``)
UNITS: dict[str, str] = {
    "confidence": "pct", "support": "pct", "lift": "number:1", "n_orders": "int", "share_of_orders": "pct",
    "discount": "pct", "list_price": "money", "bundle_price": "money", "rank": "int", "price": "money",
    "premium_price": "money", "share_of_buyers": "pct", "last_year_date": "date", "expected_date": "date",
    "last_year_amount": "money", "seasonal_index": "number:1", "n_customers": "int", "hit_rate": "pct",
    "recall": "pct",
}

#: customers of the next-best table (the largest by revenue) and suggestions shown per customer
NEXT_BEST_CUSTOMERS, NEXT_BEST_PER_CUSTOMER = 10, 3


@dataclass(frozen=True)
class CrossSellAnalysis:
    """What ``04_cross_sell`` shows, section by section (sentences already in the report's language).

    Without a ``product_id`` column (``has_products`` false) the report is the header and one sentence:
    every frame is empty. ``header_values`` fills the placeholders of the validation table's headers.
    """

    has_products: bool
    missing: list[str]
    summary: list[str]
    tiles: list[tuple[str, str]]
    rules: pd.DataFrame
    top_rules: pd.DataFrame
    rules_lines: list[str]
    bundles: pd.DataFrame
    bundles_text: str
    next_best: pd.DataFrame
    next_best_rows: int
    next_best_lines: list[str]
    has_premium_table: bool
    premium_missing: list[str]
    premium: pd.DataFrame
    premium_lines: list[str]
    preseason: pd.DataFrame
    preseason_text: str
    has_validation: bool
    evaluation: pd.DataFrame
    validation_table: pd.DataFrame
    header_values: dict[str, Any]
    validation_lines: list[str]


def _shown(frame: pd.DataFrame, columns: Iterable[str], renames: Mapping[str, str]) -> pd.DataFrame:
    """``frame``'s ``columns`` that exist (the first of ``a|b`` alternatives that does), renamed."""
    picked = []
    for col in columns:
        options = col.split("|")
        found = next((c for c in options if c in frame.columns), None)
        if found is not None:
            picked.append(found)
    return frame[picked].rename(columns=dict(renames))


def _empty(has_products: bool) -> CrossSellAnalysis:
    empty = pd.DataFrame()
    return CrossSellAnalysis(
        has_products=has_products, missing=[] if has_products else ["product_id"], summary=[], tiles=[], rules=empty, top_rules=empty, rules_lines=[],
        bundles=empty, bundles_text="", next_best=empty, next_best_rows=0, next_best_lines=[],
        has_premium_table=False, premium_missing=[], premium=empty, premium_lines=[], preseason=empty,
        preseason_text="", has_validation=False, evaluation=empty, validation_table=empty, header_values={},
        validation_lines=[])


def analyse(ctx: Any) -> CrossSellAnalysis:
    """Rules, bundles, next-best products, premium alternatives, pre-season suggestions and their check on
    the last weeks, from the SQL views, put into words, once.

    Writes the exports ``cross_sell``, ``association_rules.csv``, ``preseason`` and (with a products table
    with category and price) ``premium_alternatives``. Without a ``product_id`` column nothing is written and
    the result is empty (``has_products`` false).

    Parameters
    ----------
    ctx
        The run's :class:`~crmlib.core.context.Context`.

    Returns
    -------
    CrossSellAnalysis
    """
    from crmlib import segmentation as seg

    if ctx.view("customer_products").empty:
        return _empty(False)
    lang, p = ctx.lang, ctx.params["cross_sell"]
    products, customers, summary = ctx.tables["products"], ctx.tables["customers"], ctx.customer_summary
    res = compute(None, view=ctx.view, as_of=ctx.as_of, params=p, products=products, customers=customers, lang=lang,
                  customer_ids=summary["customer_id"],
                  lapsed_ids=summary.loc[seg.is_lapsed(summary["recency_days"], ctx.params), "customer_id"],
                  itemsets=stored_itemsets(ctx.meta, params=p))
    ev = res["evaluation"].set_index("method")
    ours, base = ev.loc["item_to_item"], ev.loc["popularity"]
    k = int(p["top_n"])
    top_ids = summary.nlargest(NEXT_BEST_CUSTOMERS, "revenue")["customer_id"].tolist()
    top_rank = {c: i for i, c in enumerate(summary.sort_values("revenue", ascending=False)["customer_id"])}
    recs, premium, season, bundle_sets = res["recommendations"], res["premium"], res["preseason"], res["bundles"]
    ctx.export_action_list("cross_sell", mask_contacts(res["action_list"], enabled=ctx.mask_pii))
    ctx.export_csv("association_rules", res["rules"])
    ctx.export_action_list("preseason", season)
    if premium is not None:
        ctx.export_action_list("premium_alternatives", premium)

    n, pct = (lambda x: fmt.number(x, lang)), (lambda x, d=1: fmt.pct(x, lang, d))
    thresholds = dict(support=fmt.pct(p["min_support"], lang), confidence=fmt.pct(p["min_confidence"], lang),
                      lift=fmt.number(p["min_lift"], lang, 1))
    ready = res["readiness"]
    if len(res["top_rules"]):
        first_line = t("xsell.summary.rules", lang, n_rules=n(res["n_combinations"]),
                       rule=rule_text(res["top_rules"].head(1), lang=lang).iloc[0])
    elif ready.ready:
        first_line = t("xsell.summary.no_rules", lang, **thresholds)
    else:
        first_line = describe(ready, lang, key="xsell.summary.not_ready")
    lines = [first_line, t("xsell.summary.recommendations", lang, n_customers=n(recs["customer_id"].nunique()),
                           k=k, n_suggestions=n(len(recs)))]
    if ours["n_customers"] > 0 and base["hit_rate"] > 0:
        lines.append(t("xsell.summary.validation", lang, days=p["validation_cut_days"],
                       hit_rate=pct(ours["hit_rate"], 0), baseline=pct(base["hit_rate"], 0),
                       ratio=fmt.number(ours["hit_rate"] / base["hit_rate"], lang, 1)))
    elif ours["n_customers"] == 0 and res["evaluation_status"] != "ok":  # why two tiles show a dash
        lines.append(t(f"xsell.validation.{res['evaluation_status']}", lang, cut=fmt.date(res["cut"], lang),
                       days=p["validation_cut_days"], first=fmt.date(ctx.data_window[0], lang)))
    if len(bundle_sets):
        first = bundle_sets.iloc[0]
        lines.append(t("xsell.summary.bundles", lang, n_bundles=len(bundle_sets),
                       share=fmt.pct(first["share_of_orders"], lang), items=first.get("item_names", first["items"])))
    if premium is not None and len(premium):
        lines.append(t("xsell.summary.premium", lang, n_customers=n(premium["customer_id"].nunique())))
    if res["lapsed_left_out"]:
        lines.append(t("xsell.summary.lapsed", lang, n=n(res["lapsed_left_out"]), days=n(seg.lapsed_limit(ctx.params))))
    if len(season):
        lines.append(t("xsell.summary.preseason", lang, n_customers=n(season["customer_id"].nunique()),
                       weeks=p["preseason_lead_weeks"]))
    tiles = [(t("xsell.tile.combinations", lang), n(res["n_combinations"])),
             (t("xsell.tile.customers", lang), n(recs["customer_id"].nunique())),
             (t("xsell.tile.hit_rate", lang, k=k), pct(ours["hit_rate"], 0)),
             (t("xsell.tile.baseline", lang, k=k), pct(base["hit_rate"], 0))]

    if len(res["top_rules"]):
        rules_lines = [t("xsell.rules.meaning", lang)]
    elif ready.ready:
        rules_lines = [t("xsell.rules.none", lang, **thresholds)]
    else:
        rules_lines = [describe(ready, lang, key="xsell.rules.not_ready")]
    top_rules = _shown(res["top_rules"], ["antecedent_names|antecedents", "consequent_names|consequents",
                                          "confidence", "lift", "support", "n_orders"],
                       {"antecedent_names": "antecedents", "consequent_names": "consequents"})
    shown_bundles = _shown(bundle_sets, ["item_names|items", "share_of_orders", "n_orders", "list_price",
                                         "discount_pct", "bundle_price"], {"item_names": "items"})
    if "discount_pct" in shown_bundles:
        shown_bundles = shown_bundles.assign(discount_pct=shown_bundles["discount_pct"] / 100)
    shown_bundles = shown_bundles.rename(columns={"discount_pct": "discount"})
    bundles_text = (t("xsell.bundles.meaning", lang, discount=fmt.pct(p["bundle_discount_pct"] / 100, lang, 0))
                    if len(bundle_sets) else t("xsell.bundles.none", lang))

    actions = res["action_list"]
    best = actions[actions["customer_id"].isin(top_ids) & (actions["rank"] <= NEXT_BEST_PER_CUSTOMER)]
    best = mask_contacts(best.assign(_order=best["customer_id"].map(top_rank)).sort_values(["_order", "rank"]),
                         enabled=ctx.mask_pii)
    next_best = _shown(best, ["customer_id", "name", "rank", "product_name|product_id", "reason"],
                       {"product_name": "product", "product_id": "product"})
    next_best_lines = [t("xsell.next_best.meaning" if res["method"] == "item_to_item" else "xsell.next_best.popular",
                         lang, min_orders=p["regular_min_orders"], recent_days=p["regular_recent_days"]),
                       t(f"xsell.groups.{res['group_by'] or 'none'}", lang)]

    shown_premium, premium_missing, premium_lines = pd.DataFrame(), [], []
    if premium is None:
        premium_missing = ["category", "price"]
    elif len(premium):
        ordered = premium.assign(_order=premium["customer_id"].map(top_rank)).sort_values(
            ["_order", "share_of_buyers"], ascending=[True, False])
        named = "product_name" in ordered
        shown_premium = _shown(mask_contacts(ordered, enabled=ctx.mask_pii),
                               ["customer_id", "name", "product_name" if named else "product_id",
                                "premium_name" if named else "premium_product_id", "category", "price",
                                "premium_price", "share_of_buyers"],
                               {"product_name": "standard", "product_id": "standard", "premium_name": "premium",
                                "premium_product_id": "premium"})
        premium_lines = [t("xsell.premium.meaning", lang, min_ratio=fmt.number(p["premium_min_price_ratio"], lang, 1))]
    else:
        premium_lines = [t("xsell.premium.none", lang)]

    if len(season):
        shown_season = _shown(mask_contacts(season.sort_values("last_year_amount", ascending=False),
                                            enabled=ctx.mask_pii),
                              ["customer_id", "name", "product_name|product_id", "last_year_date", "expected_date",
                               "last_year_amount", "seasonal_index"], {"product_name": "product", "product_id": "product"})
        season_text = t("xsell.preseason.meaning", lang, weeks=p["preseason_lead_weeks"],
                        index=fmt.number(p["preseason_min_index"], lang, 1))
    else:
        shown_season = pd.DataFrame()
        season_text = t("xsell.preseason.none", lang, weeks=p["preseason_lead_weeks"])

    evaluation = res["evaluation"]
    has_validation = bool(ours["n_customers"] > 0)
    if has_validation:
        validation_lines = [t("xsell.validation.meaning", lang, cut=fmt.date(res["cut"], lang),
                              n_customers=n(ours["n_customers"]), days=p["validation_cut_days"],
                              hit_rate=pct(ours["hit_rate"], 0), baseline=pct(base["hit_rate"], 0))]
        if ours["hit_rate"] <= base["hit_rate"]:
            validation_lines.append(t("xsell.validation.weak", lang))
    else:
        validation_lines = [t(f"xsell.validation.{res['evaluation_status']}", lang, cut=fmt.date(res["cut"], lang),
                              days=p["validation_cut_days"], first=fmt.date(ctx.data_window[0], lang))]
    return CrossSellAnalysis(
        has_products=True, missing=[], summary=lines, tiles=tiles, rules=res["rules"], top_rules=top_rules,
        rules_lines=rules_lines, bundles=shown_bundles if len(bundle_sets) else pd.DataFrame(),
        bundles_text=bundles_text, next_best=next_best, next_best_rows=NEXT_BEST_CUSTOMERS * NEXT_BEST_PER_CUSTOMER,
        next_best_lines=next_best_lines, has_premium_table=len(shown_premium) > 0, premium_missing=premium_missing,
        premium=shown_premium, premium_lines=premium_lines, preseason=shown_season, preseason_text=season_text,
        has_validation=has_validation, evaluation=evaluation,
        validation_table=evaluation.assign(method=[t(f"xsell.method.{m}", lang) for m in evaluation["method"]])[
            ["method", "n_customers", "hit_rate", "recall"]],
        header_values={"k": k}, validation_lines=validation_lines,
    )
