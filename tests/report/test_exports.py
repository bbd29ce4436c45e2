"""Exports: CSV with a byte-order mark, the action-list workbook with localized headers."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlib.report import exports


def test_csv_has_bom_and_turkish_letters(tmp_path):
    frame = pd.DataFrame({"customer_id": ["Ç1"], "name": ["Şişecam Ğıda"], "d": pd.to_datetime(["2026-01-31"])})
    path = exports.write_csv(frame, tmp_path / "x.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "Şişecam Ğıda" in raw.decode("utf-8-sig") and "2026-01-31" in raw.decode("utf-8-sig")


def test_action_lists_workbook_one_sheet_per_list(tmp_path):
    lists = {"at_risk": pd.DataFrame({"customer_id": ["a"]}), "zz_" + "x" * 40: pd.DataFrame({"v": [1]})}
    path = exports.write_action_lists(lists, tmp_path / "action_lists.xlsx", lang="tr")
    sheets = pd.read_excel(path, sheet_name=None, engine="openpyxl")
    assert "Bu hafta risktekiler" in sheets
    assert all(len(name) <= 31 for name in sheets)
    assert list(sheets["Bu hafta risktekiler"].columns) == ["Müşteri"]
    assert exports.write_action_lists({}, tmp_path / "none.xlsx", lang="en") is None


def test_action_list_sheets_are_capped_with_a_note(tmp_path):
    long = pd.DataFrame({"customer_id": [f"C{i:05d}" for i in range(120)], "risk_score": range(120, 0, -1)})
    lists = {"at_risk": long, "short": long.head(3)}
    path = exports.write_action_lists(lists, tmp_path / "a.xlsx", lang="en", max_rows=50)
    sheets = pd.read_excel(path, sheet_name=None, header=None)
    capped = sheets["At risk this week"]
    assert capped.iloc[1:51, 0].tolist() == long["customer_id"].head(50).tolist()  # highest priority first
    assert capped.iloc[51].isna().all()
    assert capped.iloc[52, 0] == ("This sheet shows the first 50 rows, highest priority first; "
                                  "70 more are in at_risk.csv (exports folder).")
    assert len(capped) == 53
    assert len(sheets["short"]) == 4  # header + 3 rows, no note
    tr = pd.read_excel(exports.write_action_lists(lists, tmp_path / "t.xlsx", lang="tr", max_rows=50),
                       sheet_name=None, header=None)
    assert "70 satır daha at_risk.csv" in tr["Bu hafta risktekiler"].iloc[52, 0]


def test_sheet_rows_never_exceed_excel():
    assert exports.sheet_rows(None) == 5000
    assert exports.sheet_rows(10**9) == exports.EXCEL_MAX_ROWS - 3
    assert exports.sheet_rows(0) == 1


def test_excel_tr_csv_has_semicolons_decimal_comma_and_turkish_dates(tmp_path):
    frame = pd.DataFrame({"customer_id": ["C1"], "amount": [1234.5], "d": pd.to_datetime(["2026-01-31"])})
    text = exports.write_csv(frame, tmp_path / "x.csv", dialect="excel-tr").read_bytes().decode("utf-8-sig")
    assert text.splitlines() == ["customer_id;amount;d", "C1;1234,5;31.01.2026"]
    text = exports.write_csv(frame, tmp_path / "y.csv").read_bytes().decode("utf-8-sig")
    assert text.splitlines() == ["customer_id,amount,d", "C1,1234.5,2026-01-31"]
    assert exports.csv_dialect(None, "tr") == "excel-tr" and exports.csv_dialect(None, "en") == "standard"
    assert exports.csv_dialect("standard", "tr") == "standard"
    with pytest.raises(ValueError, match="report.csv_dialect is 'excel'"):
        exports.csv_dialect("excel", "tr")


def _at_risk() -> pd.DataFrame:
    return pd.DataFrame({
        "rank": [1, 2], "customer_id": ["C1", "C2"], "name": ["Yıldız Ltd.", "Ak A.Ş."],
        "risk_score": [0.8123, 0.41], "risk_level": ["critical", "medium"], "value_at_stake": [12500.4, 80.0],
        "last_order_date": pd.to_datetime(["2026-05-02", "2026-04-11"]), "days_since_last_order": [40.0, 61.0],
        "action_code": ["resolve_complaint", "email"], "message_code": ["complaint_followup", "we_miss_you"],
        "action_text": ["Önce şikâyeti çözün", "E-posta"], "message_text": ["Özür", "Sizi özledik"],
        "rfm_segment": ["champions", "lost"]})


@pytest.mark.parametrize("lang", ["tr", "en"])
def test_workbook_cells_are_typed_and_formatted_for_a_rep(tmp_path, lang):
    import datetime as dt

    import openpyxl

    from crmlib.report import i18n

    path = exports.write_action_lists({"at_risk": _at_risk(), "other": pd.DataFrame({"v": [1]})},
                                      tmp_path / "a.xlsx", lang=lang)
    book = openpyxl.load_workbook(path)
    sheet = book[exports.sheet_title("at_risk", lang)]
    header = [c.value for c in sheet[1]]
    col = {name: header.index(i18n.t(exports.column_label_key(name), lang)) for name in
           ("action_text", "message_text", "risk_score", "risk_level", "value_at_stake", "last_order_date",
            "rfm_segment")}
    assert col["action_text"] == 0 and col["message_text"] == 1  # what to do comes first
    assert not any(h in header for h in ("action_code", "message_code"))  # their texts are there
    row = [c for c in sheet[2]]
    assert isinstance(row[col["last_order_date"]].value, dt.datetime)
    assert row[col["last_order_date"]].number_format == ("dd.mm.yyyy" if lang == "tr" else "d mmm yyyy")
    assert row[col["value_at_stake"]].value == pytest.approx(12500.4)
    assert row[col["value_at_stake"]].number_format == ('#,##0 "TL"' if lang == "tr" else '"TRY" #,##0')
    assert row[col["risk_score"]].value == pytest.approx(0.8123)
    assert row[col["risk_score"]].number_format == ("%0.0" if lang == "tr" else "0.0%")
    assert row[col["risk_level"]].value == i18n.t("churn.level.critical", lang)
    assert row[col["rfm_segment"]].value == i18n.t("seg.name.champions", lang)
    for ws in book.worksheets:
        assert ws.auto_filter.ref == ws.dimensions


def test_every_list_the_run_index_describes_is_a_sheet_of_the_workbook():
    import re
    from pathlib import Path

    from crmlib.report import i18n

    root = Path(__file__).resolve().parents[2]
    source = "".join(p.read_text(encoding="utf-8") for p in (root / "notebooks").glob("*.ipynb"))
    sheets = set(re.findall(r'export_action_list\(\\"(\w+)\\"', source))
    analysis_files = {"action_lists", "segments", "churn_risk", "clv", "clv_model", "association_rules",
                      "problem_products", "lapsed_products", "winback"}
    promised = {k.split(".", 2)[2] for k in i18n.catalogue() if k.startswith("run.export.")} - analysis_files
    assert promised <= sheets, f"described in the index but not in action_lists.xlsx: {sorted(promised - sheets)}"
    assert all(i18n.has(f"sheet.{name}") for name in sheets)
