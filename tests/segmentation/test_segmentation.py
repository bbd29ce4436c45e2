"""Segmentation: RFM scoring, the 11 named segments, A/B/C tiers, value flags, migration, contact lists."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from crmlib import report
from crmlib import segmentation as seg
from crmlib.errors import DataError, ParamsError

AS_OF = pd.Timestamp("2026-06-30")


def summary(rows: list[dict]) -> pd.DataFrame:
    """A customer_summary with the columns segmentation reads; rows give customer_id and overrides."""
    base = {"recency_days": 10.0, "n_orders": 3, "revenue": 1000.0, "margin": 200.0, "tenure_days": 400.0}
    return pd.DataFrame([{**base, **row} for row in rows])


def orders_for(spec: dict[str, list[tuple[int, float]]]) -> pd.DataFrame:
    """Orders from {customer: [(days before as_of, amount), ...]}."""
    rows = [{"customer_id": c, "order_id": f"{c}-{i}", "order_date": AS_OF - pd.Timedelta(days=d), "amount": a,
             "is_purchase": a > 0} for c, items in spec.items() for i, (d, a) in enumerate(items)]
    return pd.DataFrame(rows)


# -- RFM scores --------------------------------------------------------------------------------------------
def test_quantile_scores_fill_quintiles_equally_and_recent_scores_high():
    frame = summary([{"customer_id": f"c{i}", "recency_days": float(i), "n_orders": i + 1,
                      "revenue": 100.0 * (i + 1)} for i in range(10)])
    scores = seg.rfm_scores(frame)
    assert scores["r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert scores["f_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert scores["m_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert list(scores.columns) == ["customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score",
                                    "m_score"]


def test_rfm_scores_on_a_literal_frame():
    frame = summary([{"customer_id": c, "recency_days": r, "n_orders": n, "revenue": m}
                     for c, r, n, m in [("a", 5.0, 9, 900.0), ("b", 40.0, 1, 50.0), ("c", 200.0, 4, 300.0),
                                        ("d", 12.0, 2, 120.0), ("e", 90.0, 6, 600.0)]])
    expected = pd.DataFrame({"customer_id": list("abcde"), "recency_days": [5.0, 40.0, 200.0, 12.0, 90.0],
                             "frequency": [9, 1, 4, 2, 6], "monetary": [900.0, 50.0, 300.0, 120.0, 600.0],
                             "r_score": [5, 3, 1, 4, 2], "f_score": [5, 1, 3, 2, 4], "m_score": [5, 1, 3, 2, 4]})
    pdt.assert_frame_equal(seg.rfm_scores(frame), expected, check_dtype=False)


def test_tied_customers_share_a_score_whatever_the_row_order():
    frame = summary([{"customer_id": f"c{i}", "n_orders": n} for i, n in enumerate([1, 1, 1, 1, 1, 1, 2, 3, 4, 5])])
    scores = seg.rfm_scores(frame)
    # six one-order customers: mid-rank percentile (3.5 - 0.5) / 10 = 0.3 -> score 2, all the same
    assert scores["f_score"].tolist() == [2, 2, 2, 2, 2, 2, 4, 4, 5, 5]
    shuffled = frame.sample(frac=1, random_state=3)
    again = seg.rfm_scores(shuffled).set_index("customer_id").loc[frame["customer_id"]]
    assert again["f_score"].tolist() == scores["f_score"].tolist()


def test_one_customer_scores_the_middle_level():
    scores = seg.rfm_scores(summary([{"customer_id": "solo"}]))
    assert scores[["r_score", "f_score", "m_score"]].iloc[0].tolist() == [3, 3, 3]
    assert seg.assign_segments(scores).iloc[0] == "loyal"  # R 3, FM 3: the map's middle


def test_identical_customers_get_equal_middle_scores_not_a_spread():
    scores = seg.rfm_scores(summary([{"customer_id": f"c{i}"} for i in range(7)]))
    for col in ("r_score", "f_score", "m_score"):
        assert scores[col].tolist() == [3] * 7


def test_two_customers_score_symmetrically():
    scores = seg.rfm_scores(summary([{"customer_id": "a", "revenue": 1.0}, {"customer_id": "b", "revenue": 2.0}]))
    assert scores["m_score"].tolist() == [2, 4]


def test_fixed_method_uses_the_edges_from_params():
    frame = summary([{"customer_id": f"c{i}", "recency_days": r, "n_orders": n, "revenue": m}
                     for i, (r, n, m) in enumerate([(10, 1, 50), (45, 2, 150), (75, 4, 250), (100, 8, 350),
                                                    (400, 9, 450)])])
    scores = seg.rfm_scores(frame, method="fixed", edges={"monetary_edges": [100, 200, 300, 400]})
    assert scores["r_score"].tolist() == [5, 4, 3, 2, 1]   # <=30, <=60, <=90, <=180, older
    assert scores["f_score"].tolist() == [1, 2, 3, 4, 5]   # <=1, <=2, <=4, <=8, more
    assert scores["m_score"].tolist() == [1, 2, 3, 4, 5]
    moved = seg.rfm_scores(frame, method="fixed", edges={"monetary_edges": [100, 200, 300, 400],
                                                          "recency_edges_days": [5, 60, 90, 180]})
    assert moved["r_score"].iloc[0] == 4


def test_fixed_method_errors_name_the_params_key():
    frame = summary([{"customer_id": "a"}])
    with pytest.raises(ParamsError, match="segmentation.monetary_edges' is required with method: fixed"):
        seg.rfm_scores(frame, method="fixed")
    with pytest.raises(ParamsError, match=r"frequency_edges' must be 4 increasing numbers.*\[1.0, 1.0, 4.0, 8.0\]"):
        seg.rfm_scores(frame, method="fixed", edges={"monetary_edges": [1, 2, 3, 4], "frequency_edges": [1, 1, 4, 8]})
    with pytest.raises(ParamsError, match="'segmentation.method' must be 'quantile' or 'fixed', got 'kmeans'"):
        seg.rfm_scores(frame, method="kmeans")
    with pytest.raises(ParamsError, match="'segmentation.bins' must be a whole number from 2 to 10, got 1"):
        seg.rfm_scores(frame, bins=1)


def test_scores_report_missing_columns_and_values():
    with pytest.raises(DataError, match="lacks the column.*n_orders"):
        seg.rfm_scores(pd.DataFrame({"customer_id": ["a"], "recency_days": [1.0], "revenue": [1.0]}))
    frame = summary([{"customer_id": "a"}, {"customer_id": "b", "revenue": np.nan}])
    with pytest.raises(DataError, match=r"revenue is missing for 1 customer\(s\), e.g. b"):
        seg.rfm_scores(frame)


# -- named segments ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("r", "f", "m", "code"), [
    (5, 5, 4, "champions"), (4, 4, 4, "champions"), (5, 3, 3, "loyal"), (3, 5, 5, "loyal"),
    (5, 2, 3, "potential_loyalist"), (5, 1, 1, "new"), (4, 1, 2, "promising"), (3, 2, 2, "need_attention"),
    (3, 1, 1, "about_to_sleep"), (2, 4, 3, "at_risk"), (2, 3, 3, "at_risk"), (2, 5, 4, "cant_lose"),
    (1, 3, 3, "lapsed"), (1, 5, 4, "lapsed"), (2, 1, 1, "hibernating"), (1, 2, 2, "hibernating"),
    (1, 1, 2, "lost"),
])
def test_each_of_the_12_segments_is_reached_by_its_scores(r, f, m, code):
    scores = pd.DataFrame({"r_score": [r], "f_score": [f], "m_score": [m]})
    assert seg.assign_segments(scores).iloc[0] == code


def test_default_rules_partition_the_grid_and_name_all_12_segments():
    grid = pd.DataFrame([(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)],
                        columns=["r_score", "f_score", "m_score"])
    codes = seg.assign_segments(grid)
    assert codes.notna().all()
    assert set(codes) == set(seg.SEGMENTS)


def test_rules_that_leave_cells_uncovered_are_a_params_error():
    rules = [r for r in seg.DEFAULTS["segment_rules"] if r["segment"] != "hibernating"]
    with pytest.raises(ParamsError, match=r"leaves 6 \(R, FM\) cell\(s\) without a segment, e.g. R=1 FM=2, "
                                          r"R=1 FM=2.5, R=2 FM=1, R=2 FM=1.5, R=2 FM=2\. Add a rule"):
        seg.assign_segments(pd.DataFrame({"r_score": [5], "f_score": [5], "m_score": [5]}), rules=rules)
    with pytest.raises(ParamsError, match="item 1 must look like"):
        seg.check_rules([{"segment": "x", "r": [1]}])
    with pytest.raises(ParamsError, match=r"Segment\(s\) vip of 'segmentation.segment_rules' are not in 'segmentation.segment_order'"):
        seg.check_rules([{"segment": "vip", "r": [1, 5], "fm": [1, 5]}], order=seg.SEGMENTS)


def test_custom_rules_from_params_are_applied_first_match_wins():
    rules = [{"segment": "champions", "r": [5, 5], "fm": [5, 5]}, {"segment": "lost", "r": [1, 5], "fm": [1, 5]}]
    scores = pd.DataFrame({"r_score": [5, 5], "f_score": [5, 4], "m_score": [5, 5]})
    assert seg.assign_segments(scores, rules=rules).tolist() == ["champions", "lost"]


def test_other_bins_are_rescaled_to_the_five_level_map():
    scores = pd.DataFrame({"r_score": [3, 1, 2], "f_score": [3, 1, 2], "m_score": [3, 1, 2]})
    assert seg.assign_segments(scores, bins=3).tolist() == ["champions", "lost", "loyal"]


# -- A/B/C tiers -------------------------------------------------------------------------------------------
@pytest.fixture
def wholesale():
    """Five wholesalers with known behaviour over the 90-day window."""
    spec = {
        "anka": [(d, 5000.0) for d in range(2, 90, 9)],         # 10 orders (3.3/month), last 2 days ago, biggest
        "bora": [(d, 2000.0) for d in range(5, 90, 30)],        # 3 orders (1/month), last 5 days ago
        "cem": [(d, 1000.0) for d in range(3, 90, 10)],         # 9 orders (3/month) but small
        "deniz": [(120, 900.0), (200, 800.0)],                   # nothing for 120 days
        "ece": [(70, 20000.0), (75, 20000.0), (80, 20000.0)],    # big and frequent, but last order 70 days ago
    }
    orders = orders_for(spec)
    last = orders.groupby("customer_id")["order_date"].max()
    totals = orders.groupby("customer_id")["amount"].agg(["size", "sum"])
    frame = summary([{"customer_id": c, "recency_days": float((AS_OF - last[c]).days),
                      "n_orders": int(totals.loc[c, "size"]), "revenue": float(totals.loc[c, "sum"])} for c in spec])
    return frame, orders


def test_abc_tiers_follow_the_wholesale_rules(wholesale):
    frame, orders = wholesale
    table = seg.abc_table(frame, orders, as_of=AS_OF).set_index("customer_id")
    # deniz bought nothing in the window (volume percentile 0); among the 4 buying customers the
    # percentiles are 0.125, 0.375, 0.625, 0.875: only ece is in the top 20%, so anka (3.3 orders a month)
    # stays B, and cem (3 orders a month) is below the median volume: low volume alone is no C rule -> fallback
    assert table["abc_tier"].to_dict() == {"anka": "B", "bora": "C", "cem": "C", "deniz": "C", "ece": "B"}
    assert table["volume_pct"].tolist() == pytest.approx([0.625, 0.125, 0.375, 0.0, 0.875])
    assert table.loc["anka", "orders_window"] == 10
    assert table.loc["cem", "orders_per_month"] == pytest.approx(3.0)
    assert table["abc_fallback"].to_dict() == {"anka": False, "bora": True, "cem": True, "deniz": False,
                                               "ece": True}


def test_abc_threshold_from_params_moves_a_customer(wholesale):
    frame, orders = wholesale
    wider = seg.abc_tiers(frame, orders, as_of=AS_OF, params={"abc": {"a_top_volume_share": 0.4}})
    assert dict(zip(frame["customer_id"], wider, strict=True))["anka"] == "A"
    stricter = seg.abc_tiers(frame, orders, as_of=AS_OF,
                             params={"abc": {"a_top_volume_share": 0.4, "a_min_orders_per_month": 3.5}})
    assert dict(zip(frame["customer_id"], stricter, strict=True))["anka"] == "B"
    shorter = seg.abc_tiers(frame, orders, as_of=AS_OF, params={"abc": {"c_min_recency_days": 60}})
    assert dict(zip(frame["customer_id"], shorter, strict=True))["ece"] == "C"


def test_abc_fallback_places_by_volume_and_never_gives_a(wholesale):
    frame, orders = wholesale
    table = seg.abc_table(frame, orders, as_of=AS_OF, params={"abc": {"b_top_volume_share": 0.2}})
    table = table.set_index("customer_id")
    # ece (61-89 days, top volume) fits no rule: volume in B's top 20% -> B; bora (recent, only 1/month,
    # below B's volume bar now) falls back to C
    assert table.loc["ece", "abc_fallback"] and table.loc["ece", "abc_tier"] == "B"
    assert table.loc["bora", "abc_tier"] == "C"
    assert "A" not in set(table.loc[table["abc_fallback"], "abc_tier"])


def test_abc_params_errors(wholesale):
    frame, orders = wholesale
    with pytest.raises(ParamsError, match=r"Unknown params key 'segmentation.abc.a_recency'"):
        seg.abc_tiers(frame, orders, as_of=AS_OF, params={"abc": {"a_recency": 30}})
    with pytest.raises(ParamsError, match="'segmentation.abc.window_days' must be a number >= 0, got 'x'"):
        seg.abc_tiers(frame, orders, as_of=AS_OF, params={"abc": {"window_days": "x"}})


# -- value flags -------------------------------------------------------------------------------------------
def test_value_flags_use_margin_referrals_and_tickets():
    frame = summary([
        {"customer_id": "a", "revenue": 10000.0, "margin": 500.0, "tenure_days": 30.0},
        {"customer_id": "b", "revenue": 5000.0, "margin": 2000.0, "tenure_days": 100.0},
        {"customer_id": "c", "revenue": 3000.0, "margin": 300.0, "tenure_days": 400.0},
        {"customer_id": "d", "revenue": 2000.0, "margin": 100.0, "tenure_days": 800.0},
        {"customer_id": "e", "revenue": 1000.0, "margin": 50.0, "tenure_days": 365.0},
    ])
    customers = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "e", "x"],
                              "referred_by": [None, "a", "a", "b", None, "a"]})  # x never ordered
    tickets = pd.DataFrame({"customer_id": ["b", "b", "a"],
                            "opened_at": pd.to_datetime(["2026-06-01", "2026-05-01", "2024-01-01"])})
    flags = seg.value_flags(frame, tables={"customers": customers, "tickets": tickets}, as_of=AS_OF)
    flags = flags.set_index("customer_id")
    assert flags["high_value"].to_dict() == {"a": False, "b": True, "c": False, "d": False, "e": False}
    assert flags.loc["b", "margin_rate"] == pytest.approx(0.4)
    assert flags["referrals"].tolist() == [2, 1, 0, 0, 0]
    assert flags["referrer"].tolist() == [True, True, False, False, False]
    assert flags["tickets"].tolist() == [0, 2, 0, 0, 0]   # a's ticket is older than a year
    assert flags.loc["b", "effortless"] == np.False_      # high value but 2 tickets > 1
    relaxed = seg.value_flags(frame, tables={"tickets": tickets}, as_of=AS_OF,
                              params={"value": {"effortless_max_tickets": 2}}).set_index("customer_id")
    assert bool(relaxed.loc["b", "effortless"])
    assert flags["tenure_band"].tolist() == ["0-90", "90-365", "365-730", "730+", "365-730"]


def test_value_flags_without_optional_tables_are_unknown_not_false():
    frame = summary([{"customer_id": "a", "margin": np.nan}, {"customer_id": "b", "margin": np.nan}])
    flags = seg.value_flags(frame, tables={"customers": None, "tickets": None}, as_of=AS_OF)
    assert flags["value_basis"].tolist() == ["revenue", "revenue"]
    assert flags["referrer"].isna().all() and flags["effortless"].isna().all()


# -- the per-customer table --------------------------------------------------------------------------------
def test_segment_table_has_the_contract_columns_first(wholesale):
    frame, orders = wholesale
    table = seg.segment_table(frame, orders, as_of=AS_OF, params={})
    assert tuple(table.columns[: len(seg.CONTRACT_COLUMNS)]) == seg.CONTRACT_COLUMNS
    assert table["customer_id"].is_monotonic_increasing
    assert set(table["rfm_segment"]) <= set(seg.SEGMENTS)
    profile = seg.segment_profile(table)
    assert profile["n_customers"].sum() == len(frame)
    assert profile["customer_share"].sum() == pytest.approx(1.0)
    assert profile["revenue_share"].sum() == pytest.approx(1.0)
    assert list(profile.index) == [c for c in seg.SEGMENTS if c in set(table["rfm_segment"])]
    tiers = seg.segment_profile(table, by="abc_tier")
    assert list(tiers.index) == ["B", "C"]


# -- migration ---------------------------------------------------------------------------------------------
def test_migration_counts_known_moves_and_lists_who_moved_down():
    previous = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "e"],
                             "rfm_segment": ["champions", "champions", "loyal", "at_risk", "lost"],
                             "abc_tier": ["A", "A", "B", "B", "C"], "run_id": "r1", "as_of": "2026-03-31"})
    current = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "f"],
                            "rfm_segment": ["champions", "at_risk", "champions", "hibernating", "new"],
                            "abc_tier": ["B", "C", "A", "C", "C"], "monetary": [10.0, 50.0, 30.0, 5.0, 1.0]})
    matrix, down = seg.migration(previous, current)
    assert matrix.loc["champions", "champions"] == 1 and matrix.loc["champions", "at_risk"] == 1
    assert matrix.loc["loyal", "champions"] == 1 and matrix.loc["at_risk", "hibernating"] == 1
    assert matrix.loc["lost", "gone"] == 1 and matrix.loc["entered", "new"] == 1
    assert matrix.to_numpy().sum() == 6
    assert list(matrix.index) == ["champions", "loyal", "at_risk", "lost", "entered"]
    # b fell 7 places (champions -> at_risk), d 2 (at_risk -> hibernating); a only lost a tier
    assert down["customer_id"].tolist() == ["b", "d", "a"]
    assert down["steps"].tolist() == [7, 2, 0]
    assert down["tier_down"].tolist() == [True, True, True]
    assert down["segment_down"].tolist() == [True, True, False]


def test_migration_on_a_first_run_counts_everyone_as_entered():
    current = pd.DataFrame({"customer_id": ["a", "b"], "rfm_segment": ["loyal", "lost"]})
    matrix, down = seg.migration(None, current)
    assert matrix.to_dict() == {"loyal": {"entered": 1}, "lost": {"entered": 1}}
    assert down.empty


# -- contact lists -----------------------------------------------------------------------------------------
@pytest.fixture
def contacts():
    table = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "rfm_segment": ["lost", "champions", "at_risk", "loyal"],
                          "abc_tier": ["C", "A", "B", "B"], "recency_days": [300.0, 3.0, 80.0, 20.0],
                          "frequency": [1, 20, 6, 8], "monetary": [100.0, 9000.0, 3000.0, 4000.0]})
    customers = pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
                              "name": ["Ayşe Yılmaz", "Çınar Gıda Ltd.", "Öz Tekstil", "Şen Ticaret"],
                              "email": ["ayse@firma.com.tr", "satis@cinar.com", None, "info@sen.com"],
                              "phone": ["+90 532 123 45 67", 905321234567.0, None, "0212 555 44 33"],
                              "marketing_consent": ["evet", "1", "hayır", None]})
    return table, customers


def test_contact_list_keeps_only_consenting_customers_in_segment_order(contacts):
    table, customers = contacts
    out = seg.contact_list(table, customers, lang="tr")
    assert out["customer_id"].tolist() == ["b", "a"]   # c said no, d gave no consent
    assert out["segment"].tolist() == ["Şampiyonlar", "Kaybedilenler"]
    assert out.loc[0, "name"] == "Çınar Gıda Ltd."
    boolean = customers.assign(marketing_consent=[True, False, True, False])
    assert seg.contact_list(table, boolean, lang="en")["customer_id"].tolist() == ["c", "a"]
    no_column = seg.contact_list(table, customers.drop(columns="marketing_consent"), lang="en")
    assert len(no_column) == 4


def test_contact_list_masks_names_emails_and_phones(contacts):
    table, customers = contacts
    out = seg.contact_list(table, customers, lang="en", mask_pii=True).set_index("customer_id")
    assert out.loc["a", "name"] == "A*** Y*****"
    assert out.loc["a", "email"] == "a***@f****.com.tr"
    assert out.loc["a", "phone"].endswith("67") and "532" not in out.loc["a", "phone"]
    assert "532123" not in out.loc["b", "phone"] and out.loc["b", "phone"].endswith("67")  # read as a number
    assert report.mask_email("ali@x.com") == "a***@x*.com"


# -- executive summary -------------------------------------------------------------------------------------
def test_summary_lines_say_first_run_or_the_biggest_move():
    current = pd.DataFrame({"customer_id": list("abcd"), "rfm_segment": ["champions", "champions", "at_risk", "lost"],
                            "abc_tier": ["A", "B", "C", "C"], "monetary": [500.0, 300.0, 150.0, 50.0]})
    first = seg.summary_lines(current, lang="en", currency="TRY")
    assert "2 Champions (50.0%)" in first[0]
    assert "80.0% of revenue" in first[1]
    assert first[-1].startswith("This is the first run")
    previous = current.assign(rfm_segment=["champions", "loyal", "loyal", "lost"])
    matrix, down = seg.migration(previous, current)
    lines = seg.summary_lines(current, lang="tr", currency="TRY", previous=previous, matrix=matrix,
                              moved_down=down, previous_as_of="2026-03-31")
    assert lines[-1] == ("31.03.2026 tarihli çalışmadan beri 2 müşteri segment değiştirdi, bunların 1'i daha "
                         "kötü bir segmente geriledi; en büyük geçiş: Sadık müşteriler → Şampiyonlar (1 müşteri).")


# -- charts ------------------------------------------------------------------------------------------------
def test_rf_grid_shows_every_customer_once_with_catalogue_labels(wholesale):
    import matplotlib.pyplot as plt

    from crmlib.segmentation import plots as charts

    frame, orders = wholesale
    table = seg.segment_table(frame, orders, as_of=AS_OF, params={})
    ax = charts.plot_rf_grid(table, lang="tr")
    assert sum(int(t.get_text()) for t in ax.texts) == len(table)
    assert ax.get_ylabel() == "Yenilik puanı R (5 = en yeni)"
    matrix, _ = seg.migration(table.assign(rfm_segment="lost"), table)
    ax2 = charts.plot_migration(matrix, lang="en")
    assert [t.get_text() for t in ax2.get_yticklabels()] == ["Lost"]
    plt.close("all")


# -- on the simulated sample -------------------------------------------------------------------------------
def test_top_segments_over_represent_alive_customers_matches_truth(sample_ctx, sample_truth):
    """Customers the simulation kept alive are over-represented among Champions and Loyal.

    Measured on the conftest sample (2,000 customers, seed 7; 1,937 with a purchase), recency on the fixed
    30/60/90/180-day limits: 43.0% of customers are alive at as_of, 94.5% of Champions + Loyal (ratio 2.20);
    34.5% buy in the next 90 days, 82.6% of Champions + Loyal (ratio 2.39); 97.3% of Champions are alive,
    2.4% of Lapsed and 2.2% of Lost; the Loyal's median recency is 36 days. The test asks for ratios >= 1.5,
    Champions >= 85% alive and the two lapsed segments <= 5% alive: margins wide enough for other seeds,
    tight enough to fail if the scores flipped (recency scored the wrong way round puts the alive customers
    in the bottom segments) or lapsed customers leaked back into the named segments.
    """
    table = seg.segment_table(sample_ctx)
    merged = table.merge(sample_truth, on="customer_id", how="left", validate="one_to_one")
    assert merged["alive_at_as_of"].notna().all()
    top = merged["rfm_segment"].isin(["champions", "loyal"])
    alive = merged["alive_at_as_of"] == 1
    buys = merged["orders_next_90d"] > 0
    assert alive[top].mean() >= 1.5 * alive.mean()
    assert buys[top].mean() >= 1.5 * buys.mean()
    assert alive[merged["rfm_segment"] == "champions"].mean() >= 0.85
    lapsed = merged["rfm_segment"].isin(["lapsed", "lost"])
    assert alive[lapsed].mean() <= 0.05
    assert merged.loc[merged["rfm_segment"] == "loyal", "recency_days"].median() <= 90


def test_abc_tiers_order_future_orders_matches_truth(sample_ctx, sample_truth):
    """A customers order more in the next 90 days than B, and B more than C.

    Measured (seed 7): mean orders in the next 90 days A 17.1, B 5.1, C 1.4, P (lapsed) 0.01. The test
    asks for the order and at least a 2x step between tiers.
    """
    table = seg.segment_table(sample_ctx)
    merged = table.merge(sample_truth, on="customer_id", how="left")
    mean = merged.groupby("abc_tier")["orders_next_90d"].mean()
    assert mean["A"] >= 2 * mean["B"] and mean["B"] >= 2 * mean["C"] and mean["C"] >= 2 * mean["P"]
    assert set(table["abc_tier"]) == {"A", "B", "C", "P"}
    assert tuple(table.columns[:9]) == seg.CONTRACT_COLUMNS


# -- more of the per-customer table ------------------------------------------------------------------------
def test_segment_table_takes_the_scoring_method_from_params(wholesale):
    frame, orders = wholesale
    with pytest.raises(ParamsError, match="monetary_edges' is required with method: fixed"):
        seg.segment_table(frame, orders, as_of=AS_OF, params={"method": "fixed"})
    table = seg.segment_table(frame, orders, as_of=AS_OF,
                              params={"segmentation": {"method": "fixed", "monetary_edges": [1e3, 1e4, 3e4, 5e4]}})
    # recency 2/5/3 days -> R 5, 120 -> R 2, 70 -> R 3; revenue 50,000 -> M 4 (<= 50,000), 60,000 -> M 5
    assert table.set_index("customer_id")["r_score"].to_dict() == {"anka": 5, "bora": 5, "cem": 5, "deniz": 2,
                                                                    "ece": 3}
    assert table.set_index("customer_id")["m_score"].to_dict() == {"anka": 4, "bora": 2, "cem": 2, "deniz": 2,
                                                                    "ece": 5}


def test_value_summary_and_top_customers(wholesale):
    frame, orders = wholesale
    table = seg.segment_table(frame, orders, as_of=AS_OF, params={})
    values = seg.value_summary(table, lang="en")
    assert values["flag"].tolist() == ["High value by margin (top 20%)", "Customer for 365-730 days"]
    assert values["n_customers"].tolist() == [int(table["high_value"].sum()), 5]
    top = seg.top_customers(table.assign(rfm_segment=["loyal", "champions", "loyal", "loyal", "lost"]), n=2)
    assert top["customer_id"].tolist() == ["bora", "anka", "cem", "ece"]  # segment order, then revenue


@pytest.mark.slow
def test_two_runs_show_migration_in_the_second_report(sample_dir, tmp_path):
    """The runner records this run's segments; a later run reads them back and shows the movements."""
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1]))
    from crmlib.core.run import run
    from tests.conftest import write_sample_params

    params = write_sample_params(sample_dir, tmp_path / "p.yaml", language="tr")
    assert run(params, out=tmp_path / "reports" / "early", only=["segmentation"], as_of="2026-03-31",
               progress=False) == 0
    assert run(params, out=tmp_path / "reports" / "late", only=["segmentation"], progress=False) == 0
    early = (tmp_path / "reports" / "early" / "01_segmentation.html").read_text(encoding="utf-8")
    late = (tmp_path / "reports" / "late" / "01_segmentation.html").read_text(encoding="utf-8")
    assert "Bu veriyle ilk çalışma" in early and "Bu veriyle ilk çalışma" not in late
    assert "31.03.2026 tarihli çalışmadan beri" in late
    exported = pd.read_csv(tmp_path / "reports" / "late" / "exports" / "segments.csv", dtype={"customer_id": str},
                           sep=";", decimal=",")  # Turkish reports write Excel-tr CSVs
    assert tuple(exported.columns[:9]) == seg.CONTRACT_COLUMNS


