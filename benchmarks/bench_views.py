"""Cross-sell from the order lines against cross-sell from the SQL views, on one saved context.

Each measurement runs in a fresh Python process (its own peak memory) that reopens the saved context and
calls :func:`crmlib.cross_sell.report.compute` once: ``lines`` (the baseline: every figure from
``ctx.order_lines`` in pandas), ``views`` (the views computed by DuckDB over the context's Parquet files,
then cached in its ``views/`` folder), ``views-warm`` (the views read back from that cache, as the second
notebook of a run would). The figures check: the suggestions and the rules are the same in all three.

Usage::

    python -m crmlib sample --out DIR --customers 20000                    # or any data and params file
    python benchmarks/bench_views.py --params PARAMS.yaml [--work /tmp/bench-views]

Prints one line per mode (wall and CPU seconds, peak RSS and its growth over the reopened context) and the ratios
to the baseline, with the machine's load average (wall seconds are comparable only on a quiet machine; CPU
seconds of the process much less depend on the other processes).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODES = ("lines", "views", "views-warm")


def measure(mode: str, folder: Path, out: Path) -> dict[str, object]:
    """Run cross-sell once in this process in ``mode``; write the suggestions and rules under ``out``."""
    from crmlib.core.context import load_saved
    from crmlib.cross_sell import report as xr

    if mode == "views":
        shutil.rmtree(folder / "views", ignore_errors=True)
    ctx = load_saved(folder)
    kw = {"as_of": ctx.as_of, "params": ctx.params["cross_sell"], "products": ctx.tables.get("products"),
          "customer_ids": ctx.customer_summary["customer_id"]}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    base, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    if mode == "lines":
        res = xr.compute(ctx.order_lines, **kw)
    else:
        res = xr.compute(None, view=ctx.view, **kw)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu
    res["recommendations"].drop(columns="reason").to_parquet(out / f"recs_{mode}.parquet")
    res["rules"].to_parquet(out / f"rules_{mode}.parquet")
    return {"mode": mode, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "peak_mb": round(peak / 1024),
            "growth_mb": round((peak - base) / 1024), "lines": int(len(ctx.order_lines)),
            "rules": int(len(res["rules"])), "suggestions": int(len(res["recommendations"]))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, help="params file of the data (builds and saves its context)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-views"))
    parser.add_argument("--measure", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    folder = args.work / "context"
    if args.measure:
        print(json.dumps(measure(args.measure, folder, args.work)))
        return 0
    if args.params is None:
        parser.error("--params is required")
    from crmlib.core import params as params_mod
    from crmlib.core.context import build_context

    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    build_context(params_mod.load(args.params), params_dir=args.params.parent).save(folder)
    load_before = os.getloadavg()[0]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rows = []
    for mode in MODES:
        done = subprocess.run([sys.executable, __file__, "--work", str(args.work), "--measure", mode],
                              env=env, check=True, capture_output=True, text=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    import pandas as pd

    for kind in ("recs", "rules"):
        first = pd.read_parquet(args.work / f"{kind}_lines.parquet")
        for mode in MODES[1:]:
            pd.testing.assert_frame_equal(first, pd.read_parquet(args.work / f"{kind}_{mode}.parquet"),
                                          check_exact=False, rtol=1e-12)
    base = rows[0]
    for row in rows:
        print(f"{row['mode']:>10}: {row['seconds']:7.1f} s ({row['seconds'] / base['seconds']:.2f} x lines), "
              f"CPU {row['cpu_seconds']:.1f} s ({row['cpu_seconds'] / base['cpu_seconds']:.2f} x lines), "
              f"peak RSS {row['peak_mb']} MB (+{row['growth_mb']} MB over the reopened context); "
              f"{row['lines']} lines, {row['rules']} rules, {row['suggestions']} suggestions")
    print(f"figures check: suggestions and rules identical in every mode; load average {load_before:.1f} -> "
          f"{os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
