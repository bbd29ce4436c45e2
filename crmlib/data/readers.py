"""The file formats: CSV (sniffed, read with pyarrow), Parquet and XLSX.

Each ``read_*_columns`` function checks that the file can be opened and returns its header, a function
that reads the requested header names into a DataFrame (text for CSV, every value as written; native types
for Parquet; for XLSX the cell types where a whole column agrees, numbers or dates, and text otherwise) and
a function that codes whole lines, unmapped columns included, so that duplicate detection never mistakes two
lines that differ only in a column we do not read for copies.
Problems become one :class:`~crmlib.errors.DataError` built by :func:`crmlib.data.read.data_error`.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crmlib.data import sniff
from crmlib.data.problems import MAX_EXAMPLES, data_error
from crmlib.errors import DataError, did_you_mean

#: Single-byte encodings that agree with ASCII, for which ASCII-only lines need no transcoding.
SINGLE_BYTE = {"cp1254", "windows-1254", "iso-8859-9", "latin-1", "latin1", "iso-8859-1", "cp1252",
               "windows-1252", "latin5"}



def _line_hashes(path: Path, encoding: str, rows: int, *, skip: int = 1) -> np.ndarray | None:
    """Return DuckDB's 64-bit hash of each data line's bytes, streamed in blocks (10M lines: about a second).

    None when the count disagrees with the parsed rows (a quoted value spanning lines), so that the lines
    cannot be matched to rows.
    """
    import duckdb
    import pyarrow.csv as pcsv

    reader = pcsv.open_csv(
        path,
        read_options=pcsv.ReadOptions(encoding=encoding, block_size=1 << 24, skip_rows=skip,
                                      column_names=["line"]),
        parse_options=pcsv.ParseOptions(delimiter="\x1f", quote_char=False,
                                        invalid_row_handler=lambda _: "skip"),
        convert_options=pcsv.ConvertOptions(column_types={"line": pa.binary()}))
    parts = []
    con = duckdb.connect()
    try:
        for batch in reader:
            con.register("block", pa.Table.from_batches([batch]))
            parts.append(con.sql("SELECT hash(line) AS h FROM block").fetchnumpy()["h"])
            con.unregister("block")
    finally:
        con.close()
    hashes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
    return hashes if len(hashes) == rows else None


# -------------------------------------------------------------------------------------------------- CSV


def _bad_byte_line(path: Path, encoding: str) -> tuple[int, str, str]:
    """Return (line, byte, line text) of the first byte that ``encoding`` cannot decode."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 23):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as err:
                line += chunk[: err.start].count(b"\n")
                start = chunk.rfind(b"\n", 0, err.start) + 1
                end = chunk.find(b"\n", err.start)
                text = chunk[start: end if end >= 0 else None].decode(encoding, errors="replace")
                return line, f"{chunk[err.start]:#04x}", text
            line += chunk.count(b"\n")
    return line, "", ""


def _encoding_error(name: str, path: Path, encoding: str, *, given: bool) -> DataError:
    line, byte, text = _bad_byte_line(path, encoding)
    other = "cp1254" if encoding.startswith("utf") else "utf-8"
    how = "as set in read.encoding" if given else "as detected from the start of the file"
    return data_error(name, path, f"the file cannot be decoded as {encoding} ({how}): byte {byte} at line "
                      f"{line} is not valid there ({text[:80]!r}).",
                      f"set data.{name}.read.encoding to the file's encoding: {other!r} "
                      "(cp1254 is Turkish Windows, what Excel writes), or export the file again as UTF-8.")


def _find_lines(path: Path, encoding: str, texts: Sequence[str], start: int) -> list[int]:
    """Return the file line (1-based) of each of ``texts`` (whole lines), searching from line ``start``."""
    found: dict[str, int] = {}
    wanted = {t.rstrip("\r\n") for t in texts}
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            if number < start:
                continue
            text = line.rstrip("\r\n")
            if text in wanted and text not in found:
                found[text] = number
                if len(found) == len(wanted):
                    break
    return [found.get(t.rstrip("\r\n"), 0) for t in texts]


