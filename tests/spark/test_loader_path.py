"""CSV and Excel order files, and the loader's rules (``rates``, ``drop_when``, ``return_when``, a currency
column), on Spark: the lines are read and checked by the usual loader, then orders, the per-customer table and
the views are computed on Spark; the figures equal the DuckDB context's."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlib.__main__ import main
from crmlib.core import context as context_mod
from crmlib.core import params as params_mod
from crmlib.core import spark_context

pytestmark = pytest.mark.spark

COLUMNS = {"customer_id": "Cari", "order_id": "Fis", "order_date": "Tarih", "amount": "Tutar",
           "product_id": "Urun", "currency": "Doviz"}


def _csv(tmp_path) -> str:
    frame = pd.DataFrame({
        "Cari": ["C1", "C1", "C2", "C2", "C3", "C3", "C4"],
        "Fis": ["F1", "F2", "F3", "F4", "F5", "F6", "F7"],
        "Tarih": ["05.01.2026", "05.02.2026", "10.01.2026", "12.02.2026", "01.03.2026", "02.03.2026",
                  "03.03.2026"],
        "Tutar": ["100", "50", "30", "10", "20", "40", "70"],
        "Doviz": ["TRY", "USD", "TRY", "EUR", "TRY", "TRY", "TRY"],
        "Urun": ["P1", "P2", "P1", "P2", "P1", "P2", "P1"],
        "Durum": ["ok", "ok", "ok", "İade", "ok", "ok", "İptal"],
    })
    path = tmp_path / "orders.csv"
    frame.to_csv(path, sep=";", index=False)
    return str(path)


def _params(path: str, engine: str) -> dict:
    return params_mod.normalize({"engine": engine, "as_of": "2026-03-31", "data": {"orders": {
        "path": path, "columns": COLUMNS, "read": {"date_format": "%d.%m.%Y"},
        "rates": {"USD": 34.0, "EUR": 37.0}, "drop_when": {"Durum": ["İptal"]},
        "return_when": {"Durum": ["İade"]}}}})


def test_rates_drop_when_and_return_when_apply_on_spark_as_on_duckdb(tmp_path, spark_session):
    path = _csv(tmp_path)
    assert spark_context.loader_reason(_params(path, "spark")["data"]["orders"], tmp_path / "orders.csv")
    spark = spark_context.build_context(_params(path, "spark"), session=spark_session)
    duck = context_mod.build_context(_params(path, "duckdb"))
    assert spark.meta["engine"] == "spark" and spark.meta["views_on_spark"]
    assert set(spark.order_lines["order_id"]) == {"F1", "F2", "F3", "F4", "F5", "F6"}  # F7 (İptal) dropped
    c1 = spark.customer_summary.set_index("customer_id").loc["C1"]
    assert c1["revenue"] == pytest.approx(100 + 50 * 34.0)  # the USD line converted at the given rate
    c2 = spark.orders.set_index("order_id").loc["F4"]
    assert c2["amount"] == pytest.approx(-10 * 37.0)  # İade: a return, in TRY
    assert "C4" not in set(spark.customer_summary["customer_id"])
    pd.testing.assert_frame_equal(spark.orders, duck.orders)
    pd.testing.assert_frame_equal(spark.customer_summary, duck.customer_summary)
    assert [q["kind"] for q in spark.quality] == [q["kind"] for q in duck.quality]


def test_run_with_engine_spark_on_the_sample_csv_and_xlsx_publishes_the_duckdb_segments(sample_params,
                                                                                       spark_session, tmp_path):
    spark_out, duck_out = tmp_path / "spark", tmp_path / "duck"
    assert main(["run", str(sample_params), "--engine", "spark", "--only", "segmentation", "--out",
                 str(spark_out), "--no-progress"]) == 0
    assert main(["run", str(sample_params), "--engine", "duckdb", "--only", "segmentation", "--out",
                 str(duck_out), "--no-progress"]) == 0
    spark = pd.read_csv(spark_out / "exports" / "segments.csv", sep=None, engine="python", dtype=str)
    duck = pd.read_csv(duck_out / "exports" / "segments.csv", sep=None, engine="python", dtype=str)
    pd.testing.assert_frame_equal(spark, duck)
    assert len(duck) > 1000
    assert spark_session.sql("SELECT 1 AS one").collect()[0]["one"] == 1  # the shared session still runs
