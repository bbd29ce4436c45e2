"""The vectorised segment table against the implementations it replaced (kept here as oracles).

Random frames with many ties, missing values, unknown customers, Arrow and object text: every replaced
function gives the same values and dtypes as the old one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from crmlib.data.textops import isin, map_or
from crmlib.segmentation import rfm, tiers
from crmlib.segmentation.params import (
    DEFAULTS,
    LAPSED_SEGMENTS,
    PASSIVE_TIER,
    check_rules,
    group_params,
    rule_bounds,
)

AS_OF = pd.Timestamp("2026-06-30")


# -- the old implementations (oracles) ---------------------------------------------------------------------
def old_percentile(values: pd.Series) -> pd.Series:
    n = int(values.notna().sum())
    return (values.rank(method="average") - 0.5) / max(n, 1)


def old_quantile_score(values: pd.Series, bins: int) -> pd.Series:
    n = len(values)
    twice_rank = (2 * values.rank(method="average")).round().astype("int64")
    return ((twice_rank - 1) * bins // (2 * n) + 1).astype("int64")


def old_assign_segments(scores: pd.DataFrame, *, rules: Sequence[Mapping[str, Any]] | None = None,
                        bins: int = 5, lapsed_days: float | None = None) -> pd.Series:
    rules = DEFAULTS["segment_rules"] if rules is None else rules
    check_rules(rules)
    scale = 4.0 / (bins - 1)
    r = np.floor(1 + (scores["r_score"].to_numpy(float) - 1) * scale + 0.5)
    fm_raw = (scores["f_score"].to_numpy(float) + scores["m_score"].to_numpy(float)) / 2
    fm = np.floor((1 + (fm_raw - 1) * scale) * 2 + 0.5) / 2
    out = np.full(len(scores), None, dtype=object)
    for i, rule in enumerate(rules):
        code, lo, hi, flo, fhi = rule_bounds(rule, i)
        hit = pd.isna(out) & (r >= lo) & (r <= hi) & (fm >= flo) & (fm <= fhi)
        out[hit] = code
    if lapsed_days is not None:
        lapsed = (scores["recency_days"].to_numpy(float) >= float(lapsed_days)) & ~np.isin(
            out.astype(str), LAPSED_SEGMENTS)
        out[lapsed] = np.where(fm[lapsed] >= 3, "lapsed", "lost")
    return pd.Series(out, index=scores.index, name="rfm_segment", dtype=object)


def old_rfm_code(scores: pd.DataFrame) -> pd.Series:
    return scores["r_score"].astype(str) + scores["f_score"].astype(str) + scores["m_score"].astype(str)


def old_abc_table(customer_summary: pd.DataFrame, orders: pd.DataFrame, *, as_of: pd.Timestamp | str,
                  params: Mapping[str, Any] | None = None, lapsed_days: float | None = None) -> pd.DataFrame:
    p = group_params(params, "abc")
    as_of = pd.Timestamp(as_of)
    window = float(p["window_days"])
    recent = orders.loc[(orders["order_date"] > as_of - pd.Timedelta(days=window))
                        & (orders["order_date"] <= as_of)]
    n_orders = recent.loc[recent["is_purchase"].astype(bool)].groupby("customer_id").size()
    volume = recent.groupby("customer_id")["amount"].sum()
    ids = customer_summary["customer_id"]
    out = pd.DataFrame({"customer_id": ids}, index=customer_summary.index)
    out["orders_window"] = map_or(ids, n_orders, 0).astype("int64")
    out["orders_per_month"] = out["orders_window"] / (window / 30.0)
    out["revenue_window"] = map_or(ids, volume, 0.0).astype(float)
    active = out["revenue_window"] > 0
    out["volume_pct"] = 0.0
    out.loc[active, "volume_pct"] = old_percentile(out.loc[active, "revenue_window"])
    recency = customer_summary["recency_days"].astype(float)
    eps = 1e-9
    top_a = out["volume_pct"] >= 1 - float(p["a_top_volume_share"]) - eps
    top_b = out["volume_pct"] >= 1 - float(p["b_top_volume_share"]) - eps
    is_a = (recency <= p["a_max_recency_days"]) & (out["orders_per_month"] >= p["a_min_orders_per_month"]) & top_a
    is_b = (recency <= p["b_max_recency_days"]) & (out["orders_per_month"] >= p["b_min_orders_per_month"]) & top_b
    is_c = (recency >= p["c_min_recency_days"]) | (
        (out["orders_per_month"] < p["b_min_orders_per_month"]) & ~top_b)
    tier = np.select([is_a, is_b, is_c], ["A", "B", "C"], default="")
    fallback = tier == ""
    tier = np.where(fallback, np.where(top_b, "B", "C"), tier)
    if lapsed_days is not None:
        passive = (~(recency < float(lapsed_days))).to_numpy()
        tier = np.where(passive, PASSIVE_TIER, tier)
        fallback = fallback & ~passive
    out["abc_tier"] = tier
    out["abc_fallback"] = fallback
    return out


def old_value_flags(customer_summary: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame | None] | None = None,
                    as_of: pd.Timestamp | str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    p = group_params(params, "value")
    tables = tables or {}
    as_of = pd.Timestamp(as_of)
    ids = customer_summary["customer_id"]
    out = pd.DataFrame({"customer_id": ids}, index=customer_summary.index)
    margin = customer_summary["margin"].astype(float)
    revenue = customer_summary["revenue"].astype(float)
    known = margin.notna()
    out["value_basis"] = np.where(known, "margin", "revenue")
    out["margin"] = margin
    out["margin_rate"] = (margin / revenue.where(revenue > 0)).astype(float)
    value_pct = pd.Series(np.nan, index=out.index)
    value_pct[known] = old_percentile(margin[known])
    value_pct[~known] = old_percentile(revenue[~known])
    out["value_pct"] = value_pct
    out["high_value"] = out["value_pct"] >= 1 - float(p["high_value_share"]) - 1e-9
    out["tenure_days"] = customer_summary["tenure_days"].astype(float)
    edges = [float(e) for e in p["tenure_edges_days"]]
    labels = [f"{a:g}-{b:g}" for a, b in zip([0.0, *edges], edges, strict=False)] + [f"{edges[-1]:g}+"]
    out["tenure_band"] = pd.cut(out["tenure_days"], [-np.inf, *edges, np.inf], right=False,
                                labels=labels).astype(object)
    customers = tables.get("customers")
    if customers is not None and "referred_by" in customers.columns:
        referred = customers.loc[isin(customers["customer_id"], ids) & customers["referred_by"].notna().to_numpy(),
                                 ["customer_id", "referred_by"]].drop_duplicates()
        counts = referred.groupby(referred["referred_by"].astype(str))["customer_id"].nunique()
        out["referrals"] = map_or(ids.astype(str), counts, 0).astype("int64")
        out["referrer"] = (out["referrals"] >= int(p["referrer_min_referrals"])).astype("boolean")
    else:
        out["referrals"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["referrer"] = pd.array([pd.NA] * len(out), dtype="boolean")
    tickets = tables.get("tickets")
    if tickets is not None and {"customer_id", "opened_at"} <= set(tickets.columns):
        opened = pd.to_datetime(tickets["opened_at"])
        window = tickets.loc[(opened > as_of - pd.Timedelta(days=float(p["ticket_window_days"])))
                             & (opened <= as_of)]
        counts = window.groupby("customer_id").size()
        out["tickets"] = map_or(ids, counts, 0).astype("int64")
        out["effortless"] = (out["high_value"] & (out["tickets"] <= int(p["effortless_max_tickets"]))
                             ).astype("boolean")
    else:
        out["tickets"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["effortless"] = pd.array([pd.NA] * len(out), dtype="boolean")
    return out


def old_segment_table(summary: pd.DataFrame, orders: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame],
                      monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    """The old assembly (concat, round, sort) of the old parts; scores ranked by pandas."""
    from crmlib.segmentation.params import resolve_params

    p = resolve_params({})
    p["lapsed_days"] = 180.0
    with monkeypatch.context() as m:
        m.setattr(rfm, "_quantile_score", old_quantile_score)
        scores = rfm.rfm_scores(summary, bins=p["bins"], method=p["method"], recency_method=p["recency_method"],
                                lapsed_days=p["lapsed_days"])
    scores["rfm_segment"] = old_assign_segments(scores, rules=p["segment_rules"], bins=p["bins"],
                                                lapsed_days=p["lapsed_days"])
    abc = old_abc_table(summary, orders, as_of=AS_OF, params=p, lapsed_days=p["lapsed_days"])
    scores["abc_tier"] = abc["abc_tier"]
    scores["fm_score"] = (scores["f_score"] + scores["m_score"]) / 2
    scores["rfm_code"] = old_rfm_code(scores)
    extra = abc.drop(columns=["customer_id", "abc_tier"])
    flags = old_value_flags(summary, tables=tables, as_of=AS_OF, params=p).drop(columns=["customer_id"])
    out = pd.concat([scores, extra, flags], axis=1)
    out[["monetary", "revenue_window", "margin"]] = out[["monetary", "revenue_window", "margin"]].round(2)
    out[["volume_pct", "value_pct", "margin_rate"]] = out[["volume_pct", "value_pct", "margin_rate"]].round(4)
    return out.sort_values("customer_id", kind="stable").reset_index(drop=True)


# -- random frames with ties ---------------------------------------------------------------------------------
def random_values(rng: np.random.Generator, n: int, kind: int) -> np.ndarray:
    """Numbers with heavy ties: small integers, coarse floats, big integers, signed zeros and infinities."""
    if kind == 0:
        return rng.integers(-5, 5, n)
    if kind == 1:
        return rng.integers(0, 3, n).astype(float) / 4
    if kind == 2:
        return np.round(rng.normal(size=n), 1)
    if kind == 3:
        return rng.integers(0, 10**12, n) * (rng.random(n) < 0.5)
    if kind == 4:
        return rng.choice([0.0, -0.0, 1.5, np.inf, -np.inf, 2.0], n)
    return rng.integers(0, 10**9, n).astype(np.uint64)


def customers_frame(rng: np.random.Generator, n: int, *, arrow: bool) -> pd.DataFrame:
    ids = pd.Series([f"c{i:04d}" for i in rng.permutation(n + 5)[:n]], dtype="str" if arrow else object)
    margin = np.round(rng.normal(100, 80, n), 0)
    margin[rng.random(n) < 0.3] = np.nan
    revenue = np.round(rng.gamma(1.0, 300, n), -1)
    revenue[rng.random(n) < 0.1] = 0.0
    frame = pd.DataFrame({
        "customer_id": ids,
        "recency_days": rng.integers(0, 400, n).astype(float),
        "n_orders": rng.integers(1, 6, n),
        "revenue": revenue,
        "margin": margin,
        "tenure_days": rng.integers(0, 900, n).astype(float),
    })
    frame.index = rng.permutation(n) + 3  # any index: results stay on it
    return frame


def orders_frame(rng: np.random.Generator, ids: pd.Series, m: int, *, arrow: bool) -> pd.DataFrame:
    pool = [*ids.dropna().tolist(), "stranger", "other"]
    cust = pd.Series(rng.choice(pool, m), dtype="str" if arrow else object)
    cust[rng.random(m) < 0.03] = None
    amount = np.round(rng.choice([-50.0, 19.99, 20.0, 0.1, 0.2, 0.3, 1e6 / 3, 99.95], m), 2)
    amount[rng.random(m) < 0.02] = np.nan
    return pd.DataFrame({
        "customer_id": cust,
        "order_date": AS_OF - pd.to_timedelta(rng.integers(-5, 200, m), unit="D"),
        "amount": amount,
        "is_purchase": amount > 0,
    })


# -- the tests -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", range(6))
def test_ranks_percentiles_and_quantile_scores_equal_pandas_rank(kind):
    rng = np.random.default_rng(kind)
    for _ in range(150):
        n = int(rng.integers(1, 80))
        v = random_values(rng, n, kind)
        s = pd.Series(v, index=rng.permutation(n) + 7, name="x")
        assert (tiers.twice_mid_rank(v) == (2 * s.rank(method="average")).round().astype("int64").to_numpy()).all()
        pdt.assert_series_equal(tiers.percentile(s), old_percentile(s), check_exact=True)
        if kind != 4:  # the score needs finite values (recency, frequency, monetary)
            for bins in (2, 5, 10):
                pdt.assert_series_equal(rfm._quantile_score(s, bins), old_quantile_score(s, bins), check_exact=True)


def test_percentile_leaves_missing_values_out_and_falls_back_for_other_dtypes():
    rng = np.random.default_rng(7)
    for _ in range(100):
        n = int(rng.integers(1, 50))
        v = np.round(rng.normal(size=n), 1)
        v[rng.random(n) < 0.4] = np.nan
        s = pd.Series(v)
        pdt.assert_series_equal(tiers.percentile(s), old_percentile(s), check_exact=True)
        pdt.assert_series_equal(tiers.percentile(s.astype("Float64")), old_percentile(s.astype("Float64")),
                                check_exact=True)
    assert tiers.percentile(pd.Series([], dtype=float)).empty


def test_twice_mid_rank_counts_and_sorts_alike():
    rng = np.random.default_rng(3)
    wide = rng.integers(0, 2**40, 500)  # beyond the counting span: sorted
    narrow = rng.integers(0, 50, 500)
    for v in (wide, narrow, narrow.astype(float), wide.astype(float)):
        expected = (2 * pd.Series(v).rank(method="average")).round().astype("int64").to_numpy()
        assert (tiers.twice_mid_rank(v) == expected).all()
    assert tiers.twice_mid_rank(np.array([], dtype=float)).dtype == np.int64


@pytest.mark.parametrize("bins", [2, 3, 4, 5, 7, 10])
@pytest.mark.parametrize("lapsed_days", [None, 180.0])
def test_assign_segments_and_rfm_code_equal_the_rule_loop(bins, lapsed_days):
    rng = np.random.default_rng(bins)
    n = 3000
    scores = pd.DataFrame({c: rng.integers(1, bins + 1, n) for c in ("r_score", "f_score", "m_score")},
                          index=rng.permutation(n))
    scores["recency_days"] = rng.choice([0.0, 179.0, 180.0, 400.0, np.nan], n)
    pdt.assert_series_equal(rfm.assign_segments(scores, bins=bins, lapsed_days=lapsed_days),
                            old_assign_segments(scores, bins=bins, lapsed_days=lapsed_days), check_exact=True)
    rules = [{"segment": "champions", "r": [4, 5], "fm": [4, 5]}, {"segment": "hibernating", "r": [1, 5],
                                                                    "fm": [1, 5]}]
    pdt.assert_series_equal(rfm.assign_segments(scores, rules=rules, bins=bins, lapsed_days=lapsed_days),
                            old_assign_segments(scores, rules=rules, bins=bins, lapsed_days=lapsed_days))
    pdt.assert_series_equal(rfm.rfm_code(scores, bins=bins), old_rfm_code(scores), check_exact=True)
    # scores that are not whole numbers 1..bins take the rule loop itself
    odd = scores.assign(r_score=scores["r_score"].astype(float), f_score=scores["f_score"] + bins)
    pdt.assert_series_equal(rfm.assign_segments(odd, bins=bins, lapsed_days=lapsed_days),
                            old_assign_segments(odd, bins=bins, lapsed_days=lapsed_days))
    pdt.assert_series_equal(rfm.rfm_code(odd, bins=bins), old_rfm_code(odd))
    empty = scores.iloc[:0]
    pdt.assert_series_equal(rfm.assign_segments(empty, bins=bins, lapsed_days=lapsed_days),
                            old_assign_segments(empty, bins=bins, lapsed_days=lapsed_days))


@pytest.mark.parametrize("arrow", [True, False])
@pytest.mark.parametrize("lapsed_days", [None, 180.0])
def test_abc_table_equals_the_groupby_and_map_version(arrow, lapsed_days):
    rng = np.random.default_rng(11 + arrow)
    for n, m in ((1, 3), (40, 200), (400, 3000)):
        summary = customers_frame(rng, n, arrow=arrow)
        orders = orders_frame(rng, summary["customer_id"], m, arrow=arrow)
        params = {"abc": {"window_days": 90}}
        got = tiers.abc_table(summary, orders, as_of=AS_OF, params=params, lapsed_days=lapsed_days)
        pdt.assert_frame_equal(got, old_abc_table(summary, orders, as_of=AS_OF, params=params,
                                                  lapsed_days=lapsed_days), check_exact=True)
    none = orders.iloc[:0]
    pdt.assert_frame_equal(tiers.abc_table(summary, none, as_of=AS_OF, lapsed_days=lapsed_days),
                           old_abc_table(summary, none, as_of=AS_OF, lapsed_days=lapsed_days), check_exact=True)


@pytest.mark.parametrize("arrow", [True, False])
def test_value_flags_equal_the_isin_version(arrow):
    rng = np.random.default_rng(21 + arrow)
    for n in (1, 30, 500):
        summary = customers_frame(rng, n, arrow=arrow)
        tenure = summary["tenure_days"].to_numpy().copy()
        tenure[rng.random(n) < 0.2] = rng.choice([np.nan, np.inf, -np.inf, 90.0, 180.0, 365.0, 730.0, -1.0])
        summary["tenure_days"] = tenure
        k = 3 * n + 10
        pool = [*summary["customer_id"].tolist(), "prospect1", "prospect2"]
        customers = pd.DataFrame({
            "customer_id": pd.Series(rng.choice(pool, k), dtype="str" if arrow else object),
            "referred_by": pd.Series(rng.choice([*pool[:5], "outsider"], k), dtype="str" if arrow else object),
        })
        customers.loc[rng.random(k) < 0.5, "referred_by"] = None
        customers.loc[rng.random(k) < 0.05, "customer_id"] = None
        tickets = pd.DataFrame({"customer_id": rng.choice(pool, 2 * n),
                                "opened_at": AS_OF - pd.to_timedelta(rng.integers(-3, 200, 2 * n), unit="D")})
        for tables in ({"customers": customers, "tickets": tickets}, {}, {"customers": customers[["customer_id"]]}):
            got = tiers.value_flags(summary, tables=tables, as_of=AS_OF)
            pdt.assert_frame_equal(got, old_value_flags(summary, tables=tables, as_of=AS_OF), check_exact=True)


@pytest.mark.parametrize("arrow", [True, False])
@pytest.mark.parametrize("order", ["shuffled", "sorted", "non-ascii"])
def test_segment_table_equals_the_old_assembly(arrow, order, monkeypatch):
    rng = np.random.default_rng(31 + arrow)
    for n in (1, 2, 60, 700):
        summary = customers_frame(rng, n, arrow=arrow)
        if order == "sorted":
            summary = summary.sort_values("customer_id")
        elif order == "non-ascii":
            names = np.array(["Çiğdem", "ıspanak", "Zeki", "zeki", "Öz", "ab", "a", "Ab"])
            summary["customer_id"] = pd.Series(names[np.arange(n) % 8] + np.arange(n).astype(str),
                                               index=summary.index, dtype="str" if arrow else object)
        orders = orders_frame(rng, summary["customer_id"], 5 * n, arrow=arrow)
        tables = {"customers": pd.DataFrame({"customer_id": summary["customer_id"].to_numpy(),
                                             "referred_by": rng.choice(summary["customer_id"].to_numpy(), n)})}
        got = rfm.segment_table(summary, orders, as_of=AS_OF, params={"lapsed_days": 180.0}, tables=tables)
        pdt.assert_frame_equal(got, old_segment_table(summary, orders, tables=tables, monkeypatch=monkeypatch),
                               check_exact=True)


@pytest.mark.parametrize("arrow", [True, False])
def test_among_equals_isin(arrow):
    rng = np.random.default_rng(5)
    dtype = "str" if arrow else object
    for _ in range(50):
        values = pd.Series(rng.choice(["a", "b", "c", None], int(rng.integers(0, 30))), dtype=dtype)
        candidates = pd.Series(rng.choice(["b", "c", "d", None], int(rng.integers(0, 30))), dtype=dtype)
        assert (tiers.among(values, candidates) == isin(values, candidates)).all()


def test_text_from_codes_has_the_dtype_of_numpy_text_in_a_frame():
    codes = np.array([0, 2, 1, 1, 0])
    got = tiers.text_from_codes(codes, ["A", "B", "C"], index=pd.RangeIndex(5))
    pdt.assert_series_equal(got, pd.DataFrame({"x": np.array(["A", "C", "B", "B", "A"])})["x"], check_names=False)
    assert tiers.text_from_codes(codes[:0], ["A"]).dtype == pd.DataFrame({"x": np.array([], dtype="<U1")})["x"].dtype
