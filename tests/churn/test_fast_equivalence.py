"""The vectorised churn computations give exactly what the row-by-row ones give (small random frames with ties)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlib.churn import report
from crmlib.churn.params import resolve
from crmlib.churn.signals import SIGNALS
from crmlib.errors import ParamsError


def _values(rng: np.random.Generator, n: int) -> pd.DataFrame:
    def pick(choices: list[float]) -> np.ndarray:
        return rng.choice(np.array(choices, dtype=float), n)

    return pd.DataFrame({
        "usual_gap_days": pick([np.nan, 0.5, 1.0, 1.5, 2.5, 3.0, 7.5, 1234.5, 2.4999999]),
        "days_since_last_order": pick([0, 1, 21, 60.0, 999, 1000, 12345]),
        "orders_recent": pick([np.nan, 0, 1, 2, 13]),
        "orders_previous": pick([np.nan, 0, 3, 13, 1500]),
        "aov_change": pick([np.nan, -0.005, -0.125, -0.135, -0.345, -0.5, -1.0, 0.2, -0.285]),
        "invoices_late": pick([np.nan, 0, 1, 3]),
        "invoices_recent": pick([np.nan, 1, 3, 5]),
        "days_late_mean": pick([np.nan, 0.5, 1.5, 12.25, 2.5]),
        "contacts_unanswered": pick([np.nan, 0, 2, 3]),
        "tickets_recent": pick([np.nan, 0, 1, 2]),
        "tickets_open": pick([np.nan, 0, 1]),
        "expected_orders": pick([np.nan, 0.0, 0.049, 0.05, 0.25, 0.35, 0.45, 1.05, 2.25, 1234.56, 0.15]),
    }) + rng.choice([0.0, 1e-12], (n, 12))


@pytest.mark.parametrize("lang", ["tr", "en"])
def test_reason_sentences_many_equals_one_by_one(lang: str) -> None:
    rng = np.random.default_rng(7)
    n = 3000
    values = _values(rng, n)
    signals = list(SIGNALS)
    codes = [";".join(rng.choice(signals, rng.integers(0, 4), replace=False)) for _ in range(n)]
    codes[:3] = ["", "overdue;no_order", "no_order;overdue"]
    p = resolve(None)
    fast = report.reason_sentences_many(codes, values, lang, params=p)
    slow = [report.reason_sentences(c, row, lang, params=p) for c, row in zip(codes, values.to_dict("records"),
                                                                                 strict=True)]
    assert fast == slow
    assert any("1.234" in t or "1,234" in t for t in fast)  # thousands separators were exercised
    # a column missing from the values reads as missing, as it does row by row
    less = values.drop(columns=["expected_orders", "tickets_open"])
    fast = report.reason_sentences_many(codes, less, lang, params=p)
    slow = [report.reason_sentences(c, row, lang, params=p) for c, row in zip(codes, less.to_dict("records"),
                                                                                 strict=True)]
    assert fast == slow


def test_reason_sentences_many_refuses_an_unknown_code() -> None:
    values = _values(np.random.default_rng(1), 2)
    with pytest.raises(ParamsError, match="late"):
        report.reason_sentences_many(["overdue", "late"], values, "en", params=resolve(None))


def _pandas_purchases(orders: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The former :func:`crmlib.churn.signals.purchases`: pandas' mergesort on the three keys."""
    keep = (orders["order_date"] <= as_of) & orders["is_purchase"].astype(bool)
    out = orders.loc[keep, ["customer_id", "order_date", "amount", "order_id"]].copy()
    out["order_date"] = pd.to_datetime(out["order_date"]).dt.normalize()
    return out.sort_values(["customer_id", "order_date", "order_id"], kind="mergesort").reset_index(drop=True)


