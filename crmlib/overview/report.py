"""What ``00_overview`` shows: the executive summary, the KPI table, the data-quality tables, the section
sentences and :func:`analyse`, which computes them once.

Every text comes from the practice's catalogues (``crmlib/overview/messages.yaml`` for ``ov.*``,
``crmlib/overview/kpi_messages.yaml`` for ``kpi.*``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlib.overview.changes import what_got_worse
from crmlib.overview.coverage import customers_left_out
from crmlib.overview.kpis import (
    KPI_DEFAULTS,
    KPI_UNITS,
    cac_by_channel,
    cohort_average,
    cohort_retention,
    monthly_kpis,
    repeat_customer_share,
    survey_scores,
    survey_trend,
    window_kpis,
)
from crmlib.overview.summary import (
    headline,
    last_complete_month,
    missing_values,
    monthly,
    order_values,
    tables_used,
)
from crmlib.report import formatting as fmt
from crmlib.report import i18n

#: the unit of each column the overview's tables show (headers ``ov.col.<column>`` / ``kpi.col.<column>``,
#: then ``col.<column>``)
UNITS: dict[str, str] = {
    "month": "month", "active_customers": "int", "new_customers": "int", "revenue": "money",
    "avg_order_value": "money", "purchase_frequency": "number:2", "repeat_purchase_rate": "pct",
    "retention_rate": "pct", "churn_rate": "pct", "spend": "money", "cac": "money",
    "rows": "int", "count": "int", "customers": "int", "missing": "int", "share": "pct",
}
#: the KPI columns of the monthly table, in display order
MONTHLY_COLUMNS: tuple[str, ...] = tuple(KPI_UNITS)


# -- labels and tables ------------------------------------------------------------------------------------
def worse_sentence(worse: pd.DataFrame, *, lang: str, currency: str, limit: int = 5) -> str:
    """One summary sentence naming what got worse ("NPS 6.6 → 3.7, ..."), or that nothing did."""
    if worse.empty:
        return i18n.t("ov.worse.none", lang)
    parts = []
    for _, r in worse.head(limit).iterrows():
        parts.append(i18n.t(f"ov.worse.item.{r['item']}", lang, label=r["label"],
                            previous=format_kpi(r["previous"], r["unit"], lang=lang, currency=currency),
                            current=format_kpi(r["current"], r["unit"], lang=lang, currency=currency)))
    days = sorted({int(d) for d in worse["days"]})
    return i18n.t("ov.worse.some", lang, items="; ".join(parts), days=" / ".join(str(d) for d in days))


def left_out_table(left_out: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """:func:`~crmlib.overview.coverage.customers_left_out` with each reason in words (catalogue
    ``ov.left_out.<reason>``)."""
    return left_out.assign(reason=[i18n.t(f"ov.left_out.{r}", lang) for r in left_out["reason"]])


def format_kpi(value: float, unit: str, *, lang: str, currency: str) -> str:
    """One KPI value as text in the report's conventions (``unit`` from :data:`KPI_UNITS`, or ``points``
    and ``count`` of the changes since the last run)."""
    if unit == "money":
        return fmt.money(value, lang, currency)
    if unit == "pct":
        return fmt.pct(value, lang)
    if unit == "points":
        return fmt.number(value, lang, 1)
    if unit == "number":
        return fmt.number(value, lang, 2)
    return fmt.number(value, lang)


def kpi_table(windows: dict[int, pd.DataFrame], *, lang: str, currency: str) -> pd.DataFrame:
    """The headline KPI table of the overview: one row per KPI, its value per window, and its definition.

    ``windows`` maps a window length in days to :func:`~crmlib.overview.kpis.window_kpis`'s result. Cells are formatted text and
    the column headers are already translated (they carry the window lengths), so the frame can be shown
    as it is.
    """
    rows = []
    for key, unit in KPI_UNITS.items():
        row = {i18n.t("kpi.col.kpi", lang): i18n.t(f"kpi.{key}", lang)}
        for days, table in windows.items():
            for column, label in (("current", "kpi.col.last_days"), ("previous", "kpi.col.prev_days")):
                row[i18n.t(label, lang, days=days)] = format_kpi(
                    table.loc[key, column], unit, lang=lang, currency=currency
                )
        row[i18n.t("kpi.col.definition", lang)] = i18n.t(f"kpi.def.{key}", lang)
        rows.append(row)
    return pd.DataFrame(rows)


def quality_notes(quality: list[dict[str, Any]], *, lang: str, currency: str = "TRY") -> pd.DataFrame:
    """The loader's notes (what it fixed or left out, and why) as a table: ``table``, ``count``, ``message``.

    Each note's sentence comes from the catalogue entry ``dq.note.<kind>`` in ``lang``, its numbers in that
    language's style (``total`` as money); the English ``message`` of the note is the fallback for a kind
    without an entry. ``table`` is the table's name for readers (catalogue ``common.table.<name>``).
    """
    def shown(key: str, value: Any) -> Any:
        if key == "total":
            return fmt.money(value, lang, currency)
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        return fmt.number(value, lang) if numeric else value

    rows = []
    for q in quality:
        key = f"dq.note.{q.get('kind', '')}"
        if i18n.has(key):
            values = {k: shown(k, v) for k, v in (q.get("values") or {}).items()}
            table = q.get("table", "")
            text = i18n.t(key, lang, table=i18n.table_label(table, lang),
                          column=i18n.field_label(table, q.get("column") or "", lang),
                          count=fmt.number(q.get("count", 0), lang), **values)
        else:
            text = q.get("message") or q.get("kind", "")
        rows.append({"table": table_label(q.get("table", ""), lang), "count": q.get("count", np.nan),
                     "message": text})
    return pd.DataFrame(rows, columns=["table", "count", "message"])


def table_label(name: str, lang: str) -> str:
    """An input table's name for readers (catalogue ``common.table.<name>``; the name itself otherwise)."""
    return i18n.table_label(name, lang)


