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


# -- lookups by customer id: positional when the tables hold the same customers in the same order ----------------
def _frames(kind: str, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """A CLV table, a customer summary and segments over the same customers: in the same sorted order
    (``aligned``), shuffled, with a customer missing from the summary, ids as Python objects, or one id twice."""
    rng = np.random.default_rng(seed)
    n = 400
    ids = pd.Series([f"C{i:05d}" for i in range(n)], dtype="str")
    summary = pd.DataFrame({"customer_id": ids, "frequency": rng.integers(0, 4, n),
                            "revenue": rng.lognormal(5, 1, n), "n_orders": rng.integers(1, 9, n),
                            "recency_days": rng.integers(0, 400, n)})
    table = pd.DataFrame({"customer_id": ids, "p_alive": np.where(rng.random(n) < 0.3, 1.0, rng.random(n)),
                          "expected_orders": rng.random(n) * 3, "expected_order_value": rng.lognormal(6, 1, n),
                          "clv": rng.lognormal(5, 2, n)})
    segments = pd.Series(rng.choice(np.array(["champions", "loyal", "lost", None], dtype=object), n),
                         index=pd.Index(ids, name="customer_id"), name="rfm_segment").astype("str")
    if kind == "shuffled":
        summary = summary.sample(frac=1, random_state=seed).reset_index(drop=True)
        segments = segments.sample(frac=1, random_state=seed + 1)
    elif kind == "missing":
        summary = summary.iloc[1:].reset_index(drop=True)
        segments = segments.iloc[1:]
    elif kind == "object_ids":
        table = table.assign(customer_id=table["customer_id"].astype(object))
    elif kind == "twice":
        twice = ids.copy()
        twice.iloc[5] = twice.iloc[4]
        table, summary = table.assign(customer_id=twice), summary.assign(customer_id=twice)
        segments = segments.iloc[:4]
    return table, summary, segments


KINDS = ["aligned", "shuffled", "missing", "object_ids", "twice"]


def test_same_rows_only_for_the_same_sorted_unique_arrow_ids():
    from crmlib.clv.analysis import same_rows

    table, summary, segments = _frames("aligned")
    assert same_rows(table["customer_id"], summary["customer_id"])
    assert same_rows(table["customer_id"], segments.index)
    assert same_rows(table["customer_id"].iloc[:0], summary["customer_id"].iloc[:0])
    for kind in KINDS[1:]:
        table, summary, _ = _frames(kind)
        assert not same_rows(table["customer_id"], summary["customer_id"]), kind
    ids = pd.Series(["C2", "C1"], dtype="str")
    assert not same_rows(ids, ids)  # not sorted: an id twice could hide in it
    gap = pd.Series(["C1", None], dtype="str")
    assert not same_rows(gap, gap)


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "twice"])
def test_value_by_group_and_activity_bands_are_the_lookups_results(kind):
    from crmlib.clv.analysis import activity_bands, clv_by_group

    table, summary, segments = _frames(kind)
    old_groups = table.assign(group=table["customer_id"].map(segments)).dropna(subset=["group"])
    grouped = old_groups.groupby("group", sort=False)
    expected = pd.DataFrame({"n_customers": grouped.size(), "total_clv": grouped["clv"].sum(),
                             "mean_clv": grouped["clv"].mean(), "mean_p_alive": grouped["p_alive"].mean(),
                             "expected_orders": grouped["expected_orders"].sum()})
    expected.insert(2, "clv_share", expected["total_clv"] / float(table["clv"].sum()))
    expected.index.name = "group"
    pd.testing.assert_frame_equal(clv_by_group(table, segments), expected.sort_values(
        "total_clv", ascending=False).reset_index())
    pd.testing.assert_frame_equal(activity_bands(table, summary), _activity_bands_by_lookup(table, summary),
                                  check_exact=True)


def _activity_bands_by_lookup(table: pd.DataFrame, customer_summary: pd.DataFrame) -> pd.DataFrame:
    """:func:`crmlib.clv.analysis.activity_bands` as it was: every customer looked up in the summary."""
    info = customer_summary.set_index("customer_id")
    pos = info.index.get_indexer(table["customer_id"])
    found = pos >= 0
    merged = table.assign(**{c: info[c].to_numpy()[pos] if found.all() else
                             np.where(found, info[c].to_numpy(dtype=float)[pos], np.nan)
                             for c in ("frequency", "revenue")})
    repeat = merged.loc[merged["frequency"] > 0]
    limits = (0.25, 0.5, 0.75)
    edges = [0.0, *limits, 1.0 + 1e-9]
    band = pd.cut(repeat["p_alive"], edges, right=False, labels=False)
    grouped = repeat.groupby(band)
    out = pd.DataFrame({"band": range(len(edges) - 1), "low": edges[:-1], "high": [*limits, 1.0]})
    out["n_customers"] = out["band"].map(grouped.size()).fillna(0).astype(int)
    out["revenue"] = out["band"].map(grouped["revenue"].sum()).fillna(0.0)
    out["clv"] = out["band"].map(grouped["clv"].sum()).fillna(0.0)
    out["customer_share"] = out["n_customers"] / max(len(repeat), 1)
    total = float(out["revenue"].sum())
    out["revenue_share"] = out["revenue"] / total if total > 0 else 0.0
    return out[["band", "low", "high", "n_customers", "customer_share", "revenue", "revenue_share", "clv"]]


@pytest.mark.parametrize("kind", KINDS)
def test_the_ranges_join_and_the_summary_are_the_merge_and_the_maps(kind):
    from crmlib.clv.report import summary_lines, with_ranges

    table, summary, _ = _frames(kind)
    rng = np.random.default_rng(1)
    ranged = pd.DataFrame({"customer_id": table["customer_id"].astype(str), "clv_p10": rng.random(len(table)),
                           "clv_p90": rng.random(len(table)) + 1})
    if kind == "shuffled":
        ranged = ranged.sample(frac=1, random_state=3)
    pd.testing.assert_frame_equal(with_ranges(table, ranged),
                                  table.merge(ranged, on="customer_id", how="left"))
    if kind == "twice":
        return  # a customer twice in the summary: the lookup refuses, as before
    from crmlib.clv.model import ClvModel

    class Model(ClvModel):
        def notes(self):
            return []

    lines = summary_lines(table, Model(), None, None, customer_summary=summary, lang="en", currency="TRY",
                          horizon_days=365, annual_discount_rate=0.1)
    freq = table["customer_id"].map(summary.set_index("customer_id")["frequency"])
    repeat = table.loc[freq.to_numpy() > 0, "p_alive"]
    from crmlib.report import formatting as fmt

    assert f"{fmt.number(int((repeat >= 0.5).sum()), 'en')} " in lines[2]
    assert fmt.number(len(repeat), "en") in lines[2]
