"""Time the loader on a 1,000,000-line Excel workbook (python-calamine), against plain pandas readers.

The workbook is what a Turkish ERP's "export to Excel" writes: a title row and a blank row above the header,
Turkish headers, customer codes as text, dates as date cells, amounts as number cells, a status column, and
a TOPLAM row at the bottom. It is written once with openpyxl (write-only mode, a few minutes) to
``benchmarks/data/orders_1m.xlsx`` and reused.

Each measurement runs in a fresh Python process, so that its peak memory (``ru_maxrss``) is its own:

- ``baseline_calamine``: ``pandas.read_excel(engine="calamine")`` of the sheet, nothing detected or checked;
- ``load_xlsx``: ``crmlib.data.validate.load_tables``: header row found, cells typed, checked, noted;
- ``baseline_openpyxl`` (only with ``--openpyxl``, about two minutes): ``pandas.read_excel(engine="openpyxl")``,
  the reader the loader used before.

Usage::

    python benchmarks/bench_xlsx.py [--rows 1000000] [--data benchmarks/data] [--openpyxl]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
HEADER = ["Cari Kodu", "Fiş No", "Tarih", "Stok Kodu", "Miktar", "Tutar", "Durum"]
MAPPING = {"customer_id": "Cari Kodu", "order_id": "Fiş No", "order_date": "Tarih", "product_id": "Stok Kodu",
           "quantity": "Miktar", "amount": "Tutar"}


def write_workbook(path: Path, rows: int, seed: int = 7) -> float:
    """Write the benchmark workbook; return the total of the amounts (what the loader must find)."""
    import openpyxl

    rng = np.random.default_rng(seed)
    customers = rng.integers(1, 50_000, rows)
    days = np.sort(rng.integers(0, 3 * 365, rows))
    products = rng.integers(1, 2_000, rows)
    quantity = rng.integers(1, 20, rows)
    amounts = np.round(rng.gamma(2.0, 400.0, rows), 2)
    cancelled = rng.random(rows) < 0.01
    start = dt.datetime(2023, 1, 2)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Satışlar")
    sheet.append(["SATIŞ HAREKETLERİ RAPORU"])
    sheet.append([])
    sheet.append(HEADER)
    order = 0
    for i in range(rows):
        if i == 0 or customers[i] != customers[i - 1] or days[i] != days[i - 1]:
            order += 1
        sheet.append([f"C{customers[i]:06d}", f"F{order:08d}", start + dt.timedelta(days=int(days[i])),
                      f"S{products[i]:05d}", int(quantity[i]), float(amounts[i]),
                      "İptal" if cancelled[i] else "Onaylandı"])
    sheet.append(["TOPLAM", None, None, None, None, float(amounts.sum())])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return float(amounts.sum())


def measure(name: str, path: Path) -> dict[str, object]:
    """Run one measurement in this process; return its wall time, peak memory and counts."""
    import pandas as pd

    start = time.perf_counter()
    info: dict[str, object] = {}
    if name.startswith("baseline_"):
        frame = pd.read_excel(path, engine=name.removeprefix("baseline_"), header=2)
        info["rows"] = len(frame)
    else:
        from crmlib.data.validate import load_tables

        tables = load_tables({"orders": {"path": str(path), "columns": MAPPING}}, base_dir=path.parent)
        lines = tables["orders"].frame
        info["rows"] = len(lines)
        info["revenue"] = round(float(lines["amount"].sum()), 2)
        info["notes"] = [note.message for note in tables["orders"].notes]
    info["seconds"] = round(time.perf_counter() - start, 2)
    info["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0)  # Linux: KiB
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--openpyxl", action="store_true", help="also time pandas' openpyxl reader (slow)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: run one in this process
    args = parser.parse_args()
    path = args.data / f"orders_{args.rows // 1000}k.xlsx"
    if args.measure:
        print(json.dumps(measure(args.measure, path)))
        return
    if not path.exists():
        began = time.perf_counter()
        total = write_workbook(path, args.rows)
        print(f"wrote {path} ({path.stat().st_size / 1e6:.0f} MB, amounts total {total:,.2f}) in "
              f"{time.perf_counter() - began:.0f} s")
    names = ["baseline_calamine", "load_xlsx"] + (["baseline_openpyxl"] if args.openpyxl else [])
    results: dict[str, dict] = {}
    for name in names:
        done = subprocess.run([sys.executable, __file__, "--data", str(args.data), "--rows", str(args.rows),
                               "--measure", name], capture_output=True, text=True, check=False)
        if done.returncode:
            print(f"{name}: failed\n{done.stderr[-2000:]}")
            continue
        r = results[name] = json.loads(done.stdout.strip().splitlines()[-1])
        base = results.get("baseline_calamine")
        ratio = (f"  x{r['seconds'] / base['seconds']:.2f} time, x{r['peak_mb'] / base['peak_mb']:.2f} memory "
                 "vs baseline_calamine") if base and base is not r else ""
        print(f"{name:18s} {r['seconds']:7.1f} s {r['peak_mb']:8,.0f} MB  rows={r['rows']:,}{ratio}")
        for key in ("revenue", "notes"):
            if key in r:
                print(f"{'':18s} {key}: {r[key]}")


if __name__ == "__main__":
    main()
