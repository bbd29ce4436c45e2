"""Cross-sell: rules, suggestions, premium alternatives, bundles, pre-season picks and their validation.

Small literal frames whose expected values are worked out by hand in the comments; one test on the
generated sample checks that the suggestions beat the popularity baseline.
"""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from crmlib import cross_sell as xs
from crmlib.cross_sell import report as xr
from crmlib.errors import DataError, ParamsError
from crmlib.report.i18n import t

matplotlib.use("Agg")

OLD = "2025-01-10"


def lines_from(rows: list[tuple[str, str, str, str, float]]) -> pd.DataFrame:
    """Order lines from (customer_id, order_id, order_date, product_id, amount) tuples."""
    frame = pd.DataFrame(rows, columns=["customer_id", "order_id", "order_date", "product_id", "amount"])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["quantity"] = 1.0
    return frame


@pytest.fixture
def basket_lines() -> pd.DataFrame:
    """Six orders: {A,B,C} {A,B} {A,C} {B,C} {A,B,D} {D}; O6 also returns C (a negative line: no purchase)."""
    orders = {"O1": "ABC", "O2": "AB", "O3": "AC", "O4": "BC", "O5": "ABD", "O6": "D"}
    rows = [(f"c{o}", o, OLD, item, 10.0) for o, items in orders.items() for item in items]
    rows.append(("cO6", "O6", OLD, "C", -10.0))
    return lines_from(rows)


# --------------------------------------------------------------------------------------------- baskets


def test_baskets_one_hot_without_returns(basket_lines: pd.DataFrame) -> None:
    frame = xs.baskets(basket_lines)
    assert list(frame.index) == ["O1", "O2", "O3", "O4", "O5", "O6"]
    assert list(frame.columns) == ["A", "B", "C", "D"]
    assert isinstance(frame.dtypes.iloc[0], pd.SparseDtype)
    dense = frame.sparse.to_dense()
    assert dense.loc["O6"].tolist() == [False, False, False, True]  # the returned C is not in the basket
    assert dense.sum().tolist() == [4, 4, 3, 2]


# ---------------------------------------------------------------------------------------------- rules


def test_rules_match_hand_computed(basket_lines: pd.DataFrame) -> None:
    # N = 6 orders. support A = B = 4/6, C = 3/6, AB = 3/6, AC = BC = 2/6.
    # A→B: conf 0.5 / (4/6) = 0.75, lift 0.75 / (4/6) = 1.125; C→A: conf (2/6) / (3/6) = 2/3, lift 1.0;
    # A→C and B→C: conf 0.5 < 0.6, dropped.
    params = {"min_support": 0.3, "min_confidence": 0.6, "min_lift": 0.0}
    rules = xs.association_rules(basket_lines, params=params)
    expected = pd.DataFrame(
        {
            "antecedents": ["A", "B", "C", "C"],
            "consequents": ["B", "A", "A", "B"],
            "support": [0.5, 0.5, 2 / 6, 2 / 6],
            "confidence": [0.75, 0.75, 2 / 3, 2 / 3],
            "lift": [1.125, 1.125, 1.0, 1.0],
            "n_orders": [3, 3, 2, 2],
            "antecedent_orders": [4, 4, 3, 3],
            "antecedent_support": [4 / 6, 4 / 6, 3 / 6, 3 / 6],
            "consequent_support": [4 / 6, 4 / 6, 4 / 6, 4 / 6],
        }
    )
    pdt.assert_frame_equal(rules[expected.columns], expected, check_dtype=False, rtol=1e-12)


def test_rules_lift_threshold_and_triples(basket_lines: pd.DataFrame) -> None:
    # min_lift 1.1 keeps only A↔B (lift 1.125).
    rules = xs.association_rules(
        basket_lines, params={"min_support": 0.3, "min_confidence": 0.5, "min_lift": 1.1}
    )
    assert list(zip(rules["antecedents"], rules["consequents"], strict=True)) == [("A", "B"), ("B", "A")]
    # support 1/6: {A,B}→C has conf (1/6)/(3/6) = 1/3 and lift (1/3)/(3/6) = 2/3; the readable "A, B".
    low = {"min_support": 0.15, "min_confidence": 0.3, "min_lift": 0.0}
    rules = xs.association_rules(basket_lines, params=low)
    row = rules[(rules["antecedents"] == "A, B") & (rules["consequents"] == "C")].iloc[0]
    assert row["confidence"] == pytest.approx(1 / 3) and row["lift"] == pytest.approx(2 / 3)
    assert row["n_orders"] == 1
    capped = xs.association_rules(basket_lines, params={**low, "max_len": 2})
    assert not capped["antecedents"].str.contains(",").any()


