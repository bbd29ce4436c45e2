"""Call-list rules a manager can trust, on constructed customers: one lapsed level, named complaints, no
"100%" risk, the team's capacity and a contact-frequency cap, shares on a stated base, AUC for analysts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlib import churn
from crmlib.churn import report as crep

AS_OF = pd.Timestamp("2026-05-04")


def risk_frame(ids: list[str], *, days: list[float], score: list[float] | float = 0.8,
               value: list[float] | None = None) -> pd.DataFrame:
    n = len(ids)
    scores = np.broadcast_to(np.asarray(score, dtype=float), (n,))
    level = np.where(np.asarray(days) >= 180, "lapsed", np.where(scores >= 0.75, "critical", "high"))
    return pd.DataFrame({"customer_id": ids, "risk_score": scores, "risk_level": level,
                         "value_at_stake": value if value is not None else [100.0 * (n - i) for i in range(n)],
                         "reasons": "overdue", "days_since_last_order": days, "usual_gap_days": 20.0,
                         "rank": np.arange(1, n + 1)})


def signals_frame(ids: list[str], *, complaints: list[bool] | None = None,
                  tickets_open: list[int] | None = None) -> pd.DataFrame:
    n = len(ids)
    fires = {f"{c}_fires": [False] * n for c in churn.SIGNALS}
    fires["overdue_fires"] = [True] * n
    fires["complaints_fires"] = complaints or [False] * n
    return pd.DataFrame({"customer_id": ids, "last_order_date": AS_OF - pd.Timedelta(days=40),
                         "horizon_value": 10.0, "n_gaps": 3, "tickets_open": tickets_open or [0] * n,
                         "tickets_recent": 0, "expected_orders": 1.0, "usual_gap_days": 20.0,
                         "days_since_last_order": 40.0, **fires})


def test_lapsed_customers_have_their_own_level_and_never_reach_the_call_list():
    signals = signals_frame(["act", "gone"]).assign(days_since_last_order=[40.0, 400.0])
    risk = churn.risk_scores(signals)
    level = risk.set_index("customer_id")["risk_level"]
    assert level["gone"] == churn.LAPSED_LEVEL and level["act"] in churn.LEVELS
    listed = churn.at_risk_list(risk.assign(value_at_stake=50.0), signals, params={"list_levels": [
        "low", "medium", "high", "critical", "lapsed"]}, lang="en")
    assert "gone" not in set(listed["customer_id"])


def test_resolve_the_complaint_first_only_with_an_open_complaint_and_named():
    ids = ["open", "closed", "stale"]
    tickets = pd.DataFrame({
        "customer_id": ["open", "closed", "stale"], "ticket_id": ["T1", "T2", "T3"],
        "opened_at": pd.to_datetime(["2026-04-20", "2026-04-10", "2025-03-01"]),
        "resolved_at": pd.to_datetime([pd.NaT, "2026-04-12", pd.NaT]),
        "category": ["Geç teslimat", "Hasarlı ürün", "Fatura"],
    })
    # "stale": open for 429 days, older than tickets_open_max_age_days (365): a stale record, not this week's
    signals = signals_frame(ids, complaints=[True, True, False], tickets_open=[1, 0, 0])
    out = churn.at_risk_list(risk_frame(ids, days=[40.0] * 3), signals, lang="tr", tickets=tickets,
                             as_of=AS_OF).set_index("customer_id")
    assert out.loc["open", "action_code"] == "resolve_complaint"
    assert out.loc["open", "action_text"] == "Önce açık şikâyeti çözün (Geç teslimat, açılış 20.04.2026), sonra arayın"
    assert out.loc["closed", "action_code"] == "complaint_checkin"
    assert out.loc["stale", "action_code"] != "resolve_complaint"
    assert not out.drop(index="open")["action_text"].str.contains("Önce").any()


def test_risk_is_never_shown_as_100_percent():
    ids = ["a", "b", "c"]
    out = churn.at_risk_list(risk_frame(ids, days=[40.0] * 3, score=[1.0, 0.996, 0.874]), signals_frame(ids),
                             lang="tr")
    assert out["risk_text"].tolist() == ["Kritik (%99 ve üzeri)", "Kritik (%99 ve üzeri)", "Kritik (%87)"]
    assert not out["risk_text"].str.contains("100").any()
    assert churn.report.risk_text(1.0, "critical", "en") == "Critical (99%+)"


def test_the_weekly_list_respects_the_team_capacity_and_a_contact_frequency_cap():
    ids = [f"k{i}" for i in range(6)]
    contacts = pd.DataFrame({"customer_id": ["k0", "k1"], "date": pd.to_datetime(["2026-04-30", "2026-04-10"]),
                             "responded": [True, False]})
    res = churn.weekly_call_lists(risk_frame(ids, days=[40.0] * 6), signals_frame(ids), flags=None,
                                  orders=pd.DataFrame({"customer_id": ids, "order_date": AS_OF - pd.Timedelta(days=40),
                                                       "amount": 10.0}),
                                  as_of=AS_OF, params={"calls_per_week": 3, "control_share": 0.0}, lang="en",
                                  contacts=contacts)
    # k0 was reached 4 days ago (within 14): not again this week; k1 (24 days ago) may be called
    assert res.at_risk["customer_id"].tolist() == ["k1", "k2", "k3"]
    assert res.changes["deferred_recent_contact"] == 1 and res.changes["cut_by_capacity"] == 2
    assert churn.DEFAULTS["calls_per_week"] is None and churn.DEFAULTS["min_days_between_calls"] == 14


def test_level_shares_add_up_to_100_percent_of_their_stated_base():
    ids = [f"c{i}" for i in range(10)]
    days = [10.0] * 4 + [50.0] * 3 + [300.0] * 3
    risk = risk_frame(ids, days=days, score=[0.2, 0.4, 0.6, 0.8, 0.9, 0.1, 0.55, 0.9, 0.9, 0.9])
    risk["risk_level"] = np.where(np.asarray(days) >= 180, "lapsed", np.select(
        [risk["risk_score"] >= 0.75, risk["risk_score"] >= 0.5, risk["risk_score"] >= 0.3],
        ["critical", "high", "medium"], "low"))
    params = {**churn.DEFAULTS}
    table = crep.level_table(risk, lang="en", params=params)
    assert table["customer_share"].sum() == pytest.approx(1.0)
    assert table["active_share"].sum() == pytest.approx(1.0) and np.isnan(table["active_share"].iloc[-1])
    lines = crep.summary_lines(risk, risk.head(0), lang="en", currency="TRY", params=params, metrics=None,
                               winback_week=None, method="logistic")
    high_critical = table.loc[table["risk_level"].isin(["High", "Critical"]), "active_share"].sum()
    assert "(" + f"{100 * high_critical:.1f}%" in lines[0]


def test_the_auc_is_for_analysts_not_the_managers_summary():
    metrics = pd.DataFrame({"population": ["active"] * 2, "method": ["risk_score", "no_order_rule"],
                            "auc": [0.81, 0.66], "precision_top_10": [0.7, 0.5], "precision_top_20": [0.6, 0.4],
                            "base_rate": [0.3, 0.3], "n_customers": [500, 500]})
    risk = risk_frame(["a"], days=[40.0])
    lines = crep.summary_lines(risk, risk.head(0), lang="en", currency="TRY", params=churn.DEFAULTS,
                               metrics=metrics, winback_week=None, method="logistic")
    assert not any("AUC" in line for line in lines)
    assert "AUC of 0.81" in crep.backtest_line(metrics, lang="en", params=churn.DEFAULTS)