# -- lapsed customers: one limit, never in a segment that promises a buying customer --------------------
def lapsed_mix() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Six customers: the biggest spender silent for 400 days ("star"), one at exactly 180 days, four active."""
    spec = {
        "star": [(400 + 7 * i, 9000.0) for i in range(30)],      # 30 big orders, the last 400 days ago
        "edge": [(180 + 10 * i, 3000.0) for i in range(12)],     # last order exactly 180 days ago
        "a1": [(3 + 9 * i, 800.0) for i in range(10)],
        "a2": [(40 + 20 * i, 500.0) for i in range(5)],
        "a3": [(75, 300.0), (120, 300.0)],
        "a4": [(150, 200.0)],
    }
    orders = orders_for(spec)
    last = orders.groupby("customer_id")["order_date"].max()
    totals = orders.groupby("customer_id")["amount"].agg(["size", "sum"])
    frame = summary([{"customer_id": c, "recency_days": float((AS_OF - last[c]).days),
                      "n_orders": int(totals.loc[c, "size"]), "revenue": float(totals.loc[c, "sum"])} for c in spec])
    return frame, orders


NAMED_FOR_BUYERS = {"champions", "loyal", "potential_loyalist", "new", "promising", "need_attention",
                    "about_to_sleep", "at_risk", "cant_lose"}


@pytest.mark.parametrize("params", [
    {},
    {"recency_method": "quantile"},
    {"method": "quantile", "recency_method": None},
    {"segment_rules": [{"segment": "champions", "r": [1, 5], "fm": [3, 5]},
                       {"segment": "lost", "r": [1, 5], "fm": [1, 2.5]}]},
])
def test_a_lapsed_customer_is_never_loyal_champion_or_at_risk(params):
    frame, orders = lapsed_mix()
    table = seg.segment_table(frame, orders, as_of=AS_OF, params=params).set_index("customer_id")
    lapsed = table["recency_days"] >= 180
    assert set(table.index[lapsed]) == {"star", "edge"}
    assert not set(table.loc[lapsed, "rfm_segment"]) & NAMED_FOR_BUYERS
    assert set(table.loc[lapsed, "rfm_segment"]) <= set(seg.LAPSED_SEGMENTS)
    assert table.loc["star", "rfm_segment"] == "lapsed"        # was the most valuable: the win-back list
    assert (table.loc[lapsed, "r_score"] == 1).all() and (table.loc[~lapsed, "r_score"] >= 2).all()
    assert (table.loc[lapsed, "abc_tier"] == "P").all() and "P" not in set(table.loc[~lapsed, "abc_tier"])


def test_recency_is_scored_on_fixed_day_limits_by_default():
    frame = summary([{"customer_id": f"c{d}", "recency_days": float(d)} for d in (0, 30, 31, 60, 61, 90, 91, 179, 180, 900)])
    table = seg.rfm_scores(frame, recency_method="fixed", lapsed_days=180)
    assert table["r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert seg.DEFAULTS["recency_method"] == "fixed"
    assert seg.DEFAULTS["recency_edges_days"] == [30, 60, 90, 180]


def test_recency_quantiles_are_of_the_active_customers_only():
    # eight active customers spread over 1..8 days and 92 long-lapsed ones: without the split the lapsed
    # would take four of the five levels and every active customer would score 5
    frame = summary([{"customer_id": f"a{i}", "recency_days": float(i)} for i in range(1, 9)]
                    + [{"customer_id": f"z{i}", "recency_days": 400.0 + i} for i in range(92)])
    table = seg.rfm_scores(frame, recency_method="quantile", lapsed_days=180).set_index("customer_id")
    assert table.loc[[f"a{i}" for i in range(1, 9)], "r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2]
    assert (table.loc[[f"z{i}" for i in range(92)], "r_score"] == 1).all()


def test_tier_revenue_shares_are_over_the_tier_window_and_add_up_to_100_percent():
    frame, orders = lapsed_mix()
    table = seg.segment_table(frame, orders, as_of=AS_OF, params={})
    tiers = seg.segment_profile(table, by="abc_tier")
    assert tiers["revenue_share"].sum() == pytest.approx(1.0)
    assert tiers["customer_share"].sum() == pytest.approx(1.0)
    window = table.groupby("abc_tier")["revenue_window"].sum()
    assert tiers["revenue"].to_dict() == pytest.approx(window[window.index.isin(tiers.index)].to_dict())
    # the lapsed star's lifetime revenue (270,000) is no part of any tier's share of the last 90 days
    assert tiers.loc["P", "revenue"] == 0.0
    lines = seg.summary_lines(table, lang="en", currency="TRY", window_days=90)
    a_share = window.get("A", 0.0) / window.sum()
    assert report.formatting.pct(a_share, "en") in lines[2] and "90 days" in lines[2]
    segments = seg.segment_profile(table)
    assert segments["revenue_share"].sum() == pytest.approx(1.0)


def test_one_lapsed_limit_from_churn_params_on_every_page():
    assert seg.lapsed_limit(None) == 180
    assert seg.lapsed_limit({"churn": {"lapsed_days": 120}}) == 120
    assert seg.lapsed_limit({"segmentation": {"lapsed_days": 200}, "churn": {"lapsed_days": 120}}) == 200
    from crmlib.churn.params import DEFAULTS as CHURN

    assert CHURN["lapsed_days"] == seg.LAPSED_DAYS
    frame, orders = lapsed_mix()
    table = seg.segment_table(frame, orders, as_of=AS_OF, params={"lapsed_days": 120}).set_index("customer_id")
    assert table.loc["a4", "rfm_segment"] in seg.LAPSED_SEGMENTS and table.loc["a4", "abc_tier"] == "P"


def test_the_contact_list_says_how_many_it_left_out_for_missing_consent():
    table = pd.DataFrame({"customer_id": list("abcd"), "rfm_segment": ["loyal", "loyal", "lost", "lapsed"],
                          "abc_tier": ["A", "B", "C", "P"], "recency_days": [5.0, 9.0, 400.0, 500.0],
                          "frequency": [9, 5, 1, 8], "monetary": [9e3, 5e3, 1e2, 8e3]})
    customers = pd.DataFrame({"customer_id": list("abcd"), "marketing_consent": ["evet", "hayır", None, "1"]})
    listed = seg.contact_list(table, customers, lang="tr")
    assert seg.missing_consent(table, customers) == 2 == len(table) - len(listed)
    assert seg.missing_consent(table, customers, segments=["loyal"]) == 1
    assert seg.missing_consent(table, customers.drop(columns="marketing_consent")) is None
    assert listed.set_index("customer_id").loc["d", "segment_action"].startswith("Geri kazanım")


def test_rfm_table_is_where_the_segment_table_starts(sample_ctx, monkeypatch):
    """The registry's ``rfm_segments`` product (all the lifetime-value page groups by) is the segment table's
    first columns, row for row; a run's segment table starts from it instead of scoring everyone again."""
    # its own copy, computing in memory (the shared context stays untouched; another test may have saved it)
    ctx = dataclasses.replace(sample_ctx, _segments=None, context_dir=None)
    rfm = seg.rfm_table(ctx)
    assert list(rfm.columns) == [*seg.CONTRACT_COLUMNS[:-1]]
    pd.testing.assert_frame_equal(ctx.rfm_segments(), rfm)
    scored = ctx.rfm_segments()

    def scored_again(*args, **kwargs):
        raise AssertionError("the RFM scores were computed twice")

    monkeypatch.setattr("crmlib.segmentation.rfm.rfm_scores", scored_again)
    table = seg.segment_table(ctx)
    pd.testing.assert_frame_equal(table[list(rfm.columns)], rfm.astype({"monetary": float}).assign(
        monetary=rfm["monetary"].round(2)))
    assert ctx.rfm_segments() is scored
    # given params of its own, the table is scored with them, not taken from the run's
    with pytest.raises(AssertionError, match="computed twice"):
        seg.segment_table(ctx, params=dict(ctx.params["segmentation"]))