def field_label(table: str, column: str, lang: str) -> str:
    """An input column's name for readers (catalogue ``field.<table>.<column>``; the name itself otherwise)."""
    return i18n.field_label(table, column, lang)



# -- the notebook's analysis ------------------------------------------------------------------------------
@dataclass(frozen=True)
class OverviewAnalysis:
    """Everything ``00_overview`` shows, computed once by :func:`analyse`.

    Chart inputs keep their numbers; tables are ready to show (names for readers, ``ov.col.*`` /
    ``kpi.col.*`` headers with :data:`UNITS`); a section without its optional table gets an empty frame
    and the names of the missing columns. Sentences are in the report's language.
    """

    summary: tuple[str, ...]
    tiles: tuple[tuple[str, str], ...]
    #: net revenue per month and the purchase orders' amounts (the charts' inputs)
    by_month: pd.DataFrame
    order_values: pd.Series
    revenue_sentence: str
    order_values_sentence: str
    #: the headline KPIs per window (text cells under translated headers: shown as they are)
    kpi_table: pd.DataFrame
    windows_sentence: str
    repeat_share_sentence: str
    #: the monthly KPIs, oldest first (the chart's input), and the same newest first for the table
    kpi_monthly: pd.DataFrame
    monthly_table: pd.DataFrame
    monthly_sentence: str
    partial_sentence: str | None
    cohorts: pd.DataFrame
    cohort_sentence: str
    has_surveys: bool
    survey_trend: pd.DataFrame
    surveys_sentence: str | None
    surveys_note: str | None
    #: the survey columns the section needs and the data lacks (empty when it has them)
    surveys_missing: tuple[str, ...]
    has_marketing: bool
    #: CAC per channel and in total (the chart's input), and the table with the channels named
    cac: pd.DataFrame
    cac_table: pd.DataFrame
    cac_sentence: str | None
    cac_note: str | None
    marketing_missing: tuple[str, ...]
    tables_used: pd.DataFrame
    absent_sentence: str | None
    notes: pd.DataFrame
    left_out: pd.DataFrame
    left_out_sentence: str
    blanks: pd.DataFrame


def _signed_pct(value: float, lang: str) -> str:
    return ("+" if value > 0 else "") + fmt.pct(value, lang)


