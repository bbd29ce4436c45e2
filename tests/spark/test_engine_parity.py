"""The Spark engine runs the same SQL files as DuckDB, unchanged, with the same results."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlib.data import engine, tables
from crmlib.data.spark_engine import SparkEngine

pytestmark = pytest.mark.spark


def _lines() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["C1", "C1", "C2", "C2", "C2", "C3"],
        "order_id": ["O1", "O2", "O3", "O3", "O4", "O5"],
        "product_id": ["P1", "P2", "P1", "P2", "P1", "P3"],
        "order_date": pd.to_datetime(["2026-01-05", "2026-02-05", "2026-01-10", "2026-01-10", "2026-03-01",
                                      "2026-04-02"]),
        "amount": [100.0, 50.0, 30.0, -10.0, 80.0, 20.0],
        "cost": [60.0, 30.0, 20.0, -5.0, 50.0, None],
        "quantity": [1.0, 1.0, 2.0, -1.0, 3.0, 1.0],
    })


@pytest.mark.parametrize("layout", ["frame", "arrow", "file", "folder"])
def test_spark_and_duckdb_give_the_same_orders_and_customer_table(tmp_path, spark_session, layout):
    import pyarrow as pa

    lines = _lines()
    source = {"frame": lines, "arrow": pa.Table.from_pandas(lines, preserve_index=False)}.get(layout)
    if layout == "file":
        source = tmp_path / "lines.parquet"
        lines.to_parquet(source, index=False)
    elif layout == "folder":
        source = tmp_path / "lines"
        lines.assign(year=2026).to_parquet(source, partition_cols=["year"], index=False)
    results = {}
    for name in ("duckdb", "spark"):
        eng = engine.DuckDBEngine() if name == "duckdb" else SparkEngine(session=spark_session)
        with eng:
            eng.register("order_lines", source)
            eng.set_as_of("2026-03-31")
            eng.materialise("orders", "orders")
            orders = tables.orders_types(eng.fetch_relation("orders"))
            summary = tables.summary_types(eng.fetch("customer_summary"))
            rhythm = eng.fetch("product_rhythm")
        results[name] = (orders.sort_values("order_id", ignore_index=True), summary,
                         rhythm.sort_values(["customer_id", "product_id"], ignore_index=True))
    for duck, spark in zip(results["duckdb"], results["spark"], strict=True):
        pd.testing.assert_frame_equal(spark, duck, check_dtype=False)
    summary = results["spark"][1].set_index("customer_id")
    assert summary.loc["C2", "revenue"] == 100.0 and summary.loc["C2", "recency_days"] == 30
    assert "C3" not in summary.index  # first order after as_of
    assert not pd.isna(summary.loc["C1", "cost"]) and results["spark"][0]["cost"].isna().sum() == 1


def test_open_engine_joins_a_running_session_and_leaves_it_running(spark_session):
    with engine.open_engine({"engine": "spark", "spark": {"master": "local[1]"}}) as eng:
        assert eng.name == "spark" and eng.spark is spark_session
        eng.set_as_of("2026-03-31")
        assert pd.Timestamp(eng.fetch_relation("run_params")["as_of"].iloc[0]) == pd.Timestamp("2026-03-31")
        assert eng.sql("SELECT days_between(DATE'2026-01-31', DATE'2026-03-01') AS d").collect()[0]["d"] == 29
    assert not spark_session.catalog.tableExists("run_params")  # its views are gone, the session is not
    assert spark_session.sql("SELECT 1 AS one").collect()[0]["one"] == 1


def test_the_session_takes_the_params_conf_over_the_workbooks():
    from crmlib.data.spark_engine import session_conf

    conf = session_conf({"master": "local[2]", "conf": {"spark.sql.shuffle.partitions": 64,
                                                        "spark.sql.ansi.enabled": False}})
    assert conf["spark.sql.shuffle.partitions"] == "64" and conf["spark.sql.ansi.enabled"] == "false"
    assert conf["spark.sql.session.timeZone"] == "UTC" and conf["spark.ui.enabled"] == "false"
