"""The overview KPIs: activity, revenue, order value, frequency, repeat, retention, cohorts, NPS, CSAT, CAC.

Every KPI is computed from the canonical ``orders`` frame (see docs/ARCHITECTURE.md) over a set of
periods: calendar months, or rolling windows of the last ``d`` days against the ``d`` days before. A period
without orders gives zero counts and NaN ratios (never a ZeroDivisionError). The definitions shown in the
report are the catalogue texts ``kpi.def.<name>`` (crmlib/locales/kpis.yaml).

Definitions (Farris et al., *Marketing Metrics*, 2nd ed., 2010, ch. 5 "Customer profitability"; Reichheld,
"The One Number You Need to Grow", HBR 2003, for NPS; ACSI/Hill & Alexander for CSAT "top-two-box"):

- active customers: distinct customers with at least one purchase order (net amount > 0) in the period;
- revenue: net amount of every order in the period (returns reduce it);
- average order value: purchase revenue / purchase orders;
- purchase frequency: purchase orders / active customers;
- repeat purchase rate: share of the period's active customers with at least two purchase orders in it;
- retention rate: customers active in the previous period and again in this one / previous period's active
  customers; churn rate = 1 - retention rate (Farris et al. 2010, §5.2);
- NPS: share of scores 9-10 minus share of scores 0-6, in points (-100..100);
- CSAT: share of scores 4-5 on the 1-5 scale;
- CAC: marketing spend / new customers won, by channel.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from crmlib.data.frames import require_columns
from crmlib.errors import DataError
from crmlib.overview.params import DEFAULTS as KPI_DEFAULTS

logger = logging.getLogger(__name__)

#: KPI keys in display order, with the unit each is formatted in.
KPI_UNITS: dict[str, str] = {
    "active_customers": "int",
    "new_customers": "int",
    "revenue": "money",
    "avg_order_value": "money",
    "purchase_frequency": "number",
    "repeat_purchase_rate": "pct",
    "retention_rate": "pct",
    "churn_rate": "pct",
}

_ORDER_COLUMNS = ("customer_id", "order_id", "order_date", "amount")


def _purchases(orders: pd.DataFrame) -> pd.Series:
    if "is_purchase" in orders.columns:
        return orders["is_purchase"].astype(bool)
    return orders["amount"] > 0


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """``num / den`` with NaN where the denominator is 0 (an empty period)."""
    num = num.astype(float)
    den = den.astype(float)
    return num.div(den.where(den > 0))


def kpis_by_period(orders: pd.DataFrame, period: pd.Series, periods: list | pd.Index) -> pd.DataFrame:
    """Compute the order KPIs for each period.

    Parameters
    ----------
    orders : DataFrame
        One row per order, with

        - ``customer_id``, ``order_id``, ``amount`` (net; returns negative)
        - ``is_purchase`` (optional; default ``amount > 0``)
    period : Series
        The period label of every order (aligned with ``orders``); orders with a missing label are ignored.
    periods : list or Index
        The periods to report, in time order. Periods without orders are kept (counts 0, ratios NaN); the
        retention of a period is measured against the one before it in this list (NaN for the first).

    Returns
    -------
    DataFrame
        Indexed by period: ``active_customers``, ``new_customers`` (first purchase ever in the period, among
        the orders given), ``orders``, ``revenue``, ``purchase_revenue``, ``avg_order_value``,
        ``purchase_frequency``, ``repeat_purchase_rate``, ``retained``, ``retention_rate``, ``churn_rate``.
    """
    require_columns(orders, ("customer_id", "order_id", "amount"), "orders")
    periods = pd.Index(periods)
    # customers as integer codes (a missing id is one code, -1, as it was one key): every count below is on
    # integers, not on millions of texts
    codes = pd.factorize(orders["customer_id"])[0]
    labels = pd.Series(period).to_numpy()
    # periods as their positions when they are distinct (grouping integers, not labels), else as labels
    if periods.is_unique:
        keys: pd.Index = pd.RangeIndex(len(periods))
        key = periods.get_indexer(labels)
    else:
        keys, key = periods, labels
    frame = pd.DataFrame(
        {
            "customer_id": codes,
            "amount": orders["amount"].astype(float).to_numpy(),
            "purchase": _purchases(orders).to_numpy(),
            "period": key,
        }
    )
    # the period of each customer's first purchase (in time order when dates are known, else list order)
    rows = np.flatnonzero(frame["purchase"].to_numpy())
    if "order_date" in orders:  # purchases by date, ties (and missing dates, last) in list order
        rows = rows[pd.Series(orders["order_date"].to_numpy()[rows]).sort_values(kind="stable").index.to_numpy()]
    first_rows = rows[np.unique(codes[rows], return_index=True)[1]]
    first_period = pd.Series(labels[first_rows], index=codes[first_rows])
    frame = frame[frame["period"].isin(keys)]
    buys = frame[frame["purchase"]]

    def by_period(values: pd.Series, fill: float) -> pd.Series:
        return values.reindex(keys, fill_value=fill).set_axis(periods)

    revenue = by_period(frame.groupby("period")["amount"].sum(), 0.0)
    purchase_revenue = by_period(buys.groupby("period")["amount"].sum(), 0.0)
    n_orders = by_period(buys.groupby("period").size(), 0)
    per_customer = buys[buys["customer_id"] >= 0].groupby(["period", "customer_id"]).size()  # known ids only
    active = by_period(per_customer.groupby(level="period").size(), 0)
    repeaters = by_period((per_customer >= 2).groupby(level="period").sum(), 0)
    new = first_period[first_period.isin(periods)].value_counts().reindex(periods, fill_value=0)

    sets = {p: np.unique(ids.to_numpy()) for p, ids in buys.groupby("period")["customer_id"]}
    none = np.empty(0, dtype=codes.dtype)
    retained = []
    previous_active = []
    for i, p in enumerate(keys):
        if i == 0:
            retained.append(np.nan)
            previous_active.append(np.nan)
            continue
        before = sets.get(keys[i - 1], none)
        retained.append(float(len(np.intersect1d(before, sets.get(p, none), assume_unique=True))))
        previous_active.append(float(len(before)))
    return _kpi_table(periods, active=active, new=new, n_orders=n_orders, revenue=revenue,
                      purchase_revenue=purchase_revenue, repeaters=repeaters,
                      retained=pd.Series(retained, index=periods), previous=pd.Series(previous_active, index=periods))


def _kpi_table(periods: pd.Index, *, active: pd.Series, new: pd.Series, n_orders: pd.Series, revenue: pd.Series,
               purchase_revenue: pd.Series, repeaters: pd.Series, retained: pd.Series,
               previous: pd.Series) -> pd.DataFrame:
    """The KPI table of :func:`kpis_by_period` from its counts and sums per period."""
    retained_s = retained
    retention = _ratio(retained, previous)

    out = pd.DataFrame(
        {
            "active_customers": active.astype(int),
            "new_customers": new.astype(int),
            "orders": n_orders.astype(int),
            "revenue": revenue.astype(float),
            "purchase_revenue": purchase_revenue.astype(float),
            "avg_order_value": _ratio(purchase_revenue, n_orders),
            "purchase_frequency": _ratio(n_orders, active),
            "repeat_purchase_rate": _ratio(repeaters, active),
            "retained": retained_s,
            "retention_rate": retention,
            "churn_rate": 1.0 - retention,
        },
        index=periods,
    )
    out.index.name = "period"
    return out


def _month_no(periods: pd.PeriodIndex) -> np.ndarray:
    return np.asarray(periods.year * 12 + periods.month - 1)


def kpis_by_month(customer_months: pd.DataFrame, periods: pd.PeriodIndex) -> pd.DataFrame:
    """:func:`kpis_by_period` by calendar month from the ``customer_months`` view (one row per customer and
    month with an order: ``month_no`` = year × 12 + month − 1, ``n_purchases``, ``revenue``,
    ``purchase_revenue``, ``first_purchase_month``) instead of the orders."""
    cm = customer_months
    numbers = pd.Index(_month_no(periods))
    label = dict(zip(numbers, periods, strict=True))
    inside = cm.loc[cm["month_no"].isin(numbers)]
    by = inside.groupby("month_no")
    revenue = by["revenue"].sum().reindex(numbers, fill_value=0.0)
    purchase_revenue = by["purchase_revenue"].sum().reindex(numbers, fill_value=0.0)
    n_orders = by["n_purchases"].sum().reindex(numbers, fill_value=0)
    buying = inside.loc[inside["n_purchases"] > 0]
    active = buying.groupby("month_no").size().reindex(numbers, fill_value=0)
    repeaters = (buying["n_purchases"] >= 2).groupby(buying["month_no"]).sum().reindex(numbers, fill_value=0)
    firsts = cm.drop_duplicates("customer_id")["first_purchase_month"]
    new = firsts[firsts.isin(numbers)].astype("int64").value_counts().reindex(numbers, fill_value=0)
    pairs = buying[["customer_id", "month_no"]]
    both = pairs.merge(pairs.assign(month_no=pairs["month_no"] + 1), on=["customer_id", "month_no"])
    retained = both.groupby("month_no").size().reindex(numbers, fill_value=0).astype(float)
    previous = active.shift(1).astype(float)
    retained.iloc[0], previous.iloc[0] = np.nan, np.nan
    series = {"active": active, "new": new, "n_orders": n_orders, "revenue": revenue,
              "purchase_revenue": purchase_revenue, "repeaters": repeaters, "retained": retained,
              "previous": previous}
    series = {k: pd.Series(v.to_numpy(), index=pd.Index([label[m] for m in numbers])) for k, v in series.items()}
    return _kpi_table(periods, **series)


def monthly_kpis(orders: pd.DataFrame | None, *, as_of: pd.Timestamp, months: int = KPI_DEFAULTS["months"],
                 customer_months: pd.DataFrame | None = None) -> pd.DataFrame:
    """KPIs by calendar month for the ``months`` months up to and including the month of ``as_of``.

    Required columns of ``orders``: ``customer_id``, ``order_id``, ``order_date``, ``amount``
    (``is_purchase`` optional). Orders after ``as_of`` are ignored. The last month is partial when ``as_of``
    is not its last day: the column ``is_partial`` says so, and ``days`` gives the days it covers. The
    table starts at the month of the first order when the data begin later (no empty months before them).

    Instead of the orders: ``customer_months`` (the ``customer_months`` view at ``as_of``, see
    :func:`kpis_by_month`).

    Returns
    -------
    DataFrame
        One row per month (``month`` = first day of the month), the columns of :func:`kpis_by_period`, plus
        ``days`` and ``is_partial``. Retention of the first month shown is measured against the month before
        it, so no month is NaN merely for being first.
    """
    if customer_months is None:
        require_columns(orders, _ORDER_COLUMNS, "orders")
    if months < 1:
        raise DataError(f"months must be at least 1, got {months}; pass a positive number of months.")
    as_of = pd.Timestamp(as_of).normalize()
    last = as_of.to_period("M")
    periods = pd.period_range(end=last, periods=months + 1, freq="M")
    if customer_months is not None:
        table = kpis_by_month(customer_months, periods).iloc[1:]
        first_month = customer_months["month_no"].min() if len(customer_months) else None
    else:
        kept = orders[orders["order_date"] <= as_of]
        table = kpis_by_period(kept, kept["order_date"].dt.to_period("M"), periods).iloc[1:]
        first_month = _month_no(pd.PeriodIndex([kept["order_date"].min().to_period("M")]))[0] if len(kept) else None
    starts = table.index.to_timestamp()
    ends = pd.Series(table.index.to_timestamp(how="end").normalize(), index=table.index).clip(upper=as_of)
    table = table.reset_index(drop=True)
    table.insert(0, "month", starts)
    table["days"] = (ends.to_numpy() - starts.to_numpy()) // np.timedelta64(1, "D") + 1
    table["is_partial"] = table["days"] < starts.days_in_month.to_numpy()
    if first_month is not None:  # months before the first order are not zero months: the data do not reach them
        start = pd.Period(year=int(first_month) // 12, month=int(first_month) % 12 + 1, freq="M")
        table = table.loc[table["month"] >= start.to_timestamp()]
    return table.reset_index(drop=True)


def window_kpis(
    orders: pd.DataFrame, *, as_of: pd.Timestamp, days: int = KPI_DEFAULTS["windows_days"][0]
) -> pd.DataFrame:
    """KPIs of the last ``days`` days against the ``days`` days before.

    Windows end on ``as_of`` inclusive: current = (as_of - days, as_of], previous = (as_of - 2 days,
    as_of - days]. Retention of the current window is measured against the previous one, retention of
    the previous one against the window before it.

    Required columns of ``orders``: ``customer_id``, ``order_id``, ``order_date``, ``amount``.

    Returns
    -------
    DataFrame
        Indexed by KPI key (:data:`KPI_UNITS` order): ``current``, ``previous``, ``change`` (current -
        previous; for rates this is in percentage points as a fraction) and ``unit``. ``previous`` and
        ``change`` are NaN when the first order is inside the current window (the data do not reach back).
    """
    require_columns(orders, _ORDER_COLUMNS, "orders")
    if days < 1:
        raise DataError(f"window days must be at least 1, got {days}; pass a positive number of days.")
    as_of = pd.Timestamp(as_of).normalize()
    age = (as_of - orders["order_date"].dt.normalize()) // pd.Timedelta(days=1)
    window = pd.Series(np.where(age >= 0, age // days, -1), index=orders.index)
    window = window.where((window >= 0) & (window <= 2))
    labels = window.map({0: "current", 1: "previous", 2: "before"})
    table = kpis_by_period(orders, labels, ["before", "previous", "current"])
    out = table.loc[["current", "previous"], list(KPI_UNITS)].T
    if not len(orders) or orders["order_date"].min() > as_of - pd.Timedelta(days=days):
        out["previous"] = np.nan  # the data begin inside the current window: the previous one is unknown, not 0
    out["change"] = out["current"] - out["previous"]
    out["unit"] = pd.Series(KPI_UNITS)
    out.index.name = "kpi"
    out.columns.name = None
    return out


def repeat_customer_share(customer_summary: pd.DataFrame) -> float:
    """Share of all customers with at least two purchase orders up to as-of (NaN without customers).

    Required columns: ``n_orders``.
    """
    require_columns(customer_summary, ("n_orders",), "customer_summary")
    if customer_summary.empty:
        return float("nan")
    return float((customer_summary["n_orders"] >= 2).mean())


def cohort_retention(
    orders: pd.DataFrame | None, *, as_of: pd.Timestamp, cohorts: int = KPI_DEFAULTS["cohort_months"],
    customer_months: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Cohort retention matrix by first-order month (Fader & Hardie's "cohort chart").

    Cell (c, k) = share of the customers whose first purchase was in month c who purchased again in month
    c + k. Column 0 is 1.0 by definition; cells in months after ``as_of``'s month are NaN (not yet observed).
    Cohorts before the month of the first purchase are left out (the data do not reach them).

    Required columns of ``orders``: ``customer_id``, ``order_date``, ``amount`` (``is_purchase`` optional); or,
    instead of the orders, ``customer_months`` (the ``customer_months`` view at ``as_of``).

    Returns
    -------
    DataFrame
        Indexed by cohort month (``YYYY-MM`` strings, the last ``cohorts`` cohorts), first column ``size``
        (customers in the cohort), then integer columns 0 .. cohorts - 1 (months since the first order).
    """
    as_of = pd.Timestamp(as_of).normalize()
    columns = ["size", *range(cohorts)]
    if customer_months is not None:
        buys = customer_months.loc[customer_months["n_purchases"] > 0]
        month_no = buys["month_no"]
    else:
        require_columns(orders, ("customer_id", "order_date", "amount"), "orders")
        buys = orders[_purchases(orders) & (orders["order_date"] <= as_of)]
        month_no = buys["order_date"].dt.year * 12 + buys["order_date"].dt.month - 1
    if buys.empty:
        return pd.DataFrame(columns=columns, dtype=float).rename_axis("cohort")
    frame = pd.DataFrame({"customer_id": buys["customer_id"].to_numpy(), "m": month_no.to_numpy()})
    first = frame.groupby("customer_id")["m"].transform("min")
    frame["cohort"] = first
    frame["k"] = frame["m"] - first
    last_month = as_of.year * 12 + as_of.month - 1
    wanted = range(last_month - cohorts + 1, last_month + 1)
    frame = frame[frame["cohort"].isin(wanted) & (frame["k"] < cohorts)]
    active = frame.drop_duplicates(["customer_id", "m"]).groupby(["cohort", "k"]).size().unstack("k")
    active = active.reindex(index=list(wanted), columns=range(cohorts))
    sizes = frame.drop_duplicates("customer_id").groupby("cohort").size().reindex(list(wanted), fill_value=0)
    shares = active.fillna(0).div(sizes.where(sizes > 0), axis=0)
    observed = np.add.outer(np.asarray(list(wanted)), np.arange(cohorts)) <= last_month
    shares = shares.where(observed)
    shares.insert(0, "size", sizes.astype(float))
    shares.index = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in wanted]
    shares.index.name = "cohort"
    shares.columns.name = None
    first = int(month_no.min())  # cohorts before the first purchase month are outside the data, not empty
    return shares.loc[[m >= first for m in wanted]]


