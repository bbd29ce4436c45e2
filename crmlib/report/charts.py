"""Charts, one module per practice. Functions take data (and ``lang``), ``ax=None``, set titles and axis
labels with units through ``ax.set`` from the message catalogue, and return the Axes. Nothing here changes
global matplotlib state."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from crmlib.report import formatting as fmt

PALETTE: tuple[str, ...] = ("#1f4e79", "#2e86c1", "#48c9b0", "#f4d03f", "#eb984e", "#c0392b", "#7d3c98",
                            "#566573", "#a9cce3", "#abebc6", "#f5b7b1")


def new_axes(ax: Axes | None = None, *, size: tuple[float, float] = (9.0, 4.5)) -> Axes:
    """Return ``ax`` or the Axes of a new figure of ``size`` inches."""
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=size, dpi=100)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def compact_money(value: float, lang: str, currency: str) -> str:
    """Money for a tick label: ``TRY 60M`` / ``60 Mn TL`` from a million up (full figures overlap; Babel's
    short compact form), else as :func:`crmlib.report.formatting.money`."""
    return fmt.compact_money(value, lang, currency)


def currency_unit(currency: str, lang: str) -> str:
    """The currency as the tick labels show it, for axis titles: ``TL`` (tr) or ``TRY`` (en) for lira."""
    symbol = fmt.CURRENCY_SYMBOLS.get(currency.upper(), currency)
    return symbol if lang == "tr" or symbol != "TL" else currency.upper()


def money_axis(ax: Axes, lang: str, currency: str, *, axis: str = "y") -> None:
    """Format an axis's tick labels as money in the report's conventions (millions and up abbreviated)."""
    formatter = FuncFormatter(lambda v, _pos: compact_money(v, lang, currency))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def number_axis(ax: Axes, lang: str, *, axis: str = "y", digits: int = 0) -> None:
    """Format an axis's tick labels as numbers with the language's separators."""
    formatter = FuncFormatter(lambda v, _pos: fmt.number(v, lang, digits))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def pct_axis(ax: Axes, lang: str, *, axis: str = "y") -> None:
    """Format an axis's tick labels (shares 0..1) as percentages."""
    formatter = FuncFormatter(lambda v, _pos: fmt.pct(v, lang, 0))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def figure_of(ax: Axes) -> Any:
    """The figure an Axes belongs to (for ``rp.figure``)."""
    return ax.figure


def add_rate_line(ax: Axes, x: Any, rates: Any, *, lang: str, label: str, ylabel: str, color: str) -> Axes:
    """Draw a share (0..1) as a line on a right-hand percentage axis over ``ax``'s bars; one merged legend.

    Returns the right-hand Axes.
    """
    right = ax.twinx()
    right.plot(x, rates, color=color, marker="o", label=label)
    right.set(ylim=(0, 1.05), ylabel=ylabel)
    pct_axis(right, lang)
    right.spines[["top"]].set_visible(False)
    left, more = ax.get_legend_handles_labels(), right.get_legend_handles_labels()
    ax.legend(left[0] + more[0], left[1] + more[1], frameon=False, loc="upper left", fontsize=8)
    return right
