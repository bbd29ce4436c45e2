"""The lifetime-value notebook end to end through the runner against plain lifetimes, on the same data.

Two measurements, each in a fresh process, on the same Parquet order lines (about a million customers):

- **runner**: ``python -m crmlib run PARAMS --only lifetime_value`` (load and validate, per-customer table,
  BG/NBD + Gamma-Gamma fit, the notebook, HTML and exports), wall time of the whole command;
- **plain lifetimes**: ``pandas.read_parquet``, lifetimes' ``summary_data_from_transaction_data`` (days) and
  ``BetaGeoFitter().fit`` (the stock fitter with its default penalizer 0), nothing else.

It prints both times and the ratio runner / plain (the goal: at most 1). The machine is shared, so the two
run one after the other and the ratio, not the seconds, is what to read.

Usage::

    python benchmarks/make_big_data.py --lines 2800000 --customers 2600000 --lines-per-order 1 --no-csv \
        --out benchmarks/data-clv
    python benchmarks/bench_clv_run.py [--data benchmarks/data-clv]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

PLAIN = """
import sys, time, json
import pandas as pd
from lifetimes import BetaGeoFitter
from lifetimes.utils import summary_data_from_transaction_data
started = time.perf_counter()
lines = pd.read_parquet(sys.argv[1], columns=["customer_id", "order_date", "amount"])
as_of = lines["order_date"].max()
summary = summary_data_from_transaction_data(lines, "customer_id", "order_date", observation_period_end=as_of,
                                             freq="D")
fitted = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
print(json.dumps({"seconds": time.perf_counter() - started, "customers": len(summary),
                  "params": {k: float(v) for k, v in fitted.params_.items()}}))
"""


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # every finished descendant, kernels included
    return usage.ru_utime + usage.ru_stime


def plain(orders: Path) -> dict:
    """Plain lifetimes on the order lines, in a fresh process."""
    started, cpu = time.perf_counter(), _cpu()
    done = subprocess.run([sys.executable, "-c", PLAIN, str(orders)], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"], result["cpu"] = time.perf_counter() - started, _cpu() - cpu
    return result


def runner(params: Path, out: Path) -> dict:
    """The runner with the lifetime-value notebook only."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    started, cpu = time.perf_counter(), _cpu()
    subprocess.run([sys.executable, "-m", "crmlib", "run", str(params), "--only", "lifetime_value", "--out",
                    str(out), "--no-progress"], cwd=ROOT, env=env, check=True)
    wall = time.perf_counter() - started
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    return {"wall": wall, "cpu": _cpu() - cpu, "timings": record["timings_seconds"], "customers": record["data"]["customers"],
            "notebook": record["notebooks"][0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE / "data-clv", help="folder with params.yaml")
    parser.add_argument("--repeat", type=int, default=1,
                        help="pairs to run, runner then plain lifetimes each time; prints each pair and the median "
                             "ratio (this machine's speed drifts by 10-20 %% from one minute to the next)")
    args = parser.parse_args()
    params = args.data / "params.yaml"
    # crmlib's modules compiled once, as any installation has them after its first run: with
    # PYTHONDONTWRITEBYTECODE set (this machine's environment) every process of every run would compile them again
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "crmlib")], check=True)
    if not params.exists():
        print(f"no {params}: see the usage at the top of this script", file=sys.stderr)
        return 2
    ratios = []
    for _ in range(max(1, args.repeat)):
        with tempfile.TemporaryDirectory(prefix="bench-clv-") as tmp:
            ours = runner(params, Path(tmp) / "run")
        base = plain(args.data / "orders.parquet")
        print(f"customers: runner {ours['customers']:,}, plain lifetimes {base['customers']:,}")
        print(f"runner --only lifetime_value: {ours['wall']:.1f} s wall ("
              + ", ".join(f"{k} {v:.1f} s" for k, v in ours["timings"].items()) + ")")
        for cell in sorted(ours["notebook"].get("cells", []), key=lambda c: -c["seconds"])[:3]:
            print(f"    {cell['seconds']:6.1f} s  cell {cell['cell']}: {cell['name'][:70]}")
        print(f"plain lifetimes summary + BetaGeoFitter.fit: {base['wall']:.1f} s wall "
              f"({base['seconds']:.1f} s inside the process)")
        ratios.append(ours["wall"] / base["wall"])
        print(f"CPU seconds (user + system, all processes): runner {ours['cpu']:.1f}, plain lifetimes "
              f"{base['cpu']:.1f} (ratio {ours['cpu'] / base['cpu']:.2f})")
        print(f"ratio runner / plain lifetimes, wall: {ratios[-1]:.2f} (goal <= 1); load average "
              f"{os.getloadavg()[0]:.1f}", flush=True)
    if len(ratios) > 1:
        print(f"median ratio of {len(ratios)} pairs: {statistics.median(ratios):.2f} "
              f"(from {min(ratios):.2f} to {max(ratios):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
