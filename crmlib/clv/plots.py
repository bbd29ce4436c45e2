"""Charts of the lifetime-value notebook. They draw what :mod:`crmlib.clv.model` and :mod:`crmlib.clv.analysis`
computed; no model maths here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from crmlib.report import i18n
from crmlib.report.charts import PALETTE, currency_unit, money_axis, new_axes, number_axis


def plot_holdout(by_frequency: pd.DataFrame, *, lang: str, currency: str = "TRY", what: str = "orders",
                 ax: Axes | None = None) -> Axes:
    """Predicted vs actual holdout purchase days (``what="orders"``) or spend per customer, by calibration
    frequency group (``by_frequency`` from :func:`crmlib.clv.analysis.holdout_validation`; FHL 2005, Fig. 4)."""
    ax = new_axes(ax, size=(9, 4))
    x = np.arange(len(by_frequency))
    width = 0.4
    ax.bar(x - width / 2, by_frequency[f"predicted_{what}"], width, color=PALETTE[1],
           label=i18n.t("clv.legend.predicted", lang))
    ax.bar(x + width / 2, by_frequency[f"actual_{what}"], width, color=PALETTE[4],
           label=i18n.t("clv.legend.actual", lang))
    ax.set_xticks(x, by_frequency["group"].astype(str))
    ax.legend(frameon=False)
    if what == "spend":
        money_axis(ax, lang, currency)
        ylabel = i18n.t("clv.axis.spend_per_customer", lang, currency=currency_unit(currency, lang))
    else:
        number_axis(ax, lang, digits=1)
        ylabel = i18n.t("clv.axis.orders_per_customer", lang)
    ax.set(title=i18n.t(f"clv.chart.holdout_{what}", lang), xlabel=i18n.t("clv.axis.group", lang), ylabel=ylabel)
    return ax


def plot_holdout_pair(by_frequency: pd.DataFrame, *, lang: str, currency: str = "TRY") -> Figure:
    """The holdout check side by side: purchase days (left) and spend (right) per customer, predicted vs
    actual, by calibration frequency group (:func:`plot_holdout`)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(14, 4.2), dpi=100)
    plot_holdout(by_frequency, lang=lang, currency=currency, what="orders", ax=axes[0])
    plot_holdout(by_frequency, lang=lang, currency=currency, what="spend", ax=axes[1])
    return fig


def plot_clv_distribution(clv: pd.Series, *, lang: str, currency: str, ax: Axes | None = None) -> Axes:
    """Histogram of CLVs of at least one currency unit on a log scale (smaller values are customers the model
    considers gone), with the median of the whole distribution marked."""
    ax = new_axes(ax, size=(9, 4))
    values = np.asarray(clv, dtype=float)
    positive = values[values >= 1]
    if len(positive):
        points, weights = log_histogram_points(positive, bins=40)
        sns.histplot(x=points, weights=weights, bins=40, log_scale=True, color=PALETTE[0], ax=ax)
        ax.axvline(max(1.0, float(clv.median())), color=PALETTE[5], linestyle="--", label=i18n.t("clv.legend.median", lang))
        ax.legend(frameon=False)
        money_axis(ax, lang, currency, axis="x")
    number_axis(ax, lang)
    ax.set(title=i18n.t("clv.chart.distribution", lang), xlabel=i18n.t("clv.axis.clv", lang, currency=currency_unit(currency, lang)),
           ylabel=i18n.t("clv.axis.customers", lang))
    return ax


