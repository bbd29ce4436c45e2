"""Regular products a customer stopped buying (crmlib/churn/products.py) on constructed order lines."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlib.churn import products
from crmlib.churn.params import DEFAULTS

AS_OF = pd.Timestamp("2026-06-30")


def _lines(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [c for c, *_ in rows], "product_id": [p for _, p, *_ in rows],
                         "order_date": pd.to_datetime([d for _, _, d, _ in rows]),
                         "amount": [a for *_, a in rows]})


def _summary(lines: pd.DataFrame) -> pd.DataFrame:
    last = lines.groupby("customer_id")["order_date"].max()
    return pd.DataFrame({"customer_id": last.index, "last_order_date": last.to_numpy(),
                         "recency_days": (AS_OF - last).dt.days.to_numpy()})


LINES = _lines([
    # A buys P1 every 10 days until 1 May (60 days ago > 2 x 10), still orders P2 weekly: P1 lapsed
    *[("A", "P1", d, 100.0) for d in ("2026-04-01", "2026-04-11", "2026-04-21", "2026-05-01")],
    *[("A", "P2", d, 50.0) for d in pd.date_range("2026-04-01", "2026-06-28", freq="7D").strftime("%Y-%m-%d")],
    # B buys P1 every 30 days, last 10 June (20 days ago < 2 x 30): not lapsed
    *[("B", "P1", d, 80.0) for d in ("2026-03-12", "2026-04-11", "2026-05-11", "2026-06-10")],
    # C: P1 twice only (one gap, below the three purchase days), then P3 lately: not regular
    ("C", "P1", "2026-01-05", 70.0), ("C", "P1", "2026-01-15", 70.0), ("C", "P3", "2026-06-20", 10.0),
    # D: stopped ordering altogether on 1 May (P1 every 10 days): a churn case, not a product case
    *[("D", "P1", d, 90.0) for d in ("2026-04-01", "2026-04-11", "2026-04-21", "2026-05-01")],
    # a return line does not count as a purchase of the product
    ("A", "P1", "2026-06-20", -100.0),
])


def test_lapsed_products_lists_a_regular_product_of_a_customer_who_still_orders():
    out = products.lapsed_products(LINES, _summary(LINES), as_of=AS_OF, params=DEFAULTS)
    assert out[["customer_id", "product_id"]].values.tolist() == [["A", "P1"]]
    row = out.iloc[0]
    assert (row["usual_gap_days"], row["days_since"], row["n_purchase_days"]) == (10, 60, 4)
    # 400 spent on P1 in the year up to its last purchase, scaled to the 90-day horizon
    assert row["value_at_stake"] == pytest.approx(400.0 * 90 / 365)
    assert list(out.columns[:5]) == list(products.COLUMNS)


def test_bursts_are_not_a_rhythm():
    burst = _lines([*[("E", "P9", d, 10.0) for d in ("2026-05-01", "2026-05-03", "2026-05-05", "2026-05-07")],
                    ("E", "P2", "2026-06-25", 5.0)])
    assert products.lapsed_products(burst, _summary(burst), as_of=AS_OF, params=DEFAULTS).empty
    daily = {**DEFAULTS, "lapsed_product_min_gap_days": 1}
    assert len(products.lapsed_products(burst, _summary(burst), as_of=AS_OF, params=daily)) == 1


def test_lapsed_products_without_products_or_rhythm_is_empty():
    no_product = LINES.drop(columns="product_id")
    assert products.lapsed_products(no_product, _summary(LINES), as_of=AS_OF, params=DEFAULTS).empty
    stricter = {**DEFAULTS, "lapsed_product_ratio": 7.0}  # 60 days < 7 x 10
    assert products.lapsed_products(LINES, _summary(LINES), as_of=AS_OF, params=stricter).empty


def test_with_names_adds_customer_and_product_names():
    out = products.lapsed_products(LINES, _summary(LINES), as_of=AS_OF, params=DEFAULTS)
    named = products.with_names(out, customers=pd.DataFrame({"customer_id": ["A"], "name": ["Ak Ltd"]}),
                                products=pd.DataFrame({"product_id": ["P1"], "name": ["Zımba"]}))
    assert named.loc[0, ["name", "product_name"]].tolist() == ["Ak Ltd", "Zımba"]
