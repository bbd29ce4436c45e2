"""Minimum-data rules: each model's decision on small literal frames, and the sentence the report shows."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlib import clv as clv
from crmlib.clv import analysis as clv_analysis
from crmlib.clv import report as clv_report
from crmlib.core.readiness import NotEnoughData, describe, readiness
from crmlib.cross_sell import report as xr
from crmlib.cross_sell import rules as xs
from crmlib.errors import DataError, ParamsError


def summary(n: int, *, repeaters: int, history_days: int) -> pd.DataFrame:
    """A per-customer table: ``n`` customers, the first ``repeaters`` with two purchase days."""
    freq = [1 if i < repeaters else 0 for i in range(n)]
    return pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(n)], "frequency": freq,
        "recency": [5.0 if f else 0.0 for f in freq], "T": [float(history_days - 1 - i % 3) for i in range(n)],
        "monetary_value": [100.0 if f else 0.0 for f in freq],
    })


def test_readiness_lists_the_unmet_rules_in_order():
    ready = readiness("x", [("x.min_a", 10, 3), ("x.min_b", 5, 5), ("x.min_c", 2, 1)])
    assert not ready.ready
    assert [r.key for r in ready.unmet] == ["x.min_a", "x.min_c"]
    assert readiness("x", [("x.min_a", 0, 0)]).ready  # a bound of 0 turns the rule off


def test_clv_rules_on_three_customers_over_a_week():
    ready = clv.data_readiness(summary(3, repeaters=1, history_days=7))
    assert [(r.key, r.need, r.have) for r in ready.requirements] == [
        ("clv.min_history_days", 180, 7), ("clv.min_customers", 100, 3), ("clv.min_repeat_customers", 20, 1)]
    assert not ready.ready


def test_clv_rules_met_exactly_at_the_bounds():
    frame = summary(100, repeaters=20, history_days=180)
    assert clv.data_readiness(frame).ready
    assert not clv.data_readiness(frame.iloc[:99]).ready  # 99 customers
    assert not clv.data_readiness(frame, {"min_history_days": 181}).ready
    assert not clv.data_readiness(frame, {"min_repeat_customers": 21}).ready


def test_clv_fit_refuses_thin_data_with_the_rules_and_fits_when_they_are_lowered():
    frame = summary(40, repeaters=25, history_days=60)
    with pytest.raises(NotEnoughData, match=r"clv.min_customers needs 100, the data have 40") as err:
        clv.fit_clv(frame)
    assert isinstance(err.value, DataError)  # callers that degrade without a model degrade here too
    assert [r.key for r in err.value.readiness.unmet] == ["clv.min_history_days", "clv.min_customers"]
    off = {"min_customers": 0, "min_history_days": 0, "min_repeat_customers": 0}
    assert clv.fit_clv(frame, off).bgnbd_ is not None
    assert clv.fit_clv(frame, check_data=False).bgnbd_ is not None


def test_clv_sentence_names_each_unmet_rule_in_both_languages():
    err = pytest.raises(NotEnoughData, clv.fit_clv, summary(3, repeaters=1, history_days=7)).value
    en = describe(err.readiness, "en", key="clv.txt.not_ready")
    assert "at least 180 days of order history (these data have 7), at least 100 customers with a purchase" in en
    assert "(these data have 3) and at least 20 customers who bought on two or more days (these data have 1)" in en
    assert "rule-based view" in en and "clv.min_*" in en
    tr = describe(err.readiness, "tr", key="clv.txt.not_ready")
    assert "en az 100 alışveriş yapmış müşteri (bu veride 3)" in tr and " ve " in tr


class _Ctx:
    """The two attributes :func:`crmlib.clv.report.fitted_model` reads."""

    lang = "en"

    def __init__(self, frame: pd.DataFrame) -> None:
        self.customer_summary = frame

    def clv_model(self):
        return clv.fit_clv(self.customer_summary)


def test_fitted_model_gives_the_sentence_instead_of_a_model():
    model, sentence = clv_report.fitted_model(_Ctx(summary(3, repeaters=1, history_days=7)))
    assert model is None and sentence.startswith("Lifetime-value forecasts are shown only when")


def test_value_to_date_is_revenue_so_far_and_a_monthly_pace():
    frame = pd.DataFrame({
        "customer_id": ["a", "b", "c"], "first_order_date": pd.to_datetime(["2026-01-01", "2026-06-25", "2026-06-01"]),
        "revenue": [600.0, 50.0, 300.0], "n_orders": [6, 1, 2], "avg_order_value": [100.0, 50.0, 150.0],
        "recency_days": [3, 5, 10], "tenure_days": [182.625, 5.0, 29.0],
    })
    out = clv_analysis.value_to_date(frame, n=2)
    assert out["customer_id"].tolist() == ["a", "c"]
    assert out["revenue_per_month"].tolist() == pytest.approx([100.0, 300.0])  # 6 months; under a month = 1


def lines(n_customers: int, orders_each: int) -> pd.DataFrame:
    """Every customer buys A and B together in each of ``orders_each`` orders (a few days apart)."""
    rows = [(f"c{c}", f"o{c}-{k}", pd.Timestamp("2026-06-01") + pd.Timedelta(days=k), item, 10.0)
            for c in range(n_customers) for k in range(orders_each) for item in "AB"]
    return pd.DataFrame(rows, columns=["customer_id", "order_id", "order_date", "product_id", "amount"])


def test_cross_sell_rules_count_orders_and_customers():
    ready = xs.data_readiness(lines(4, 3), as_of="2026-06-30")
    assert [(r.key, r.need, r.have) for r in ready.requirements] == [
        ("cross_sell.min_orders", 300, 12), ("cross_sell.min_customers", 30, 4),
        ("cross_sell.min_products", 2, 2)]
    assert xs.data_readiness(lines(4, 3), as_of="2026-06-30", params={"min_orders": 12, "min_customers": 4}).ready
    assert not xs.data_readiness(lines(4, 3), as_of="2026-06-02", params={"min_orders": 12, "min_customers": 4}).ready


def test_cross_sell_thin_data_shows_best_sellers_and_no_rules():
    res = xr.compute(lines(4, 3), as_of="2026-06-30", params={"min_pair_customers": 1})
    assert not res["readiness"].ready and res["method"] == "popularity"
    assert res["rules"].empty and res["bundles"].empty
    assert set(res["recommendations"]["reason_code"]) <= {"popular"}
    rich = xr.compute(lines(4, 3), as_of="2026-06-30",
                      params={"min_pair_customers": 1, "min_orders": 0, "min_customers": 0, "min_lift": 0})
    assert rich["method"] == "item_to_item" and len(rich["rules"]) == 2  # A→B and B→A (lift 1)


@pytest.mark.parametrize("key", ["min_orders", "min_customers", "min_products"])
def test_cross_sell_rule_bounds_are_checked(key):
    with pytest.raises(ParamsError, match=rf"'cross_sell.{key}' must be a whole number >= 0 \(0 = no rule\), got -1"):
        xs.merged_params({key: -1})


@pytest.mark.parametrize("key", ["min_customers", "min_history_days", "min_repeat_customers"])
def test_clv_rule_bounds_are_checked(key):
    with pytest.raises(ParamsError, match=rf"'clv.{key}'"):
        clv.resolve_params({key: -1})


def test_churn_learned_score_rules_and_sentence():
    from crmlib.churn.model import RiskModel

    model = RiskModel({"min_train_customers": 200, "min_train_class": 20})  # the churn defaults
    model.n_train_, model.n_lost_ = 150, 40  # 150 customers at the training date, 40 lost, 110 kept
    ready = model.readiness()
    assert [(r.key, r.need, r.have, r.met) for r in ready.requirements] == [
        ("churn.min_train_customers", 200, 150, False), ("churn.min_train_class", 20, 40, True)]
    text = describe(ready, "en", key="churn.summary.points_needs", days=90)
    assert "customers of 90 days ago only with at least 200 customers who had bought by then (these data have 150)" in text
    assert "rule-based view" in text and "churn.min_train_class" in text
    model.n_train_, model.n_lost_ = 0, 0  # no customer before the training date (history shorter than the horizon)
    assert [r.have for r in model.readiness().unmet] == [0, 0]


def test_churn_risk_table_keeps_the_rules_through_parquet(tmp_path):
    from crmlib.churn import scoring

    signals = scoring.compute_signals(pd.DataFrame({"customer_id": ["a", "b"]}),
                                      pd.DataFrame({"customer_id": ["a", "b"], "order_date": pd.to_datetime(
                                          ["2026-06-01", "2026-06-20"]), "amount": [10.0, 5.0]}),
                                      as_of="2026-06-30")
    risk = scoring.risk_scores(signals)  # not fitted: points, 0 training customers
    risk.to_parquet(tmp_path / "risk.parquet")  # attrs are written as JSON metadata
    back = pd.read_parquet(tmp_path / "risk.parquet")
    assert back.attrs["readiness"] == [["churn.min_train_customers", 200, 0], ["churn.min_train_class", 20, 0]]
