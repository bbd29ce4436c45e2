"""Charts of the overview notebook: revenue by month and order values, then the KPIs (active customers by
month, the cohort retention heatmap, NPS/CSAT trend, CAC).

Every function takes data from :mod:`crmlib.overview.summary` or :mod:`crmlib.overview.kpis` and ``lang``,
draws on ``ax`` (a new figure when ``None``), sets the title and axis labels from the message catalogue and
returns the Axes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from crmlib.report import formatting as fmt
from crmlib.report import i18n
from crmlib.report.charts import PALETTE, add_rate_line, currency_unit, money_axis, new_axes, number_axis
from crmlib.report.i18n import t


def plot_monthly_revenue(monthly: pd.DataFrame, *, lang: str, currency: str, ax: Axes | None = None) -> Axes:
    """Bar chart of net revenue per month (``monthly`` from :func:`crmlib.overview.summary.monthly`)."""
    ax = new_axes(ax, size=(10, 4))
    labels = [fmt.month(m, lang, short=True) for m in monthly["month"]]
    ax.bar(labels, monthly["revenue"], color=PALETTE[0])
    step = max(1, len(labels) // 12)
    ax.set_xticks(range(0, len(labels), step), labels[::step], rotation=45, ha="right")
    money_axis(ax, lang, currency)
    ax.set(title=i18n.t("ov.chart_monthly", lang), xlabel=i18n.t("ov.axis_month", lang),
           ylabel=i18n.t("ov.axis_revenue", lang, currency=currency_unit(currency, lang)))
    return ax


def plot_order_values(values: pd.Series, *, lang: str, currency: str, ax: Axes | None = None) -> Axes:
    """Histogram of purchase order values on a log scale (wholesale order values span orders of magnitude)."""
    ax = new_axes(ax, size=(10, 4))
    positive = values[values > 0]
    if len(positive):
        bins = np.logspace(np.log10(positive.min()), np.log10(positive.max() * 1.001), 40)
        ax.hist(positive, bins=bins, color=PALETTE[1], edgecolor="white")
        ax.set_xscale("log")
        money_axis(ax, lang, currency, axis="x")
        number_axis(ax, lang)
        ax.axvline(positive.median(), color=PALETTE[5], linestyle="--",
                   label=i18n.t("ov.median_line", lang))
        ax.legend(frameon=False)
    ax.set(title=i18n.t("ov.chart_order_values", lang), xlabel=i18n.t("ov.axis_order_value", lang, currency=currency_unit(currency, lang)),
           ylabel=i18n.t("ov.axis_orders", lang))
    return ax


# -- KPIs ----------------------------------------------------------------------------------------------------
def _month_labels(months: pd.Series, lang: str) -> list[str]:
    return [fmt.month(m, lang, short=True) for m in months]


def plot_active_customers(monthly: pd.DataFrame, *, lang: str, ax: Axes | None = None) -> Axes:
    """Stacked bars of active customers per month (new and returning) with the retention rate as a line.

    Required columns (from :func:`crmlib.overview.kpis.monthly_kpis`): ``month``, ``active_customers``,
    ``new_customers``, ``retention_rate``. The retention line uses a second y axis (0-100 %).
    """
    ax = new_axes(ax, size=(10, 4.2))
    x = np.arange(len(monthly))
    new = monthly["new_customers"].to_numpy(float)
    returning = monthly["active_customers"].to_numpy(float) - new
    ax.bar(x, returning, color=PALETTE[0], label=t("kpi.plot.returning", lang))
    ax.bar(x, new, bottom=returning, color=PALETTE[2], label=t("kpi.plot.new", lang))
    ax.set_xticks(x, _month_labels(monthly["month"], lang), rotation=45, ha="right")
    ax.set(title=t("kpi.plot.active_title", lang), xlabel=t("kpi.plot.month", lang),
           ylabel=t("kpi.plot.customers", lang))
    number_axis(ax, lang)
    add_rate_line(ax, x, monthly["retention_rate"].to_numpy(float), lang=lang, label=t("kpi.retention_rate", lang),
                  ylabel=t("kpi.plot.retention_axis", lang), color=PALETTE[5])
    return ax


def plot_cohort_retention(matrix: pd.DataFrame, *, lang: str, ax: Axes | None = None) -> Axes:
    """Heatmap of the cohort retention matrix (rows: first-order month, columns: months since).

    ``matrix`` from :func:`crmlib.overview.kpis.cohort_retention` (a ``size`` column, then 0, 1, 2 ... as shares).
    Row labels carry the cohort size; unobserved cells stay blank.
    """
    shares = matrix.drop(columns="size")
    ax = new_axes(ax, size=(11, 0.42 * max(len(shares), 4) + 1.6))
    ax.set(title=t("kpi.plot.cohort_title", lang), xlabel=t("kpi.plot.cohort_x", lang),
           ylabel=t("kpi.plot.cohort_y", lang))
    if shares.empty:
        return ax
    rows = [f"{fmt.month(pd.Timestamp(f'{c}-01'), lang, short=True)} ({fmt.number(n, lang)})"
            for c, n in zip(shares.index, matrix["size"], strict=True)]
    values = shares.to_numpy(float) * 100
    annot = np.vectorize(lambda v: "" if np.isnan(v) else fmt.number(v, lang))(values)
    sns.heatmap(values, ax=ax, cmap="Blues", vmin=0, vmax=100 if values.size else 1, annot=annot, fmt="",
                annot_kws={"fontsize": 7}, cbar_kws={"label": t("kpi.plot.cohort_scale", lang)},
                xticklabels=[str(c) for c in shares.columns], yticklabels=rows, linewidths=0.5, linecolor="white")
    ax.set(title=t("kpi.plot.cohort_title", lang), xlabel=t("kpi.plot.cohort_x", lang),
           ylabel=t("kpi.plot.cohort_y", lang))
    ax.tick_params(axis="y", rotation=0)
    return ax


def plot_survey_trend(trend: pd.DataFrame, *, lang: str, ax: Axes | None = None) -> Axes:
    """Monthly NPS (points, -100..100) and CSAT (share of 4-5, in %) on one axis.

    Required columns (from :func:`crmlib.overview.kpis.survey_trend`): ``month``, ``nps``, ``csat``.
    """
    ax = new_axes(ax, size=(10, 4))
    x = np.arange(len(trend))
    if trend["nps"].notna().any():
        ax.plot(x, trend["nps"].to_numpy(float), marker="o", color=PALETTE[0], label=t("kpi.nps", lang))
    if trend["csat"].notna().any():
        ax.plot(x, 100 * trend["csat"].to_numpy(float), marker="s", color=PALETTE[4], label=t("kpi.csat", lang))
    ax.axhline(0, color="#999", linewidth=0.8)
    ax.set_xticks(x, _month_labels(trend["month"], lang), rotation=45, ha="right")
    ax.set(title=t("kpi.plot.survey_title", lang), xlabel=t("kpi.plot.month", lang),
           ylabel=t("kpi.plot.survey_y", lang), ylim=(-105, 105))
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_cac(cac: pd.DataFrame, *, lang: str, currency: str, ax: Axes | None = None) -> Axes:
    """Horizontal bars of CAC by channel, with the overall CAC as a dashed line.

    Required columns (from :func:`crmlib.overview.kpis.cac_by_channel`): ``channel``, ``cac`` (the ``total`` row is
    drawn as the line).
    """
    channels = cac[cac["channel"] != "total"].iloc[::-1]
    ax = new_axes(ax, size=(9, 0.45 * max(len(channels), 3) + 1.4))
    y = np.arange(len(channels))
    ax.barh(y, channels["cac"].fillna(0).to_numpy(float), color=PALETTE[1])
    names = {"all": t("kpi.cac_all", lang)}
    ax.set_yticks(y, [names.get(str(c), str(c)) for c in channels["channel"]])
    total = cac.loc[cac["channel"] == "total", "cac"]
    if len(total) and pd.notna(total.iloc[0]):
        ax.axvline(float(total.iloc[0]), color=PALETTE[5], linestyle="--", label=t("kpi.plot.cac_total", lang))
        ax.legend(frameon=False, fontsize=8)
    money_axis(ax, lang, currency, axis="x")
    ax.set(title=t("kpi.plot.cac_title", lang), xlabel=t("kpi.plot.cac_x", lang, currency=currency_unit(currency, lang)),
           ylabel=t("kpi.plot.channel", lang))
    return ax