def test_rules_names_and_strongest(basket_lines: pd.DataFrame) -> None:
    products = pd.DataFrame({"product_id": ["A", "B"], "name": ["Çay", "Şeker"]})
    rules = xs.association_rules(
        basket_lines, params={"min_support": 0.3, "min_confidence": 0.6, "min_lift": 0.0}, products=products
    )
    assert rules.loc[0, "antecedent_names"] == "Çay" and rules.loc[2, "antecedent_names"] == "C"
    top = xr.strongest_rules(rules, n=10)
    # one direction per item set: {A,B} once, {A,C} and {B,C} once each
    assert len(top) == 3 and top.loc[0, "lift"] == pytest.approx(1.125)
    assert (
        xr.rule_text(top.head(1), lang="en").iloc[0].startswith("orders with Çay also contain Şeker in 75%")
    )


def test_rules_empty_when_nothing_frequent(basket_lines: pd.DataFrame) -> None:
    rules = xs.association_rules(basket_lines, params={"min_support": 0.9})
    assert rules.empty and list(rules.columns) == xs.RULE_COLUMNS


# -------------------------------------------------------------------------------------------- bundles


def test_bundles_share_matches_hand_computed(basket_lines: pd.DataFrame) -> None:
    # {A,B}: 3 of 6 orders, lift 0.5 / (4/6 · 4/6) = 1.125; {A,C}, {B,C} have lift 1.0 < 1.1 and drop out.
    products = pd.DataFrame({"product_id": ["A", "B", "C", "D"], "price": [10.0, 20.0, 5.0, None]})
    out = xs.bundles(
        basket_lines,
        params={"min_support": 0.3, "min_lift": 1.1, "bundle_discount_pct": 10.0},
        products=products,
    )
    assert out["items"].tolist() == ["A, B"]
    row = out.iloc[0]
    assert row["share_of_orders"] == pytest.approx(0.5) and row["n_orders"] == 3
    assert row["lift"] == pytest.approx(1.125)
    assert row["list_price"] == pytest.approx(30.0) and row["bundle_price"] == pytest.approx(27.0)


def test_bundles_prefer_the_larger_set() -> None:
    # 10 orders: 4× {A,B,C}, 1× {A,B}, 3× {D}, 2× {E}. Supports A = B = 0.5, C = 0.4, AB = 0.5, AC = BC = ABC
    # = 0.4. Tolerance 0.2: ABC (0.4) ≥ 0.8 × AB (0.5) absorbs AB, AC and BC;
    # lift ABC = 0.4 / (0.5·0.5·0.4) = 4.
    # Tolerance 0 (closed sets): only AC and BC (same support as ABC) go; AB stays, lift 0.5 / 0.25 = 2.
    orders = ["ABC"] * 4 + ["AB"] + ["D"] * 3 + ["E"] * 2
    lines = lines_from(
        [(f"c{i}", f"O{i}", OLD, item, 1.0) for i, items in enumerate(orders) for item in items]
    )
    params = {"min_support": 0.3, "min_lift": 1.1}
    out = xs.bundles(lines, params=params)
    assert out["items"].tolist() == ["A, B, C"] and out["lift"].iloc[0] == pytest.approx(4.0)
    out = xs.bundles(lines, params={**params, "bundle_closed_tolerance": 0.0})
    assert out["items"].tolist() == ["A, B", "A, B, C"]
    assert out["share_of_orders"].tolist() == pytest.approx([0.5, 0.4]) and out["lift"].iloc[
        0
    ] == pytest.approx(2.0)


# ---------------------------------------------------------------------------- next-best products


@pytest.fixture
def held_lines() -> pd.DataFrame:
    """u1 {A,B,C}, u2 {A,B}, u3 {A,C}, u4 {B,D}: one old order each. u5 bought A in two old orders and D
    once, recently (2026-06-01)."""
    rows = [("u1", "1", OLD, p, 5.0) for p in "ABC"] + [("u2", "2", OLD, p, 5.0) for p in "AB"]
    rows += [("u3", "3", OLD, p, 5.0) for p in "AC"] + [("u4", "4", OLD, p, 5.0) for p in "BD"]
    rows += [
        ("u5", "5a", OLD, "A", 5.0),
        ("u5", "5b", "2025-02-10", "A", 5.0),
        ("u5", "5c", "2026-06-01", "D", 5.0),
    ]
    return lines_from(rows)


