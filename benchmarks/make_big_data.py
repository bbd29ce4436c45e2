"""Write a large order-lines table for the loader benchmark, as an ERP-style CSV and as Parquet.

The CSV is what Turkish ERPs (Logo, Netsis, Mikro) export: cp1254 (Turkish Windows) with Turkish headers,
``;`` separators, decimal comma with thousands dots (``1.234,56``), dd.mm.yyyy dates, returns as negative
lines, and a few exact duplicate lines. The Parquet file holds the same lines with native types.

Usage::

    python benchmarks/make_big_data.py [--lines 10000000] [--customers 200000] [--out benchmarks/data]

Everything is vectorised (numpy + pyarrow compute); 10M lines take about a minute on two cores.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

#: Column headers of the ERP export and the mapping params use for them.
CSV_HEADER = ("Cari Kodu", "Fiş No", "Sipariş Tarihi", "Stok Kodu", "Miktar", "Tutar", "Maliyet")
MAPPING = {"customer_id": "Cari Kodu", "order_id": "Fiş No", "order_date": "Sipariş Tarihi",
           "product_id": "Stok Kodu", "quantity": "Miktar", "amount": "Tutar", "cost": "Maliyet"}
START = np.datetime64("2022-01-01")
DAYS = 3 * 365


def simulate(n_lines: int, n_customers: int, seed: int) -> dict[str, np.ndarray]:
    """Return the order lines as typed numpy arrays: ~3 lines per order, ~4 % return lines."""
    rng = np.random.default_rng(seed)
    n_orders = max(n_lines // 3, 1)
    weights = rng.gamma(0.6, size=n_customers)  # a few heavy buyers, a long tail (NBD-like heterogeneity)
    order_customer = rng.choice(n_customers, size=n_orders, p=weights / weights.sum())
    order_day = rng.integers(0, DAYS, size=n_orders)
    line_order = np.sort(rng.integers(0, n_orders, size=n_lines))
    quantity = rng.integers(1, 50, size=n_lines).astype(float)
    unit_price = np.round(rng.lognormal(3.5, 1.0, size=n_lines), 2)
    amount = np.round(quantity * unit_price, 2)
    returns = rng.random(n_lines) < 0.04
    amount[returns] *= -1
    quantity[returns] *= -1
    return {
        "customer_id": order_customer[line_order],
        "order_id": line_order,
        "order_date": START + order_day[line_order].astype("timedelta64[D]"),
        "product_id": rng.zipf(1.3, size=n_lines) % 5000,
        "quantity": quantity,
        "amount": amount,
        "cost": np.round(np.abs(amount) * rng.uniform(0.55, 0.8, size=n_lines), 2),
    }


def _code(prefix: str, values: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, pa.scalar(""))


def _tr_money(values: np.ndarray) -> pa.Array:
    """Format amounts the Turkish way: ``-1.234,56`` (thousands dot, decimal comma)."""
    cents = np.rint(np.abs(values) * 100).astype(np.int64)
    lira, kurus = cents // 100, cents % 100
    thousands, rest = lira // 1000, lira % 1000
    rest_s = pc.cast(pa.array(rest), pa.string())
    grouped = pc.binary_join_element_wise(pc.cast(pa.array(thousands), pa.string()),
                                          pc.utf8_lpad(rest_s, width=3, padding="0"), ".")
    body = pc.if_else(pa.array(thousands > 0), grouped, rest_s)
    sign = pa.array(np.where(values < 0, "-", ""))
    cents_s = pc.utf8_lpad(pc.cast(pa.array(kurus), pa.string()), width=2, padding="0")
    return pc.binary_join_element_wise(sign, body, pa.scalar(","), cents_s, pa.scalar(""))


def write(out: Path, n_lines: int, n_customers: int, seed: int) -> tuple[Path, Path]:
    """Write ``orders_erp.csv`` and ``orders.parquet`` under ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    data = simulate(n_lines, n_customers, seed)
    typed = pa.table({
        "customer_id": _code("C", data["customer_id"], 6),
        "order_id": _code("F", data["order_id"], 8),
        "order_date": pa.array(data["order_date"].astype("datetime64[s]")),
        "product_id": _code("STK", data["product_id"], 4),
        "quantity": data["quantity"], "amount": data["amount"], "cost": data["cost"],
    })
    parquet = out / "orders.parquet"
    pq.write_table(typed, parquet, row_group_size=1_000_000)
    text = pa.table({
        CSV_HEADER[0]: typed["customer_id"], CSV_HEADER[1]: typed["order_id"],
        CSV_HEADER[2]: pc.strftime(typed["order_date"], format="%d.%m.%Y"),
        CSV_HEADER[3]: typed["product_id"],
        CSV_HEADER[4]: pc.cast(pa.array(data["quantity"].astype(np.int64)), pa.string()),
        CSV_HEADER[5]: _tr_money(data["amount"]), CSV_HEADER[6]: _tr_money(data["cost"]),
    })
    dup = np.random.default_rng(seed + 1).choice(n_lines, size=max(n_lines // 100_000, 1), replace=False)
    text = pa.concat_tables([text, text.take(pa.array(dup))])  # exact duplicate lines, as ERPs re-export
    csv_path = out / "orders_erp.csv"
    with csv_path.open("wb") as handle:
        handle.write((";".join(CSV_HEADER) + "\r\n").encode("cp1254"))
        pcsv.write_csv(text, handle, write_options=pcsv.WriteOptions(
            include_header=False, delimiter=";", quoting_style="none", batch_size=1 << 16))
    return csv_path, parquet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args()
    start = time.perf_counter()
    csv_path, parquet = write(args.out, args.lines, args.customers, args.seed)
    for path in (csv_path, parquet):
        print(f"{path}  {path.stat().st_size / 1e6:,.0f} MB")
    print(f"written in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
