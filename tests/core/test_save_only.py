"""A run of some notebooks saves only what they read (the registry says what): a notebook reading a table its run
left out fails at once, naming the table and the registry field to fix, instead of waiting for a file that will
not come or reading it as absent."""

from __future__ import annotations

import dataclasses
import json
import time

import pandas as pd
import pytest

from crmlib.core.context import NOT_SAVED, PENDING, NotSaved, load_saved


@pytest.fixture
def ctx(sample_ctx):
    """A copy of the sample's context whose own state the saves below may change (its tables too: the session's
    context must keep every table for the tests that follow)."""
    tables = {name: sample_ctx.tables.stored(name) for name in sample_ctx.tables}
    return dataclasses.replace(sample_ctx, tables=tables, meta=dict(sample_ctx.meta), _clv=None, _segments=None,
                               context_dir=None)


def _fails_at_once(read, match: str) -> None:
    began = time.monotonic()
    with pytest.raises(NotSaved, match=match):
        read()
    assert time.monotonic() - began < 2, "a read of a table left out waited"


def test_a_notebook_reading_the_order_lines_left_out_fails_at_once_naming_the_registry_field(ctx, tmp_path):
    folder = tmp_path / "ctx"
    saving = ctx.start_save(folder, order_lines=False)
    reader = load_saved(folder)  # as a kernel opens it, the save still under way
    lines = r"order lines were not saved.*order_lines=True on its Practice.*crmlib/core/registry\.py"
    for read in (lambda: reader.order_lines, lambda: reader.read("orders", ["customer_id"]),
                 lambda: reader.has("orders", "product_id"), lambda: reader.blank_counts("orders"),
                 lambda: reader.view("product_rhythm")):
        _fails_at_once(read, lines)
    # what is saved reads as in memory, views of the orders included
    pd.testing.assert_frame_equal(reader.orders, ctx.orders)
    pd.testing.assert_frame_equal(reader.customer_summary, ctx.customer_summary)
    earlier = ctx.as_of - pd.Timedelta(days=90)
    pd.testing.assert_frame_equal(reader.summary_at(earlier), ctx.summary_at(earlier))
    months = [v.sort_values(["customer_id", "month_no"], ignore_index=True)  # SQL rows come in any order
              for v in (reader.view("customer_months"), ctx.view("customer_months"))]
    pd.testing.assert_frame_equal(*months, check_exact=False, rtol=1e-12)
    saving.result()
    assert not (folder / "order_lines.parquet").exists() and "write order_lines.parquet" not in saving.seconds
    meta = json.loads((folder / "context.json").read_text(encoding="utf-8"))
    assert meta[NOT_SAVED] == ["order_lines.parquet"] and PENDING not in meta
    _fails_at_once(lambda: load_saved(folder).order_lines, lines)  # a kernel opening it after the save
    full = tmp_path / "full"
    ctx.save(full)  # the default saves them, as before
    assert (full / "order_lines.parquet").exists()
    assert NOT_SAVED not in json.loads((full / "context.json").read_text(encoding="utf-8"))
    pd.testing.assert_frame_equal(load_saved(full).order_lines, ctx.order_lines)


def test_the_runner_letting_go_of_the_order_lines_left_out_fails_the_same_way(ctx, tmp_path):
    ctx.start_save(tmp_path / "ctx", order_lines=False, release=True).result()
    _fails_at_once(lambda: ctx.order_lines, "order_lines=True")
    assert len(ctx.orders) and len(ctx.customer_summary)


def test_a_notebook_reading_a_table_its_run_did_not_read_fails_at_once_naming_the_registry_field(ctx, tmp_path):
    ctx.tables["payments"] = None  # as run --only of notebooks that do not read it loads the data
    ctx.meta["not_read"] = ["payments"]
    ctx.tables["surveys"] = None  # not configured at all: absent, as before
    ctx.start_save(tmp_path / "ctx").result()
    reader = load_saved(tmp_path / "ctx")
    assert not (tmp_path / "ctx" / "table_payments.parquet").exists()
    table = r"table 'payments' was not read.*Add it to the tables of its Practice.*crmlib/core/registry\.py"
    for read in (lambda: reader.tables["payments"], lambda: reader.tables.get("payments"),
                 lambda: reader.has("payments", "due_date"), lambda: reader.read("payments", ["customer_id"])):
        _fails_at_once(read, table)
    pd.testing.assert_frame_equal(reader.tables["customers"], ctx.tables["customers"])
    assert reader.tables["surveys"] is None and not reader.has("surveys")
