"""Every registered SQL view runs unchanged on Spark SQL with the same result as on DuckDB (the sample's
lines of 400 customers, at the run's date and at an earlier one)."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlib.data import engine, views
from crmlib.data.spark_engine import SparkEngine

pytestmark = pytest.mark.spark

VALUES = {"preseason_items": {"lead_days": 56}, "early_buyers": {"early_days": 30},
          "product_orders": {"lookback_days": 90}}


@pytest.mark.parametrize("days_back", [0, 250])
def test_every_view_is_the_same_on_spark_and_duckdb(sample_ctx, spark_session, days_back):
    keep = sorted(sample_ctx.order_lines["customer_id"].unique())[:400]
    lines = views.with_line_columns(sample_ctx.order_lines.loc[sample_ctx.order_lines["customer_id"].isin(keep)])
    as_of = sample_ctx.as_of - pd.Timedelta(days=days_back)
    for name in views.names():
        results = []
        for eng in (engine.DuckDBEngine(), SparkEngine(session=spark_session)):
            with eng:
                results.append(views.compute(eng, name, sources={"order_lines": lines}, as_of=as_of,
                                             values=VALUES.get(name)))
        duck, spark = results
        keys = [c for c in ("customer_id", "product_id", "order_id", "month_no") if c in duck.columns]
        if keys:
            duck, spark = (f.sort_values(keys, ignore_index=True) for f in (duck, spark))
        assert len(duck), name
        pd.testing.assert_frame_equal(spark[list(duck.columns)], duck, check_dtype=False, check_exact=False,
                                      rtol=1e-12, obj=name)
