"""``python -m crmlib run ... --engine spark`` end to end: the published segments equal the DuckDB run's."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlib.__main__ import main

pytestmark = pytest.mark.spark


def test_run_with_engine_spark_publishes_the_duckdb_segments(spark_params, sample_params, spark_session, tmp_path):
    spark_out, duck_out = tmp_path / "spark", tmp_path / "duck"
    assert main(["run", str(spark_params), "--engine", "spark", "--only", "segmentation", "--out", str(spark_out),
                 "--no-progress"]) == 0
    assert main(["run", str(sample_params), "--engine", "duckdb", "--only", "segmentation", "--out", str(duck_out),
                 "--no-progress"]) == 0
    spark = pd.read_csv(spark_out / "exports" / "segments.csv", sep=None, engine="python", dtype=str)
    duck = pd.read_csv(duck_out / "exports" / "segments.csv", sep=None, engine="python", dtype=str)
    pd.testing.assert_frame_equal(spark, duck)
    assert len(duck) > 1000
    assert spark_session.sql("SELECT 1 AS one").collect()[0]["one"] == 1  # the shared session still runs


def test_validate_checks_on_spark_and_finds_what_duckdb_finds(spark_params, sample_params, spark_session, capsys):
    import json

    assert main(["validate", str(spark_params), "--json"]) == 0
    spark = json.loads(capsys.readouterr().out)
    assert main(["validate", str(sample_params), "--json"]) == 0
    duck = json.loads(capsys.readouterr().out)
    for key in ("lines", "orders", "purchase_orders", "customers", "revenue", "first_date", "last_date", "as_of"):
        assert spark[key] == duck[key], key
    assert spark["detected"]["orders"] == {"format": "parquet"}