SMALL = {"min_pair_customers": 1, "candidate_recent_days": 3650, "min_orders": 0, "min_customers": 0}


def test_recommend_matches_hand_computed_cosine(held_lines: pd.DataFrame) -> None:
    # buyers A 4, B 3, C 2, D 2; both A&B 2, A&C 2, B&D 1, C&D 0.  u5 holds A (2 orders: regular) and D
    # (bought 29 days ago: regular), so only B and C are candidates:
    # score B = cos(A,B) + cos(D,B) = 2/√12 + 1/√6; score C = cos(A,C) + cos(D,C) = 2/√8 + 0.
    recs = xs.recommend(held_lines, customers=["u5"], params=SMALL, as_of="2026-06-30")
    assert recs["product_id"].tolist() == ["B", "C"]
    assert recs["rank"].tolist() == [1, 2]
    np.testing.assert_allclose(recs["score"], [2 / math.sqrt(12) + 1 / math.sqrt(6), 2 / math.sqrt(8)])
    # reason: A contributes most to both; 2 of A's 4 buyers also bought B (and C)
    assert recs["reason_product_id"].tolist() == ["A", "A"]
    np.testing.assert_allclose(recs["reason_share"], [0.5, 0.5])
    assert recs["reason_buyers"].tolist() == [4, 4]
    assert recs["reason_code"].tolist() == ["co_bought", "co_bought"]


def test_recommend_excludes_regular_items(held_lines: pd.DataFrame) -> None:
    recs = xs.recommend(held_lines, params=SMALL, as_of="2026-06-30")
    u5 = recs[recs["customer_id"] == "u5"]
    assert not u5["product_id"].isin(["A", "D"]).any()
    # with a 10-day recency rule D (29 days ago, one order) is no longer regular and comes back,
    # scored cos(A,D) = 1/√8; A (two orders) stays excluded.
    recs = xs.recommend(
        held_lines, customers=["u5"], params={**SMALL, "regular_recent_days": 10}, as_of="2026-06-30"
    )
    assert recs["product_id"].tolist() == ["B", "C", "D"]
    assert recs["score"].iloc[2] == pytest.approx(1 / math.sqrt(8))
    # raising the order count makes A (two orders) a candidate too
    recs = xs.recommend(
        held_lines,
        customers=["u5"],
        params={**SMALL, "regular_recent_days": 10, "regular_min_orders": 3},
        as_of="2026-06-30",
    )
    assert set(recs["product_id"]) == {"A", "B", "C", "D"}


def test_recommend_fills_with_popular_and_texts(held_lines: pd.DataFrame) -> None:
    # u4 holds B and D (one old order each: not regular). With pairs needing 2 customers, only A&B and A&C
    # count: A gets cos(B,A) = 2/√12 from B; B, C, D score 0 and follow by popularity (B 3 > C = D 2,
    # then id).
    recs = xs.recommend(
        held_lines, customers=["u4"], params={**SMALL, "min_pair_customers": 2}, as_of="2026-06-30"
    )
    assert recs["product_id"].tolist() == ["A", "B", "C", "D"]
    assert recs["reason_code"].tolist() == ["co_bought", "popular", "popular", "popular"]
    assert recs["reason_share"].iloc[1] == pytest.approx(3 / 5)
    products = pd.DataFrame({"product_id": ["A", "B"], "name": ["Çay", "Şeker"]})
    en = xs.reason_text(recs, lang="en", products=products)
    assert en.iloc[0] == "bought with Şeker by 67% of its buyers"
    assert en.iloc[1] == "bought by 60% of all customers"
    assert (
        xs.reason_text(recs, lang="tr", products=products).iloc[0]
        == "Şeker alanların %67'si bunu da aldı"
    )


def test_recommend_popularity_method(held_lines: pd.DataFrame) -> None:
    recs = xs.recommend(held_lines, customers=["u5"], params=SMALL, as_of="2026-06-30", method="popularity")
    assert recs["product_id"].tolist() == ["B", "C"]  # B bought by 3 customers, C by 2; A, D regular
    assert (recs["score"] == 0).all()


# ---------------------------------------------------------------------------------------------- premium


