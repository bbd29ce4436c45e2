"""A table read in only some columns (``run --only``: those its notebooks use) keeps the rows, values and order a
full read keeps, in every file format, with the file's own headers mapped; ``validate`` and a full read still
read and check every column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from crmlib.data import sniff
from crmlib.data import validate as validation
from crmlib.data.read import read_table
from crmlib.data.validate import columns_to_read, load_tables
from crmlib.errors import DataError

#: the file's headers (as an ERP writes them; ``init`` maps them with crmlib/data/synonyms.yaml)
MAPPING = {"customer_id": "Cari Kodu", "name": "Ünvan", "email": "E-posta", "phone": "Telefon", "city": "Şehir",
           "signup_date": "Kayıt Tarihi", "birth_date": "Doğum Tarihi", "referred_by": "Tavsiye Eden",
           "marketing_consent": "İleti İzni", "channel": "Kanal"}
#: one row each: C2 twice differing only in the e-mail (fewer columns make them look like exact repeats), C4
#: twice exactly, C5 twice differing in the name (read) and the phone, a totals row, an empty row, and an
#: unmapped column (the line key of the full read)
ROWS = [
    ("C1", "Ali", "a@x.tr", "5321", "İzmir", "03/04/2024", "25/12/1980", "", "evet", "web", "A"),
    ("C2", "Ayşe", "b@x.tr", "5322", "Ankara", "01/02/2023", "11/10/1975", "C1", "hayır", "bayi", "A"),
    ("C2", "Ayşe", "b2@x.tr", "5322", "Ankara", "01/02/2023", "11/10/1975", "C1", "hayır", "bayi", "A"),
    ("C3", "Can", "", "5323", "", "05/06/2022", "", "C1", "evet", "web", "P"),
    ("TOPLAM", "", "", "", "", "", "", "", "", "", ""),
    ("C4", "Ece", "e@x.tr", "", "Bursa", "07/08/2021", "02/03/1990", "C2", "", "", "A"),
    ("C4", "Ece", "e@x.tr", "", "Bursa", "07/08/2021", "02/03/1990", "C2", "", "", "A"),
    ("", "", "", "", "", "", "", "", "", "", ""),
    ("C5", "Fal", "f@x.tr", "5325", "Van", "09/10/2020", "30/01/1985", "", "evet", "web", "A"),
    ("C5", "Fal Ltd", "f@x.tr", "5399", "Van", "09/10/2020", "30/01/1985", "", "evet", "web", "A"),
    ("C1", "Ali", "a@x.tr", "5321", "İzmir", "03/04/2024", "25/12/1980", "", "evet", "web", "B"),
]
HEADERS = [*MAPPING.values(), "Durum"]
ORDERS = "customer_id;order_date;amount\nC1;2024-05-01;10\nC2;2024-05-02;20\nC5;2024-05-03;5\nC9;2024-05-04;7\n"
#: column choices of the practices and some that pull in more (a date pulls the other date: one layout)
CHOICES = [{"name"}, {"referred_by"}, {"customer_id", "name", "channel"}, {"signup_date"}, {"email", "phone"},
           {"marketing_consent", "city"}]


def _write(folder: Path, fmt: str, rows: list[tuple[str, ...]] = ROWS, *, unmapped: bool = True) -> dict[str, dict]:
    frame = pd.DataFrame(rows, columns=HEADERS)
    if not unmapped:
        frame = frame.drop(columns="Durum")
    name = f"cariler.{fmt}"
    if fmt == "csv":
        frame.to_csv(folder / name, sep=";", index=False, encoding="utf-8")
    elif fmt == "parquet":
        frame.replace("", None).to_parquet(folder / name, index=False)
    else:
        frame.replace("", None).to_excel(folder / name, index=False)
    (folder / "orders.csv").write_text(ORDERS, encoding="utf-8")
    return {"orders": {"path": "orders.csv"},
            "customers": {"path": name, "columns": MAPPING, "read": {"date_format": None}}}


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_fewer_columns_keep_the_rows_and_values_of_a_full_read(tmp_path: Path, fmt: str) -> None:
    spec = _write(tmp_path, fmt)
    full = load_tables(spec, base_dir=tmp_path)
    whole = full["customers"].frame
    assert full["customers"].unread == []
    assert whole["customer_id"].tolist() == ["C1", "C2", "C3", "C4", "C5"]  # first rows kept, totals/empty out
    kept = pd.DataFrame([r[:10] for r in (ROWS[0], ROWS[1], ROWS[3], ROWS[5], ROWS[8])], columns=list(MAPPING))
    for column in ("customer_id", "name", "email", "phone", "city", "referred_by", "channel"):  # values in line
        assert whole[column].fillna("").tolist() == kept[column].tolist(), column
    assert whole["signup_date"].dt.strftime("%d/%m/%Y").tolist() == kept["signup_date"].tolist()
    assert whole["marketing_consent"].tolist()[:3] == [True, False, True]
    for wanted in CHOICES:
        some = load_tables(spec, base_dir=tmp_path, columns={"customers": wanted})
        part = some["customers"]
        read = columns_to_read("customers", wanted)
        assert read is not None and wanted <= read and "customer_id" in read
        assert list(part.frame.columns) == [c for c in whole.columns if c in read], wanted
        pd.testing.assert_frame_equal(part.frame, whole[list(part.frame.columns)], obj=str(wanted))
        assert part.unread == [c for c in whole.columns if c not in read]
        assert part.lines(list(range(len(part.frame)))) == full["customers"].lines(list(range(len(whole))))
        pd.testing.assert_frame_equal(some["orders"].frame, full["orders"].frame)
        assert [n.message for n in some["orders"].notes] == [n.message for n in full["orders"].notes]


@pytest.mark.parametrize("unmapped", [True, False])
def test_exact_repeats_over_fewer_columns_are_dropped_as_repeated_keys_would_be(tmp_path: Path,
                                                                               unmapped: bool) -> None:
    """C2's two rows differ only in the e-mail: a full read drops the second as a repeated key, a read without
    the e-mail as an exact repeat (unless an unmapped column makes the whole line the key, as in a full read);
    either way its first row is kept, and the notes count the same rows."""
    spec = _write(tmp_path, "csv", unmapped=unmapped)
    full = load_tables(spec, base_dir=tmp_path)["customers"]
    some = load_tables(spec, base_dir=tmp_path, columns={"customers": {"name"}})["customers"]
    pd.testing.assert_frame_equal(some.frame, full.frame[list(some.frame.columns)])

    def counts(table: validation.ValidTable) -> dict[str, int]:
        return {n.kind: n.count for n in table.notes if n.kind in ("duplicates_dropped", "repeated_key_dropped")}

    assert sum(counts(full).values()) == sum(counts(some).values()) == 4  # C2, C4, C5 and C1 again
    if unmapped:  # whole lines compared: C4 alone is an exact repeat, in both reads
        assert counts(full) == counts(some) == {"duplicates_dropped": 1, "repeated_key_dropped": 3}
    else:  # C1 again is exact without its unmapped column; without the e-mail, C2 too
        assert counts(full) == {"duplicates_dropped": 2, "repeated_key_dropped": 2}
        assert counts(some) == {"duplicates_dropped": 3, "repeated_key_dropped": 1}
    assert {n.kind for n in some.notes} >= {"total_rows_dropped", "empty_rows_dropped"}


def test_a_wanted_date_reads_every_date_column_so_the_layout_is_decided_as_in_a_full_read(tmp_path: Path) -> None:
    """The signup dates alone (day and month both at most 12) fit dd/mm and mm/dd; the birth dates settle it for
    the file, so the signup date is never read without them."""
    spec = _write(tmp_path, "csv")
    assert columns_to_read("customers", {"signup_date"}) >= {"signup_date", "birth_date"}
    with pytest.raises(sniff.Undecided):  # what reading the signup dates alone would meet
        sniff.detect_date_formats({"signup_date": [r[5] for r in ROWS if r[5]]})
    table = read_table("customers", spec["customers"], base_dir=tmp_path,
                       columns=columns_to_read("customers", {"signup_date"}))
    assert table.detected["date_formats"] == {"signup_date": "%d/%m/%Y", "birth_date": "%d/%m/%Y"}


def test_tables_without_a_key_are_read_whole(tmp_path: Path) -> None:
    """Exact repeats decide which rows of the tickets are kept: a column left unread could make two tickets
    look alike, so a table without a key is read in every column whatever is asked."""
    assert columns_to_read("tickets", {"customer_id"}) is None and columns_to_read("customers", None) is None
    (tmp_path / "orders.csv").write_text(ORDERS, encoding="utf-8")
    (tmp_path / "tickets.csv").write_text("customer_id;opened_at;category\nC1;2024-05-01;iade\nC1;2024-05-01;kargo\n",
                                          encoding="utf-8")
    spec = {"orders": "orders.csv", "tickets": "tickets.csv"}
    some = load_tables(spec, base_dir=tmp_path, columns={"tickets": {"customer_id", "opened_at"}})["tickets"]
    assert list(some.frame.columns) == ["customer_id", "opened_at", "category"] and len(some.frame) == 2
    assert some.unread == []


def test_a_column_left_unread_is_not_checked_and_validate_checks_every_column(tmp_path: Path) -> None:
    """Unreadable birth dates and a row whose only value is an e-mail are refused by a full read (what
    ``validate`` and a full run do); a read of the names does not meet them and keeps the same other rows."""
    rows = [list(r) for r in ROWS]
    for row in rows[:4]:
        row[6] = "yarın"  # more than 1 % of the birth dates unreadable
    spec = _write(tmp_path, "csv", [tuple(r) for r in rows])
    with pytest.raises(DataError, match="birth_date"):
        load_tables(spec, base_dir=tmp_path)
    some = load_tables(spec, base_dir=tmp_path, columns={"customers": {"name"}})["customers"]
    assert some.frame["customer_id"].tolist() == ["C1", "C2", "C3", "C4", "C5"]
    assert "birth_date" in some.unread

    blank_key = [*ROWS, ("", "", "x@y.tr", "", "", "", "", "", "", "", "")]
    spec = _write(tmp_path, "csv", blank_key)
    with pytest.raises(DataError, match="customer_id"):
        load_tables(spec, base_dir=tmp_path)
    some = load_tables(spec, base_dir=tmp_path, columns={"customers": {"name"}})["customers"]
    assert some.frame["customer_id"].tolist() == ["C1", "C2", "C3", "C4", "C5"]  # an empty row of its columns


def test_validate_reads_and_checks_every_column(tmp_path: Path) -> None:
    import yaml

    from crmlib.core import check

    rows = [list(r) for r in ROWS]
    for row in rows[:4]:
        row[6] = "yarın"
    spec = _write(tmp_path, "csv", [tuple(r) for r in rows])
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"data": spec}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataError, match="birth_date"):
        check.summary(params)
    spec = _write(tmp_path, "csv")
    assert check.summary(params)["rows"]["customers"] == 5


def test_an_unknown_column_is_refused() -> None:
    with pytest.raises(ValueError, match="no column 'e_mail'"):
        columns_to_read("customers", {"e_mail"})
