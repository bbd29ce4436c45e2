"""Reading exports: formats, detection of encoding/separator/decimal/dates, mapping errors."""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlib.data.read import REQUIRED, TABLE_COLUMNS, read_table
from crmlib.data.validate import validate_table
from crmlib.errors import DataError

ORDERS = {"customer_id": "customer_id", "order_date": "order_date", "amount": "amount"}


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def load(
    folder: Path, name: str = "orders.csv", *, columns: dict | None = None, table: str = "orders", **read
):
    spec = {"path": name, "columns": ORDERS if columns is None else columns, "read": read}
    return validate_table(read_table(table, spec, base_dir=folder))


def test_contract_tables_and_required_columns() -> None:
    assert set(TABLE_COLUMNS) == {
        "orders",
        "customers",
        "products",
        "payments",
        "tickets",
        "surveys",
        "contacts",
        "marketing",
    }
    assert REQUIRED["orders"] == ("customer_id", "order_date", "amount")
    assert REQUIRED["marketing"] == ("month", "spend")
    for name, cols in REQUIRED.items():
        assert set(cols) <= set(TABLE_COLUMNS[name])


def test_erp_export_cp1254_semicolon_decimal_comma(tmp_path: Path) -> None:
    text = (
        "Müşteri Kodu;Sipariş Tarihi;Tutar;Şehir\n"
        "C1;15.03.2024;1.234,56;İstanbul\nC2;16.03.2024;-12,50;Eskişehir\nC3;17.03.2024;7;Muğla\n"
    )
    write(tmp_path, "orders.csv", text, "cp1254")
    raw = read_table(
        "orders",
        {
            "path": "orders.csv",
            "columns": {"customer_id": "Müşteri Kodu", "order_date": "Sipariş Tarihi", "amount": "Tutar"},
        },
        base_dir=tmp_path,
    )
    assert raw.detected["encoding"] == "cp1254"
    assert raw.detected["sep"] == ";"
    assert (raw.detected["decimal"], raw.detected["thousands"]) == (",", ".")
    assert raw.detected["date_format"] == "%d.%m.%Y"
    valid = validate_table(raw)
    assert valid.frame["amount"].tolist() == [1234.56, -12.5, 7.0]
    assert valid.frame["order_date"].tolist() == list(
        pd.to_datetime(["2024-03-15", "2024-03-16", "2024-03-17"])
    )


def test_cp1254_turkish_letters_decode(tmp_path: Path) -> None:
    text = "customer_id;name;city\nC1;Işık Tekstil Ltd. Şti.;İzmir\nC2;Çağrı Ambalaj;Güngören\n"
    write(tmp_path, "customers.csv", text, "cp1254")
    valid = load(
        tmp_path,
        "customers.csv",
        table="customers",
        columns={"customer_id": "customer_id", "name": "name", "city": "city"},
    )
    assert valid.detected["encoding"] == "cp1254"
    assert valid.frame["name"].tolist() == ["Işık Tekstil Ltd. Şti.", "Çağrı Ambalaj"]
    assert valid.frame["city"].tolist() == ["İzmir", "Güngören"]


@pytest.mark.parametrize(
    ("encoding", "expected"), [("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8"), ("utf-16", "utf-16")]
)
def test_encoding_detected_from_bom_or_utf8(tmp_path: Path, encoding: str, expected: str) -> None:
    write(tmp_path, "orders.csv", "customer_id,order_date,amount\nŞ1,2024-03-15,10.5\n", encoding)
    valid = load(tmp_path)
    assert valid.detected["encoding"] == expected
    assert valid.frame["customer_id"].tolist() == ["Ş1"]


def test_late_non_utf8_line_falls_back_to_cp1254(tmp_path: Path) -> None:
    rows = "".join(f"C{i},2024-03-15,10.5\n" for i in range(60_000))  # more than the 1 MiB sample
    write(tmp_path, "orders.csv", "customer_id,order_date,amount\n" + rows + "Ğ9,2024-03-16,1.5\n", "cp1254")
    valid = load(tmp_path)
    assert valid.detected["encoding"] == "cp1254"
    assert valid.frame["customer_id"].iloc[-1] == "Ğ9"
    assert "encoding_fallback" in [n.kind for n in valid.notes]