def test_premium_rule() -> None:
    products = pd.DataFrame(
        {
            "product_id": ["A", "P1", "P2", "P3", "P4", "P5"],
            "category": ["X", "X", "X", "Y", "X", "X"],
            "price": [10.0, 15.0, 16.0, 20.0, 10.5, 50.0],
            "unit_cost": [8.0, 11.0, 15.0, 10.0, 7.0, 20.0],
            "name": ["Kahve", "Kahve Gold", "Kahve Premium", "Kahve Süper", "Kahve Ekstra", "Kahve Lüks"],
        }
    )
    # Margin rates: A 20 %, P1 26.7 %, P2 6.3 %. u1..u6 buy A with P2..P5; u1..u3 also P1. P2 is more
    # co-bought than P1 but has a lower margin rate; P3 is another category; P4 is only 1.05× the price;
    # P5 is 5× (above the 3× cap).
    rows = []
    for i in range(1, 7):
        items = ["A", "P2", "P3", "P4", "P5"] + (["P1"] if i <= 3 else [])
        rows += [(f"u{i}", f"o{i}", OLD, p, 5.0) for p in items]
    rows += [("u0", "o0a", OLD, "A", 5.0), ("u0", "o0b", "2025-03-01", "A", 5.0)]  # u0 buys A regularly
    rows += [
        ("u7", "o7a", OLD, "A", 5.0),
        ("u7", "o7b", OLD, "P1", 5.0),
        ("u7", "o7c", "2025-03-01", "A", 5.0),
        ("u7", "o7d", "2025-03-01", "P1", 5.0),
    ]  # u7 buys P1 already
    lines = lines_from(rows)
    out = xs.premium_alternatives(lines, products, params={"min_pair_customers": 2}, as_of="2026-06-30")
    u0 = out[out["customer_id"] == "u0"]
    assert len(u0) == 1
    row = u0.iloc[0]
    # A's buyers: u0..u7 = 8; of them u1, u2, u3, u7 bought P1 → 4/8
    assert (row["product_id"], row["premium_product_id"], row["category"]) == ("A", "P1", "X")
    assert row["share_of_buyers"] == pytest.approx(0.5) and row["n_buyers"] == 8
    assert row["price_uplift"] == pytest.approx(0.5)
    assert (row["product_name"], row["premium_name"]) == ("Kahve", "Kahve Gold")
    assert "u7" not in set(out["customer_id"])  # P1 is already regular for u7; nothing else qualifies
    # without unit costs the margin rule cannot apply: P2 (6 of 8 buyers) wins
    out = xs.premium_alternatives(
        lines, products.drop(columns="unit_cost"), params={"min_pair_customers": 2}, as_of="2026-06-30"
    )
    assert out.loc[out["customer_id"] == "u0", "premium_product_id"].tolist() == ["P2"]


def test_premium_alternatives_stay_within_the_same_item() -> None:
    """"Zımba Standart" may go up to "Zımba Premium", never to "Hesap Makinesi Premium" of the category."""
    products = pd.DataFrame({
        "product_id": ["ZS", "ZP", "HP", "TK", "CD"],
        "category": ["Kırtasiye", "Kırtasiye", "Kırtasiye", "Temizlik", "Temizlik"],
        "price": [100.0, 150.0, 140.0, 100.0, 160.0],
        "name": ["Zımba Standart", "ZIMBA Premium", "Hesap Makinesi Premium", "Tuvalet Kağıdı 32'li",
                 "Çamaşır Deterjanı Premium"],
    })
    rows = []
    for i in range(6):   # everyone buys both staples and every premium item once
        rows += [(f"u{i}", f"o{i}", OLD, p, 5.0) for p in ("ZS", "ZP", "HP", "TK", "CD")]
    rows += [("u9", "o9a", OLD, "ZS", 5.0), ("u9", "o9b", "2025-03-01", "ZS", 5.0),
             ("u9", "o9c", OLD, "TK", 5.0), ("u9", "o9d", "2025-03-01", "TK", 5.0)]
    lines = lines_from(rows)
    out = xs.premium_alternatives(lines, products, params={"min_pair_customers": 2}, as_of="2026-06-30")
    u9 = out[out["customer_id"] == "u9"]
    assert u9[["product_id", "premium_product_id"]].values.tolist() == [["ZS", "ZP"]]   # no TK -> CD
    assert xs.family_key(pd.Series(["Zımba Standart", "ZIMBA  Premium", "Ekonomik Zımba"])).nunique() == 1
    # a family column in the products table wins over names
    families = products.assign(family=["zimba", "zimba", "zimba", "kagit", "kagit"])
    out = xs.premium_alternatives(lines, families, params={"min_pair_customers": 2}, as_of="2026-06-30")
    u9 = out[out["customer_id"] == "u9"].set_index("product_id")["premium_product_id"].to_dict()
    assert u9["TK"] == "CD" and u9["ZS"] in {"ZP", "HP"}
    # without names or families nothing can be called the same item: no premium suggestion at all
    assert xs.premium_alternatives(lines, products.drop(columns="name"), params={"min_pair_customers": 2},
                                   as_of="2026-06-30").empty


