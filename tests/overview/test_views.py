"""The monthly KPI table and the cohort chart from the ``customer_months`` view equal the orders' figures."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt
import pytest

from crmlib.data import views
from crmlib.overview import kpis


@pytest.mark.parametrize("months_back, months, cohorts", [(0, 12, 12), (200, 24, 6), (700, 36, 18), (0, 60, 40)])
def test_monthly_kpis_and_cohorts_from_the_view(sample_ctx, months_back, months, cohorts):
    as_of = sample_ctx.as_of - pd.Timedelta(days=months_back)
    view = views.viewer({"orders": sample_ctx.orders}, as_of=sample_ctx.as_of)
    cm = view("customer_months", as_of=as_of)
    old = kpis.monthly_kpis(sample_ctx.orders, as_of=as_of, months=months)
    new = kpis.monthly_kpis(None, as_of=as_of, months=months, customer_months=cm)
    pdt.assert_frame_equal(old, new, check_exact=False, rtol=1e-12)
    assert old["retained"].notna().all() and old["new_customers"].sum() > 0
    old = kpis.cohort_retention(sample_ctx.orders, as_of=as_of, cohorts=cohorts)
    new = kpis.cohort_retention(None, as_of=as_of, cohorts=cohorts, customer_months=cm)
    pdt.assert_frame_equal(old, new, check_exact=False, rtol=1e-12)


def test_returns_only_customers_and_empty_months():
    orders = pd.DataFrame({
        "customer_id": ["a", "a", "b", "c", "a"], "order_id": ["1", "2", "3", "4", "5"],
        "order_date": pd.to_datetime(["2025-01-15", "2025-01-20", "2025-02-02", "2025-04-30", "2025-04-01"]
                                     ).astype("datetime64[ns]"),
        "amount": [10.0, 5.0, -4.0, 8.0, 3.0]})
    orders["is_purchase"] = orders["amount"] > 0
    view = views.viewer({"orders": orders}, as_of="2025-04-30")
    cm = view("customer_months")
    old = kpis.monthly_kpis(orders, as_of=pd.Timestamp("2025-04-30"), months=6)
    new = kpis.monthly_kpis(None, as_of=pd.Timestamp("2025-04-30"), months=6, customer_months=cm)
    pdt.assert_frame_equal(old, new)
    assert list(new["revenue"]) == [15.0, -4.0, 0.0, 11.0]
    pdt.assert_frame_equal(kpis.cohort_retention(orders, as_of=pd.Timestamp("2025-04-30"), cohorts=4),
                           kpis.cohort_retention(None, as_of=pd.Timestamp("2025-04-30"), cohorts=4,
                                                 customer_months=cm))
