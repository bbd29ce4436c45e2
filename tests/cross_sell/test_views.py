"""Cross-sell from the SQL views (customer x product purchases, baskets, pre-season items) gives the same
figures as from the order lines: every frame of ``analyse``, on hand-made lines and on the sample."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt
import pytest

from crmlib.cross_sell import report as xr
from crmlib.cross_sell import rules as xs
from crmlib.data import views


def _same(a, b, key=""):
    if isinstance(a, pd.DataFrame):
        pdt.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_exact=False, rtol=1e-12,
                               atol=1e-9, obj=key)
        assert a.attrs == b.attrs, key
    elif isinstance(a, pd.Series):
        pdt.assert_series_equal(a, b, check_exact=False, rtol=1e-12, obj=key)
    elif hasattr(a, "ready"):
        assert a == b, key
    else:
        assert a == b, key


def _compare(lines, *, as_of, products=None, params=None, customer_ids=None, lapsed_ids=None):
    view = views.viewer({"order_lines": lines}, as_of=as_of)
    kw = {"as_of": as_of, "products": products, "params": params, "customer_ids": customer_ids,
          "lapsed_ids": lapsed_ids}
    old = xr.compute(lines, **kw)
    new = xr.compute(None, view=view, **kw)
    assert set(old) == set(new)
    for key in old:
        if old[key] is None:
            assert new[key] is None, key
        else:
            _same(old[key], new[key], key)
    return old, new


def _lines(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "order_id", "order_date", "product_id", "amount"])
    frame["order_date"] = pd.to_datetime(frame["order_date"]).astype("datetime64[ns]")  # as the reader gives
    return frame


def test_the_views_give_every_figure_of_the_lines_on_a_small_shop():
    # three customers over two years: repeats, a return, a seasonal product, products without quantity
    rows = []
    for year in (2024, 2025):
        for i, cust in enumerate(["c1", "c2", "c3"]):
            rows += [(cust, f"{cust}-{year}-1", f"{year}-07-0{i + 1}", "A", 10.0 + i),
                     (cust, f"{cust}-{year}-1", f"{year}-07-0{i + 1}", "B", 5.0),
                     (cust, f"{cust}-{year}-2", f"{year}-03-1{i}", "C", 7.5),
                     (cust, f"{cust}-{year}-2", f"{year}-03-1{i}", "A", 2.0)]
    rows += [("c1", "c1-r", "2026-01-05", "B", -5.0), ("c2", "c2-3", "2026-02-01", "D", 40.0),
             ("c2", "c2-3", "2026-02-01", "B", 3.0), ("c3", "c3-3", "2026-05-20", "A", 12.0)]
    lines = _lines(rows)
    products = pd.DataFrame({"product_id": list("ABCD"), "name": ["Ayva", "Biber", "Cevi", "Dut"],
                             "category": ["x", "x", "y", "y"], "price": [10.0, 12.0, 7.0, 9.0]})
    params = {"min_support": 0.1, "min_confidence": 0.1, "min_lift": 0.5, "min_pair_customers": 1,
              "min_orders": 1, "min_customers": 1, "min_products": 1, "preseason_min_index": 0.5}
    old, _ = _compare(lines, as_of=pd.Timestamp("2026-06-20"), products=products, params=params,
                      lapsed_ids=["c3"])
    assert len(old["rules"]) and len(old["recommendations"]) and len(old["preseason"])


def test_customer_items_from_the_view_are_the_lines_groupby(sample_ctx):
    lines = sample_ctx.order_lines
    view = views.viewer({"order_lines": lines}, as_of=sample_ctx.as_of)
    cut = sample_ctx.as_of - pd.Timedelta(days=200)
    for at in (sample_ctx.as_of, cut):
        old = xs.customer_items(lines, as_of=at)
        new = xs.regular_items(view("customer_products", as_of=at), as_of=at)
        pdt.assert_frame_equal(old, new, check_exact=False, rtol=1e-12)
    found_old = xs.frequent_itemsets(lines)
    found_new = xs.frequent_itemsets(None, baskets=view("order_products"))
    assert found_old[1] == found_new[1]
    pdt.assert_frame_equal(found_old[0], found_new[0])


@pytest.mark.slow
def test_the_views_give_every_figure_of_the_lines_on_the_sample(sample_ctx):
    products = sample_ctx.tables.get("products")
    summary = sample_ctx.customer_summary
    _compare(sample_ctx.order_lines, as_of=sample_ctx.as_of, products=products,
             customer_ids=summary["customer_id"], lapsed_ids=summary.loc[summary["recency_days"] > 180, "customer_id"])
