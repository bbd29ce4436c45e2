"""The DuckDB engine runs the SQL files on frames and on Parquet files or hive-partitioned folders alike."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlib.data import engine, tables


def _lines() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["C1", "C1", "C2", "C2", "C2"],
        "order_id": ["O1", "O2", "O3", "O3", "O4"],
        "order_date": pd.to_datetime(["2026-01-05", "2026-02-05", "2026-01-10", "2026-01-10", "2026-03-01"]),
        "amount": [100.0, 50.0, 30.0, -10.0, 80.0],
        "cost": [60.0, 30.0, 20.0, -5.0, 50.0],
        "quantity": [1.0, 1.0, 2.0, -1.0, 3.0],
    })


@pytest.mark.parametrize("layout", ["frame", "file", "folder"])
def test_the_same_orders_and_customer_table_from_a_frame_a_file_or_a_partitioned_folder(tmp_path, layout):
    lines = _lines()
    if layout == "file":
        source = tmp_path / "lines.parquet"
        lines.to_parquet(source, index=False)
    elif layout == "folder":
        source = tmp_path / "lines"
        lines.assign(year=2026).to_parquet(source, partition_cols=["year"], index=False)
    else:
        source = lines
    with engine.open_engine({"engine": "duckdb"}) as eng:
        eng.register("order_lines", source)
        eng.set_as_of("2026-03-31")
        eng.materialise("orders", "orders")
        orders = tables.orders_types(eng.fetch_relation("orders"))
        summary = tables.summary_types(eng.fetch("customer_summary"))
    expected_orders = tables.build_orders(lines)
    cols = list(expected_orders.columns)
    pd.testing.assert_frame_equal(orders[cols].sort_values("order_id").reset_index(drop=True),
                                  expected_orders.sort_values("order_id").reset_index(drop=True))
    pd.testing.assert_frame_equal(summary, tables.build_customer_summary(expected_orders, "2026-03-31"))
    c2 = summary.set_index("customer_id").loc["C2"]
    assert c2["revenue"] == 100.0 and c2["n_orders"] == 2 and c2["recency_days"] == 30


def test_an_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="unknown engine 'flink'"):
        engine.open_engine({"engine": "flink"})
