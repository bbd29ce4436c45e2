"""Fixtures of the engine-parity tests: one SparkSession per test session, the sample's orders as Parquet, and
the context built on each engine from the same data.

Run with ``make test-spark`` (``pytest -m spark tests/spark``); needs pyspark (``pip install -e '.[spark]'``)
and Java 17.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import write_sample_params

#: the sample's orders.csv columns that hold numbers (Turkish layout: '.' thousands, ',' decimals)
NUMBERS = ("Miktar", "Tutar", "Maliyet")


def orders_to_parquet(csv: Path, target: Path, *, partitioned: bool = False) -> Path:
    """The sample's orders.csv as a user would export it to Parquet: the same headers, typed columns; with
    ``partitioned`` a folder of files by year (hive-style ``year=2025/``)."""
    raw = pd.read_csv(csv, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    for col in NUMBERS:
        raw[col] = pd.to_numeric(raw[col].str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    raw["Sipariş Tarihi"] = pd.to_datetime(raw["Sipariş Tarihi"], format="%d.%m.%Y")
    if partitioned:
        raw.assign(year=raw["Sipariş Tarihi"].dt.year).to_parquet(target, partition_cols=["year"], index=False)
    else:
        raw.to_parquet(target, index=False)
    return target


def parquet_params(sample_dir: Path, orders: Path, target: Path, **extra) -> Path:
    """The sample's params with data.orders read from ``orders`` (Parquet: no read options)."""
    write_sample_params(sample_dir, target)
    raw = yaml.safe_load(target.read_text(encoding="utf-8"))
    raw["data"]["orders"] = {"path": str(orders), "columns": raw["data"]["orders"]["columns"]}
    raw.update(extra)
    target.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


@pytest.fixture(scope="session")
def spark_session():
    """One local Spark session for every test of the session, stopped at the end (no JVM left behind)."""
    from crmlib.data.spark_engine import start_session

    session = start_session({"master": "local[2]"})
    yield session
    session.stop()


@pytest.fixture(scope="session")
def parquet_orders(sample_dir, tmp_path_factory) -> Path:
    """The session sample's orders as one Parquet file."""
    return orders_to_parquet(sample_dir / "orders.csv", tmp_path_factory.mktemp("parquet") / "orders.parquet")


@pytest.fixture(scope="session")
def spark_params(sample_dir, parquet_orders, tmp_path_factory) -> Path:
    """The sample's params on the Parquet orders, engine: spark."""
    return parquet_params(sample_dir, parquet_orders, tmp_path_factory.mktemp("params") / "spark.yaml",
                          engine="spark")


@pytest.fixture(scope="session")
def spark_ctx(spark_params, spark_session):
    """The context built on Spark from the Parquet orders (the other tables as on DuckDB)."""
    from crmlib.core import params
    from crmlib.core.spark_context import build_context

    return build_context(params.load(spark_params), params_dir=spark_params.parent, session=spark_session)
