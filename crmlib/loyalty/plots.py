"""Charts of the loyalty section: customers by monthly spend against the discount tiers.

Every function takes data from :mod:`crmlib.loyalty.programme` and ``lang``, draws on ``ax`` (a new figure when
``None``), sets the title and axis labels from the message catalogue and returns the Axes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from crmlib.loyalty.report import tier_label, tier_names
from crmlib.report import formatting as fmt
from crmlib.report.charts import PALETTE, compact_money, currency_unit, money_axis, new_axes
from crmlib.report.i18n import t


def plot_spend_tiers(
    tiers: pd.DataFrame,
    *,
    lang: str,
    currency: str,
    thresholds: list[float],
    discounts: list[float],
    ax: Axes | None = None,
) -> Axes:
    """Histogram of customers' average monthly spend, coloured by tier, with the tier thresholds marked.

    Spend above twice the top threshold is gathered in the last bar (so that a few very large customers do
    not squeeze the chart), labelled as the open band it is ("50.000+ TL"). Required columns (from :func:`crmlib.loyalty.programme.discount_tiers`): ``monthly_spend``,
    ``tier``.
    """
    ax = new_axes(ax, size=(10, 4.2))
    top = 2.0 * float(max(thresholds))
    width = top / 40
    edges = np.append(np.linspace(0.0, top, 41), top + width)   # the last bar: top and more
    spend = tiers["monthly_spend"].to_numpy(float).clip(max=top + width / 2)
    names = tier_names(list(thresholds), lang=lang, currency=currency)
    for tier, rate in enumerate(discounts):
        part = spend[tiers["tier"].to_numpy() == tier]
        ax.hist(part, bins=edges, color=PALETTE[tier % len(PALETTE)], edgecolor="white",
                label=t("loy.plot.tier_label", lang, band=names[min(tier, len(names) - 1)],
                        discount=fmt.pct(rate, lang, 0)))
    for bound in thresholds:
        ax.axvline(bound, color="#333", linestyle="--", linewidth=1)
    money_axis(ax, lang, currency, axis="x")
    ax.set_xlim(0, top + width)
    ticks = [float(x) for x in ax.get_xticks() if 0 <= x <= top - 4 * width]
    ax.set_xticks([*ticks, top + width / 2],
                  labels=[*(compact_money(x, lang, currency) for x in ticks),
                          tier_label(top, None, lang=lang, currency=currency)])
    ax.legend(frameon=False, fontsize=8)
    ax.set(title=t("loy.plot.tiers_title", lang), xlabel=t("loy.plot.tiers_x", lang, currency=currency_unit(currency, lang)),
           ylabel=t("loy.plot.customers", lang))
    return ax
