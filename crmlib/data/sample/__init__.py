"""A synthetic Turkish wholesaler: every input table of the contract, plus ``truth.csv``.

``python -m crmlib sample --out DIR`` calls :func:`generate`. Same seed, same arguments: byte-identical
files. 5,000 customers over three years take a few seconds (vectorised numpy, one generator).

The simulation (:mod:`crmlib.data.sample.model`, :mod:`crmlib.data.sample.tables`, :mod:`crmlib.data.sample.catalogue`)
--------------------------------------------------------------------------------------------------------
Products
    168 products in six categories (Tekstil, Aksesuar, Ambalaj, Kırtasiye, Temizlik, Züccaciye), each
    item in a standard (``-S``, margin 12-22 %) and a premium variant (``-P``, 1.6-2.2 times the price,
    margin 28-42 %), so that upsell has something to find. Seasonal items are picked 8 times as often
    in their season and 0.15 times as often outside it: summer textiles and accessories Apr-Jun, school
    supplies Aug-Sep, gift packaging Nov-Dec, winter items Oct-Jan. Each category has two bundles (pairs
    or triples such as Karton Koli + Koli Bandı + Streç Film, Çay Bardağı + Çay Tabağı); 30 % of the
    orders contain one (a seasonal bundle mostly in its season), so association rules have real lift.
Customers
    Latent types: big regular wholesalers (7 %, about two orders a week), medium (25 %, about two a
    month), small occasional buyers (45 %, about one every seven weeks), one-time buyers (23 %). 30 % are
    already customers when the window opens; the others arrive over the whole window (1.5 times as many
    at its end as at its start). Each has a Dirichlet(0.4) category preference, a premium propensity
    (Beta(2, 4)), a type-dependent discount, payment terms of 30 or 45 days, a Turkish company name
    named after its main category, a city, e-mail, mobile phone, the contact person's birth date,
    marketing consent (70 %) and an acquisition channel (Saha satış, Fuar, Google Ads, Instagram, Web
    sitesi; field sales and fairs bring the big ones). 10 % of the new customers are referred by an
    earlier customer still active at the time (channel Referans); they stay 1.4 times as long on average
    (Schmitt, Skiera & Van den Bulte 2011, J. Marketing 75(1)). About 4 % of e-mails, 2 % of phones and
    15 % of birth dates are missing, as in real customer masters.
Purchases
    A daily version of the Pareto/NBD buy-till-you-die process (Schmittlein, Morrison & Colombo 1987;
    Fader, Hardie & Lee 2005 for the BG/NBD variant): on each day alive a customer buys with probability
    1 - exp(-lambda * season * weekday), lambda ~ Gamma across customers (shape 6, 3 and 2 by type);
    monthly seasonality (quiet January and July, busy March-May and September-November) and a weekly
    pattern (few Sunday orders). Lifetimes are exponential with a Gamma-distributed dropout rate (mean
    2,500, 1,500 and 900 days by type); one-time buyers drop out the day after their first order. Half
    of the regular customers slow down before they leave: over their last 90-240 days the rate decays
    geometrically to 15 %. Eight in ten regular customers show distress in their last 90-270 days: late
    or missing payments, complaints and unanswered calls become several times more frequent.
Orders
    Order values are Gamma-Gamma-like (Colombo & Jiang 1999; Fader, Hardie & Lee 2005, "RFM and CLV"):
    each customer's mean order value ~ Gamma(3) around 24,000 / 8,000 / 2,500 / 3,000 TL by type, each
    order ~ Gamma(4) around it. An order has 1 + Binomial(7, p) lines (more for big customers); the
    value is split over the lines and turned into whole quantities at the customer's discounted price;
    cost = quantity x unit cost. 3 % of the orders carry a return line (negative quantity, amount and
    cost), 0.6 % are followed 2-14 days later by a pure return order.
Other tables
    One invoice per purchase order (due after the payment terms; paid around the customer's usual
    delay, 10-45 days later in distress, 25 % never paid in distress against 0.5 % otherwise);
    complaints after 3 % of the deliveries (15 % in distress, slower acknowledgement and resolution);
    surveys after 8 % of deliveries (NPS and CSAT lower for small types, in distress and after a
    complaint); sales reps' outreach from the customer's start until 2-8 months after dropout (answered
    85 % of the time, 35 % in distress, 10 % after dropout); monthly marketing spend and new customers
    per acquisition channel, consistent with the customers' signup months and channels.
Truth
    The process runs 365 days past ``as_of``; the input tables stop at ``as_of`` (later payments and
    ticket events are blank), ``truth.csv`` records each buying customer's fate: see README.txt.

Files and formats (the variety exercises the loader on purpose)
---------------------------------------------------------------
- ``orders.csv``: Turkish ERP export: UTF-8 with BOM, CRLF, ``;``, ``1.234,56`` (thousands dots, decimal
  comma, also in quantities), dd.mm.yyyy, Turkish headers ``Cari Kodu;Sipariş No;Sipariş Tarihi;Ürün
  Kodu;Miktar;Tutar;Maliyet``. Customer codes look like ``120.01.00042`` (read them as text).
- ``customers.csv``: cp1254 (Turkish Windows), CRLF, ``;``, dd.mm.yyyy, consent 1/0, plus ``channel``.
- ``products.xlsx``: sheet ``Urunler``.
- ``payments.csv``, ``tickets.csv``, ``surveys.csv``, ``contacts.csv``, ``marketing.csv``, ``truth.csv``:
  UTF-8, ``,``, ``.`` decimals, ISO dates (ticket times ``YYYY-MM-DD HH:MM``), the contract's columns.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from crmlib.data.sample import tables as sample_tables
from crmlib.errors import ParamsError

logger = logging.getLogger(__name__)

ORDER_HEADERS = {  # contract name: the ERP's header
    "customer_id": "Cari Kodu", "order_id": "Sipariş No", "order_date": "Sipariş Tarihi",
    "product_id": "Ürün Kodu", "quantity": "Miktar", "amount": "Tutar", "cost": "Maliyet",
}
FILES = ("orders.csv", "customers.csv", "products.xlsx", "payments.csv", "tickets.csv", "surveys.csv",
         "contacts.csv", "marketing.csv", "truth.csv", "README.txt")
_TR_NUMBER = str.maketrans(",.", ".,")


def generate(out_dir: str | Path, *, customers: int = 5000, seed: int = 42, as_of: str = "2026-06-30",
             years: float = 3.0) -> dict[str, Path]:
    """Write the synthetic wholesaler into ``out_dir`` and return ``{table name: path}``.

    Parameters
    ----------
    out_dir
        Folder to write into (created if absent; the files in :data:`FILES` are overwritten).
    customers
        Customers in the customer master (those with no purchase in the window are kept there too).
    seed
        Seed of the one random generator: same seed and arguments, byte-identical files.
    as_of
        Last day of the input tables (ISO date); the simulation goes on for 365 more days for truth.csv.
    years
        Length of the order history before ``as_of``.

    Returns
    -------
    dict
        ``{"orders": Path, "customers": ..., "products": ..., "payments": ..., "tickets": ...,
        "surveys": ..., "contacts": ..., "marketing": ..., "truth": ..., "readme": ...}``.

    Raises
    ------
    ParamsError
        ``customers`` below 1, ``seed`` negative, ``years`` outside (0, 20] or ``as_of`` not a date.
    """
    if not isinstance(customers, (int, np.integer)) or isinstance(customers, bool) or customers < 1:
        raise ParamsError(f"sample: customers must be a whole number of at least 1, got {customers!r}; "
                          "pass for example --customers 5000.")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ParamsError(f"sample: seed must be a whole number of at least 0, got {seed!r}; pass for example 42.")
    if not isinstance(years, (int, float)) or not 0 < years <= 20:
        raise ParamsError(f"sample: years must be a number in (0, 20], got {years!r}; pass for example 3.")
    try:
        as_of_ts = pd.Timestamp(as_of).normalize()
    except (ValueError, TypeError) as err:
        raise ParamsError(f"sample: as_of must be a date like 2026-06-30, got {as_of!r}.") from err
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t = sample_tables.simulate(customers=int(customers), seed=int(seed), as_of=as_of_ts, years=float(years))
    codes = _codes(t)
    paths = {name.split(".")[0].lower(): out / name for name in FILES}
    _write_orders(t["orders"], codes, paths["orders"])
    _write_customers(t["customers"], codes, paths["customers"])
    _write_products(t["products"], paths["products"], as_of_ts)
    for name in ("payments", "tickets", "surveys", "contacts", "marketing", "truth"):
        _write_plain(_with_codes(t[name], codes), paths[name])
    paths["readme"].write_text(_readme(t, as_of_ts, seed), encoding="utf-8")
    logger.info("sample written to %s", out)
    return paths


def _codes(t: dict[str, pd.DataFrame]) -> dict[str, np.ndarray]:
    """Integer ids → the codes written to the files."""
    n = len(t["customers"])
    return {
        "customer_id": np.array([f"120.01.{i + 1:05d}" for i in range(n)]),
        "product_id": t["products"]["product_id"].to_numpy(),
    }


def _map(values: pd.Series, codes: np.ndarray) -> pd.Series:
    """Map integer ids (float with NaN for missing) to codes; missing stays missing."""
    ok = values.notna()
    out = pd.Series(None, index=values.index, dtype=object)
    out[ok] = codes[values[ok].astype(int).to_numpy()]
    return out


def _with_codes(df: pd.DataFrame, codes: dict[str, np.ndarray]) -> pd.DataFrame:
    df = df.copy()
    for col in ("customer_id", "product_id", "referred_by"):
        if col in df:
            kind = "product_id" if col == "product_id" else "customer_id"
            df[col] = _map(df[col].astype(float), codes[kind])
    for col, prefix, width in (("invoice_id", "FT", 7), ("ticket_id", "TK", 6)):
        if col in df:
            df[col] = [f"{prefix}{i:0{width}d}" for i in df[col]]
    return df


def _tr_number(x: np.ndarray, digits: int) -> list[str]:
    """Numbers as a Turkish ERP writes them: ``1.234,56`` (thousands dots, decimal comma)."""
    text = "\n".join(map(f"{{:,.{digits}f}}".format, x.tolist()))
    return text.translate(_TR_NUMBER).split("\n")


def _tr_date(dates: pd.Series) -> pd.Series:
    """dd.mm.yyyy via a lookup of the distinct dates (fast on long tables); NaT → empty."""
    dates = pd.to_datetime(dates)
    uniq = pd.Series(dates.dropna().unique())
    lookup = dict(zip(uniq, uniq.dt.strftime("%d.%m.%Y"), strict=True))
    return dates.map(lookup).fillna("")


def _write_orders(df: pd.DataFrame, codes: dict[str, np.ndarray], path: Path) -> None:
    q = df["quantity"].to_numpy()
    columns = [
        codes["customer_id"][df["customer_id"].to_numpy()].tolist(),
        [f"SP{i:07d}" for i in df["order_id"].tolist()],
        _tr_date(df["order_date"]).tolist(),
        codes["product_id"][df["product_id"].to_numpy()].tolist(),
        _tr_number(q, 0), _tr_number(df["amount"].to_numpy(), 2), _tr_number(df["cost"].to_numpy(), 2),
    ]
    rows = [";".join(ORDER_HEADERS.values()), *map(";".join, zip(*columns, strict=True))]
    path.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8-sig", newline="")


def _write_customers(df: pd.DataFrame, codes: dict[str, np.ndarray], path: Path) -> None:
    df = _with_codes(df, codes)
    for col in ("signup_date", "birth_date"):
        df[col] = _tr_date(df[col])
    df.to_csv(path, sep=";", index=False, encoding="cp1254", lineterminator="\r\n")


def _write_products(df: pd.DataFrame, path: Path, stamp: pd.Timestamp) -> None:
    """XLSX via pandas/openpyxl, then re-zipped with fixed timestamps so the bytes depend on the seed only."""
    buf = io.BytesIO()
    df.to_excel(buf, sheet_name="Urunler", index=False, engine="openpyxl")
    iso = stamp.strftime("%Y-%m-%dT00:00:00Z").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + iso, data)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, data)
    path.write_bytes(out.getvalue())


def _write_plain(df: pd.DataFrame, path: Path) -> None:
    df = df.copy()
    for col in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[col]):
            timed = (df[col].dropna().dt.normalize() != df[col].dropna()).any()
            df[col] = df[col].dt.strftime("%Y-%m-%d %H:%M" if timed or col.endswith("_at") else "%Y-%m-%d")
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def _readme(t: dict[str, pd.DataFrame], as_of: pd.Timestamp, seed: int) -> str:
    o = t["orders"]
    return f"""Synthetic Turkish wholesaler (crmlib sample, seed {seed})
