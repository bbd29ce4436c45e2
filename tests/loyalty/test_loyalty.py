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
        }
    )
    payments = pd.DataFrame(
        {
            "customer_id": ["old", "late", "late", "old"],
            "due_date": pd.to_datetime(["2024-03-01", "2024-03-01", "2024-06-01", "2024-06-10"]),
            "paid_date": pd.to_datetime(["2024-03-01", "2024-03-01", pd.NaT, "2024-06-20"]),
        }
    )
    terms = loyalty.payment_terms(summary, payments, as_of=as_of).set_index("customer_id")
    # "old": paid on time once; the 10 June invoice was paid on 20 June, after as_of: unpaid then -> late
    assert terms.loc["old", "late_payments"] == 1
    assert terms.loc["late", "late_payments"] == 1  # unpaid since 1 June
    assert not terms.loc["old", "is_loyal"] and terms.loc["old", "terms_days"] == 30
    terms_grace = loyalty.payment_terms(summary, payments, as_of=as_of, grace_days=7).set_index("customer_id")
    assert terms_grace.loc["old", "late_payments"] == 0 and terms_grace.loc["old", "terms_days"] == 45
    assert terms.loc["young", "tenure_months"] == 5 and not terms.loc["young", "meets_tenure"]
    assert not terms.loc["few", "meets_orders"]
    assert terms.loc["edge", "tenure_months"] == 11  # 16 June 2023 -> 15 June 2024: one day short of 12


def test_payment_terms_without_payments_table_skip_the_late_test() -> None:
    summary = pd.DataFrame(
        {"customer_id": ["a"], "first_order_date": pd.to_datetime(["2020-02-29"]), "n_orders": [6]}
    )
    terms = loyalty.payment_terms(summary, None, as_of=pd.Timestamp("2021-02-28"))
    assert math.isnan(terms.loc[0, "late_payments"])
    assert terms.loc[0, "tenure_months"] == 11  # 29 Feb 2020 -> 28 Feb 2021 is not yet a full year
    terms = loyalty.payment_terms(summary, None, as_of=pd.Timestamp("2021-03-01"))
    assert terms.loc[0, "is_loyal"] and terms.loc[0, "terms_days"] == 45


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
        assert f"add it under data.{table} in the params file" in html, table
    assert i18n.t("loy.text.terms_no_payments", "en") in html
    assert i18n.t("loy.tiers.heading", "en") in html and i18n.t("svc.reviews.heading", "en", days=7) in html


def test_notebook_degrades_without_optional_columns(sample_ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    tickets = sample_ctx.tables["tickets"][["customer_id", "ticket_id", "opened_at"]]
    thin = dataclasses.replace(sample_ctx, tables={**sample_ctx.tables, "tickets": tickets},
                               order_lines=sample_ctx.order_lines.drop(columns="product_id"))
    html = run_notebook_cells(NOTEBOOK, thin, monkeypatch)
    for table, column in (("orders", "product_id"), ("tickets", "resolved_at"), ("tickets", "category")):
        assert f"needs the column {column} of the {table} table" in html, column


def test_missing_columns_are_named() -> None:
    customers = pd.DataFrame({"customer_id": ["a"]})
    summary = pd.DataFrame({"customer_id": ["a"], "first_order_date": pd.to_datetime(["2023-01-01"])})
    with pytest.raises(DataError, match="customers lacks the column\\(s\\) referred_by \\(has: customer_id\\)"):
        loyalty.referral_rewards(customers, summary)
    with pytest.raises(DataError, match="payments lacks the column\\(s\\) due_date"):
        loyalty.payment_terms(summary.assign(n_orders=3), customers, as_of=pd.Timestamp("2024-01-01"))
