"""The lifetime-value page's faster paths against the straightforward ones they replace: the same chart (the
PNG's bytes), the same tables and sentences' numbers."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pandas as pd
import pytest

from crmlib.clv import plots

matplotlib.use("Agg")


def _png(fig) -> bytes:
    """The bytes :func:`crmlib.report.display.figure` shows (layout, format and resolution)."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _distribution_every_point(clv: pd.Series, *, lang: str, currency: str):
    """The histogram as drawn before: every customer's value handed to seaborn."""
    import seaborn as sns

    from crmlib.report import i18n
    from crmlib.report.charts import PALETTE, currency_unit, money_axis, new_axes, number_axis

    ax = new_axes(None, size=(9, 4))
    positive = clv[clv >= 1]
    if len(positive):
        sns.histplot(x=positive.to_numpy(), bins=40, log_scale=True, color=PALETTE[0], ax=ax)
        ax.axvline(max(1.0, float(clv.median())), color=PALETTE[5], linestyle="--",
                   label=i18n.t("clv.legend.median", lang))
        ax.legend(frameon=False)
        money_axis(ax, lang, currency, axis="x")
    number_axis(ax, lang)
    ax.set(title=i18n.t("clv.chart.distribution", lang),
           xlabel=i18n.t("clv.axis.clv", lang, currency=currency_unit(currency, lang)),
           ylabel=i18n.t("clv.axis.customers", lang))
    return ax


_RNG = np.random.default_rng(4)
DISTRIBUTIONS = {
    "lognormal": _RNG.lognormal(5, 2, 20_000),
    "with_small_and_blank": np.concatenate([_RNG.lognormal(3, 1, 500), [0.0, 0.3, np.nan, 1.0, 1e7]]),
    "ties": np.repeat([1.0, 10.0, 10.0, 1e6], 50),
    "one_value": np.array([5.0, 5.0, 0.2]),
    "next_to_one": np.array([1.0, 1.0000000000000002, 1.0000000000000004]),
    "below_one": np.array([0.1, 0.5]),
    "few": np.array([1.5, 2e3, 7.0]),
}


@pytest.mark.parametrize("name", list(DISTRIBUTIONS))
def test_the_distribution_chart_from_binned_values_is_the_same_picture(name):
    clv, lang = pd.Series(DISTRIBUTIONS[name]), "en" if name == "ties" else "tr"
    new = _png(plots.plot_clv_distribution(clv, lang=lang, currency="TRY").figure)
    old = _png(_distribution_every_point(clv, lang=lang, currency="TRY").figure)
    assert new == old


def test_log_histogram_points_keep_seaborns_bins_and_counts():
    values = DISTRIBUTIONS["lognormal"]
    points, weights = plots.log_histogram_points(values, bins=40)
    assert weights is not None and len(points) <= 40 and weights.sum() == len(values)
    logs, stand_in = np.log10(values), np.log10(points)
    edges = np.histogram_bin_edges(logs, 40)
    assert np.array_equal(np.histogram_bin_edges(stand_in, 40), edges)
    assert np.array_equal(np.histogram(stand_in, bins=edges, weights=weights)[0], np.histogram(logs, edges)[0])
    same, none = plots.log_histogram_points(np.array([5.0, 5.0]), bins=40)
    assert none is None and np.array_equal(same, [5.0, 5.0])
