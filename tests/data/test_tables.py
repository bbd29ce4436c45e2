"""The orders and per-customer SQL definitions on hand-built order lines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlib.data.tables import build_customer_summary, build_orders


@pytest.fixture
def lines() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "a", "b", "c", "d"],
        "order_id": ["1", "1", "2", "3", "3b", "4", "5", "6"],
        "order_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-05", "2024-01-20", "2024-01-20",
                                      "2024-01-10", "2024-01-12", "2024-02-15"]),
        "amount": [100.0, -20.0, 50.0, 30.0, 10.0, 10.0, -5.0, 7.0],
        "cost": [60.0, -12.0, 30.0, 20.0, 6.0, 5.0, -3.0, 4.0],
        "quantity": [10.0, -2.0, 5.0, 3.0, 1.0, 1.0, -1.0, 1.0],
    })


def test_orders_net_returns_within_an_order(lines):
    orders = build_orders(lines).set_index("order_id")
    assert orders.loc["1", "amount"] == 80.0
    assert orders.loc["1", "returns_amount"] == 20.0
    assert orders.loc["1", "has_return"]
    assert orders.loc["1", "n_lines"] == 2
    assert orders.loc["1", "margin"] == pytest.approx(80.0 - 48.0)
    assert orders.loc["2", "returns_amount"] == 0.0 and not orders.loc["2", "has_return"]
    assert not orders.loc["5", "is_purchase"]  # a pure return


def test_cost_unknown_when_a_line_lacks_it(lines):
    lines.loc[2, "cost"] = np.nan
    orders = build_orders(lines).set_index("order_id")
    assert np.isnan(orders.loc["2", "cost"]) and np.isnan(orders.loc["2", "margin"])
    summary = build_customer_summary(build_orders(lines), "2024-01-31").set_index("customer_id")
    assert np.isnan(summary.loc["a", "margin"])


def test_orders_without_cost_or_quantity_columns(lines):
    orders = build_orders(lines[["customer_id", "order_id", "order_date", "amount"]])
    assert orders["cost"].isna().all() and orders["quantity"].isna().all()


def test_customer_summary_matches_hand_computation(lines):
    summary = build_customer_summary(build_orders(lines), "2024-01-31").set_index("customer_id")
    # c only returned goods: not a customer with a purchase; d ordered after as_of
    assert list(summary.index) == ["a", "b"]
    a = summary.loc["a"]
    assert a["n_orders"] == 4 and a["n_order_days"] == 3
    assert a["revenue"] == 170.0 and a["returns_amount"] == 20.0
    assert a["avg_order_value"] == pytest.approx(170.0 / 4)
    assert a["recency_days"] == 11 and a["tenure_days"] == 30
    # gaps between purchase days: 4 and 15
    assert a["mean_gap_days"] == 9.5 and a["median_gap_days"] == 9.5
    # Fader-Hardie-Lee inputs: repeat days, first-to-last, first-to-as_of, mean repeat-day amount
    assert (a["frequency"], a["recency"], a["T"]) == (2, 19, 30)
    assert a["monetary_value"] == pytest.approx((50.0 + 40.0) / 2)
    b = summary.loc["b"]
    assert b["frequency"] == 0 and b["monetary_value"] == 0.0 and np.isnan(b["mean_gap_days"])


def test_as_of_cut_is_inclusive(lines):
    summary = build_customer_summary(build_orders(lines), "2024-02-15")
    assert "d" in set(summary["customer_id"])
    summary = build_customer_summary(build_orders(lines), "2024-02-14")
    assert "d" not in set(summary["customer_id"])


def test_single_customer_single_order():
    lines = pd.DataFrame({"customer_id": ["x"], "order_id": ["o"], "order_date": pd.to_datetime(["2024-05-01"]),
                          "amount": [12.5]})
    summary = build_customer_summary(build_orders(lines), "2024-05-01")
    assert summary.loc[0, "T"] == 0 and summary.loc[0, "recency_days"] == 0 and summary.loc[0, "n_orders"] == 1
