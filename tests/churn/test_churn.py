"""Churn early warning: each signal on hand-built histories, the score, the list, backtest and win-back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlib import churn as churn
from crmlib.errors import DataError, ParamsError

AS_OF = pd.Timestamp("2026-06-30")


def _orders(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    """Orders from (customer_id, date, amount) rows."""
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["order_id"] = [f"o{i}" for i in range(len(frame))]
    frame["is_purchase"] = frame["amount"] > 0
    return frame


def _every(customer: str, first: str, last: str, days: int, amount: float = 1000.0) -> list[tuple[str, str, float]]:
    dates = pd.date_range(first, last, freq=f"{days}D")
    return [(customer, d.strftime("%Y-%m-%d"), amount) for d in dates]


def _signals(orders: pd.DataFrame, **kw) -> pd.DataFrame:
    ids = pd.DataFrame({"customer_id": sorted(orders["customer_id"].unique())})
    return churn.compute_signals(ids, orders, as_of=kw.pop("as_of", AS_OF), **kw).set_index("customer_id")


@pytest.fixture
def histories() -> pd.DataFrame:
    """A regular customer gone quiet, a regular still active, a one-time buyer, a single huge order among
    normal ones, a customer whose order value halved, one whose frequency fell."""
    rows = []
    rows += _every("quiet", "2026-01-04", "2026-06-09", 4)          # every 4 days, nothing for 21 days
    rows += _every("active", "2026-01-02", "2026-06-28", 4)
    rows += [("once", "2026-02-15", 800.0)]
    rows += _every("huge", "2025-11-01", "2026-06-20", 10)
    rows[[i for i, r in enumerate(rows) if r[0] == "huge"][5]] = ("huge", "2025-12-21", 90_000.0)
    rows += _every("smaller", "2025-12-01", "2026-05-31", 15, 1000.0)[:-3]
    rows += [("smaller", d, 500.0) for d in ("2026-06-01", "2026-06-11", "2026-06-21")]
    rows += _every("slower", "2025-10-05", "2026-03-31", 7)          # weekly in the earlier window
    rows += [("slower", "2026-04-20", 1000.0), ("slower", "2026-06-15", 1000.0)]
    rows += [("quiet", "2026-06-20", -200.0)]                       # a return is not an order
    return _orders(rows)


# -- signals on hand-built histories ----------------------------------------------------------------------
def test_overdue_fires_for_regular_customer_gone_quiet(histories):
    s = _signals(histories)
    assert s.loc["quiet", "usual_gap_days"] == 4
    assert s.loc["quiet", "days_since_last_order"] == 21
    assert s.loc["quiet", "overdue_ratio"] == pytest.approx(21 / 4)
    assert s.loc["quiet", "overdue_prob"] > 0.99
    assert s.loc["quiet", "overdue_fires"]
    assert not s.loc["active", "overdue_fires"]
    assert s.loc["active", "overdue_prob"] < 0.5
    assert s.loc["quiet", "gap_source"] == "own"
    # 21 days is under the 60-day rule: the rule misses the customer the rhythm catches
    assert not s.loc["quiet", "no_order_fires"]


def test_one_time_buyer_falls_back_to_population_gaps(histories):
    s = _signals(histories)
    once = s.loc["once"]
    assert once["gap_source"] == "population"
    assert np.isnan(once["usual_gap_days"])
    assert not once["overdue_fires"]            # no own rhythm to be overdue against
    assert once["no_order_fires"]               # 135 days without an order
    assert once["overdue_prob"] > 0.9           # a long wait against everyone's gaps still counts in the score
    assert np.isnan(once["aov_change"]) and not once["aov_drop_fires"]
    assert np.isnan(once["frequency_change"]) and not once["frequency_drop_fires"]


def test_single_huge_order_does_not_look_like_falling_order_value(histories):
    s = _signals(histories)
    assert s.loc["huge", "aov_previous"] == 1000.0    # medians ignore the 90,000 order
    assert s.loc["huge", "aov_change"] == pytest.approx(0.0)
    assert not s.loc["huge", "aov_drop_fires"]
    alone = _signals(_orders([("big", "2026-05-01", 250_000.0)]))
    assert not alone.loc["big", "aov_drop_fires"] and np.isnan(alone.loc["big", "aov_change"])
    # value over the horizon: one order in the lookback, not extrapolated from 60 days of tenure
    assert alone.loc["big", "horizon_value"] == pytest.approx(250_000.0)


def test_falling_order_value_fires(histories):
    s = _signals(histories)
    assert s.loc["smaller", "aov_recent"] == 500.0
    assert s.loc["smaller", "aov_change"] == pytest.approx(-0.5)
    assert s.loc["smaller", "aov_drop_fires"]


def test_falling_frequency_compares_recent_and_previous_windows(histories):
    s = _signals(histories)
    # windows (2026-04-01, 2026-06-30] and (2026-01-01, 2026-04-01]
    assert s.loc["slower", "orders_recent"] == 2
    assert s.loc["slower", "orders_previous"] == 13
    assert s.loc["slower", "frequency_change"] == pytest.approx(2 / 13 - 1)
    assert s.loc["slower", "frequency_drop_fires"]
    assert not s.loc["active", "frequency_drop_fires"]
    # "active" started 2026-01-02: the previous window is not complete, so no comparison
    assert np.isnan(s.loc["active", "frequency_change"])


def test_no_order_rule_fires_from_sixty_days():
    orders = _orders([("a", "2026-05-01", 10.0), ("b", "2026-05-02", 10.0)])
    s = _signals(orders)
    assert s.loc["a", "days_since_last_order"] == 60 and s.loc["a", "no_order_fires"]
    assert not s.loc["b", "no_order_fires"]
    s = _signals(orders, params={"no_order_days": 30})
    assert s.loc["b", "no_order_fires"]


def test_missing_optional_tables_make_signals_unavailable(histories):
    s = _signals(histories, tables={"payments": None, "contacts": None})
    assert set(s.attrs["unavailable"]) == {"late_payments", "unanswered_outreach", "complaints",
                                           "low_expected_orders"}
    for code in s.attrs["unavailable"]:
        assert not s[f"{code}_fires"].any()
    assert s["late_share"].isna().all()


def test_late_payments_count_the_last_invoices():
    orders = _orders([("a", "2026-06-01", 10.0), ("b", "2026-06-01", 10.0), ("c", "2026-06-01", 10.0)])
    due = ["2026-01-10", "2026-02-10", "2026-03-10", "2026-04-10", "2026-05-10", "2026-06-10"]
    paid_a = ["2026-01-30", "2026-02-10", "2026-03-25", "2026-04-09", "2026-05-20", "2026-07-15"]
    payments = pd.DataFrame({
        "customer_id": ["a"] * 6 + ["b"] * 2,
        "due_date": pd.to_datetime(due + ["2026-05-10", "2026-06-10"]),
        "paid_date": pd.to_datetime(paid_a + ["2026-05-09", "2026-06-10"]),
    })
    s = _signals(orders, tables={"payments": payments})
    assert "late_payments" not in s.attrs["unavailable"]
    # a's last five: Feb (on time), Mar (15 late), Apr (early), May (10 late), Jun (paid after as_of: 20 late)
    assert s.loc["a", "invoices_recent"] == 5 and s.loc["a", "invoices_late"] == 3
    assert s.loc["a", "days_late_mean"] == pytest.approx((15 + 10 + 20) / 3)
    assert s.loc["a", "late_payments_fires"]
    assert s.loc["b", "invoices_late"] == 0 and not s.loc["b", "late_payments_fires"]
    assert s.loc["c", "invoices_recent"] == 0 and not s.loc["c", "late_payments_fires"]
    text = churn.reasons_text("late_payments", s.loc["a"], "en")
    assert text == "late on 3 of the last 5 invoices (15 days late on average)"


def test_unanswered_outreach_and_empty_contacts():
    orders = _orders([("a", "2026-06-01", 10.0), ("b", "2026-06-01", 10.0), ("c", "2026-06-01", 10.0)])
    contacts = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "b", "b", "c"],
        "date": pd.to_datetime(["2026-05-01", "2026-06-01", "2026-06-20", "2026-05-01", "2026-06-01",
                                "2026-06-20", "2026-01-01"]),
        "responded": [0, 0, 0, 0, 1, 0, 0],
    })
    s = _signals(orders, tables={"contacts": contacts})
    assert s.loc["a", "contacts_unanswered"] == 3 and s.loc["a", "unanswered_outreach_fires"]
    assert not s.loc["b", "unanswered_outreach_fires"]        # answered once in the window
    assert s.loc["c", "contacts_recent"] == 0                  # January is outside the 90 days
    empty = _signals(orders, tables={"contacts": contacts.iloc[0:0]})
    assert "unanswered_outreach" in empty.attrs["unavailable"]
    assert not empty["unanswered_outreach_fires"].any()
    no_column = _signals(orders, tables={"contacts": contacts.drop(columns="responded")})
    assert "unanswered_outreach" in no_column.attrs["unavailable"]


def test_complaints_recent_or_still_open():
    orders = _orders([(c, "2026-06-01", 10.0) for c in "abcd"])
    tickets = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d"],
        "opened_at": pd.to_datetime(["2026-06-10", "2026-01-05", "2026-02-01", "2025-01-01"]),
        "resolved_at": pd.to_datetime(["2026-06-12", None, "2026-07-20", None]),
    })
    s = _signals(orders, tables={"tickets": tickets})
    assert s.loc["a", "tickets_recent"] == 1 and s.loc["a", "complaints_fires"]
    assert s.loc["b", "tickets_open"] == 1 and s.loc["b", "complaints_fires"]
    assert s.loc["c", "tickets_open"] == 1            # resolved only after as_of: open at as_of
    assert not s.loc["d", "complaints_fires"]         # open for 18 months: a stale record
    # b's open complaint is older than the window: not "complaints in the last 90 days: 0; still open: 1"
    assert churn.reasons_text("complaints", s.loc["b"], "tr") == (
        "90 günden eski, hâlâ açık şikâyet: 1; sonrasında yeni şikâyet yok")
    assert churn.reasons_text("complaints", s.loc["b"], "en") == (
        "complaints older than 90 days still open: 1; none since")
    assert churn.reasons_text("complaints", s.loc["a"], "en") == "complaints in the last 90 days: 1; still open: 0"
    many = churn.report.reason_sentences_many(["complaints"] * 2, s.loc[["a", "b"]].reset_index(drop=True), "en",
                                              params=churn.report._params(None))
    assert many == [churn.reasons_text("complaints", s.loc[k], "en") for k in "ab"]
    assert churn.reasons_text("unanswered_outreach", {"contacts_unanswered": 3}, "en") == (
        "3 contacts in the last 90 days went unanswered")


def test_low_expected_orders_uses_the_given_series(histories):
    eo = pd.Series({"quiet": 0.4, "active": 14.2, "once": 0.05})
    s = _signals(histories, expected_orders=eo)
    assert "low_expected_orders" not in s.attrs["unavailable"]
    assert s.loc["quiet", "low_expected_orders_fires"] and s.loc["once", "low_expected_orders_fires"]
    assert not s.loc["active", "low_expected_orders_fires"]
    assert np.isnan(s.loc["huge", "expected_orders"]) and not s.loc["huge", "low_expected_orders_fires"]


def test_duplicate_customers_are_rejected(histories):
    with pytest.raises(DataError, match="duplicate customer_id values.*quiet"):
        churn.compute_signals(pd.DataFrame({"customer_id": ["quiet", "quiet"]}), histories, as_of=AS_OF)
    with pytest.raises(DataError, match="orders lacks the column.*amount"):
        churn.compute_signals(pd.DataFrame({"customer_id": ["a"]}), histories.drop(columns="amount"),
                              as_of=AS_OF)


def test_unknown_or_inconsistent_params_are_rejected(histories):
    with pytest.raises(ParamsError, match="no_order_dayz"):
        _signals(histories, params={"no_order_dayz": 30})
    with pytest.raises(ParamsError, match="medium <= high <= critical.*'high': 0.2"):
        churn.risk_scores(_signals(histories).reset_index(), params={"levels": {"high": 0.2}})


# -- reasons in both languages ----------------------------------------------------------------------------
def test_reasons_text_in_english_and_turkish(histories):
    s = _signals(histories, expected_orders=pd.Series({"quiet": 0.4}))
    row = s.loc["quiet"]
    assert churn.reasons_text("overdue", row, "en") == "usually orders every 4 days; nothing for 21 days"
    assert churn.reasons_text("overdue", row, "tr") == "genelde 4 günde bir sipariş veriyor; 21 gündür sipariş yok"
    assert churn.reasons_text(["low_expected_orders"], row, "tr") == (
        "satın alma modeli önümüzdeki 90 günde yalnızca 0,4 sipariş bekliyor")
    assert churn.reasons_text("aov_drop", s.loc["smaller"], "en") == (
        "typical order value down 50% (last 3 orders against earlier ones)")
    assert churn.reasons_text("aov_drop", s.loc["smaller"], "tr") == (
        "tipik sipariş tutarı %50 düştü (son 3 sipariş, öncekilere göre)")
    both = churn.reasons_text("frequency_drop;no_order", s.loc["slower"], "en")
    assert both == "orders per 90 days fell from 13 to 2; no order for 15 days"
    assert churn.reasons_text("frequency_drop", s.loc["slower"], "tr") == "90 günlük sipariş sayısı 13 iken 2 oldu"
    assert churn.reasons_text("", row, "en") == ""
    assert churn.reasons_text("overdue;no_order", row, "en") == "usually orders every 4 days; nothing for 21 days"
    with pytest.raises(ParamsError, match="Unknown churn reason code 'late'"):
        churn.reasons_text("late", row, "en")


# -- score, ties, list --------------------------------------------------------------------------------------
def test_points_score_ranks_ties_by_value_at_stake_then_customer_id():
    # four customers with the same history shape (same signals fire): same points score
    rows = []
    for cid, amount in (("d", 100.0), ("b", 300.0), ("a", 100.0), ("c", 300.0)):
        rows += _every(cid, "2025-10-01", "2026-03-01", 5, amount)
    orders = _orders(rows)
    risk = churn.risk_scores(_signals(orders).reset_index())
    assert risk.attrs["method"] == "points"
    assert risk["risk_score"].nunique() == 1
    assert list(risk["customer_id"]) == ["b", "c", "a", "d"]
    assert list(risk["rank"]) == [1, 2, 3, 4]
    # points: overdue (0.6) and frequency_drop (0.3) fire; no_order is graded, 1 - exp(-122 / 60)
    assert risk["risk_score"].iloc[0] == pytest.approx(1 - 0.4 * 0.7 * np.exp(-122 / 60))
    assert risk["reasons"].iloc[0] == "no_order;overdue;frequency_drop"   # largest contribution first


def test_at_risk_list_orders_by_value_then_customer_and_masks_contacts():
    rows = []
    for cid, amount in (("d", 100.0), ("b", 300.0), ("a", 100.0), ("c", 300.0)):
        rows += _every(cid, "2025-10-01", "2026-03-01", 5, amount)
    rows += _every("e", "2026-01-01", "2026-06-29", 3, 50.0)       # active: not on the list
    orders = _orders(rows)
    signals = _signals(orders).reset_index()
    risk = churn.risk_scores(signals)
    customers = pd.DataFrame({"customer_id": list("abcde"), "name": ["Yıldız Tekstil"] * 5,
                              "email": ["ali@firma.com.tr"] * 5, "phone": ["+90 532 123 45 67"] * 5})
    lst = churn.at_risk_list(risk, signals, lang="en", customers=customers, mask_pii=True)
    assert list(lst["customer_id"]) == ["b", "c", "a", "d"]
    assert list(lst["rank"]) == [1, 2, 3, 4]
    assert lst["name"].iloc[0] == "Y***** T******"
    assert lst["email"].iloc[0] == "a***@f****.com.tr"
    assert lst["phone"].iloc[0] == "+90 5** *** ** 67"
    assert lst["reasons_text"].iloc[0].startswith("usually orders every 5 days; nothing for 122 days")
    assert set(lst["action_code"]) <= {"call", "email"} and (lst["message_text"].str.len() > 0).all()
    plain = churn.at_risk_list(risk, signals, lang="tr", customers=customers, mask_pii=False)
    assert plain["name"].iloc[0] == "Yıldız Tekstil"
    assert plain["reasons_text"].iloc[0].startswith("genelde 5 günde bir sipariş veriyor")
    flags = churn.history_flags(lst)
    assert list(flags.columns) == ["customer_id", "risk_level", "reasons", "risk_score", "value_at_stake"]


def test_suggested_action_prefers_complaints_then_value():
    base = {"complaints_fires": False, "horizon_value": 10.0, "late_payments_fires": False, "n_gaps": 5,
            "overdue_fires": True, "frequency_drop_fires": False, "unanswered_outreach_fires": False}
    from crmlib.churn.actions import suggest

    assert suggest(base, high_value=100.0, regular_min_orders=4) == ("email", "we_miss_you")
    assert suggest({**base, "horizon_value": 500.0}, high_value=100.0, regular_min_orders=4) == (
        "call", "personal_call")
    assert suggest({**base, "complaints_fires": True, "tickets_open": 1, "horizon_value": 500.0}, high_value=100.0,
                   regular_min_orders=4) == ("resolve_complaint", "complaint_followup")
    # recent complaints, all closed: check the fix worked rather than "resolve it first"
    assert suggest({**base, "complaints_fires": True, "tickets_open": 0, "horizon_value": 500.0}, high_value=100.0,
                   regular_min_orders=4) == ("complaint_checkin", "complaint_closed_followup")
    assert suggest({**base, "n_gaps": 0, "overdue_fires": False}, high_value=100.0, regular_min_orders=4) == (
        "email", "second_order_offer")


def test_expected_next_order_from_rhythm_or_model():
    summary = pd.DataFrame({
        "customer_id": ["r", "s"], "last_order_date": pd.to_datetime(["2026-06-20", "2026-06-10"]),
        "n_order_days": [10, 1], "median_gap_days": [7.0, np.nan], "rate": [0.0, 0.05],
    })

    class Linear:  # expected orders = rate * t: one order is expected after 1 / rate = 20 days
        def expected_orders_at(self, s, horizons_days):
            return np.outer(s["rate"].to_numpy(), horizons_days)

    nxt = churn.expected_next_order(summary, as_of=AS_OF, model=Linear()).set_index("customer_id")
    assert nxt.loc["r", "expected_next_order_date"] == pd.Timestamp("2026-06-27")
    assert nxt.loc["r", "basis"] == "rhythm" and nxt.loc["r", "days_to_next_order"] == -3
    assert nxt.loc["s", "expected_next_order_date"] == pd.Timestamp("2026-07-20")
    assert nxt.loc["s", "basis"] == "model"
    alone = churn.expected_next_order(summary, as_of=AS_OF).set_index("customer_id")
    assert alone.loc["s", "basis"] == "none" and pd.isna(alone.loc["s", "expected_next_order_date"])


def test_the_model_s_expected_orders_on_the_grid_are_its_single_horizon_values(sample_ctx):
    """The next order's grid of horizons comes from one call (``ClvModel.expected_orders_at``): the same
    values, bit for bit, as one ``expected_orders`` call per horizon (which took 12-16 s at 850k customers)."""
    from crmlib.churn.actions import _GRID_DAYS

    model = sample_ctx.clv_model()
    summary = sample_ctx.customer_summary
    grid = model.expected_orders_at(summary, list(_GRID_DAYS))
    one_by_one = np.column_stack([model.expected_orders(summary, horizon_days=float(t)).to_numpy()
                                  for t in _GRID_DAYS])
    assert grid.shape == (len(summary), len(_GRID_DAYS))
    assert np.array_equal(grid, one_by_one)


# -- win-back across runs -------------------------------------------------------------------------------
def test_winback_counts_orders_after_each_runs_as_of():
    flags = pd.DataFrame({
        "run_id": ["r1"] * 3 + ["r2"] * 2 + ["r3"],
        "as_of": pd.to_datetime(["2026-01-07"] * 3 + ["2026-01-14"] * 2 + ["2026-02-04"]),
        "customer_id": ["A", "B", "C", "B", "D", "E"],
        "risk_level": ["high", "critical", "high", "critical", "high", "high"],
        "reasons": ["overdue", "overdue;late_payments", "no_order", "late_payments", "overdue", "overdue"],
    })
    orders = _orders([("A", "2026-01-09", 100.0), ("B", "2026-01-20", 100.0), ("C", "2026-01-05", 100.0),
                      ("D", "2026-01-14", 100.0), ("D", "2026-01-20", -50.0), ("E", "2026-02-10", 100.0)])
    as_of = pd.Timestamp("2026-01-31")
    week = churn.winback(flags, orders, as_of=as_of)
    # r1 (week of Mon 2026-01-05): A and B ordered after 7 Jan, C only before; r2: B yes, D only on the day
    # (and a return later); r3 is after as_of
    assert list(week["week"]) == [pd.Timestamp("2026-01-05"), pd.Timestamp("2026-01-12")]
    assert list(week["n_flagged"]) == [3, 2] and list(week["n_won_back"]) == [2, 1]
    assert week["winback_rate"].tolist() == pytest.approx([2 / 3, 1 / 2])
    reason = churn.winback(flags, orders, as_of=as_of, by="reason").set_index("reason")
    assert reason.loc["overdue", "n_flagged"] == 3 and reason.loc["overdue", "n_won_back"] == 2
    assert reason.loc["late_payments", "n_flagged"] == 2 and reason.loc["late_payments", "n_won_back"] == 2
    assert reason.loc["no_order", "n_won_back"] == 0
    assert churn.winback(None, orders, as_of=as_of).empty
    with pytest.raises(ValueError, match="by='month'"):
        churn.winback(flags, orders, as_of=as_of, by="month")


# -- the learned score on a simulation with a known mechanism -----------------------------------------
def _simulated(n: int = 600, seed: int = 3) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Customers ordering at their own pace until an exponential lifetime ends; they slow down and buy
    smaller orders in the last third of their life (the mechanism the signals are meant to catch)."""
    rng = np.random.default_rng(seed)
    start, as_of = pd.Timestamp("2024-07-01"), pd.Timestamp("2026-06-30")
    span = (as_of - start).days
    rows = []
    for i in range(n):
        t = float(rng.integers(0, span - 30))
        birth, gap, life = t, rng.lognormal(np.log(15), 0.7), rng.exponential(300)
        while t <= span and t - birth < life:
            late = (t - birth) > 0.66 * life
            rows.append((f"c{i:04d}", (start + pd.Timedelta(days=int(t))).strftime("%Y-%m-%d"),
                         float(rng.lognormal(np.log(800), 0.4)) * (0.6 if late else 1.0)))
            t += max(1.0, rng.gamma(4, gap / 4) * (2.0 if late else 1.0))
    return _orders(rows), as_of


