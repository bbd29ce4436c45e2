"""The context built on Spark from the sample's orders as Parquet equals the one DuckDB builds from the CSV."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = pytest.mark.spark


def test_orders_and_the_customer_table_are_the_duckdb_ones(spark_ctx, sample_ctx):
    assert spark_ctx.as_of == sample_ctx.as_of
    pd.testing.assert_frame_equal(spark_ctx.orders, sample_ctx.orders)
    pd.testing.assert_frame_equal(spark_ctx.customer_summary, sample_ctx.customer_summary)
    assert len(spark_ctx.customer_summary) > 1000


def test_the_order_lines_are_the_same_lines(spark_ctx, sample_ctx):
    cols = list(sample_ctx.order_lines.columns)
    key = ["order_id", "product_id", "amount", "quantity"]
    duck = sample_ctx.order_lines[cols].sort_values(key, ignore_index=True)
    spark = spark_ctx.order_lines[cols].sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(spark, duck, check_dtype=False)
    assert spark_ctx.meta["engine"] == "spark" and spark_ctx.meta["rows"]["orders"] == len(duck)


def test_the_other_tables_are_loaded_as_on_duckdb(spark_ctx, sample_ctx):
    for name, frame in sample_ctx.tables.items():
        if frame is None:
            assert spark_ctx.tables[name] is None
        else:
            pd.testing.assert_frame_equal(spark_ctx.tables[name], frame)
