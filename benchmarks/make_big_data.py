"""Write a large data set for the benchmarks: order lines as an ERP-style CSV and as Parquet, plus customers,
products, payments and tickets tables and a params file for ``python -m crmlib run``.

The CSV is what Turkish ERPs (Logo, Netsis, Mikro) export: cp1254 (Turkish Windows) with Turkish headers,
``;`` separators, decimal comma with thousands dots (``1.234,56``), dd.mm.yyyy dates, returns as negative
lines, and a few exact duplicate lines. The Parquet file holds the same lines with native types.

Usage::

    python benchmarks/make_big_data.py [--lines 10000000] [--customers 680000] [--products 2000] [--out DIR]

The default shape is a national distributor's: 10M lines, about 470,000 buying customers and 2.9M orders
(3.5 lines per order), 2,000 products in 40 categories, 1 % return lines. Customers start buying at different
times and some stop (so recency, churn and lifetime value have something to find); a line's product follows
the previous line's product's companion in a third of the cases (so cross-sell finds rules). ``--no-csv``
skips the ERP CSV (only the loader benchmark reads it). ``params.yaml`` in the output folder runs the
workbook on the Parquet files.

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


def simulate(n_lines: int, n_customers: int, seed: int, *, n_products: int = 2000, returns: float = 0.01,
             lines_per_order: float = 3.46) -> dict[str, np.ndarray]:
    """Return the order lines as typed numpy arrays (one entry per line).

    Each customer buys between a start day and a stop day (some never stop within the window) at a rate drawn
    from a gamma distribution (a few heavy buyers, a long tail: NBD-like heterogeneity).
    """
    rng = np.random.default_rng(seed)
    n_orders = max(int(n_lines / lines_per_order), 1)
    weights = rng.gamma(0.6, size=n_customers)
    start = rng.integers(0, int(DAYS * 0.9), size=n_customers)
    stop = np.minimum(start + rng.exponential(2 * 365, size=n_customers).astype(np.int64) + 30, DAYS)
    span = stop - start
    weights = weights * span / DAYS  # a customer's orders are proportional to rate x time as a customer
    order_customer = rng.choice(n_customers, size=n_orders, p=weights / weights.sum())
    order_day = start[order_customer] + (rng.random(n_orders) * span[order_customer]).astype(np.int64)
    line_order = np.sort(rng.integers(0, n_orders, size=n_lines))
    product = rng.zipf(1.3, size=n_lines) % n_products
    companion = rng.permutation(n_products)  # the product often bought after each product
    follows = np.r_[False, line_order[1:] == line_order[:-1]] & (rng.random(n_lines) < 0.33)
    product[follows] = companion[product[np.flatnonzero(follows) - 1]]
    quantity = rng.integers(1, 50, size=n_lines).astype(float)
    unit_price = np.round(rng.lognormal(3.5, 1.0, size=n_products), 2)[product]
    spend = rng.gamma(4.0, 0.25, size=n_customers)  # customers differ in how much they buy per order
    amount = np.round(quantity * unit_price * spend[order_customer[line_order]], 2)
    is_return = rng.random(n_lines) < returns
    amount[is_return] *= -1
    quantity[is_return] *= -1
    return {
        "customer_id": order_customer[line_order],
        "order_id": line_order,
        "order_date": START + order_day[line_order].astype("timedelta64[D]"),
        "product_id": product,
        "quantity": quantity,
        "amount": amount,
        "cost": np.round(np.abs(amount) * rng.uniform(0.55, 0.8, size=n_lines), 2),
    }


def side_tables(data: dict[str, np.ndarray], n_customers: int, n_products: int, seed: int) -> dict[str, pa.Table]:
    """Customers, products, payments (one invoice per order of credit customers) and tickets (~2 % of orders)."""
    rng = np.random.default_rng(seed + 2)
    ids = _code("C", np.arange(n_customers), 6)
    first_day = np.full(n_customers, DAYS, dtype=np.int64)
    days = (data["order_date"] - START).astype(np.int64)
    np.minimum.at(first_day, data["customer_id"], days)
    signup = START + np.minimum(first_day - rng.integers(0, 60, n_customers), DAYS - 1).astype("timedelta64[D]")
    cities = np.array(["İstanbul", "Ankara", "İzmir", "Bursa", "Antalya", "Konya", "Adana", "Gaziantep",
                       "Kayseri", "Eskişehir", "Trabzon", "Samsun"])
    birth = np.datetime64("1955-01-01") + rng.integers(0, 45 * 365, n_customers).astype("timedelta64[D]")
    referrer = np.where(rng.random(n_customers) < 0.05, rng.integers(0, n_customers, n_customers), -1)
    customers = pa.table({
        "customer_id": ids,
        "name": pc.binary_join_element_wise(pa.scalar("Firma "), _code("", np.arange(n_customers), 6),
                                            pa.scalar(" Ltd. Şti."), pa.scalar("")),
        "email": pc.binary_join_element_wise(pa.scalar("info@firma"), _code("", np.arange(n_customers), 6),
                                             pa.scalar(".com.tr"), pa.scalar("")),
        "phone": pc.binary_join_element_wise(pa.scalar("+90 5"), _code("", rng.integers(0, 10**9, n_customers), 9),
                                             pa.scalar("")),
        "city": pa.array(cities[rng.integers(0, len(cities), n_customers)]),
        "signup_date": pa.array(signup.astype("datetime64[s]")),
        "birth_date": pa.array(birth.astype("datetime64[s]"), mask=rng.random(n_customers) < 0.15),
        "referred_by": pa.array(_code("C", np.maximum(referrer, 0), 6).to_numpy(zero_copy_only=False),
                                mask=referrer < 0),
        "marketing_consent": (rng.random(n_customers) < 0.7).astype(np.int64),
    })
    category = rng.integers(0, 40, n_products)
    price = np.round(rng.lognormal(3.5, 1.0, n_products), 2)
    products = pa.table({
        "product_id": _code("STK", np.arange(n_products), 4),
        "name": pc.binary_join_element_wise(pa.scalar("Ürün "), _code("", np.arange(n_products), 4), pa.scalar("")),
        "category": pc.binary_join_element_wise(pa.scalar("Kategori "), _code("", category, 2), pa.scalar("")),
        "price": price, "unit_cost": np.round(price * rng.uniform(0.55, 0.8, n_products), 2),
    })
    # one row per order: first line of each order (lines are sorted by order)
    first = np.r_[True, data["order_id"][1:] != data["order_id"][:-1]]
    o_cust, o_id, o_date = data["customer_id"][first], data["order_id"][first], data["order_date"][first]
    o_amount = np.bincount(np.cumsum(first) - 1, weights=data["amount"])
    credit = (rng.random(n_customers) < 0.4)[o_cust] & (o_amount > 0)
    due = o_date[credit] + np.timedelta64(30, "D")
    late = rng.exponential(8, credit.sum()).astype(np.int64) - 5
    paid = due + late.astype("timedelta64[D]")
    payments = pa.table({
        "customer_id": _code("C", o_cust[credit], 6), "invoice_id": _code("FT", o_id[credit], 8),
        "due_date": pa.array(due.astype("datetime64[s]")),
        "paid_date": pa.array(paid.astype("datetime64[s]"), mask=paid > START + np.timedelta64(DAYS - 1, "D")),
        "amount": np.round(o_amount[credit], 2),
    })
    ticket = rng.random(len(o_id)) < 0.02
    opened = o_date[ticket] + rng.integers(1, 20, ticket.sum()).astype("timedelta64[D]")
    ack = opened + rng.integers(0, 3 * 86400, ticket.sum()).astype("timedelta64[s]")
    resolved = ack + rng.integers(3600, 20 * 86400, ticket.sum()).astype("timedelta64[s]")
    end = START + np.timedelta64(DAYS - 1, "D")
    keep = opened <= end
    line_product = data["product_id"][first][ticket]
    topics = np.array(["Teslimat gecikmesi", "Hasarlı ürün", "Yanlış ürün", "Fatura hatası", "Kalite"])
    tickets = pa.table({
        "customer_id": _code("C", o_cust[ticket][keep], 6),
        "ticket_id": _code("T", np.arange(keep.sum()), 7),
        "opened_at": pa.array(opened[keep].astype("datetime64[s]")),
        "acknowledged_at": pa.array(ack[keep].astype("datetime64[s]"), mask=ack[keep] > end),
        "resolved_at": pa.array(resolved[keep].astype("datetime64[s]"), mask=resolved[keep] > end),
        "category": pa.array(topics[rng.integers(0, len(topics), keep.sum())]),
        "product_id": _code("STK", line_product[keep], 4),
    })
    return {"customers": customers, "products": products, "payments": payments, "tickets": tickets}


PARAMS = """# The workbook on the benchmark data (written by benchmarks/make_big_data.py).
as_of: null
language: tr
currency: TRY
data:
  orders:
    path: orders.parquet
  customers: customers.parquet
  products: products.parquet
  payments: payments.parquet
  tickets: tickets.parquet