def test_selling_lists_leave_lapsed_customers_out(held_lines: pd.DataFrame) -> None:
    everyone = xs.compute(held_lines, as_of="2026-06-30", params={"min_support": 0.01, "min_pair_customers": 1})
    listed = set(everyone["action_list"]["customer_id"])
    lapsed = sorted(listed)[:2]
    res = xs.compute(held_lines, as_of="2026-06-30", params={"min_support": 0.01, "min_pair_customers": 1},
                     lapsed_ids=pd.Series(lapsed))
    for name in ("action_list", "recommendations", "preseason"):
        assert not set(res[name]["customer_id"]) & set(lapsed), name
    assert res["lapsed_left_out"] == 2
    assert set(res["action_list"]["customer_id"]) == listed - set(lapsed)
    names = pd.DataFrame({"customer_id": sorted(listed), "name": [f"Firma {c}" for c in sorted(listed)]})
    assert xs.with_names(res["action_list"], names)["name"].str.startswith("Firma").all()


def test_premium_needs_category_and_price() -> None:
    lines = lines_from([("u1", "o1", OLD, "A", 5.0)])
    with pytest.raises(DataError, match=r"Premium alternatives needs the column\(s\) category, price"):
        xs.premium_alternatives(lines, pd.DataFrame({"product_id": ["A"]}))


# -------------------------------------------------------------------------------------------- preseason


def test_preseason_picks_match_two_year_history() -> None:
    # as_of 2026-05-31, 8 lead weeks: last year's window is (2025-05-31, 2025-07-26]; this season so far
    # is (2026-04-05, 2026-05-31].
    rows = [
        ("c1", "a", "2025-06-15", "X", 100.0),  # in the window: pick
        ("c1", "b", "2025-01-10", "Y", 500.0),  # before the window
        ("c1", "c", "2025-06-20", "Z", 300.0),  # in the window, but bought again this season
        ("c1", "d", "2026-05-10", "Z", 300.0),
        ("c1", "e", "2025-07-01", "W", 50.0),  # in the window: pick, second by amount
        ("c1", "f", "2025-08-15", "V", 900.0),  # after the window
        ("c2", "g", "2024-06-15", "X", 100.0),  # two years ago
        ("c2", "h", "2026-03-01", "Y", 10.0),
        ("c3", "i", "2025-06-20", "N", 100.0),  # in the window, but N sells all year: 8 more months of 100
    ] + [
        ("c3", f"n{m}", f"{y}-{m:02d}-01", "N", 100.0)
        for y, m in (
            (2025, 9),
            (2025, 10),
            (2025, 11),
            (2025, 12),
            (2026, 1),
            (2026, 2),
            (2026, 3),
            (2026, 4),
        )
    ]
    out = xs.preseason(lines_from(rows), as_of="2026-05-31", params={"preseason_lead_weeks": 8})
    assert out["customer_id"].tolist() == ["c1", "c1"]
    assert out["product_id"].tolist() == ["X", "W"] and out["rank"].tolist() == [1, 2]
    assert out["last_year_date"].tolist() == [pd.Timestamp("2025-06-15"), pd.Timestamp("2025-07-01")]
    assert out["expected_date"].iloc[0] == pd.Timestamp("2026-06-15")
    assert out["last_year_amount"].tolist() == [100.0, 50.0]
    # seasonal index = window share of the year's sales / (56 / 365): X and W sold only in the window
    assert out["seasonal_index"].tolist() == pytest.approx([365 / 56, 365 / 56])
    # N: 1 of its 9 orders in the window → index (1/9)·365/56 = 0.72 < 1.2; with a 0.7 floor c3 gets N
    low = xs.preseason(lines_from(rows), as_of="2026-05-31", params={"preseason_min_index": 0.7})
    n = low[low["customer_id"] == "c3"]
    assert n["product_id"].tolist() == ["N"] and n["seasonal_index"].iloc[0] == pytest.approx(365 / 56 / 9)


