"""KPI formulas on hand-built orders, surveys and marketing tables (every expected number counted by hand)."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from crmlib.errors import DataError
from crmlib.overview import kpis, report


def make_orders(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    """Orders from (customer_id, date, amount); is_purchase = amount > 0 as in sql/orders.sql."""
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["order_id"] = [f"o{i}" for i in range(len(frame))]
    frame["is_purchase"] = frame["amount"] > 0
    return frame


@pytest.fixture
def orders() -> pd.DataFrame:
    # January: a (2 orders 100 + 50), b (200); February: nobody; March: a (80), b (70), c return only (-30)
    # April: b (40), d (60)
    return make_orders(
        [
            ("a", "2024-01-05", 100.0),
            ("a", "2024-01-20", 50.0),
            ("b", "2024-01-31", 200.0),
            ("c", "2024-03-02", -30.0),
            ("a", "2024-03-05", 80.0),
            ("b", "2024-03-31", 70.0),
            ("b", "2024-04-01", 40.0),
            ("d", "2024-04-10", 60.0),
        ]
    )


def test_monthly_kpis_match_hand_counts(orders: pd.DataFrame) -> None:
    table = kpis.monthly_kpis(orders, as_of=pd.Timestamp("2024-04-15"), months=4).set_index("month")
    jan, feb, mar, apr = (pd.Timestamp(f"2024-0{m}-01") for m in (1, 2, 3, 4))
    assert table.loc[jan, "active_customers"] == 2
    assert table.loc[jan, "revenue"] == 350.0
    assert table.loc[jan, "avg_order_value"] == pytest.approx(350.0 / 3)
    assert table.loc[jan, "purchase_frequency"] == pytest.approx(1.5)
    assert table.loc[jan, "repeat_purchase_rate"] == pytest.approx(0.5)  # a has 2 orders, b has 1
    assert table.loc[jan, "new_customers"] == 2
    assert math.isnan(table.loc[jan, "retention_rate"])  # December had nobody active
    # February is empty: zero counts, NaN ratios, and everybody from January churned
    assert table.loc[feb, ["active_customers", "orders", "revenue"]].tolist() == [0, 0, 0.0]
    assert np.isnan(table.loc[feb, ["avg_order_value", "purchase_frequency", "repeat_purchase_rate"]].astype(float)).all()
    assert table.loc[feb, "retention_rate"] == 0.0
    assert table.loc[feb, "churn_rate"] == 1.0
    # March: revenue is net of c's return, AOV only over purchases; nobody was active in February
    assert table.loc[mar, "revenue"] == pytest.approx(120.0)
    assert table.loc[mar, "purchase_revenue"] == pytest.approx(150.0)
    assert table.loc[mar, "avg_order_value"] == pytest.approx(75.0)
    assert table.loc[mar, "active_customers"] == 2  # c only returned goods: not active
    assert math.isnan(table.loc[mar, "retention_rate"])
    # April: of March's {a, b} only b is back -> retention 1/2; d is new; April is partial (15 of 30 days)
    assert table.loc[apr, "retained"] == 1
    assert table.loc[apr, "retention_rate"] == pytest.approx(0.5)
    assert table.loc[apr, "churn_rate"] == pytest.approx(0.5)
    assert table.loc[apr, "new_customers"] == 1
    assert table.loc[apr, "days"] == 15 and bool(table.loc[apr, "is_partial"])
    assert not bool(table.loc[mar, "is_partial"])


def test_monthly_kpis_measures_first_month_against_the_month_before(orders: pd.DataFrame) -> None:
    table = kpis.monthly_kpis(orders, as_of=pd.Timestamp("2024-04-30"), months=1)
    assert len(table) == 1
    assert table.loc[0, "retention_rate"] == pytest.approx(0.5)  # against March, which is not shown


def test_single_customer_single_order_gives_nan_not_zero_division() -> None:
    one = make_orders([("a", "2024-05-10", 99.0)])
    table = kpis.monthly_kpis(one, as_of=pd.Timestamp("2024-06-30"), months=3).set_index("month")
    may, jun = pd.Timestamp("2024-05-01"), pd.Timestamp("2024-06-01")
    assert table.loc[may, "active_customers"] == 1
    assert table.loc[may, "avg_order_value"] == 99.0
    assert table.loc[may, "repeat_purchase_rate"] == 0.0
    assert math.isnan(table.loc[may, "retention_rate"])
    assert table.loc[jun, "retention_rate"] == 0.0 and table.loc[jun, "churn_rate"] == 1.0
    windows = kpis.window_kpis(one, as_of=pd.Timestamp("2024-05-10"), days=30)
    assert windows.loc["active_customers", "current"] == 1
    assert windows.loc["new_customers", "current"] == 1
    assert math.isnan(windows.loc["avg_order_value", "previous"])
    assert math.isnan(windows.loc["retention_rate", "current"])  # nobody was active before


def test_empty_orders_give_empty_periods() -> None:
    empty = make_orders([])
    table = kpis.monthly_kpis(empty, as_of=pd.Timestamp("2024-06-30"), months=2)
    assert table["active_customers"].tolist() == [0, 0]
    assert table["avg_order_value"].isna().all() and table["retention_rate"].isna().all()
    cohorts = kpis.cohort_retention(empty, as_of=pd.Timestamp("2024-06-30"), cohorts=3)
    assert cohorts.empty


def test_window_kpis_use_inclusive_as_of_windows(orders: pd.DataFrame) -> None:
    # as_of 2024-04-10, 30 days: current = 12 Mar .. 10 Apr, previous = 11 Feb .. 11 Mar, before = 12 Jan .. 10 Feb
    table = kpis.window_kpis(orders, as_of=pd.Timestamp("2024-04-10"), days=30)
    assert table.loc["active_customers", "current"] == 2  # b (31 Mar, 1 Apr), d (10 Apr)
    assert table.loc["active_customers", "previous"] == 1  # a (5 Mar); c only returned
    assert table.loc["revenue", "current"] == pytest.approx(170.0)
    assert table.loc["revenue", "previous"] == pytest.approx(50.0)  # 80 - 30
    assert table.loc["purchase_frequency", "current"] == pytest.approx(1.5)
    assert table.loc["repeat_purchase_rate", "current"] == pytest.approx(0.5)
    assert table.loc["retention_rate", "current"] == 0.0  # a did not come back
    assert table.loc["retention_rate", "previous"] == pytest.approx(0.5)  # of {a (20 Jan), b (31 Jan)}: a
    assert table.loc["churn_rate", "previous"] == pytest.approx(0.5)
    assert table.loc["new_customers", "current"] == 1  # d
    assert table.loc["revenue", "change"] == pytest.approx(120.0)
    assert list(table.index) == list(kpis.KPI_UNITS)


def test_window_rejects_non_positive_days(orders: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="window days must be at least 1, got 0"):
        kpis.window_kpis(orders, as_of=pd.Timestamp("2024-04-10"), days=0)


def test_missing_order_column_is_named(orders: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="orders lacks the column\\(s\\) order_date"):
        kpis.monthly_kpis(orders.drop(columns="order_date"), as_of=pd.Timestamp("2024-04-10"))


def test_repeat_customer_share() -> None:
    summary = pd.DataFrame({"n_orders": [1, 2, 5, 1]})
    assert kpis.repeat_customer_share(summary) == 0.5
    assert math.isnan(kpis.repeat_customer_share(summary.iloc[:0]))


def test_cohort_retention_matches_hand_counts(orders: pd.DataFrame) -> None:
    matrix = kpis.cohort_retention(orders, as_of=pd.Timestamp("2024-04-15"), cohorts=4)
    # cohorts: Jan {a, b}, Apr {d}; Feb, Mar empty. a: Jan, Mar; b: Jan, Mar, Apr
    expected = pd.DataFrame(
        {
            "size": [2.0, 0.0, 0.0, 1.0],
            0: [1.0, np.nan, np.nan, 1.0],
            1: [0.0, np.nan, np.nan, np.nan],
            2: [1.0, np.nan, np.nan, np.nan],
            3: [0.5, np.nan, np.nan, np.nan],
        },
        index=pd.Index(["2024-01", "2024-02", "2024-03", "2024-04"], name="cohort"),
    )
    pdt.assert_frame_equal(matrix, expected)


def test_nps_matches_hand_count() -> None:
    # promoters (9-10): 10, 9, 10, 9, 10 = 5 of 10; detractors (0-6): 6, 0, 5 = 3 of 10 -> 50 % - 30 % = 20
    scores = pd.Series([10, 9, 8, 7, 6, 0, 10, 5, 9, 10, None])
    assert kpis.nps(scores) == pytest.approx(20.0)
    assert kpis.nps(pd.Series([6, 6])) == pytest.approx(-100.0)
    assert kpis.nps(pd.Series([7, 8])) == pytest.approx(0.0)  # passives only
    assert math.isnan(kpis.nps(pd.Series([], dtype=float)))


def test_csat_matches_hand_count() -> None:
    # 4 and 5 count: 5, 4, 4 of (5, 4, 3, 4, 1, 2) = 3 of 6
    assert kpis.csat(pd.Series([5, 4, 3, 4, 1, 2, np.nan])) == pytest.approx(0.5)
    assert math.isnan(kpis.csat(pd.Series([np.nan])))


@pytest.fixture
def surveys() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "date": pd.to_datetime(["2024-04-01", "2024-04-20", "2024-02-10", "2024-02-11", "2024-04-30"]),
            "nps": [10, 3, 9, np.nan, 8],
            "csat": [5, 2, 4, 3, np.nan],
        }
    )


def test_survey_trend_and_windows(surveys: pd.DataFrame) -> None:
    trend = kpis.survey_trend(surveys, as_of=pd.Timestamp("2024-04-30"), months=3).set_index("month")
    apr, mar, feb = pd.Timestamp("2024-04-01"), pd.Timestamp("2024-03-01"), pd.Timestamp("2024-02-01")
    # April NPS: 10 (promoter), 3 (detractor), 8 (passive) -> (1 - 1) / 3 = 0; CSAT: 5, 2 -> 1/2
    assert trend.loc[apr, "nps"] == pytest.approx(0.0)
    assert trend.loc[apr, "nps_responses"] == 3
    assert trend.loc[apr, "csat"] == pytest.approx(0.5)
    assert math.isnan(trend.loc[mar, "nps"]) and trend.loc[mar, "csat_responses"] == 0
    assert trend.loc[feb, "nps"] == pytest.approx(100.0)
    scores = kpis.survey_scores(surveys, as_of=pd.Timestamp("2024-04-30"), days=30)
    assert scores.loc["current", "nps_responses"] == 3  # 1 Apr .. 30 Apr
    assert scores.loc["previous", "nps_responses"] == 0
    assert math.isnan(scores.loc["previous", "csat"])


def test_surveys_without_csat_column_degrade(surveys: pd.DataFrame) -> None:
    scores = kpis.survey_scores(surveys.drop(columns="csat"), as_of=pd.Timestamp("2024-04-30"), days=90)
    assert math.isnan(scores.loc["current", "csat"]) and scores.loc["current", "csat_responses"] == 0
    assert scores.loc["current", "nps"] == pytest.approx(25.0)  # 10, 3, 9, 8: (2 - 1) / 4


def test_out_of_range_scores_are_named(surveys: pd.DataFrame) -> None:
    bad = surveys.assign(nps=[10, 11, 9, 12, 8])
    with pytest.raises(DataError, match="surveys.nps must be between 0 and 10; 2 row\\(s\\) are not \\(e.g. 11, 12\\)"):
        kpis.survey_trend(bad, as_of=pd.Timestamp("2024-04-30"))


def test_cac_by_channel_matches_hand_division() -> None:
    marketing = pd.DataFrame(
        {
            "month": pd.to_datetime(["2024-03-01", "2024-04-01", "2024-04-01", "2024-04-01", "2023-01-01"]),
            "channel": ["ads", "ads", "fair", "mail", "ads"],
            "spend": [1000.0, 2000.0, 5000.0, 300.0, 9999.0],
            "new_customers": [4, 6, 2, 0, 1],
        }
    )
    cac = kpis.cac_by_channel(marketing, as_of=pd.Timestamp("2024-04-30"), months=12).set_index("channel")
    assert cac.loc["ads", "spend"] == 3000.0  # January 2023 is outside the 12 months
    assert cac.loc["ads", "cac"] == pytest.approx(3000.0 / 10)
    assert cac.loc["fair", "cac"] == pytest.approx(2500.0)
    assert math.isnan(cac.loc["mail", "cac"])  # nobody won: NaN, not infinity
    assert cac.loc["total", "cac"] == pytest.approx(8300.0 / 12)  # total / total, not the mean of CACs
    assert list(cac.index) == ["fair", "ads", "mail", "total"]


def test_cac_without_channel_column_is_one_row() -> None:
    marketing = pd.DataFrame({"month": pd.to_datetime(["2024-04-01"]), "spend": [500.0], "new_customers": [5]})
    cac = kpis.cac_by_channel(marketing, as_of=pd.Timestamp("2024-04-30"))
    assert cac["channel"].tolist() == ["all", "total"]
    assert cac["cac"].tolist() == [100.0, 100.0]


def test_cac_needs_new_customers() -> None:
    marketing = pd.DataFrame({"month": pd.to_datetime(["2024-04-01"]), "spend": [500.0]})
    with pytest.raises(DataError, match="marketing lacks the column\\(s\\) new_customers"):
        kpis.cac_by_channel(marketing, as_of=pd.Timestamp("2024-04-30"))


# -- charts ------------------------------------------------------------------------------------------------
def test_plots_take_catalogue_titles_and_survive_empty_data(orders: pd.DataFrame, surveys: pd.DataFrame) -> None:
    import matplotlib.pyplot as plt

    from crmlib.overview import plots as charts
    from crmlib.report import i18n

    as_of = pd.Timestamp("2024-04-15")
    axes = [
        charts.plot_active_customers(kpis.monthly_kpis(orders, as_of=as_of, months=4), lang="tr"),
        charts.plot_cohort_retention(kpis.cohort_retention(orders, as_of=as_of, cohorts=4), lang="tr"),
        charts.plot_cohort_retention(kpis.cohort_retention(make_orders([]), as_of=as_of), lang="tr"),
        charts.plot_survey_trend(kpis.survey_trend(surveys, as_of=as_of, months=3), lang="tr"),
        charts.plot_cac(pd.DataFrame({"channel": ["all", "total"], "cac": [5.0, 5.0]}), lang="tr", currency="TRY"),
    ]
    titles = [ax.get_title() for ax in axes]
    assert titles[0] == i18n.t("kpi.plot.active_title", "tr")
    assert titles[1] == titles[2] == i18n.t("kpi.plot.cohort_title", "tr")
    assert [t.get_text() for t in axes[4].get_yticklabels()] == [i18n.t("kpi.cac_all", "tr")]
    for ax in axes:
        plt.close(ax.figure)


# -- the KPI cells of notebooks/00_overview.ipynb on the sample, with and without surveys and marketing -------
OVERVIEW = Path(__file__).resolve().parents[2] / "notebooks" / "00_overview.ipynb"


def run_kpi_cells(ctx, monkeypatch: pytest.MonkeyPatch) -> str:
    """Execute the overview's parameters and set-up cells, then the cells tagged ``kpi-section``."""
    import matplotlib.pyplot as plt

    from crmlib.core import context as context_mod
    from crmlib.report import display as report

    shown: list[str] = []
    monkeypatch.setattr(report, "_show", shown.append)
    monkeypatch.setattr(report, "figure", plt.close)
    monkeypatch.setattr(context_mod, "open_context", lambda *args, **kwargs: ctx)
    code = [c for c in json.loads(OVERVIEW.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    kpi = [c for c in code if "kpi-section" in c["metadata"].get("tags", [])]
    assert kpi, "no cell of 00_overview is tagged kpi-section"
    namespace: dict = {}
    for i, cell in enumerate(code[:2] + kpi):
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        exec(compile(source, f"00_overview[{i}]", "exec"), namespace)  # noqa: S102
    return "\n".join(shown)


def test_kpi_cells_run_on_the_sample(sample_ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    from crmlib.report import i18n

    html = run_kpi_cells(sample_ctx, monkeypatch)
    assert "needs the" not in html
    for key in ("kpi.heading", "kpi.monthly.heading", "kpi.cohort.heading", "kpi.surveys.heading", "kpi.cac.heading"):
        assert i18n.t(key, "en") in html
    assert i18n.t("kpi.def.nps", "en") in html and "Total (all channels)" in html


def test_kpi_cells_degrade_without_surveys_and_marketing(sample_ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    bare = dataclasses.replace(sample_ctx, tables={**sample_ctx.tables, "surveys": None, "marketing": None})
    html = run_kpi_cells(bare, monkeypatch)
    assert "Add it under data.surveys in the params file" in html
    assert "Add it under data.marketing in the params file" in html
    no_csat = sample_ctx.tables["surveys"].drop(columns="csat")
    no_new = sample_ctx.tables["marketing"].drop(columns="new_customers")
    thin = dataclasses.replace(sample_ctx, tables={**sample_ctx.tables, "surveys": no_csat, "marketing": no_new})
    html = run_kpi_cells(thin, monkeypatch)
    assert "NPS is" in html and "CSAT is –" in html  # NPS shown, CSAT a dash
    from crmlib.report import i18n

    # named for readers, with the params name to map
    assert (f"needs the column {i18n.field_label('marketing', 'new_customers', 'en')} (new_customers) of the "
            f"Marketing table; map it under data.marketing.columns") in html


def test_kpi_table_formats_each_unit_and_shows_definitions(orders: pd.DataFrame) -> None:
    from crmlib.report import i18n

    windows = {30: kpis.window_kpis(orders, as_of=pd.Timestamp("2024-04-10"), days=30)}
    table = report.kpi_table(windows, lang="tr", currency="TRY").set_index("Gösterge")
    assert list(table.columns) == ["Son 30 gün", "Önceki 30 gün", "Tanım"]
    assert table.loc["Net ciro", "Son 30 gün"] == "170 TL"
    assert table.loc["Elde tutma oranı", "Önceki 30 gün"] == "%50,0"
    assert table.loc["Satın alma sıklığı", "Son 30 gün"] == "1,50"
    assert table.loc["Ortalama sipariş değeri", "Önceki 30 gün"] == "80 TL"
    assert table.loc["Aktif müşteri", "Tanım"] == i18n.t("kpi.def.active_customers", "tr")
