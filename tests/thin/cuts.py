"""Thin and odd histories cut from the generated sample (the shapes of a new shop, a small wholesaler, ...).

Each cut rewrites the sample's ``orders.csv`` (same ERP format: ``;``, dd.mm.yyyy, Turkish numbers) and keeps
the other tables as they are, as a real export of a younger or smaller business would have them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

#: name: (kind, value): the shapes of the test matrix
CUTS: dict[str, tuple[str, int]] = {
    "days_1": ("days", 1), "days_7": ("days", 7), "days_30": ("days", 30), "days_90": ("days", 90),
    "customers_1": ("customers", 1), "customers_3": ("customers", 3), "product_1": ("products", 1),
    "one_time": ("one_time", 0), "no_product": ("no_product", 0),
}
_DATE, _CUSTOMER, _ORDER, _PRODUCT = "Sipariş Tarihi", "Cari Kodu", "Sipariş No", "Ürün Kodu"


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)


def _write(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, sep=";", index=False, encoding="utf-8-sig", lineterminator="\r\n")


def cut_orders(lines: pd.DataFrame, kind: str, value: int) -> pd.DataFrame:
    """Cut the sample's order lines (as read from ``orders.csv``, all text) to one shape."""
    dates = pd.to_datetime(lines[_DATE], format="%d.%m.%Y")
    net = pd.to_numeric(lines["Tutar"].str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    if kind == "days":
        return lines.loc[dates > dates.max() - pd.Timedelta(days=value)]
    if kind == "customers":
        # the customers with the most orders: a small wholesaler's regulars
        order_net = net.groupby([lines[_CUSTOMER], lines[_ORDER]]).sum()
        orders = order_net[order_net > 0].groupby(level=0).size().sort_values(ascending=False, kind="stable")
        return lines.loc[lines[_CUSTOMER].isin(orders.index[:value])]
    if kind == "products":
        top = lines.loc[net > 0, _PRODUCT].value_counts().index[:value]
        return lines.loc[lines[_PRODUCT].isin(top)]
    if kind == "one_time":
        n_orders = lines.groupby(_CUSTOMER)[_ORDER].nunique()
        return lines.loc[lines[_CUSTOMER].isin(n_orders.index[n_orders == 1])]
    if kind == "no_product":
        return lines.drop(columns=[_PRODUCT])
    raise ValueError(f"unknown cut kind {kind!r}")


def make_cut(sample_dir: Path, out_dir: Path, name: str) -> Path:
    """Copy the sample to ``out_dir`` with its orders cut to the shape ``name`` of :data:`CUTS`."""
    kind, value = CUTS[name]
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in Path(sample_dir).iterdir():
        if path.is_file() and path.name != "orders.csv":
            shutil.copy2(path, out_dir / path.name)
    _write(cut_orders(_read(Path(sample_dir) / "orders.csv"), kind, value).reset_index(drop=True),
           out_dir / "orders.csv")
    return out_dir
