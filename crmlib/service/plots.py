"""Charts of the service section: complaints per month with same-day acknowledgement, open complaints by age,
recurring categories.

Every function takes data from :mod:`crmlib.service.complaints` and ``lang``, draws on ``ax`` (a new figure when
``None``), sets the title and axis labels from the message catalogue and returns the Axes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from crmlib.report import formatting as fmt
from crmlib.report.charts import PALETTE, add_rate_line, new_axes
from crmlib.report.i18n import t


def plot_service_trend(by_month: pd.DataFrame, *, lang: str, ax: Axes | None = None) -> Axes:
    """Bars of complaints opened per month and a line of the share acknowledged the same day.

    Required columns (from :func:`crmlib.service.complaints.service_by_month`): ``month``, ``tickets``,
    ``same_day_ack_rate``. The rate uses a second y axis (0-100 %).
    """
    ax = new_axes(ax, size=(10, 4))
    x = np.arange(len(by_month))
    ax.bar(x, by_month["tickets"].to_numpy(float), color=PALETTE[8], label=t("svc.plot.tickets", lang))
    ax.set_xticks(x, [fmt.month(m, lang, short=True) for m in by_month["month"]], rotation=45, ha="right")
    ax.set(title=t("svc.plot.trend_title", lang), xlabel=t("svc.plot.month", lang),
           ylabel=t("svc.plot.tickets_axis", lang))
    add_rate_line(ax, x, by_month["same_day_ack_rate"].to_numpy(float), lang=lang,
                  label=t("svc.plot.same_day", lang), ylabel=t("svc.plot.same_day_axis", lang), color=PALETTE[0])
    return ax


def plot_open_by_age(bands: pd.DataFrame, *, lang: str, ax: Axes | None = None) -> Axes:
    """Bars of open complaints per age band (days since opened; older bands in warmer colours).

    Required columns (from :func:`crmlib.service.complaints.open_by_age`): ``age_band``, ``open``.
    """
    ax = new_axes(ax, size=(7, 3.6))
    colours = [PALETTE[i] for i in (2, 3, 4, 5, 6, 7)][: len(bands)]
    labels = [str(b) for b in bands["age_band"]]
    ax.bar(labels, bands["open"].to_numpy(float), color=colours)
    for i, n in enumerate(bands["open"]):
        ax.text(i, float(n), fmt.number(n, lang), ha="center", va="bottom", fontsize=9)
    ax.set(title=t("svc.plot.open_title", lang), xlabel=t("svc.plot.age_axis", lang),
           ylabel=t("svc.plot.open_axis", lang))
    return ax


def plot_recurring_categories(categories: pd.DataFrame, *, lang: str, n: int = 10, ax: Axes | None = None) -> Axes:
    """Horizontal bars of complaints per category in the lookback window and the window before.

    Required columns (from :func:`crmlib.service.complaints.recurring_categories`): ``category``, ``complaints``,
    ``previous``.
    """
    top = categories.head(n).iloc[::-1]
    ax = new_axes(ax, size=(9, 0.45 * max(len(top), 3) + 1.4))
    y = np.arange(len(top))
    ax.barh(y + 0.2, top["complaints"].to_numpy(float), height=0.4, color=PALETTE[5], label=t("svc.plot.now", lang))
    ax.barh(y - 0.2, top["previous"].to_numpy(float), height=0.4, color=PALETTE[8], label=t("svc.plot.before", lang))
    ax.set_yticks(y, [str(c) for c in top["category"]])
    ax.legend(frameon=False, fontsize=8)
    ax.set(title=t("svc.plot.categories_title", lang), xlabel=t("svc.plot.complaints_axis", lang),
           ylabel=t("svc.plot.category", lang))
    return ax
