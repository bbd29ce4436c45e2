"""``crmlib.overview.report.analyse``: what 00_overview shows, computed once."""

from __future__ import annotations

import dataclasses

import pandas as pd

from crmlib import overview
from crmlib.overview import report as ov_report
from crmlib.report import formatting as fmt
from crmlib.report import i18n


def test_analyse_returns_the_sections_with_real_values(sample_ctx):
    res = ov_report.analyse(sample_ctx)
    assert isinstance(res, overview.OverviewAnalysis)
    head = overview.headline(sample_ctx.orders, sample_ctx.customer_summary, as_of=sample_ctx.as_of)
    assert res.tiles[0] == (i18n.t("ov.tile_revenue_12m", "en"), fmt.money(head["revenue_12m"], "en", "TRY"))
    assert len(res.summary) == 6 and res.summary[1] == overview.worse_sentence(
        overview.what_got_worse(sample_ctx.orders, sample_ctx.tables, as_of=sample_ctx.as_of), lang="en",
        currency="TRY")
    assert abs(res.by_month["revenue"].sum() - sample_ctx.orders["amount"].sum()) < 0.01
    assert len(res.order_values) == int(sample_ctx.orders["is_purchase"].sum())
    assert len(res.kpi_table) == len(overview.KPI_UNITS)
    # the monthly table is newest first, with the KPI columns the catalogue names (kpi.col.<column>)
    assert res.monthly_table["month"].is_monotonic_decreasing
    assert all(i18n.has(f"kpi.col.{c}") for c in res.monthly_table.columns)
    assert res.has_surveys and res.surveys_missing == () and "NPS" in res.surveys_sentence
    assert res.has_marketing and len(res.cac_table) and res.cac_note
    assert i18n.t("kpi.cac_total", "en") in set(res.cac_table["channel"])
    # every input customer is either analysed or counted under a reason
    customers = set(sample_ctx.tables["customers"]["customer_id"].astype(str))
    ordered = set(sample_ctx.order_lines["customer_id"].astype(str))
    assert len(sample_ctx.customer_summary) + res.left_out["customers"].sum() == len(customers | ordered)
    assert set(res.tables_used["rows"]) <= set(sample_ctx.meta["rows"].values())


def test_analyse_without_surveys_and_marketing_names_the_missing_tables(sample_ctx):
    bare = dataclasses.replace(sample_ctx, tables={**sample_ctx.tables, "surveys": None, "marketing": None})
    res = ov_report.analyse(bare)
    assert not res.has_surveys and res.surveys_missing == ("date", "nps", "csat")
    assert res.survey_trend.empty and res.surveys_sentence is None and res.surveys_note is None
    assert not res.has_marketing and res.marketing_missing == ("month", "spend", "new_customers")
    assert res.cac.empty and res.cac_table.empty and res.cac_sentence is None
    assert "surveys" in res.absent_sentence.lower() and "marketing" in res.absent_sentence.lower()


def test_analyse_on_one_month_of_orders(sample_ctx):
    start = sample_ctx.as_of - pd.Timedelta(days=30)
    orders = sample_ctx.orders.loc[sample_ctx.orders["order_date"] > start]
    lines = sample_ctx.order_lines.loc[sample_ctx.order_lines["order_date"] > start]
    summary = sample_ctx.customer_summary.loc[sample_ctx.customer_summary["customer_id"].isin(orders["customer_id"])]
    thin = dataclasses.replace(sample_ctx, orders=orders, order_lines=lines, customer_summary=summary)
    res = ov_report.analyse(thin)
    first = orders["order_date"].min().normalize()
    days = (sample_ctx.as_of.normalize() - first).days + 1
    # a month of orders: the page does not speak of "the last 12 months" but of the history since its start
    assert len(res.by_month) <= 2 and res.summary[0] == i18n.t(
        "ov.summary_revenue_since", "en", since=fmt.date(first, "en"), days=fmt.number(days, "en"),
        revenue=fmt.money(orders["amount"].sum(), "en", "TRY"))
    assert not any("12 months" in line for line in res.summary)
    assert i18n.t("ov.worse.none", "en") not in res.summary  # nothing to compare with is not "nothing got worse"
    short = ov_report.summary_lines({"revenue_12m": 1.0, "revenue_prev_12m": 0.0, "customers": 1, "active_90d": 1,
                                     "orders_12m": 1, "aov_12m": 1.0, "one_time_share": 1.0,
                                     "returns_share_12m": 0.0}, pd.DataFrame(), pd.DataFrame(), lang="en",
                                    currency="TRY", since=first, days=30)
    assert short[1] == i18n.t("ov.worse.no_previous", "en", days=90)
    assert [label for label, _ in res.tiles] == [
        f"Net revenue since {fmt.date(first, 'en')}", "Active customers (90 days)",
        f"Orders since {fmt.date(first, 'en')}", f"Average order value since {fmt.date(first, 'en')}"]
    if pd.Period(res.kpi_monthly.loc[~res.kpi_monthly["is_partial"], "month"].iloc[-1], "M") == first.to_period("M"):
        assert "cannot be told" in res.monthly_sentence  # not "all of them for the first time"
    assert len(res.left_out) > 0  # the customers table names customers without an order in the month
