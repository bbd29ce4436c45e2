"""The Spark engine: the same SQL files as DuckDB, run as-is by Spark SQL (``engine: spark``).

Imported only when the params name ``engine: spark`` (``pip install -e '.[spark]'`` and Java 17 needed);
``import crmlib`` never imports pyspark. The session comes from the params' ``spark`` section::

    engine: spark
    spark:
      master: local[2]                 # or spark://host:7077, yarn, k8s://https://host:6443
      conf: {spark.executor.memory: 8g}

Relations are temporary views (nothing is written to a warehouse folder): registered sources (a pandas
frame, an Arrow table, a Parquet file or a folder of Parquet files with hive-style partitions) and the
results of :meth:`SparkEngine.materialise`, cached. ``run_params`` is a one-row temporary view and
``days_between(a, b)`` a temporary SQL function (``datediff(b, a)``), so ``crmlib/data/sql/*.sql`` run
unchanged (no translation: translating changes results, see docs/SCALING.md).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from crmlib.data.engine import Source, _ident, sql_text

log = logging.getLogger(__name__)

#: the master when the params give none (the ``spark`` section's defaults: crmlib.core.params.SPARK_DEFAULTS)
DEFAULT_MASTER = "local[2]"

#: Spark's log configuration: errors only (Spark's own default prints its start-up at WARN)
LOG_CONFIG = Path(__file__).with_name("spark_log4j2.properties")

#: configuration every session gets unless ``spark.conf`` says otherwise
BASE_CONF: dict[str, str] = {
    "spark.app.name": "crmlib",
    "spark.sql.session.timeZone": "UTC",             # dates are calendar days, whatever the hosts' zones
    "spark.sql.shuffle.partitions": "8",             # 200 (Spark's default) is for clusters; conf overrides
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.enabled": "false",                     # no web server from a scheduled run
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.ansi.enabled": "true",                # a bad cast is an error, never a silent NULL
    "spark.driver.extraJavaOptions": f"-Duser.timezone=UTC -Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
}


def session_conf(spark_params: Mapping[str, Any] | None) -> dict[str, str]:
    """The configuration of the session: :data:`BASE_CONF` with the params' ``spark.conf`` over it."""
    conf = dict(BASE_CONF)
    for key, value in ((spark_params or {}).get("conf") or {}).items():
        conf[str(key)] = str(value).lower() if isinstance(value, bool) else str(value)
    return conf


def start_session(spark_params: Mapping[str, Any] | None = None) -> Any:
    """Start (or join) the Spark session the ``spark`` params describe, with Spark's logs quietened."""
    os.environ.setdefault("PYSPARK_PYTHON", _python())
    from pyspark.sql import SparkSession

    spark_params = spark_params or {}
    builder = SparkSession.builder.master(str(spark_params.get("master") or DEFAULT_MASTER))
    for key, value in session_conf(spark_params).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    return session


def _python() -> str:
    import sys

    return sys.executable


class SparkEngine:
    """Spark SQL over temporary views. ``session``: an existing SparkSession to use (and leave running);
    otherwise one is started from ``spark_params`` and stopped by :meth:`close`."""

    name = "spark"

    def __init__(self, spark_params: Mapping[str, Any] | None = None, *, session: Any = None) -> None:
        if session is None:
            from pyspark.sql import SparkSession

            session = SparkSession.getActiveSession()  # a session this process runs already: joined, not stopped
            if session is not None:
                log.info("joining the running Spark session (master %s)", session.sparkContext.master)
        self._own = session is None
        self.spark = session if session is not None else start_session(spark_params)
        self._views: set[str] = set()
        self._cached: list[Any] = []
        self.spark.sql("CREATE OR REPLACE TEMPORARY FUNCTION days_between(a DATE, b DATE) RETURNS INT "
                       "RETURN datediff(b, a)")

    # -- relations ------------------------------------------------------------------------------------
    def frame(self, source: Source) -> Any:
        """``source`` as a Spark DataFrame (Parquet folders: hive-style partitions become columns)."""
        if isinstance(source, (str, Path)):
            return self.spark.read.parquet(str(source))
        table = source if isinstance(source, pa.Table) else pa.Table.from_pandas(source, preserve_index=False)
        return self.spark.createDataFrame(_spark_ready(table))

    def register(self, name: str, source: Source) -> None:
        self.register_frame(name, self.frame(source))

    def register_frame(self, name: str, frame: Any) -> None:
        """Make a Spark DataFrame the relation ``name``."""
        frame.createOrReplaceTempView(_ident(name))
        self._views.add(name)

    def set_as_of(self, as_of: pd.Timestamp | str) -> None:
        day = pd.Timestamp(as_of).normalize().strftime("%Y-%m-%d")
        self.register_frame("run_params", self.spark.sql(f"SELECT DATE'{day}' AS as_of"))

    def materialise(self, name: str, sql_name: str) -> None:
        self.materialise_sql(name, sql_text(sql_name))

    def materialise_sql(self, name: str, text: str) -> Any:
        """Run ``text`` and keep the result (cached) as the relation ``name``; return the DataFrame."""
        from pyspark import StorageLevel

        frame = self.spark.sql(text).persist(StorageLevel.MEMORY_AND_DISK)
        self._cached.append(frame)
        self.register_frame(name, frame)
        return frame

    def sql(self, text: str) -> Any:
        """A Spark DataFrame for ``text`` (lazy: nothing runs until it is collected)."""
        return self.spark.sql(text)

    def fetch(self, sql_name: str) -> pd.DataFrame:
        return to_pandas(self.spark.sql(sql_text(sql_name)))

    def fetch_relation(self, name: str) -> pd.DataFrame:
        return to_pandas(self.spark.table(_ident(name)))

    def close(self) -> None:
        """Drop this engine's views and cached results; stop the session when the engine started it."""
        for frame in self._cached:
            frame.unpersist()
        self._cached.clear()
        if self._own:
            self.spark.stop()
            return
        for name in self._views:
            self.spark.catalog.dropTempView(name)
        self._views.clear()

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _spark_ready(table: pa.Table) -> pd.DataFrame:
    """A frame Spark's Arrow path takes: nanosecond timestamps as microseconds (Spark's unit)."""
    frame = table.to_pandas()
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            frame[col] = frame[col].astype("datetime64[us]")
    return frame


def to_pandas(frame: Any) -> pd.DataFrame:
    """Collect a Spark DataFrame through Arrow, into the pandas types DuckDB's results have (the same
    Arrow-to-pandas conversion: DATE columns as dates, the callers' ``*_types`` functions type them)."""
    return frame.toArrow().to_pandas()
