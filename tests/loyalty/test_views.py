"""Launches, early buyers and the complaint rates per product from the SQL views equal the lines' figures."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt
import pytest

from crmlib import loyalty as loy
from crmlib.data import views
from crmlib.service import complaints


@pytest.mark.parametrize("early_days, burn_in, new_days", [(30, 90, 180), (60, 30, 365), (7, 400, 120)])
def test_priority_stock_and_launches_from_the_views(sample_ctx, early_days, burn_in, new_days):
    lines = sample_ctx.order_lines
    # launches: three products sold under new ids from 300, 200 and 100 days before as_of
    renamed = lines["product_id"].copy()
    for days, pid in zip((300, 200, 100), lines["product_id"].value_counts().index[:3], strict=True):
        later = (lines["product_id"] == pid) & (lines["order_date"] > sample_ctx.as_of - pd.Timedelta(days=days))
        renamed[later] = f"NEW-{pid}"
    lines = lines.assign(product_id=renamed)
    view = views.viewer({"order_lines": lines}, as_of=sample_ctx.as_of)
    kw = {"as_of": sample_ctx.as_of, "burn_in_days": burn_in}
    first = view("product_first_sales")
    pdt.assert_frame_equal(loy.product_launches(None, first_sales=first, **kw), loy.product_launches(lines, **kw))
    old = loy.priority_stock(lines, early_buyer_days=early_days, new_product_days=new_days, top_n=50, **kw)
    new = loy.priority_stock(None, early_buyer_days=early_days, new_product_days=new_days, top_n=50,
                             first_sales=first, early_buyers=view("early_buyers", early_days=early_days), **kw)
    assert len(old[0]) and len(old[1])
    for a, b in zip(old, new, strict=True):
        pdt.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


def test_launches_at_an_earlier_date_and_without_sales():
    lines = pd.DataFrame({"customer_id": ["a", "b", "a", "c"], "order_id": ["1", "2", "3", "4"],
                          "order_date": pd.to_datetime(["2025-01-01", "2025-03-01", "2025-03-05", "2025-03-20"]
                                                       ).astype("datetime64[ns]"),
                          "product_id": ["P", "Q", "Q", "R"], "amount": [5.0, 4.0, 6.0, -1.0]})
    view = views.viewer({"order_lines": lines}, as_of="2025-03-31")
    for at in ("2025-03-31", "2025-03-02"):
        first = view("product_first_sales", as_of=at)
        pdt.assert_frame_equal(loy.product_launches(None, first_sales=first, as_of=at, burn_in_days=30),
                               loy.product_launches(lines, as_of=at, burn_in_days=30))
    empty = view("product_first_sales", as_of="2024-12-31")
    assert loy.product_launches(None, first_sales=empty, as_of="2024-12-31").empty


@pytest.mark.parametrize("lookback", [30, 90, 365])
def test_complaint_rates_from_the_product_orders_view(sample_ctx, lookback):
    tickets = sample_ctx.tables["tickets"]
    if "product_id" not in tickets.columns:
        pytest.skip("the sample's tickets name no product")
    lines = sample_ctx.order_lines
    view = views.viewer({"order_lines": lines}, as_of=sample_ctx.as_of)
    kw = {"as_of": sample_ctx.as_of, "lookback_days": lookback, "min_complaints": 2}
    old = complaints.recurring_products(tickets, lines, **kw)
    new = complaints.recurring_products(tickets, None, product_orders=view("product_orders", lookback_days=lookback),
                                        **kw)
    pdt.assert_frame_equal(old, new)
    assert old["orders"].sum() > 0


def test_has_orders_columns_is_counted_by_sql(sample_ctx):
    import dataclasses

    ctx = dataclasses.replace(sample_ctx)
    assert ctx.has("orders", "product_id") and ctx.has("orders", "quantity")
    bare = ctx.order_lines.drop(columns=["product_id", "quantity"])
    ctx = dataclasses.replace(sample_ctx, order_lines=bare)
    assert ctx.has("orders") and not ctx.has("orders", "product_id") and not ctx.has("orders", "quantity")
    assert ctx.has("orders", "amount")