def test_explicit_utf8_on_cp1254_file_names_line_and_fix(tmp_path: Path) -> None:
    write(
        tmp_path, "orders.csv", "customer_id;order_date;amount\nC1;15.03.2024;1\nŞ2;16.03.2024;2\n", "cp1254"
    )
    with pytest.raises(
        DataError,
        match=r"cannot be decoded as utf-8 \(as set in read.encoding\): byte 0xde "
        r"at line 3.*read.encoding.*'cp1254'",
    ):
        load(tmp_path, encoding="utf-8")


def test_undecodable_bytes_fail_with_encoding_advice(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_bytes(b"customer_id;order_date;amount\nC\x81\x8d;15.03.2024;1\n")
    with pytest.raises(
        DataError,
        match=r"encoding cannot be detected safely.*neither UTF-8 nor cp1254.*"
        r"read.encoding",
    ):
        load(tmp_path)


def test_binary_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(DataError, match=r"orders.csv.*NUL bytes"):
        load(tmp_path)


@pytest.mark.parametrize("sep", [";", ",", "\t", "|"])
def test_separator_detected(tmp_path: Path, sep: str) -> None:
    lines = ["customer_id", "order_date", "amount"], ["C1", "2024-03-15", "10"], ["C2", "2024-03-16", "20"]
    write(tmp_path, "orders.csv", "\n".join(sep.join(r) for r in lines) + "\n")
    valid = load(tmp_path)
    assert valid.detected["sep"] == sep
    assert valid.frame["amount"].sum() == 30


@pytest.mark.parametrize(
    ("values", "decimal", "expected"),
    [
        (["1.234,56", "7"], ",", [1234.56, 7.0]),
        (["1,234.56", "7"], ".", [1234.56, 7.0]),
        (["1234,5", "12"], ",", [1234.5, 12.0]),
        (["1 234,50 TL", "(12,00)", "3,10-"], ",", [1234.5, -12.0, -3.1]),
    ],
)
def test_decimal_mark_detected(
    tmp_path: Path, values: list[str], decimal: str, expected: list[float]
) -> None:
    body = "".join(f'C{i};2024-03-15;"{v}"\n' for i, v in enumerate(values))
    write(tmp_path, "orders.csv", "customer_id;order_date;amount\n" + body)
    valid = load(tmp_path)
    assert valid.detected["decimal"] == decimal
    np.testing.assert_allclose(valid.frame["amount"], expected)


def test_ambiguous_decimal_asks_for_read_decimal(tmp_path: Path) -> None:
    write(
        tmp_path, "orders.csv", "customer_id;order_date;amount\nC1;2024-03-15;1.234\nC2;2024-03-15;12.500\n"
    )
    with pytest.raises(
        DataError,
        match=r"column 'amount'.*decimal mark cannot be detected.*line 2: '1.234'.*"
        r"read.decimal",
    ):
        load(tmp_path)


def test_mixed_decimal_marks_fail(tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", "customer_id;order_date;amount\nC1;2024-03-15;12,5\nC2;2024-03-15;3.75\n")
    with pytest.raises(
        DataError, match=r"mix a decimal comma and a decimal point.*line 2: '12,5'; line 3: '3.75'"
    ):
        load(tmp_path)


@pytest.mark.parametrize(("decimal", "expected"), [(",", 1234.0), (".", 1.234)])
def test_explicit_decimal_wins(tmp_path: Path, decimal: str, expected: float) -> None:
    write(tmp_path, "orders.csv", "customer_id;order_date;amount\nC1;2024-03-15;1.234\n")
    valid = load(tmp_path, decimal=decimal)
    assert valid.frame["amount"].iloc[0] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("dates", "fmt"),
    [
        (["2024-03-15", "2024-03-01"], "%Y-%m-%d"),
        (["15.03.2024", "1.3.2024"], "%d.%m.%Y"),
        (["15/03/2024", "01/03/2024"], "%d/%m/%Y"),
        (["03/15/2024", "03/01/2024"], "%m/%d/%Y"),
        (["15.03.2024 14:30:00", "01.03.2024 00:00"], "%d.%m.%Y"),
        (["2024-03-15T14:30:00", "2024-03-01"], "%Y-%m-%d"),
    ],
)
def test_date_layouts_detected(tmp_path: Path, dates: list[str], fmt: str) -> None:
    body = "".join(f"C{i};{d};1\n" for i, d in enumerate(dates))
    write(tmp_path, "orders.csv", "customer_id;order_date;amount\n" + body)
    valid = load(tmp_path)
    assert valid.detected["date_formats"]["order_date"] == fmt
    assert valid.frame["order_date"].tolist() == list(pd.to_datetime(["2024-03-15", "2024-03-01"]))


def test_ambiguous_day_month_asks_for_date_format(tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", "customer_id;order_date;amount\nC1;03/04/2024;1\nC2;05/06/2024;1\n")
    with pytest.raises(
        DataError,
        match=r"column 'order_date'.*day and month at most 12.*line 2: '03/04/2024'.*"
        r"read.date_format",
    ):
        load(tmp_path)


def test_explicit_date_format_settles_ambiguity(tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", "customer_id;order_date;amount\nC1;03/04/2024;1\n")
    assert load(tmp_path, date_format="%m/%d/%Y").frame["order_date"].iloc[0] == pd.Timestamp("2024-03-04")
    assert load(tmp_path, date_format="%d/%m/%Y").frame["order_date"].iloc[0] == pd.Timestamp("2024-04-03")


def test_missing_file_names_path_and_fix(tmp_path: Path) -> None:
    write(tmp_path, "order.csv", "x\n")
    with pytest.raises(
        DataError,
        match=r"Table 'orders'.*orders.csv.*does not exist.*the folder has "
        r"'order.csv'.*data.orders.path",
    ):
        load(tmp_path)


def test_empty_file_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", "")
    with pytest.raises(DataError, match=r"orders.csv.*the file is empty"):
        load(tmp_path)


def test_header_only_orders_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", "customer_id;order_date;amount\n")
    with pytest.raises(DataError, match=r"orders table has no rows"):
        load(tmp_path)


def test_unsupported_extension(tmp_path: Path) -> None:
    write(tmp_path, "orders.json", "{}")
    with pytest.raises(DataError, match=r"extension '.json' is not supported"):
        load(tmp_path, "orders.json")


@pytest.mark.parametrize(
    ("mapped", "header"), [("tutar", "Tutar"), ("Siparis Tarihi", "Sipariş Tarihi"), ("TUTAR", "tutar")]
)
def test_missing_column_suggests_header(tmp_path: Path, mapped: str, header: str) -> None:
    write(tmp_path, "orders.csv", f"Kod;Tarih;{header}\nC1;2024-03-15;1\n")
    columns = {"customer_id": "Kod", "order_date": "Tarih", "amount": mapped}
    with pytest.raises(
        DataError,
        match=rf"column 'amount' \(in the file: '{mapped}'\): the file has no column "
        rf"'{mapped}'; did you mean '{header}'\?.*data.orders.columns.amount",
    ):
        load(tmp_path, columns=columns)


def test_duplicate_header_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", "customer_id;order_date;amount;amount\nC1;2024-03-15;1;2\n")
    with pytest.raises(DataError, match=r"the header 'amount' appears 2 times"):
        load(tmp_path)


def test_required_column_not_mapped(tmp_path: Path) -> None:
    write(tmp_path, "payments.csv", "Cari;Vade;Tutar\nC1;2024-03-15;1\n")
    with pytest.raises(
        DataError,
        match=r"'payments'.*column 'due_date': the required column 'due_date' is not "
        r"mapped.*data.payments.columns",
    ):
        load(tmp_path, "payments.csv", table="payments", columns={"customer_id": "Cari", "amount": "Tutar"})


def test_unknown_column_of_ours_suggests_name(tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", "customer_id;order_date;amount\nC1;2024-03-15;1\n")
    with pytest.raises(
        DataError,
        match=r"'amout' under columns: is not a column of this table \(did you mean "
        r"'amount'\?\)",
    ):
        load(tmp_path, columns={**ORDERS, "amout": "amount"})


def test_columns_absent_maps_same_names(tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", "customer_id,order_date,amount,quantity,notes\nC1,2024-03-15,1,2,x\n")
    raw = read_table("orders", {"path": "orders.csv"}, base_dir=tmp_path)
    assert list(raw.frame.columns) == ["customer_id", "order_date", "amount", "quantity"]


def test_wrong_field_count_names_lines(tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", "customer_id;order_date;amount\nC1;2024-03-15;1\nC2;2024-03-15;1;9\n")
    with pytest.raises(DataError, match=r"1 lines do not have the 3 fields.*'C2;2024-03-15;1;9'.*read.sep"):
        load(tmp_path)


def test_xlsx_sheet_numeric_ids_and_dates(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "Cari Kod": [1001, 1002, 1003],
            "Tarih": pd.to_datetime(["2024-03-15"] * 3),
            "Tutar": [10.5, 20.0, -3.0],
        }
    )
    with pd.ExcelWriter(tmp_path / "orders.xlsx", engine="openpyxl") as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="Özet", index=False)
        frame.to_excel(writer, sheet_name="Satışlar", index=False)
    columns = {"customer_id": "Cari Kod", "order_date": "Tarih", "amount": "Tutar"}
    valid = load(tmp_path, "orders.xlsx", columns=columns, sheet="Satışlar")
    assert valid.frame["customer_id"].tolist() == ["1001", "1002", "1003"]
    assert valid.frame["order_date"].dtype == "datetime64[ns]"
    assert valid.frame["amount"].tolist() == [10.5, 20.0, -3.0]
    with pytest.raises(DataError, match=r"no sheet 'Satislar' \(did you mean 'Satışlar'\?\)"):
        load(tmp_path, "orders.xlsx", columns=columns, sheet="Satislar")


def test_xlsx_text_cells_are_parsed(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "order_date": ["15.03.2024", "16.03.2024"],
            "amount": ["1.234,50", "2,25"],
        }
    )
    frame.to_excel(tmp_path / "orders.xlsx", index=False, engine="openpyxl")
    valid = load(tmp_path, "orders.xlsx")
    assert valid.frame["amount"].tolist() == [1234.5, 2.25]
    assert valid.frame["order_date"].iloc[1] == pd.Timestamp("2024-03-16")


def test_parquet_keeps_types(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": [1001, 1002],
            "order_date": pd.to_datetime(["2024-03-15 13:00", "2024-03-16"], format="ISO8601"),
            "amount": [10.5, 20.0],
        }
    )
    frame.to_parquet(tmp_path / "orders.parquet")
    valid = load(tmp_path, "orders.parquet")
    assert valid.frame["customer_id"].tolist() == ["1001", "1002"]
    assert valid.frame["order_date"].tolist() == list(pd.to_datetime(["2024-03-15", "2024-03-16"]))
    assert valid.frame["amount"].dtype == "float64"


def test_corrupt_parquet_is_refused(tmp_path: Path) -> None:
    (tmp_path / "orders.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match=r"cannot be read as Parquet"):
        load(tmp_path, "orders.parquet")


def test_bom_does_not_leak_into_header(tmp_path: Path) -> None:
    write(
        tmp_path,
        "orders.csv",
        codecs.BOM_UTF8.decode("utf-8") + "customer_id;order_date;amount\nC1;2024-03-15;1\n",
    )
    assert load(tmp_path, encoding="utf-8").frame["customer_id"].tolist() == ["C1"]


def test_erp_csv_of_the_benchmark_matches_its_parquet(tmp_path: Path) -> None:
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "make_big_data.py"
    spec = importlib.util.spec_from_file_location("make_big_data", script)
    big = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(big)
    written = big.write(tmp_path, 3_000, 200, seed=3)
    parquet, csv_path = written[0], next(p for p in written if p.suffix == ".csv")
    from_csv = load(tmp_path, csv_path.name, columns=big.MAPPING)
    from_parquet = load(tmp_path, parquet.name, columns={k: k for k in big.MAPPING})
    assert from_csv.detected["encoding"] == "cp1254"
    assert (from_csv.detected["sep"], from_csv.detected["decimal"]) == (";", ",")
    assert [n.kind for n in from_csv.notes if n.kind == "duplicates_dropped"] == ["duplicates_dropped"]
    pd.testing.assert_frame_equal(from_csv.frame, from_parquet.frame[from_csv.frame.columns])
