"""Charts of the segmentation notebook: segment and tier shares, the R×F grid, the migration matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.patches import Patch

from crmlib.report import i18n
from crmlib.report.charts import PALETTE, new_axes, pct_axis
from crmlib.segmentation.report import group_label, segment_label

#: one colour per segment, greens for the best, reds for those slipping away, greys for the dormant
SEGMENT_COLORS: dict[str, str] = {
    "champions": "#1e8449", "loyal": "#52be80", "potential_loyalist": "#a9dfbf", "new": "#5dade2",
    "promising": "#aed6f1", "need_attention": "#f7dc6f", "about_to_sleep": "#f0b27a", "at_risk": "#e74c3c",
    "cant_lose": "#922b21", "hibernating": "#aab7b8", "lapsed": "#7b7d7d", "lost": "#5d6d7e",
}


def segment_color(code: str) -> str:
    """The chart colour of a segment (a palette colour for custom segments)."""
    return SEGMENT_COLORS.get(code, PALETTE[sum(map(ord, code)) % len(PALETTE)])


def _plot_shares(profile: pd.DataFrame, *, lang: str, ax: Axes | None, title_key: str, y_key: str) -> Axes:
    shares = [("customer_share", "seg.plot.customers", PALETTE[8]), ("revenue_share", "seg.plot.revenue", PALETTE[0])]
    if "margin_share" in profile.columns and profile["margin_share"].notna().any():
        shares.append(("margin_share", "seg.plot.margin", PALETTE[2]))
    ax = new_axes(ax, size=(9.0, max(3.5, 0.6 * len(profile) + 1.2)))
    y = np.arange(len(profile))
    height = 0.8 / len(shares)
    for i, (col, key, color) in enumerate(shares):
        ax.barh(y + (i - (len(shares) - 1) / 2) * height, profile[col].fillna(0), height=height, color=color,
                label=i18n.t(key, lang))
    ax.set_yticks(y, [group_label(str(code), lang) for code in profile.index])
    ax.invert_yaxis()
    pct_axis(ax, lang, axis="x")
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set(title=i18n.t(title_key, lang), xlabel=i18n.t("seg.plot.sizes.x", lang), ylabel=i18n.t(y_key, lang))
    return ax


def plot_segment_shares(profile: pd.DataFrame, *, lang: str, ax: Axes | None = None) -> Axes:
    """Horizontal bars of each segment's share of customers, revenue and margin.

    ``profile`` from :func:`crmlib.segmentation.rfm.segment_profile` (``customer_share``, ``revenue_share``,
    ``margin_share``), best segment on top.
    """
    return _plot_shares(profile, lang=lang, ax=ax, title_key="seg.plot.sizes.title", y_key="seg.plot.sizes.y")


def plot_tier_shares(profile: pd.DataFrame, *, lang: str, ax: Axes | None = None) -> Axes:
    """Horizontal bars of each A/B/C tier's share of customers, revenue and margin."""
    return _plot_shares(profile, lang=lang, ax=ax, title_key="seg.plot.tiers.title", y_key="seg.plot.tiers.y")


def plot_rf_grid(table: pd.DataFrame, *, lang: str, bins: int = 5, ax: Axes | None = None) -> Axes:
    """The R×F grid: customers per (R, F) score cell, coloured by the cell's most common segment.

    ``table`` from :func:`crmlib.segmentation.rfm.segment_table` (``r_score``, ``f_score``, ``rfm_segment``).
    R runs from ``bins`` (top) down to 1, F from 1 (left) to ``bins``; empty cells are white.
    """
    ax = new_axes(ax, size=(8.5, 6.0))
    counts = table.groupby(["r_score", "f_score"]).size()
    modal = table.groupby(["r_score", "f_score"])["rfm_segment"].agg(lambda s: s.value_counts().index[0])
    image = np.ones((bins, bins, 3))
    for (r, f), code in modal.items():
        image[bins - int(r), int(f) - 1] = to_rgb(segment_color(code))
    ax.imshow(image, aspect="auto")
    for (r, f), n in counts.items():
        rgb = image[bins - int(r), int(f) - 1]
        dark = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 0.55
        ax.text(int(f) - 1, bins - int(r), f"{int(n)}", ha="center", va="center", fontsize=11,
                color="white" if dark else "black")
    ax.set_xticks(range(bins), [str(f) for f in range(1, bins + 1)])
    ax.set_yticks(range(bins), [str(r) for r in range(bins, 0, -1)])
    ax.spines[["top", "right"]].set_visible(True)
    present = [code for code in SEGMENT_COLORS if code in set(modal)] + sorted(set(modal) - set(SEGMENT_COLORS))
    ax.legend(handles=[Patch(color=segment_color(c), label=segment_label(c, lang)) for c in present],
              loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.set(title=i18n.t("seg.plot.grid.title", lang), xlabel=i18n.t("seg.plot.grid.x", lang),
           ylabel=i18n.t("seg.plot.grid.y", lang))
    return ax


def plot_migration(matrix: pd.DataFrame, *, lang: str, ax: Axes | None = None) -> Axes:
    """Heatmap of customer counts, previous segment (rows) × current segment (columns).

    ``matrix`` from :func:`crmlib.segmentation.rfm.migration` (with its ``entered`` row and ``gone`` column).
    """
    ax = new_axes(ax, size=(max(7.0, 0.8 * matrix.shape[1] + 3), max(4.0, 0.5 * matrix.shape[0] + 2)))
    labelled = matrix.copy()
    labelled.index = [group_label(str(c), lang) for c in matrix.index]
    labelled.columns = [group_label(str(c), lang) for c in matrix.columns]
    sns.heatmap(labelled, annot=True, fmt="d", cmap="Blues", cbar=False, linewidths=0.5, linecolor="white", ax=ax,
                mask=labelled == 0)
    ax.tick_params(axis="x", rotation=45)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.set(title=i18n.t("seg.plot.migration.title", lang), xlabel=i18n.t("seg.plot.migration.x", lang),
           ylabel=i18n.t("seg.plot.migration.y", lang))
    return ax
