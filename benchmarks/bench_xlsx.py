"""Time the loader on a 1,000,000-line Excel workbook (python-calamine), against plain pandas readers.

The workbook is what a Turkish ERP's "export to Excel" writes: a title row and a blank row above the header,
Turkish headers, customer codes as text, dates as date cells, amounts as number cells, a status column, and
a TOPLAM row at the bottom. It is written once (sheet XML streamed into the zip, under a minute) to
``benchmarks/data/orders_1000k.xlsx`` and reused.

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


_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Satışlar" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'styles" Target="styles.xml"/></Relationships>',
    "xl/styles.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>',
}


def _text(value: str) -> str:
    return f'<c t="inlineStr"><is><t>{value}</t></is></c>'


def write_workbook(path: Path, rows: int, seed: int = 7) -> float:
    """Write the benchmark workbook; return the total of the amounts of the lines not cancelled.

    The sheet XML is written directly (inline strings, dates as day numbers with Excel's built-in date
    format 14): openpyxl takes minutes for a million rows, and the file is the same to a reader.
    """
    import zipfile

    rng = np.random.default_rng(seed)
    customers = rng.integers(1, 50_000, rows)
    days = np.sort(rng.integers(0, 3 * 365, rows))
    products = rng.integers(1, 2_000, rows)
    quantity = rng.integers(1, 20, rows)
    amounts = np.round(rng.gamma(2.0, 400.0, rows), 2)
    cancelled = rng.random(rows) < 0.01
    serial0 = (dt.date(2023, 1, 2) - dt.date(1899, 12, 30)).days
    new_order = np.r_[True, (customers[1:] != customers[:-1]) | (days[1:] != days[:-1])]
    orders = np.cumsum(new_order)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, body in _PARTS.items():
            archive.writestr(name, body)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet '
                        b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            head = (f"<row>{_text('SATIŞ HAREKETLERİ RAPORU')}</row><row></row>"
                    f"<row>{''.join(_text(h) for h in HEADER)}</row>")
            sheet.write(head.encode("utf-8"))
            for start in range(0, rows, 50_000):
                block = []
                for i in range(start, min(start + 50_000, rows)):
                    status = "İptal" if cancelled[i] else "Onaylandı"
                    block.append(f"<row>{_text(f'C{customers[i]:06d}')}{_text(f'F{orders[i]:08d}')}"
                                 f'<c s="1"><v>{serial0 + days[i]}</v></c>{_text(f"S{products[i]:05d}")}'
                                 f"<c><v>{quantity[i]}</v></c><c><v>{float(amounts[i])!r}</v></c>{_text(status)}</row>")
                sheet.write("".join(block).encode("utf-8"))
            total = f"<row>{_text('TOPLAM')}<c/><c/><c/><c/><c><v>{float(amounts.sum())!r}</v></c></row>"
            sheet.write(f"{total}</sheetData></worksheet>".encode())
    return float(amounts[~cancelled].sum())


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

        spec = {"path": str(path), "columns": MAPPING, "drop_when": {"Durum": ["İptal"]}}
        tables = load_tables({"orders": spec}, base_dir=path.parent)
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
        print(f"wrote {path} ({path.stat().st_size / 1e6:.0f} MB, lines not cancelled total {total:,.2f}) in "
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
