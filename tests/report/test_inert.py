"""Exports stay inert in a spreadsheet: no formula from customer-supplied text (OWASP "CSV injection")."""

from __future__ import annotations

import csv

import numpy as np
import openpyxl
import pandas as pd
import pytest

from crmlib.report import exports, inert

HOSTILE = ['=HYPERLINK("http://example.invalid/x","Tıkla")', "=1+1", "@SUM(1+1)", "-2+3", "+1", "\tx=1",
           "\r=1"]


def test_neutralise_prefixes_every_formula_trigger_and_leaves_other_text():
    for value in HOSTILE:
        assert inert.neutralise(value) == "'" + value
    for value in ("Yıldız Tekstil", "a=b", "", None, 3, -2.5):
        assert inert.neutralise(value) == value
    assert inert.neutralise("905321234567", phone=True) == "'905321234567"
    assert inert.neutralise("+90 532 123 45 67", phone=True) == "'+90 532 123 45 67"
    assert inert.neutralise("0532 123 45 67", phone=True) == "0532 123 45 67"  # text for Excel already


def test_csv_fields_from_text_never_start_a_formula_and_numbers_keep_their_sign(tmp_path):
    frame = pd.DataFrame({"customer_id": ["C1", "C2", "C3", "C4", "C5", "C6", "C7"], "name": HOSTILE,
                          "phone": ["+90 555 111 22 33", "905551112233", None, "0555 111 22 33", "", "x", "y"],
                          "amount": [-12.5, 1, 2, 3, 4, 5, 6],
                          "day": pd.to_datetime(["2026-01-31"] * 7)})
    path = exports.write_csv(frame, tmp_path / "x.csv")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "@", "+", "\t", "\r")), row
    assert [r["name"] for r in rows] == ["'" + v for v in HOSTILE]
    assert rows[0]["phone"] == "'+90 555 111 22 33" and rows[1]["phone"] == "'905551112233"
    assert rows[3]["phone"] == "0555 111 22 33"
    assert rows[0]["amount"] == "-12.5" and rows[0]["day"] == "2026-01-31"


def test_action_list_workbook_has_no_formula_cell_and_keeps_types(tmp_path):
    frame = pd.DataFrame({"customer_id": ["C1", "C2", "C3", "C4"], "name": HOSTILE[:4],
                          "value_at_stake": [-1.5, 2.0, 3.0, 4.0],
                          "last_order": pd.to_datetime(["2026-01-31", "2026-02-01", "2026-02-02", "2026-02-03"])})
    path = exports.write_action_lists({"at_risk": frame, "other": frame.iloc[:2]}, tmp_path / "a.xlsx",
                                      lang="en")
    book = openpyxl.load_workbook(path)
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
            values.append([c.value for c in row])
            assert isinstance(row[2].value, (int, float)) and row[2].data_type == "n"
            assert row[3].is_date
    assert [v[1] for v in values[:4]] == HOSTILE[:4]  # the text itself, unchanged
    names = book.worksheets[0]["B2"]
    assert names.quotePrefix  # editing the cell in Excel keeps it text


def _per_value(frame: pd.DataFrame) -> pd.DataFrame:
    """The field-by-field rule (the reference for :func:`inert.neutralise_frame`)."""
    out = frame.copy()
    for col in frame.columns:
        if inert._is_text(frame[col]):
            phone = col in inert.PHONE_COLUMNS
            out[col] = frame[col].astype(object).map(lambda v, p=phone: inert.neutralise(v, phone=p),
                                                    na_action="ignore")
    return out


@pytest.mark.parametrize("dtype", [object, "str", "category"])
def test_neutralise_frame_equals_the_per_value_rule(dtype):
    rng = np.random.default_rng(7)
    pool = ["=1+1", "+90532", "-5", "@SUM(A1)", "\tx", "\ry", "Ayşe", "ok", "", "905321234567", "0532 12", "'=x"]
    n = 3000
    frame = pd.DataFrame({
        "name": pd.Series(rng.choice(pool, n), dtype=dtype),
        "phone": pd.Series(rng.choice(pool, n), dtype=dtype),
        "amount": rng.normal(size=n),
    })
    frame.loc[rng.choice(n, 50, replace=False), "name"] = None
    got = inert.neutralise_frame(frame)
    want = _per_value(frame)
    assert got["amount"].equals(frame["amount"])
    for col in ("name", "phone"):
        assert got[col].astype(object).where(got[col].notna(), None).tolist() == \
            want[col].astype(object).where(want[col].notna(), None).tolist()
    assert frame["name"].astype(object).where(frame["name"].notna(), None).tolist().count("=1+1") > 0  # untouched


def test_neutralise_frame_keeps_mixed_object_columns_and_returns_the_same_frame_when_nothing_changes():
    frame = pd.DataFrame({"x": ["a", 5, None, "=b", 2.5], "y": ["a", "b", "c", "d", "e"]})
    got = inert.neutralise_frame(frame)
    assert got["x"].tolist()[:2] == ["a", 5] and got["x"].tolist()[3:] == ["'=b", 2.5]
    assert got["x"].isna().tolist()[2]
    plain = frame[["y"]]
    assert inert.neutralise_frame(plain) is plain


def test_text_columns_without_a_trigger_are_left_as_they_are_and_others_neutralised_field_by_field():
    import numpy as np

    rng = np.random.default_rng(5)
    words = np.array(["=1+2", "+90", "-3", "@x", "\tq", "\rr", "ok", "", "'a", "Ahmet", "905321234567"], dtype=object)
    for dtype in ("str", object):
        for choices in (words, words[6:]):  # with and without values that start with a trigger
            values = pd.Series(rng.choice(choices, 500), dtype=dtype).where(rng.random(500) > 0.1)
            frame = pd.DataFrame({"name": values, "phone": values, "n": np.arange(500)})
            out = inert.neutralise_frame(frame)
            for col, phone in (("name", False), ("phone", True)):
                expected = [inert.neutralise(v, phone=phone) if isinstance(v, str) else None for v in values]
                assert [v if isinstance(v, str) else None for v in out[col]] == expected
            assert out["n"].equals(frame["n"])
