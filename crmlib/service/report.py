"""What the service half of ``05_loyalty_and_service`` shows: contacts added to the action lists, the
executive summary lines, the section sentences and :func:`analyse`, which computes them once.

Every text comes from the practice's catalogue (``crmlib/service/messages.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from crmlib.data.frames import map_distinct
from crmlib.data.textops import isin
from crmlib.report import formatting as fmt
from crmlib.report import i18n
from crmlib.report.display import mask_contacts
from crmlib.segmentation.report import segment_label
from crmlib.service.complaints import (
    checkins,
    open_by_age,
    open_complaints,
    recurring_categories,
    recurring_products,
    resolution_followups,
    review_requests,
    service_by_month,
    service_metrics,
    this_week,
)
from crmlib.service.triage import flag_priority, split_stale, weekly_calls

#: the unit of each column the service tables show (headers ``svc.col.<column>``, then ``col.<column>``)
UNITS: dict[str, str] = {
    "opened_at": "date", "resolved_at": "date", "order_date": "date", "due_date": "date",
    "first_order_date": "date", "age_days": "int", "complaints": "int", "customers": "int", "orders": "int",
    "checkin_day": "int", "n_orders": "int", "complaint_rate": "pct", "amount": "money",
}


def _contact_info(customers: pd.DataFrame, present: list[str], *, mask: bool) -> pd.DataFrame:
    """The ``present`` contact columns of ``customers`` by text ``customer_id`` (first row per id), masked
    when ``mask``."""
    info = customers.assign(customer_id=customers["customer_id"].astype(str)).drop_duplicates("customer_id")
    return mask_contacts(info.set_index("customer_id")[present], enabled=mask)


def with_contacts(
    frame: pd.DataFrame,
    customers: pd.DataFrame | None,
    *,
    mask: bool,
    id_column: str = "customer_id",
    columns: tuple[str, ...] = ("name", "phone", "email"),
) -> pd.DataFrame:
    """Add the customers' name, phone and e-mail right after ``id_column`` (masked when ``mask``).

    For action lists the team calls from. Without a customers table (or those columns) ``frame`` comes back
    unchanged. Required columns of ``customers``: ``customer_id``.
    """
    if customers is None or "customer_id" not in customers.columns or id_column not in frame.columns:
        return frame
    present = [c for c in columns if c in customers.columns]
    if not present:
        return frame
    wanted = frame[id_column].astype(str)
    listed = customers.loc[isin(customers["customer_id"].astype(str), wanted)] if len(wanted) else customers
    info = _contact_info(listed, present, mask=mask)
    if len(wanted) and any(info[col].isna().all() for col in present):  # keep the full table's dtypes
        info = _contact_info(customers, present, mask=mask)
    out = frame.copy()
    at = list(out.columns).index(id_column) + 1
    for offset, col in enumerate(present):
        out.insert(at + offset, col, info[col].reindex(out[id_column].astype(str)).to_numpy())
    return out


# -- the notebook's analysis ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ServiceAnalysis:
    """Everything the service sections of ``05_loyalty_and_service`` show, computed once by :func:`analyse`.

    ``has_tickets`` / ``has_resolved``: whether the tickets table (and its ``resolved_at``) is there; without
    them the frames are empty and the sections name what is missing. Sentences are in the report's language.
    """

    has_tickets: bool
    has_resolved: bool
    summary: tuple[str, ...]
    tiles: tuple[tuple[str, str], ...]
    #: tickets, acknowledgement and resolution by month (the chart's input)
    trend: pd.DataFrame
    metrics_sentence: str | None
    #: open complaints per age band (the chart's input)
    open_bands: pd.DataFrame
    open_sentence: str | None
    priority_sentence: str | None
    open_table: pd.DataFrame
    stale_sentence: str | None
    #: whether the tickets lack ``resolved_at`` (the open-complaints section then names it)
    missing_resolved: bool
    categories: pd.DataFrame
    categories_sentence: str | None
    missing_category: bool
    problem_products: pd.DataFrame
    products_sentence: str | None
    missing_product: bool
    week_start_text: str
    week_end_text: str
    week_days: int
    review_request_days: int
    reviews: pd.DataFrame
    reviews_sentence: str
    review_capacity_sentence: str | None
    checkin_days_text: str
    checkins: pd.DataFrame
    checkins_sentence: str
    followup_days: int
    followups: pd.DataFrame
    followups_sentence: str | None


def _summary(sp: dict[str, Any], *, lang: str, kpis: dict[str, float] | None, open_tickets: pd.DataFrame | None,
             n_old: int, old_days: int, categories: pd.DataFrame | None, flagged: pd.DataFrame | None,
             week: tuple[pd.Timestamp, pd.Timestamp], reviews: pd.DataFrame, checkin_calls: pd.DataFrame,
             followups: pd.DataFrame | None) -> tuple[str, ...]:
    """The executive summary's service lines (``svc.summary.*``), those without data left out."""
    lines = [
        (i18n.t("svc.summary.service", lang, same_day=fmt.pct(kpis["same_day_ack_rate"], lang),
                median=fmt.number(kpis["median_resolution_days"], lang, 1),
                p90=fmt.number(kpis["p90_resolution_days"], lang, 1), n_open=fmt.number(len(open_tickets), lang),
                n_old=fmt.number(n_old, lang), old_days=old_days)
         if kpis is not None and open_tickets is not None else None),
        (i18n.t("svc.summary.recurring", lang, days=sp["recurring_lookback_days"],
                n_products=fmt.number(len(flagged), lang),
                n_categories=fmt.number(categories["is_recurring"].sum(), lang), top=categories["category"].iloc[0])
         if categories is not None and flagged is not None and len(categories) else None),
        i18n.t("svc.summary.followups", lang, start=fmt.date(week[0], lang), end=fmt.date(week[1], lang),
               n_reviews=fmt.number(len(reviews), lang), n_checkins=fmt.number(len(checkin_calls), lang),
               n_followups=fmt.number(len(followups) if followups is not None else 0, lang)),
    ]
    return tuple(line for line in lines if line)


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=columns)


