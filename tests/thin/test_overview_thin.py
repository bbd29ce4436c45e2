"""The overview on thin histories: every input customer accounted for; months start where the data start."""

from __future__ import annotations

import math

import pandas as pd

from crmlib.overview import coverage, kpis, report


def make_orders(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["order_id"] = [f"o{i}" for i in range(len(frame))]
    frame["is_purchase"] = frame["amount"] > 0
    return frame


def test_left_out_customers_by_reason():
    lines = make_orders([("a", "2026-06-01", 10.0), ("b", "2026-06-02", -5.0), ("c", "2026-06-03", 0.0),
                         ("d", "2026-06-04", 8.0), ("d", "2026-06-05", -8.0)])
    summary = pd.DataFrame({"customer_id": ["a", "d"]})
    master = pd.DataFrame({"customer_id": ["a", "b", "e", "f", "g"]})
    out = coverage.customers_left_out(lines, summary, customers=master, after_as_of=["g"])
    assert out.to_dict("list") == {"reason": ["no_purchase", "after_as_of", "no_orders"], "customers": [2, 1, 2],
                                   "examples": ["b, c", "g", "e, f"]}
    words = report.left_out_table(out, lang="en")["reason"].tolist()
    assert words[0].startswith("Every order has a zero or negative net amount")


def test_nobody_left_out_gives_an_empty_table():
    lines = make_orders([("a", "2026-06-01", 10.0)])
    out = coverage.customers_left_out(lines, pd.DataFrame({"customer_id": ["a"]}))
    assert out.empty and list(out.columns) == ["reason", "customers", "examples"]


def test_monthly_kpis_start_at_the_first_month_with_orders():
    orders = make_orders([("a", "2026-05-20", 10.0), ("a", "2026-06-10", 5.0), ("b", "2026-06-12", 7.0)])
    table = kpis.monthly_kpis(orders, as_of=pd.Timestamp("2026-06-15"), months=12)
    assert table["month"].tolist() == [pd.Timestamp("2026-05-01"), pd.Timestamp("2026-06-01")]
    assert table["active_customers"].tolist() == [1, 2]
    assert math.isnan(table.loc[0, "retention_rate"])  # April is before the data: unknown, not a churn of 100%


def test_one_partial_month_only():
    orders = make_orders([("a", "2026-06-29", 10.0), ("b", "2026-06-30", 5.0)])
    table = kpis.monthly_kpis(orders, as_of=pd.Timestamp("2026-06-30"), months=12)
    assert len(table) == 1 and not bool(table.loc[0, "is_partial"])
    table = kpis.monthly_kpis(orders, as_of=pd.Timestamp("2026-06-29"), months=12)
    assert len(table) == 1 and bool(table.loc[0, "is_partial"])


def test_cohorts_start_at_the_first_purchase_month():
    orders = make_orders([("a", "2026-05-20", 10.0), ("a", "2026-06-10", 5.0), ("b", "2026-06-12", 7.0)])
    cohorts = kpis.cohort_retention(orders, as_of=pd.Timestamp("2026-06-30"), cohorts=12)
    assert cohorts.index.tolist() == ["2026-05", "2026-06"]
    assert cohorts["size"].tolist() == [1.0, 1.0] and cohorts.loc["2026-05", 1] == 1.0


def test_window_before_the_data_is_unknown_not_zero():
    orders = make_orders([("a", "2026-06-20", 10.0), ("b", "2026-06-25", 5.0)])
    table = kpis.window_kpis(orders, as_of=pd.Timestamp("2026-06-30"), days=30)
    assert table.loc["active_customers", "current"] == 2
    assert table["previous"].isna().all() and table["change"].isna().all()
    longer = make_orders([("a", "2026-05-15", 10.0), ("b", "2026-06-25", 5.0)])
    table = kpis.window_kpis(longer, as_of=pd.Timestamp("2026-06-30"), days=30)
    assert table.loc["active_customers", "previous"] == 1


def test_survey_months_start_at_the_first_survey():
    surveys = pd.DataFrame({"customer_id": ["a", "b"], "date": pd.to_datetime(["2026-05-03", "2026-06-04"]),
                            "nps": [9.0, 3.0]})
    trend = kpis.survey_trend(surveys, as_of=pd.Timestamp("2026-06-30"), months=12)
    assert trend["month"].tolist() == [pd.Timestamp("2026-05-01"), pd.Timestamp("2026-06-01")]


def test_service_months_start_at_the_first_ticket():
    from crmlib.service import complaints

    tickets = pd.DataFrame({"customer_id": ["a", "b"], "ticket_id": ["t1", "t2"],
                            "opened_at": pd.to_datetime(["2026-05-03 10:00", "2026-06-04 09:00"])})
    table = complaints.service_by_month(tickets, as_of=pd.Timestamp("2026-06-30"), months=12)
    assert table["month"].tolist() == [pd.Timestamp("2026-05-01"), pd.Timestamp("2026-06-01")]
    assert table["tickets"].tolist() == [1, 1]