============================================================
Order history {o["order_date"].min():%Y-%m-%d} .. {as_of:%Y-%m-%d} (as-of date);
{len(t["customers"]):,} customers, {o["order_id"].nunique():,} orders, {len(o):,} order lines.
All amounts in TL. Everything is simulated; names, e-mails and phone numbers are made up.

Input tables (the contract's optional tables use its column names)
- orders.csv     Turkish ERP export: UTF-8 with BOM, CRLF line ends, ';' separator, numbers like
                 1.234,56 (thousands dots, decimal comma; quantities too), dates dd.mm.yyyy. Columns:
                 Cari Kodu (customer_id, codes like 120.01.00042), Sipariş No (order_id),
                 Sipariş Tarihi (order_date), Ürün Kodu (product_id), Miktar (quantity), Tutar (net line
                 revenue), Maliyet (cost). Returns are lines with negative Miktar, Tutar and Maliyet.
                 With '.' as thousands separator, read Cari Kodu and Sipariş Tarihi as text first:
                 a number parser turns 120.01.00042 into 1200100042 and 02.07.2023 into 2072023.
- customers.csv  cp1254 (Turkish Windows), CRLF, ';', dates dd.mm.yyyy: customer_id, name, email, phone,
                 city, signup_date, birth_date (contact person), referred_by (an earlier customer),
                 marketing_consent (1/0), channel (acquisition channel; not part of the contract).
- products.xlsx  sheet Urunler: product_id (-S standard, -P premium), name, category, price, unit_cost.
- payments.csv   UTF-8, ',', ISO dates: customer_id, invoice_id, due_date, paid_date (empty: unpaid at
                 the as-of date), amount. One invoice per purchase order.
- tickets.csv    complaints: customer_id, ticket_id, opened_at, acknowledged_at, resolved_at (times
                 YYYY-MM-DD HH:MM; empty: not yet), category, product_id (empty for delivery/invoice).
- surveys.csv    customer_id, date, nps (0-10), csat (1-5).
- contacts.csv   sales outreach: customer_id, date, channel, responded (1/0).
- marketing.csv  month (YYYY-MM), channel, spend (TL), new_customers.

Answer key (not an input table)
- truth.csv      one row per customer with a purchase up to the as-of date: customer_id, latent_type
                 (big, medium, small, one_time), alive_at_as_of (1/0), dropout_date (empty: still alive
                 365 days after the as-of date), orders_next_90d / orders_next_365d (purchase orders after
                 the as-of date), revenue_next_90d / revenue_next_365d (net TL, returns included),
                 expected_orders_next_365d (the simulation's expectation given the customer's latent state
                 at the as-of date), slowed_down (1: its purchase rate decayed before dropout).

See the docstring of crmlib/sample.py for the simulation.
"""
