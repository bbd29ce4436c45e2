"""Churn from the SQL views: lapsed products from ``product_rhythm``, the backtest's and the calibration's
snapshots from the ``customer_summary`` view at each cut date; the same figures as from lines and orders."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pandas.testing as pdt

from crmlib import churn as ch
from crmlib.churn.params import resolve
from crmlib.data import views


def test_lapsed_products_from_the_rhythm_view(sample_ctx):
    p = resolve(sample_ctx.params.get("churn"))
    lines = sample_ctx.order_lines
    view = views.viewer({"order_lines": lines}, as_of=sample_ctx.as_of)
    old = ch.products.lapsed_products(lines, sample_ctx.customer_summary, as_of=sample_ctx.as_of, params=p)
    rhythm = view("product_rhythm")
    new = ch.products.lapsed_products(None, sample_ctx.customer_summary, as_of=sample_ctx.as_of, params=p,
                                      rhythm=rhythm)
    assert len(old)
    pdt.assert_frame_equal(old, new, check_exact=False, rtol=1e-12)
    assert rhythm["last_purchase_date"].dtype == "datetime64[ns]"  # the view itself is left as it was


def test_backtest_and_calibration_snapshots_are_view_calls(sample_ctx, monkeypatch):
    ctx = dataclasses.replace(sample_ctx)
    p = resolve(ctx.params.get("churn"))
    clv_params = ctx.params["clv"]
    asked: list[pd.Timestamp] = []

    def summary_at(at):
        asked.append(pd.Timestamp(at))
        return ctx.summary_at(at)

    old = ch.backtest(ctx.orders, as_of=ctx.as_of, tables=ctx.tables, params=p, clv_params=clv_params)
    new = ch.backtest(ctx.orders, as_of=ctx.as_of, tables=ctx.tables, params=p, clv_params=clv_params,
                      summaries=summary_at)
    pdt.assert_frame_equal(old, new)
    h = pd.Timedelta(days=int(p["horizon_days"]))
    assert set(asked) == {ctx.as_of - h, ctx.as_of - 2 * h}  # the snapshot and the model's training date
    old = ch.calibration.p_order_calibration(ctx.orders, as_of=ctx.as_of, clv_params=clv_params)
    new = ch.calibration.p_order_calibration(ctx.orders, as_of=ctx.as_of, clv_params=clv_params,
                                             summaries=ctx.summary_at)
    pdt.assert_frame_equal(old, new)
    assert old.attrs == new.attrs
