"""Charts of the overview notebook."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from crmlib.report import formatting as fmt
from crmlib.report import i18n
from crmlib.report.charts import PALETTE, currency_unit, money_axis, new_axes, number_axis


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
