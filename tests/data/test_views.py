"""The registry of SQL views: each view runs on an engine from frames or Parquet files, reading the views it
needs first, with canonical dtypes; the context folder's cache is written atomically."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlib.data import tables, views
from crmlib.data.engine import DuckDBEngine


def _lines() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["C1", "C1", "C1", "C2", "C2", "C2"],
        "order_id": ["O1", "O2", "O5", "O3", "O3", "O4"],
        "product_id": ["P1", "P1", "P1", "P2", "P1", "P2"],
        "order_date": pd.to_datetime(["2026-01-05", "2026-02-05", "2026-03-20", "2026-01-10", "2026-01-10",
                                      "2026-03-01"]),
        "amount": [100.0, 50.0, 70.0, 30.0, -10.0, 80.0],
        "cost": [60.0, 30.0, 40.0, 20.0, -5.0, 50.0],
        "quantity": [1.0, 1.0, 1.0, 2.0, -1.0, 3.0],
    })


def test_every_registered_view_reads_known_relations_and_comes_after_the_views_it_reads():
    seen: set[str] = set()
    for name in views.names():
        view = views.get(name)
        assert all(r in views.INPUTS or r in seen for r in view.reads), name
        assert (views.sql_path(name)).exists()
        seen.add(name)
    assert views.requires("customer_summary") == ("order_lines", "orders")
    assert views.depends_on_as_of("customer_summary") and not views.depends_on_as_of("orders")


@pytest.mark.parametrize("layout", ["frame", "file"])
def test_a_view_materialises_the_views_it_reads(tmp_path, layout):
    lines = _lines()
    source = lines
    if layout == "file":
        source = tmp_path / "lines.parquet"
        lines.to_parquet(source, index=False)
    with DuckDBEngine() as eng:
        summary = views.compute(eng, "customer_summary", sources={"order_lines": source}, as_of="2026-03-31")
    expected = tables.build_customer_summary(tables.build_orders(lines), "2026-03-31")
    pd.testing.assert_frame_equal(summary, expected)


def test_a_given_view_is_used_as_is_and_the_date_is_required():
    lines = _lines()
    orders = tables.build_orders(lines).iloc[:2]  # a deliberately partial orders table
    with DuckDBEngine() as eng:
        summary = views.compute(eng, "customer_summary", sources={"orders": orders}, as_of="2026-03-31")
        assert list(summary["customer_id"]) == ["C1"] and summary.loc[0, "n_orders"] == 2
        with pytest.raises(ValueError, match="pass as_of"):
            views.compute(eng, "product_rhythm", sources={"order_lines": lines})
        with pytest.raises(KeyError, match="'order_lines'"):
            views.compute(eng, "orders", sources={})
    with pytest.raises(KeyError, match="no view 'nope'"):
        views.get("nope")


def test_product_rhythm_is_the_sql_file_with_dates_as_timestamps():
    lines = _lines()
    with DuckDBEngine() as eng:
        got = views.compute(eng, "product_rhythm", sources={"order_lines": lines}, as_of="2026-03-31")
    direct = tables.query("product_rhythm", as_of="2026-03-31", order_lines=lines)
    keys = ["customer_id", "product_id"]  # a view's rows come in no particular order
    got = got.sort_values(keys, ignore_index=True)
    direct = direct.sort_values(keys, ignore_index=True)
    assert got["last_purchase_date"].dtype == "datetime64[ns]"
    pd.testing.assert_frame_equal(got.drop(columns="last_purchase_date"),
                                  direct.drop(columns="last_purchase_date"))
    assert list(got["last_purchase_date"]) == list(pd.to_datetime(direct["last_purchase_date"]))
    row = got.set_index(["customer_id", "product_id"]).loc[("C1", "P1")]
    assert row["n_purchase_days"] == 3 and row["days_since"] == 11


def test_cache_files_are_written_atomically_and_keyed_by_date(tmp_path):
    frame = pd.DataFrame({"a": [1, 2]})
    frame.attrs = {"note": "dropped"}
    path = views.write_atomic(frame, views.cache_path(tmp_path, "orders"))
    assert path == tmp_path / "views" / "orders.parquet"
    assert [p.name for p in (tmp_path / "views").iterdir()] == ["orders.parquet"]  # no temporary file left
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame)
    assert views.cache_key("orders", "2026-01-31") == "orders"  # does not depend on the date
    assert views.cache_key("customer_summary", "2026-01-31") == "customer_summary.as_of-2026-01-31"
