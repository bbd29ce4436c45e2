"""``crmlib.segmentation.report.analyse``: what 01_segmentation shows, computed once, with its exports."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from crmlib import segmentation as seg
from crmlib.core import params
from crmlib.core.context import build_context
from crmlib.segmentation import report as seg_report
from tests.conftest import write_sample_params
from tests.thin.cuts import make_cut


def own_context(ctx, tmp_path, **changes):
    """A copy of the shared context with its own export and context folders (the fixture stays untouched)."""
    changes = {"_history": {}, "meta": dict(ctx.meta), **changes}
    return dataclasses.replace(ctx, export_dir=tmp_path / "exports", context_dir=tmp_path / "ctx", **changes)


def test_analyse_returns_the_sections_and_writes_the_exports(sample_ctx, tmp_path):
    ctx = own_context(sample_ctx, tmp_path)
    res = seg_report.analyse(ctx)
    assert isinstance(res, seg.SegmentationAnalysis)
    n = len(ctx.customer_summary)
    assert len(res.table) == n and res.sizes["n_customers"].sum() == n
    assert res.tier_strategy["n_customers"].sum() == n
    assert res.tiles[0][1] == f"{n:,}"
    # names, not codes, in the shown tables
    assert set(res.sizes["rfm_segment"]) <= {seg.segment_label(c, "en") for c in seg.SEGMENTS}
    assert "Champions" in set(res.sizes["rfm_segment"])
    exported = pd.read_csv(tmp_path / "exports" / "segments.csv", dtype={"customer_id": str})
    assert len(exported) == n
    assert (exported["rfm_segment"].value_counts().sort_index()
            == res.table["rfm_segment"].value_counts().sort_index()).all()
    contacts = pd.read_csv(tmp_path / "exports" / "segment_contacts.csv", dtype={"customer_id": str})
    assert len(contacts) == len(res.contacts) > 0
    staged = pd.read_parquet(tmp_path / "ctx" / "staging" / "history" / "segments.parquet")
    assert list(staged.columns) == ["customer_id", "rfm_segment", "abc_tier"] and len(staged) == n
    # a first run: no chart, the first-run sentence, nobody moved down
    assert res.first_run and res.moved_down_table.empty and res.no_down_sentence is None
    assert res.migration_sentence == seg_report.i18n.t("seg.p.first_run", "en")
    assert res.top["recency_days"].dtype.kind in "if" and len(res.top) > 0


def test_analyse_after_a_previous_run_lists_who_moved_down(sample_ctx, tmp_path):
    current = sample_ctx.segments()
    previous = current[["customer_id", "rfm_segment", "abc_tier"]].copy()
    fallen = current.index[current["rfm_segment"] == "at_risk"][:3]
    previous.loc[fallen, "rfm_segment"] = "champions"  # they were champions last time
    previous = previous.assign(as_of=pd.Timestamp("2026-03-31"), run_id="r1")
    res = seg_report.analyse(own_context(sample_ctx, tmp_path, _history={"segments": previous}))
    assert not res.first_run and res.previous_as_of == pd.Timestamp("2026-03-31")
    moved = res.moved_down_table.set_index("customer_id")
    assert set(current.loc[fallen, "customer_id"]) <= set(moved.index)
    assert (moved.loc[current.loc[fallen, "customer_id"], "previous_segment"] == "Champions").all()
    assert list(res.moved_down_table.columns[-5:]) == ["previous_segment", "current_segment", "previous_tier",
                                                      "current_tier", "monetary"]
    assert "31 Mar 2026" in res.migration_sentence or "Mar 31, 2026" in res.migration_sentence


@pytest.fixture(scope="module")
def thin_ctx(sample_dir, tmp_path_factory):
    """One month of the sample's orders, without the optional tickets table."""
    folder = tmp_path_factory.mktemp("thin-seg")
    data = make_cut(sample_dir, folder / "data", "days_30")
    raw = params.load(write_sample_params(data, folder / "p.yaml"))
    raw["data"].pop("tickets", None)
    return build_context(raw, params_dir=folder)


def test_analyse_on_a_thin_history_gives_sections_without_error(thin_ctx, tmp_path):
    res = seg_report.analyse(own_context(thin_ctx, tmp_path))
    assert len(res.table) == len(thin_ctx.customer_summary) > 0
    assert res.moved_down_table.empty and list(res.moved_down_table.columns)[:1] == ["customer_id"]
    assert res.values["n_customers"].le(len(res.table)).all()
    assert res.consent_sentence is None or "consent" in res.consent_sentence.lower()


def test_a_history_shorter_than_min_history_days_opens_the_summary_with_a_caution(thin_ctx, sample_ctx, tmp_path):
    """A month of orders makes every buyer look recent: the summary says first that the segments are
    provisional and names the rule and the history (tr and en); a long history, or a lower bound, has no
    such sentence."""
    thin = seg_report.analyse(own_context(thin_ctx, tmp_path / "thin"))
    history = int(thin_ctx.customer_summary["T"].max()) + 1
    assert history <= 31
    assert "provisional" in thin.summary[0] and f"(these data have {history})" in thin.summary[0]
    assert "at least 180 days" in thin.summary[0]
    turkish = seg_report.analyse(own_context(thin_ctx, tmp_path / "tr",
                                                    params={**thin_ctx.params, "language": "tr"}))
    assert turkish.summary[0].startswith("Bu segmentleri geçici sayın") and len(turkish.summary) == len(thin.summary)
    lowered = {**thin_ctx.params, "segmentation": {**thin_ctx.params.get("segmentation", {}),
                                                    "min_history_days": history}}
    assert not seg_report.history_readiness(thin_ctx.customer_summary, lowered).unmet
    full = seg_report.analyse(own_context(sample_ctx, tmp_path / "full"))
    assert not any("provisional" in line for line in full.summary)
