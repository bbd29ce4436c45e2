"""Time the loader (read + detect + validate) and the per-customer table on a large order-lines file.

Each measurement runs in a fresh Python process, so that its peak memory (``ru_maxrss``, which sees
pyarrow's allocations, unlike tracemalloc) is its own. The baseline is plain ``pandas.read_csv`` (default C
engine) of the same CSV with the right options given by hand, and ``pandas.read_parquet`` of the Parquet
file: reading alone, with no detection, typing of dates or checks.

Usage::

    python benchmarks/make_big_data.py            # once: writes benchmarks/data/
    python benchmarks/bench_load.py [--data benchmarks/data]
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_big_data import MAPPING  # noqa: E402

#: (name, file, what it does) in the order they are printed.
MEASUREMENTS: tuple[tuple[str, str, str], ...] = (
    ("baseline_read_csv", "orders_erp.csv", "pandas.read_csv (default engine), options given"),
    ("load_csv", "orders_erp.csv", "crmlib load_tables: detect + read + validate"),
    ("load_csv_tables", "orders_erp.csv", "load_tables + build_orders + build_customer_summary"),
    ("load_csv_unmapped", "orders_erp.csv",
     "load_tables, 5 of 7 columns mapped: whole lines coded for duplicates"),
    ("baseline_read_parquet", "orders.parquet", "pandas.read_parquet"),
    ("baseline_duckdb_aggregate", "orders.parquet",
     "DuckDB's bare per-customer aggregate of the Parquet file (orders, revenue, first and last date)"),
    ("load_parquet", "orders.parquet", "crmlib load_tables: read + validate"),
    ("load_parquet_tables", "orders.parquet", "load_tables + build_orders + build_customer_summary"),
)


def measure(name: str, path: Path) -> dict[str, object]:
    """Run one measurement in this process; return its wall time, peak memory and row counts."""
    import pandas as pd

    start, cpu = time.perf_counter(), time.process_time()  # process time: every thread of this process
    info: dict[str, object] = {}
    if name == "baseline_read_csv":
        frame = pd.read_csv(path, sep=";", encoding="cp1254", decimal=",", thousands=".")
        info["rows"] = len(frame)
    elif name == "baseline_read_parquet":
        info["rows"] = len(pd.read_parquet(path))
    elif name == "baseline_duckdb_aggregate":
        import duckdb

        per_customer = duckdb.sql(
            "SELECT customer_id, count(DISTINCT order_id) AS orders, sum(amount) AS revenue, "
            f"min(order_date) AS first_date, max(order_date) AS last_date FROM read_parquet('{path}') "
            "GROUP BY customer_id").df()
        info["rows"], info["customers"] = int(duckdb.sql(f"SELECT count(*) FROM read_parquet('{path}')")
                                              .fetchall()[0][0]), len(per_customer)
    else:
        from crmlib.data.validate import load_tables

        columns = MAPPING if path.suffix == ".csv" else {k: k for k in MAPPING}
        if name == "load_csv_unmapped":
            columns = {k: v for k, v in columns.items() if k not in ("product_id", "cost")}
        tables = load_tables({"orders": {"path": str(path), "columns": columns}}, base_dir=path.parent)
        lines = tables["orders"].frame
        info["rows"] = len(lines)
        info["notes"] = [note.message for note in tables["orders"].notes]
        info["detected"] = {k: v for k, v in tables["orders"].detected.items() if k != "given"}
        info["load_seconds"] = round(time.perf_counter() - start, 2)
        if name.endswith("_tables"):
            try:
                from crmlib.data.tables import build_customer_summary, build_orders
            except ImportError as err:
                info["skipped"] = f"crmlib.data.tables not importable ({err})"
            else:
                orders = build_orders(lines)
                summary = build_customer_summary(orders, lines["order_date"].max())
                info["orders"], info["customers"] = len(orders), len(summary)
    info["seconds"] = round(time.perf_counter() - start, 2)
    info["cpu_seconds"] = round(time.process_time() - cpu, 2)
    info["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0)  # Linux: KiB
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--only", nargs="*", help="measurement names (default: all)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: run one in this process
    args = parser.parse_args()
    if args.measure:
        file = dict((n, f) for n, f, _ in MEASUREMENTS)[args.measure]
        print(json.dumps(measure(args.measure, args.data / file)))
        return
    results = {}
    for name, file, what in MEASUREMENTS:
        if args.only and name not in args.only:
            continue
        done = subprocess.run([sys.executable, __file__, "--data", str(args.data), "--measure", name],
                              capture_output=True, text=True, check=False)
        if done.returncode:
            print(f"{name}: failed\n{done.stderr[-2000:]}")
            continue
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
        r = results[name]
        base = results.get("baseline_read_csv" if file.endswith(".csv") else "baseline_read_parquet")
        ratio = ""
        if base and base is not r:
            ratio = (f"  x{r['seconds'] / base['seconds']:.2f} time, "
                     f"x{r['peak_mb'] / base['peak_mb']:.2f} memory vs baseline")
        if name in ("load_parquet", "load_parquet_tables") and "baseline_duckdb_aggregate" in results:
            # the scale goal names the loader (read + validate): within 3x of DuckDB's bare aggregate; the
            # loader with the orders and the per-customer table is kept as the project's own measure
            duck = results["baseline_duckdb_aggregate"]
            ratio += (f"; x{r['seconds'] / duck['seconds']:.2f} time, x{r['cpu_seconds'] / duck['cpu_seconds']:.2f} "
                      "CPU vs DuckDB's bare aggregate"
                      + (" (goal: <= 3)" if name == "load_parquet" else " (own measure, no goal)"))
        print(f"{name:24s} {r['seconds']:7.1f} s ({r['cpu_seconds']:.1f} s CPU) {r['peak_mb']:8,.0f} MB  "
              f"rows={r['rows']:,}{ratio}  load average {os.getloadavg()[0]:.1f}")
        print(f"{'':24s} {what}")
        for key in ("load_seconds", "orders", "customers", "skipped", "detected", "notes"):
            if key in r:
                print(f"{'':24s} {key}: {r[key]}")


if __name__ == "__main__":
    main()