"""


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


def write(out: Path, n_lines: int, n_customers: int, seed: int, *, n_products: int = 2000, returns: float = 0.01,
          csv: bool = True, lines_per_order: float = 3.46) -> list[Path]:
    """Write ``orders.parquet`` (and ``orders_erp.csv``), the side tables and ``params.yaml`` under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    data = simulate(n_lines, n_customers, seed, n_products=n_products, returns=returns,
                    lines_per_order=lines_per_order)
    typed = pa.table({
        "customer_id": _code("C", data["customer_id"], 6),
        "order_id": _code("F", data["order_id"], 8),
        "order_date": pa.array(data["order_date"].astype("datetime64[s]")),
        "product_id": _code("STK", data["product_id"], 4),
        "quantity": data["quantity"], "amount": data["amount"], "cost": data["cost"],
    })
    written = [out / "orders.parquet"]
    pq.write_table(typed, written[0], row_group_size=1_000_000)
    for name, table in side_tables(data, n_customers, n_products, seed).items():
        written.append(out / f"{name}.parquet")
        pq.write_table(table, written[-1])
    (out / "params.yaml").write_text(PARAMS, encoding="utf-8")
    if not csv:
        return written
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
    written.append(csv_path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=680_000)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--returns", type=float, default=0.01, help="share of return lines")
    parser.add_argument("--lines-per-order", dest="lines_per_order", type=float, default=3.46)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-csv", dest="csv", action="store_false", help="Parquet only (no ERP CSV)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args()
    start = time.perf_counter()
    for path in write(args.out, args.lines, args.customers, args.seed, n_products=args.products,
                      returns=args.returns, csv=args.csv, lines_per_order=args.lines_per_order):
        print(f"{path}  {path.stat().st_size / 1e6:,.0f} MB")
    print(f"written in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