# ------------------------------------------------------------------------------------------ evaluation


def test_evaluate_matches_hand_computed() -> None:
    # Train (two orders each, so every held item is regular): c1-c3 {A,B}, c4-c5 {C,D}, c6 {C}, c7 {A}.
    # Test: c6 buys D and E, c7 buys C; c1 rebuys A (regular: not a test item); c9 is new (no history).
    rows = []
    train = {"c1": "AB", "c2": "AB", "c3": "AB", "c4": "CD", "c5": "CD", "c6": "C", "c7": "A"}
    for c, items in train.items():
        rows += [
            (c, f"{c}{k}", day, p, 5.0)
            for k, day in (("a", "2025-06-01"), ("b", "2025-07-01"))
            for p in items
        ]
    rows += [
        ("c6", "t1", "2026-01-10", "D", 5.0),
        ("c6", "t1", "2026-01-10", "E", 5.0),
        ("c7", "t2", "2026-01-10", "C", 5.0),
        ("c1", "t3", "2026-01-10", "A", 5.0),
        ("c9", "t4", "2026-01-10", "A", 5.0),
        ("c6", "t5", "2026-03-01", "B", 5.0),
    ]  # t5: after the horizon
    lines = lines_from(rows)
    params = {"min_pair_customers": 1, "regular_recent_days": 10}
    # k=1. Item-to-item: c6 (C) → D (cos(C,D) = 2/√6), hit, recall 1/2; c7 (A) → B (cos(A,B) = 3/√12), miss.
    # Popularity (A 4, B 3, C 3, D 2 customers): c6 → A, miss; c7 → B (tie with C broken by id), miss.
    ev = xs.evaluate(lines, cut="2026-01-01", horizon_days=30, k=1, params=params).set_index("method")
    assert ev.loc["item_to_item", "n_customers"] == 2
    assert ev.loc["item_to_item", ["hit_rate", "recall"]].tolist() == pytest.approx([0.5, 0.25])
    assert ev.loc["popularity", ["hit_rate", "recall"]].tolist() == pytest.approx([0.0, 0.0])
    # k=2. Item-to-item: c6 → D, A (popular fill); c7 → B, C (fill: C 3 > D 2): both hit; recall (1/2 + 1)/2.
    # Popularity: c6 → A, B (miss); c7 → B, C (hit).
    ev = xs.evaluate(lines, cut="2026-01-01", horizon_days=30, k=2, params=params).set_index("method")
    assert ev.loc["item_to_item", ["hit_rate", "recall"]].tolist() == pytest.approx([1.0, 0.75])
    assert ev.loc["popularity", ["hit_rate", "recall"]].tolist() == pytest.approx([0.5, 0.5])


# ---------------------------------------------------------------------------------- no product data


def test_no_product_path() -> None:
    lines = lines_from([("u1", "o1", OLD, "A", 5.0)]).drop(columns="product_id")
    assert not xs.has_products(lines)
    with pytest.raises(DataError, match="needs the column\\(s\\) product_id of the orders table"):
        xs.recommend(lines)
    with pytest.raises(DataError, match="needs the column\\(s\\) product_id"):
        xs.association_rules(lines)
    empty = lines.assign(product_id=None)
    assert not xs.has_products(empty)
    with pytest.raises(DataError, match="product_id of the orders table is empty"):
        xs.baskets(empty)
    # the report's sentence for it exists in both languages
    assert "product" in t("xsell.summary.no_products", "en") and "ürün" in t(
        "xsell.summary.no_products", "tr"
    )


def test_params_are_checked() -> None:
    lines = lines_from([("u1", "o1", OLD, "A", 5.0)])
    with pytest.raises(ParamsError, match=r"'cross_sell.min_support' must be a share in \(0, 1\], got 0"):
        xs.association_rules(lines, params={"min_support": 0})
    with pytest.raises(ParamsError, match="'cross_sell.top_n' must be a whole number"):
        xs.recommend(lines, params={"top_n": 2.5})
    with pytest.raises(ParamsError, match="Unknown params key.*cross_sell.min_suport"):
        xs.recommend(lines, params={"min_suport": 0.1})


# --------------------------------------------------------------------------------------------- groups


