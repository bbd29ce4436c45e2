"""The faster overview paths give what the earlier code gave (old vs new on random frames with ties)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlib.data.frames import require_columns
from crmlib.overview.changes import what_got_worse
from crmlib.overview.coverage import customers_left_out
from crmlib.overview.kpis import _kpi_table, _purchases, kpis_by_period, window_kpis


def _old_kpis_by_period(orders: pd.DataFrame, period: pd.Series, periods: list | pd.Index) -> pd.DataFrame:
    """The earlier implementation (Python sets of customer ids)."""
    require_columns(orders, ("customer_id", "order_id", "amount"), "orders")
    periods = pd.Index(periods)
    frame = pd.DataFrame(
        {
            "customer_id": orders["customer_id"].to_numpy(),
            "amount": orders["amount"].astype(float).to_numpy(),
            "purchase": _purchases(orders).to_numpy(),
            "period": pd.Series(period).to_numpy(),
        }
    )
    # the period of each customer's first purchase (in time order when dates are known, else list order)
    ordered = frame.assign(order_date=orders["order_date"].to_numpy()) if "order_date" in orders else frame
    if "order_date" in ordered.columns:
        ordered = ordered.sort_values("order_date", kind="stable")
    first_period = ordered[ordered["purchase"]].drop_duplicates("customer_id").set_index("customer_id")["period"]
    frame = frame[frame["period"].isin(periods)]
    buys = frame[frame["purchase"]]

    revenue = frame.groupby("period")["amount"].sum().reindex(periods, fill_value=0.0)
    purchase_revenue = buys.groupby("period")["amount"].sum().reindex(periods, fill_value=0.0)
    n_orders = buys.groupby("period").size().reindex(periods, fill_value=0)
    per_customer = buys.groupby(["period", "customer_id"]).size()
    active = per_customer.groupby(level="period").size().reindex(periods, fill_value=0)
    repeaters = (per_customer >= 2).groupby(level="period").sum().reindex(periods, fill_value=0)
    new = first_period[first_period.isin(periods)].value_counts().reindex(periods, fill_value=0)

    sets = {p: set(ids) for p, ids in buys.groupby("period")["customer_id"]}
    retained = []
    previous_active = []
    for i, p in enumerate(periods):
        if i == 0:
            retained.append(np.nan)
            previous_active.append(np.nan)
            continue
        before = sets.get(periods[i - 1], set())
        retained.append(float(len(before & sets.get(p, set()))))
        previous_active.append(float(len(before)))
    return _kpi_table(periods, active=active, new=new, n_orders=n_orders, revenue=revenue,
                      purchase_revenue=purchase_revenue, repeaters=repeaters,
                      retained=pd.Series(retained, index=periods), previous=pd.Series(previous_active, index=periods))



def _orders(rng: np.random.Generator, n: int, *, missing_ids: bool) -> pd.DataFrame:
    ids = [f"C{i:02d}" for i in rng.integers(0, 15, n)]
    if missing_ids:
        ids = [None if rng.random() < 0.1 else c for c in ids]
    return pd.DataFrame({"customer_id": pd.array(ids, dtype="str"), "order_id": [f"O{i}" for i in range(n)],
                         "order_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 120, n), "D"),
                         "amount": rng.choice([0.0, -5.0, 10.0, 12.5, 99.9], n)})


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("missing_ids", [False, True])
def test_kpis_by_period_matches_the_set_based_code(seed: int, missing_ids: bool) -> None:
    rng = np.random.default_rng(seed)
    orders = _orders(rng, 80, missing_ids=missing_ids)
    if seed % 2:
        orders["is_purchase"] = orders["amount"] > 0
    if seed % 4 == 1:  # missing dates sort last
        orders.loc[rng.random(len(orders)) < 0.15, "order_date"] = pd.NaT
    if seed % 3 == 0:
        orders = orders.drop(columns="order_date")
        period = pd.Series(rng.choice(["a", "b", "c", None], len(orders)), index=orders.index)
        periods = ["a", "b", "c", "d"]
    else:
        period = orders["order_date"].dt.to_period("M")
        periods = pd.period_range("2023-12", "2024-05", freq="M")
    pd.testing.assert_frame_equal(kpis_by_period(orders, period, periods),
                                  _old_kpis_by_period(orders, period, periods))
    empty = orders.head(0)
    pd.testing.assert_frame_equal(kpis_by_period(empty, period.head(0), periods),
                                  _old_kpis_by_period(empty, period.head(0), periods))


def test_what_got_worse_reuses_the_window_kpis() -> None:
    orders = _orders(np.random.default_rng(1), 200, missing_ids=False)
    as_of = pd.Timestamp("2024-04-30")
    kpis = window_kpis(orders, as_of=as_of, days=30)
    pd.testing.assert_frame_equal(what_got_worse(orders, as_of=as_of, days=30, kpis=kpis),
                                  what_got_worse(orders, as_of=as_of, days=30))


@pytest.mark.parametrize("seed", range(4))
def test_customers_left_out_matches_python_sets(seed: int) -> None:
    rng = np.random.default_rng(seed)
    lines = pd.DataFrame({"customer_id": pd.array([rng.choice(["C1", "C2", "C3", "C10", None]) for _ in range(30)],
                                                  dtype="str")})
    summary = pd.DataFrame({"customer_id": pd.array(["C1", "C3"], dtype="str")})
    customers = pd.DataFrame({"customer_id": pd.array(["C1", "C2", "C4", "C5", "C9", None, "C4"], dtype="str")})
    got = customers_left_out(lines, summary, customers=customers, after_as_of=["C9", "C7"])
    in_orders = set(lines["customer_id"].dropna())
    no_purchase = sorted(in_orders - {"C1", "C3"})
    no_orders = sorted({"C1", "C2", "C4", "C5", "C9"} - in_orders - {"C7", "C9"})
    expected = [("no_purchase", len(no_purchase), ", ".join(no_purchase)), ("after_as_of", 2, "C7, C9"),
                ("no_orders", len(no_orders), ", ".join(no_orders))]
    expected = pd.DataFrame(expected, columns=["reason", "customers", "examples"])
    pd.testing.assert_frame_equal(got, expected.loc[expected["customers"] > 0].reset_index(drop=True))


def test_kpis_by_period_with_repeated_periods_matches_or_fails_alike() -> None:
    orders = _orders(np.random.default_rng(2), 60, missing_ids=True)
    period = pd.Series(np.random.default_rng(3).choice(["a", "b", "c"], len(orders)), index=orders.index)
    periods = ["a", "b", "a", "c"]
    try:
        expected = _old_kpis_by_period(orders, period, periods)
    except Exception as exc:  # noqa: BLE001 - the same failure is expected
        with pytest.raises(type(exc)):
            kpis_by_period(orders, period, periods)
    else:
        pd.testing.assert_frame_equal(kpis_by_period(orders, period, periods), expected)