def read_csv_columns(name: str, path: Path, read: Mapping[str, Any], detected: dict[str, Any],
                     expected: Sequence[str] = ()) -> tuple[list[str], Any, Any]:
    """Sniff a CSV; return its header, a reader of the given header names as text, and a line coder.

    The header is line ``read.header_row`` (1-based) or, when null, line 1 unless a later line among the
    first 30 holds every ``expected`` name (a report title and blank lines above the header; noted).
    """
    import pyarrow.csv as pcsv

    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(sniff.SAMPLE_BYTES)
    if not head.strip():
        raise data_error(name, path, "the file is empty.", "export the table again; the file has no header "
                         "and no rows.")
    encoding = read.get("encoding")
    if not encoding:
        try:
            encoding = sniff.detect_encoding(head, complete=size <= sniff.SAMPLE_BYTES)
        except sniff.Undecided as err:
            raise data_error(name, path, f"the encoding cannot be detected safely: {err.reason}"
                             + (f" (odd characters: {err.values})" if err.values else "") + ".",
                             f"export the file as CSV UTF-8, or set data.{name}.read.encoding (e.g. cp1254)."
                             ) from err
    try:
        codecs.lookup(encoding)
    except LookupError as err:
        raise data_error(name, path, f"read.encoding {encoding!r} is not an encoding Python knows.",
                         "use utf-8, utf-8-sig or cp1254.") from err
    cut = head if size <= sniff.SAMPLE_BYTES else head[: head.rfind(b"\n") + 1]
    try:
        text = cut.decode(encoding)
    except UnicodeDecodeError as err:
        raise _encoding_error(name, path, encoding, given=bool(read.get("encoding"))) from err
    detected["encoding"] = encoding
    lines = text.lstrip("\ufeff").splitlines()[:230]
    sep = read.get("sep")
    skip = 0
    if read.get("header_row"):
        skip = int(read["header_row"]) - 1
    elif expected:
        first = lines[:1]
        fits = any(set(expected) <= {h.strip() for h in next(csv.reader(first, delimiter=c), [])}
                   for c in ([sep] if sep else sniff.SEPARATORS))
        if not fits:
            for i, line in enumerate(lines[1:30], start=1):
                if any(set(expected) <= {h.strip() for h in next(csv.reader([line], delimiter=c), [])}
                       for c in ([sep] if sep else sniff.SEPARATORS)):
                    skip = i
                    detected["header_row"] = i + 1
                    break
    lines = lines[skip:]
    detected["first_line"] = skip + 2
    if not sep:
        try:
            sep = sniff.detect_separator(lines[:50])
        except sniff.Undecided as err:
            raise data_error(name, path, f"the separator cannot be detected: {err.reason}.",
                             f"set data.{name}.read.sep to the file's separator (';', ',', '\\t' or '|').",
                             rows=[(i + 1, v) for i, v in enumerate(err.values)]) from err
    detected["sep"] = sep
    header = next(csv.reader(lines[:1], delimiter=sep), [])
    quoted = '"' in text

    def read_columns(wanted: Sequence[str]) -> pd.DataFrame:
        bad_rows: list[str] = []

        def on_invalid(row: Any) -> str:
            bad_rows.append(row.text)
            return "skip"

        def attempt(enc: str) -> pa.Table:
            if enc.replace("_", "-").lower() in SINGLE_BYTE:
                # Most lines of a Turkish export are plain ASCII: read the body as UTF-8 (no transcoding,
                # 3x faster) with the header decoded above, and transcode only if a non-ASCII value exists.
                try:
                    table = read_with(wanted, "utf8", skip_rows=skip + 1, names=header, handler=None)
                    if all(pc.all(pc.string_is_ascii(col)).as_py() in (True, None) for col in table.columns):
                        return table
                except pa.ArrowInvalid as err:  # not UTF-8, or a bad line: read decoded to quote it
                    if "UTF8" not in str(err) and "CSV parse error" not in str(err):
                        raise
                bad_rows.clear()
            enc = "utf8" if enc in ("utf-8", "utf-8-sig") else enc
            try:  # without a handler first: pyarrow decodes a bad line before any handler sees it
                return read_with(wanted, enc, skip_rows=skip + 1, names=header, handler=None)
            except pa.ArrowInvalid as err:
                if "CSV parse error" not in str(err):
                    raise
            return read_with(wanted, enc, skip_rows=skip + 1, names=header)

        def read_with(wanted: Sequence[str], enc: str, skip_rows: int = 0,
                      names: list[str] | None = None, handler: Any = on_invalid) -> pa.Table:
            return pcsv.read_csv(
                path,
                read_options=pcsv.ReadOptions(encoding=enc, block_size=1 << 24, skip_rows=skip_rows,
                                              column_names=names),
                parse_options=pcsv.ParseOptions(delimiter=sep, newlines_in_values=quoted,
                                                invalid_row_handler=handler),
                convert_options=pcsv.ConvertOptions(include_columns=list(wanted),
                                                    column_types={c: pa.string() for c in wanted},
                                                    strings_can_be_null=False, check_utf8=True))

        try:
            try:
                table = attempt(encoding)
            except pa.ArrowInvalid as err:
                utf8_failed = "UTF8" in str(err) and encoding in ("utf-8", "utf-8-sig")
                if not (utf8_failed and not read.get("encoding") and cut.isascii()):
                    raise
                # The first megabyte was plain ASCII; a later line is not UTF-8: Turkish Windows.
                bad_rows.clear()
                detected["encoding"], detected["encoding_fallback"] = "cp1254", True
                table = attempt("cp1254")
        except UnicodeDecodeError as err:
            raise _encoding_error(name, path, detected["encoding"], given=bool(read.get("encoding"))) from err
        except pa.ArrowInvalid as err:
            if "UTF8" in str(err):
                raise _encoding_error(name, path, "utf-8", given=bool(read.get("encoding"))) from err
            raise data_error(name, path, f"the file cannot be read as CSV: {err}.",
                             f"check data.{name}.read.sep (now {sep!r}) and that the file is a plain CSV "
                             "export.") from err
        if bad_rows:
            shown = bad_rows[:MAX_EXAMPLES]
            numbers = _find_lines(path, detected["encoding"], shown, skip + 2)
            listed = "; ".join(f"line {n}: {r[:80]!r}" if n else repr(r[:80])
                               for n, r in zip(numbers, shown, strict=True))
            raise data_error(name, path, f"{len(bad_rows)} lines do not have the {len(header)} fields of the "
                             f"header when split at {sep!r}: {listed}.",
                             f"check data.{name}.read.sep; quote text fields that contain {sep!r}, or remove "
                             "the stray separators.")
        return table.to_pandas()

    def line_key(rows: int) -> np.ndarray | None:
        """Hash each whole line (all columns, mapped or not) so that only identical lines look alike."""
        enc = detected["encoding"]
        return _line_hashes(path, enc if enc.startswith("utf-16") else "utf8", rows, skip=skip + 1)

    return header, read_columns, line_key


