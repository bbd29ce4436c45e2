"""The weekly loop: list memory, the move to the win-back campaign, and win-back counted per episode."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlib import churn
from crmlib.churn import weekly as wk

PARAMS = {"lapsed_days": 180, "max_weeks_on_list": 4}
RUNS = pd.date_range("2026-05-04", periods=8, freq="7D")  # eight Mondays


def _flags(rows: list[tuple[str, int, str]]) -> pd.DataFrame:
    """(customer, run number 0..7, list) → history rows."""
    return pd.DataFrame({"run_id": [f"r{i}" for _, i, _ in rows], "as_of": [RUNS[i] for _, i, _ in rows],
                         "customer_id": [c for c, _, _ in rows], "list": [lst for _, _, lst in rows],
                         "reasons": ["overdue;no_order" if c != "C" else "complaints" for c, _, _ in rows],
                         "action_code": ["call"] * len(rows)})


def _orders(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [c for c, _ in rows], "order_date": pd.to_datetime([d for _, d in rows]),
                         "amount": 100.0})


# A: listed runs 0-2, orders between runs 2 and 3 → one episode, won back, 3 weeks
# B: listed 8 runs, 4 on the call list then 4 on the campaign list, never orders → one open episode
# C: listed run 1, not by run 2 (left the list), listed again runs 4-5, orders after run 5 → two episodes
# D: listed run 0, lapses (180 days after its last order) before run 1 → lost
FLAGS = _flags([("A", 0, "call"), ("A", 1, "call"), ("A", 2, "call"),
                *[("B", i, "call") for i in range(4)], *[("B", i, "winback") for i in range(4, 8)],
                ("C", 1, "call"), ("C", 4, "call"), ("C", 5, "call"),
                ("D", 0, "call")])
ORDERS = _orders([("A", "2026-03-01"), ("A", "2026-05-20"), ("B", "2026-03-15"), ("C", "2026-04-01"),
                  ("C", "2026-06-10"), ("D", "2025-11-06")])


def test_episodes_count_each_customer_once_per_listing_run():
    eps = wk.episodes(FLAGS, ORDERS, as_of=RUNS[-1], params=PARAMS).set_index(["customer_id", "first_listed"])
    assert len(eps) == 5
    a = eps.loc[("A", RUNS[0])]
    assert (a["outcome"], a["outcome_date"], a["weeks_on_list"]) == ("won_back", pd.Timestamp("2026-05-20"), 3)
    b = eps.loc[("B", RUNS[0])]
    assert (b["outcome"], b["weeks_on_list"], b["moved_to_winback"]) == ("open", 4, RUNS[4])
    assert eps.loc[("C", RUNS[1]), "outcome"] == "left_list"
    assert eps.loc[("C", RUNS[1]), "outcome_date"] == RUNS[2]
    assert (eps.loc[("C", RUNS[4]), "outcome"], eps.loc[("C", RUNS[4]), "weeks_on_list"]) == ("won_back", 2)
    d = eps.loc[("D", RUNS[0])]
    assert (d["outcome"], d["outcome_date"]) == ("lost", pd.Timestamp("2026-05-05"))


def test_winback_rates_count_episodes_not_list_places():
    eps = wk.episodes(FLAGS, ORDERS, as_of=RUNS[-1], params=PARAMS)
    by_reason = wk.winback_rates(eps, by="reason").set_index("reason")
    # overdue: A (won), B (open), D (lost) → 1 won of 2 closed, although A, B and D fill 16 list places
    assert by_reason.loc["overdue", ["n_episodes", "n_won_back", "n_lost", "n_open"]].tolist() == [3, 1, 1, 1]
    assert by_reason.loc["overdue", "winback_rate"] == pytest.approx(0.5)
    assert by_reason.loc["complaints", ["n_episodes", "n_won_back", "n_left_list"]].tolist() == [2, 1, 1]
    by_week = wk.winback_rates(eps, by="week")
    assert by_week["n_episodes"].sum() == len(eps) == 5
    assert wk.winback_rates(eps.iloc[0:0], by="week").empty
    with pytest.raises(ValueError, match="by='month'"):
        wk.winback_rates(eps, by="month")


def test_list_state_counts_consecutive_lists_since_the_last_order():
    state = wk.list_state(FLAGS, ORDERS, as_of=RUNS[-1] + pd.Timedelta(days=7)).set_index("customer_id")
    assert state.loc["B", "in_campaign"] and state.loc["B", "weeks_on_list"] == 0  # its last list was the campaign
    assert not state.loc["C", "in_campaign"] and state.loc["C", "weeks_on_list"] == 0  # not on the latest list
    state5 = wk.list_state(FLAGS, ORDERS, as_of=RUNS[4]).set_index("customer_id")
    assert state5.loc["B", "weeks_on_list"] == 4  # runs 0-3
    assert state5.loc["A", "weeks_on_list"] == 0  # ordered after its last listing


def _risk(ids: list[str], value: list[float], days: list[float]) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({"customer_id": ids, "risk_score": 0.8, "risk_level": "high", "value_at_stake": value,
                         "reasons": "overdue", "days_since_last_order": days, "usual_gap_days": 20.0,
                         "rank": np.arange(1, n + 1)})


def _signals(ids: list[str]) -> pd.DataFrame:
    n = len(ids)
    fires = {f"{c}_fires": False for c in churn.SIGNALS}
    return pd.DataFrame({"customer_id": ids, "last_order_date": pd.Timestamp("2026-04-01"),
                         "horizon_value": 10.0, "n_gaps": 3, "tickets_open": 0, "expected_orders": 1.0,
                         "usual_gap_days": 20.0, "days_since_last_order": 40.0, **fires} | {"overdue_fires": [True] * n})


def test_eight_weekly_runs_never_keep_a_customer_more_than_max_weeks():
    """Twelve customers at risk every week, a list of five: nobody stays more than four weeks in a row, and the
    history of eight runs, recomputed from scratch, gives the same lists (the loop is a function of history)."""
    ids = [f"K{i:02d}" for i in range(12)]
    value = [1000.0 - 10 * i for i in range(12)]
    orders = _orders([(c, "2026-03-20") for c in ids])
    params = {"list_size": 5, "max_weeks_on_list": 4, "lapsed_days": 180}

    def eight_runs() -> pd.DataFrame:
        history = pd.DataFrame()
        for i, as_of in enumerate(RUNS):
            days = [(as_of - pd.Timestamp("2026-03-20")).days] * len(ids)
            risk = _risk(ids, value, days)
            res = churn.weekly_call_lists(risk, _signals(ids), flags=history if len(history) else None,
                                          orders=orders, as_of=as_of, params=params, lang="en")
            assert len(res.at_risk) == 5
            history = pd.concat([history, res.flags.assign(run_id=f"r{i}", as_of=as_of)], ignore_index=True)
        return history

    history = eight_runs()
    calls = history.loc[history["list"] == "call"].pivot_table(index="customer_id", columns="as_of",
                                                               values="risk_score", aggfunc="size").notna()
    for _, row in calls.iterrows():
        streak = best = 0
        for listed in row.reindex(RUNS, fill_value=False):
            streak = streak + 1 if listed else 0
            best = max(best, streak)
        assert best <= 4
    # weeks 1-4: the top five; week 5 they move to the campaign and the next five take their places
    week5 = set(history.loc[(history["as_of"] == RUNS[4]) & (history["list"] == "call"), "customer_id"])
    assert week5 == set(ids[5:10])
    campaign5 = history.loc[(history["as_of"] == RUNS[4]) & (history["list"] == "winback"), "customer_id"]
    assert set(campaign5) == set(ids[:5])
    pd.testing.assert_frame_equal(history, eight_runs())


def test_contacted_customers_without_reply_move_down():
    ids = ["A", "B", "C"]
    risk = _risk(ids, [300.0, 200.0, 100.0], [40.0, 40.0, 40.0])
    contacts = pd.DataFrame({"customer_id": ["A", "A", "B"], "date": pd.to_datetime(["2026-05-01"] * 3),
                             "responded": [False, False, True]})
    res = churn.weekly_call_lists(risk, _signals(ids), flags=None, orders=_orders([(c, "2026-03-20") for c in ids]),
                                  as_of="2026-05-04", params={"list_size": 5, "min_days_between_calls": 0},
                                  lang="en", contacts=contacts)   # the contact-frequency cap off: see below
    assert res.at_risk["customer_id"].tolist() == ["B", "C", "A"]
    assert res.at_risk["rank"].tolist() == [1, 2, 3]
    assert res.changes["moved_down"] == 1 and res.changes["previous"] is None


def test_control_group_is_an_exact_reproducible_share_of_new_customers():
    ids = [f"N{i:03d}" for i in range(200)]
    call = pd.DataFrame({"customer_id": ids, "weeks_on_list": [1] * 150 + [2] * 50})
    state = pd.DataFrame({"customer_id": ids[150:], "weeks_on_list": 1, "in_campaign": False,
                          "last_listed": RUNS[0], "group": ["control"] * 10 + ["call"] * 40})
    g = wk.assign_groups(call, state, as_of=RUNS[1], share=0.1, seed=7)
    assert (g.iloc[:150] == "control").sum() == 15  # round(10% of the 150 new customers)
    assert g.iloc[150:].tolist() == ["control"] * 10 + ["call"] * 40  # continuing customers keep their group
    pd.testing.assert_series_equal(g, wk.assign_groups(call, state, as_of=RUNS[1], share=0.1, seed=7))
    other = wk.assign_groups(call, state, as_of=RUNS[1], share=0.1, seed=8)
    assert (other.iloc[:150] == "control").sum() == 15 and not other.equals(g)
    assert (wk.assign_groups(call, state, as_of=RUNS[1], share=0.0, seed=7).iloc[:150] == "call").all()


def test_control_comparison_gives_rates_difference_and_newcombe_interval():
    # called: 30 of 100 closed episodes won back; control: 2 of 20; 5 open episodes are left out
    n = [("call", "won_back")] * 30 + [("call", "lost")] * 70 + [("control", "won_back")] * 2 + \
        [("control", "left_list")] * 18 + [("call", "open")] * 5
    eps = pd.DataFrame({"customer_id": [f"E{i}" for i in range(len(n))], "group": [g for g, _ in n],
                        "outcome": [o for _, o in n], "reasons": "overdue"})
    out = wk.control_comparison(eps).iloc[0]
    assert (out["n_call"], out["won_call"], out["n_control"], out["won_control"]) == (100, 30, 20, 2)
    assert out["difference"] == pytest.approx(0.2)
    # Newcombe's hybrid score interval (Newcombe 1998, method 10) by hand: Wilson 95% intervals 30/100 →
    # [0.2189, 0.3958], 2/20 → [0.0278, 0.3010]; low = 0.2 - sqrt(0.0811² + 0.2010²) = -0.0168,
    # high = 0.2 + sqrt(0.0958² + 0.0722²) = 0.3199: the calls' effect is not yet shown at this size
    assert out["ci_low"] == pytest.approx(-0.0168, abs=5e-4) and out["ci_high"] == pytest.approx(0.3199, abs=5e-4)
    assert wk.control_comparison(eps, by="reason")["reason"].tolist() == ["overdue"]


def test_precision_at_the_list_size_counts_the_top_n():
    from crmlib.churn.backtesting import precision_at

    y = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 0], dtype=float)
    score = np.arange(10, 0, -1, dtype=float)  # ranked in order
    assert precision_at(y, score, 4 / 10) == pytest.approx(3 / 4)  # calling the top 4 reaches 3 who were lost
