"""``ctx.view(name)``: computed by DuckDB over the saved context's Parquet files, cached in its folder and
read back by the next notebook; at another date from the orders; from the frames without a folder."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pandas.testing as pdt
import pytest

from crmlib.core.context import load_saved
from crmlib.data import tables, views


def test_a_view_is_computed_from_the_saved_files_cached_and_read_back(sample_ctx, tmp_path, monkeypatch):
    sample_ctx.save(tmp_path / "ctx")
    first = load_saved(tmp_path / "ctx")
    first.order_lines = None  # the view reads order_lines.parquet, never the frame
    rhythm = first.view("product_rhythm")
    assert (tmp_path / "ctx" / "views" / "product_rhythm.parquet").exists()
    assert first.view("product_rhythm") is rhythm
    expected = views.canonical("product_rhythm", tables.query(
        "product_rhythm", as_of=sample_ctx.as_of, order_lines=sample_ctx.order_lines))
    pdt.assert_frame_equal(rhythm.sort_values(["customer_id", "product_id"]).reset_index(drop=True),
                           expected.sort_values(["customer_id", "product_id"]).reset_index(drop=True))

    once = first.view("order_products", keep=False)  # a large view used once: written, not held
    assert (tmp_path / "ctx" / "views" / "order_products.parquet").exists()
    held = first.view("order_products")
    assert held is not once
    pdt.assert_frame_equal(held, once)
    assert first.view("order_products", keep=False) is held  # handed over, and no longer held
    assert first.view("order_products") is not held

    monkeypatch.setattr(views, "compute", lambda *a, **k: pytest.fail("recomputed instead of read"))
    again = load_saved(tmp_path / "ctx").view("product_rhythm")  # another notebook of the same run
    pdt.assert_frame_equal(again, rhythm)


def test_the_per_customer_table_at_an_earlier_date_comes_from_the_orders(sample_ctx, tmp_path):
    sample_ctx.save(tmp_path / "ctx")
    ctx = load_saved(tmp_path / "ctx")
    pdt.assert_frame_equal(ctx.view("customer_summary"), sample_ctx.customer_summary)
    cut = sample_ctx.as_of - pd.Timedelta(days=180)
    earlier = ctx.view("customer_summary", as_of=cut)
    expected = tables.build_customer_summary(sample_ctx.orders[sample_ctx.orders["order_date"] <= cut], cut)
    pdt.assert_frame_equal(earlier, expected)
    assert (tmp_path / "ctx" / "views" / f"customer_summary.as_of-{cut:%Y-%m-%d}.parquet").exists()
    assert len(earlier) < len(sample_ctx.customer_summary)


def test_without_a_context_folder_views_come_from_the_frames(sample_ctx):
    ctx = dataclasses.replace(sample_ctx)
    orders = ctx.view("orders")
    pdt.assert_frame_equal(orders, sample_ctx.orders)
    assert ctx.view("orders") is orders


def test_a_context_copied_with_other_lines_computes_from_its_own_frames(sample_ctx, tmp_path):
    sample_ctx.save(tmp_path / "ctx")
    saved = load_saved(tmp_path / "ctx")
    assert saved.has("orders", "product_id")  # cached in the folder by SQL
    thin = dataclasses.replace(saved, order_lines=saved.order_lines.drop(columns="product_id"))
    assert not thin.has("orders", "product_id") and thin.view("customer_products").empty
    assert not saved.view("customer_products").empty


def test_blank_counts_come_from_the_parquet_statistics(sample_ctx, tmp_path):
    from crmlib.overview.summary import missing_values

    lines = sample_ctx.order_lines.copy()
    lines.loc[lines.index[::7], "cost"] = float("nan")
    lines.loc[lines.index[::11], "product_id"] = None
    ctx = dataclasses.replace(sample_ctx, order_lines=lines)
    ctx.save(tmp_path / "ctx")
    saved = load_saved(tmp_path / "ctx")
    saved.order_lines = None  # counted from the file's statistics
    expected = missing_values({"orders": lines})
    pdt.assert_frame_equal(missing_values({"orders": saved.blank_counts("orders")}), expected)
    pdt.assert_frame_equal(missing_values({"orders": ctx.blank_counts("orders")}), expected)
    assert set(expected["column"]) >= {"cost", "product_id"}


def test_views_computed_ahead_travel_with_the_saved_context(sample_ctx, tmp_path, monkeypatch):
    from crmlib.data.engine import DuckDBEngine

    ctx = dataclasses.replace(sample_ctx)
    with DuckDBEngine() as eng:  # as the Spark context does on its engine
        eng.register("order_lines", views.with_line_columns(ctx.order_lines))
        eng.materialise("orders", "orders")
        ahead = views.compute_run_views(eng, ctx.params, as_of=ctx.as_of, ready=("order_lines", "orders"))
    keys = {views.cache_key(n, a, v) for n, a, v in views.run_views(ctx.params, ctx.as_of)}
    assert set(ahead) == keys and "customer_summary.as_of-" + f"{ctx.as_of - pd.Timedelta(days=30):%Y-%m-%d}" in keys
    ctx.keep_views(ahead)
    ctx.save(tmp_path / "ctx")
    assert {p.stem for p in (tmp_path / "ctx" / "views").glob("*.parquet")} == keys
    monkeypatch.setattr(views, "compute", lambda *a, **k: pytest.fail("recomputed instead of read"))
    again = load_saved(tmp_path / "ctx")
    lead = 7 * int(ctx.params["cross_sell"]["preseason_lead_weeks"])
    pdt.assert_frame_equal(again.view("preseason_items", lead_days=lead), ahead[f"preseason_items.lead_days-{lead}"])
    h = int(ctx.params["churn"]["horizon_days"])
    pdt.assert_frame_equal(again.summary_at(ctx.as_of - pd.Timedelta(days=h)),
                           tables.build_customer_summary(ctx.orders[ctx.orders["order_date"] <= ctx.as_of
                                                                    - pd.Timedelta(days=h)],
                                                         ctx.as_of - pd.Timedelta(days=h)))
