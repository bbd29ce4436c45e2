"""Charts of the churn early-warning report: risk distribution, top reasons, rhythm, backtest, win-back.

Every function takes data from :mod:`crmlib.churn.scoring` and ``lang``, draws on ``ax`` (a new figure when
``None``), sets the title and axis labels from the message catalogue and returns the Axes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from crmlib.churn.params import LAPSED_LEVEL, LEVELS
from crmlib.churn.signals import SIGNALS
from crmlib.report.charts import number_axis
from crmlib.report.formatting import date, number
from crmlib.report.i18n import t

LEVEL_COLOURS: dict[str, str] = {"low": "#8fbc8f", "medium": "#f2c14e", "high": "#f08a4b", "critical": "#c0392b",
                                 "lapsed": "#b3b6b7"}
_BLUE = "#1f4e79"
_GREY = "#9aa5b1"


def _new(ax: Axes | None, size: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def plot_risk_distribution(risk: pd.DataFrame, *, lang: str, levels: Mapping[str, float], horizon_days: int,
                           ax: Axes | None = None) -> Axes:
    """Histogram of the risk score, stacked by risk level, with the level bounds as dashed lines.

    Required columns: ``risk_score``, ``risk_level`` (from :func:`crmlib.churn.scoring.risk_scores`).
    """
    ax = _new(ax, (8, 4))
    bins = np.linspace(0, 1, 21)
    data = [risk.loc[risk["risk_level"] == lv, "risk_score"].to_numpy(float) for lv in LEVELS]
    ax.hist(data, bins=bins, stacked=True, color=[LEVEL_COLOURS[lv] for lv in LEVELS],
            label=[t(f"churn.level.{lv}", lang) for lv in LEVELS])
    for bound in levels.values():
        ax.axvline(float(bound), color="#555", linestyle="--", linewidth=0.8)
    x_key = "churn.plot.distribution_x_points" if risk.attrs.get("method") == "points" else "churn.plot.distribution_x"
    ax.set(title=t("churn.plot.distribution_title", lang), xlabel=t(x_key, lang, days=horizon_days),
           ylabel=t("churn.plot.customers_y", lang), xlim=(0, 1))
    number_axis(ax, lang, axis="x", digits=1)
    number_axis(ax, lang)
    ax.legend(frameon=False, title=t("churn.col.risk_level", lang))
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_top_reasons(risk: pd.DataFrame, *, lang: str, levels: Sequence[str] = ("high", "critical"),
                     no_order_days: int = 60, ax: Axes | None = None) -> Axes:
    """Horizontal bars: how many customers at the given levels have each reason among their top reasons.

    Required columns: ``risk_level``, ``reasons`` (codes joined by ``;``).
    """
    ax = _new(ax, (8, 4))
    chosen = risk.loc[risk["risk_level"].isin(list(levels)), "reasons"].fillna("")
    counts = chosen.str.split(";").explode()
    counts = counts.loc[counts != ""].value_counts().reindex(list(SIGNALS)).fillna(0)
    counts = counts.loc[counts > 0].sort_values()
    labels = [t(f"churn.signal.{c}", lang, days=no_order_days) for c in counts.index]
    y = np.arange(len(counts))
    ax.barh(y, counts.to_numpy(float), color=_BLUE)
    for yi, v in zip(y, counts.to_numpy(float), strict=True):
        ax.text(v, yi, " " + number(v, lang), va="center", fontsize=8)
    ax.set_yticks(y, labels)
    ax.set(title=t("churn.plot.reasons_title", lang), xlabel=t("churn.plot.customers_x", lang), ylabel="")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_rhythm(risk: pd.DataFrame, *, lang: str, ax: Axes | None = None) -> Axes:
    """Days since the last order against the usual gap (log scales), coloured by risk level; the lines
    mark "as usual" (1×) and "twice the usual gap" (2×). Customers without a usual gap are left out.

    Required columns: ``usual_gap_days``, ``days_since_last_order``, ``risk_level``.
    """
    ax = _new(ax, (7, 5))
    d = risk.loc[risk["usual_gap_days"].notna()]
    for lv in (LAPSED_LEVEL, *LEVELS):   # lapsed customers grey, drawn first: not painted as "critical"
        part = d.loc[d["risk_level"] == lv]
        if lv == LAPSED_LEVEL and part.empty:
            continue
        ax.scatter(part["usual_gap_days"].clip(lower=1), part["days_since_last_order"].clip(lower=1), s=10,
                   alpha=0.6, color=LEVEL_COLOURS[lv],
                   label=t("churn.level.lapsed_short" if lv == LAPSED_LEVEL else f"churn.level.{lv}", lang))
    hi = float(max(d["usual_gap_days"].max(), d["days_since_last_order"].max(), 10)) if len(d) else 10.0
    line = np.array([1.0, hi])
    ax.plot(line, line, color="#555", linewidth=0.8, label=t("churn.plot.rhythm_usual", lang))
    ax.plot(line, 2 * line, color="#555", linewidth=0.8, linestyle="--", label=t("churn.plot.rhythm_twice", lang))
    ax.set(xscale="log", yscale="log", title=t("churn.plot.rhythm_title", lang),
           xlabel=t("churn.plot.rhythm_x", lang), ylabel=t("churn.plot.rhythm_y", lang))
    ticks = [v for v in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000) if v <= 2 * hi]
    ax.set_xticks(ticks, [number(v, lang) for v in ticks])
    ax.set_yticks(ticks, [number(v, lang) for v in ticks])
    ax.minorticks_off()
    ax.legend(frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_backtest(metrics: pd.DataFrame, *, lang: str, no_order_days: int = 60, ax: Axes | None = None) -> Axes:
    """Grouped bars of ROC AUC and precision in the top 10% / 20% per method (pass one population's rows).

    Required columns: ``method``, ``auc``, ``precision_top_10``, ``precision_top_20`` (from
    :func:`crmlib.churn.scoring.backtest`).
    """
    ax = _new(ax, (8, 4))
    measures = [("auc", "churn.plot.auc"), ("precision_top_10", "churn.plot.p10"),
                ("precision_top_20", "churn.plot.p20")]
    colours = {"risk_score": _BLUE, "no_order_rule": _GREY, "expected_orders": "#7fb3d5"}
    x = np.arange(len(measures))
    width = 0.8 / max(len(metrics), 1)
    for i, row in enumerate(metrics.itertuples(index=False)):
        values = [float(getattr(row, m)) for m, _ in measures]
        bars = ax.bar(x + (i - (len(metrics) - 1) / 2) * width, values, width, color=colours.get(row.method, _GREY),
                      label=t(f"churn.method.{row.method}", lang, days=no_order_days))
        for bar, v in zip(bars, values, strict=True):
            ax.annotate(number(v, lang, 2), (bar.get_x() + bar.get_width() / 2, v), ha="center", va="bottom",
                        fontsize=8, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(x, [t(key, lang) for _, key in measures])
    ax.set(title=t("churn.plot.backtest_title", lang), ylabel=t("churn.plot.backtest_y", lang), ylim=(0, 1.3))
    ax.set_yticks(np.linspace(0, 1, 6))  # the measures run from 0 to 1; the space above holds the legend
    number_axis(ax, lang, digits=1)
    ax.legend(frameon=False, fontsize=8, loc="upper center", ncol=max(len(metrics), 1))
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_winback(weekly: pd.DataFrame, *, lang: str, ax: Axes | None = None) -> Axes:
    """Win-back rate per run week (line), with the 20-30% band that is a good wholesale result.

    Required columns: ``week``, ``n_episodes`` (or ``n_flagged``), ``winback_rate`` (from
    :func:`crmlib.churn.weekly.winback_rates`; weeks without a closed episode have no point).
    """
    ax = _new(ax, (8, 4))
    d = weekly.sort_values("week")
    d = d.assign(n_flagged=d["n_episodes"] if "n_episodes" in d.columns else d["n_flagged"],
                 winback_rate=pd.to_numeric(d["winback_rate"], errors="coerce"))
    x = np.arange(len(d))
    ax.axhspan(20, 30, color="#d5f5e3", label=t("churn.plot.winback_band", lang))
    ax.plot(x, 100 * d["winback_rate"].to_numpy(float), marker="o", color=_BLUE,
            label=t("churn.plot.winback_rate", lang))
    for xi, rate, n in zip(x, d["winback_rate"], d["n_flagged"], strict=True):
        if pd.isna(rate):
            continue
        ax.annotate(t("churn.plot.winback_n", lang, n=number(n, lang)), (xi, 100 * float(rate)), ha="center",
                    va="bottom", fontsize=8, xytext=(0, 4), textcoords="offset points")
    ax.set_xticks(x, [date(w, lang) for w in d["week"]], rotation=30, ha="right", fontsize=8)
    top = max(40.0, float(100 * d["winback_rate"].max()) * 1.2) if d["winback_rate"].notna().any() else 40.0
    ax.set(title=t("churn.plot.winback_title", lang), xlabel=t("churn.plot.winback_x", lang),
           ylabel=t("churn.plot.winback_y", lang), ylim=(0, min(top, 105)))
    ax.legend(frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return ax
