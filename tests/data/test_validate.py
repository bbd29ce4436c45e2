"""Typing and checking: which bad input is an error (with its message) and which becomes a note."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from crmlib.data.read import read_table
from crmlib.data.validate import TOLERANCE, load_tables, validate_table
from crmlib.errors import DataError, ParamsError
from crmlib.report import i18n

ORDERS = {"customer_id": "Cari", "order_date": "Tarih", "amount": "Tutar", "quantity": "Adet"}
HEADER = "Cari;Tarih;Tutar;Adet\n"


def orders_file(folder: Path, body: str, name: str = "orders.csv") -> Path:
    path = folder / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def validate(
    folder: Path,
    *,
    table: str = "orders",
    name: str = "orders.csv",
    columns: dict | None = None,
    as_of: str | None = None,
    **read,
):
    spec = {"path": name, "columns": ORDERS if columns is None else columns, "read": read}
    return validate_table(read_table(table, spec, base_dir=folder), as_of=as_of)


def kinds(valid) -> dict[str, int]:
    return {note.kind: note.count for note in valid.notes}


def test_types_and_normalised_order_dates(tmp_path: Path) -> None:
    orders_file(tmp_path, " C1 ;15.03.2024 14:30;1.234,50;2\nC2;16.03.2024;10;\n")
    frame = validate(tmp_path).frame
    assert frame.dtypes.astype(str).to_dict() == {
        "customer_id": "str",
        "order_date": "datetime64[ns]",
        "amount": "float64",
        "quantity": "float64",
    }
    assert frame["customer_id"].tolist() == ["C1", "C2"]
    assert frame["order_date"].tolist() == list(pd.to_datetime(["2024-03-15", "2024-03-16"]))


def test_float_ids_from_excel_become_integers(tmp_path: Path) -> None:
    orders_file(tmp_path, "1001.0;15.03.2024;1;1\n1002.0;15.03.2024;1;1\n")
    assert validate(tmp_path).frame["customer_id"].tolist() == ["1001", "1002"]


def test_mixed_ids_keep_their_text(tmp_path: Path) -> None:
    orders_file(tmp_path, "10.0;15.03.2024;1;1\nA-7;15.03.2024;1;1\n")
    assert validate(tmp_path).frame["customer_id"].tolist() == ["10.0", "A-7"]


def test_unparseable_amount_is_an_error_naming_lines(tmp_path: Path) -> None:
    orders_file(tmp_path, "C1;15.03.2024;12,50;1\nC2;15.03.2024;abc;1\nC3;15.03.2024;12,5,0;1\n")
    with pytest.raises(
        DataError,
        match=r"Table 'orders' \(file '.*orders.csv'\), column 'amount' \(in the file: "
        r"'Tutar'\): 2 values cannot be read as numbers written with decimal ',' "
        r"and thousands '.' \(this column allows none\). First rows: line 3: "
        r"'abc'; line 4: '12,5,0'. What to do: correct these cells",
    ):
        validate(tmp_path)


def test_few_unreadable_quantities_are_blanked_with_a_note(tmp_path: Path) -> None:
    body = "".join(f"C{i};15.03.2024;10;1\n" for i in range(300)) + "C9;15.03.2024;10;bir\n"
    orders_file(tmp_path, body)
    valid = validate(tmp_path)
    assert kinds(valid)["unreadable_blanked"] == 1
    note = next(n for n in valid.notes if n.kind == "unreadable_blanked")
    assert note.examples == [(302, "bir")]
    assert valid.frame["quantity"].isna().sum() == 1


def test_many_unreadable_quantities_are_an_error(tmp_path: Path) -> None:
    n = 50
    body = "".join(f"C{i};15.03.2024;10;1\n" for i in range(n)) + "C9;15.03.2024;10;bir\n"
    orders_file(tmp_path, body)
    assert 1 > TOLERANCE * (n + 1)
    with pytest.raises(
        DataError,
        match=r"column 'quantity'.*1 values cannot be read.*more than 1% of its 51 "
        r"filled cells.*line 52: 'bir'",
    ):
        validate(tmp_path)


def test_impossible_date_is_an_error(tmp_path: Path) -> None:
    orders_file(tmp_path, "C1;15.02.2024;1;1\nC2;31.02.2024;1;1\n")
    with pytest.raises(
        DataError,
        match=r"column 'order_date' \(in the file: 'Tarih'\): 1 values are not real "
        r"calendar dates.*line 3: '31.02.2024'",
    ):
        validate(tmp_path)


def test_unparseable_date_is_an_error(tmp_path: Path) -> None:
    orders_file(tmp_path, "C1;15.02.2024;1;1\nC2;yarın;1;1\nC3;01.01.0001;1;1\n")
    with pytest.raises(
        DataError,
        match=r"column 'order_date'.*2 values cannot be read as dates in the layout "
        r"'%d.%m.%Y'.*line 3: 'yarın'; line 4: '01.01.0001'.*read.date_format",
    ):
        validate(tmp_path)


def test_dates_in_no_known_layout(tmp_path: Path) -> None:
    orders_file(tmp_path, "C1;Mart 15;1;1\n")
    with pytest.raises(
        DataError, match=r"dates in a layout we recognise.*line 2: 'Mart 15'.*read.date_format"
    ):
        validate(tmp_path)


@pytest.mark.parametrize(
    ("row", "column", "line"),
    [(";15.03.2024;1;1", "customer_id", 3), ("C2;;1;1", "order_date", 3), ("C2;15.03.2024;;1", "amount", 3)],
)
def test_missing_required_value_is_an_error(tmp_path: Path, row: str, column: str, line: int) -> None:
    orders_file(tmp_path, f"C1;15.03.2024;1;1\n{row}\n")
    with pytest.raises(
        DataError,
        match=rf"column '{column}'.*1 rows have no value in this required column. "
        rf"First rows: line {line}: ''",
    ):
        validate(tmp_path)


def test_notes_duplicates_returns_blanks_and_as_of(tmp_path: Path) -> None:
    orders_file(
        tmp_path, "C1;15.03.2024;100;1\nC1;15.03.2024;100;1\nC2;16.03.2024;-20;\nC3;02.04.2024;5;1\n;;;\n"
    )
    valid = validate(tmp_path, as_of="2024-03-31")
    assert kinds(valid) == {
        "empty_rows_dropped": 1,
        "blank_values": 1,
        "duplicates_dropped": 1,
        "negative_amounts": 1,
        "after_as_of": 1,
    }
    assert len(valid.frame) == 3 and valid.rows_read == 5
    returns = next(n for n in valid.notes if n.kind == "negative_amounts")
    assert returns.values["total"] == -20 and returns.examples == [(4, "-20")]
    assert next(n for n in valid.notes if n.kind == "duplicates_dropped").examples == [(3, "")]
    assert list(valid.frame.index) == [0, 1, 2]


def test_survey_scores_out_of_range_are_dropped(tmp_path: Path) -> None:
    (tmp_path / "surveys.csv").write_text(
        "customer_id,date,nps,csat\nC1,2024-03-01,9,5\nC2,2024-03-02,11,4\n"
        "C3,2024-03-03,7,0\nC4,2024-03-04,-1,\n",
        encoding="utf-8",
    )
    cols = {"customer_id": "customer_id", "date": "date", "nps": "nps", "csat": "csat"}
    valid = validate(tmp_path, table="surveys", name="surveys.csv", columns=cols)
    assert valid.frame["customer_id"].tolist() == ["C1"]
    dropped = {n.column: n for n in valid.notes if n.kind == "out_of_range_dropped"}
    assert dropped["nps"].count == 2 and dropped["nps"].examples == [(3, "11"), (5, "-1")]
    assert dropped["csat"].count == 1 and dropped["csat"].examples == [(4, "0")]


def test_bools_and_months(tmp_path: Path) -> None:
    (tmp_path / "contacts.csv").write_text(
        "customer_id;date;responded\nC1;2024-03-01;Evet\nC2;2024-03-02;hayır\n"
        "C3;2024-03-03;1\nC4;2024-03-04;\n",
        encoding="utf-8",
    )
    valid = validate(
        tmp_path,
        table="contacts",
        name="contacts.csv",
        columns={"customer_id": "customer_id", "date": "date", "responded": "responded"},
    )
    assert valid.frame["responded"].tolist() == [True, False, True, pd.NA]
    (tmp_path / "marketing.csv").write_text(
        "month;spend\n2024-01;1.500,00\n02.2024;10\nMart 2024;5\n", encoding="utf-8"
    )
    valid = validate(
        tmp_path, table="marketing", name="marketing.csv", columns={"month": "month", "spend": "spend"}
    )
    assert valid.frame["month"].tolist() == list(pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]))
    assert valid.frame["spend"].tolist() == [1500.0, 10.0, 5.0]


def test_unknown_bool_word_beyond_tolerance_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "contacts.csv").write_text(
        "customer_id;date;responded\nC1;2024-03-01;belki\n", encoding="utf-8"
    )
    with pytest.raises(DataError, match=r"column 'responded'.*yes/no values.*line 2: 'belki'"):
        validate(
            tmp_path,
            table="contacts",
            name="contacts.csv",
            columns={"customer_id": "customer_id", "date": "date", "responded": "responded"},
        )


def test_repeated_customer_keeps_first_row(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text("id;ad\nC1;Ayşe\nC1;Ayşe Yılmaz\nC2;Mehmet\n", encoding="utf-8")
    valid = validate(
        tmp_path, table="customers", name="customers.csv", columns={"customer_id": "id", "name": "ad"}
    )
    assert valid.frame["name"].tolist() == ["Ayşe", "Mehmet"]
    assert kinds(valid) == {"repeated_key_dropped": 1}


def test_text_after_a_totals_row_stays_on_its_row(tmp_path: Path) -> None:
    """Rows left out (a totals row) leave a gap in the index; ids and text cleaned by Arrow (spaces, blanks) are
    put back by position, not by that index (which moved every value after a blank one row up)."""
    (tmp_path / "customers.csv").write_text("id;ad;sehir\n C1;Ayşe;İzmir\nTOPLAM;;\nC2 ;;Van\nC3; Ali ;\n"
                                            "C4;Can;Muş\n", encoding="utf-8")
    valid = validate(tmp_path, table="customers", name="customers.csv",
                     columns={"customer_id": "id", "name": "ad", "city": "sehir"})
    assert valid.frame["customer_id"].tolist() == ["C1", "C2", "C3", "C4"]
    assert valid.frame["name"].fillna("-").tolist() == ["Ayşe", "-", "Ali", "Can"]
    assert valid.frame["city"].fillna("-").tolist() == ["İzmir", "Van", "-", "Muş"]


def test_load_tables_reads_all_and_notes_unknown_customers(tmp_path: Path) -> None:
    orders_file(tmp_path, "C1;15.03.2024;100;1\nC9;16.03.2024;50;1\n")
    (tmp_path / "customers.csv").write_text("customer_id,city\nC1,Bursa\n", encoding="utf-8")
    tables = load_tables(
        {"orders": {"path": "orders.csv", "columns": ORDERS}, "customers": "customers.csv", "tickets": None},
        base_dir=tmp_path,
    )
    assert set(tables) == {"orders", "customers"}
    assert kinds(tables["orders"])["unknown_customers"] == 1


def test_load_tables_requires_orders(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"data.orders is missing.*add data.orders"):
        load_tables({"customers": {"path": "c.csv"}}, base_dir=tmp_path)


def test_load_tables_unknown_table_suggests_name(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match=r"data.order is not a table.*did you mean 'orders'"):
        load_tables({"order": {"path": "o.csv"}}, base_dir=tmp_path)


def test_note_catalogue_complete_in_both_languages() -> None:
    path = Path(i18n.__file__).parent / "locales" / "dq.yaml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, texts in entries.items():
        assert set(texts) == {"tr", "en"}, key
        assert i18n.placeholders(texts["tr"]) == i18n.placeholders(texts["en"]), key


def test_every_note_renders_in_both_languages(tmp_path: Path) -> None:
    orders_file(tmp_path, "C1;15.03.2024;100;1\nC1;15.03.2024;100;1\nC2;16.03.2024;-20;\nC3;02.04.2024;5;1\n")
    valid = validate(tmp_path, as_of="2024-03-31")
    for note in valid.notes:
        assert str(note.count) in note.text("en")
        assert note.text("tr") != note.text("en")
    assert "analiz tarihinden (2024-03-31) sonra" in next(
        n for n in valid.notes if n.kind == "after_as_of"
    ).text("tr")


def test_lines_differing_only_in_text_are_not_duplicates(tmp_path: Path) -> None:
    orders_file(tmp_path, "C1;15.03.2024;100;1\nC2;15.03.2024;100;1\nC1;15.03.2024;100;1\n")
    valid = validate(tmp_path)
    assert valid.frame["customer_id"].tolist() == ["C1", "C2"]
    assert kinds(valid) == {"duplicates_dropped": 1}


@pytest.mark.parametrize(
    ("value", "read"),
    [("12.5", {}), ("1.23.456", {}), ("1.234", {"thousands": ""}), ("1e5", {}), ("inf", {})],
)
def test_numbers_off_the_convention_are_refused(tmp_path: Path, value: str, read: dict) -> None:
    orders_file(tmp_path, f"C1;15.03.2024;1234,50;1\nC2;15.03.2024;{value};1\n")
    with pytest.raises(
        DataError,
        match=rf"column 'amount'.*1 values cannot be read as numbers written with "
        rf"decimal ','.*line 3: '{value}'",
    ):
        validate(tmp_path, decimal=",", **read)


def test_validated_frames_follow_the_pandera_schema(tmp_path: Path) -> None:
    from crmlib.data.validate import schema

    (tmp_path / "tickets.csv").write_text(
        "customer_id,ticket_id,opened_at,resolved_at,category\n"
        "C1,T1,2024-03-01 10:00,2024-03-02 09:30,Geç teslimat\n"
        "C2,T2,2024-03-03 11:00,,Fatura hatası\n",
        encoding="utf-8",
    )
    cols = {
        "customer_id": "customer_id",
        "ticket_id": "ticket_id",
        "opened_at": "opened_at",
        "resolved_at": "resolved_at",
        "category": "category",
    }
    valid = validate(tmp_path, table="tickets", name="tickets.csv", columns=cols)
    schema("tickets").validate(valid.frame)
    assert valid.frame["opened_at"].iloc[0] == pd.Timestamp("2024-03-01 10:00")  # times kept off orders
    assert kinds(valid) == {"blank_values": 1}


def test_header_only_optional_table_is_a_note(tmp_path: Path) -> None:
    (tmp_path / "surveys.csv").write_text("customer_id;date;nps\n", encoding="utf-8")
    valid = validate(
        tmp_path,
        table="surveys",
        name="surveys.csv",
        columns={"customer_id": "customer_id", "date": "date", "nps": "nps"},
    )
    assert valid.frame.empty and kinds(valid) == {"empty_table": 0}


def test_excel_phone_numbers_lose_their_float_tail(tmp_path: Path) -> None:
    pd.DataFrame({"id": [1, 2], "tel": [5321234567.0, None]}).to_excel(tmp_path / "c.xlsx", index=False)
    valid = validate(
        tmp_path, table="customers", name="c.xlsx", columns={"customer_id": "id", "phone": "tel"}
    )
    assert valid.frame["phone"].tolist()[0] == "5321234567"
    assert valid.frame["customer_id"].tolist() == ["1", "2"]


def test_lines_differing_only_in_unmapped_columns_are_kept(tmp_path: Path) -> None:
    body = "C1;15.03.2024;100;1;STK-1\nC1;15.03.2024;100;1;STK-2\nC1;15.03.2024;100;1;STK-2\n"
    (tmp_path / "orders.csv").write_text("Cari;Tarih;Tutar;Adet;Stok\n" + body, encoding="utf-8")
    valid = validate(tmp_path)
    assert len(valid.frame) == 2
    assert kinds(valid) == {"duplicates_dropped": 1}
    frame = pd.DataFrame(
        {
            "Cari": ["C1"] * 3,
            "Tarih": pd.to_datetime(["2024-03-15"] * 3),
            "Tutar": [100.0] * 3,
            "Adet": [1.0] * 3,
            "Stok": ["STK-1", "STK-2", "STK-2"],
        }
    )
    frame.to_parquet(tmp_path / "orders.parquet")
    assert len(validate(tmp_path, name="orders.parquet").frame) == 2
    frame.to_excel(tmp_path / "orders.xlsx", index=False)
    assert len(validate(tmp_path, name="orders.xlsx").frame) == 2


def test_note_numbers_follow_the_language() -> None:
    from crmlib.data.validate import Note

    note = Note("orders", "amount", "negative_amounts", 1234, "", values={"total": -12345.0})
    assert note.text("tr") == (
        "Tutar (Siparişler): 1.234 satırda tutar eksi (iadeler, toplam -12.345 TL); "
        "bu satırlar tutuldu ve ciroya mahsup edildi."
    )
    assert note.text("en").startswith("Amount (Orders): ")
    blank = Note("customers", "birth_date", "blank_values", 76, "", values={"rows": 600})
    assert blank.text("tr") == "Doğum tarihi (Müşteriler): 600 satırın 76'sında değer yok."
    assert "1,234 lines" in note.text("en") and "TRY 12,345" in note.text("en")