def summary_lines(head: dict[str, Any], worse: pd.DataFrame, notes: pd.DataFrame, *, lang: str,
                  currency: str, since: pd.Timestamp | None = None, days: int | None = None,
                  compare_days: int = 90) -> tuple[str, ...]:
    """The executive summary: revenue and its growth, what got worse, customers, orders, returns, data notes.

    ``since`` (the first order date, given when the history is shorter than a year, ``days`` long): the
    figures of "the last 12 months" are those of the whole history, and the sentences say so.
    """
    short = {"since": fmt.date(since, lang), "days": fmt.number(days, lang)} if since is not None else None
    if short is not None:
        revenue = i18n.t("ov.summary_revenue_since", lang, revenue=fmt.money(head["revenue_12m"], lang, currency),
                         **short)
    elif head["revenue_prev_12m"] > 0:
        revenue = i18n.t("ov.summary_revenue", lang, revenue=fmt.money(head["revenue_12m"], lang, currency),
                         growth=_signed_pct(head["growth_12m"], lang))
    else:
        revenue = i18n.t("ov.summary_revenue_no_prev", lang, revenue=fmt.money(head["revenue_12m"], lang, currency))
    suffix = "_since" if short is not None else ""
    # nothing got worse, yet the orders do not cover two comparison windows: say there was nothing to compare
    no_previous = worse.empty and days is not None and since is not None and days < 2 * compare_days
    lines = [
        revenue,
        i18n.t("ov.worse.no_previous", lang, days=compare_days) if no_previous
        else worse_sentence(worse, lang=lang, currency=currency),
        i18n.t("ov.summary_customers", lang, customers=fmt.number(head["customers"], lang),
               active=fmt.number(head["active_90d"], lang)),
        i18n.t(f"ov.summary_orders{suffix}", lang, orders=fmt.number(head["orders_12m"], lang),
               aov=fmt.money(head["aov_12m"], lang, currency), one_time=fmt.pct(head["one_time_share"], lang),
               **(short or {})),
        i18n.t(f"ov.summary_returns{suffix}", lang, returns=fmt.pct(head["returns_share_12m"], lang),
               **(short or {})),
        i18n.t("ov.summary_quality", lang, n=len(notes)) if len(notes) else i18n.t("ov.summary_quality_clean", lang),
    ]
    return tuple(line for line in lines if line)


def _surveys(ctx: Any, opts: dict[str, Any]) -> tuple[pd.DataFrame, str | None, str | None, tuple[str, ...]]:
    """The survey section: trend, sentence and note, or the columns it misses."""
    lang = ctx.lang
    if not (ctx.has("surveys", "date") and (ctx.has("surveys", "nps") or ctx.has("surveys", "csat"))):
        missing = tuple(c for c in ("date", "nps", "csat") if not ctx.has("surveys", c))
        return pd.DataFrame(columns=["month", "nps", "csat"]), None, None, missing
    surveys = ctx.tables["surveys"]
    scores = survey_scores(surveys, as_of=ctx.as_of, days=opts["survey_days"])
    trend = survey_trend(surveys, as_of=ctx.as_of, months=opts["months"])
    sentence = i18n.t("kpi.text.surveys", lang, days=opts["survey_days"],
                      nps=fmt.number(scores.loc["current", "nps"], lang, 1),
                      n_nps=fmt.number(scores.loc["current", "nps_responses"], lang),
                      nps_prev=fmt.number(scores.loc["previous", "nps"], lang, 1),
                      csat=fmt.pct(scores.loc["current", "csat"], lang),
                      n_csat=fmt.number(scores.loc["current", "csat_responses"], lang),
                      csat_prev=fmt.pct(scores.loc["previous", "csat"], lang))
    note = i18n.t("kpi.def.nps", lang) + " " + i18n.t("kpi.def.csat", lang)
    return trend, sentence, note, ()


