"""A reopened context reads each table from its Parquet file on first use, with the same contents."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlib.core.context import Saved, Tables, load_saved


@pytest.fixture(scope="module")
def saved(sample_ctx, tmp_path_factory):
    folder = tmp_path_factory.mktemp("lazy") / "ctx"
    sample_ctx.save(folder)
    return folder


def test_nothing_is_read_until_used_and_then_once(saved, sample_ctx, monkeypatch):
    reads: list[str] = []
    original = Saved.read

    def counting(self, columns=None):
        reads.append(self.path.name)
        return original(self, columns)

    monkeypatch.setattr(Saved, "read", counting)
    ctx = load_saved(saved)
    assert reads == []
    assert ctx.as_of == sample_ctx.as_of and ctx.lang == sample_ctx.lang
    pd.testing.assert_frame_equal(ctx.customer_summary, sample_ctx.customer_summary)
    assert reads == ["customer_summary.parquet"]
    assert ctx.tables.get("customers") is not None and ctx.tables["customers"] is ctx.tables["customers"]
    assert reads == ["customer_summary.parquet", "table_customers.parquet"]
    pd.testing.assert_frame_equal(ctx.order_lines, sample_ctx.order_lines)
    ctx.order_lines  # noqa: B018 - read once, then held
    assert reads.count("order_lines.parquet") == 1
    assert "table_tickets.parquet" not in reads


def test_tables_compare_equal_to_the_built_ones(saved, sample_ctx):
    ctx = load_saved(saved)
    assert isinstance(ctx.tables, Tables) and list(ctx.tables) == list(sample_ctx.tables)
    for name, frame in sample_ctx.tables.items():
        if frame is None:
            assert ctx.tables[name] is None and ctx.stored(name) is None
        else:
            pd.testing.assert_frame_equal(ctx.tables[name], frame)
    merged = {"orders": ctx.order_lines, **ctx.tables}  # how the overview lists blanks
    assert set(merged) == {"orders", *sample_ctx.tables}


def test_has_answers_from_the_file_as_the_frame_would(saved, sample_ctx, monkeypatch):
    ctx = load_saved(saved)
    monkeypatch.setattr(Saved, "read", lambda self, columns=None: pytest.fail("has() read a whole table")
                        if columns is None else pd.read_parquet(self.path, columns=columns))
    for table in ("orders", *sample_ctx.tables):
        frame = sample_ctx.order_lines if table == "orders" else sample_ctx.tables[table]
        columns = list(frame.columns) if frame is not None else ["customer_id"]
        for column in [*columns, "no_such_column"]:
            assert ctx.has(table, column) == sample_ctx.has(table, column), (table, column)
        assert ctx.has(table) == sample_ctx.has(table)


def test_has_sees_an_all_blank_column(tmp_path):
    frame = pd.DataFrame({"customer_id": ["a", "b"], "note": [None, None], "score": [float("nan")] * 2,
                          "when": pd.to_datetime([None, None]), "n": [1, None]})
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    saved = Saved(tmp_path / "t.parquet")
    assert saved.columns() == list(frame.columns)
    for column in frame.columns:
        assert saved.has_values((column,)) == bool(frame[column].notna().any()), column


def test_read_gives_only_the_columns_asked_for(saved, sample_ctx):
    ctx = load_saved(saved)
    got = ctx.read("orders", ["customer_id", "order_date", "no_such_column"])
    pd.testing.assert_frame_equal(got, sample_ctx.order_lines[["customer_id", "order_date"]])
    assert ctx.stored("orders").__class__ is Saved  # the whole table was not read
    assert ctx.read("marketing", ["month"]) is None or "month" in ctx.read("marketing", ["month"])


def test_released_order_lines_are_read_back_from_the_file(sample_params, tmp_path):
    from crmlib.core import params
    from crmlib.core.context import build_context

    ctx = build_context(params.load(sample_params), params_dir=sample_params.parent)
    lines = ctx.order_lines.copy()
    orders, summary = ctx.orders.copy(), ctx.customer_summary.copy()
    tables = {k: v.copy() for k, v in ctx.tables.items() if v is not None}
    ctx.save(tmp_path / "ctx", release=True)
    assert isinstance(ctx.stored("orders"), Saved)
    # every table is released (the runner holds the context while the notebooks run) and read back on use
    assert all(isinstance(ctx.tables.stored(k), Saved) for k in tables) and tables
    assert isinstance(ctx.__dict__["_saved_orders"], Saved)
    pd.testing.assert_frame_equal(ctx.order_lines, lines)
    pd.testing.assert_frame_equal(ctx.orders, orders)
    pd.testing.assert_frame_equal(ctx.customer_summary, summary)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(ctx.tables[name], frame)


def test_orders_columns_and_data_window_read_only_what_they_use(saved, sample_ctx, monkeypatch):
    ctx = load_saved(saved)
    monkeypatch.setattr(Saved, "read", lambda self, columns=None: pytest.fail(f"{self.path.name} read whole")
                        if columns is None else pd.read_parquet(self.path, columns=columns))
    assert ctx.data_window == sample_ctx.data_window
    wanted = ["customer_id", "order_date", "amount", "is_purchase"]
    pd.testing.assert_frame_equal(ctx.orders_columns(wanted), sample_ctx.orders[wanted])
    pd.testing.assert_frame_equal(sample_ctx.orders_columns(wanted), sample_ctx.orders[wanted])  # in memory
    assert isinstance(ctx.stored("orders"), Saved) and isinstance(ctx.__dict__["_saved_orders"], Saved)  # not kept
