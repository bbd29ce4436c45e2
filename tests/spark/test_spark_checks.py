"""The loader's rules on Spark, as SQL: mapped columns present, required ones filled, numbers and dates
readable, exact duplicates dropped; a partitioned Parquet folder reads like one file."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlib.core import params as params_mod
from crmlib.core import spark_context
from crmlib.data import tables
from crmlib.errors import DataError

pytestmark = pytest.mark.spark

COLUMNS = {"customer_id": "Cari", "order_id": "Fis", "order_date": "Tarih", "amount": "Tutar",
           "product_id": "Urun"}


def _file(tmp_path, frame: pd.DataFrame, *, partition: str | None = None):
    path = tmp_path / ("orders" if partition else "orders.parquet")
    frame.to_parquet(path, index=False, partition_cols=[partition] if partition else None)
    return path


def _lines(**changes) -> pd.DataFrame:
    frame = pd.DataFrame({
        "Cari": ["C1", "C1", "C2", "C2", "C2", "C3"],
        "Fis": ["F1", "F2", "F3", "F3", "F3", "F9"],
        "Tarih": ["05.01.2026", "05.02.2026", "10.01.2026", "10.01.2026", "10.01.2026", "01.03.2026"],
        "Tutar": ["100.5", "50", "30", "30", "-10", "20"],
        "Urun": ["P1", "P2", "P1", "P1", "P2", "P1"],
        "Bolge": ["a", "a", "b", "b", "b", "c"],
    })
    return frame.assign(**changes)


def _params(path, **orders) -> dict:
    return params_mod.normalize({"engine": "spark", "as_of": "2026-03-31", "data": {"orders": {
        "path": str(path), "columns": COLUMNS, "read": {"date_format": "%d.%m.%Y"}, **orders}}})


def test_text_numbers_and_dates_are_read_and_duplicates_dropped(tmp_path, spark_session):
    ctx = spark_context.build_context(_params(_file(tmp_path, _lines())), session=spark_session)
    assert len(ctx.order_lines) == 5  # the repeated C2 line is dropped
    assert any(q["kind"] == "duplicates_dropped" and q["count"] == 1 for q in ctx.quality)
    expected = tables.build_customer_summary(tables.build_orders(ctx.order_lines), "2026-03-31")
    pd.testing.assert_frame_equal(ctx.customer_summary, expected)
    c2 = ctx.customer_summary.set_index("customer_id").loc["C2"]
    assert c2["revenue"] == 20.0 and c2["first_order_date"] == pd.Timestamp("2026-01-10")


def test_duplicates_keep_keeps_them(tmp_path, spark_session):
    from crmlib.data.spark_engine import SparkEngine

    params = _params(_file(tmp_path, _lines()), duplicates="keep")
    with SparkEngine(session=spark_session) as eng:
        typed, notes, found = spark_context.checked_lines(eng, params, _file(tmp_path, _lines()))
        assert typed.count() == 6 and found["rows"] == 6
    assert not [n for n in notes if n["kind"] == "duplicates_dropped"]


def test_a_partitioned_folder_reads_like_the_file(tmp_path, spark_session):
    lines = _lines().assign(Tarih=lambda f: pd.to_datetime(f["Tarih"], format="%d.%m.%Y"),
                            Tutar=lambda f: f["Tutar"].astype(float))
    folder = _file(tmp_path, lines.assign(year=[2025, 2026, 2026, 2026, 2026, 2026]), partition="year")
    ctx = spark_context.build_context(_params(folder), session=spark_session)
    canonical = lines.drop_duplicates().rename(columns={v: k for k, v in COLUMNS.items()}).drop(columns="Bolge")
    orders = tables.build_orders(canonical)
    pd.testing.assert_frame_equal(ctx.orders, orders)
    pd.testing.assert_frame_equal(ctx.customer_summary, tables.build_customer_summary(orders, "2026-03-31"))


@pytest.mark.parametrize(("changes", "message"), [
    ({"Cari": ["C1", None, "C2", "C2", "C2", "C3"]},
     r"column 'Cari' \(customer_id\): 1 rows have no value in this required column"),
    ({"Tutar": ["100.5", "50", "12,5x", "30", "-10", "20"]},
     r"column 'Tutar' \(amount\): 1 values cannot be read as a number, e\.g\. '12,5x'"),
    ({"Tarih": ["05.01.2026", "2026-02-05", "10.01.2026", "10.01.2026", "10.01.2026", "01.03.2026"]},
     r"column 'Tarih' \(order_date\): 1 values cannot be read as a date in the format '%d\.%m\.%Y', "
     r"e\.g\. '2026-02-05'"),
])
def test_bad_values_are_one_message_naming_file_column_and_values(tmp_path, spark_session, changes, message):
    path = _file(tmp_path, _lines(**changes))
    with pytest.raises(DataError, match=message) as err:
        spark_context.build_context(_params(path), session=spark_session)
    assert str(path) in str(err.value) and "What to do" in str(err.value)


def test_a_mapped_column_missing_from_the_file_is_named(tmp_path, spark_session):
    path = _file(tmp_path, _lines().drop(columns=["Urun"]))
    with pytest.raises(DataError, match=r"data\.orders\.columns\.product_id names the column 'Urun', which the "
                                        r"file does not have"):
        spark_context.build_context(_params(path), session=spark_session)


def test_rules_only_the_loader_applies_send_a_parquet_through_it(tmp_path, spark_session):
    path = _file(tmp_path, _lines())
    ctx = spark_context.build_context(_params(path, drop_when={"Bolge": ["c"]}), session=spark_session)
    assert ctx.meta["detected"]["orders"]["loader"] == "drop_when" and ctx.meta["engine"] == "spark"
    assert set(ctx.customer_summary["customer_id"]) == {"C1", "C2"}  # C3's only line (Bolge c) is dropped