def _cac(ctx: Any, opts: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, str | None, str | None,
                                                   tuple[str, ...]]:
    """The CAC section: CAC by channel, its table, sentence and note, or the columns it misses."""
    lang, cur = ctx.lang, ctx.currency
    empty = pd.DataFrame(columns=["channel", "spend", "new_customers", "cac"])
    if not ctx.has("marketing", "month", "spend", "new_customers"):
        missing = tuple(c for c in ("month", "spend", "new_customers") if not ctx.has("marketing", c))
        return empty, empty, None, None, missing
    cac = cac_by_channel(ctx.tables["marketing"], as_of=ctx.as_of, months=opts["cac_months"])
    channels = cac[(cac["channel"] != "total") & cac["cac"].notna()]
    if not len(channels):
        return cac, empty, i18n.t("kpi.text.cac_none", lang, months=opts["cac_months"]), None, ()
    sentence = i18n.t("kpi.text.cac", lang, months=opts["cac_months"], total=fmt.money(cac["cac"].iloc[-1], lang, cur),
                      best=channels.loc[channels["cac"].idxmin(), "channel"],
                      best_cac=fmt.money(channels["cac"].min(), lang, cur),
                      worst=channels.loc[channels["cac"].idxmax(), "channel"],
                      worst_cac=fmt.money(channels["cac"].max(), lang, cur))
    table = cac.assign(channel=cac["channel"].replace({"total": i18n.t("kpi.cac_total", lang),
                                                       "all": i18n.t("kpi.cac_all", lang)}))
    return cac, table, sentence, i18n.t("kpi.def.cac", lang, months=opts["cac_months"]), ()