def nps(scores: pd.Series) -> float:
    """Net Promoter Score in points: 100 x (share of 9-10 - share of 0-6) among answered scores.

    Reichheld (2003). Missing scores are ignored; NaN when nobody answered.
    """
    valid = pd.to_numeric(scores, errors="coerce").dropna()
    if valid.empty:
        return float("nan")
    return float(100.0 * ((valid >= 9).mean() - (valid <= 6).mean()))


def csat(scores: pd.Series) -> float:
    """Customer satisfaction: share of scores 4-5 on a 1-5 scale ("top-two-box"); NaN when nobody answered."""
    valid = pd.to_numeric(scores, errors="coerce").dropna()
    if valid.empty:
        return float("nan")
    return float((valid >= 4).mean())


def _check_scores(surveys: pd.DataFrame) -> None:
    for column, low, high in (("nps", 0, 10), ("csat", 1, 5)):
        if column not in surveys.columns:
            continue
        values = pd.to_numeric(surveys[column], errors="coerce")
        bad = surveys.loc[values.notna() & ((values < low) | (values > high)), column]
        if not bad.empty:
            examples = ", ".join(map(str, bad.head(5).tolist()))
            raise DataError(
                f"surveys.{column} must be between {low} and {high}; {len(bad)} row(s) are not "
                f"(e.g. {examples}); fix or remove them in the surveys file."
            )