def test_learned_score_beats_the_60_day_rule_out_of_time():
    orders, as_of = _simulated()
    metrics = churn.backtest(orders, as_of=as_of, cutoff=as_of - pd.Timedelta(days=90)).set_index("method")
    assert metrics.attrs["method"] == "logistic"
    # measured 0.90 against 0.84 (seed 3); require a clear margin
    assert metrics.loc["risk_score", "auc"] >= metrics.loc["no_order_rule", "auc"] + 0.03
    assert metrics.loc["risk_score", "precision_top_10"] >= metrics.loc["no_order_rule", "precision_top_10"]
    assert 0 < metrics["base_rate"].iloc[0] < 1
    again = churn.backtest(orders, as_of=as_of, cutoff=as_of - pd.Timedelta(days=90))
    pd.testing.assert_frame_equal(metrics.reset_index(), again)    # deterministic
    with pytest.raises(DataError, match="outcome is not known yet.*2026-04-01"):
        churn.backtest(orders, as_of=as_of, cutoff=as_of - pd.Timedelta(days=30))


def test_small_shop_falls_back_to_points_score(histories):
    model = churn.fit_risk_model(histories, as_of=AS_OF)
    assert model.method_ == "points" and "fewer than 200 customers" in model.why_points_
    risk = churn.risk_scores(_signals(histories).reset_index(), model=model)
    assert risk.set_index("customer_id").loc["quiet", "risk_level"] in ("high", "critical")
    assert risk.set_index("customer_id").loc["active", "risk_level"] == "low"