def analyse(ctx: Any) -> OverviewAnalysis:
    """The overview: headline figures, what got worse, revenue and order values, the KPIs and what the
    loader saw and fixed, returned for the notebook (the overview writes no exports).

    Parameters
    ----------
    ctx
        The run's :class:`~crmlib.core.context.Context`.
    """
    lang, cur = ctx.lang, ctx.currency
    head = headline(ctx.orders, ctx.customer_summary, as_of=ctx.as_of)
    windows = {d: window_kpis(ctx.orders, as_of=ctx.as_of, days=d) for d in KPI_DEFAULTS["windows_days"]}
    worse = what_got_worse(ctx.orders, ctx.tables, as_of=ctx.as_of,
                           kpis=windows.get(KPI_DEFAULTS["windows_days"][-1]))
    by_month = monthly(ctx.orders)
    values = order_values(ctx.orders)
    notes = quality_notes([q for q in ctx.quality if q.get("kind") != "blank_values"], lang=lang, currency=cur)
    left_out = customers_left_out(ctx.orders, ctx.customer_summary, customers=ctx.tables.get("customers"),
                                  after_as_of=ctx.meta.get("customers_after_as_of", []))
    blanks = missing_values({"orders": ctx.blank_counts("orders"), **ctx.tables})
    blanks["column"] = [field_label(t, c, lang) for t, c in zip(blanks["table"], blanks["column"], strict=True)]
    blanks["table"] = [table_label(name, lang) for name in blanks["table"]]
    used = tables_used(ctx.meta["files"], ctx.meta["rows"])
    used["table"] = [table_label(name, lang) for name in used["table"]]
    best = by_month.loc[by_month["revenue"].idxmax()]
    last_full = last_complete_month(by_month, as_of=ctx.as_of)
    absent = [name for name, frame in ctx.tables.items() if frame is None]

    opts = KPI_DEFAULTS
    days = opts["windows_days"][0]
    customer_months = ctx.view("customer_months")
    kpi_monthly = monthly_kpis(None, as_of=ctx.as_of, months=opts["months"], customer_months=customer_months)
    complete = ~kpi_monthly["is_partial"]
    last = kpi_monthly[complete].iloc[-1] if complete.any() else kpi_monthly.iloc[-1]
    cohorts = cohort_retention(None, as_of=ctx.as_of, cohorts=opts["cohort_months"], customer_months=customer_months)
    trend, surveys_sentence, surveys_note, surveys_missing = _surveys(ctx, opts)
    cac, cac_table, cac_sentence, cac_note, marketing_missing = _cac(ctx, opts)
    n_left = left_out["customers"].sum()
    start = pd.Timestamp(ctx.data_window[0]).normalize()
    history_days = int((ctx.as_of.normalize() - start).days) + 1
    # less than a year of orders: "the last 12 months" are the whole history, and the page says since when
    since = start if history_days < 365 else None
    tile = (lambda key: i18n.t(f"{key}_since", lang, since=fmt.date(since, lang))) if since is not None else (
        lambda key: i18n.t(key, lang))
    first_month = pd.Period(last["month"], "M") == start.to_period("M")  # nobody can be told new or returning
    return OverviewAnalysis(
        summary=summary_lines(head, worse, notes, lang=lang, currency=cur, since=since, days=history_days,
                              compare_days=int(KPI_DEFAULTS["windows_days"][-1])),
        tiles=(
            (tile("ov.tile_revenue_12m"), fmt.money(head["revenue_12m"], lang, cur)),
            (i18n.t("ov.tile_active", lang), fmt.number(head["active_90d"], lang)),
            (tile("ov.tile_orders"), fmt.number(head["orders_12m"], lang)),
            (tile("ov.tile_aov"), fmt.money(head["aov_12m"], lang, cur)),
        ),
        by_month=by_month, order_values=values,
        revenue_sentence=i18n.t("ov.revenue_text", lang, best_month=fmt.month(best["month"], lang),
                                best=fmt.money(best["revenue"], lang, cur),
                                last_month=fmt.month(last_full["month"], lang),
                                last=fmt.money(last_full["revenue"], lang, cur)),
        order_values_sentence=i18n.t("ov.order_values_text", lang, median=fmt.money(values.median(), lang, cur),
                                     p90=fmt.money(values.quantile(0.9), lang, cur)),
        kpi_table=kpi_table(windows, lang=lang, currency=cur),
        windows_sentence=i18n.t("kpi.text.windows", lang, days=days,
                                active=fmt.number(windows[days].loc["active_customers", "current"], lang),
                                previous=fmt.number(windows[days].loc["active_customers", "previous"], lang),
                                retention=fmt.pct(windows[days].loc["retention_rate", "current"], lang)),
        repeat_share_sentence=i18n.t("kpi.text.repeat_share", lang,
                                     share=fmt.pct(repeat_customer_share(ctx.customer_summary), lang)),
        kpi_monthly=kpi_monthly,
        monthly_table=kpi_monthly.iloc[::-1][["month", *MONTHLY_COLUMNS]],
        monthly_sentence=i18n.t("kpi.text.monthly_first" if first_month else "kpi.text.monthly", lang,
                                month=fmt.month(last["month"], lang),
                                active=fmt.number(last["active_customers"], lang),
                                new=fmt.number(last["new_customers"], lang),
                                retention=fmt.pct(last["retention_rate"], lang), churn=fmt.pct(last["churn_rate"], lang)),
        partial_sentence=(i18n.t("kpi.text.partial", lang, month=fmt.month(kpi_monthly["month"].iloc[-1], lang),
                                 days=fmt.number(kpi_monthly["days"].iloc[-1], lang))
                          if kpi_monthly["is_partial"].iloc[-1] else None),
        cohorts=cohorts,
        cohort_sentence=i18n.t("kpi.text.cohort", lang, m1=fmt.pct(cohort_average(cohorts, 1), lang),
                               m3=fmt.pct(cohort_average(cohorts, 3), lang)),
        has_surveys=surveys_sentence is not None, survey_trend=trend, surveys_sentence=surveys_sentence,
        surveys_note=surveys_note, surveys_missing=surveys_missing,
        has_marketing=not marketing_missing, cac=cac, cac_table=cac_table, cac_sentence=cac_sentence,
        cac_note=cac_note, marketing_missing=marketing_missing,
        tables_used=used,
        absent_sentence=(i18n.t("ov.absent_tables", lang, tables=", ".join(table_label(name, lang) for name in absent))
                         if absent else None),
        notes=notes,
        left_out=left_out_table(left_out, lang=lang),
        left_out_sentence=(i18n.t("ov.left_out_text", lang,
                                  input=fmt.number(len(ctx.customer_summary) + n_left, lang),
                                  analysed=fmt.number(len(ctx.customer_summary), lang),
                                  left=fmt.number(n_left, lang))
                           if len(left_out) else
                           i18n.t("ov.left_out_none", lang, input=fmt.number(len(ctx.customer_summary), lang))),
        blanks=blanks,
    )
