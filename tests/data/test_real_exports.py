"""Real exports that used to give silently wrong numbers or unclear refusals: each built as a small file.

Every case asserts the exact figures ``validate`` reports (customers, orders, net revenue) or the exact
refusal; the truth is computed by hand from the literal lines written here.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

from crmlib.__main__ import main
from crmlib.core import check
from crmlib.errors import DataError

HEADER = ["Cari Kodu", "Fatura No", "Tarih", "Tutar"]
COLUMNS = {"customer_id": "Cari Kodu", "order_id": "Fatura No", "order_date": "Tarih", "amount": "Tutar"}


def params(folder: Path, orders: dict, **top) -> Path:
    path = folder / "params.yaml"
    body = {"language": "en", "data": {"orders": {"columns": COLUMNS, **orders}}, **top}
    path.write_text(yaml.safe_dump(body, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def figures(folder: Path, orders: dict, **top) -> dict:
    return check.summary(params(folder, orders, **top))


def kinds(result: dict) -> dict[str, int]:
    return {n["kind"]: n["count"] for n in result["notes"]}


def workbook(path: Path, sheets: dict[str, list[list]]) -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return book


def csv(folder: Path, text: str, name: str = "orders.csv", encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


# ------------------------------------------------------------------------------------------ ids in xlsx


def test_xlsx_codes_as_text_and_numbers_that_collide_are_refused(tmp_path: Path) -> None:
    workbook(tmp_path / "orders.xlsx", {"Satış": [HEADER, ["00012", "F1", dt.datetime(2024, 3, 1), 100.0],
                                                  [12, "F2", dt.datetime(2024, 3, 2), 50.0],
                                                  ["00013", "F3", dt.datetime(2024, 3, 2), 10.0]]})
    with pytest.raises(DataError, match=r"sheet 'Satış'\), column 'customer_id' \(in the file: 'Cari Kodu'\): 1 "
                                        r"codes are written both with and without leading zeros \('00012' = '12'\)"
                                        r".*First rows: line 2: '00012'; line 3: '12'.*format the column as Text"):
        figures(tmp_path, {"path": "orders.xlsx"})


def test_xlsx_number_cells_shown_with_zeros_are_read_as_shown(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    book = workbook(path, {"Satış": [HEADER, ["00012", "F1", dt.datetime(2024, 3, 1), 100.0],
                                     [12, "F2", dt.datetime(2024, 3, 2), 50.0],
                                     [7, "F3", dt.datetime(2024, 3, 2), 10.0]]})
    for row in (3, 4):
        book["Satış"].cell(row=row, column=1).number_format = "00000"
    book.save(path)
    result = figures(tmp_path, {"path": "orders.xlsx"})
    assert (result["customers"], result["orders"], result["revenue"]) == (2, 3, 160.0)


# -------------------------------------------------------------------------------------------- sheets


def _two_years(path: Path) -> None:
    workbook(path, {"2024": [HEADER, ["C1", "F1", dt.datetime(2024, 3, 1), 100.0],
                             ["C2", "F2", dt.datetime(2024, 5, 1), 40.0]],
                    "2025": [HEADER, ["C1", "F3", dt.datetime(2025, 1, 5), 60.0],
                             ["C3", "F4", "32.01.2025", 5.0]],
                    "Özet": [["Toplam", 205.0]]})


def test_sheets_with_the_same_header_are_refused_when_sheet_is_unset(tmp_path: Path) -> None:
    _two_years(tmp_path / "orders.xlsx")
    with pytest.raises(DataError, match=r"the sheets \['2025'\] carry the same header as the first sheet '2024'.*"
                                        r"set data.orders.read.sheet: all"):
        figures(tmp_path, {"path": "orders.xlsx"})


def test_sheet_all_reads_every_sheet_and_names_the_sheet_of_a_bad_line(tmp_path: Path) -> None:
    _two_years(tmp_path / "orders.xlsx")
    with pytest.raises(DataError, match=r"sheets \['2024', '2025'\]\), column 'order_date'.*line 3 "
                                        r"\(sheet '2025'\): '32.01.2025'"):
        figures(tmp_path, {"path": "orders.xlsx", "read": {"sheet": "all"}})
    book = openpyxl.load_workbook(tmp_path / "orders.xlsx")
    book["2025"]["C3"] = dt.datetime(2025, 1, 31)
    book.save(tmp_path / "orders.xlsx")
    result = figures(tmp_path, {"path": "orders.xlsx", "read": {"sheet": "all"}})
    assert (result["customers"], result["orders"], result["revenue"]) == (3, 4, 205.0)
    assert kinds(result)["sheets_combined"] == 2
    listed = figures(tmp_path, {"path": "orders.xlsx", "read": {"sheet": ["2024", "2025"]}})
    assert listed["revenue"] == 205.0
    only = figures(tmp_path, {"path": "orders.xlsx", "read": {"sheet": "2025"}})
    assert only["revenue"] == 65.0


def test_data_on_the_second_sheet_names_the_sheet_and_read_sheet(tmp_path: Path) -> None:
    workbook(tmp_path / "orders.xlsx", {"Kapak": [["Satış raporu 2024"]],
                                        "Satışlar": [HEADER, ["C1", "F1", dt.datetime(2024, 3, 1), 10.0]]})
    with pytest.raises(DataError, match=r"the first sheet 'Kapak' \(read because read.sheet is not set\) has no "
                                        r"column '[^']+'; the sheet 'Satışlar' has every mapped column.*"
                                        r"set data.orders.read.sheet: Satışlar"):
        figures(tmp_path, {"path": "orders.xlsx"})
    assert figures(tmp_path, {"path": "orders.xlsx", "read": {"sheet": "Satışlar"}})["revenue"] == 10.0


# ------------------------------------------------------------------------------------------- currencies


def test_currency_column_without_rates_is_refused_listing_the_currencies(tmp_path: Path) -> None:
    csv(tmp_path, "Cari Kodu;Fatura No;Tarih;Tutar;Döviz\nC1;F1;01.03.2024;100,00;TL\n"
                  "C1;F2;02.03.2024;10,00;USD\nC2;F3;02.03.2024;20,00;EUR\nC2;F4;03.03.2024;5,00;USD\n")
    orders = {"path": "orders.csv", "columns": {**COLUMNS, "currency": "Döviz"}}
    with pytest.raises(DataError, match=r"several currencies: USD \(2 lines\), TRY \(1 lines\), EUR \(1 lines\); "
                                        r"the report currency is TRY and there is no rate for USD, EUR.*"
                                        r"data.orders.rates: \{USD: <TRY per 1 USD>, EUR: <TRY per 1 EUR>\}"):
        figures(tmp_path, orders)
    result = figures(tmp_path, {**orders, "rates": {"USD": 34.0, "EUR": 37.0}})
    assert result["revenue"] == pytest.approx(100 + 15 * 34.0 + 20 * 37.0)
    assert kinds(result)["currency_converted"] == 3


def test_currency_codes_inside_amounts_are_never_dropped(tmp_path: Path) -> None:
    csv(tmp_path, "Cari Kodu;Fatura No;Tarih;Tutar\nC1;F1;01.03.2024;1.234,56 USD\nC2;F2;02.03.2024;980,00 EUR\n"
                  "C3;F3;02.03.2024;100,00 TL\nC3;F4;04.03.2024;50,00\n")
    with pytest.raises(DataError, match=r"several currencies: .*USD \(1 lines\).*EUR \(1 lines\).*no rate for"):
        figures(tmp_path, {"path": "orders.csv"})
    result = figures(tmp_path, {"path": "orders.csv", "rates": {"USD": 34.0, "EUR": 37.0}})
    assert result["revenue"] == pytest.approx(1234.56 * 34 + 980 * 37 + 150)
    assert result["customers"] == 3


def test_one_currency_equal_to_the_report_currency_needs_no_rates(tmp_path: Path) -> None:
    csv(tmp_path, "Cari Kodu;Fatura No;Tarih;Tutar\nC1;F1;01.03.2024;1.234,56 TL\nC2;F2;02.03.2024;₺10,00\n")
    result = figures(tmp_path, {"path": "orders.csv"})
    assert result["revenue"] == pytest.approx(1244.56)
    usd = figures(tmp_path, {"path": "orders.csv", "rates": {"TRY": 0.03}}, currency="USD")
    assert usd["revenue"] == pytest.approx(1244.56 * 0.03, abs=0.005)


# --------------------------------------------------------------------------------- cancelled and returns

STATUS = ("Cari Kodu;Fatura No;Tarih;Tutar;Miktar;Durum;Belge Türü\n"
          "C1;F1;01.03.2024;100,00;1;Tamamlandı;Fatura\n"
          "C1;F2;02.03.2024;50,00;1;İptal;Fatura\n"
          "C2;F3;03.03.2024;30,00;-2;Tamamlandı;Fatura\n"
          "C2;F4;04.03.2024;200,00;2;Tamamlandı;Fatura\n"
          "C2;F5;05.03.2024;20,00;1;Tamamlandı;İade\n")


def test_unmapped_status_columns_are_named_with_their_values(tmp_path: Path) -> None:
    csv(tmp_path, STATUS)
    result = figures(tmp_path, {"path": "orders.csv", "columns": {**COLUMNS, "quantity": "Miktar"}})
    notes = {n["kind"]: n for n in result["notes"] if n["kind"] == "status_column_unmapped"}
    messages = [n["message"] for n in result["notes"] if n["kind"] == "status_column_unmapped"]
    assert notes and len(messages) == 2
    assert "'Durum'" in messages[0] and "İptal (1)" in messages[0]
    assert "'Belge Türü'" in messages[1] and "İade (1)" in messages[1]
    text = check.as_text(result)
    assert "looks like a status or document type" in text
    # the negative quantity with a positive amount is a return even without rules
    assert result["revenue"] == pytest.approx(100 + 50 - 30 + 200 + 20)


def test_drop_when_and_return_when_give_the_true_revenue(tmp_path: Path) -> None:
    csv(tmp_path, STATUS)
    result = figures(tmp_path, {"path": "orders.csv", "columns": {**COLUMNS, "quantity": "Miktar"},
                                "drop_when": {"Durum": ["iptal"]}, "return_when": {"Belge Türü": ["İADE"]}})
    assert result["revenue"] == pytest.approx(100 - 30 + 200 - 20)
    assert (result["lines"], result["orders"], result["purchase_orders"]) == (4, 4, 2)
    found = kinds(result)
    assert found["dropped_by_status"] == 1 and found["returns_by_status"] == 1
    assert found["negative_quantity_returns"] == 1
    assert "status_column_unmapped" not in found


def test_rule_on_a_missing_column_is_refused(tmp_path: Path) -> None:
    csv(tmp_path, STATUS)
    with pytest.raises(DataError, match=r"drop_when names the column 'Durumu'.*did you mean 'Durum'"):
        figures(tmp_path, {"path": "orders.csv", "drop_when": {"Durumu": ["İptal"]}})


# --------------------------------------------------------------------------------------- future dates


def test_a_future_typo_does_not_move_the_analysis_date(tmp_path: Path) -> None:
    csv(tmp_path, "Cari Kodu;Fatura No;Tarih;Tutar\nC1;F1;01.03.2025;100,00\nC2;F2;02.03.2052;50,00\n"
                  "C2;F3;05.03.2025;20,00\n")
    result = figures(tmp_path, {"path": "orders.csv"})
    assert (result["as_of"], result["revenue"], result["customers"]) == ("2025-03-05", 120.0, 2)
    note = next(n for n in result["notes"] if n["kind"] == "future_lines_left_out")
    assert note["count"] == 1 and "line 3: '2052-03-02'" in note["message"]


def test_many_future_lines_are_refused(tmp_path: Path) -> None:
    body = "".join(f"C{i};F{i};0{1 + i % 9}.03.2090;10,00\n" for i in range(30))
    csv(tmp_path, "Cari Kodu;Fatura No;Tarih;Tutar\nC1;F0;01.03.2025;10,00\n" + body)
    with pytest.raises(DataError, match=r"30 of 31 lines are dated after today.*too many to be typos.*"
                                        r"line 3: '2090-03-01'.*set as_of"):
        figures(tmp_path, {"path": "orders.csv"})
    assert figures(tmp_path, {"path": "orders.csv"}, as_of="2025-06-30")["revenue"] == 10.0


# -------------------------------------------------------------------------------------- leading zeros


def test_leading_zeros_lost_in_the_customers_table_are_matched(tmp_path: Path) -> None:
    csv(tmp_path, "Cari Kodu;Fatura No;Tarih;Tutar\n00012;F1;01.03.2024;100\n00013;F2;02.03.2024;50\n")
    csv(tmp_path, "customer_id;name\n12;Ayşe\n13;Mehmet\n", name="customers.csv")
    path = params(tmp_path, {"path": "orders.csv"})
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["data"]["customers"] = {"path": "customers.csv"}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    result = check.summary(path)
    assert kinds(result)["leading_zeros_matched"] == 2
    assert "unknown_customers" not in kinds(result)
    csv(tmp_path, "customer_id;name\n12;Ayşe\n012;Mehmet\n13;Ali\n", name="customers.csv")
    with pytest.raises(DataError, match=r"Table 'customers'.*1 codes are written both with and without leading "
                                        r"zeros \('012' = '12'\)"):
        check.summary(path)


# -------------------------------------------------------------------------------- Parquet time zones


def test_utc_parquet_timestamps_are_converted_to_istanbul(tmp_path: Path) -> None:
    frame = pd.DataFrame({"Cari Kodu": ["C1", "C2"], "Fatura No": ["F1", "F2"],
                          "Tarih": pd.to_datetime(["2024-03-01 22:30", "2024-03-01 20:00"]).tz_localize("UTC"),
                          "Tutar": [10.0, 5.0]})
    frame.to_parquet(tmp_path / "orders.parquet")
    result = figures(tmp_path, {"path": "orders.parquet"})
    assert (result["first_date"], result["last_date"]) == ("2024-03-01", "2024-03-02")
    assert kinds(result)["dates_timezone"] == 2
    utc = figures(tmp_path, {"path": "orders.parquet", "read": {"timezone": "UTC"}})
    assert utc["last_date"] == "2024-03-01"


# --------------------------------------------------------------------------------------- duplicates


def test_identical_lines_note_says_how_to_keep_them(tmp_path: Path) -> None:
    csv(tmp_path, "Cari Kodu;Fatura No;Tarih;Tutar\nC1;F1;01.03.2024;10\nC1;F1;01.03.2024;10\n")
    dropped = figures(tmp_path, {"path": "orders.csv"})
    note = next(n for n in dropped["notes"] if n["kind"] == "duplicates_dropped")
    assert "set data.orders.duplicates: keep" in note["message"] and dropped["revenue"] == 10.0
    kept = figures(tmp_path, {"path": "orders.csv", "duplicates": "keep"})
    assert kept["revenue"] == 20.0 and kinds(kept)["duplicates_kept"] == 1


# ------------------------------------------------------------------------------- title rows, totals


def test_title_and_blank_rows_above_the_header_are_skipped(tmp_path: Path) -> None:
    csv(tmp_path, "SATIŞ RAPORU 2024;;;\n;;;\nCari Kodu;Fatura No;Tarih;Tutar\nC1;F1;01.03.2024;100,00\n"
                  "C2;F2;02.03.2024;32.01.2024\n", encoding="cp1254")
    with pytest.raises(DataError, match=r"line 5: '32.01.2024'"):
        figures(tmp_path, {"path": "orders.csv", "columns": {**COLUMNS, "amount": "Tarih", "order_date": "Tutar"}})
    csv(tmp_path, "SATIŞ RAPORU 2024;;;\n;;;\nCari Kodu;Fatura No;Tarih;Tutar\nC1;F1;01.03.2024;100,00\n"
                  "C2;F2;02.03.2024;50,00\n;;;\nTOPLAM;;;150,00\n", encoding="cp1254")
    result = figures(tmp_path, {"path": "orders.csv"})
    assert (result["revenue"], result["customers"]) == (150.0, 2)
    assert kinds(result)["header_row_found"] == 3 and kinds(result)["total_rows_dropped"] == 1
    assert figures(tmp_path, {"path": "orders.csv", "read": {"header_row": 3}})["revenue"] == 150.0


def test_xlsx_title_row_and_total_row(tmp_path: Path) -> None:
    workbook(tmp_path / "orders.xlsx", {"Rapor": [["Müşteri Satış Raporu"], [], HEADER,
                                                  ["C1", "F1", dt.datetime(2024, 3, 1), 100.0],
                                                  ["C2", "F2", dt.datetime(2024, 3, 2), 50.0],
                                                  ["Genel Toplam", None, None, 150.0]]})
    result = figures(tmp_path, {"path": "orders.xlsx"})
    assert (result["revenue"], result["customers"], result["lines"]) == (150.0, 2, 2)


def test_title_row_without_detection_says_header_row(tmp_path: Path) -> None:
    csv(tmp_path, "Rapor;;;\nCari;Fatura;Tarih;Tutar\nC1;F1;01.03.2024;1\n")
    with pytest.raises(DataError, match=r"looks like a title rather than the header: set "
                                        r"data.orders.read.header_row"):
        figures(tmp_path, {"path": "orders.csv"})


# --------------------------------------------------------------------------------- cells and dates


def test_xlsx_amounts_mixing_number_and_text_cells(tmp_path: Path) -> None:
    workbook(tmp_path / "orders.xlsx", {"S": [HEADER, ["C1", "F1", dt.datetime(2024, 3, 1), 23566.05],
                                              ["C2", "F2", "02.03.2024", "1.234,50"],
                                              ["C2", "F3", 45422, "12,5"]]})
    result = figures(tmp_path, {"path": "orders.xlsx"})
    assert result["revenue"] == pytest.approx(23566.05 + 1234.5 + 12.5)
    assert (result["first_date"], result["last_date"]) == ("2024-03-01", "2024-05-10")
    assert kinds(result)["dates_excel_serial"] == 1


def test_bad_text_cell_is_quoted_as_typed(tmp_path: Path) -> None:
    workbook(tmp_path / "orders.xlsx", {"S": [HEADER, ["C1", "F1", dt.datetime(2024, 3, 1), 23566.05],
                                              ["C2", "F2", dt.datetime(2024, 3, 1), "12,5"],
                                              ["C2", "F3", dt.datetime(2024, 3, 1), "yok"]]})
    with pytest.raises(DataError, match=r"1 values cannot be read.*First rows: line 4: 'yok'\."):
        figures(tmp_path, {"path": "orders.xlsx"})


@pytest.mark.parametrize(("dates", "first", "last", "note"), [
    (["45422", "45423"], "2024-05-10", "2024-05-11", "dates_excel_serial"),
    (["27 Kasım 2025", "3 Ağustos 2025"], "2025-08-03", "2025-11-27", "dates_month_names"),
    (["2024-07-21 09:10:00 +0300", "2024-07-21 23:30:00 +0000"], "2024-07-21", "2024-07-22", "dates_offsets"),
])
def test_dates_written_otherwise_are_read(tmp_path: Path, dates: list[str], first: str, last: str,
                                          note: str) -> None:
    csv(tmp_path, "Cari Kodu;Fatura No;Tarih;Tutar\n" + "".join(f"C1;F{i};{d};10\n" for i, d in enumerate(dates)))
    result = figures(tmp_path, {"path": "orders.csv"})
    assert (result["first_date"], result["last_date"]) == (first, last)
    assert kinds(result)[note] == 2


def test_date_format_with_offset_is_read(tmp_path: Path) -> None:
    csv(tmp_path, "Cari Kodu;Fatura No;Tarih;Tutar\nC1;F1;2024-07-21 01:10:00 +0300;10\n"
                  "C1;F2;2024-07-20 22:30:00 +0000;5\n")
    result = figures(tmp_path, {"path": "orders.csv", "read": {"date_format": "%Y-%m-%d %H:%M:%S %z"}})
    assert (result["first_date"], result["last_date"], result["orders"]) == ("2024-07-21", "2024-07-21", 2)


def test_cp1254_unquoted_separator_gives_line_and_decoded_text(tmp_path: Path) -> None:
    csv(tmp_path, "Cari Kodu;Fatura No;Tarih;Tutar;Açıklama\nC1;F1;01.03.2024;10;Ürün\n"
                  "C2;F2;02.03.2024;5;Şişe; kapak\nC3;F3;02.03.2024;5;Çay\n", encoding="cp1254")
    with pytest.raises(DataError, match=r"1 lines do not have the 5 fields.*line 3: "
                                        r"'C2;F2;02.03.2024;5;Şişe; kapak'"):
        figures(tmp_path, {"path": "orders.csv"})


# ---------------------------------------------------------------------------------------------- CLI


def test_validate_json_and_plain_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv(tmp_path, "Cari Kodu;Fatura No;Tarih;Tutar\nC1;F1;01.03.2024;100,50\nC1;F2;02.03.2024;-20,50\n"
                  "C2;F3;02.03.2024;10\n")
    path = params(tmp_path, {"path": "orders.csv"})
    assert main(["validate", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {k: out[k] for k in ("lines", "orders", "purchase_orders", "customers", "revenue", "first_date",
                                "last_date", "as_of")} == {
        "lines": 3, "orders": 3, "purchase_orders": 2, "customers": 2, "revenue": 90.0,
        "first_date": "2024-03-01", "last_date": "2024-03-02", "as_of": "2024-03-02"}
    assert out["rows"] == {"orders": 3}
    assert out["detected"]["orders"]["sep"] == ";" and out["detected"]["orders"]["decimal"] == ","
    assert [n["kind"] for n in out["notes"]] == ["negative_amounts"]
    assert main(["validate", str(path)]) == 0
    assert "net revenue: 90.00 TRY" in capsys.readouterr().out


@pytest.mark.parametrize("content", [b"PK\x03\x04garbage", b"\x00\x01\x02", b""])
def test_validate_never_exits_1_or_prints_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      content: bytes) -> None:
    for name in ("orders.xlsx", "orders.csv", "orders.parquet"):
        (tmp_path / name).write_bytes(content)
        assert main(["validate", str(params(tmp_path, {"path": name}))]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "Traceback" not in err


def test_a_status_column_under_another_name_is_found_by_its_values(tmp_path: Path) -> None:
    csv(tmp_path, "Cari Kodu;Fatura No;Tarih;Tutar;Açıklama\nC1;F1;01.03.2024;100;Normal\nC1;F2;02.03.2024;50;İptal\n"
                  "C2;F3;03.03.2024;30;Normal\n")
    result = figures(tmp_path, {"path": "orders.csv"})
    note = next(n for n in result["notes"] if n["kind"] == "status_column_unmapped")
    assert "'Açıklama'" in note["message"] and "İptal (1)" in note["message"]
    workbook(tmp_path / "orders.xlsx", {"S": [HEADER + ["Not"], ["C1", "F1", dt.datetime(2024, 3, 1), 10.0, "Return"],
                                              ["C2", "F2", dt.datetime(2024, 3, 2), 5.0, None]]})
    result = figures(tmp_path, {"path": "orders.xlsx"})
    assert "status_column_unmapped" in kinds(result)


def test_rates_by_date_from_a_file(tmp_path: Path) -> None:
    csv(tmp_path, "Cari Kodu;Fatura No;Tarih;Tutar;Döviz\nC1;F1;01.03.2024;100,00;TL\n"
                  "C1;F2;02.03.2024;10,00;USD\nC2;F3;05.03.2024;10,00;USD\n")
    (tmp_path / "kurlar.csv").write_text("Tarih;Döviz;Kur\n01.03.2024;USD;31,5\n04.03.2024;USD;32,0\n",
                                         encoding="utf-8")
    orders = {"path": "orders.csv", "columns": {**COLUMNS, "currency": "Döviz"}, "rates": "kurlar.csv"}
    assert figures(tmp_path, orders)["revenue"] == pytest.approx(100 + 10 * 31.5 + 10 * 32.0)
    (tmp_path / "kurlar.csv").write_text("Tarih;Döviz;Kur\n03.03.2024;USD;31,5\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"1 USD lines are dated before the first USD rate of the rates file "
                                        r"\(2024-03-03\).*line 3: '2024-03-02'"):
        figures(tmp_path, orders)
