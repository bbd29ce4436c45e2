"""The whole weekly run on the benchmark data: wall time, peak memory, where the time goes, and the figures.

Runs ``python -m crmlib run PARAMS --out OUT`` in a child process and samples the resident memory of the
whole process tree (the runner, its two pool workers and their notebook kernels) every 0.2 s with psutil, so
the peak is what the machine had to hold at once. Then it prints the runner's timings from ``run.json``,
each notebook's time and its slowest cells (the per-cell times the runner records), and, with
``--reference`` (the folder of a run made by other code on the same data, e.g. before an optimisation),
whether the figures agree: every customer's segment and A/B/C tier, the CLV model's parameters, the
association rules' support, confidence and lift, the churn risk scores and the cross-sell suggestions.

Usage::

    python benchmarks/make_big_data.py                      # once: benchmarks/data/ with params.yaml
    python benchmarks/bench_run.py [--data benchmarks/data] [--reference reports/before]

Goal (issue: scale): 10M order lines in at most 5 minutes and 8 GB on this 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: relative tolerance of the figure checks: identical code paths give identical numbers, reordered
#: floating-point sums may differ in the last bits
RTOL = 1e-9


def tree_rss(proc: psutil.Process) -> int:
    """Resident bytes of ``proc`` and all its descendants (0 for those that ended meanwhile)."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def run_workbook(params: Path, out: Path, *, extra: list[str] | None = None) -> dict[str, float]:
    """Run the workbook once; return wall seconds, peak tree memory (GB) and the exit code."""
    cmd = [sys.executable, "-m", "crmlib", "run", str(params), "--out", str(out), "--no-progress", *(extra or [])]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = subprocess.Popen(cmd, cwd=ROOT, env=env)
    proc = psutil.Process(child.pid)
    peak = 0
    while child.poll() is None:
        try:
            peak = max(peak, tree_rss(proc))
        except psutil.NoSuchProcess:
            break
        time.sleep(0.2)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the whole tree: each process waited for its own
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"seconds": time.perf_counter() - started, "peak_gb": peak / 1e9, "exit": child.returncode,
            "cpu_seconds": cpu, "load": os.getloadavg()[0]}


def report(out: Path, measured: dict[str, float], *, top: int = 3) -> None:
    """Print the run's timings and its slowest cells."""
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    data = record["data"]
    print(f"data: {data['rows'].get('orders', 0):,} order lines, {data['orders']:,} orders, "
          f"{data['customers']:,} customers")
    print(f"wall {measured['seconds']:.1f} s, peak memory {measured['peak_gb']:.2f} GB (whole process tree), "
          f"exit {measured['exit']}")
    print(f"CPU {measured['cpu_seconds']:.1f} s (user + system, whole tree; {measured['cpu_seconds'] / 2:.1f} s "
          f"if both cores were ours), load average at the end {measured['load']:.1f}")
    print("runner: " + ", ".join(f"{k} {v:.1f} s" for k, v in record["timings_seconds"].items()))
    for nb in record["notebooks"]:
        cells = sorted(nb.get("cells", []), key=lambda c: -c["seconds"])[:top]
        peak = f", kernel peak {nb['kernel_peak_mb'] / 1024:.2f} GB" if nb.get("kernel_peak_mb") else ""
        print(f"  {nb['name']:<24} {nb['seconds']:7.1f} s {nb['status']}{peak}")
        for cell in cells:
            print(f"      {cell['seconds']:7.1f} s  cell {cell['cell']}: {cell['name'][:70]}")
    for failure in record.get("export_failures", []):
        print(f"  export failed: {failure['file']}: {failure['error']}")


def _csv(folder: Path, name: str) -> pd.DataFrame:
    """An export, in either CSV dialect (``;`` with decimal comma for Excel in Turkish, or standard)."""
    path = folder / "exports" / name
    with path.open(encoding="utf-8-sig") as handle:
        turkish = ";" in handle.readline()
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"customer_id": str}, low_memory=False,
                       **({"sep": ";", "decimal": ","} if turkish else {}))


def _close(a: pd.Series, b: pd.Series) -> bool:
    return bool(np.allclose(a.to_numpy(float), b.to_numpy(float), rtol=RTOL, atol=1e-12, equal_nan=True))