def test_action_groups_fall_back_to_city(held_lines: pd.DataFrame) -> None:
    recs = xs.recommend(held_lines, params=SMALL, as_of="2026-06-30")
    customers = pd.DataFrame(
        {
            "customer_id": ["u1", "u2", "u3", "u4", "u5"],
            "name": list("VWXYZ"),
            "city": ["İzmir", "Ankara", "İzmir", "Bursa", "Ankara"],
        }
    )
    grouped, used = xr.action_groups(recs, customers)
    assert used == "city" and grouped["city"].tolist()[:2] == ["Ankara", "Ankara"]
    assert grouped["customer_id"].iloc[0] == "u2" and grouped["name"].iloc[0] == "W"
    grouped, used = xr.action_groups(recs, customers.assign(sales_rep="Ayşe"))
    assert used == "sales_rep" and set(grouped["sales_rep"]) == {"Ayşe"}
    grouped, used = xr.action_groups(recs, None)
    assert used == "" and grouped["customer_id"].is_monotonic_increasing


def test_analyse_gives_the_contract_exports(held_lines: pd.DataFrame) -> None:
    products = pd.DataFrame({"product_id": list("ABCD"), "name": ["Çay", "Şeker", "Kahve", "Süt"]})
    res = xr.compute(held_lines, as_of="2026-06-30", params=SMALL, products=products, lang="tr")
    assert list(res["action_list"].columns[:5]) == ["customer_id", "rank", "product_id", "score", "reason"]
    assert list(res["rules"].columns[:5]) == ["antecedents", "consequents", "support", "confidence", "lift"]
    assert res["premium"] is None  # no category or price: the report shows a sentence instead
    u5 = res["action_list"][res["action_list"]["customer_id"] == "u5"]
    assert u5["reason"].iloc[0] == "Çay alanların %50'si bunu da aldı"
    assert set(res["evaluation"]["method"]) == {"item_to_item", "popularity"}


# ------------------------------------------------------------------------------------------------ plots


def test_plots_return_axes(basket_lines: pd.DataFrame) -> None:
    from crmlib.cross_sell import plots as pxs

    rules = xs.association_rules(
        basket_lines, params={"min_support": 0.3, "min_confidence": 0.6, "min_lift": 0.0}
    )
    ax = pxs.plot_top_rules(rules, lang="tr")
    assert ax.get_title() == t("xsell.plot.rules_title", "tr") and len(ax.patches) == 3
    # bar length, bar label and order are the same metric (lift), as in the table beside the chart
    from crmlib.cross_sell.report import strongest_rules
    from crmlib.report.formatting import number

    drawn = [p.get_width() for p in ax.patches][::-1]
    assert drawn == pytest.approx(strongest_rules(rules, n=10)["lift"].tolist())
    assert [x.get_text().strip() for x in ax.texts][::-1] == [f"{number(v, 'tr', 1)} kat" for v in drawn]
    ev = pd.DataFrame(
        {"method": ["item_to_item", "popularity"], "k": [5, 5], "hit_rate": [0.4, 0.2], "recall": [0.2, 0.1]}
    )
    ax = pxs.plot_validation(ev, lang="en")
    assert ax.get_ylabel() == "Share (%)" and [p.get_height() for p in ax.patches] == pytest.approx(
        [40, 20, 20, 10]
    )


# ----------------------------------------------------------------------------------------- the sample


def test_suggestions_beat_popularity_on_sample(sample_ctx) -> None:
    # Measured on the session sample (2,000 customers, seed 7), 90-day split, 656 customers tested:
    # hit rate@5 0.575 against 0.296 for the popularity baseline (1.94×); recall@5 0.165 against 0.062
    # (2.65×). The bounds leave room for other seeds while still demanding a clear win.
    p = sample_ctx.params["cross_sell"]
    cut = sample_ctx.as_of - pd.Timedelta(days=p["validation_cut_days"])
    ev = xs.evaluate(
        sample_ctx.order_lines,
        cut=cut,
        horizon_days=p["validation_cut_days"],
        k=5,
        params=p,
        products=sample_ctx.tables["products"],
    ).set_index("method")
    ours, base = ev.loc["item_to_item"], ev.loc["popularity"]
    assert ours["n_customers"] >= 300
    assert ours["hit_rate"] >= 1.4 * base["hit_rate"] and ours["hit_rate"] >= base["hit_rate"] + 0.15
    assert ours["recall"] >= 1.5 * base["recall"]


