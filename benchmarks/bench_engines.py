"""Time the heavy SQL part (orders, then the per-customer table, from the order lines) on DuckDB and on Spark.

Both engines run the same files of ``crmlib/data/sql/`` on the same Parquet order lines, each in a fresh
Python process (its own peak memory): register the Parquet, materialise ``orders``, collect
``customer_summary``. Spark's session start is timed apart (a cluster keeps its session; a local run pays
it each time). The figures check: both engines give the same number of customers and the same revenue.

Usage::

    python benchmarks/make_big_data.py --no-csv --out DIR     # once: 10M order lines as DIR/orders.parquet
    python benchmarks/bench_engines.py --data DIR [--spark-master local[2]] [--driver-memory 6g]

Prints one line per engine and the ratio Spark / DuckDB (SQL part alone, and with the session start), with the
machine's load average before and after (the numbers are only comparable on a quiet machine).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(engine: str, orders: Path, *, master: str, driver_memory: str) -> dict[str, object]:
    """Run the SQL part on ``engine`` in this process; return seconds, rows and figures."""
    import pyarrow.parquet as pq

    from crmlib.data.engine import DuckDBEngine

    as_of = _last_date(orders)
    started = time.perf_counter()
    session_seconds = 0.0
    if engine == "duckdb":
        eng = DuckDBEngine()
    else:
        from crmlib.data.spark_engine import SparkEngine

        eng = SparkEngine({"master": master, "conf": {"spark.driver.memory": driver_memory}})
        session_seconds = time.perf_counter() - started
    sql_started = time.perf_counter()
    with eng:
        eng.register("order_lines", orders)
        eng.set_as_of(as_of)
        eng.materialise("orders", "orders")
        summary = eng.fetch("customer_summary")
        sql_seconds = time.perf_counter() - sql_started
    lines = pq.ParquetFile(orders).metadata.num_rows if orders.is_file() else None
    return {"engine": engine, "session_seconds": round(session_seconds, 2), "sql_seconds": round(sql_seconds, 2),
            "total_seconds": round(time.perf_counter() - started, 2), "lines": lines,
            "customers": int(len(summary)), "revenue": float(summary["revenue"].sum()),
            "peak_mb_python": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}


def _last_date(orders: Path) -> str:
    import duckdb

    pattern = str(orders / "**" / "*.parquet") if orders.is_dir() else str(orders)
    return str(duckdb.sql(f"SELECT CAST(MAX(order_date) AS DATE) FROM read_parquet('{pattern}')").fetchall()[0][0])


def _run(engine: str, args: argparse.Namespace) -> dict[str, object]:
    command = [sys.executable, __file__, "--data", str(args.data), "--one", engine, "--spark-master",
               args.spark_master, "--driver-memory", args.driver_memory]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "benchmarks" / "data",
                        help="folder with orders.parquet (or the Parquet file or folder itself)")
    parser.add_argument("--spark-master", dest="spark_master", default="local[2]")
    parser.add_argument("--driver-memory", dest="driver_memory", default="6g",
                        help="spark.driver.memory (local mode: the executors run in the driver)")
    parser.add_argument("--one", choices=("duckdb", "spark"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    orders = args.data / "orders.parquet" if (args.data / "orders.parquet").exists() else args.data
    if args.one:
        print(json.dumps(measure(args.one, orders, master=args.spark_master, driver_memory=args.driver_memory)))
        return
    load_before = os.getloadavg()
    results = {engine: _run(engine, args) for engine in ("duckdb", "spark")}
    load_after = os.getloadavg()
    duck, spark = results["duckdb"], results["spark"]
    print(f"order lines: {orders} ({duck['lines'] or '?'} lines, {duck['customers']:,} customers); "
          f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} ({os.cpu_count()} cores)")
    for row in (duck, spark):
        print(f"  {row['engine']:<7} session {row['session_seconds']:>6.1f} s  orders + customer_summary "
              f"{row['sql_seconds']:>6.1f} s  total {row['total_seconds']:>6.1f} s  "
              f"python peak {row['peak_mb_python']:,} MB")
    same = duck["customers"] == spark["customers"] and \
        abs(float(duck["revenue"]) - float(spark["revenue"])) <= 1e-6 * abs(float(duck["revenue"]))
    print(f"  figures: {'same' if same else 'DIFFERENT'} customers and revenue on both engines")
    print(f"  ratio spark/duckdb: SQL part {spark['sql_seconds'] / duck['sql_seconds']:.1f}x, "
          f"with the session start {spark['total_seconds'] / duck['total_seconds']:.1f}x")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
