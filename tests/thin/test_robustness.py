"""Thin and odd histories on small literal frames: the practice functions degrade instead of failing."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from crmlib import clv as clv
from crmlib.cross_sell import rules as xs


def lines_from(rows: list[tuple[str, str, str, str, float]]) -> pd.DataFrame:
    """Order lines from (customer_id, order_id, order_date, product_id, amount) tuples."""
    frame = pd.DataFrame(rows, columns=["customer_id", "order_id", "order_date", "product_id", "amount"])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    return frame


def test_clv_notes_survive_the_saved_model_without_a_correlation():
    # two repeat buyers: no frequency-spend correlation (NaN, saved as null in clv_model.json)
    lt = pd.DataFrame({"frequency": [1, 2, 0], "recency": [2.0, 3.0, 0.0], "T": [4.0, 5.0, 1.0],
                       "monetary_value": [10.0, 12.0, 0.0]})
    model = clv.ClvModel().fit_lifetimes(lt)
    assert np.isnan(model.diagnostics_["correlation"])
    saved = clv.ClvModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert saved.diagnostics_["correlation"] is None
    keys = [key for key, _ in saved.notes()]
    assert not any(key.startswith("clv.note.correlation") for key in keys)
    assert "clv.note.one_time" in keys


def test_cross_sell_evaluation_with_history_shorter_than_the_test_period():
    lines = lines_from([("c1", "o1", "2026-06-20", "A", 10.0), ("c1", "o1", "2026-06-20", "B", 5.0),
                        ("c2", "o2", "2026-06-25", "A", 7.0)])
    ev = xs.evaluate(lines, cut=pd.Timestamp("2026-04-01"), horizon_days=90, k=5)
    assert ev.attrs["status"] == "no_training"
    assert ev["method"].tolist() == ["item_to_item", "popularity"]
    assert ev["n_customers"].tolist() == [0, 0] and ev["hit_rate"].isna().all()


def test_cross_sell_evaluation_with_nobody_to_test():
    lines = lines_from([("c1", "o1", "2026-01-20", "A", 10.0), ("c2", "o2", "2026-06-25", "B", 7.0)])
    ev = xs.evaluate(lines, cut=pd.Timestamp("2026-04-01"), horizon_days=90, k=5)
    assert ev.attrs["status"] == "no_test" and ev["n_customers"].tolist() == [0, 0]


def test_premium_alternatives_without_any_pair_bought_together():
    lines = lines_from([("c1", "o1", "2026-06-20", "A-S", 10.0), ("c2", "o2", "2026-06-21", "B-S", 5.0)])
    products = pd.DataFrame({"product_id": ["A-S", "A-P", "B-S"], "category": ["x", "x", "y"],
                             "price": [10.0, 15.0, 5.0]})
    out = xs.premium_alternatives(lines, products, as_of="2026-06-30")
    assert out.empty and {"customer_id", "premium_product_id"} <= set(out.columns)
