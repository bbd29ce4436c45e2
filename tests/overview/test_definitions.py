"""One definition per figure, every figure with its period, and what got worse: on constructed customers."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlib import overview
from crmlib.clv import analysis as clv_analysis
from crmlib.overview import kpis

AS_OF = pd.Timestamp("2026-06-30")


def orders_at(days_ago: dict[str, list[int]], amount: float = 100.0) -> pd.DataFrame:
    rows = [{"customer_id": c, "order_id": f"{c}{i}", "order_date": AS_OF - pd.Timedelta(days=d), "amount": amount,
             "is_purchase": True, "returns_amount": 0.0} for c, ds in days_ago.items() for i, d in enumerate(ds)]
    return pd.DataFrame(rows)


def summary_of(orders: pd.DataFrame) -> pd.DataFrame:
    g = orders.groupby("customer_id")
    return pd.DataFrame({"customer_id": g.size().index, "n_orders": g.size().to_numpy(),
                         "recency_days": (AS_OF - g["order_date"].max()).dt.days.to_numpy().astype(float)})


def test_active_customers_are_the_same_figure_on_every_page():
    # ordered 0, 89, 90 (the edge) and 91 days ago, and one 400 days ago
    orders = orders_at({"a": [0], "b": [89], "c": [90], "d": [91], "e": [400]})
    head = overview.headline(orders, summary_of(orders), as_of=AS_OF)
    window = kpis.window_kpis(orders, as_of=AS_OF, days=90).loc["active_customers", "current"]
    assert head["active_90d"] == window == 2 == overview.active_customers(summary_of(orders), days=90)


def test_headline_orders_and_order_value_are_over_the_same_12_months_as_revenue():
    orders = orders_at({"a": [10, 20], "b": [500]}, amount=100.0)
    orders.loc[orders["customer_id"] == "b", "amount"] = 10_000.0       # an old, big order
    head = overview.headline(orders, summary_of(orders), as_of=AS_OF)
    assert head["revenue_12m"] == 200.0 and head["orders_12m"] == 2 and head["aov_12m"] == 100.0
    assert head["orders_total"] == 3 and head["customers"] == 2


def test_acquisition_cost_is_one_figure_on_the_overview_and_the_lifetime_value_page():
    marketing = pd.DataFrame({"month": pd.to_datetime(["2024-01-01", "2025-09-01", "2026-03-01"]),
                              "channel": ["Fuar", "Fuar", "Google Ads"], "spend": [90_000.0, 30_000.0, 20_000.0],
                              "new_customers": [3, 4, 5]})
    acquisition = kpis.cac_by_channel(marketing, as_of=AS_OF)
    table = pd.DataFrame({"customer_id": ["x"], "clv": [1000.0]})
    both = clv_analysis.cac_ltv(marketing, table, acquisition=acquisition).set_index("channel")["cac"]
    over = acquisition.set_index("channel")["cac"]
    assert both["Fuar"] == over["Fuar"] == pytest.approx(7500.0)        # 2024 is outside the 12 months
    assert both["Google Ads"] == over["Google Ads"] == pytest.approx(4000.0)


def test_the_summary_names_what_got_worse():
    orders = orders_at({**{f"p{i}": [100] for i in range(20)}, **{f"c{i}": [10] for i in range(15)}})
    surveys = pd.DataFrame({"customer_id": "x", "date": [AS_OF - pd.Timedelta(days=d) for d in (10, 20, 100, 110)],
                            "nps": [2.0, 3.0, 9.0, 10.0], "csat": [3.0, 3.0, 5.0, 4.0]})
    tickets = pd.DataFrame({"customer_id": "x",
                            "opened_at": [AS_OF - pd.Timedelta(days=5)] * 12 + [AS_OF - pd.Timedelta(days=95)] * 4
                            + [AS_OF - pd.Timedelta(days=5)] * 2,
                            "category": ["Geç teslimat"] * 16 + ["Kalite"] * 2})
    worse = overview.what_got_worse(orders, {"surveys": surveys, "tickets": tickets}, as_of=AS_OF)
    assert worse["item"].tolist() == ["active_customers", "revenue", "nps", "csat", "complaints"]
    assert worse.set_index("item").loc["active_customers", ["previous", "current"]].tolist() == [20, 15]
    assert worse.set_index("item").loc["complaints", "label"] == "Geç teslimat"   # 4 -> 12; Kalite 0 -> 2 is noise
    text = overview.worse_sentence(worse, lang="en", currency="TRY")
    assert "NPS 100.0 → -100.0" in text and "CSAT 100.0% → 0.0%" in text and '"Geç teslimat" complaints 4 → 12' in text and "90 days" in text
    steady = overview.what_got_worse(orders_at({"a": [10], "b": [100]}), None, as_of=AS_OF)
    assert steady.empty and "Nothing" in overview.worse_sentence(steady, lang="en", currency="TRY")


def test_the_same_lapsed_and_active_figures_on_every_page_of_the_sample(sample_ctx):
    """Segments (tier P, segments Lapsed/Lost/Hibernating), churn levels and the selling lists draw the lapsed
    line in the same place; the overview's active customers equal the KPI window's."""
    from crmlib import churn
    from crmlib import segmentation as seg

    summary = sample_ctx.customer_summary
    lapsed_ids = set(summary.loc[seg.is_lapsed(summary["recency_days"], sample_ctx.params), "customer_id"])
    table = sample_ctx.segments()
    assert set(table.loc[table["abc_tier"] == "P", "customer_id"]) == lapsed_ids
    assert set(table.loc[table["customer_id"].isin(lapsed_ids), "rfm_segment"]) <= set(seg.LAPSED_SEGMENTS)
    signals = churn.compute_signals(summary, sample_ctx.orders, as_of=sample_ctx.as_of, tables=sample_ctx.tables,
                                    params=sample_ctx.params["churn"])
    risk = churn.risk_scores(signals, params=sample_ctx.params["churn"])
    assert set(risk.loc[risk["risk_level"] == churn.LAPSED_LEVEL, "customer_id"]) == lapsed_ids
    head = overview.headline(sample_ctx.orders, summary, as_of=sample_ctx.as_of)
    assert head["active_90d"] == kpis.window_kpis(sample_ctx.orders, as_of=sample_ctx.as_of,
                                                  days=90).loc["active_customers", "current"]