def analyse(ctx: Any) -> ServiceAnalysis:
    """Complaint handling, recurring problems and this week's follow-up lists: write the action lists
    (``review_requests``, ``checkins``, ``open_complaints``, ``stale_complaints``, ``complaint_followups``)
    and ``problem_products.csv``, and return what the notebook shows.

    Parameters
    ----------
    ctx
        The run's :class:`~crmlib.core.context.Context`.
    """
    lang = ctx.lang
    sp = ctx.params["service"]
    tickets = ctx.tables["tickets"]
    contacts = ctx.tables["customers"] if ctx.has("customers") else None
    week_start, week_end = this_week(ctx.as_of, days=sp["week_days"])
    has_tickets = ctx.has("tickets")
    has_resolved = ctx.has("tickets", "resolved_at")
    kpis = service_metrics(tickets, as_of=ctx.as_of) if has_tickets else None
    trend = service_by_month(tickets, as_of=ctx.as_of) if has_tickets else _empty(["month"])
    open_tickets = stale = followups = None
    old_days = sp["open_age_bands_days"][1] if len(sp["open_age_bands_days"]) > 1 else sp["open_age_bands_days"][0]
    n_old = 0
    if has_resolved:
        open_tickets = open_complaints(tickets, as_of=ctx.as_of, bands=sp["open_age_bands_days"])
        open_tickets, stale = split_stale(open_tickets, stale_days=sp["stale_open_days"])
        open_tickets = flag_priority(open_tickets, ctx.segments(), priority_segments=sp["priority_segments"])
        n_old = int((open_tickets["age_days"] > old_days).sum())
        followups = resolution_followups(tickets, as_of=ctx.as_of, after_days=sp["followup_after_resolution_days"],
                                         week_days=sp["week_days"])
    has_categories = ctx.has("tickets", "category")
    categories = (recurring_categories(tickets, as_of=ctx.as_of, lookback_days=sp["recurring_lookback_days"],
                                       min_complaints=sp["recurring_min_complaints"]) if has_categories else None)
    has_ticket_products = ctx.has("tickets", "product_id")
    problem_products = (recurring_products(
        tickets, None, as_of=ctx.as_of,
        lookback_days=sp["recurring_lookback_days"], min_complaints=sp["recurring_min_complaints"],
        min_rate=sp["recurring_min_rate"],
        product_orders=(ctx.view("product_orders", lookback_days=sp["recurring_lookback_days"])
                        if ctx.has("orders", "product_id") else None)) if has_ticket_products else None)
    flagged = problem_products[problem_products["is_recurring"]] if problem_products is not None else None
    reviews = review_requests(ctx.orders, as_of=ctx.as_of, after_days=sp["review_request_days"],
                              week_days=sp["week_days"])
    reviews, held = weekly_calls(reviews, ctx.tables.get("contacts"), as_of=ctx.as_of,
                                 capacity=sp["review_calls_per_week"], min_days_between=sp["min_days_between_calls"],
                                 value="amount")
    checkin_calls = checkins(ctx.customer_summary, as_of=ctx.as_of, after_days=sp["checkin_days"],
                             week_days=sp["week_days"])
    n_calls = len(reviews) + len(checkin_calls) + (len(followups) if followups is not None else 0)

    ctx.export_action_list("review_requests", with_contacts(reviews, contacts, mask=ctx.mask_pii))
    ctx.export_action_list("checkins", with_contacts(checkin_calls, contacts, mask=ctx.mask_pii))
    if has_resolved:
        ctx.export_action_list("open_complaints", with_contacts(open_tickets, contacts, mask=ctx.mask_pii))
        ctx.export_action_list("stale_complaints", with_contacts(stale, contacts, mask=ctx.mask_pii))
        ctx.export_action_list("complaint_followups", with_contacts(followups, contacts, mask=ctx.mask_pii))
    if problem_products is not None:
        ctx.export_csv("problem_products", problem_products)

    tiles = ((i18n.t("svc.tile.same_day", lang), fmt.pct(kpis["same_day_ack_rate"], lang)),) if kpis is not None else ()
    if open_tickets is not None:
        tiles += ((i18n.t("svc.tile.open", lang), fmt.number(len(open_tickets), lang)),)
    tiles += ((i18n.t("svc.tile.calls", lang), fmt.number(n_calls, lang)),)
    shown_open = _empty(["ticket_id", "customer_id", "opened_at", "age_days", "age_band"])
    if open_tickets is not None and len(open_tickets):
        shown_open = with_contacts(open_tickets.drop(columns="priority").assign(
            segment=map_distinct(open_tickets["segment"], lambda s: segment_label(s, lang) if isinstance(s, str) else "")),
            contacts, mask=ctx.mask_pii, columns=("name",))
    shown_products = _empty(["product_id", "complaints", "customers", "orders", "complaint_rate"])
    if flagged is not None and len(flagged):
        shown_products = flagged.drop(columns="is_recurring")
    rate_values = {"min": sp["recurring_min_complaints"], "days": sp["recurring_lookback_days"],
                   "rate": fmt.pct(sp["recurring_min_rate"], lang)}
    return ServiceAnalysis(
        has_tickets=has_tickets, has_resolved=has_resolved,
        summary=_summary(sp, lang=lang, kpis=kpis, open_tickets=open_tickets, n_old=n_old, old_days=old_days,
                         categories=categories, flagged=flagged, week=(week_start, week_end), reviews=reviews,
                         checkin_calls=checkin_calls, followups=followups),
        tiles=tiles,
        trend=trend,
        metrics_sentence=(i18n.t("svc.text.metrics", lang, same_day=fmt.pct(kpis["same_day_ack_rate"], lang),
                                 n=fmt.number(kpis["tickets"], lang),
                                 median=fmt.number(kpis["median_resolution_days"], lang, 1),
                                 p90=fmt.number(kpis["p90_resolution_days"], lang, 1)) if kpis is not None else None),
        open_bands=open_by_age(open_tickets) if open_tickets is not None else _empty(["age_band", "open"]),
        open_sentence=(None if open_tickets is None else
                       i18n.t("svc.text.open", lang, n_open=fmt.number(len(open_tickets), lang),
                              n_old=fmt.number(n_old, lang), old_days=old_days) if len(open_tickets) else
                       i18n.t("svc.text.open_none", lang)),
        priority_sentence=(i18n.t("svc.text.priority", lang, n=fmt.number(open_tickets["priority"].sum(), lang))
                           if open_tickets is not None and len(open_tickets) and open_tickets["priority"].any()
                           else None),
        open_table=shown_open,
        stale_sentence=(i18n.t("svc.text.stale", lang, n=fmt.number(len(stale), lang),
                               days=fmt.number(sp["stale_open_days"], lang))
                        if stale is not None and len(stale) else None),
        missing_resolved=has_tickets and not has_resolved,
        categories=(categories if has_categories and len(categories)
                    else _empty(["category", "complaints", "previous", "is_recurring"])),
        categories_sentence=(i18n.t("svc.text.categories", lang, days=sp["recurring_lookback_days"],
                                    top=categories["category"].iloc[0],
                                    n=fmt.number(categories["complaints"].iloc[0], lang),
                                    previous=fmt.number(categories["previous"].iloc[0], lang),
                                    n_recurring=fmt.number(categories["is_recurring"].sum(), lang),
                                    min=sp["recurring_min_complaints"])
                             if has_tickets and has_categories and len(categories) else None),
        missing_category=has_tickets and not has_categories,
        problem_products=shown_products if has_tickets else _empty(list(shown_products.columns)),
        products_sentence=(None if not has_tickets or flagged is None else
                           i18n.t("svc.text.products", lang, n=fmt.number(len(flagged), lang), **rate_values)
                           if len(flagged) else i18n.t("svc.text.products_none", lang, **rate_values)),
        missing_product=has_tickets and not has_ticket_products,
        week_start_text=fmt.date(week_start, lang), week_end_text=fmt.date(week_end, lang),
        week_days=sp["week_days"], review_request_days=sp["review_request_days"],
        reviews=with_contacts(reviews, contacts, mask=ctx.mask_pii, columns=("name", "phone")),
        reviews_sentence=(i18n.t("svc.text.reviews", lang, n=fmt.number(len(reviews), lang),
                                 days=sp["review_request_days"])
                          if len(reviews) else i18n.t("svc.text.list_empty", lang)),
        review_capacity_sentence=(i18n.t("svc.text.review_capacity", lang, n=fmt.number(len(reviews), lang),
                                         cut=fmt.number(held["cut_by_capacity"], lang),
                                         deferred=fmt.number(held["deferred_recent_contact"], lang),
                                         days=sp["min_days_between_calls"])
                                  if len(reviews) and (held["cut_by_capacity"] or held["deferred_recent_contact"])
                                  else None),
        checkin_days_text=", ".join(str(d) for d in sp["checkin_days"]),
        checkins=with_contacts(checkin_calls, contacts, mask=ctx.mask_pii, columns=("name", "phone")),
        checkins_sentence=(i18n.t("svc.text.checkins", lang, n=fmt.number(len(checkin_calls), lang),
                                  n_single=fmt.number((checkin_calls["n_orders"] <= 1).sum(), lang))
                           if len(checkin_calls) else i18n.t("svc.text.list_empty", lang)),
        followup_days=sp["followup_after_resolution_days"],
        followups=(with_contacts(followups, contacts, mask=ctx.mask_pii, columns=("name", "phone"))
                   if followups is not None else _empty(["customer_id", "ticket_id", "resolved_at", "due_date"])),
        followups_sentence=(None if followups is None else
                            i18n.t("svc.text.complaint_followups", lang, n=fmt.number(len(followups), lang),
                                   days=sp["followup_after_resolution_days"])
                            if len(followups) else i18n.t("svc.text.list_empty", lang)),
    )
