"""How well P(order in the next N days) from the purchase model matched what then happened (a backtest).

The model is refitted on the history up to ``as_of - days`` (out of time), each customer's probability of
ordering in the following ``days`` is compared with whether they did, by decile of the prediction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlib import clv
from crmlib.data import tables, textops

log = logging.getLogger(__name__)

COLUMNS: tuple[str, ...] = ("decile", "n_customers", "predicted", "observed")


def p_order_calibration(orders: pd.DataFrame, *, as_of: Any, clv_params: Mapping[str, Any] | None,
                        days: int = 30, bins: int = 10,
                        summaries: Callable[[pd.Timestamp], pd.DataFrame] | None = None) -> pd.DataFrame:
    """Predicted against observed share ordering within ``days``, by decile of the prediction.

    Parameters
    ----------
    orders
        The run's orders (``crmlib.data.tables.build_orders``): ``customer_id``, ``order_date``,
        ``is_purchase``, ...
    clv_params
        The merged ``clv`` section (the model is fitted as the run fits it).
    summaries
        The per-customer table at a date (the context's ``summary_at``); built from ``orders`` without it.

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS` (decile 1 = lowest predictions), with ``attrs["cutoff"]``; empty when the model
        cannot be fitted at the cutoff (too little history).
    """
    as_of = pd.Timestamp(as_of).normalize()
    cutoff = as_of - pd.Timedelta(days=int(days))
    empty = pd.DataFrame(columns=list(COLUMNS))
    empty.attrs["cutoff"] = cutoff
    before = orders.loc[orders["order_date"] <= cutoff]
    if before.empty:
        return empty
    summary = summaries(cutoff) if summaries is not None else tables.build_customer_summary(before, cutoff)
    if len(summary) < bins:
        return empty
    try:
        model = clv.fit_clv(summary, clv_params, spend=False)  # P(order) only: no spend model
        p = model.probability_of_order(summary, horizon_days=days)
    except (ValueError, ArithmeticError, RuntimeError) as err:
        log.info("P(order) calibration skipped: %s", err)
        return empty
    later = orders.loc[(orders["order_date"] > cutoff) & (orders["order_date"] <= as_of) & orders["is_purchase"]]
    ordered = textops.isin(summary["customer_id"].astype(str), later["customer_id"].astype(str))
    frame = pd.DataFrame({"p": p.reindex(summary["customer_id"]).to_numpy(dtype=float), "y": ordered})
    frame["decile"] = pd.qcut(frame["p"].rank(method="first"), bins, labels=False) + 1
    out = frame.groupby("decile").agg(n_customers=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    out = out.reset_index()
    out["observed"] = out["observed"].astype(float)
    out.attrs["cutoff"] = cutoff
    out.attrs["mean_abs_error"] = float(np.abs(out["predicted"] - out["observed"]).mean())
    return out[list(COLUMNS)]