# ------------------------------------------------------------------------------------------ Parquet, XLSX


def read_parquet_columns(name: str, path: Path) -> tuple[list[str], Any, Any]:
    """Return the Parquet file's column names and a reader of the given columns (types kept)."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as err:
        raise data_error(name, path, f"the file cannot be read as Parquet ({err}).",
                         "export the table again, or give a .csv/.xlsx file.") from err

    def read_columns(wanted: Sequence[str]) -> pd.DataFrame:
        fields = [schema.field(name) for name in wanted] if len(set(schema.names)) == len(schema.names) else []
        if fields and any(pa.types.is_string(f.type) for f in fields):
            # text read straight as pandas' Arrow text (large_string): no second copy of every string's offsets
            target = pa.schema([f.with_type(pa.large_string()) if pa.types.is_string(f.type) else f for f in fields])
            table = pq.read_table(path, columns=list(wanted), schema=target)
        else:
            table = pq.read_table(path, columns=list(wanted))
        arrays = []
        for col in table.columns:
            if pa.types.is_dictionary(col.type):
                col = col.cast(col.type.value_type)
            if pa.types.is_decimal(col.type):
                col = col.cast(pa.float64())
            arrays.append(col)
        return pa.table(arrays, names=table.column_names).to_pandas()

    def line_key(rows: int) -> np.ndarray | None:
        import duckdb

        con = duckdb.connect()
        try:  # DuckDB's hash of the whole row struct, every column included, in file order
            hashes = con.execute("SELECT hash(t) AS h FROM read_parquet(?) t", [str(path)]).fetchnumpy()["h"]
        finally:
            con.close()
        return hashes if len(hashes) == rows else None

    return list(schema.names), read_columns, line_key


def _excel_column(values: pd.Series) -> pd.Series:
    """Return an Excel column typed when all its cells agree (numbers, dates), else the cells as they are.

    A column mixing number and text cells stays ``object``: each cell keeps its type (float, str,
    datetime), so that a number cell is never re-read as text in the file's decimal convention
    (:func:`crmlib.data.coerce.cell_kinds` splits them again).
    """
    present = values.dropna()
    if present.empty:
        return values.astype("str").where(values.notna())
    kinds = set(map(type, present.to_numpy()))
    if all(issubclass(k, (int, float)) and not issubclass(k, bool) for k in kinds):
        return pd.to_numeric(values, errors="coerce").astype("float64")
    if all(issubclass(k, dt.datetime) for k in kinds):
        return pd.to_datetime(values).astype("datetime64[ns]")
    if all(issubclass(k, str) for k in kinds):
        return values.astype("str").where(values.notna())
    return values.astype(object).where(values.notna(), None)


def _zero_pad_formats(path: Path) -> bool:
    """Return whether the workbook defines a number format that pads with zeros (``00000``)."""
    import re
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            styles = archive.read("xl/styles.xml").decode("utf-8", errors="replace")
    except (KeyError, OSError, zipfile.BadZipFile):
        return False
    return bool(re.search(r'formatCode="0{2,}"', styles))


def _pad_widths(path: Path, sheet: str, columns: Sequence[int], first_row: int, rows: int) -> dict[int, np.ndarray]:
    """Return per column the zero-padding width of each body cell's number format (0: none).

    Only called when the workbook defines such a format: openpyxl reads the styles calamine does not see.
    """
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        widths = {c: np.zeros(rows, dtype=np.int16) for c in columns}
        low, high = min(columns) + 1, max(columns) + 1
        for i, row in enumerate(book[sheet].iter_rows(min_row=first_row + 1, min_col=low, max_col=high)):
            if i >= rows:
                break
            for cell in row:
                col = getattr(cell, "column", None)
                if col is None or col - 1 not in widths:
                    continue
                fmt = str(getattr(cell, "number_format", "") or "")
                if len(fmt) > 1 and set(fmt) == {"0"}:
                    widths[col - 1][i] = len(fmt)
        return widths
    finally:
        book.close()


def find_header_row(rows: Sequence[Sequence[Any]], expected: Sequence[str], *, limit: int = 30) -> int | None:
    """Return the index of the first of ``rows`` holding every ``expected`` name (trimmed), or None."""
    wanted = {str(e).strip() for e in expected}
    for i, row in enumerate(rows[:limit]):
        cells = {str(v).strip() for v in row if v is not None and not (isinstance(v, float) and v != v)}
        if wanted and wanted <= cells:
            return i
    return None


class Sheet:
    """One sheet of a workbook as read by calamine: header row found, body typed per column."""

    def __init__(self, path: Path, name: str, grid: pd.DataFrame, header_at: int) -> None:
        self.path, self.name = path, name
        row = grid.iloc[header_at] if len(grid) > header_at else pd.Series(dtype=object)
        self.header = [str(v).strip() if pd.notna(v) else f"(column {i + 1})" for i, v in enumerate(row)]
        self.header_at = header_at  # 0-based row of the header; spreadsheet line header_at + 1
        self.body = grid.iloc[header_at + 1:].reset_index(drop=True)
        self.body.columns = range(self.body.shape[1])

    def columns(self, wanted: Sequence[str], padded: bool) -> pd.DataFrame:
        out = {}
        positions = [self.header.index(h) for h in wanted]
        widths = (_pad_widths(self.path, self.name, positions, self.header_at + 1, len(self.body))
                  if padded and len(self.body) else {})
        for h, pos in zip(wanted, positions, strict=True):
            col = self.body[pos]
            width = widths.get(pos)
            if width is not None and width.any():  # a number shown with leading zeros is read as shown
                def shown(v: Any, w: int) -> Any:
                    if w and isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer():
                        return str(int(v)).zfill(int(w))
                    return v
                col = pd.Series([shown(v, w) for v, w in zip(col.to_numpy(), width, strict=True)],
                                dtype=object)
            out[h] = _excel_column(col)
        return pd.DataFrame(out)


def _grid(name: str, path: Path, sheet: str) -> pd.DataFrame:
    try:
        return pd.read_excel(path, sheet_name=sheet, header=None, dtype=object, engine="calamine")
    except Exception as err:  # calamine raises its own error types for damaged sheets
        raise data_error(name, path, f"the sheet {sheet!r} cannot be read ({err}).",
                         "save the workbook again from Excel as .xlsx, or export the sheet as CSV.") from err


def read_xlsx_columns(name: str, path: Path, read: Mapping[str, Any], detected: dict[str, Any],
                      expected: Sequence[str]) -> tuple[list[str], Any, Any]:
    """Return the header of the sheet(s) and a reader of the given columns (python-calamine, cell types kept).

    ``read.sheet``: a name, a 0-based position, a list of names, or ``all`` (the sheets holding the header,
    concatenated); null reads the first sheet, and is refused when other sheets carry the same header (half
    the data would be silently left out). ``read.header_row`` (1-based line) or, when null, the first of
    the top rows holding every ``expected`` header name.
    """
    from python_calamine import CalamineWorkbook

    try:
        sheets = list(CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception as err:  # noqa: BLE001 - calamine's errors are not exported as one base class
        raise data_error(name, path, f"the file cannot be opened as an Excel workbook ({err}).",
                         "save it again from Excel as .xlsx, or export it as CSV.") from err
    sheet = read.get("sheet")
    header_row = read.get("header_row")
    if isinstance(sheet, str) and sheet.strip().lower() == "all":
        chosen = list(sheets)
    elif isinstance(sheet, (list, tuple)):
        chosen = [_sheet_name(name, path, s, sheets) for s in sheet]
    elif sheet is None:
        chosen = sheets[:1]
    else:
        chosen = [_sheet_name(name, path, sheet, sheets)]

    def open_sheet(title: str) -> Sheet | None:
        grid = _grid(name, path, title)
        if header_row:
            at = int(header_row) - 1
        else:
            found = find_header_row(grid.head(30).to_numpy().tolist(), expected)
            at = 0 if found is None else found
        if grid.empty or len(grid) <= at:
            return None
        return Sheet(path, title, grid, at)

    opened: list[Sheet] = []
    for title in chosen:
        book_sheet = open_sheet(title)
        if book_sheet is None:
            if len(chosen) == 1:
                raise data_error(name, path, f"the sheet {title!r} is empty.",
                                 f"check data.{name}.read.sheet (the workbook's sheets are {sheets}), or export "
                                 "again.")
            continue
        if len(chosen) > 1 and not set(expected) <= set(book_sheet.header):
            if isinstance(sheet, str):  # 'all': sheets without the header (a summary) are not data
                detected.setdefault("sheets_skipped", []).append(title)
                continue
            missing = [e for e in expected if e not in book_sheet.header]
            raise data_error(name, path, f"the sheet {title!r} named in read.sheet has no column {missing[0]!r}; "
                             f"its headers are {book_sheet.header}.",
                             f"give in data.{name}.read.sheet only sheets with the same header.")
        opened.append(book_sheet)
    if not opened:
        raise data_error(name, path, f"no sheet of {sheets} holds the headers {list(expected)}.",
                         f"check data.{name}.columns and data.{name}.read.sheet.")
    first = opened[0]
    if sheet is None and len(sheets) > 1:
        others = []
        for title in sheets[1:]:
            grid = pd.read_excel(path, sheet_name=title, header=None, dtype=object, engine="calamine",
                                 nrows=30)
            if find_header_row(grid.to_numpy().tolist(), expected) is not None:
                others.append(title)
        if others and set(expected) <= set(first.header):
            raise data_error(name, path, f"the sheets {others} carry the same header as the first sheet "
                             f"{first.name!r}, which is the only one read when read.sheet is not set: their "
                             "lines would be left out.",
                             f"set data.{name}.read.sheet: all to read every sheet with this header together "
                             f"(or a list such as [{first.name}, {others[0]}]), or read.sheet: {first.name} to "
                             "read only the first.")
        if others and not set(expected) <= set(first.header):
            missing = [e for e in expected if e not in first.header]
            raise data_error(name, path, f"the first sheet {first.name!r} (read because read.sheet is not set) "
                             f"has no column {missing[0]!r}; the sheet {others[0]!r} has every mapped "
                             "column.", f"set data.{name}.read.sheet: {others[0]}.")
    detected["sheet"] = first.name if len(opened) == 1 else [s.name for s in opened]
    if first.header_at and not header_row:
        detected["header_row"] = first.header_at + 1
    detected["first_line"] = first.header_at + 2
    padded = _zero_pad_formats(path)

    def read_columns(wanted: Sequence[str]) -> pd.DataFrame:
        parts = [s.columns(wanted, padded) for s in opened]
        if len(parts) == 1:
            return parts[0]
        lines = np.concatenate([np.arange(len(s.body)) + s.header_at + 2 for s in opened])
        detected["lines"] = lines
        detected["sheets_of_rows"] = np.concatenate([np.full(len(s.body), i, dtype=np.int16)
                                                     for i, s in enumerate(opened)])
        detected["sheet_rows"] = {s.name: len(s.body) for s in opened}
        frame = pd.concat([_unify(p) for p in parts], ignore_index=True)
        return pd.DataFrame({c: _excel_column(frame[c]) if frame[c].dtype == object else frame[c]
                             for c in frame})

    def line_key(rows: int) -> np.ndarray | None:
        bodies = [s.body for s in opened]
        if sum(len(b) for b in bodies) != rows:
            return None
        return np.concatenate([pd.util.hash_pandas_object(b.astype("str"), index=False).to_numpy()
                               for b in bodies])

    return first.header, read_columns, line_key


def _unify(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with typed columns as Python objects, so that sheets of other types concatenate."""
    return pd.DataFrame({c: (frame[c].astype(object).where(frame[c].notna(), None)
                             if frame[c].dtype != object else frame[c]) for c in frame})


def _sheet_name(name: str, path: Path, sheet: Any, sheets: list[str]) -> str:
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        if not 0 <= sheet < len(sheets):
            raise data_error(name, path, f"read.sheet {sheet} is out of range: the workbook has "
                             f"{len(sheets)} sheets {sheets} (the first is 0).",
                             f"set data.{name}.read.sheet to a sheet name.")
        return sheets[sheet]
    if str(sheet) not in sheets:
        hint = did_you_mean(str(sheet), sheets)
        raise data_error(name, path, f"the workbook has no sheet {sheet!r}"
                         + (f" (did you mean {hint[0]!r}?)" if hint else "")
                         + f"; its sheets are {sheets}.",
                         f"set data.{name}.read.sheet to one of the sheet names, a list of them, or all.")
    return str(sheet)
