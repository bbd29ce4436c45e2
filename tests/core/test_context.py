"""The run context: the as-of cut (nothing after it is used), optional tables as known then, save/reopen."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt

from crmlib.core import params
from crmlib.core.context import build_context, cut_tables, load_saved, open_context, resolve_data_path


def test_as_of_defaults_to_the_last_order(sample_ctx):
    assert sample_ctx.as_of == sample_ctx.order_lines["order_date"].max()
    assert sample_ctx.params["as_of"] == f"{sample_ctx.as_of:%Y-%m-%d}"


def test_as_of_cut_uses_nothing_after_it(sample_params, sample_ctx):
    earlier = sample_ctx.as_of - pd.Timedelta(days=120)
    ctx = build_context(params.load(sample_params), params_dir=sample_params.parent, as_of=f"{earlier:%Y-%m-%d}")
    assert ctx.as_of == earlier
    assert ctx.order_lines["order_date"].max() <= earlier and ctx.orders["order_date"].max() <= earlier
    assert (ctx.customer_summary["last_order_date"] <= earlier).all()
    assert any(q.get("kind") == "lines_after_as_of" and q["count"] > 0 for q in ctx.quality)
    for name, column in (("tickets", "opened_at"), ("surveys", "date"), ("contacts", "date")):
        assert (ctx.tables[name][column] <= earlier).all(), name
    assert not (ctx.tables["payments"]["paid_date"] > earlier).any()
    # re-running that week gives the same per-customer table as cutting the orders by hand
    lines = sample_ctx.order_lines.loc[sample_ctx.order_lines["order_date"] <= earlier]
    assert ctx.customer_summary["n_orders"].sum() == lines.groupby(["customer_id", "order_id"])["amount"].sum().gt(0).sum()


def test_cut_tables_blanks_later_events():
    as_of = pd.Timestamp("2026-01-31")
    payments = pd.DataFrame({"customer_id": ["a", "b"], "due_date": pd.to_datetime(["2026-01-10", "2026-01-20"]),
                             "paid_date": pd.to_datetime(["2026-01-09", "2026-02-05"])})
    tickets = pd.DataFrame({"customer_id": ["a", "b"], "opened_at": pd.to_datetime(["2026-01-30", "2026-02-02"]),
                            "resolved_at": pd.to_datetime(["2026-02-03", "2026-02-04"])})
    out = cut_tables({"payments": payments, "tickets": tickets, "surveys": None}, as_of)
    assert out["payments"]["paid_date"].isna().tolist() == [False, True]
    assert len(out["tickets"]) == 1 and pd.isna(out["tickets"].loc[0, "resolved_at"])
    assert out["surveys"] is None


def test_save_and_reopen_round_trip(sample_ctx, tmp_path):
    sample_ctx.save(tmp_path / "ctx")
    again = load_saved(tmp_path / "ctx")
    pdt.assert_frame_equal(again.customer_summary, sample_ctx.customer_summary)
    pdt.assert_frame_equal(again.orders, sample_ctx.orders)
    assert again.as_of == sample_ctx.as_of and again.lang == sample_ctx.lang
    assert set(n for n, f in again.tables.items() if f is not None) == set(
        n for n, f in sample_ctx.tables.items() if f is not None)
    reopened = open_context({}, context_dir=tmp_path / "ctx")
    assert len(reopened.customer_summary) == len(sample_ctx.customer_summary)


def test_relative_paths_resolve_against_the_params_folder(tmp_path, monkeypatch):
    assert resolve_data_path("data/x.csv", tmp_path) == (tmp_path / "data" / "x.csv").resolve()
    (tmp_path / "here.csv").write_text("x", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert resolve_data_path("here.csv", None) == (tmp_path / "here.csv").resolve()
    # the shipped params use paths relative to params/: found from the repository root too
    assert resolve_data_path("default.yaml", None).name == "default.yaml"


def test_segments_are_computed_once_and_travel_with_the_saved_context(sample_ctx, tmp_path, monkeypatch):
    from crmlib import segmentation as segmentation

    first = sample_ctx.segments()
    assert sample_ctx.segments() is first  # cached
    sample_ctx.save(tmp_path / "ctx")
    monkeypatch.setattr(segmentation, "segment_table", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    again = load_saved(tmp_path / "ctx").segments()  # read back, not recomputed
    pdt.assert_frame_equal(again, first, check_dtype=False)
    some = ["customer_id", "rfm_segment"]  # some columns: read alone from the file, or taken from the table
    pdt.assert_frame_equal(load_saved(tmp_path / "ctx").segments(columns=some), first[some], check_dtype=False)
    pdt.assert_frame_equal(sample_ctx.segments(columns=some), first[some])