def survey_scores(
    surveys: pd.DataFrame, *, as_of: pd.Timestamp, days: int = KPI_DEFAULTS["survey_days"]
) -> pd.DataFrame:
    """NPS and CSAT of the last ``days`` days against the ``days`` days before.

    Required columns of ``surveys``: ``date``, and ``nps`` (0-10) and/or ``csat`` (1-5).

    Returns
    -------
    DataFrame
        Index ``current``, ``previous``; columns ``nps``, ``nps_responses``, ``csat``, ``csat_responses``
        (NaN scores and 0 responses for a score column that is absent).
    """
    require_columns(surveys, ("date",), "surveys")
    _check_scores(surveys)
    as_of = pd.Timestamp(as_of).normalize()
    age = (as_of - surveys["date"].dt.normalize()) // pd.Timedelta(days=1)
    rows = {}
    for label, k in (("current", 0), ("previous", 1)):
        part = surveys[(age >= k * days) & (age < (k + 1) * days)]
        rows[label] = _score_row(part)
    return pd.DataFrame.from_dict(rows, orient="index")


def _score_row(part: pd.DataFrame) -> dict[str, float]:
    row: dict[str, float] = {}
    for column, fn in (("nps", nps), ("csat", csat)):
        values = part[column] if column in part.columns else pd.Series(dtype=float)
        row[column] = fn(values)
        row[f"{column}_responses"] = int(pd.to_numeric(values, errors="coerce").notna().sum())
    return row


