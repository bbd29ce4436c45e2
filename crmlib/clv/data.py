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


def _sorted_codes(ids: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(ids, sort=True)``: for Arrow-backed strings by Arrow's dictionary encoding and a sort of
    the distinct ids (the order pandas' sort gives: Arrow's sort of the strings), else pandas'. Ids already in
    that order (the orders table comes sorted by customer) are coded by comparing each with the one before,
    without hashing them: the same codes and ids."""
    if isinstance(ids.dtype, pd.StringDtype) and ids.dtype.storage == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        values = pa.array(ids.array)
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if len(values) > 1 and not values.null_count and pc.all(pc.less_equal(values[:-1], values[1:])).as_py():
            new = np.r_[True, pc.not_equal(values[1:], values[:-1]).to_numpy(zero_copy_only=False)]
            codes = np.cumsum(new, dtype=np.int64) - 1
            return codes, pd.Index(pd.array(values.take(pa.array(np.flatnonzero(new))), dtype=ids.dtype))
        encoded = pc.dictionary_encode(values)
        order = pc.array_sort_indices(encoded.dictionary).to_numpy()
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        indices = encoded.indices
        codes = np.full(len(ids), -1, dtype=np.int64)
        valid = indices.is_valid().to_numpy(zero_copy_only=False)
        codes[valid] = rank[indices.drop_null().to_numpy()]
        uniques = pd.Index(pd.array(encoded.dictionary.take(pa.array(order)), dtype=ids.dtype))
        return codes, uniques
    codes, uniques = pd.factorize(ids, sort=True)
    return np.asarray(codes, dtype=np.int64), pd.Index(uniques)


def _days(dates: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 of ``dates`` (their midnight), as ``datetime64[D]`` (NaT where missing)."""
    if dates.dtype.kind == "M":  # naive datetime64: the cast to days takes the midnight, as normalize does
        return dates.to_numpy().astype("datetime64[D]")
    return pd.to_datetime(dates).dt.normalize().to_numpy().astype("datetime64[D]")


def _purchase_days(orders: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Index]:
    """Purchase days per customer: net amount of the purchase orders of each (customer, day), sorted by
    customer and day, with customers as codes into the sorted ids returned alongside (the same groups, order
    and sums as grouping on the ids and the day, without hashing every id again in each later step).

    Returns ``(customer codes, days since 1970-01-01, amounts, ids)``; the sums are pandas' group sums over
    one integer key (customer code and day), the same as over the two keys. The ids are coded over every
    order, purchase or not, and the purchases' rows taken from the codes (the same order of customers; the
    ids no purchase uses are never looked up).
    """
    require_columns(orders, ["customer_id", "order_date", "amount"], "orders")
    buy = (orders["is_purchase"].astype(bool) if "is_purchase" in orders.columns
           else orders["amount"] > 0).to_numpy(dtype=bool)
    codes, ids = _sorted_codes(orders["customer_id"])
    when = _days(orders["order_date"])
    keep = buy & (codes >= 0)  # a missing id is in no group
    codes, when, amount = codes[keep], when[keep], orders["amount"].to_numpy()[keep]
    day, missing = when.astype(np.int64), np.isnat(when)
    if not len(codes) or missing.all():
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=amount.dtype), ids
    low = int(day[~missing].min())
    span = int(day[~missing].max()) - low + 1
    key: Any = codes * span + (day - low)
    if not missing.any() and amount.dtype == np.float64 and bool(np.all(key[1:] >= key[:-1])):
        key, sums = _sorted_group_sums(amount, key)
        return key // span, key % span + low, sums, ids
    if missing.any():  # a missing date is in no group: left out by the grouping, as the two keys' grouping does
        key = pd.array(key, dtype="Int64")
        key[missing] = pd.NA
    sums = pd.Series(amount).groupby(key, sort=True).sum()
    key = sums.index.to_numpy(dtype=np.int64)
    return key // span, key % span + low, sums.to_numpy(), ids


def _sorted_group_sums(values: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.Series(values).groupby(key, sort=True).sum()`` (float64 values, a non-decreasing integer key) as
    ``(distinct keys, sums)``: a key on one row is that value as pandas' compensated sum gives it (0.0 plus
    the value; 0.0 for NaN), the keys on several rows are summed by pandas; the same sums bit for bit."""
    start = np.r_[True, key[1:] != key[:-1]]
    starts = np.flatnonzero(start)
    sizes = np.diff(np.r_[starts, len(key)])
    with np.errstate(invalid="ignore"):
        sums = np.where(np.isnan(values[starts]), 0.0, 0.0 + values[starts])
    several = np.flatnonzero(sizes > 1)
    if len(several):
        rows = np.repeat(sizes > 1, sizes)
        sums[several] = pd.Series(values[rows]).groupby(key[rows], sort=True).sum().to_numpy()
    return key[starts], sums


def _group_sums(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """pandas' group sums of ``values`` by the sorted integer ``groups`` (in the groups' order)."""
    if values.dtype == np.float64 and bool(np.all(groups[1:] >= groups[:-1])):
        return _sorted_group_sums(values, groups)[1]
    return pd.Series(values).groupby(groups, sort=True).sum().to_numpy()


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
    codes, day, amount, ids = _purchase_days(orders)
    cal_day = int(np.datetime64(cal_end.date(), "D").astype(np.int64))
    hold_day = int(np.datetime64(hold_end.date(), "D").astype(np.int64))
    cal = day <= cal_day
    hold = (day > cal_day) & (day <= hold_day)
    # calibration: rows sorted by customer and day, so each customer's first and last rows are their first
    # and last purchase days
    cc, cd, ca = codes[cal], day[cal], amount[cal]
    starts = np.flatnonzero(np.r_[True, cc[1:] != cc[:-1]]) if len(cc) else np.zeros(0, dtype=np.int64)
    ends = np.r_[starts[1:], len(cc)].astype(np.int64)
    customers = cc[starts]
    first, last = cd[starts], cd[ends - 1]
    repeat = ends - starts - 1
    total = _group_sums(ca, cc)
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(repeat > 0, (total - ca[starts]) / repeat, 0.0)
    out = pd.DataFrame({
        "frequency_cal": repeat.astype(np.int64),
        "recency_cal": (last - first) / days,
        "T_cal": (cal_day - first) / days,
        "monetary_value_cal": monetary.astype(float),
    })
    # holdout: purchase days and their total per calibration customer
    hc, ha = codes[hold], amount[hold]
    at = np.searchsorted(customers, hc)
    inside = (at < len(customers)) & (customers[np.minimum(at, max(len(customers) - 1, 0))] == hc
                                      if len(customers) else np.zeros(len(hc), dtype=bool))
    hc, ha, at = hc[inside], ha[inside], at[inside]
    n_hold = np.bincount(at, minlength=len(customers)).astype(np.int64)
    spend = np.zeros(len(customers))
    if len(hc):
        seen = np.flatnonzero(n_hold > 0)
        spend[seen] = _group_sums(ha, hc).astype(float)
    out["frequency_holdout"] = n_hold
    out["spend_holdout"] = spend
    with np.errstate(invalid="ignore", divide="ignore"):
        out["monetary_value_holdout"] = np.where(n_hold > 0, spend / n_hold, 0.0)
    out["duration_holdout"] = (hold_end - cal_end).days / days
    out.index = ids.take(customers).astype(str)
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
