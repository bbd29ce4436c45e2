"""``crmlib.churn.report.analyse``: the churn notebook's one call, on the sample and on a thin history."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlib.churn import report as churn_report
from crmlib.report import i18n
from tests.conftest import context_from, write_sample_params
from tests.thin.cuts import make_cut


@pytest.fixture(scope="module")
def analysed(sample_params, tmp_path_factory):
    exports = tmp_path_factory.mktemp("churn_exports")
    ctx = context_from(sample_params, exports)
    return ctx, churn_report.analyse(ctx), exports


def test_analyse_returns_every_section_and_agrees_with_the_exports(analysed):
    ctx, res, exports = analysed
    assert isinstance(res, churn_report.ChurnAnalysis)
    risk_csv = pd.read_csv(exports / "churn_risk.csv", dtype={"customer_id": str})
    at_risk_csv = pd.read_csv(exports / "at_risk.csv", dtype={"customer_id": str})
    assert len(risk_csv) == len(res.risk) == len(ctx.customer_summary)
    # the table shows the call list that was exported, in the same order
    assert at_risk_csv["customer_id"].tolist() == res.call_list["customer_id"].tolist()
    assert len(res.call_list) > 0 and res.messages["action_count"].sum() == len(res.call_list)
    # the managers' HTML masks contacts (default): no masked phone column, while the sales list keeps phones
    assert "phone" not in res.call_list.columns and "phone" in at_risk_csv.columns
    # the level table counts every customer once (four levels of the active ones, then the lapsed)
    assert res.level_table["n_customers"].sum() == len(res.risk)
    assert res.level_table["n_customers"].iloc[:4].sum() == len(res.active)
    assert res.tiles[2][1] == f"{len(res.call_list):,}"
    assert len(res.summary) >= 3 and all(isinstance(line, str) and line for line in res.summary)
    # the sample has enough history for the out-of-time model and its backtest
    assert res.method == "logistic" and res.has_backtest
    score = res.backtest_active.set_index("method")["auc"]
    assert score["risk_score"] > max(0.6, score["no_order_rule"])
    assert "n_scored" in res.backtest.columns and res.backtest["population"].notna().all()
    assert {"signal", "weight"} <= set(res.weights.columns) and not res.weights["signal"].str.contains("churn.").any()
    assert res.winback_text == i18n.t("churn.p.first_run", "en") and not res.has_winback  # no earlier runs
    assert (exports / "lapsed_products.csv").exists() and (exports / "winback.csv").exists()


def test_the_summary_names_customers_as_the_html_tables_show_them(analysed):
    """Managers' HTML masks contacts (``report.mask_pii_in_html``, default): the summary's names too."""
    ctx, res, exports = analysed
    first = pd.read_csv(exports / "at_risk.csv", dtype=str).iloc[0]  # the sales list keeps the name
    called = next(line for line in res.summary if first["customer_id"] in line)
    assert isinstance(first["name"], str) and first["name"] not in called
    assert "*" in called


def test_every_table_column_has_a_unit_or_text(analysed):
    _, res, _ = analysed
    numeric = [c for f in (res.level_table, res.call_list, res.messages, res.backtest, res.calibration,
                           res.lapsed_products, res.winback_by_reason, res.control_by_reason)
               if len(f) for c in f.columns if pd.api.types.is_numeric_dtype(f[c]) or pd.api.types.is_datetime64_any_dtype(f[c])]
    assert set(numeric) <= set(churn_report.UNITS)
    assert all(i18n.has(f"churn.col.{c}") for c in res.call_list.columns)


def test_a_thin_history_gives_empty_sections_not_errors(sample_dir, tmp_path):
    cut = make_cut(sample_dir, tmp_path / "data", "days_30")
    ctx = context_from(write_sample_params(cut, tmp_path / "thin.yaml"), None)
    res = churn_report.analyse(ctx)
    assert len(res.risk) == len(ctx.customer_summary) > 0
    assert res.method == "points" and not res.has_backtest
    # a rule-based score is not a probability: no percentage in the list, the chart's axis says so
    assert res.active.attrs.get("method") == "points"
    if len(res.call_list):
        assert not res.call_list["risk_text"].str.contains("%").any()
        assert res.call_list["risk_text"].str.contains(r"\(score \d\.\d\d\)").all()
    assert churn_report.risk_text(0.65, "high", "tr", points=True) == "Yüksek (skor 0,65)"
    assert churn_report.risk_text(0.65, "high", "en") == "High (65%)"
    assert res.backtest_lines == [i18n.t("churn.p.no_backtest", "en", days=res.horizon_days)]
    for frame in (res.backtest, res.calibration, res.winback_by_reason, res.control_by_reason, res.call_list):
        assert isinstance(frame, pd.DataFrame)
    assert not res.has_calibration and not res.has_control
    # a month of history has no lapsed customer: the summary does not say "another 0 customers ... lapsed"
    assert not any("lapsed" in line for line in res.summary)
