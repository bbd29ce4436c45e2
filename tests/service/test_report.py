"""``crmlib.service.report.analyse``: the service sections of 05_loyalty_and_service and their action lists."""

from __future__ import annotations

import dataclasses

import pandas as pd

from crmlib import service
from crmlib.report import i18n
from crmlib.service import report as svc_report


def own_context(ctx, tmp_path, **changes):
    """A copy of the shared context with its own export and context folders (the fixture stays untouched)."""
    changes = {"_history": {}, "meta": dict(ctx.meta), **changes}
    return dataclasses.replace(ctx, export_dir=tmp_path / "exports", context_dir=tmp_path / "ctx", **changes)


def read(tmp_path, name):
    return pd.read_csv(tmp_path / "exports" / f"{name}.csv", dtype={"customer_id": str})


def test_analyse_returns_the_sections_and_writes_the_lists(sample_ctx, tmp_path):
    res = svc_report.analyse(own_context(sample_ctx, tmp_path))
    assert isinstance(res, service.ServiceAnalysis)
    assert res.has_tickets and res.has_resolved and not (res.missing_resolved or res.missing_category)
    opened = read(tmp_path, "open_complaints")
    assert len(opened) == len(res.open_table) == res.open_bands["open"].sum() > 0
    assert set(opened["ticket_id"].astype(str)) == set(res.open_table["ticket_id"].astype(str))
    assert len(read(tmp_path, "review_requests")) == len(res.reviews)
    assert len(read(tmp_path, "checkins")) == len(res.checkins)
    assert len(read(tmp_path, "complaint_followups")) == len(res.followups)
    problems = read(tmp_path, "problem_products")
    assert len(res.problem_products) == int(problems["is_recurring"].sum())
    n_calls = len(res.reviews) + len(res.checkins) + len(res.followups)
    assert res.tiles[-1] == (i18n.t("svc.tile.calls", "en"), f"{n_calls:,}")
    # ticket counts agree with the tickets table: every ticket opened by as_of
    tickets = sample_ctx.tables["tickets"]
    assert f"{int((tickets['opened_at'] < sample_ctx.as_of + pd.Timedelta(days=1)).sum()):,}" in res.metrics_sentence
    assert len(res.summary) == 3 and res.open_sentence and res.categories_sentence


def test_analyse_without_tickets_names_what_is_missing(sample_ctx, tmp_path):
    res = svc_report.analyse(own_context(sample_ctx, tmp_path, tables={**sample_ctx.tables, "tickets": None}))
    assert not res.has_tickets and not res.has_resolved
    assert res.open_table.empty and res.categories.empty and res.problem_products.empty and res.followups.empty
    assert res.metrics_sentence is None and res.products_sentence is None and res.followups_sentence is None
    assert not (res.missing_resolved or res.missing_category or res.missing_product)  # the whole section says it
    assert [label for label, _ in res.tiles] == [i18n.t("svc.tile.calls", "en")]
    assert not (tmp_path / "exports" / "open_complaints.csv").exists()
    assert len(read(tmp_path, "review_requests")) == len(res.reviews)


def test_analyse_with_tickets_lacking_columns(sample_ctx, tmp_path):
    tickets = sample_ctx.tables["tickets"][["customer_id", "ticket_id", "opened_at"]]
    res = svc_report.analyse(own_context(sample_ctx, tmp_path, tables={**sample_ctx.tables, "tickets": tickets}))
    assert res.has_tickets and res.missing_resolved and res.missing_category and res.missing_product
    assert res.open_sentence is None and res.open_bands.empty and res.metrics_sentence