def test_precision_at_top_share_averages_ties():
    from crmlib.churn.backtesting import precision_at

    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1], dtype=float)
    rule = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=float)   # 4 flagged, 2 of them lost
    assert precision_at(y, rule, 0.2) == pytest.approx(0.5)
    score = np.arange(10, 0, -1, dtype=float)
    assert precision_at(y, score, 0.1) == pytest.approx(1.0)
    assert precision_at(y, score, 0.2) == pytest.approx(0.5)


# -- on the sample, against the simulation's truth -----------------------------------------------------------
def test_risk_score_beats_60_day_rule_against_truth_csv(sample_ctx, sample_truth):
    """Label: lost = no purchase order in the 90 days after as_of (``orders_next_90d == 0``), the event the
    score predicts. Measured on the session sample (2,000 customers, seed 7), AUC score / 60-day rule /
    BG/NBD expected orders alone: all 1,937 customers 0.967 / 0.869 / 0.960; the 963 active ones (an order
    within 180 days) 0.877 / 0.707 / 0.850. Asserted: +0.05 over the rule on all (measured +0.10), +0.10 on
    the active ones (measured +0.17), and no worse than expected orders alone minus 0.01."""
    ctx = sample_ctx
    p = ctx.params["churn"]
    eo = ctx.clv_model().expected_orders(ctx.customer_summary, horizon_days=p["horizon_days"])
    lost = sample_truth.set_index("customer_id")["orders_next_90d"] == 0
    m = churn.backtest(ctx.orders, as_of=ctx.as_of, cutoff=ctx.as_of, labels=lost, tables=ctx.tables, params=p,
                       clv_params=ctx.params["clv"], expected_orders=eo, population=["all", "active"])
    assert m.attrs["method"] == "logistic"
    auc = m.set_index(["population", "method"])["auc"]
    assert m.loc[m["population"] == "all", "n_customers"].iloc[0] == len(ctx.customer_summary)
    assert auc["all", "risk_score"] >= auc["all", "no_order_rule"] + 0.05
    assert auc["active", "risk_score"] >= auc["active", "no_order_rule"] + 0.10
    for pop in ("all", "active"):
        assert auc[pop, "risk_score"] >= auc[pop, "expected_orders"] - 0.01
    top20 = m.set_index(["population", "method"])["precision_top_20"]
    assert top20["active", "risk_score"] >= top20["active", "no_order_rule"] + 0.05


