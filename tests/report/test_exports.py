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
