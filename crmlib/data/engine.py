"""Where the SQL definitions run: DuckDB in process (the default) or Spark (``engine: spark``).

Every table a notebook needs from the order lines is defined once, as a file in ``crmlib/data/sql/`` written
in the SQL that DuckDB and Spark SQL both run unchanged (no translator: translating changes results). An
engine holds named relations (registered frames or Parquet files, and tables materialised from the SQL
files), the one-row ``run_params(as_of DATE)`` relation, and the function ``days_between(a, b)`` (whole days
from ``a`` to ``b``). What comes back to Python is a pandas frame of the result only.

Usage::

    with open_engine(params) as eng:
        eng.register("order_lines", "orders.parquet")   # a frame, an Arrow table, a Parquet file or folder
        eng.set_as_of("2026-06-30")
        eng.materialise("orders", "orders")             # CREATE TABLE orders AS <sql/orders.sql>
        summary = eng.fetch("customer_summary")         # run sql/customer_summary.sql, collect the result
"""

from __future__ import annotations

import importlib
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads

#: the engines ``params["engine"]`` may name
ENGINES: tuple[str, ...] = ("duckdb", "spark")

Source = pd.DataFrame | pa.Table | pads.Dataset | str | Path


def sql_text(name: str) -> str:
    """Return the text of ``crmlib/data/sql/<name>.sql``."""
    return (resources.files("crmlib.data") / "sql" / f"{name}.sql").read_text(encoding="utf-8")


class Engine(Protocol):
    """What every engine offers (see the module docstring)."""

    name: str

    def register(self, name: str, source: Source) -> None:
        """Make ``source`` (frame, Arrow table or dataset, Parquet file or folder of Parquet files) the relation ``name``."""

    def set_as_of(self, as_of: pd.Timestamp | str) -> None:
        """(Re)define ``run_params`` as one row holding ``as_of`` (a DATE)."""

    def materialise(self, name: str, sql_name: str) -> None:
        """Run ``sql/<sql_name>.sql`` and keep the result as the relation ``name`` for later SQL."""

    def fetch(self, sql_name: str) -> pd.DataFrame:
        """Run ``sql/<sql_name>.sql`` and return its result as a pandas frame."""

    def fetch_relation(self, name: str) -> pd.DataFrame:
        """Return a relation (registered or materialised) as a pandas frame."""

    def close(self) -> None:
        """Release the engine's resources."""


class DuckDBEngine:
    """The embedded default: an in-memory DuckDB database, two threads, nothing to start."""

    name = "duckdb"

    def __init__(self, *, threads: int = 2) -> None:
        self.con = duckdb.connect(":memory:")
        self.con.execute(f"SET threads TO {int(threads)}")
        self.con.execute("CREATE MACRO days_between(a, b) AS date_diff('day', CAST(a AS DATE), CAST(b AS DATE))")

    def register(self, name: str, source: Source) -> None:
        if isinstance(source, (str, Path)):
            path = Path(source)
            pattern = str(path / "**" / "*.parquet") if path.is_dir() else str(path)
            literal = "'" + pattern.replace("'", "''") + "'"
            self.con.execute(f"CREATE OR REPLACE VIEW {_ident(name)} AS SELECT * FROM read_parquet({literal}, "
                             f"hive_partitioning = {'true' if path.is_dir() else 'false'})")
            return
        table = (source if isinstance(source, (pa.Table, pads.Dataset))  # a dataset is scanned, not loaded
                 else pa.Table.from_pandas(source, preserve_index=False))
        self.con.register(name, table)

    def set_as_of(self, as_of: pd.Timestamp | str) -> None:
        self.con.execute("CREATE OR REPLACE TABLE run_params AS SELECT CAST(? AS DATE) AS as_of",
                         [pd.Timestamp(as_of).normalize().date()])

    def materialise(self, name: str, sql_name: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TABLE {_ident(name)} AS {sql_text(sql_name)}")

    def fetch(self, sql_name: str) -> pd.DataFrame:
        return self.con.sql(sql_text(sql_name)).to_arrow_table().to_pandas()

    def fetch_relation(self, name: str) -> pd.DataFrame:
        return self.con.sql(f"SELECT * FROM {_ident(name)}").to_arrow_table().to_pandas()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a relation name: {name!r}")
    return name


def open_engine(params: dict[str, Any] | None = None) -> Any:
    """The engine ``params["engine"]`` names (``duckdb`` when absent), ready to use as a context manager."""
    name = (params or {}).get("engine") or "duckdb"
    if name == "duckdb":
        return DuckDBEngine()
    if name == "spark":  # by name: pyspark is an optional extra, imported only for this engine
        spark_engine = importlib.import_module("crmlib.data.spark_engine")
        return spark_engine.SparkEngine((params or {}).get("spark"))
    raise ValueError(f"unknown engine {name!r}; use one of {', '.join(ENGINES)}")