def test_points_fallback_beats_60_day_rule_against_truth_csv(sample_ctx, sample_truth):
    """The small-shop fallback, forced on the sample without optional tables or BG/NBD. Measured (seed 7):
    AUC 0.943 against 0.869 on all customers, 0.782 against 0.707 on the active ones."""
    ctx = sample_ctx
    p = {**ctx.params["churn"], "min_train_customers": 10**9}
    lost = sample_truth.set_index("customer_id")["orders_next_90d"] == 0
    m = churn.backtest(ctx.orders, as_of=ctx.as_of, cutoff=ctx.as_of, labels=lost, params=p,
                       population=["all", "active"])
    assert m.attrs["method"] == "points"
    auc = m.set_index(["population", "method"])["auc"]
    assert auc["all", "risk_score"] >= auc["all", "no_order_rule"] + 0.05
    assert auc["active", "risk_score"] >= auc["active", "no_order_rule"] + 0.05


# -- report helpers and charts ------------------------------------------------------------------------------
def test_export_table_starts_with_contract_columns_and_summary_speaks_both_languages(histories):
    from crmlib.churn import report as churn_report

    signals = _signals(histories).reset_index()
    risk = churn.risk_scores(signals)
    out = churn_report.export_table(risk, signals, lang="en")
    assert list(out.columns[:6]) == ["customer_id", "risk_score", "risk_level", "reasons",
                                     "days_since_last_order", "usual_gap_days"]
    assert len(out) == len(signals) and out["customer_id"].is_unique
    quiet = out.set_index("customer_id").loc["quiet"]
    assert quiet["reasons_text"] == "usually orders every 4 days; nothing for 21 days"
    at_risk = churn.at_risk_list(risk, signals, lang="tr")
    for lang, first_run, points in (("en", "first run", "fixed points"), ("tr", "ilk çalıştırma", "sabit puan")):
        lines = churn_report.summary_lines(risk, at_risk, lang=lang, currency="TRY", params=churn.DEFAULTS,
                                           metrics=None, winback_week=churn.winback(None, histories, as_of=AS_OF),
                                           method="points")
        assert any(first_run in line for line in lines) and any(points in line for line in lines)
        assert "quiet" in lines[1]                       # the first customer to call is named
    levels = churn_report.level_table(risk, lang="en", params=churn.DEFAULTS)
    assert levels["n_customers"].sum() == len(risk)


