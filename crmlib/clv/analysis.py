"""What the lifetime-value report shows around the model: holdout validation, value by group, top customers,
CAC and LTV:CAC by acquisition channel (numbers; :mod:`crmlib.clv.report` puts them into words).

The model itself (fit, predictions, persistence) is :mod:`crmlib.clv.model`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlib.clv.model import UNITS, ClvModel, calibration_holdout, require_columns, resolve_params
from crmlib.errors import DataError

log = logging.getLogger(__name__)

#: frequency groups of the validation chart: 0..7 repeat purchase days, then "7+" (FHL 2005, Figure 4)
MAX_GROUP: int = 7
#: fewest calibration customers for a meaningful holdout check
MIN_CALIBRATION_CUSTOMERS: int = 50


@dataclasses.dataclass
class HoldoutResult:
    """Calibration/holdout comparison (Fader, Hardie & Lee 2005, section 5: predicted vs actual repeat
    purchases in the holdout by calibration-period frequency).

    ``status`` is ``"ok"``, ``"too_short"`` (less order history before the holdout than half the holdout, or
    fewer than ``MIN_CALIBRATION_CUSTOMERS`` customers)
    or ``"failed"`` (the calibration fit failed: ``reason``); the frames are empty unless ``"ok"``.
    """

    status: str
    calibration_end: pd.Timestamp
    holdout_end: pd.Timestamp
    holdout_days: int
    customers: pd.DataFrame
    by_frequency: pd.DataFrame
    totals: dict[str, float]
    model: ClvModel | None = None
    reason: str = ""
    #: the calibration period's lifetimes inputs (frequency, recency, T, monetary_value; model units)
    lt: pd.DataFrame | None = None


#: the frequency groups' labels in the chart's order
GROUPS: tuple[str, ...] = (*(str(i) for i in range(MAX_GROUP)), f"{MAX_GROUP}+")


def frequency_group(frequency: pd.Series | np.ndarray) -> np.ndarray:
    """Labels ``"0"`` .. ``"6"`` and ``"7+"`` for repeat purchase counts."""
    x = np.asarray(frequency, dtype=int)
    return np.where(x >= MAX_GROUP, f"{MAX_GROUP}+", x.astype(str))


def _group_codes(x: np.ndarray) -> np.ndarray | None:
    """Positions in :data:`GROUPS` of the repeat purchase counts ``x`` (``None`` when there are none or one is
    negative)."""
    x = np.asarray(x, dtype=int)
    if not len(x) or x.min() < 0:
        return None
    return np.minimum(x, MAX_GROUP)


def _group_column(x: np.ndarray) -> Any:
    """:func:`frequency_group` of ``x`` as the text column a frame makes of it (``str``), taken from the eight
    labels by position instead of converting a label per customer: the same column."""
    import pyarrow as pa

    codes = _group_codes(x)
    if codes is None:
        return pd.Series(frequency_group(x)).array
    labels = pa.array(GROUPS, type=pa.large_string()).take(pa.array(codes))
    return pd.array(labels, dtype=pd.StringDtype("pyarrow", na_value=np.nan))


def holdout_validation(orders: pd.DataFrame, *, as_of: Any, params: Mapping[str, Any] | None = None) -> HoldoutResult:
    """Fit on the orders up to ``as_of - holdout_days`` and compare with what customers did afterwards.

    Parameters
    ----------
    orders
        One row per order: ``customer_id``, ``order_date``, ``amount``, ``is_purchase``.
    as_of
        End of the holdout (the run's as-of date).
    params
        The ``clv`` section (``holdout_days``, ``time_unit``, penalizers...).

    Returns
    -------
    HoldoutResult
        ``customers``: per customer ``frequency_cal, group, predicted_orders, actual_orders, predicted_spend,
        actual_spend``; ``by_frequency``: per group ``n_customers`` and the mean of those four per customer;
        ``totals``: sums and relative errors ``orders_error``, ``spend_error`` ((predicted - actual) / actual).
        Spend is predicted as expected purchases times the Gamma-Gamma expected value per purchase.
    """
    p = resolve_params(params)
    holdout_days = int(p["holdout_days"])
    hold_end = pd.Timestamp(as_of).normalize()
    cal_end = hold_end - pd.Timedelta(days=holdout_days)
    empty = HoldoutResult("too_short", cal_end, hold_end, holdout_days, pd.DataFrame(), pd.DataFrame(), {})
    require_columns(orders, ["customer_id", "order_date", "amount"], "orders")
    if orders.empty or pd.Timestamp(orders["order_date"].min()) > cal_end - pd.Timedelta(days=holdout_days / 2):
        return empty
    frame = calibration_holdout(orders, calibration_end=cal_end, holdout_end=hold_end, time_unit=p["time_unit"])
    if len(frame) < MIN_CALIBRATION_CUSTOMERS:
        return empty
    lt = frame.rename(columns={"frequency_cal": "frequency", "recency_cal": "recency", "T_cal": "T",
                               "monetary_value_cal": "monetary_value"})
    model = ClvModel(time_unit=p["time_unit"], penalizer=p["penalizer"], retry_penalizers=p["retry_penalizers"],
                     correlation_threshold=p["correlation_threshold"], min_repeat_buyers=p["min_repeat_buyers"])
    try:
        model.fit_lifetimes(lt)
    except DataError as err:
        log.warning("holdout validation skipped: %s", err)
        return dataclasses.replace(empty, status="failed", reason=str(err))
    x = lt["frequency"].to_numpy()
    predicted = model._expected(float(frame["duration_holdout"].iloc[0]), x, lt["recency"].to_numpy(float),
                                lt["T"].to_numpy(float))
    value = model._order_value(x, lt["monetary_value"].to_numpy(float))
    customers = pd.DataFrame({
        "frequency_cal": x,
        "group": _group_column(x),
        "predicted_orders": predicted,
        "actual_orders": frame["frequency_holdout"].to_numpy(float),
        "predicted_spend": predicted * value,
        "actual_spend": frame["spend_holdout"].to_numpy(float),
    }, index=frame.index)
    codes = _group_codes(x)  # grouped by the labels' positions: the same rows per group, in the same order
    grouped = customers.groupby(customers["group"] if codes is None else codes, sort=False)
    by = grouped[["predicted_orders", "actual_orders", "predicted_spend", "actual_spend"]].mean()
    by.insert(0, "n_customers", grouped.size())
    if codes is not None:
        by.index = [GROUPS[i] for i in by.index]
    by = by.reindex([g for g in GROUPS if g in by.index])
    by.index.name = "group"
    sums = customers[["predicted_orders", "actual_orders", "predicted_spend", "actual_spend"]].sum()
    totals = {k: float(v) for k, v in sums.items()}
    totals["orders_error"] = _rel_error(totals["predicted_orders"], totals["actual_orders"])
    totals["spend_error"] = _rel_error(totals["predicted_spend"], totals["actual_spend"])
    totals["n_customers"] = float(len(customers))
    return HoldoutResult("ok", cal_end, hold_end, holdout_days, customers, by.reset_index(), totals, model,
                         lt=lt[["frequency", "recency", "T", "monetary_value"]])


def _rel_error(predicted: float, actual: float) -> float:
    return (predicted - actual) / actual if actual else float("nan")


# -- value by group and the best customers -------------------------------------------------------------------
def same_rows(ids: pd.Series | pd.Index, keys: pd.Series | pd.Index) -> bool:
    """Whether ``ids`` are ``keys`` row for row, strictly increasing (so no key twice), none missing: looking
    ``ids`` up in a table keyed by ``keys`` then gives that table's rows in their order, without hashing a
    million ids (a few milliseconds on Arrow text). False for anything else (the caller then looks up)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(ids) != len(keys):
        return False
    if not all(isinstance(x.dtype, pd.StringDtype) and x.dtype.storage == "pyarrow" for x in (ids, keys)):
        return False
    a, b = pa.array(ids.array), pa.array(keys.array)
    if a.null_count or b.null_count:
        return False
    if a.type != b.type:
        b = b.cast(a.type)
    if not a.equals(b):
        return False
    return len(a) < 2 or bool(pc.all(pc.less(a[:-1], a[1:])).as_py())


def clv_by_group(table: pd.DataFrame, groups: pd.Series, *, order: list[str] | None = None,
                 repeat: np.ndarray | None = None) -> pd.DataFrame:
    """Customers, expected value and activity per group (e.g. RFM segment).

    Parameters
    ----------
    table
        :func:`crmlib.clv.model.clv_table` output: ``customer_id``, ``p_alive``, ``expected_orders``, ``clv``.
    groups
        Group of each customer, indexed by customer_id.
    repeat
        Per row of ``table``, whether the customer bought again (frequency > 0). With it, ``mean_p_alive`` is
        over each group's repeat buyers only (NaN for a group without any): BG/NBD gives every one-time buyer
        P(alive) = 1 (drop-out can only follow a repeat purchase; FHL 2005), which would show a group of
        customers long gone as almost all active.

    Returns
    -------
    DataFrame
        ``group, n_customers, total_clv, clv_share, mean_clv, mean_p_alive, expected_orders`` in ``order``
        (default: by total value, largest first).
    """
    require_columns(table, ["customer_id", "p_alive", "expected_orders", "clv"], "clv table")
    aligned = same_rows(table["customer_id"], groups.index)  # the segments come in the customers' order
    group = groups.array if aligned else table["customer_id"].map(groups)
    p_alive = table["p_alive"] if repeat is None else table["p_alive"].where(np.asarray(repeat, dtype=bool))
    g = table.assign(group=group, p_alive=p_alive).dropna(subset=["group"])
    grouped = g.groupby("group", sort=False)
    out = pd.DataFrame({
        "n_customers": grouped.size(),
        "total_clv": grouped["clv"].sum(),
        "mean_clv": grouped["clv"].mean(),
        "mean_p_alive": grouped["p_alive"].mean(),
        "expected_orders": grouped["expected_orders"].sum(),
    })
    total = float(table["clv"].sum())
    out.insert(2, "clv_share", out["total_clv"] / total if total else np.nan)
    if order is not None:
        out = out.reindex([o for o in order if o in out.index] + [o for o in out.index if o not in order])
    else:
        out = out.sort_values("total_clv", ascending=False)
    out.index.name = "group"
    return out.reset_index()


def top_customers(table: pd.DataFrame, customer_summary: pd.DataFrame, *, n: int = 20,
                  customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ``n`` customers with the highest CLV, with their revenue to date (and name when known).

    Parameters
    ----------
    table
        :func:`crmlib.clv.model.clv_table` output.
    customer_summary
        ``customer_id``, ``revenue``, ``n_orders``, ``recency_days``.
    customers
        Optional customers table (``customer_id``, ``name``).
    """
    require_columns(customer_summary, ["customer_id", "revenue", "n_orders", "recency_days"], "customer_summary")
    # table.nlargest(n, "clv") without its copy of the whole table: the same rows in the same order (largest
    # first, ties in table order), with their index
    at = pd.Series(table["clv"].to_numpy()).nlargest(n).index.to_numpy()
    top = table.take(at)
    # the top customers' rows only (the same rows, in their order, whatever the sizes of the tables): by
    # position when the table's customers are the summary's row for row (no id looked up)
    columns = ["customer_id", "revenue", "n_orders", "recency_days"]
    if same_rows(table["customer_id"], customer_summary["customer_id"]):
        summary = customer_summary.take(np.sort(at))[columns]
    else:
        summary = customer_summary.loc[customer_summary["customer_id"].isin(top["customer_id"]), columns]
    out = top.merge(summary, on="customer_id", how="left")
    if customers is not None and "name" in customers.columns:
        known = customers.loc[customers["customer_id"].isin(top["customer_id"])]
        names = known.drop_duplicates("customer_id").set_index("customer_id")["name"]
        out.insert(1, "name", out["customer_id"].map(names))
    cols = [c for c in ["customer_id", "name", "revenue", "n_orders", "recency_days", "p_alive", "expected_orders",
                        "expected_order_value", "clv"] if c in out.columns]
    return out[cols].reset_index(drop=True)


def value_to_date(customer_summary: pd.DataFrame, *, n: int = 20,
                  customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rule-based view shown when the model's minimum-data rules are not met: the ``n`` customers with the
    highest revenue so far, their orders, average order value and revenue per month since their first purchase
    (months = tenure days / 30.4375, at least one). A record of the past, not a forecast.

    Required columns of ``customer_summary``: ``customer_id``, ``first_order_date``, ``revenue``, ``n_orders``,
    ``avg_order_value``, ``recency_days``, ``tenure_days``.
    """
    require_columns(customer_summary, ["customer_id", "first_order_date", "revenue", "n_orders", "avg_order_value",
                                       "recency_days", "tenure_days"], "customer_summary")
    top = customer_summary.nlargest(n, "revenue")
    months = np.maximum(top["tenure_days"].to_numpy(float) / 30.4375, 1.0)
    out = top[["customer_id", "first_order_date", "revenue", "n_orders", "avg_order_value", "recency_days"]].assign(
        revenue_per_month=top["revenue"].to_numpy(float) / months)
    if customers is not None and "name" in customers.columns:
        names = customers.drop_duplicates("customer_id").set_index("customer_id")["name"]
        out.insert(1, "name", out["customer_id"].map(names))
    return out.reset_index(drop=True)


def clv_share_of_top(table: pd.DataFrame, share: float = 0.1) -> float:
    """Share of total CLV held by the top ``share`` of customers."""
    values = np.sort(table["clv"].to_numpy(float))[::-1]
    total = values.sum()
    k = max(1, int(round(share * len(values))))
    return float(values[:k].sum() / total) if total else float("nan")


# -- acquisition cost ----------------------------------------------------------------------------------------
def cac_ltv(marketing: pd.DataFrame, table: pd.DataFrame, *, customers: pd.DataFrame | None = None,
            min_ratio: float = 3.0, acquisition: pd.DataFrame | None = None) -> pd.DataFrame:
    """CAC and LTV:CAC per acquisition channel.

    CAC = marketing spend / new customers: over ``acquisition``'s window when given (the overview's
    :func:`crmlib.overview.kpis.cac_by_channel`, the last 12 months: the same figure on both pages), else
    over all of the marketing table's months. LTV = mean CLV of the customers
    acquired through the channel when the customers table has a ``channel`` column, else the mean CLV of all
    customers (``ltv_basis`` says which). A ratio under ``min_ratio`` (3:1 rule of thumb) is flagged.

    Parameters
    ----------
    marketing
        ``spend``, ``new_customers`` and optionally ``channel`` and ``month``.
    table
        :func:`crmlib.clv.model.clv_table` output (``customer_id``, ``clv``).
    customers
        Optional; with ``customer_id`` and ``channel`` the LTV is per channel.

    Returns
    -------
    DataFrame
        ``channel, spend, new_customers, cac, ltv, ltv_to_cac, below_target, ltv_basis``, by spend, largest
        first. ``channel`` is missing (NaN) for a marketing table without channels.
    """
    require_columns(marketing, ["spend", "new_customers"], "marketing")
    if acquisition is not None:
        require_columns(acquisition, ["channel", "spend", "new_customers"], "acquisition cost")
        marketing = acquisition.loc[acquisition["channel"] != "total", ["channel", "spend", "new_customers"]]
        if "channel" not in marketing.columns or set(marketing["channel"]) == {"all"}:
            marketing = marketing.drop(columns="channel")
    m = marketing.assign(channel=marketing["channel"] if "channel" in marketing.columns else None)
    m = m.assign(channel=m["channel"].astype(object).where(m["channel"].notna(), None))
    grouped = m.groupby("channel", dropna=False, sort=False)
    out = pd.DataFrame({"spend": grouped["spend"].sum(), "new_customers": grouped["new_customers"].sum()})
    out["cac"] = (out["spend"] / out["new_customers"]).where(out["new_customers"] > 0)
    overall = float(table["clv"].mean()) if len(table) else float("nan")
    out["ltv"] = overall
    out["ltv_basis"] = "overall"
    if customers is not None and {"customer_id", "channel"} <= set(customers.columns):
        chan = customers.drop_duplicates("customer_id").set_index("customer_id")["channel"]
        per = table.assign(channel=table["customer_id"].map(chan)).groupby("channel")["clv"].mean()
        known = out.index.isin(per.index)
        out.loc[known, "ltv"] = per.reindex(out.index[known]).to_numpy()
        out.loc[known, "ltv_basis"] = "channel"
    out["ltv_to_cac"] = out["ltv"] / out["cac"]
    out["below_target"] = out["ltv_to_cac"] < min_ratio
    out.index.name = "channel"
    out = out.reset_index()
    return out.sort_values("spend", ascending=False, kind="stable").reset_index(drop=True)[
        ["channel", "spend", "new_customers", "cac", "ltv", "ltv_to_cac", "below_target", "ltv_basis"]]


# -- the model in plain words -------------------------------------------------------------------------------------
def model_facts(model: ClvModel) -> dict[str, float]:
    """Headline numbers of the fitted model.

    - ``purchases_per_year``: mean purchase rate while active, E[lambda] = r / alpha per time unit
      (FHL 2005, section 3), times the units in a year;
    - ``dropout``: mean drop-out probability after a purchase, E[p] = a / (a + b);
    - ``mean_order_value``: the Gamma-Gamma population mean p v / (q - 1) (Fader & Hardie note 025), NaN
      without a spend model.
    """
    bg = model.params_["bgnbd"]
    gg = model.params_.get("gamma_gamma")
    per_year = 365.25 / UNITS[model.time_unit]
    return {
        "purchases_per_year": bg["r"] / bg["alpha"] * per_year,
        "dropout": bg["a"] / (bg["a"] + bg["b"]),
        "mean_order_value": gg["p"] * gg["v"] / (gg["q"] - 1) if gg else float("nan"),
    }


def palive_matrix(model: ClvModel, customer_summary: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """P(alive) by frequency and recency for a customer of the median age (T) of the repeat buyers.

    Frequencies run to the 95th percentile of the repeat buyers' (at least 5, at most 30); recency in
    weekly steps up to that age. Returns the matrix and the age in days.
    """
    require_columns(customer_summary, ["frequency", "T"], "customer_summary")
    rep = customer_summary.loc[customer_summary["frequency"] > 0]
    base = rep if len(rep) else customer_summary
    age = float(max(7.0, np.median(base["T"])))
    top = int(np.clip(np.percentile(base["frequency"], 95), 5, 30))
    return model.probability_alive_matrix(max_frequency=top, max_recency_days=age, T_days=age), age


#: Upper limits of the P(alive) bands a manager reads ("probably lost" below 25 %, "likely active" from 75 %).
ACTIVITY_BANDS: tuple[float, ...] = (0.25, 0.5, 0.75)


def activity_bands(table: pd.DataFrame, customer_summary: pd.DataFrame, *,
                   limits: tuple[float, ...] = ACTIVITY_BANDS) -> pd.DataFrame:
    """Repeat buyers by the probability that they are still active, in bands, with what they bought so far
    and what they are expected to bring.

    One-time buyers are left out: BG/NBD gives them P(alive) = 1 by construction (FHL 2005, assumption iv).

    Parameters
    ----------
    table
        :func:`crmlib.clv.model.clv_table` output: ``customer_id``, ``p_alive``, ``clv``.
    customer_summary
        ``customer_id``, ``frequency``, ``revenue``.

    Returns
    -------
    DataFrame
        ``band`` (0 = lowest probability), ``low``, ``high``, ``n_customers``, ``customer_share``, ``revenue``,
        ``revenue_share``, ``clv``; one row per band, every band present.
    """
    require_columns(table, ["customer_id", "p_alive", "clv"], "clv table")
    require_columns(customer_summary, ["customer_id", "frequency", "revenue"], "customer_summary")
    used = table[["p_alive", "clv"]]  # only what the bands sum: the repeat buyers' rows of these are taken
    if same_rows(table["customer_id"], customer_summary["customer_id"]):  # the table's rows are the summary's
        merged = used.assign(**{c: customer_summary[c].to_numpy() for c in ("frequency", "revenue")})
    else:
        info = customer_summary.set_index("customer_id")
        pos = info.index.get_indexer(table["customer_id"])  # one lookup for both columns (Series.map's values)
        found = pos >= 0
        merged = used.assign(**{c: info[c].to_numpy()[pos] if found.all() else
                                 np.where(found, info[c].to_numpy(dtype=float)[pos], np.nan)
                                 for c in ("frequency", "revenue")})
    repeat = merged.loc[merged["frequency"] > 0]
    edges = [0.0, *limits, 1.0 + 1e-9]
    band = pd.cut(repeat["p_alive"], edges, right=False, labels=False)
    grouped = repeat.groupby(band)
    out = pd.DataFrame({"band": range(len(edges) - 1), "low": edges[:-1], "high": [*limits, 1.0]})
    out["n_customers"] = out["band"].map(grouped.size()).fillna(0).astype(int)
    out["revenue"] = out["band"].map(grouped["revenue"].sum()).fillna(0.0)
    out["clv"] = out["band"].map(grouped["clv"].sum()).fillna(0.0)
    out["customer_share"] = out["n_customers"] / max(len(repeat), 1)
    total = float(out["revenue"].sum())
    out["revenue_share"] = out["revenue"] / total if total > 0 else 0.0
    return out[["band", "low", "high", "n_customers", "customer_share", "revenue", "revenue_share", "clv"]]
