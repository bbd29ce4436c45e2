"""lifetimes' inputs built by crmlib (not by ``lifetimes.utils``, parts of which break under pandas 3): the
per-customer table converted to the model's time unit, the calibration/holdout split, and the monthly
discounting schedule of the CLV. Re-exported by :mod:`crmlib.clv.model`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from crmlib.data.frames import require_columns
from crmlib.errors import DataError, ParamsError

UNITS: dict[str, float] = {"D": 1.0, "W": 7.0}
#: days per month for the monthly discounting (365.25 / 12)
DAYS_PER_MONTH: float = 365.25 / 12
SUMMARY_COLUMNS: tuple[str, ...] = ("customer_id", "frequency", "recency", "T", "monetary_value")


# -- helpers ------------------------------------------------------------------------------------------------
def _examples(values: pd.Series | pd.Index) -> str:
    return ", ".join(map(str, list(values[:5])))


def unit_days(time_unit: str) -> float:
    if time_unit not in UNITS:
        raise ParamsError(f"Params key 'clv.time_unit' must be 'W' (weeks) or 'D' (days), got {time_unit!r}.")
    return UNITS[time_unit]


# -- data preparation ---------------------------------------------------------------------------------------
def lifetimes_summary(customer_summary: pd.DataFrame, *, time_unit: str = "W") -> pd.DataFrame:
    """lifetimes' inputs in the model's time unit, from the per-customer table's day-based columns.

    Parameters
    ----------
    customer_summary
        One row per customer (``crmlib.data.tables.build_customer_summary``) with

        - ``customer_id``
        - ``frequency``: repeat purchase days, x (distinct purchase days - 1)
        - ``recency``: days from the first to the last purchase day, t_x
        - ``T``: days from the first purchase day to as_of
        - ``monetary_value``: mean amount of the repeat purchase days (0 when frequency is 0)

    Returns
    -------
    DataFrame
        ``frequency`` (int), ``recency``, ``T`` (in ``time_unit``), ``monetary_value``, indexed by
        ``customer_id`` (Fader, Hardie & Lee 2005's x, t_x, T and Fader & Hardie's m_x).

    Raises
    ------
    DataError
        If a column is missing, or recency < 0, recency > T, or recency > 0 with frequency 0.
    """
    require_columns(customer_summary, SUMMARY_COLUMNS, "customer_summary")
    days = unit_days(time_unit)
    x = customer_summary["frequency"].to_numpy()
    rec = customer_summary["recency"].to_numpy(dtype=float)
    age = customer_summary["T"].to_numpy(dtype=float)
    ids = customer_summary["customer_id"]
    checks = [
        (np.isnan(rec) | np.isnan(age) | pd.isna(x), "has missing frequency, recency or T"),
        (x < 0, "has a negative frequency"),
        (rec < 0, "has recency < 0 (last purchase before the first)"),
        (rec > age, "has recency > T (last purchase after as_of)"),
        ((x == 0) & (rec != 0), "has frequency 0 but recency > 0"),
    ]
    for bad, what in checks:
        if np.any(bad):
            raise DataError(f"customer_summary {what} for {int(np.sum(bad))} customer(s), e.g. "
                            f"{_examples(ids[bad])}. Rebuild it with crmlib.data.tables.build_customer_summary.")
    out = pd.DataFrame(
        {"frequency": x.astype(np.int64), "recency": rec / days, "T": age / days,
         "monetary_value": customer_summary["monetary_value"].to_numpy(dtype=float)},
        index=pd.Index(ids.astype(str), name="customer_id"),
    )
    return out


def _purchase_days(orders: pd.DataFrame) -> tuple[pd.DataFrame, pd.Index]:
    """Purchase days per customer: net amount of the purchase orders of each (customer, day), sorted by
    customer and day, with customers as codes into the sorted ids returned alongside (the same groups, order
    and sums as grouping on the ids, without hashing every id again in each later step)."""
    require_columns(orders, ["customer_id", "order_date", "amount"], "orders")
    buy = orders["is_purchase"].astype(bool) if "is_purchase" in orders.columns else orders["amount"] > 0
    frame = orders.loc[buy, ["customer_id", "order_date", "amount"]]
    codes, ids = pd.factorize(frame["customer_id"], sort=True)
    day = pd.to_datetime(frame["order_date"]).dt.normalize()
    frame = frame.assign(customer_id=codes, order_date=day).loc[codes >= 0]  # a missing id is in no group
    daily = frame.groupby(["customer_id", "order_date"], sort=True)["amount"].sum().reset_index()
    return daily, pd.Index(ids)


def calibration_holdout(orders: pd.DataFrame, *, calibration_end: Any, holdout_end: Any,
                        time_unit: str = "W") -> pd.DataFrame:
    """Calibration-period summary and holdout purchases per customer (built here, not by lifetimes.utils).

    Same definitions as the per-customer table: purchase orders only (``is_purchase``; net amount > 0
    without it), one purchase per customer and day. Customers whose first purchase is after
    ``calibration_end`` are left out (they are not in the calibration sample).

    Parameters
    ----------
    orders
        One row per order with ``customer_id``, ``order_date``, ``amount`` and optionally ``is_purchase``.
    calibration_end, holdout_end
        Last day (inclusive) of the calibration and of the holdout period.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id``, lifetimes' column names: ``frequency_cal``, ``recency_cal``, ``T_cal``,
        ``monetary_value_cal``, ``frequency_holdout`` (purchase days in the holdout),
        ``monetary_value_holdout`` (their mean amount, 0 if none), ``spend_holdout`` (their total) and
        ``duration_holdout``; durations in ``time_unit``.
    """
    days = unit_days(time_unit)
    cal_end = pd.Timestamp(calibration_end).normalize()
    hold_end = pd.Timestamp(holdout_end).normalize()
    if hold_end <= cal_end:
        raise ParamsError(f"The holdout end {hold_end:%Y-%m-%d} must be after the calibration end "
                          f"{cal_end:%Y-%m-%d}; lower clv.holdout_days or choose a later as_of.")
    daily, ids = _purchase_days(orders)
    daily = daily.loc[daily["order_date"] <= hold_end]
    cal = daily.loc[daily["order_date"] <= cal_end]
    hold = daily.loc[daily["order_date"] > cal_end]
    grouped = cal.groupby("customer_id", sort=True)
    first = grouped["order_date"].min()
    last = grouped["order_date"].max()
    n_days = grouped.size()
    total = grouped["amount"].sum()
    first_amount = cal.drop_duplicates("customer_id", keep="first").set_index("customer_id")["amount"]
    repeat = n_days - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = ((total - first_amount.reindex(total.index)) / repeat).where(repeat > 0, 0.0)
    out = pd.DataFrame({
        "frequency_cal": repeat.astype(np.int64),
        "recency_cal": (last - first).dt.days / days,
        "T_cal": (cal_end - first).dt.days / days,
        "monetary_value_cal": monetary.astype(float),
    })
    h = hold.groupby("customer_id", sort=True)["amount"].agg(["size", "sum"]).reindex(out.index)
    out["frequency_holdout"] = h["size"].fillna(0).astype(np.int64)
    out["spend_holdout"] = h["sum"].fillna(0.0).astype(float)
    out["monetary_value_holdout"] = (out["spend_holdout"] / out["frequency_holdout"]).where(
        out["frequency_holdout"] > 0, 0.0)
    out["duration_holdout"] = (hold_end - cal_end).days / days
    out.index = ids.take(out.index.to_numpy()).astype(str)
    out.index.name = "customer_id"
    return out


def monthly_schedule(horizon_days: float, annual_discount_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Month ends over the horizon and their discount factors.

    The horizon is cut into months of 365.25 / 12 days (the last may be shorter); month k's purchases are
    discounted at its end by (1 + d) ** -k with the monthly rate d = (1 + annual) ** (1/12) - 1, i.e.
    (1 + annual) ** (-k / 12) (monthly compounding equivalent to the annual rate; cf. Fader, Hardie & Lee
    2005, "RFM and CLV", eq. 2, discounting expected transactions period by period).

    Returns
    -------
    (ends_days, factors)
    """
    if not horizon_days > 0:
        raise ParamsError(f"Params key 'clv.horizon_days' must be a positive number of days, got {horizon_days!r}.")
    if not 0 <= annual_discount_rate < 10:
        raise ParamsError("Params key 'clv.annual_discount_rate' must be a yearly rate between 0 and 10 "
                          f"(0.10 = 10%), got {annual_discount_rate!r}.")
    n = max(1, math.ceil(horizon_days / DAYS_PER_MONTH - 1e-9))
    ends = np.minimum(np.arange(1, n + 1) * DAYS_PER_MONTH, float(horizon_days))
    monthly = (1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0
    factors = (1.0 + monthly) ** -np.arange(1, n + 1, dtype=float)
    return ends, factors