def log_histogram_points(values: np.ndarray, *, bins: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Stand-ins for ``values`` (all positive) in seaborn's histogram on a log scale with ``bins`` bins: a few
    points with weights whose histogram is the same bars (the same bin edges, the same counts), so that a
    million customers are not handed to seaborn one by one.

    seaborn takes the bins between the smallest and the largest log10 value and counts with ``np.histogram``;
    the stand-ins are the smallest and largest values themselves (weighted with the first and last bins'
    counts) and a point inside each other bin that has customers (weighted with its count). The stand-ins are
    checked with seaborn's own computation (edges and counts equal); when they do not pass (e.g. all values
    in a range narrower than a bin's rounding), the values themselves are returned, without weights.
    """
    from matplotlib.scale import LogTransform

    values = np.asarray(values, dtype=float)
    log = LogTransform(10).transform  # what seaborn bins on a log-scaled axis
    logs = log(values)

    def histogram(x: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        edges = np.histogram_bin_edges(x, bins)  # seaborn's Histogram.define_bin_params, then its counts
        counts, _ = np.histogram(x, bins=len(edges) - 1, range=(edges.min(), edges.max()), weights=weights)
        return counts, edges

    counts, edges = histogram(logs)
    inner = np.flatnonzero(counts[1:-1]) + 1
    points = np.concatenate([[values.min()], 10.0 ** ((edges[inner] + edges[inner + 1]) / 2), [values.max()]])
    weights = np.concatenate([[counts[0]], counts[inner], [counts[-1]]]).astype(float)
    check, check_edges = histogram(log(points), weights)
    if len(counts) < 2 or not (np.array_equal(check, counts) and np.array_equal(check_edges, edges)):
        return values, None
    return points, weights


def plot_clv_by_group(by_group: pd.DataFrame, *, lang: str, currency: str, labels: pd.Series | None = None,
                      ax: Axes | None = None) -> Axes:
    """Horizontal bars of total CLV per group (``by_group`` from :func:`crmlib.clv.analysis.clv_by_group`);
    ``labels`` maps group codes to display names."""
    ax = new_axes(ax, size=(9, max(3.0, 0.45 * len(by_group) + 1)))
    names = [str(labels.get(g, g)) if labels is not None else str(g) for g in by_group["group"]]
    y = np.arange(len(by_group))
    ax.barh(y, by_group["total_clv"], color=PALETTE[2])
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    money_axis(ax, lang, currency, axis="x")
    ax.set(title=i18n.t("clv.chart.segments", lang), xlabel=i18n.t("clv.axis.total_clv", lang, currency=currency_unit(currency, lang)),
           ylabel=i18n.t("clv.axis.segment", lang))
    return ax


def plot_activity_bands(bands: pd.DataFrame, *, lang: str, ax: Axes | None = None) -> Axes:
    """Horizontal bars: repeat buyers per band of the probability of still being active (``bands`` from
    :func:`crmlib.clv.analysis.activity_bands`), likeliest active at the top; each bar labelled with its
    length (customers) and the band's share of revenue so far."""
    from crmlib.clv.report import band_label
    from crmlib.report import formatting as fmt

    ax = new_axes(ax, size=(9, 3.2))
    shown = bands.iloc[::-1].reset_index(drop=True)
    colours = [PALETTE[5], PALETTE[4], PALETTE[1], PALETTE[2]][::-1][: len(shown)]
    y = np.arange(len(shown))
    counts = shown["n_customers"].to_numpy(float)
    ax.barh(y, counts, color=colours)
    for yi, n, share in zip(y, counts, shown["revenue_share"], strict=True):
        ax.text(n, yi, "  " + i18n.t("clv.chart.band_note", lang, n=fmt.number(n, lang),
                                      share=fmt.pct(share, lang, 0)), va="center", fontsize=8, color="#333")
    ax.set_yticks(y, [band_label(lo, hi, lang) for lo, hi in zip(shown["low"], shown["high"], strict=True)])
    ax.set_xlim(0, max(float(counts.max()) * 1.45, 1.0) if len(counts) else 1.0)
    number_axis(ax, lang, axis="x")
    ax.set(title=i18n.t("clv.chart.bands", lang), xlabel=i18n.t("clv.axis.repeat_customers", lang), ylabel="")
    return ax


def plot_cac_ltv(cac: pd.DataFrame, *, lang: str, target: float = 3.0, channel_labels: list[str] | None = None,
                 ax: Axes | None = None) -> Axes:
    """Bars of LTV:CAC per channel (``cac`` from :func:`crmlib.clv.analysis.cac_ltv`) with the target line;
    channels under the target in red."""
    ax = new_axes(ax, size=(9, 4))
    names = channel_labels if channel_labels is not None else [str(c) for c in cac["channel"]]
    ratio = cac["ltv_to_cac"].to_numpy(float)
    colors = [PALETTE[5] if below else PALETTE[2] for below in cac["below_target"]]
    ax.bar(names, np.nan_to_num(ratio), color=colors)
    ax.axhline(target, color=PALETTE[7], linestyle="--",
               label=i18n.t("clv.legend.target", lang, target=f"{target:g}"))
    ax.legend(frameon=False)
    number_axis(ax, lang, digits=1)
    ax.tick_params(axis="x", rotation=20)
    ax.set(title=i18n.t("clv.chart.cac", lang), xlabel=i18n.t("clv.axis.channel", lang),
           ylabel=i18n.t("clv.axis.ltv_to_cac", lang))
    return ax