def test_charts_set_titles_from_the_catalogue(histories):
    import matplotlib.pyplot as plt

    from crmlib.churn import plots as charts

    signals = _signals(histories).reset_index()
    risk = churn.risk_scores(signals)
    metrics = pd.DataFrame({"method": ["risk_score", "no_order_rule"], "auc": [0.9, 0.7],
                            "precision_top_10": [0.8, 0.6], "precision_top_20": [0.7, 0.6]})
    weekly = pd.DataFrame({"week": pd.to_datetime(["2026-01-05", "2026-01-12"]), "n_flagged": [3, 2],
                           "winback_rate": [2 / 3, 0.5]})
    axes = [charts.plot_risk_distribution(risk, lang="tr", levels=churn.DEFAULTS["levels"], horizon_days=90),
            charts.plot_top_reasons(risk, lang="tr"), charts.plot_rhythm(risk, lang="en"),
            charts.plot_backtest(metrics, lang="en"), charts.plot_winback(weekly, lang="tr")]
    titles = [ax.get_title() for ax in axes]
    assert titles[0] == "Risk skoruna göre hâlâ alım yapan müşteriler"
    assert titles[3] == "Backtest: risk score against the simple alternatives"
    assert all(titles) and all(ax.get_xlabel() or ax.get_ylabel() for ax in axes)
    for ax in axes:
        plt.close(ax.figure)


def test_reason_codes_match_a_per_customer_sort_with_ties():
    from crmlib.churn.scoring import SIGNALS, _reason_codes

    rng = np.random.default_rng(5)
    contrib = rng.integers(-2, 4, size=(400, len(SIGNALS))) / 2.0  # many ties and non-positive values
    contrib[rng.random(contrib.shape) < 0.05] = np.nan
    fires = rng.random(contrib.shape) < 0.6
    for n in (0, 1, 3, len(SIGNALS) + 2):
        expected = []
        for row_c, row_f in zip(contrib, fires, strict=True):
            picked = [(-v, i, c) for i, (c, v, f) in enumerate(zip(SIGNALS, row_c, row_f, strict=True)) if f and v > 0]
            expected.append(";".join(c for _, _, c in sorted(picked)[:n]))
        assert list(_reason_codes(contrib, fires, n)) == expected
    assert len(_reason_codes(contrib[:0], fires[:0], 3)) == 0