def survey_trend(surveys: pd.DataFrame, *, as_of: pd.Timestamp, months: int = KPI_DEFAULTS["months"]) -> pd.DataFrame:
    """Monthly NPS and CSAT for the ``months`` months up to ``as_of``'s month (empty months NaN), from the
    month of the first survey on.

    Required columns of ``surveys``: ``date``, and ``nps`` and/or ``csat``.

    Returns
    -------
    DataFrame
        ``month`` (first day), ``nps``, ``nps_responses``, ``csat``, ``csat_responses``.
    """
    require_columns(surveys, ("date",), "surveys")
    _check_scores(surveys)
    as_of = pd.Timestamp(as_of).normalize()
    periods = pd.period_range(end=as_of.to_period("M"), periods=months, freq="M")
    kept = surveys[surveys["date"] <= as_of]
    month = kept["date"].dt.to_period("M")
    rows = [_score_row(kept[month == p]) for p in periods]
    out = pd.DataFrame(rows)
    out.insert(0, "month", periods.to_timestamp())
    if len(kept):  # start at the month of the first survey (earlier months are outside the data)
        out = out.loc[out["month"] >= month.min().to_timestamp()].reset_index(drop=True)
    return out


def cac_by_channel(
    marketing: pd.DataFrame, *, as_of: pd.Timestamp, months: int = KPI_DEFAULTS["cac_months"]
) -> pd.DataFrame:
    """Customer acquisition cost by channel: spend / new customers over the last ``months`` months.

    Farris et al. (2010), §7.1. A channel that won nobody has CAC NaN (not infinite).

    Required columns of ``marketing``: ``month`` (any date in the month), ``spend``, ``new_customers``;
    ``channel`` optional (one row "all" without it).

    Returns
    -------
    DataFrame
        ``channel``, ``spend``, ``new_customers``, ``cac``, sorted by spend (largest first), and a last row
        ``channel = "total"`` (total spend / total new customers, not the mean of the channels' CACs).
    """
    require_columns(marketing, ("month", "spend", "new_customers"), "marketing")
    as_of = pd.Timestamp(as_of).normalize()
    first = (as_of.to_period("M") - (months - 1)).to_timestamp()
    month = pd.to_datetime(marketing["month"]).dt.to_period("M").dt.to_timestamp()
    kept = marketing[(month >= first) & (month <= as_of)]
    channel = kept["channel"].astype("str").fillna("?") if "channel" in kept.columns else "all"
    frame = pd.DataFrame(
        {
            "channel": channel,
            "spend": pd.to_numeric(kept["spend"], errors="coerce").fillna(0.0),
            "new_customers": pd.to_numeric(kept["new_customers"], errors="coerce").fillna(0.0),
        },
        index=kept.index,
    )
    out = frame.groupby("channel", as_index=False)[["spend", "new_customers"]].sum()
    out = out.sort_values(["spend", "channel"], ascending=[False, True], ignore_index=True)
    total = pd.DataFrame(
        {"channel": ["total"], "spend": [out["spend"].sum()], "new_customers": [out["new_customers"].sum()]}
    )
    out = pd.concat([out, total], ignore_index=True)
    out["cac"] = _ratio(out["spend"], out["new_customers"])
    return out


def cohort_average(matrix: pd.DataFrame, month: int) -> float:
    """Size-weighted mean retention ``month`` months after the first order over the observed cohorts.

    ``matrix`` from :func:`cohort_retention`; NaN when no cohort has been observed that long.
    """
    if month not in matrix.columns:
        return float("nan")
    observed = matrix[month].notna() & (matrix["size"] > 0)
    if not observed.any():
        return float("nan")
    weights = matrix.loc[observed, "size"]
    return float((matrix.loc[observed, month] * weights).sum() / weights.sum())
