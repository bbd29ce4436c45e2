"""Exports: CSV with a byte-order mark, the action-list workbook with localized headers."""

from __future__ import annotations

import pandas as pd

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
    sheets = pd.read_excel(path, sheet_name=None)
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
