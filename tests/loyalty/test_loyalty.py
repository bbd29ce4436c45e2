"""Loyalty levers on hand-built frames: tier boundaries, terms, priority stock, special days, referrals."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlib import loyalty as loyalty
from crmlib.errors import DataError, ParamsError
from crmlib.report import i18n


def make_orders(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["order_id"] = [f"o{i}" for i in range(len(frame))]
    return frame


def test_tier_boundaries_are_inclusive_lower_bounds() -> None:
    spend = pd.Series([0.0, 9999.99, 10000.0, 24999.99, 25000.0, 40000.0], index=list("abcdef"))
    tiers = loyalty.assign_tier(spend)
    assert tiers["tier"].tolist() == [0, 0, 1, 1, 2, 2]
    assert tiers["discount"].tolist() == [0.0, 0.0, 0.03, 0.03, 0.05, 0.05]
    assert tiers.loc["b", "gap_to_next"] == pytest.approx(0.01)
    assert tiers.loc["c", "next_threshold"] == 25000.0 and tiers.loc["c", "next_discount"] == 0.05
    assert tiers.loc["d", "gap_to_next"] == pytest.approx(0.01)
    assert math.isnan(tiers.loc["e", "gap_to_next"]) and math.isnan(tiers.loc["f", "next_threshold"])


def test_tier_params_are_checked() -> None:
    spend = pd.Series([1.0])
    with pytest.raises(ParamsError, match="tier_discounts needs one entry more than loyalty.tier_thresholds"):
        loyalty.assign_tier(spend, thresholds=[100.0], discounts=[0.1])
    with pytest.raises(ParamsError, match="must be positive and increasing, got \\[200.0, 100.0\\]"):
        loyalty.assign_tier(spend, thresholds=[200.0, 100.0], discounts=[0, 0.1, 0.2])
    with pytest.raises(ParamsError, match="write 3 % as 0.03"):
        loyalty.assign_tier(spend, thresholds=[100.0], discounts=[0, 3])


def test_discount_tiers_average_over_the_last_months() -> None:
    # window for as_of 2024-05-31 and 3 months: (2024-02-29, 2024-05-31]
    orders = make_orders(
        [
            ("a", "2024-02-29", 90000.0),  # outside: the window starts the day after
            ("a", "2024-03-01", 30000.0),
            ("b", "2024-04-15", 45000.0),
            ("b", "2024-05-02", 30000.0),
            ("b", "2024-05-03", -15000.0),  # a return reduces spend
            ("c", "2024-05-31", 74999.97),
            ("d", "2024-05-10", -100.0),  # only a return: not listed
        ]
    )
    tiers = loyalty.discount_tiers(orders, as_of=pd.Timestamp("2024-05-31"), months=3).set_index("customer_id")
    assert sorted(tiers.index) == ["a", "b", "c"]
    assert tiers.loc["a", "monthly_spend"] == pytest.approx(10000.0) and tiers.loc["a", "tier"] == 1
    assert tiers.loc["b", "monthly_spend"] == pytest.approx(20000.0) and tiers.loc["b", "tier"] == 1
    assert tiers.loc["c", "monthly_spend"] == pytest.approx(24999.99) and tiers.loc["c", "tier"] == 1
    assert tiers.loc["b", "monthly_discount_cost"] == pytest.approx(600.0)
    summary = loyalty.tier_summary(tiers.reset_index())
    assert summary["customers"].tolist() == [0, 3, 0]
    assert summary.loc[1, "monthly_discount_cost"] == pytest.approx(0.03 * 54999.99)
    near = loyalty.near_next_tier(tiers.reset_index(), share=0.2)
    assert near["customer_id"].tolist() == ["c", "b"]  # gaps 0.01 and 5,000 (<= 20 % of 25,000)


def test_payment_terms_qualification() -> None:
    as_of = pd.Timestamp("2024-06-15")
    summary = pd.DataFrame(
        {
            "customer_id": ["old", "late", "young", "few", "edge"],
            "first_order_date": pd.to_datetime(["2022-01-01", "2022-01-01", "2024-01-01", "2020-01-01", "2023-06-16"]),
            "n_orders": [10, 10, 10, 3, 6],
            "last_order_date": pd.to_datetime(["2024-06-01"] * 5),
        }
    )
    payments = pd.DataFrame(
        {
            "customer_id": ["old", "late", "late", "old"],
            "due_date": pd.to_datetime(["2024-03-01", "2024-03-01", "2024-06-01", "2024-06-10"]),
            "paid_date": pd.to_datetime(["2024-03-01", "2024-03-01", pd.NaT, "2024-06-20"]),
        }
    )
    terms = loyalty.payment_terms(summary, payments, as_of=as_of, min_invoices=2).set_index("customer_id")
    # "old": paid on time once; the 10 June invoice was paid on 20 June, after as_of: unpaid then -> late
    assert terms.loc["old", "late_payments"] == 1
    assert terms.loc["late", "late_payments"] == 1  # unpaid since 1 June
    assert not terms.loc["old", "is_loyal"] and terms.loc["old", "terms_days"] == 30
    terms_grace = loyalty.payment_terms(summary, payments, as_of=as_of, grace_days=7,
                                        min_invoices=2).set_index("customer_id")
    assert terms_grace.loc["old", "late_payments"] == 0 and terms_grace.loc["old", "terms_days"] == 45
    assert terms.loc["young", "tenure_months"] == 5 and not terms.loc["young", "meets_tenure"]
    assert not terms.loc["few", "meets_orders"]
    assert terms.loc["edge", "tenure_months"] == 11  # 16 June 2023 -> 15 June 2024: one day short of 12


def test_payment_terms_without_payments_table_offer_nothing() -> None:
    summary = pd.DataFrame(
        {"customer_id": ["a"], "first_order_date": pd.to_datetime(["2020-02-29"]), "n_orders": [6],
         "last_order_date": pd.to_datetime(["2021-02-20"])}
    )
    terms = loyalty.payment_terms(summary, None, as_of=pd.Timestamp("2021-02-28"))
    assert math.isnan(terms.loc[0, "late_payments"])
    assert terms.loc[0, "tenure_months"] == 11  # 29 Feb 2020 -> 28 Feb 2021 is not yet a full year
    terms = loyalty.payment_terms(summary, None, as_of=pd.Timestamp("2021-03-01"))
    # tenure, orders and recency are met, but "no late payment" cannot be claimed without invoices
    assert terms.loc[0, "meets_tenure"] and terms.loc[0, "meets_orders"] and terms.loc[0, "meets_recent"]
    assert not terms.loc[0, "is_loyal"] and terms.loc[0, "terms_days"] == 30


def test_priority_stock_finds_early_buyers() -> None:
    lines = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a", "b", "c", "a", "c", "b"],
            "product_id": ["old", "old", "p1", "p1", "p1", "p2", "p2", "p2"],
            "order_date": pd.to_datetime(
                ["2024-01-01", "2024-01-05", "2024-04-01", "2024-04-30", "2024-05-01", "2024-06-01", "2024-06-02",
                 "2024-06-20"]
            ),
            "amount": [10.0, 10.0, 100.0, 50.0, 70.0, 30.0, 200.0, 5.0],
        }
    )
    priority, new = loyalty.priority_stock(
        lines, as_of=pd.Timestamp("2024-06-30"), new_product_days=45, early_buyer_days=30, burn_in_days=30
    )
    # launches: p1 (1 Apr; early until 30 Apr incl.: a, b), p2 (1 Jun: a, c, b). "old" is the existing range
    assert priority["customer_id"].tolist() == ["a", "b", "c"]
    assert priority["launches_bought_early"].tolist() == [2, 2, 1]
    assert priority["early_amount"].tolist() == [130.0, 55.0, 200.0]
    assert priority["new_bought_early"].tolist() == [1, 1, 1]  # only p2 is within the last 45 days
    assert priority["share_of_launches"].tolist() == [1.0, 1.0, 0.5]
    assert new["product_id"].tolist() == ["p2"]
    assert new.loc[0, "early_buyers"] == 3 and new.loc[0, "top_buyers"] == "c, a, b"


def test_priority_stock_without_launches_is_empty() -> None:
    lines = pd.DataFrame(
        {"customer_id": ["a"], "product_id": ["x"], "order_date": pd.to_datetime(["2024-01-01"]), "amount": [1.0]}
    )
    priority, new = loyalty.priority_stock(lines, as_of=pd.Timestamp("2024-06-30"))
    assert priority.empty and new.empty


@pytest.mark.parametrize(
    ("born", "as_of", "expected"),
    [
        ("2000-02-29", "2023-02-01", "2023-02-28"),  # non-leap year: 28 February
        ("2000-02-29", "2024-02-01", "2024-02-29"),
        ("2000-02-29", "2023-03-01", "2024-02-29"),  # next year is a leap year
        ("1990-12-31", "2023-12-31", "2023-12-31"),  # on as_of itself
        ("1990-12-31", "2024-01-01", "2024-12-31"),
        ("1985-01-31", "2024-01-31", "2024-01-31"),
    ],
)
def test_next_occurrence_handles_leap_days_and_year_ends(born: str, as_of: str, expected: str) -> None:
    got = loyalty.next_occurrence(pd.Series(pd.to_datetime([born])), as_of=pd.Timestamp(as_of))
    assert got.iloc[0] == pd.Timestamp(expected)


def test_special_days_window_and_sources() -> None:
    summary = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "first_order_date": pd.to_datetime(["2020-03-05", "2023-02-28", "2023-02-27"]),
        }
    )
    customers = pd.DataFrame(
        {"customer_id": ["a", "b", "x"], "birth_date": pd.to_datetime(["1980-02-29", None, "1999-03-10"])}
    )
    as_of = pd.Timestamp("2023-02-28")
    days = loyalty.special_days(summary, customers, as_of=as_of, days_ahead=7)  # 28 Feb .. 6 Mar 2023
    got = list(days[["customer_id", "occasion", "date", "years", "days_until"]].itertuples(index=False, name=None))
    assert got == [
        ("a", "birthday", pd.Timestamp("2023-02-28"), 43, 0),
        ("a", "anniversary", pd.Timestamp("2023-03-05"), 3, 5),
    ]  # b's first order is today (year 0), c's anniversary is 27 Feb 2024, x's birthday is 10 March
    only_orders = loyalty.special_days(summary, None, as_of=as_of, days_ahead=7)
    assert only_orders["occasion"].tolist() == ["anniversary"]
    # a's first order lies within 60 days of the start of the history: its true first order is unknown
    censored = loyalty.special_days(summary, None, as_of=as_of, days_ahead=7,
                                    data_start=pd.Timestamp("2020-01-10"), burn_in_days=60)
    assert censored.empty
    kept = loyalty.special_days(summary, None, as_of=as_of, days_ahead=7,
                                data_start=pd.Timestamp("2020-01-04"), burn_in_days=60)
    assert kept["customer_id"].tolist() == ["a"]  # 5 March 2020 is 61 days after 4 January


def test_referral_rewards_pay_for_referred_customers_who_ordered() -> None:
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e", "f"],
            "referred_by": [None, "a", "a", "a", "e", "b"],  # d never ordered; e referred itself
        }
    )
    summary = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "e", "f"],
            "first_order_date": pd.to_datetime(["2023-01-01", "2023-02-01", "2023-03-01", "2023-01-01", "2023-04-01"]),
        }
    )
    rewards = loyalty.referral_rewards(customers, summary, reward=20.0)
    assert rewards["referrer_id"].tolist() == ["a", "b"]
    assert rewards["referred"].tolist() == [3, 1]
    assert rewards["referred_ordered"].tolist() == [2, 1]
    assert rewards["reward"].tolist() == [40.0, 20.0]
    assert rewards.loc[0, "referred_ids"] == "b, c"
    assert rewards.loc[0, "last_first_order"] == pd.Timestamp("2023-03-01")


def test_referral_rewards_without_referrals_is_empty() -> None:
    customers = pd.DataFrame({"customer_id": ["a"], "referred_by": [np.nan]})
    summary = pd.DataFrame({"customer_id": ["a"], "first_order_date": pd.to_datetime(["2023-01-01"])})
    assert loyalty.referral_rewards(customers, summary).empty


# -- the notebook 05_loyalty_and_service on the sample, with and without the optional tables -------------------
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "05_loyalty_and_service.ipynb"


def run_notebook_cells(path: Path, ctx, monkeypatch: pytest.MonkeyPatch) -> str:
    """Execute the notebook's code cells in process on ``ctx``; return the HTML the report showed."""
    import json

    import matplotlib.pyplot as plt

    from crmlib.core import context as context_mod
    from crmlib.report import display as report

    shown: list[str] = []
    monkeypatch.setattr(report, "_show", shown.append)
    monkeypatch.setattr(report, "figure", plt.close)
    monkeypatch.setattr(context_mod, "open_context", lambda *args, **kwargs: ctx)
    namespace: dict = {}
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]  # nbformat 4 JSON (nbformat imports slowly)
    for i, cell in enumerate(c for c in cells if c["cell_type"] == "code"):
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        exec(compile(source, f"{path.name}[{i}]", "exec"), namespace)  # noqa: S102
    return "\n".join(shown)


