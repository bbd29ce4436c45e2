"""Charts of the cross-sell report: the strongest rules and the validation against the popularity baseline.

Every function takes data from :mod:`crmlib.cross_sell.rules` and ``lang``, draws on ``ax`` (a new figure when
``None``), sets the title and axis labels from the message catalogue and returns the Axes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from crmlib.cross_sell.report import strongest_rules
from crmlib.report.formatting import number
from crmlib.report.i18n import t

_BLUE = "#1f4e79"
_GREY = "#9aa5b1"


def _short(text: str, width: int = 38) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def plot_top_rules(rules: pd.DataFrame, *, lang: str, n: int = 10, ax: Axes | None = None) -> Axes:
    """Horizontal bars of the lift of the ``n`` strongest rules, labelled "A → B", each bar labelled with its
    own length (the lift), in the order of the table beside it.

    The rules are :func:`crmlib.cross_sell.report.strongest_rules` (by lift, one direction per item set).

    Required columns: ``antecedents``, ``consequents``, ``confidence``, ``lift`` (optional
    ``antecedent_names``, ``consequent_names``, used as labels when present).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 0.5 * max(min(n, len(rules)), 3) + 1.2))
    top = strongest_rules(rules, n=n).iloc[::-1]
    a = top["antecedent_names"] if "antecedent_names" in top else top["antecedents"]
    c = top["consequent_names"] if "consequent_names" in top else top["consequents"]
    labels = [f"{_short(str(x), 44)}\n→ {_short(str(y), 44)}" for x, y in zip(a, c, strict=True)]
    y = np.arange(len(top))
    lifts = top["lift"].to_numpy(float)
    ax.barh(y, lifts, color=_BLUE)
    for yi, lift in zip(y, lifts, strict=True):
        ax.text(lift, yi, "  " + t("xsell.plot.lift_note", lang, lift=number(lift, lang, 1)), va="center",
                fontsize=8, color="#333")
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(1.0, color=_GREY, lw=1, ls="--")
    right = float(lifts.max()) * 1.25 if len(top) else 2.0
    ax.set(title=t("xsell.plot.rules_title", lang), xlabel=t("xsell.plot.rules_x", lang), ylabel="",
           xlim=(0, max(right, 2.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: number(v, lang)))
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_validation(evaluation: pd.DataFrame, *, lang: str, ax: Axes | None = None) -> Axes:
    """Grouped bars of hit rate@k and recall@k for the suggestions and the popularity baseline.

    Required columns: ``method``, ``k``, ``hit_rate``, ``recall`` (from :func:`crmlib.cross_sell.rules.evaluate`).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    k = int(evaluation["k"].iloc[0]) if len(evaluation) else 5
    metrics = [("hit_rate", "xsell.plot.hit_rate"), ("recall", "xsell.plot.recall")]
    x = np.arange(len(metrics))
    width = 0.38
    colours = {"item_to_item": _BLUE, "popularity": _GREY}
    for i, row in enumerate(evaluation.itertuples(index=False)):
        values = [100 * float(getattr(row, m)) for m, _ in metrics]
        bars = ax.bar(
            x + (i - 0.5) * width,
            values,
            width,
            color=colours.get(row.method, _GREY),
            label=t(f"xsell.method.{row.method}", lang),
        )
        for bar, v in zip(bars, values, strict=True):
            ax.annotate(
                number(v, lang, 1),
                (bar.get_x() + bar.get_width() / 2, v),
                ha="center",
                va="bottom",
                fontsize=8,
                xytext=(0, 2),
                textcoords="offset points",
            )
    ax.set_xticks(x, [t(key, lang) for _, key in metrics])
    ax.set(
        title=t("xsell.plot.validation_title", lang, k=k),
        ylabel=t("xsell.plot.validation_y", lang),
        xlabel="",
    )
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return ax
