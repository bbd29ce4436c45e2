"""Read the input tables (CSV, Parquet, XLSX) as text, with the column mapping and read options of params.

``read_table`` resolves the file, checks that every mapped column exists (with a did-you-mean from the file's
own headers), reads only the mapped columns as text with pyarrow (``crmlib.data.readers``: 10M lines in seconds),
renames them to our names and detects what the read options leave open: encoding, separator, decimal mark,
date layout (``crmlib.data.sniff``). Typing and checking the values is ``crmlib.data.validate``'s job.

Row numbers in messages are the lines a spreadsheet user sees: the header is line 1, the first data row
line 2 (blank lines inside a CSV are skipped by the reader and not counted).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from crmlib.data import readers, sniff
from crmlib.data.problems import (  # noqa: F401  (the message helpers, also reachable from here)
    MAX_EXAMPLES,
    Place,
    SheetLine,
    data_error,
    format_rows,
    line_number,
    lines_of,
    where,
)
from crmlib.errors import DataError, did_you_mean

logger = logging.getLogger(__name__)

#: Our column names per table and their kind (id, date, number, text, bool, month): the contract's tables.
TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "orders": {"customer_id": "id", "order_id": "id", "order_date": "date", "amount": "number",
               "product_id": "id", "quantity": "number", "cost": "number", "currency": "text"},
    "customers": {"customer_id": "id", "name": "text", "email": "text", "phone": "text", "city": "text",
                  "signup_date": "date", "birth_date": "date", "referred_by": "id",
                  "marketing_consent": "bool",
                  # beyond the contract's list, optional: acquisition channel (LTV:CAC by channel) and the
                  # sales rep who owns the account (per-rep action lists)
                  "channel": "text", "sales_rep": "text",
                  # the person to address at a company customer (special days, messages)
                  "contact_person": "text"},
    "products": {"product_id": "id", "name": "text", "category": "text", "price": "number",
                 "unit_cost": "number",
                 # beyond the contract's list, optional: the item a product is a version of (premium
                 # alternatives stay within it; without it, names that differ only by a tier word)
                 "family": "text"},
    "payments": {"customer_id": "id", "invoice_id": "id", "due_date": "date", "paid_date": "date",
                 "amount": "number"},
    "tickets": {"customer_id": "id", "ticket_id": "id", "opened_at": "date", "acknowledged_at": "date",
                "resolved_at": "date", "category": "text", "product_id": "id"},
    "surveys": {"customer_id": "id", "date": "date", "nps": "number", "csat": "number"},
    "contacts": {"customer_id": "id", "date": "date", "channel": "text", "responded": "bool"},
    "marketing": {"month": "month", "channel": "text", "spend": "number", "new_customers": "number"},
}
#: Columns each table cannot do without (bold in the contract).
REQUIRED: dict[str, tuple[str, ...]] = {
    "orders": ("customer_id", "order_date", "amount"),
    "customers": ("customer_id",),
    "products": ("product_id",),
    "payments": ("customer_id", "due_date"),
    "tickets": ("customer_id", "opened_at"),
    "surveys": ("customer_id", "date"),
    "contacts": ("customer_id", "date"),
    "marketing": ("month", "spend"),
}
#: The read options params may set under ``data.<table>.read``.
READ_OPTIONS: tuple[str, ...] = ("sep", "decimal", "thousands", "encoding", "date_format", "sheet", "header_row",
                                 "timezone")
#: The time zone tz-aware timestamps (Parquet, ``+0300`` offsets) are converted to when read.timezone is null.
DEFAULT_TIMEZONE = "Europe/Istanbul"
#: Keys of data.<table> that name the file's own columns (read besides the mapped ones).
RULE_KEYS: tuple[str, ...] = ("drop_when", "return_when")
FORMATS: dict[str, str] = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet",
                           ".pq": "parquet", ".xlsx": "xlsx", ".xlsm": "xlsx"}
#: Rows whose distinct values feed decimal-mark detection before the whole column is consulted.
DETECT_ROWS = 200_000
#: Distinct numbers per column whose decimal mark is looked at (Python-level; a few are enough).
DETECT_VALUES = 20_000
#: Rows looked at for status-like values in unmapped columns (İptal, İade, Cancelled, Return).
DETECT_SAMPLE = 5_000
#: Most distinct values of such a column (a status has a few; free text has many).
STATUS_MAX_VALUES = 30
#: Distinct date strings used to detect the date layout.
DETECT_DATES = 100_000


@dataclass
class RawTable:
    """One input table as read: our column names, values as in the file (text unless the file typed them)."""

    name: str
    path: Path
    frame: pd.DataFrame
    detected: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    source_columns: dict[str, str] = field(default_factory=dict)  # our name -> the file's header
    line_key: np.ndarray | None = None  # per row, codes the whole line when the file has unmapped columns
    extra: pd.DataFrame | None = None  # file columns named by drop_when / return_when, and status-like ones
    spec: dict[str, Any] = field(default_factory=dict)  # data.<table> as given (rules, rates, duplicates)

    layout: dict[str, Any] = field(default_factory=dict)  # multi-sheet reads: per row line and sheet
    #: mapped columns (our names) left unread because the caller asked for fewer (``read_table(columns=...)``)
    unread: list[str] = field(default_factory=list)

    def line(self, position: int) -> int:
        """Return the spreadsheet line of the row at ``position`` (the header's line + 1 for the first row).

        Rows of a workbook read from several sheets return a :class:`SheetLine` naming their sheet.
        """
        return line_number(self.detected, self.layout, position)

    @property
    def place(self) -> Place:
        """The file (and sheet) for messages."""
        return Place(self.path, self.detected.get("sheet"))


# ---------------------------------------------------------------------------------------------- mapping


def resolve_mapping(name: str, spec: Mapping[str, Any], header: Sequence[str], path: Path) -> dict[str, str]:
    """Return ``{our name: header name}`` for the mapped columns, checking each against the header.

    ``columns:`` absent means every column of ours that the file has under the same name. A mapped column
    missing from the file, a duplicated header, or a required column without a mapping is an error.
    """
    ours = TABLE_COLUMNS[name]
    given = spec.get("columns")
    if given is None:
        given = {col: col for col in ours if col in {h.strip() for h in header}}
    unknown = [col for col in given if col not in ours]
    if unknown:
        col = unknown[0]
        hint = did_you_mean(col, ours)
        raise data_error(name, path, f"{col!r} under columns: is not a column of this table"
                         + (f" (did you mean {hint[0]!r}?)" if hint else "") + ".",
                         f"use our names on the left of columns: ({', '.join(ours)}) and the file's headers "
                         "on the right.")
    mapping = {ours_: theirs for ours_, theirs in given.items() if theirs not in (None, "")}
    missing_required = [col for col in REQUIRED[name] if col not in mapping]
    if missing_required:
        col = missing_required[0]
        hint = did_you_mean(col, header)
        raise data_error(name, path, f"the required column {col!r} is not mapped.",
                         f"add '{col}: <the file's header>' under data.{name}.columns"
                         + (f" (the file has {hint[0]!r})" if hint
                            else f"; the file's headers are {list(header)}")
                         + ".", column=col)
    stripped: dict[str, list[str]] = {}
    for h in header:
        stripped.setdefault(h.strip(), []).append(h)
    resolved = {}
    for col, theirs in mapping.items():
        theirs = str(theirs)
        found = stripped.get(theirs.strip(), [])
        if len(found) > 1:
            raise data_error(name, path, f"the header {theirs!r} appears {len(found)} times in the file, so "
                             "the column to read is ambiguous.", "rename the duplicated headers in the file "
                             "(or in the export settings) so that each is unique.", column=col, source=theirs)
        if not found:
            hint = did_you_mean(theirs, header)
            hint_text = ((f"did you mean {hint[0]!r}? " if hint else "")
                         + f"The file's headers are {list(header)}.")
            named = [h for h in header if h.strip() and not h.startswith("(column ")]
            if len(named) <= max(1, len(header) // 2):
                hint_text += (" That line looks like a title rather than the header: set "
                              f"data.{name}.read.header_row to the line holding the column names.")
            raise data_error(name, path, f"the file has no column {theirs!r}; {hint_text}",
                             f"correct data.{name}.columns.{col} to the file's header exactly"
                             + (f" (e.g. {col}: {hint[0]})" if hint else "") + ".", column=col, source=theirs)
        resolved[col] = found[0]
    return resolved


# ------------------------------------------------------------------------------------------- detection


def _detect_conventions(name: str, path: Path | str, frame: pd.DataFrame, read: Mapping[str, Any],
                        sources: Mapping[str, str], detected: dict[str, Any]) -> None:
    """Fill ``detected`` with the decimal mark, thousands separator and date formats of text columns."""
    from crmlib.data.coerce import as_arrow, blank_to_null, is_text, text_cells

    kinds = TABLE_COLUMNS[name]
    numbers = [c for c in frame if kinds[c] == "number" and is_text(frame[c])]
    decimal, thousands = read.get("decimal"), read.get("thousands")
    if numbers and not decimal:
        evidence = sniff.DecimalEvidence()
        for col in numbers:
            arr = blank_to_null(as_arrow(text_cells(frame[col])).slice(0, DETECT_ROWS))
            evidence.add(pc.unique(arr).drop_null().slice(0, DETECT_VALUES).to_pylist())
        if not (evidence.comma or evidence.point) and len(frame) > DETECT_ROWS:
            for col in numbers:
                uniques = pc.unique(blank_to_null(as_arrow(text_cells(frame[col])))).drop_null()
                evidence.add(uniques.slice(0, 10 * DETECT_VALUES).to_pylist())
        try:
            decimal, auto_thousands = sniff.decide_decimal(evidence)
        except sniff.Undecided as err:
            col = next((c for c in numbers if lines_of(frame[c], err.values[:1])), numbers[0])
            rows = sorted(r for c in numbers for r in lines_of(frame[c], err.values))[:MAX_EXAMPLES]
            raise data_error(name, path, f"the decimal mark cannot be detected: {err.reason}.",
                             f"set data.{name}.read.decimal (',' for 1.234,56; '.' for 1,234.56) and, if "
                             "needed, read.thousands.", column=col, source=sources.get(col),
                             rows=rows) from err
        if thousands is None:
            thousands = auto_thousands
    elif thousands is None and decimal:
        thousands = "." if decimal == "," else ","
    detected["decimal"], detected["thousands"] = decimal or ".", thousands or None
    dates = [c for c in frame if kinds[c] == "date" and is_text(frame[c])]
    formats: dict[str, str] = {}
    if dates and read.get("date_format"):
        formats = dict.fromkeys(dates, read["date_format"])
    elif dates:
        def sample(rows: int | None) -> dict[str, list[str]]:
            out = {}
            for col in dates:
                arr = as_arrow(text_cells(frame[col]))
                arr = blank_to_null(arr if rows is None else arr.slice(0, rows))
                out[col] = pc.unique(arr).drop_null().slice(0, DETECT_DATES).to_pylist()
            return out

        try:
            try:
                formats = sniff.detect_date_formats(sample(DETECT_ROWS))
            except sniff.Undecided:
                if len(frame) <= DETECT_ROWS:
                    raise
                formats = sniff.detect_date_formats(sample(None))  # the first rows may not settle dd/mm
        except sniff.Undecided as err:
            col = next((c for c in dates if lines_of(frame[c], err.values[:1])), dates[0])
            rows = sorted(r for c in dates for r in lines_of(frame[c], err.values))[:MAX_EXAMPLES]
            raise data_error(name, path, f"the date layout cannot be detected: {err.reason}.",
                             f"set data.{name}.read.date_format, e.g. '%d/%m/%Y' (day first) or '%m/%d/%Y' "
                             "(month first).", column=col, source=sources.get(col), rows=rows) from err
    detected["date_formats"] = formats
    distinct = set(formats.values())
    detected["date_format"] = distinct.pop() if len(distinct) == 1 else None


# ------------------------------------------------------------------------------------------------ entry


def read_table(name: str, spec: Mapping[str, Any], *, base_dir: Path,
               columns: Collection[str] | None = None) -> RawTable:
    """Read one input table: the mapped columns, renamed to our names, as text (or as typed by the file).

    Parameters
    ----------
    name : a table of the contract (``orders``, ``customers``, ...).
    spec : ``params["data"][name]``: ``path`` (relative to ``base_dir``), ``columns`` ``{ours: theirs}``,
        ``read`` (``sep``, ``decimal``, ``thousands``, ``encoding``, ``date_format``, ``sheet``; null =
        detect).
    base_dir : the params file's folder.
    columns : our names of the mapped columns to read (``None``: all). Every mapped column is still checked
        against the header (the same errors as a full read); the others are not read from the file (Parquet,
        CSV) or are dropped as soon as read (XLSX), before any detection, typing or check, and are listed in
        :attr:`RawTable.unread`. The line key (unmapped columns) is decided on the full mapping.

    Raises
    ------
    DataError : the file is missing, unreadable or empty, a mapped column is absent or duplicated, or a
        read option cannot be detected safely; the message names file, column, rows and the fix.
    """
    if name not in TABLE_COLUMNS:
        hint = did_you_mean(name, TABLE_COLUMNS)
        raise DataError(f"data.{name}: unknown table" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                        + f". What to do: use one of {list(TABLE_COLUMNS)}.")
    if isinstance(spec, (str, Path)):
        spec = {"path": spec}
    if not spec or not spec.get("path"):
        raise DataError(f"data.{name}: no path given. What to do: set data.{name}.path to the file "
                        "(relative to the params file).")
    read = dict(spec.get("read") or {})
    unknown = [k for k in read if k not in READ_OPTIONS]
    if unknown:
        hint = did_you_mean(unknown[0], READ_OPTIONS)
        raise DataError(f"data.{name}.read.{unknown[0]} is not a read option"
                        + (f" (did you mean {hint[0]!r}?)" if hint else "")
                        + f". What to do: use {list(READ_OPTIONS)}.")
    if isinstance(spec.get("rates"), str):  # a rates file by date, relative to the params file like the data
        spec = {**spec, "rates": str((Path(base_dir) / spec["rates"]).resolve())}
    path = (Path(base_dir) / str(spec["path"])).resolve()
    shown = path
    if not path.is_file():
        near = did_you_mean(path.name, [p.name for p in path.parent.iterdir()]) \
            if path.parent.is_dir() else []
        raise data_error(name, shown, f"the file does not exist (looked for {str(path)!r})"
                         + (f"; the folder has {near[0]!r}" if near else "") + ".",
                         f"correct data.{name}.path (relative to the params file's folder "
                         f"{str(base_dir)!r}).")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise data_error(name, shown, f"the extension {path.suffix!r} is not supported.",
                         "give a .csv, .parquet or .xlsx file.")
    _check_read_options(name, read)
    detected: dict[str, Any] = {"format": fmt, "given": sorted(k for k, v in read.items() if v is not None),
                                "timezone": read.get("timezone") or DEFAULT_TIMEZONE}
    expected = _expected_headers(name, spec)
    if fmt == "csv":
        header, reader, line_key = readers.read_csv_columns(name, path, read, detected, expected)
    elif fmt == "parquet":
        header, reader, line_key = readers.read_parquet_columns(name, path)
    else:
        header, reader, line_key = readers.read_xlsx_columns(name, path, read, detected, expected)
    header = [h.lstrip("\ufeff") for h in header]
    place = Place(shown, detected.get("sheet"))
    full = resolve_mapping(name, spec, header, place)
    mapping = full if columns is None else {ours: theirs for ours, theirs in full.items() if ours in columns}
    unread = [ours for ours in full if ours not in mapping]
    rules = _rule_columns(name, spec, header, place)
    candidates = [h for h in header if h not in full.values() and h not in rules
                  and sniff.status_like_name(h)]
    others = [h for h in dict.fromkeys(header) if h not in full.values() and h not in rules
              and h not in candidates and h.strip() and not h.startswith("(column ") and header.count(h) == 1]
    if others:  # columns named otherwise whose first values say İptal, İade, Cancelled, Return
        candidates += _status_by_values(fmt, path, detected, header, others, reader)
    wanted = list(dict.fromkeys([*mapping.values(), *rules, *candidates]))
    raw = reader(wanted)
    frame = pd.DataFrame({ours: raw[theirs] for ours, theirs in mapping.items()}, copy=False)  # no copy
    frame.index = pd.RangeIndex(len(frame))
    extra_cols = list(dict.fromkeys([*rules, *candidates]))
    extra = pd.DataFrame({c: raw[c] for c in extra_cols}, index=frame.index) if extra_cols else None
    del raw
    notes = []
    if frame.empty:
        notes.append("the file has a header but no rows")
    _detect_conventions(name, place, frame, read, mapping, detected)
    detected["rows"] = len(frame)
    logger.info("read %s from %s: %d rows, %s", name, path, len(frame), detected)
    key = line_key(len(frame)) if set(full.values()) != set(header) else None  # unmapped columns exist
    layout = {k: detected.pop(k) for k in ("lines", "sheets_of_rows") if k in detected}
    return RawTable(name, Path(shown), frame, detected, notes, dict(mapping), key, extra, dict(spec), layout,
                    unread)


def _status_by_values(fmt: str, path: Path, detected: Mapping[str, Any], header: Sequence[str],
                      names: Sequence[str], reader: Any) -> list[str]:
    """Return the unmapped columns whose first rows hold a few values such as İptal, İade, Cancelled, Return."""
    try:
        if fmt == "csv":
            import pyarrow as pa
            import pyarrow.csv as pcsv

            stream = pcsv.open_csv(path, read_options=pcsv.ReadOptions(
                encoding=detected.get("encoding") or "utf8", block_size=1 << 20,
                skip_rows=int(detected.get("first_line", 2)) - 1, column_names=list(header)),
                parse_options=pcsv.ParseOptions(delimiter=detected.get("sep") or ",",
                                                invalid_row_handler=lambda _: "skip"),
                convert_options=pcsv.ConvertOptions(include_columns=list(names),
                                                    column_types={n: pa.string() for n in names}))
            sample = stream.read_next_batch().to_pandas()
        elif fmt == "parquet":
            import pyarrow.parquet as pq

            sample = next(pq.ParquetFile(path).iter_batches(batch_size=DETECT_SAMPLE, columns=list(names))).to_pandas()
        else:
            sample = reader(list(names)).head(DETECT_SAMPLE)
    except Exception as err:  # noqa: BLE001 - a sample that cannot be read only means no hint
        logger.debug("no status sample from %s: %s", path, err)
        return []
    found = []
    for name in names:
        values = sample[name].dropna().unique() if name in sample else []
        if 0 < len(values) <= STATUS_MAX_VALUES and sniff.status_values([str(v) for v in values]):
            found.append(name)
    return found


def _check_read_options(name: str, read: Mapping[str, Any]) -> None:
    """Refuse read options of the wrong type: header_row a line number, timezone a known zone."""
    header_row = read.get("header_row")
    if header_row is not None and (isinstance(header_row, bool) or not isinstance(header_row, int)
                                   or header_row < 1):
        raise DataError(f"data.{name}.read.header_row must be the line number of the header (1 = the first "
                        f"line), got {header_row!r}. What to do: set it to the line holding the column names, "
                        "or null to find it.")
    zone = read.get("timezone")
    if zone is not None:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(str(zone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
            raise DataError(f"data.{name}.read.timezone {zone!r} is not a time zone name. What to do: use a "
                            "name such as Europe/Istanbul or UTC.") from err


def _expected_headers(name: str, spec: Mapping[str, Any]) -> list[str]:
    """Return the file's header names the params expect (to find the header row and the sheets)."""
    columns = spec.get("columns")
    if columns:
        names = [str(v) for v in columns.values() if v not in (None, "")]
    else:
        names = list(REQUIRED[name])
    for key in RULE_KEYS:
        names += [str(k) for k in (spec.get(key) or {})]
    return list(dict.fromkeys(n.strip() for n in names))


def _rule_columns(name: str, spec: Mapping[str, Any], header: Sequence[str], path: Path | str) -> list[str]:
    """Return the file columns named by drop_when / return_when, refusing those the file lacks."""
    out = []
    stripped = {h.strip(): h for h in header}
    for key in RULE_KEYS:
        for column in spec.get(key) or {}:
            found = stripped.get(str(column).strip())
            if found is None:
                hint = did_you_mean(str(column), header)
                raise data_error(name, path, f"data.{name}.{key} names the column {column!r}, which the file does "
                                 "not have" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                                 + f"; the file's headers are {list(header)}.",
                                 f"use the file's header exactly under data.{name}.{key}.")
            out.append(found)
    return list(dict.fromkeys(out))