def test_notebook_runs_on_the_sample_with_every_section(sample_ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    html = run_notebook_cells(NOTEBOOK, sample_ctx, monkeypatch)
    assert "needs the" not in html  # no section fell back to a "missing data" sentence
    for key in ("loy.tiers.heading", "loy.terms.heading", "loy.referrals.heading", "svc.metrics.heading",
                "svc.recurring.heading"):
        assert i18n.t(key, "en") in html
    assert i18n.t("loy.special.heading", "en", days=14) in html


def test_notebook_degrades_without_each_optional_table(sample_ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    bare = dataclasses.replace(sample_ctx, tables={name: None for name in sample_ctx.tables})
    html = run_notebook_cells(NOTEBOOK, bare, monkeypatch)
    for table in ("customers", "payments", "tickets"):
        assert f"Add it under data.{table} in the params file" in html, table
    assert i18n.t("loy.text.terms_no_payments_offer", "en") in html
    assert i18n.t("loy.tiers.heading", "en") in html and i18n.t("svc.reviews.heading", "en", days=7) in html


def test_notebook_degrades_without_optional_columns(sample_ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    tickets = sample_ctx.tables["tickets"][["customer_id", "ticket_id", "opened_at"]]
    thin = dataclasses.replace(sample_ctx, tables={**sample_ctx.tables, "tickets": tickets},
                               order_lines=sample_ctx.order_lines.drop(columns="product_id"))
    html = run_notebook_cells(NOTEBOOK, thin, monkeypatch)
    for table, column in (("orders", "product_id"), ("tickets", "resolved_at"), ("tickets", "category")):
        shown = f"{i18n.field_label(table, column, 'en')} ({column})"
        assert f"needs the column {shown} of the {i18n.table_label(table, 'en')} table" in html, column
        assert f"map it under data.{table}.columns" in html


def test_missing_columns_are_named() -> None:
    customers = pd.DataFrame({"customer_id": ["a"]})
    summary = pd.DataFrame({"customer_id": ["a"], "first_order_date": pd.to_datetime(["2023-01-01"])})
    with pytest.raises(DataError, match="customers lacks the column\\(s\\) referred_by \\(has: customer_id\\)"):
        loyalty.referral_rewards(customers, summary)
    with pytest.raises(DataError, match="payments lacks the column\\(s\\) due_date"):
        loyalty.payment_terms(summary.assign(n_orders=3, last_order_date=summary["first_order_date"]), customers,
                              as_of=pd.Timestamp("2024-01-01"))


# -- offers that make business sense, on constructed customers ---------------------------------------------
def terms_customers() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Four long-standing customers with many orders: buying and paying, lapsed, no invoices, one late."""
    as_of = pd.Timestamp("2026-06-30")
    summary = pd.DataFrame({
        "customer_id": ["good", "lapsed", "no_invoices", "late"],
        "first_order_date": pd.to_datetime(["2022-01-10"] * 4),
        "n_orders": [40, 40, 40, 40],
        "last_order_date": as_of - pd.to_timedelta([5, 777, 5, 5], unit="D"),
    })
    due = [as_of - pd.Timedelta(days=d) for d in (20, 50, 80)]
    payments = pd.DataFrame({
        "customer_id": ["good"] * 3 + ["late"] * 3,
        "due_date": due + due,
        "paid_date": due + [due[0], due[1], due[2] + pd.Timedelta(days=9)],
    })
    return summary, payments


def test_a_lapsed_customer_or_one_without_invoices_is_never_offered_terms() -> None:
    summary, payments = terms_customers()
    terms = loyalty.payment_terms(summary, payments, as_of=pd.Timestamp("2026-06-30")).set_index("customer_id")
    assert terms["is_loyal"].to_dict() == {"good": True, "lapsed": False, "no_invoices": False, "late": False}
    assert terms.loc["lapsed", "days_since_last_order"] == 777 and not terms.loc["lapsed", "meets_recent"]
    assert terms.loc["no_invoices", "invoices"] == 0 and terms.loc["no_invoices", "late_payments"] == 0
    assert not terms.loc["no_invoices", "meets_payments"]     # "no late payment" needs invoices
    assert terms.loc["late", "late_payments"] == 1
    assert terms.loc["good", "terms_days"] == 45 and (terms.drop(index="good")["terms_days"] == 30).all()
    assert terms.loc["good", "last_order_date"] == pd.Timestamp("2026-06-25")


def test_discount_cost_is_weighed_against_the_margin_of_the_same_months() -> None:
    as_of = pd.Timestamp("2026-06-30")
    orders = pd.DataFrame({
        "customer_id": ["a", "a", "b", "c"],
        "order_date": pd.to_datetime(["2026-04-15", "2026-06-01", "2026-05-20", "2025-01-01"]),
        "amount": [60000.0, 30000.0, 9000.0, 500000.0],          # c is outside the 3-month window
        "margin": [9000.0, 4500.0, 1350.0, 75000.0],
    })
    tiers = loyalty.discount_tiers(orders, as_of=as_of, months=3)
    econ = loyalty.discount_economics(tiers, orders, as_of=as_of, months=3)
    # a: 30,000 a month -> tier 2 (5%) = 1,500 a month; b: 3,000 a month -> no discount
    assert econ["monthly_cost"] == pytest.approx(1500.0)
    assert econ["monthly_margin"] == pytest.approx((9000 + 4500 + 1350) / 3)
    assert econ["cost_share_of_margin"] == pytest.approx(1500.0 / 4950.0)
    assert econ["margin_coverage"] == pytest.approx(1.0)
    unknown = loyalty.discount_economics(tiers, orders.drop(columns="margin"), as_of=as_of, months=3)
    assert math.isnan(unknown["cost_share_of_margin"])


def test_tiers_are_proposed_from_the_company_s_own_spend() -> None:
    spend = pd.Series(np.arange(1, 101) * 1000.0)                 # 1,000 .. 100,000 a month
    thresholds, source = loyalty.proposed_thresholds(spend)
    assert source == "spend"
    assert thresholds == [pytest.approx(80000.0), pytest.approx(95000.0)]   # 80.2k and 95.05k, rounded
    few, source = loyalty.proposed_thresholds(spend.head(10))
    assert source == "fallback" and few == loyalty.ARTICLE_THRESHOLDS
    assert loyalty.tier_thresholds(pd.DataFrame(columns=["customer_id", "order_date", "amount"]),
                                   as_of=pd.Timestamp("2026-06-30"), params={"tier_thresholds": [5e3, 9e3]}) \
        == ([5000.0, 9000.0], "params")
    with pytest.raises(ParamsError, match="tier_spend_quantiles must be increasing shares"):
        loyalty.proposed_thresholds(spend, quantiles=[0.95, 0.8])


def test_the_open_spend_bar_is_labelled_as_an_open_band() -> None:
    import matplotlib.pyplot as plt

    tiers = pd.DataFrame({"monthly_spend": [5000.0, 12000.0, 30000.0, 90000.0], "tier": [0, 1, 2, 2]})
    ax = loyalty.plots.plot_spend_tiers(tiers, lang="tr", currency="TRY", thresholds=[10000.0, 25000.0],
                                        discounts=[0.0, 0.03, 0.05])
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[-1] == "50.000+ TL"
    assert loyalty.tier_label(50000, None, lang="en", currency="TRY") == "TRY 50,000+"
    plt.close("all")


def test_referral_rewards_scale_with_the_first_order_and_say_what_is_payable() -> None:
    customers = pd.DataFrame({"customer_id": ["r", "x", "y"], "referred_by": [None, "r", "r"]})
    summary = pd.DataFrame({"customer_id": ["r", "x", "y"],
                            "first_order_date": pd.to_datetime(["2024-01-01", "2025-03-01", "2025-04-01"])})
    orders = pd.DataFrame({"customer_id": ["x", "x", "y"],
                           "order_date": pd.to_datetime(["2025-03-01", "2025-05-01", "2025-04-01"]),
                           "amount": [13775.0, 50000.0, 2000.0], "is_purchase": [True, True, True]})
    payments = pd.DataFrame({"customer_id": ["x", "y"], "due_date": pd.to_datetime(["2025-04-01", "2025-05-01"]),
                             "paid_date": pd.to_datetime(["2025-03-30", pd.NaT])})
    out = loyalty.referral_rewards(customers, summary, reward=None, share=0.05, orders=orders, payments=payments,
                                   as_of=pd.Timestamp("2025-06-30")).iloc[0]
    assert out["first_orders"] == pytest.approx(15775.0)
    assert out["reward"] == pytest.approx(0.05 * 15775.0)
    assert out["reward_payable"] == pytest.approx(0.05 * 13775.0)     # x paid an invoice
    assert out["reward_pending"] == pytest.approx(0.05 * 2000.0)      # y has not paid yet
    with pytest.raises(ParamsError, match="pass orders or set a fixed loyalty.referral_reward"):
        loyalty.referral_rewards(customers, summary, reward=None)


def test_special_days_need_a_person_and_carry_a_message() -> None:
    customers = pd.DataFrame({
        "customer_id": ["co", "sole", "named"],
        "name": ["Aksoy Butik A.Ş.", "Ayşe Turan - Turan Konfeksiyon", "Sedef Moda Ltd. Şti."],
    })
    special = pd.DataFrame({
        "customer_id": ["co", "sole", "named", "co"],
        "occasion": ["birthday", "birthday", "birthday", "anniversary"],
        "date": pd.to_datetime(["2026-07-01"] * 4), "years": [44, 51, 30, 3], "days_until": [1, 1, 1, 1],
    })
    people = customers.assign(contact_person=[None, None, "Mert Sedef"])
    calls = loyalty.special_day_calls(special, people, lang="tr")
    assert calls["customer_id"].tolist() == ["sole", "named", "co"]           # the company birthday is gone
    assert calls["contact_person"].tolist()[:2] == ["Ayşe Turan", "Mert Sedef"]
    assert calls["message"].map(bool).all() and "Ayşe Turan" in calls.loc[0, "message"]
    assert calls["years"].isna().tolist() == [True, True, False]             # no ages, years as a customer
    assert "Aksoy Butik A.Ş." in calls.loc[2, "message"]
    derived = loyalty.contact_person(customers)
    assert derived.isna().tolist() == [True, False, True] and derived["sole"] == "Ayşe Turan"
    assert set(loyalty.special_day_calls(special, None, lang="en")["occasion"]) == {"anniversary"}


def test_lapsed_customers_leave_the_relationship_and_stock_lists() -> None:
    special = pd.DataFrame({"customer_id": ["buys", "gone"], "occasion": ["anniversary"] * 2,
                            "date": pd.to_datetime(["2026-07-01"] * 2), "years": [2, 3], "days_until": [1, 1]})
    calls = loyalty.special_day_calls(special, None, lang="en", lapsed_ids=["gone"])
    assert calls["customer_id"].tolist() == ["buys"]
    priority = pd.DataFrame({"customer_id": ["gone", "buys"], "launches_bought_early": [5, 1]})
    assert loyalty.without_lapsed(priority, pd.Series(["gone"]))["customer_id"].tolist() == ["buys"]


def test_tiers_are_named_by_their_spend_band_not_a_number() -> None:
    from crmlib import loyalty as loy

    names = loy.tier_names([10_000, 25_000], lang="tr", currency="TRY")
    assert len(names) == 3 and names[-1].startswith("25.000") and "+" in names[-1]
    assert all("kademe" not in n.lower() and not n.strip().isdigit() for n in names)


def test_masked_reports_hide_the_contact_person_in_the_list_and_its_message() -> None:
    from crmlib.report import display

    customers = pd.DataFrame({"customer_id": ["sole"], "name": ["Ayşe Turan - Turan Konfeksiyon"]})
    special = pd.DataFrame({"customer_id": ["sole"], "occasion": ["birthday"], "date": pd.to_datetime(["2026-07-01"]),
                            "years": [51], "days_until": [1]})
    calls = loyalty.special_day_calls(special, customers, lang="en").assign(name=customers["name"])
    masked = display.mask_contacts(calls, enabled=True)
    assert "Ayşe" not in masked.loc[0, "contact_person"] and "Ayşe Turan" not in masked.loc[0, "message"]
    assert masked.loc[0, "message"].startswith("Happy birthday, " + masked.loc[0, "contact_person"])
    assert "Turan Konfeksiyon" not in masked.loc[0, "name"]
