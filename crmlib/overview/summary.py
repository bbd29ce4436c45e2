"""The overview: what data the run saw, revenue over time, order values, and what the loader fixed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def monthly(orders: pd.DataFrame) -> pd.DataFrame:
    """Revenue, orders, active customers and average order value per calendar month.

    Parameters
    ----------
    orders
        One row per order with columns

        - ``customer_id``, ``order_date``, ``amount`` (net; returns negative), ``is_purchase``

    Returns
    -------
    pandas.DataFrame
        ``month`` (first day), ``revenue`` (net of returns), ``orders`` and ``customers`` (purchases only),
        ``avg_order_value`` (mean purchase order amount); months without orders appear with zeros.
    """
    if orders.empty:
        return pd.DataFrame(columns=["month", "revenue", "orders", "customers", "avg_order_value"])
    month = orders["order_date"].dt.to_period("M").dt.to_timestamp()
    frame = orders.assign(month=month)
    revenue = frame.groupby("month")["amount"].sum()
    purchases = frame.loc[frame["is_purchase"]]
    grouped = purchases.groupby("month")
    out = pd.DataFrame({"revenue": revenue, "orders": grouped.size(), "customers": grouped["customer_id"].nunique(),
                        "purchase_amount": grouped["amount"].sum()})
    full = pd.date_range(out.index.min(), out.index.max(), freq="MS")
    out = out.reindex(full).fillna(0.0)
    out["avg_order_value"] = np.where(out["orders"] > 0, out["purchase_amount"] / out["orders"].replace(0, 1), np.nan)
    out = out.drop(columns="purchase_amount").rename_axis("month").reset_index()
    out["orders"] = out["orders"].astype("int64")
    out["customers"] = out["customers"].astype("int64")
    return out


def active_customers(customer_summary: pd.DataFrame, *, days: int = 90) -> int:
    """Customers with a purchase in the last ``days`` days, (as_of - days, as_of]: ``recency_days < days``.

    The one definition of "active customers" of every page: the KPI windows (:func:`crmlib.overview.kpis.
    window_kpis`) count the customers buying in the same half-open window, so both give the same number.
    """
    return int((customer_summary["recency_days"].astype(float) < float(days)).sum())


def headline(orders: pd.DataFrame, summary: pd.DataFrame, *, as_of: pd.Timestamp) -> dict[str, Any]:
    """Headline figures, each over a stated period.

    Over the last 12 months, (as_of − 365 days, as_of]: net revenue (and the 12 months before, for the
    growth), purchase orders, their average value and the returns' share of gross sales. Active customers:
    :func:`active_customers` over 90 days. All time (to as_of): ``customers`` and ``one_time_share``.
    ``revenue_total`` and ``orders_total`` (all time) are kept for the data section.
    """
    as_of = pd.Timestamp(as_of)
    last = orders["order_date"] > as_of - pd.Timedelta(days=365)
    prev = (orders["order_date"] > as_of - pd.Timedelta(days=730)) & ~last
    revenue_last = float(orders.loc[last, "amount"].sum())
    revenue_prev = float(orders.loc[prev, "amount"].sum())
    growth = (revenue_last / revenue_prev - 1.0) if revenue_prev > 0 and prev.any() else np.nan
    is_purchase = orders["is_purchase"].astype(bool)
    purchases_12m = orders.loc[last & is_purchase]
    returns_12m = float(orders.loc[last, "returns_amount"].sum())
    gross_12m = float(purchases_12m["amount"].sum() + returns_12m)
    return {
        "revenue_total": float(orders["amount"].sum()),
        "orders_total": int(is_purchase.sum()),
        "revenue_12m": revenue_last,
        "revenue_prev_12m": revenue_prev,
        "growth_12m": growth,
        "active_90d": active_customers(summary, days=90),
        "customers": int(len(summary)),
        "orders_12m": int(len(purchases_12m)),
        "aov_12m": float(purchases_12m["amount"].mean()) if len(purchases_12m) else np.nan,
        "returns_share_12m": returns_12m / gross_12m if gross_12m > 0 else np.nan,
        "one_time_share": float((summary["n_orders"] == 1).mean()) if len(summary) else np.nan,
    }


def order_values(orders: pd.DataFrame) -> pd.Series:
    """Amounts of the purchase orders (net of in-order returns)."""
    return orders.loc[orders["is_purchase"], "amount"].reset_index(drop=True)


def missing_values(tables: dict[str, pd.DataFrame | pd.Series | None]) -> pd.DataFrame:
    """Blank cells per table and column (only columns with at least one blank).

    A table may be given as its blank counts instead (a Series of blanks per column with the table's rows
    in ``attrs["rows"]``, e.g. ``ctx.blank_counts("orders")``: the order lines need not be loaded).

    Returns
    -------
    pandas.DataFrame
        ``table``, ``column``, ``missing`` (count), ``share`` (of the table's rows).
    """
    rows = []
    for name, frame in tables.items():
        if isinstance(frame, pd.Series):
            counts, n_rows = frame, int(frame.attrs["rows"])
        elif frame is None or frame.empty:
            continue
        else:
            counts, n_rows = frame.isna().sum(), len(frame)
        if not n_rows:
            continue
        for col, n in counts.items():
            if n:
                rows.append({"table": name, "column": col, "missing": int(n), "share": n / n_rows})
    return pd.DataFrame(rows, columns=["table", "column", "missing", "share"])


def last_complete_month(monthly_frame: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.Series:
    """The latest month that ended on or before ``as_of`` (the last row if none did)."""
    ends = monthly_frame["month"] + pd.offsets.MonthEnd(0)
    complete = monthly_frame.loc[ends <= pd.Timestamp(as_of)]
    return (complete if len(complete) else monthly_frame).iloc[-1]


def tables_used(files: dict[str, str], rows: dict[str, int]) -> pd.DataFrame:
    """The input tables of the run: ``table``, ``file`` (name only), ``rows`` (as read, before the as-of cut)."""
    from pathlib import Path

    return pd.DataFrame([{"table": name, "file": Path(path).name, "rows": rows.get(name, 0)}
                         for name, path in files.items()], columns=["table", "file", "rows"])