@pytest.mark.parametrize("dtype", ["str", object])
def test_purchases_sorted_by_arrow_equal_pandas_mergesort(dtype) -> None:
    from crmlib.churn.signals import purchases

    rng = np.random.default_rng(3)
    n = 5000
    ids = np.array(["C1", "C10", "C2", "ç3", "Z", "a", "C1 ", "İ"], dtype=object)
    orders = pd.DataFrame({
        "customer_id": pd.Series(rng.choice(ids, n), dtype=dtype),
        "order_date": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 40, n) * 6, unit="h"),
        "amount": rng.normal(size=n).round(1),  # equal rows: the sort must be stable
        "order_id": pd.Series(rng.choice(np.array(["F1", "F2", "F10", None], dtype=object), n), dtype=dtype),
        "is_purchase": rng.random(n) < 0.9,
    })
    as_of = pd.Timestamp("2025-01-08")
    pd.testing.assert_frame_equal(purchases(orders, as_of), _pandas_purchases(orders, as_of))


def test_signals_do_not_depend_on_the_order_of_the_customers() -> None:
    """compute_signals groups the purchases by each customer's position in the summary: shuffling the summary
    (and a buyer left out of it) must give the same rows."""
    from crmlib.churn import scoring

    rng = np.random.default_rng(11)
    n = 4000
    ids = np.array([f"C{i:03d}" for i in range(300)] + ["ğ1", "Z9"], dtype=object)
    orders = pd.DataFrame({
        "customer_id": pd.Series(rng.choice(ids, n), dtype="str"),
        "order_id": pd.Series([f"F{i}" for i in rng.permutation(n)], dtype="str"),
        "order_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
        "amount": rng.choice([10.0, 25.0, 40.0, -5.0], n),
    })
    as_of = pd.Timestamp("2025-10-01")
    buyers = np.sort(orders["customer_id"].unique())
    summary = pd.DataFrame({"customer_id": buyers[1:]})  # the first buyer is not scored
    m = 1500
    due = pd.Timestamp("2025-03-01") + pd.to_timedelta(rng.integers(0, 200, m), unit="D")
    tables = {
        "payments": pd.DataFrame({"customer_id": rng.choice(ids, m), "due_date": due,
                                  "paid_date": due + pd.to_timedelta(rng.integers(-5, 60, m), unit="D")}),
        "tickets": pd.DataFrame({"customer_id": rng.choice(ids, 300),
                                 "opened_at": pd.Timestamp("2025-06-01") + pd.to_timedelta(
                                     rng.integers(0, 120, 300), unit="D"),
                                 "resolved_at": pd.NaT}),
        "contacts": pd.DataFrame({"customer_id": rng.choice(ids, 600),
                                  "date": pd.Timestamp("2025-08-01") + pd.to_timedelta(
                                      rng.integers(0, 60, 600), unit="D"),
                                  "responded": rng.random(600) < 0.3}),
    }
    p = resolve(None)
    sorted_ = scoring.compute_signals(summary, orders, as_of=as_of, params=p, tables=tables)
    shuffled = scoring.compute_signals(summary.sample(frac=1, random_state=3), orders, as_of=as_of, params=p,
                                       tables=tables)
    assert not sorted_.attrs["unavailable"] or sorted_.attrs["unavailable"] == ["low_expected_orders"]
    # pooled statistics sum over the customers in their order: the last bits may differ, nothing else
    pd.testing.assert_frame_equal(shuffled.set_index("customer_id").loc[sorted_["customer_id"]].reset_index(),
                                  sorted_, check_exact=False, rtol=1e-12)
    for code in ("overdue", "frequency_drop", "late_payments", "complaints", "unanswered_outreach"):
        assert sorted_[f"{code}_fires"].any(), code


def test_sorted_rows_equal_pandas_mergesort_with_ties_and_missing_values() -> None:
    from crmlib.churn.signals import sorted_rows

    rng = np.random.default_rng(9)
    n = 3000
    frame = pd.DataFrame({
        "score": rng.choice([0.1, 0.5, 0.9, np.nan, -0.0, 0.0], n),
        "value": rng.choice([0.0, 3.5, 7.25, np.nan], n),
        "customer_id": pd.Series(rng.choice(np.array(["b", "a", "ç", "B", None], dtype=object), n), dtype="str"),
        "row": np.arange(n),
    }, index=rng.permutation(n))
    for ascending in ([False, False, True], [True, False, True], [True, True, False]):
        keys = ["score", "value", "customer_id"]
        expected = frame.sort_values(keys, ascending=ascending, kind="mergesort").reset_index(drop=True)
        pd.testing.assert_frame_equal(sorted_rows(frame, keys, ascending), expected)
