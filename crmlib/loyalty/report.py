"""What the loyalty half of ``05_loyalty_and_service`` shows: spend-band names, the special-day messages,
the executive summary lines, the section sentences and :func:`analyse`, which computes them once.

Every text comes from the practice's catalogue (``crmlib/loyalty/messages.yaml``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlib.data.frames import require_columns
from crmlib.data.textops import isin
from crmlib.loyalty.offers import contact_person, discount_economics, tier_thresholds, without_lapsed
from crmlib.loyalty.programme import (
    discount_tiers,
    near_next_tier,
    payment_terms,
    priority_stock,
    product_launches,
    referral_rewards,
    special_days,
    tier_summary,
)
from crmlib.report import formatting as fmt
from crmlib.report import i18n
from crmlib.report.display import mask_contacts
from crmlib.segmentation.params import is_lapsed, lapsed_limit
from crmlib.service.report import with_contacts

#: the unit of each column the loyalty tables show (headers ``loy.col.<column>``, then ``col.<column>``)
UNITS: dict[str, str] = {
    "monthly_spend": "money", "tier_monthly_spend": "money", "monthly_discount_cost": "money",
    "next_threshold": "money", "gap_to_next": "money", "early_amount": "money", "first_orders": "money",
    "reward": "money", "reward_payable": "money", "reward_pending": "money",
    "discount": "pct", "next_discount": "pct", "share_of_launches": "pct",
    "customers": "int", "days_since_last_order": "int", "tenure_months": "int", "n_orders": "int", "invoices": "int",
    "late_payments": "int", "terms_days": "int", "launches_bought_early": "int", "new_bought_early": "int",
    "early_buyers": "int", "years": "int", "days_until": "int", "referred": "int", "referred_ordered": "int",
    "first_order_date": "date", "last_order_date": "date", "first_sale": "date", "date": "date",
    "last_first_order": "date",
}


# -- labels and messages ----------------------------------------------------------------------------------
def tier_label(lower: float, upper: float | None, *, lang: str, currency: str) -> str:
    """The label of a spend band: ``"10.000-25.000 TL"``, or ``"50.000+ TL"`` (``"TRY 50,000+"``) for the
    open top band."""
    unit = fmt.CURRENCY_SYMBOLS.get(currency.upper(), currency)
    unit = currency.upper() if lang != "tr" and unit == "TL" else unit
    if upper is None or not math.isfinite(upper):
        return i18n.t("loy.band.open", lang, lower=fmt.number(lower, lang), unit=unit)
    return i18n.t("loy.band.closed", lang, lower=fmt.number(lower, lang), upper=fmt.number(upper, lang), unit=unit)


def tier_names(thresholds: list[float], *, lang: str, currency: str) -> list[str]:
    """The spend band of every tier, lowest first (tier 0 is below the first threshold): readers see
    ``"10.000-25.000 TL"`` where the data says tier 1."""
    lowers = [0.0, *map(float, thresholds)]
    uppers = [*map(float, thresholds), None]
    return [tier_label(lo, up, lang=lang, currency=currency) for lo, up in zip(lowers, uppers, strict=True)]



def special_day_calls(special: pd.DataFrame, customers: pd.DataFrame | None, *, lang: str,
                      lapsed_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """The special-day list a rep can act on: who to call, on what occasion, and what to say.

    Birthdays need a person (:func:`contact_person`); a company's "birthday" (a birth date stored against
    a company) is left out. Anniversaries are the company's; they are addressed to the contact person when
    there is one. Rows without anyone to call are dropped when a customers table is given. Lapsed customers
    (``lapsed_ids``) are left out: a congratulation is for a customer who still buys; the lapsed ones are
    the win-back list's.

    Parameters
    ----------
    special
        From :func:`crmlib.loyalty.programme.special_days`: ``customer_id``, ``occasion``, ``date``,
        ``years``, ``days_until``.

    Returns
    -------
    DataFrame
        ``customer_id``, ``contact_person``, ``occasion``, ``date``, ``days_until``, ``message`` (catalogue
        ``loy.message.<occasion>``); ``years`` only for anniversaries (a customer's age is not a sales fact).
    """
    require_columns(special, ("customer_id", "occasion", "date", "years", "days_until"), "special days")
    out = special.copy()
    if lapsed_ids is not None:
        out = out.loc[~out["customer_id"].astype(str).isin({str(c) for c in lapsed_ids})]
    if customers is not None and "customer_id" in customers.columns:
        # only the listed customers' names are read (the person's dtype follows the columns', not the rows)
        people = contact_person(customers.loc[isin(customers["customer_id"], out["customer_id"])])
        out["contact_person"] = out["customer_id"].map(people)
        names = customers.drop_duplicates("customer_id").set_index("customer_id").get("name")
        company = out["customer_id"].map(names) if names is not None else pd.Series(np.nan, index=out.index)
        out = out.loc[(out["occasion"] != "birthday") | out["contact_person"].notna()]
        company = company.reindex(out.index)
    else:
        out = out.loc[out["occasion"] != "birthday"]
        out["contact_person"] = np.nan
        company = pd.Series(np.nan, index=out.index)
    messages = []
    for who, occasion, years_n, firm in zip(out["contact_person"], out["occasion"], out["years"], company,
                                           strict=True):
        person = who if isinstance(who, str) else ""
        key = f"loy.message.{occasion}" + ("" if person else "_team")
        n = int(years_n)
        years = i18n.t("loy.years.one" if n == 1 else "loy.years.other", lang, n=n)
        messages.append(i18n.t(key, lang, person=person, years=years, ordinal=f"{n}.",
                               company=firm if isinstance(firm, str) else ""))
    out["message"] = messages
    out["years"] = out["years"].where(out["occasion"] == "anniversary").astype("Int64")
    columns = ["customer_id", "contact_person", "occasion", "date", "days_until", "years", "message"]
    return out[columns].reset_index(drop=True)




# -- the notebook's analysis ------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoyaltyAnalysis:
    """Everything the loyalty sections of ``05_loyalty_and_service`` show, computed once by :func:`analyse`.

    Tables are ready to show (spend bands named, contacts added and masked as the report asks); a list
    whose data is missing is an empty frame and its sentence says so (or the section names the missing
    table). Sentences are in the report's language.
    """

    #: tier thresholds (monthly spend) and where they come from (``params``, ``proposed``, ...)
    thresholds: tuple[float, ...]
    threshold_source: str
    discounts: tuple[float, ...]
    #: per customer: monthly spend, tier, next threshold (the chart's input)
    tiers: pd.DataFrame
    economics: dict[str, float]
    summary: tuple[str, ...]
    tiles: tuple[tuple[str, str], ...]
    tier_table: pd.DataFrame
    tiers_sentence: str
    tier_source_sentence: str
    discount_cost_sentence: str
    near: pd.DataFrame
    near_sentence: str
    terms: pd.DataFrame
    terms_sentence: str
    terms_rules_sentence: str
    #: the payments columns the loyal terms would need; empty when the payments table has them
    payments_missing: tuple[str, ...]
    has_products: bool
    priority: pd.DataFrame
    #: ``None`` without product ids in the orders (the section names the missing column instead)
    priority_sentence: str | None
    new_product_days: int
    new_products: pd.DataFrame
    new_products_sentence: str
    special_days_ahead: int
    special: pd.DataFrame
    special_sentence: str
    special_people_sentence: str | None
    lapsed_sentence: str | None
    has_referrals: bool
    referrals: pd.DataFrame
    referrals_sentence: str | None


def _summary(lp: dict[str, Any], *, lang: str, currency: str, tier_table: pd.DataFrame, near: pd.DataFrame,
             economics: dict[str, float], terms: pd.DataFrame, loyal: pd.DataFrame, new_products: pd.DataFrame | None,
             priority: pd.DataFrame | None, special_calls: pd.DataFrame,
             referrals: pd.DataFrame | None) -> tuple[str, ...]:
    """The executive summary's loyalty lines (``loy.summary.*``), those without data left out."""
    n_discount = int(tier_table.loc[tier_table["tier"] > 0, "customers"].sum())
    lines = [
        i18n.t("loy.summary.tiers", lang, n_discount=fmt.number(n_discount, lang),
               n_top=fmt.number(tier_table["customers"].iloc[-1], lang), months=lp["tier_months"],
               cost=fmt.money(tier_table["monthly_discount_cost"].sum(), lang, currency),
               n_near=fmt.number(len(near), lang)),
        (i18n.t("loy.text.discount_margin", lang, cost=fmt.money(economics["monthly_cost"], lang, currency),
                share=fmt.pct(economics["cost_share_of_margin"], lang), months=lp["tier_months"],
                margin=fmt.money(economics["monthly_margin"], lang, currency))
         if pd.notna(economics["cost_share_of_margin"]) else None),
        i18n.t("loy.summary.terms", lang, n_loyal=fmt.number(len(loyal), lang),
               n_customers=fmt.number(len(terms), lang), loyal_days=lp["loyal_terms_days"],
               standard_days=lp["standard_terms_days"]),
        (i18n.t("loy.summary.priority", lang, n_new=fmt.number(len(new_products), lang),
                days=lp["new_product_days"], n_customers=fmt.number(len(priority), lang))
         if priority is not None and new_products is not None and len(priority) else None),
        i18n.t("loy.summary.special", lang,
               n_birthdays=fmt.number((special_calls["occasion"] == "birthday").sum(), lang),
               n_anniversaries=fmt.number((special_calls["occasion"] == "anniversary").sum(), lang),
               days=lp["special_days_ahead"]),
        (i18n.t("loy.summary.referrals", lang, n_referrers=fmt.number(len(referrals), lang),
                total=fmt.money(referrals["reward"].sum(), lang, currency),
                n_referred=fmt.number(referrals["referred_ordered"].sum(), lang))
         if referrals is not None and len(referrals) else None),
    ]
    return tuple(line for line in lines if line)


def _tier_sentences(lp: dict[str, Any], *, lang: str, currency: str, thresholds: list[float], source: str,
                    n_customers: int, economics: dict[str, float]) -> tuple[str, str, str]:
    """How the tiers work, where their thresholds come from, and the discounts' cost against the margin."""
    how = i18n.t("loy.text.tiers", lang, months=lp["tier_months"], first=fmt.money(thresholds[0], lang, currency),
                 first_discount=fmt.pct(lp["tier_discounts"][1], lang))
    where = i18n.t(f"loy.text.tier_source_{source}", lang, months=lp["tier_months"],
                   n=fmt.number(n_customers, lang),
                   thresholds=", ".join(fmt.money(x, lang, currency) for x in thresholds),
                   top_share=fmt.pct(1 - lp["tier_spend_quantiles"][0], lang, 0),
                   very_top_share=fmt.pct(1 - lp["tier_spend_quantiles"][-1], lang, 0))
    if pd.notna(economics["cost_share_of_margin"]):
        cost = i18n.t("loy.text.discount_margin", lang, cost=fmt.money(economics["monthly_cost"], lang, currency),
                      share=fmt.pct(economics["cost_share_of_margin"], lang), months=lp["tier_months"],
                      margin=fmt.money(economics["monthly_margin"], lang, currency))
    else:
        cost = i18n.t("loy.text.discount_margin_unknown", lang,
                      cost=fmt.money(economics["monthly_cost"], lang, currency))
    return how, where, cost


def _terms_sentences(lp: dict[str, Any], terms: pd.DataFrame, loyal: pd.DataFrame, *, lang: str) -> tuple[str, str]:
    """Who gets the loyal payment terms, and how many long-standing customers miss them and why."""
    rule = i18n.t("loy.text.terms" if lp["loyal_max_late_payments"] else "loy.text.terms_no_late", lang,
                  tenure=lp["loyal_min_tenure_months"], orders=lp["loyal_min_orders"],
                  late=lp["loyal_max_late_payments"], lookback=lp["late_lookback_months"],
                  loyal_days=lp["loyal_terms_days"], standard_days=lp["standard_terms_days"],
                  n_loyal=fmt.number(len(loyal), lang))
    candidates = terms["meets_tenure"] & terms["meets_orders"]
    few = candidates & terms["meets_recent"] & (terms["invoices"] < lp["terms_min_invoices"])
    rules = i18n.t("loy.text.terms_rules", lang, recent_days=lp["terms_max_recency_days"],
                   min_invoices=lp["terms_min_invoices"], lookback=lp["late_lookback_months"],
                   n_not_recent=fmt.number((candidates & ~terms["meets_recent"]).sum(), lang),
                   n_few_invoices=fmt.number(few.sum(), lang))
    return rule, rules


def _referrals_sentence(lp: dict[str, Any], referrals: pd.DataFrame, *, lang: str, currency: str) -> str:
    if not len(referrals):
        return i18n.t("loy.text.referrals_none", lang)
    return i18n.t("loy.text.referrals_fixed" if lp["referral_reward"] is not None else "loy.text.referrals_scaled",
                  lang, reward=fmt.money(lp["referral_reward"], lang, currency),
                  share=fmt.pct(lp["referral_reward_share"], lang),
                  total=fmt.money(referrals["reward"].sum(), lang, currency),
                  payable=fmt.money(referrals["reward_payable"].sum(min_count=1), lang, currency),
                  pending=fmt.money(referrals["reward_pending"].sum(min_count=1), lang, currency))


def analyse(ctx: Any) -> LoyaltyAnalysis:
    """Volume-discount tiers, payment terms, priority stock, special days and referral rewards: write their
    action lists (``discount_upsell``, ``payment_terms``, ``special_days``, ``priority_stock``,
    ``referral_rewards``) and return what the notebook shows.

    Parameters
    ----------
    ctx
        The run's :class:`~crmlib.core.context.Context`.
    """
    lang, cur = ctx.lang, ctx.currency
    lp = ctx.params["loyalty"]
    customers = ctx.tables["customers"]
    contacts = customers if ctx.has("customers") else None
    lapsed_ids = ctx.customer_summary.loc[is_lapsed(ctx.customer_summary["recency_days"], ctx.params), "customer_id"]
    thresholds, threshold_source = tier_thresholds(ctx.orders, as_of=ctx.as_of, params=lp)
    tiers = discount_tiers(ctx.orders, as_of=ctx.as_of, months=lp["tier_months"], thresholds=thresholds,
                           discounts=lp["tier_discounts"])
    economics = discount_economics(tiers, ctx.orders, as_of=ctx.as_of, months=lp["tier_months"])
    tier_table = tier_summary(tiers, discounts=lp["tier_discounts"])
    names = tier_names(thresholds, lang=lang, currency=cur)
    near = near_next_tier(tiers, share=lp["near_tier_share"])
    near["tier"] = near["tier"].map(dict(enumerate(names)))
    has_payments = ctx.has("payments", "due_date")
    terms = payment_terms(
        ctx.customer_summary, ctx.tables["payments"] if has_payments else None, as_of=ctx.as_of,
        min_tenure_months=lp["loyal_min_tenure_months"], min_orders=lp["loyal_min_orders"],
        max_late=lp["loyal_max_late_payments"], grace_days=lp["late_grace_days"],
        lookback_months=lp["late_lookback_months"], loyal_days=lp["loyal_terms_days"],
        standard_days=lp["standard_terms_days"], max_recency_days=lp["terms_max_recency_days"],
        min_invoices=lp["terms_min_invoices"])
    loyal = terms[terms["is_loyal"]]
    has_products = ctx.has("orders", "product_id")
    priority, new_products, n_launches, n_priority_lapsed = None, None, 0, 0
    if has_products:
        priority, new_products = priority_stock(
            None, as_of=ctx.as_of, new_product_days=lp["new_product_days"],
            early_buyer_days=lp["early_buyer_days"], burn_in_days=lp["burn_in_days"], top_n=lp["priority_top_n"],
            first_sales=ctx.view("product_first_sales"),
            early_buyers=ctx.view("early_buyers", early_days=lp["early_buyer_days"]))
        n_priority_lapsed = len(priority)
        priority = without_lapsed(priority, lapsed_ids)
        n_priority_lapsed -= len(priority)
        n_launches = int(product_launches(None, as_of=ctx.as_of, burn_in_days=lp["burn_in_days"],
                                          first_sales=ctx.view("product_first_sales"))["is_launch"].sum())
    has_birthdays = ctx.has("customers", "birth_date")
    special = special_days(ctx.customer_summary, customers if has_birthdays else None, as_of=ctx.as_of,
                           days_ahead=lp["special_days_ahead"], data_start=ctx.data_window[0],
                           burn_in_days=lp["burn_in_days"])
    n_lapsed_left_out = len(special) + n_priority_lapsed
    special = without_lapsed(special, lapsed_ids)
    n_lapsed_left_out -= len(special)
    special_calls = special_day_calls(special, contacts, lang=lang)
    n_company_birthdays = int((special["occasion"] == "birthday").sum()
                              - (special_calls["occasion"] == "birthday").sum())
    special_end = ctx.as_of + pd.Timedelta(days=lp["special_days_ahead"] - 1)
    has_referrals = ctx.has("customers", "referred_by")
    referrals = (referral_rewards(customers, ctx.customer_summary, reward=lp["referral_reward"],
                                  share=lp["referral_reward_share"], orders=ctx.orders, as_of=ctx.as_of,
                                  payments=ctx.tables["payments"] if ctx.has("payments", "paid_date") else None)
                 if has_referrals else None)

    ctx.export_action_list("discount_upsell", with_contacts(near, contacts, mask=ctx.mask_pii))
    ctx.export_action_list("payment_terms", with_contacts(loyal, contacts, mask=ctx.mask_pii))
    ctx.export_action_list("special_days", mask_contacts(with_contacts(special_calls, contacts, mask=False),
                                                         enabled=ctx.mask_pii))
    if priority is not None:
        ctx.export_action_list("priority_stock", with_contacts(priority, contacts, mask=ctx.mask_pii))
    if referrals is not None:
        ctx.export_action_list("referral_rewards", with_contacts(referrals, contacts, mask=ctx.mask_pii,
                                                                 id_column="referrer_id"))

    n_discount = int(tier_table.loc[tier_table["tier"] > 0, "customers"].sum())
    terms_sentence, terms_rules_sentence = _terms_sentences(lp, terms, loyal, lang=lang)
    tier_texts = _tier_sentences(lp, lang=lang, currency=cur, thresholds=thresholds, source=threshold_source,
                                 n_customers=len(tiers), economics=economics)
    occasions = {"birthday": i18n.t("loy.birthday", lang), "anniversary": i18n.t("loy.anniversary", lang)}
    no_priority = pd.DataFrame(columns=["customer_id", "launches_bought_early", "new_bought_early", "early_amount",
                                        "share_of_launches"])
    no_referrals = pd.DataFrame(columns=["referrer_id", "referred", "referred_ordered", "first_orders", "reward"])
    return LoyaltyAnalysis(
        thresholds=tuple(thresholds), threshold_source=threshold_source, discounts=tuple(lp["tier_discounts"]),
        tiers=tiers, economics=dict(economics),
        summary=_summary(lp, lang=lang, currency=cur, tier_table=tier_table, near=near, economics=economics,
                         terms=terms, loyal=loyal, new_products=new_products, priority=priority,
                         special_calls=special_calls, referrals=referrals),
        tiles=(
            (i18n.t("loy.tile.discount_customers", lang), fmt.number(n_discount, lang)),
            (i18n.t("loy.tile.discount_cost", lang), fmt.money(tier_table["monthly_discount_cost"].sum(), lang, cur)),
            (i18n.t("loy.tile.loyal", lang), fmt.number(len(loyal), lang)),
        ),
        tier_table=tier_table.assign(tier=names[: len(tier_table)]).rename(
            columns={"monthly_spend": "tier_monthly_spend"}),
        tiers_sentence=tier_texts[0], tier_source_sentence=tier_texts[1], discount_cost_sentence=tier_texts[2],
        near=with_contacts(near[["customer_id", "monthly_spend", "tier", "next_threshold", "gap_to_next",
                                 "next_discount"]], contacts, mask=ctx.mask_pii, columns=("name",)),
        near_sentence=(i18n.t("loy.text.near", lang, n=fmt.number(len(near), lang),
                              share=fmt.pct(lp["near_tier_share"], lang, 0))
                       if len(near) else i18n.t("loy.text.near_none", lang)),
        terms=with_contacts(loyal[["customer_id", "last_order_date", "days_since_last_order", "first_order_date",
                                   "tenure_months", "n_orders", "invoices", "late_payments", "terms_days"]],
                            contacts, mask=ctx.mask_pii, columns=("name",)),
        terms_sentence=terms_sentence, terms_rules_sentence=terms_rules_sentence,
        payments_missing=(() if has_payments else ("customer_id", "due_date", "paid_date")
                          if ctx.tables["payments"] is None else ("due_date",)),
        has_products=has_products,
        priority=priority if priority is not None else no_priority,
        priority_sentence=(None if priority is None else
                           i18n.t("loy.text.priority", lang, burn_in=lp["burn_in_days"], early=lp["early_buyer_days"],
                                  n_launches=fmt.number(n_launches, lang)) if len(priority) else
                           i18n.t("loy.text.priority_none", lang, burn_in=lp["burn_in_days"])),
        new_product_days=lp["new_product_days"],
        new_products=new_products if new_products is not None else pd.DataFrame(
            columns=["product_id", "first_sale", "early_buyers", "early_amount"]),
        new_products_sentence=i18n.t("loy.text.new_products", lang,
                                     n=fmt.number(0 if new_products is None else len(new_products), lang),
                                     days=lp["new_product_days"]),
        special_days_ahead=lp["special_days_ahead"],
        special=with_contacts(special_calls, contacts, mask=ctx.mask_pii, columns=("name", "phone")).assign(
            occasion=special_calls["occasion"].map(occasions)),
        special_sentence=i18n.t("loy.text.special", lang, n=fmt.number(len(special_calls), lang),
                                start=fmt.date(ctx.as_of, lang), end=fmt.date(special_end, lang)),
        special_people_sentence=(i18n.t("loy.text.special_people", lang,
                                        n_skipped=fmt.number(n_company_birthdays, lang)) if has_birthdays else None),
        lapsed_sentence=(i18n.t("loy.text.lapsed_left_out", lang, n=fmt.number(n_lapsed_left_out, lang),
                                days=fmt.number(lapsed_limit(ctx.params), lang)) if n_lapsed_left_out else None),
        has_referrals=has_referrals,
        referrals=(with_contacts(referrals, contacts, mask=ctx.mask_pii, id_column="referrer_id", columns=("name",))
                   if referrals is not None else no_referrals),
        referrals_sentence=(_referrals_sentence(lp, referrals, lang=lang, currency=cur)
                            if referrals is not None else None),
    )
