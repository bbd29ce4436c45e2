"""``python -m crmlib init``: exports of several styles give a params file that validates with the exact numbers."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest
import yaml

from crmlib.__main__ import main
from crmlib.core import check
from crmlib.data.propose import header_weight, load_synonyms


def run_init(capsys: pytest.CaptureFixture[str], *exports: Path, out: Path, language: str = "en",
             extra: tuple[str, ...] = ()) -> tuple[int, str, str, dict]:
    code = main(["init", *map(str, exports), "--out", str(out), "--language", language, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err, yaml.safe_load(out.read_text(encoding="utf-8"))


def test_synonyms_are_case_and_accent_insensitive_and_extensible(tmp_path: Path) -> None:
    table = load_synonyms()
    assert header_weight("SİPARİŞ TARİHİ", table["orders"]["order_date"]) == 5
    assert header_weight("siparis_tarihi", table["orders"]["order_date"]) == 5
    assert header_weight("Tutar (TL)", table["orders"]["amount"]) == 3
    assert header_weight("Kod", table["orders"]["customer_id"]) == 0
    mine = tmp_path / "mine.yaml"
    mine.write_text("orders:\n  customer_id: {Hesap Numarası: 5}\n", encoding="utf-8")
    assert header_weight("HESAP NUMARASI", load_synonyms([mine])["orders"]["customer_id"]) == 5


def test_logo_like_workbook_with_title_row_and_status_columns(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Satışlar"
    sheet.append(["CARİ HAREKET RAPORU"])
    sheet.append([])
    sheet.append(["Cari Kodu", "Cari Ünvanı", "Fatura No", "Fatura Tarihi", "Stok Kodu", "Miktar", "Net Tutar",
                  "Durum", "Belge Türü"])
    lines = [("120.001", "F1", 1, 100.50, "Onaylı", "Satış Faturası"),
             ("120.001", "F1", 1, 50.00, "Onaylı", "Satış Faturası"),
             ("120.002", "F2", 2, 70.25, "İptal", "Satış Faturası"),
             ("120.002", "F3", 3, 30.00, "Onaylı", "İade Faturası"),
             ("120.003", "F4", 3, 200.00, "Onaylı", "Satış Faturası")]
    for code, invoice, day, amount, status, kind in lines:
        sheet.append([code, f"Firma {code}", invoice, dt.datetime(2025, 3, day), f"S{day}", 1, amount, status, kind])
    book.save(tmp_path / "logo.xlsx")
    out = tmp_path / "params" / "mine.yaml"
    code, printed, err, params = run_init(capsys, tmp_path / "logo.xlsx", out=out)
    assert code == 0, err
    orders = params["data"]["orders"]
    assert orders["columns"] == {"customer_id": "Cari Kodu", "order_id": "Fatura No", "order_date": "Fatura Tarihi",
                                 "amount": "Net Tutar", "product_id": "Stok Kodu", "quantity": "Miktar"}
    assert orders["path"] == "../logo.xlsx"
    assert orders["read"] == {"sheet": "Satışlar", "header_row": 3}
    assert orders["drop_when"] == {"Durum": ["İptal"]} and orders["return_when"] == {"Belge Türü": ["İade Faturası"]}
    text = out.read_text(encoding="utf-8")
    assert "# 'Cari Kodu': 3 distinct codes over 5 lines, repeats across lines" in text
    figures = check.summary(out)
    assert (figures["customers"], figures["revenue"]) == (2, pytest.approx(100.5 + 50 - 30 + 200))
    assert "validate: ok: 2 customers" in printed


def test_mikro_like_csv_with_two_currencies_says_which_line_to_edit(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    text = ("Cari Hesap Kodu;Evrak No;Tarih;Stok Kodu;Miktar;Tutar;Döviz\n"
            "M01;E1;01.03.2025;A;1;1.000,50;TL\nM01;E2;02.03.2025;B;2;100,00;USD\nM02;E3;03.03.2025;A;1;50,25;TL\n")
    (tmp_path / "mikro.csv").write_bytes(text.encode("cp1254"))
    out = tmp_path / "mine.yaml"
    code, _, err, params = run_init(capsys, tmp_path / "mikro.csv", out=out)
    assert code == 2
    assert params["data"]["orders"]["columns"]["currency"] == "Döviz"
    assert params["data"]["orders"]["read"]["encoding"] == "cp1254"
    line = int(err.split("edit line ")[1].split(" ")[0])
    written = out.read_text(encoding="utf-8").splitlines()
    assert written[line - 1].strip() == "# rates: {USD: 0.0}" and "no rate for USD" in err
    out.write_text("\n".join(written).replace("# rates: {USD: 0.0}", "rates: {USD: 34.0}") + "\n", encoding="utf-8")
    assert check.summary(out)["revenue"] == pytest.approx(1000.5 + 3400 + 50.25)


def test_netsis_like_csv_without_order_ids_prefers_the_net_amount(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "netsis.csv").write_text(
        "Müşteri No;Fiş Tarihi;Ürün Kodu;Adet;KDV Hariç Tutar;Toplam\n"
        "00012;2025-03-01;U1;2;100,00;120,00\n00012;2025-03-01;U2;1;50,00;60,00\n00013;2025-03-04;U1;1;10,00;12,00\n",
        encoding="utf-8")
    out = tmp_path / "mine.yaml"
    code, _, err, params = run_init(capsys, tmp_path / "netsis.csv", out=out, language="tr")
    assert code == 0, err
    columns = params["data"]["orders"]["columns"]
    assert columns["amount"] == "KDV Hariç Tutar" and "order_id" not in columns
    text = out.read_text(encoding="utf-8")
    assert '# amount: "Toplam"' in text and "# order_id: sipariş numarası bulunamadı" in text
    assert params["language"] == "tr"
    # the evidence is in Turkish too, numbers written the Turkish way; nothing English is left in the comments
    assert "'KDV Hariç Tutar': 3 değerin %100 kadarı sayı, %0 kadarı küsuratlı, %0,0 kadarı eksi" in text
    assert "'Fiş Tarihi': 3 değerin %100 kadarı tarih" in text and "3 satır" in text
    assert not re.search(r"values are|distinct|rows|with decimals|alternative", text)
    figures = check.summary(out)
    assert (figures["orders"], figures["customers"], figures["revenue"]) == (2, 2, 160.0)


def test_english_web_shop_export_in_dollars(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "shop.csv").write_text(
        "Order ID,Customer ID,Created At,SKU,Qty,Line Total,Currency,Status\n"
        "1001,c-1,2025-03-01 10:00,SKU1,1,19.90,USD,paid\n1001,c-1,2025-03-01 10:00,SKU2,2,5.50,USD,paid\n"
        "1002,c-2,2025-03-02 11:30,SKU1,1,19.90,USD,cancelled\n1003,c-2,2025-03-05 09:00,SKU3,1,7.25,USD,refunded\n",
        encoding="utf-8")
    out = tmp_path / "mine.yaml"
    code, _, err, params = run_init(capsys, tmp_path / "shop.csv", out=out)
    assert code == 0, err
    assert params["currency"] == "USD"
    orders = params["data"]["orders"]
    assert orders["drop_when"] == {"Status": ["cancelled"]} and orders["return_when"] == {"Status": ["refunded"]}
    figures = check.summary(out)
    assert figures["revenue"] == pytest.approx(19.90 + 5.50 - 7.25)


def test_two_headers_that_fit_equally_are_both_written_and_named(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "orders.csv").write_text("Cari Kodu;Fatura No;Sipariş No;Tarih;Tutar\nC1;F1;S1;01.03.2025;10\n"
                                         "C2;F2;S2;02.03.2025;20\n", encoding="utf-8")
    out = tmp_path / "mine.yaml"
    code, printed, _, params = run_init(capsys, tmp_path / "orders.csv", out=out)
    assert code == 0 and params["data"]["orders"]["columns"]["order_id"] == "Fatura No"
    assert '# order_id: "Sipariş No"' in out.read_text(encoding="utf-8")
    assert "orders.order_id: 'Fatura No' and 'Sipariş No' fit equally" in printed


def test_optional_tables_are_recognised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "satis.csv").write_text("Cari Kodu;Tarih;Tutar\nC1;01.03.2025;10,5\nC2;02.03.2025;20\n",
                                        encoding="utf-8")
    (tmp_path / "cariler.csv").write_text("Cari Kodu;Ünvan;Telefon;İl\nC1;Ak Ltd;5321112233;İzmir\n"
                                          "C2;Bal AŞ;5334445566;Bursa\n", encoding="utf-8")
    out = tmp_path / "mine.yaml"
    code, _, err, params = run_init(capsys, tmp_path / "satis.csv", tmp_path / "cariler.csv", out=out)
    assert code == 0, err
    assert params["data"]["customers"]["columns"] == {"customer_id": "Cari Kodu", "name": "Ünvan",
                                                      "phone": "Telefon", "city": "İl"}
    assert check.summary(out)["revenue"] == 30.5


def test_unknown_headers_name_the_line_to_edit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.csv").write_text("Kod;Gün;Değer\nA1;01.03.2025;10,5\nA2;02.03.2025;20,25\n", encoding="utf-8")
    out = tmp_path / "mine.yaml"
    code, _, err, params = run_init(capsys, tmp_path / "x.csv", out=out)
    assert code == 2
    assert params["data"]["orders"]["columns"]["order_date"] == "Gün"
    line = int(err.split("edit line ")[1].split(" ")[0])
    assert out.read_text(encoding="utf-8").splitlines()[line - 1].strip().startswith('customer_id: ""')
    assert "the required column 'customer_id' is not mapped" in err


def test_web_shop_workbook_split_by_year_with_a_title_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for year in (2024, 2025):
        sheet = book.create_sheet(str(year))
        sheet.append(["Shop export"])
        sheet.append(["Customer Email", "Order Date", "Product", "Quantity", "Total", "Status"])
        for i in range(20):
            sheet.append([f"a{i % 5}@x.com", dt.datetime(year, 1 + i % 12, 1 + i), f"P{i % 4}", 1 + i % 3, 10.5 + i,
                          "Refunded" if i == 3 else "Completed"])
    book.save(tmp_path / "shop.xlsx")
    out = tmp_path / "mine.yaml"
    code, _, err, params = run_init(capsys, tmp_path / "shop.xlsx", out=out)
    assert code == 0, err
    orders = params["data"]["orders"]
    assert orders["read"] == {"sheet": "all", "header_row": 2}
    assert orders["return_when"] == {"Status": ["Refunded"]} and "order_id" not in orders["columns"]
    figures = check.summary(out)
    assert (figures["customers"], figures["lines"], figures["revenue"]) == (5, 40, 2 * (400 - 27))
    assert ["6 (sheet '2024')", "Refunded"] in next(n for n in figures["notes"]
                                                   if n["kind"] == "returns_by_status")["examples"]


def test_a_totals_row_is_not_counted_as_a_customer_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "erp.csv").write_text(
        "Müşteri No;Sipariş No;Tarih;Tutar\n"
        "C1;S1;01.03.2025;100,00\nC2;S2;02.03.2025;50,00\nC1;S3;03.03.2025;25,00\nTOPLAM;;;175,00\n",
        encoding="utf-8")
    out = tmp_path / "mine.yaml"
    code, _, err, params = run_init(capsys, tmp_path / "erp.csv", out=out)
    assert code == 0, err
    text = out.read_text(encoding="utf-8")
    # two customer codes over three lines, as the loader will read them (it leaves the TOPLAM row out)
    assert "'Müşteri No': 2 distinct codes over 3 lines" in text, text
    assert check.summary(out)["revenue"] == pytest.approx(175.0)


def test_an_export_mixing_decimal_marks_names_the_column_values_and_lines(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A column written partly with a decimal comma and partly with a decimal point cannot be read as
    amounts: init says so, naming the file, the column, a value of each kind and its line, and what to do
    (exit 2, no params file), instead of saying that no amount column was recognised."""
    text = ("Cari Kodu;Sipariş No;Sipariş Tarihi;Ürün Kodu;Miktar;Tutar\n"
            "120.01;S1;01.03.2025;A;1;342.34\n"
            "120.01;S2;02.03.2025;B;2;6.316,09\n"
            "120.02;S3;03.03.2025;A;1;50,25\n")
    (tmp_path / "orders.csv").write_bytes(text.encode("utf-8-sig"))
    out = tmp_path / "mine.yaml"
    code = main(["init", str(tmp_path / "orders.csv"), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "orders.csv: the numbers mix a decimal comma and a decimal point" in err
    assert "column 'Tutar' mixes a decimal comma ('6.316,09' on line 3) and a decimal point ('342.34' on line 2)" in err
    assert "export the numbers with one decimal mark" in err and "Traceback" not in err
    assert err.count("error:") == 1