def compare(reference: Path, out: Path) -> list[tuple[str, bool, str]]:
    """Check the figures of ``out`` against the run in ``reference``; return (what, same, detail) rows."""
    rows: list[tuple[str, bool, str]] = []
    seg_a, seg_b = _csv(reference, "segments.csv"), _csv(out, "segments.csv")
    merged = seg_a.merge(seg_b, on="customer_id", suffixes=("_a", "_b"))
    same = len(merged) == len(seg_a) == len(seg_b)
    for col in ("rfm_segment", "abc_tier", "r_score", "f_score", "m_score"):
        same &= bool((merged[f"{col}_a"].astype(str) == merged[f"{col}_b"].astype(str)).all())
    rows.append(("segments: every customer's segment, tier and scores", same, f"{len(seg_b):,} customers"))

    model_a = json.loads((reference / "exports" / "clv_model.json").read_text(encoding="utf-8"))
    model_b = json.loads((out / "exports" / "clv_model.json").read_text(encoding="utf-8"))
    worst = 0.0
    for part, keys in (("bgnbd", ("r", "alpha", "a", "b")), ("gamma_gamma", ("p", "q", "v"))):
        if model_a.get(part) is None or model_b.get(part) is None:  # not fitted: both must agree on that
            worst = max(worst, 0.0 if model_a.get(part) is model_b.get(part) is None else np.inf)
            continue
        for key in keys:
            a, b = float(model_a[part][key]), float(model_b[part][key])
            worst = max(worst, abs(a - b) / max(abs(a), 1e-300))
    rows.append(("CLV parameters (BG/NBD, Gamma-Gamma)", worst <= 1e-6, f"max rel. diff {worst:.1e}"))

    rules_a, rules_b = _csv(reference, "association_rules.csv"), _csv(out, "association_rules.csv")
    key = ["antecedents", "consequents"]
    joined = rules_a.merge(rules_b, on=key, suffixes=("_a", "_b"))
    same = len(joined) == len(rules_a) == len(rules_b)
    same &= all(_close(joined[f"{c}_a"], joined[f"{c}_b"]) for c in ("support", "confidence", "lift"))
    rows.append(("association rules: support, confidence, lift", same, f"{len(rules_b):,} rules"))

    risk_a, risk_b = _csv(reference, "churn_risk.csv"), _csv(out, "churn_risk.csv")
    joined = risk_a.merge(risk_b, on="customer_id", suffixes=("_a", "_b"))
    same = len(joined) == len(risk_a) == len(risk_b) and _close(joined["risk_score_a"], joined["risk_score_b"])
    same &= bool((joined["risk_level_a"] == joined["risk_level_b"]).all())
    same &= bool((joined["reasons_a"].fillna("") == joined["reasons_b"].fillna("")).all())
    rows.append(("churn: risk score, level and reasons", same, f"{len(risk_b):,} customers"))

    xs_a, xs_b = _csv(reference, "cross_sell.csv"), _csv(out, "cross_sell.csv")
    cols = ["customer_id", "rank", "product_id"]
    same = len(xs_a) == len(xs_b) and bool((xs_a[cols].astype(str).to_numpy() == xs_b[cols].astype(str)
                                            .to_numpy()).all())
    same &= _close(xs_a["score"], xs_b["score"]) if same else False
    rows.append(("cross-sell suggestions: customer, rank, product, score", same, f"{len(xs_b):,} rows"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE / "data", help="folder with params.yaml")
    parser.add_argument("--out", type=Path, default=None, help="run folder (default: a temporary folder)")
    parser.add_argument("--reference", type=Path, default=None, help="a run folder to check the figures against")
    parser.add_argument("--keep", action="store_true", help="keep the run folder")
    args = parser.parse_args()
    # crmlib's modules compiled once, as any installation has them after its first run: with
    # PYTHONDONTWRITEBYTECODE set (this machine's environment) every process of every run would compile them again
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "crmlib")], check=True)
    params = args.data / "params.yaml"
    if not params.exists():
        print(f"no {params}: run benchmarks/make_big_data.py first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        out = args.out or Path(tmp) / "run"
        measured = run_workbook(params, out)
        report(out, measured)
        ok = measured["exit"] == 0
        if args.reference is not None:
            print(f"figures against {args.reference}:")
            for what, same, detail in compare(args.reference, out):
                print(f"  {'same' if same else 'DIFFERENT':<9} {what} ({detail})")
                ok &= same
        goal = measured["seconds"] <= 300 and measured["peak_gb"] <= 8
        print(f"goal (<= 300 s, <= 8 GB): {'met' if goal else 'NOT met'}")
        if args.keep and args.out is None:
            kept = Path(tempfile.mkdtemp(prefix="bench-run-kept-"))
            os.replace(out, kept / "run")
            print(f"run kept in {kept / 'run'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
