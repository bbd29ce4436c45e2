"""Regular products a customer stopped buying: win back a product line before losing the customer.

A product is *regular* for a customer bought on at least ``lapsed_product_min_days`` distinct days (so at
least two gaps give a rhythm); it has *lapsed* when the customer has not bought it for more than
``lapsed_product_ratio`` times the usual (median) gap. Gaps shorter than ``lapsed_product_min_gap_days`` are
bursts (several deliveries of one order), not a rhythm. Only customers who still order (an order within
``lapsed_days``, and an order after the product's last purchase) are listed: a customer who stopped
ordering altogether is on the churn list, not here; a product silent for ``lapsed_days`` or more is a line
already lost and left out. The rhythm per customer and product is engine-neutral SQL
(``crmlib/data/sql/product_rhythm.sql``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlib.data import tables

#: the contract's columns of lapsed_products.csv, in order; extras follow
COLUMNS: tuple[str, ...] = ("customer_id", "product_id", "usual_gap_days", "days_since", "value_at_stake")


def lapsed_products(order_lines: pd.DataFrame | None, customer_summary: pd.DataFrame, *, as_of: Any,
                    params: Mapping[str, Any], rhythm: pd.DataFrame | None = None) -> pd.DataFrame:
    """Products each active customer bought on a rhythm and has stopped buying.

    Parameters
    ----------
    order_lines
        ``customer_id``, ``product_id``, ``order_date``, ``amount`` (positive lines are purchases).
    customer_summary
        ``customer_id``, ``last_order_date``, ``recency_days``.
    rhythm
        Instead of the lines: the ``product_rhythm`` view at ``as_of`` (``ctx.view("product_rhythm")``).
    params
        Complete churn params: ``lapsed_product_min_days``, ``lapsed_product_min_gap_days``,
        ``lapsed_product_ratio``, ``lapsed_days``,
        ``horizon_days``.

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`, then ``n_purchase_days``, ``last_purchase_date``, ``amount_per_purchase``, sorted by
        ``value_at_stake`` (the customer's spend on the product over the year up to its last purchase,
        scaled to ``horizon_days``: what the line brought in such a period).
    """
    empty = pd.DataFrame(columns=[*COLUMNS, "n_purchase_days", "last_purchase_date", "amount_per_purchase"])
    if rhythm is None:
        if "product_id" not in order_lines.columns or order_lines["product_id"].isna().all() or not len(order_lines):
            return empty
        lines = order_lines[["customer_id", "product_id", "order_date", "amount"]].assign(
            customer_id=order_lines["customer_id"].astype(str),
            product_id=order_lines["product_id"].astype("string"))
        rhythm = tables.query("product_rhythm", as_of=as_of, order_lines=lines)
    if rhythm.empty:
        return empty
    rhythm = rhythm.assign(last_purchase_date=pd.to_datetime(rhythm["last_purchase_date"]).astype("datetime64[ns]"))
    cs = customer_summary.assign(customer_id=customer_summary["customer_id"].astype(str)).set_index("customer_id")
    last_order = cs["last_order_date"].reindex(rhythm["customer_id"]).to_numpy()
    recency = cs["recency_days"].reindex(rhythm["customer_id"]).to_numpy(dtype=float)
    gap = rhythm["usual_gap_days"].astype(float)
    keep = ((rhythm["n_purchase_days"] >= int(params["lapsed_product_min_days"]))
            & (gap >= float(params["lapsed_product_min_gap_days"]))
            & (rhythm["days_since"] > float(params["lapsed_product_ratio"]) * gap)
            & (rhythm["days_since"] < float(params["lapsed_days"]))
            & (recency < float(params["lapsed_days"]))
            & (last_order > rhythm["last_purchase_date"].to_numpy()))
    out = rhythm.loc[keep].copy()
    out["value_at_stake"] = out["spend_last_year"] * float(params["horizon_days"]) / 365.0
    out["days_since"] = out["days_since"].astype("int64")
    out["n_purchase_days"] = out["n_purchase_days"].astype("int64")
    out = out.sort_values(["value_at_stake", "customer_id", "product_id"], ascending=[False, True, True],
                          kind="mergesort").reset_index(drop=True)
    return out[[*COLUMNS, "n_purchase_days", "last_purchase_date", "amount_per_purchase"]]


def with_names(lapsed: pd.DataFrame, *, customers: pd.DataFrame | None,
               products: pd.DataFrame | None) -> pd.DataFrame:
    """Add ``name`` (the customer's) and ``product_name`` when the tables have them."""
    out = lapsed.copy()
    if customers is not None and {"customer_id", "name"} <= set(customers.columns):
        names = customers.assign(customer_id=customers["customer_id"].astype(str)).drop_duplicates(
            "customer_id").set_index("customer_id")["name"]
        out.insert(1, "name", names.reindex(out["customer_id"].astype(str)).to_numpy())
    if products is not None and {"product_id", "name"} <= set(products.columns):
        names = products.assign(product_id=products["product_id"].astype(str)).drop_duplicates(
            "product_id").set_index("product_id")["name"]
        pos = list(out.columns).index("product_id") + 1
        out.insert(pos, "product_name", names.reindex(out["product_id"].astype(str)).to_numpy())
    return out


def summary_counts(lapsed: pd.DataFrame) -> dict[str, float]:
    """Customers, products and value at stake of the lapsed lines."""
    return {"n_lines": int(len(lapsed)), "n_customers": int(lapsed["customer_id"].nunique()),
            "value": float(np.nansum(lapsed["value_at_stake"].to_numpy(dtype=float)))}
