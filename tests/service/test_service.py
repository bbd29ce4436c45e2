"""Service metrics and follow-up lists on hand-built tickets and orders (dates around month ends, leap days)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crmlib import service as service
from crmlib.errors import DataError, ParamsError

NaT = pd.NaT


@pytest.fixture
def tickets() -> pd.DataFrame:
    ts = pd.to_datetime
    return pd.DataFrame(
        {
            "ticket_id": ["t1", "t2", "t3", "t4", "t5", "t6"],
            "customer_id": ["a", "b", "c", "a", "d", "e"],
            "opened_at": ts(["2024-02-01 09:00", "2024-02-01 23:00", "2024-02-10 10:00", "2024-02-20 08:00",
                             "2024-02-29 15:00", "2024-01-05 12:00"]),
            "acknowledged_at": ts(["2024-02-01 10:00", "2024-02-02 08:00", "2024-02-10 11:00", NaT, NaT,
                                   "2024-01-05 13:00"]),
            "resolved_at": ts(["2024-02-02 09:00", "2024-02-04 23:00", "2024-02-22 10:00", NaT, NaT,
                               "2024-03-05 12:00"]),
            "category": ["late delivery", "late delivery", "damaged", "late delivery", "invoice", "damaged"],
            "product_id": ["p1", "p1", "p2", "p1", None, "p2"],
        }
    )


def test_service_metrics_match_hand_counts(tickets: pd.DataFrame) -> None:
    m = service.service_metrics(tickets, as_of=pd.Timestamp("2024-02-29"))
    assert m["tickets"] == 6
    # same day: t1, t3, t6; not: t2 (next day), t4 (never); t5 opened on as_of and not yet acknowledged: left out
    assert m["same_day_ack_rate"] == pytest.approx(3 / 5)
    # resolved by 29 Feb: t1 1 day, t2 3 days, t3 12 days; t6 resolves after as_of (still open then)
    assert m["resolved"] == 3 and m["open"] == 3
    assert m["median_resolution_days"] == pytest.approx(3.0)
    assert m["p90_resolution_days"] == pytest.approx(3.0 + 0.8 * 9.0)  # linear interpolation (numpy default)


def test_service_metrics_without_optional_columns_are_nan(tickets: pd.DataFrame) -> None:
    m = service.service_metrics(tickets[["customer_id", "opened_at"]], as_of=pd.Timestamp("2024-02-29"))
    assert m["tickets"] == 6
    assert math.isnan(m["same_day_ack_rate"]) and math.isnan(m["median_resolution_days"])


def test_service_metrics_on_no_tickets_are_nan(tickets: pd.DataFrame) -> None:
    m = service.service_metrics(tickets, as_of=pd.Timestamp("2023-12-31"))
    assert m["tickets"] == 0 and math.isnan(m["same_day_ack_rate"]) and math.isnan(m["p90_resolution_days"])


def test_service_by_month(tickets: pd.DataFrame) -> None:
    table = service.service_by_month(tickets, as_of=pd.Timestamp("2024-03-31"), months=3).set_index("month")
    assert table["tickets"].tolist() == [1, 5, 0]
    assert table.loc[pd.Timestamp("2024-01-01"), "median_resolution_days"] == pytest.approx(60.0)
    assert math.isnan(table.loc[pd.Timestamp("2024-03-01"), "same_day_ack_rate"])


def test_open_complaints_by_age_band(tickets: pd.DataFrame) -> None:
    open_ = service.open_complaints(tickets, as_of=pd.Timestamp("2024-02-29"))
    # t6 opened 5 Jan (55 days), t4 20 Feb (9 days), t5 29 Feb (0 days)
    assert open_["ticket_id"].tolist() == ["t6", "t4", "t5"]
    assert open_["age_days"].tolist() == [55, 9, 0]
    assert open_["age_band"].astype(str).tolist() == ["31-90", "8-30", "0-7"]
    bands = service.open_by_age(open_)
    assert bands["age_band"].astype(str).tolist() == ["0-7", "8-30", "31-90", ">90"]
    assert bands["open"].tolist() == [1, 1, 1, 0]


def test_age_band_boundaries_are_inclusive_upper_bounds() -> None:
    opened = pd.to_datetime(["2024-03-24", "2024-03-23", "2024-03-01", "2024-02-29"])
    frame = pd.DataFrame({"customer_id": list("abcd"), "opened_at": opened, "resolved_at": [NaT] * 4})
    open_ = service.open_complaints(frame, as_of=pd.Timestamp("2024-03-31"), bands=[7, 30])
    assert dict(zip(open_["age_days"], open_["age_band"].astype(str), strict=True)) == {
        7: "0-7", 8: "8-30", 30: "8-30", 31: ">30"}


def test_open_complaints_bad_bands(tickets: pd.DataFrame) -> None:
    with pytest.raises(ParamsError, match="open_age_bands_days must be increasing non-negative days, got \\[30, 7\\]"):
        service.open_complaints(tickets, as_of=pd.Timestamp("2024-02-29"), bands=[30, 7])


def test_open_complaints_needs_resolved_at(tickets: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="tickets lacks the column\\(s\\) resolved_at"):
        service.open_complaints(tickets.drop(columns="resolved_at"), as_of=pd.Timestamp("2024-02-29"))


def test_recurring_categories(tickets: pd.DataFrame) -> None:
    table = service.recurring_categories(tickets, as_of=pd.Timestamp("2024-02-29"), lookback_days=30,
                                         min_complaints=3).set_index("category")
    # last 30 days = 31 Jan .. 29 Feb: late delivery 3 (a, b, a), damaged 1, invoice 1; before: damaged 1
    assert table.loc["late delivery", "complaints"] == 3 and table.loc["late delivery", "customers"] == 2
    assert table.loc["damaged", "previous"] == 1
    assert table["is_recurring"].to_dict() == {"late delivery": True, "damaged": False, "invoice": False}


def test_recurring_products_rate_per_order(tickets: pd.DataFrame) -> None:
    lines = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(25)] + ["x1", "x1"],
            "order_date": pd.to_datetime(["2024-02-15"] * 27),
            "product_id": ["p1"] * 25 + ["p2", "p2"],
        }
    )
    table = service.recurring_products(tickets, lines, as_of=pd.Timestamp("2024-02-29"), lookback_days=60,
                                       min_complaints=2, min_rate=0.05).set_index("product_id")
    # p1: 3 complaints / 25 orders = 12 %; p2: 2 complaints (t3, t6) / 1 order = 200 %
    assert table.loc["p1", "complaint_rate"] == pytest.approx(0.12)
    assert table.loc["p2", "orders"] == 1 and table.loc["p2", "complaint_rate"] == pytest.approx(2.0)
    assert table["is_recurring"].all()
    strict = service.recurring_products(tickets, lines, as_of=pd.Timestamp("2024-02-29"), lookback_days=60,
                                        min_complaints=2, min_rate=0.5).set_index("product_id")
    assert strict["is_recurring"].to_dict() == {"p2": True, "p1": False}
    no_sales = service.recurring_products(tickets, None, as_of=pd.Timestamp("2024-02-29"), lookback_days=60,
                                          min_complaints=3)
    assert no_sales["product_id"].tolist() == ["p1", "p2"] and no_sales["is_recurring"].tolist() == [True, False]
    assert no_sales["complaint_rate"].isna().all()


def test_this_week_starts_at_as_of() -> None:
    assert service.this_week(pd.Timestamp("2024-02-26")) == (pd.Timestamp("2024-02-26"), pd.Timestamp("2024-03-03"))
    with pytest.raises(ParamsError, match="week_days must be at least 1, got 0"):
        service.this_week(pd.Timestamp("2024-02-26"), days=0)


def test_resolution_followups_one_week_after(tickets: pd.DataFrame) -> None:
    # as_of 29 Feb 2024: this week is 29 Feb .. 6 Mar; t3 resolved 22 Feb -> due 29 Feb (leap day)
    follow = service.resolution_followups(tickets, as_of=pd.Timestamp("2024-02-29"))
    assert follow["ticket_id"].tolist() == ["t3"]
    assert follow.loc[0, "due_date"] == pd.Timestamp("2024-02-29")
    # t6 resolved 5 Mar 2024 is unknown on 29 Feb; as of 10 Mar it is due 12 Mar
    later = service.resolution_followups(tickets, as_of=pd.Timestamp("2024-03-10"))
    assert later["ticket_id"].tolist() == ["t6"] and later.loc[0, "due_date"] == pd.Timestamp("2024-03-12")


@pytest.mark.parametrize(
    ("order_date", "as_of", "due"),
    [
        ("2024-02-22", "2024-02-29", "2024-02-29"),  # lands on the leap day
        ("2024-02-24", "2024-02-29", "2024-03-02"),
        ("2023-02-24", "2023-02-28", "2023-03-03"),  # non-leap February
        ("2024-01-31", "2024-02-05", "2024-02-07"),  # from the 31st
        ("2024-12-31", "2025-01-07", "2025-01-07"),  # across the year end
    ],
)
def test_review_requests_dates_around_month_ends(order_date: str, as_of: str, due: str) -> None:
    orders = pd.DataFrame(
        {"customer_id": ["a"], "order_id": ["o1"], "order_date": pd.to_datetime([order_date]), "amount": [10.0]}
    )
    got = service.review_requests(orders, as_of=pd.Timestamp(as_of), after_days=7)
    assert got["due_date"].tolist() == [pd.Timestamp(due)]


def test_review_requests_one_row_per_customer_and_skip_returns() -> None:
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c"],
            "order_id": ["o1", "o2", "o3", "o4"],
            "order_date": pd.to_datetime(["2024-03-25", "2024-03-27", "2024-03-26", "2024-03-15"]),
            "amount": [10.0, 20.0, -5.0, 8.0],
            "is_purchase": [True, True, False, True],
        }
    )
    got = service.review_requests(orders, as_of=pd.Timestamp("2024-03-31"), after_days=7)
    # this week 31 Mar .. 6 Apr: orders of 24 .. 30 March; b's is a return, c's is too old
    assert got["order_id"].tolist() == ["o2"]


def test_checkins_15_and_30_days_after_first_order() -> None:
    summary = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "first_order_date": pd.to_datetime(["2024-01-31", "2024-02-14", "2024-02-15", "2023-01-31"]),
            "n_orders": [1, 2, 1, 5],
        }
    )
    got = service.checkins(summary, as_of=pd.Timestamp("2024-02-29"), after_days=[15, 30])
    # this week 29 Feb .. 6 Mar 2024: a +30 = 1 Mar (leap year), b +15 = 29 Feb, c +15 = 1 Mar
    rows = list(got[["customer_id", "checkin_day", "due_date"]].itertuples(index=False, name=None))
    assert rows == [("b", 15, pd.Timestamp("2024-02-29")), ("a", 30, pd.Timestamp("2024-03-01")),
                    ("c", 15, pd.Timestamp("2024-03-01"))]
    # in 2023 (no leap day) 31 Jan + 30 days is 2 March
    got_2023 = service.checkins(summary, as_of=pd.Timestamp("2023-03-02"), after_days=[30], week_days=1)
    assert got_2023["customer_id"].tolist() == ["d"]
    assert got_2023.loc[0, "due_date"] == pd.Timestamp("2023-03-02")


def test_checkins_without_n_orders_column() -> None:
    summary = pd.DataFrame({"customer_id": ["a"], "first_order_date": pd.to_datetime(["2024-02-14"])})
    got = service.checkins(summary, as_of=pd.Timestamp("2024-02-29"), after_days=[15])
    assert got["customer_id"].tolist() == ["a"] and "n_orders" not in got.columns
    assert np.issubdtype(got["due_date"].dtype, np.datetime64)


def test_with_contacts_adds_masked_names_after_the_id() -> None:
    frame = pd.DataFrame({"customer_id": ["b", "a", "z"], "due_date": pd.to_datetime(["2024-03-01"] * 3)})
    customers = pd.DataFrame({"customer_id": ["a", "b"], "name": ["Yıldız Tekstil", "Ak Gıda"],
                              "phone": ["+90 532 123 45 67", None]})
    out = service.with_contacts(frame, customers, mask=True)
    assert list(out.columns) == ["customer_id", "name", "phone", "due_date"]
    assert out["name"].tolist()[:2] == ["A* G***", "Y***** T******"]
    assert out.loc[1, "phone"] == "+90 5** *** ** 67" and pd.isna(out.loc[2, "name"])
    assert service.with_contacts(frame, None, mask=False) is frame


def test_service_plots_take_catalogue_titles(tickets: pd.DataFrame) -> None:
    import matplotlib.pyplot as plt

    from crmlib.report import i18n
    from crmlib.service import plots as charts

    as_of = pd.Timestamp("2024-02-29")
    none_open = service.open_complaints(tickets.assign(resolved_at=pd.Timestamp("2024-01-01")), as_of=as_of)
    axes = [
        charts.plot_service_trend(service.service_by_month(tickets, as_of=as_of, months=3), lang="en"),
        charts.plot_open_by_age(service.open_by_age(none_open), lang="en"),
        charts.plot_recurring_categories(service.recurring_categories(tickets, as_of=as_of), lang="en"),
    ]
    assert [ax.get_title() for ax in axes] == [i18n.t(k, "en") for k in
                                               ("svc.plot.trend_title", "svc.plot.open_title",
                                                "svc.plot.categories_title")]
    for ax in axes:
        plt.close(ax.figure)


# -- triage on constructed customers ----------------------------------------------------------------------
def test_stale_tickets_are_their_own_list_and_cant_lose_customers_come_first() -> None:
    as_of = pd.Timestamp("2026-06-30")
    tickets = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d"], "ticket_id": ["T1", "T2", "T3", "T4"],
        "opened_at": as_of - pd.to_timedelta([3, 40, 1084, 10], unit="D"),
        "resolved_at": pd.NaT, "category": ["Geç teslimat", "Kalite", "Fatura", "Kalite"],
    })
    open_tickets = service.open_complaints(tickets, as_of=as_of)
    current, stale = service.split_stale(open_tickets)
    assert stale["ticket_id"].tolist() == ["T3"] and stale["age_days"].tolist() == [1084]
    assert sorted(current["ticket_id"]) == ["T1", "T2", "T4"] and current["age_days"].max() == 40
    segments = pd.DataFrame({"customer_id": ["a", "b", "d"], "rfm_segment": ["loyal", "new", "cant_lose"]})
    flagged = service.flag_priority(current, segments)
    assert flagged["ticket_id"].tolist() == ["T4", "T2", "T1"]          # can't-lose first, then oldest
    assert flagged["priority"].tolist() == [True, False, False]
    assert not service.flag_priority(current, None)["priority"].any()


def test_weekly_follow_ups_respect_capacity_and_the_contact_cap() -> None:
    calls = pd.DataFrame({"customer_id": list("abcdef"), "amount": [10.0, 60.0, 30.0, 50.0, 20.0, 40.0]})
    contacts = pd.DataFrame({"customer_id": ["b", "c"],
                             "date": pd.to_datetime(["2026-06-25", "2026-05-01"])})
    kept, held = service.weekly_calls(calls, contacts, as_of=pd.Timestamp("2026-06-30"), capacity=3,
                                  min_days_between=14, value="amount")
    assert kept["customer_id"].tolist() == ["d", "f", "c"]    # b was reached 5 days ago; then by value
    assert held == {"deferred_recent_contact": 1, "cut_by_capacity": 2}
    everyone, held = service.weekly_calls(calls, None, as_of=pd.Timestamp("2026-06-30"), capacity=None)
    assert len(everyone) == 6 and held == {"deferred_recent_contact": 0, "cut_by_capacity": 0}