def test_bundles_match_simulated_truth(sample_ctx) -> None:
    # The sample plants two bundles per category (crmlib/sample_catalogue.CATEGORIES) in 30 % of the orders,
    # each in its standard or premium variant. All 12 standard bundles must be found whole, and the 20 most
    # frequent bundles must all be planted ones (or part of one). Measured: the first set that is not
    # planted ranks 23rd (seasonal pairs such as Polar Bere + Yün Atkı, lift 2-7 against 8+ for planted).
    from crmlib.data.sample.catalogue import CATEGORIES

    planted = {
        variant: {
            frozenset(f"{item} {variant}" for item in bundle)
            for _, _, pairs in CATEGORIES.values()
            for bundle in pairs
        }
        for variant in ("Standart", "Premium")
    }
    found = xs.bundles(
        sample_ctx.order_lines,
        params={**sample_ctx.params["cross_sell"], "bundle_top_n": 1000},
        products=sample_ctx.tables["products"],
    )
    sets = [frozenset(names.split(", ")) for names in found["item_names"]]
    assert planted["Standart"] <= set(sets)
    either = planted["Standart"] | planted["Premium"]
    assert all(any(s <= bundle for bundle in either) for s in sets[:20])


def test_preseason_matches_simulated_seasons(sample_ctx) -> None:
    # The sample's seasonal items sell 6× in season and ¼× out of it (crmlib/sample_catalogue.SEASONS). At
    # its as-of date (30 Jun) the coming 8 weeks are Jul-Aug: school items (Aug-Sep) must be suggested,
    # summer (Apr-Jun), winter (Oct-Jan) and gift (Nov-Dec) items never. Measured: 45 % of the 1,000 picks
    # are school items; the rest are all-year items that gain share in Jul-Aug when summer items drop out.
    from crmlib.data.sample.catalogue import CATEGORIES

    season = {
        f"{name} {variant}": s
        for _, items, _ in CATEGORIES.values()
        for name, _, s in items
        for variant in ("Standart", "Premium")
    }
    assert sample_ctx.as_of.strftime("%m-%d") == "06-30"
    picks = xs.preseason(
        sample_ctx.order_lines,
        as_of=sample_ctx.as_of,
        params=sample_ctx.params["cross_sell"],
        products=sample_ctx.tables["products"],
    )
    seasons = picks["product_name"].map(season)
    assert seasons.notna().all()
    assert not seasons.isin(["yaz", "kis", "hediye"]).any()
    assert (seasons == "okul").mean() >= 0.3


def _top_k_by_full_sort(held, sim, blocked, popularity, k):
    """The ranking spelled out: sort every row by score, popularity, item; anchor by a dense argmax."""
    n_rows, n_items = held.shape
    score = np.asarray(held @ sim) if sim is not None else np.zeros((n_rows, n_items))
    score[blocked] = -np.inf
    order = np.lexsort((np.broadcast_to(np.arange(n_items), score.shape),
                        np.broadcast_to(-popularity, score.shape), -score), axis=1)[:, :k]
    r_idx = np.repeat(np.arange(n_rows), order.shape[1])
    c_idx = order.ravel()
    s = score[r_idx, c_idx]
    keep = np.isfinite(s)
    r_idx, c_idx, s = r_idx[keep], c_idx[keep], s[keep]
    anchor = np.zeros(len(c_idx), dtype=int)
    if sim is not None and len(c_idx):
        anchor = np.where(held[r_idx].toarray().astype(bool), sim[:, c_idx].T, -1.0).argmax(axis=1)
    return r_idx, c_idx, s, anchor


def test_top_k_equals_a_full_sort_of_every_row_with_ties():
    import scipy.sparse as sp

    from crmlib.cross_sell.rules import _top_k

    rng = np.random.default_rng(3)
    for trial in range(150):
        n_rows, n_items = int(rng.integers(1, 50)), int(rng.integers(1, 30))
        held = sp.random(n_rows, n_items, density=float(rng.uniform(0.02, 0.5)), format="csr", random_state=trial)
        held.data[:] = 1
        sim = rng.integers(0, 4, size=(n_items, n_items)) / 4.0  # few levels: many ties
        np.fill_diagonal(sim, 0)
        sim = None if trial % 5 == 0 else sim
        blocked = rng.random((n_rows, n_items)) < rng.uniform(0, 0.9)
        popularity = rng.integers(0, 4, n_items) / 4.0
        k = int(rng.integers(1, 8))
        expected = _top_k_by_full_sort(held, sim, blocked.copy(), popularity, k)
        got = _top_k(held, sim, blocked.copy(), popularity, k)
        for want, have in zip(expected, got, strict=True):
            np.testing.assert_array_equal(have, want)
