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
from crmlib.data.read import MAX_EXAMPLES, data_error
from crmlib.errors import DataError

#: Single-byte encodings that agree with ASCII, for which ASCII-only lines need no transcoding.
SINGLE_BYTE = {"cp1254", "windows-1254", "iso-8859-9", "latin-1", "latin1", "iso-8859-1", "cp1252",
               "windows-1252", "latin5"}



def _line_hashes(path: Path, encoding: str, rows: int) -> np.ndarray | None:
    """Return DuckDB's 64-bit hash of each data line's bytes, streamed in blocks (10M lines: about a second).

    None when the count disagrees with the parsed rows (a quoted value spanning lines), so that the lines
    cannot be matched to rows.
    """
    import duckdb
    import pyarrow.csv as pcsv

    reader = pcsv.open_csv(
        path,
        read_options=pcsv.ReadOptions(encoding=encoding, block_size=1 << 24, skip_rows=1,
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


def read_csv_columns(name: str, path: Path, read: Mapping[str, Any],
                     detected: dict[str, Any]) -> tuple[list[str], Any, Any]:
    """Sniff a CSV; return its header, a reader of the given header names as text, and a line coder."""
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
    lines = text.lstrip("\ufeff").splitlines()[:200]
    sep = read.get("sep")
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
                    table = read_with(wanted, "utf8", skip_rows=1, names=header)
                    if all(pc.all(pc.string_is_ascii(col)).as_py() in (True, None) for col in table.columns):
                        return table
                except pa.ArrowInvalid as err:
                    if "UTF8" not in str(err):
                        raise
                bad_rows.clear()
            return read_with(wanted, "utf8" if enc in ("utf-8", "utf-8-sig") else enc)

        def read_with(wanted: Sequence[str], enc: str, skip_rows: int = 0,
                      names: list[str] | None = None) -> pa.Table:
            return pcsv.read_csv(
                path,
                read_options=pcsv.ReadOptions(encoding=enc, block_size=1 << 24, skip_rows=skip_rows,
                                              column_names=names),
                parse_options=pcsv.ParseOptions(delimiter=sep, newlines_in_values=quoted,
                                                invalid_row_handler=on_invalid),
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
            raise data_error(name, path, f"{len(bad_rows)} lines do not have the {len(header)} fields of the "
                             f"header when split at {sep!r}: {[r[:80] for r in bad_rows[:MAX_EXAMPLES]]}.",
                             f"check data.{name}.read.sep; quote text fields that contain {sep!r}, or remove "
                             "the stray separators.")
        return table.to_pandas()

    def line_key(rows: int) -> np.ndarray | None:
        """Hash each whole line (all columns, mapped or not) so that only identical lines look alike."""
        enc = detected["encoding"]
        return _line_hashes(path, enc if enc.startswith("utf-16") else "utf8", rows)

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
        table = pq.read_table(path, columns=list(wanted))
        arrays = []
        for col in table.columns:
            if pa.types.is_dictionary(col.type):
                col = col.cast(col.type.value_type)
            if pa.types.is_decimal(col.type):
                col = col.cast(pa.float64())
            if pa.types.is_large_string(col.type):
                col = col.cast(pa.string())
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
    """Return an Excel column typed when all its cells agree (numbers, dates), else as text."""
    present = values.dropna()
    kinds = {type(v) for v in present}
    if present.empty:
        return values.astype("str").where(values.notna())
    if all(issubclass(k, (int, float)) and not issubclass(k, bool) for k in kinds):
        return pd.to_numeric(values, errors="coerce").astype("float64")
    if all(issubclass(k, dt.datetime) for k in kinds):
        return pd.to_datetime(values).astype("datetime64[ns]")

    def as_text(v: Any) -> Any:
        if v is None or (isinstance(v, float) and v != v):
            return None
        if isinstance(v, float) and v.is_integer():
            return f"{v:.0f}"
        if hasattr(v, "isoformat"):
            return v.isoformat(sep=" ") if hasattr(v, "hour") else v.isoformat()
        return str(v)

    return values.map(as_text).astype("str").where(values.notna())


def read_xlsx_columns(name: str, path: Path, sheet: Any,
                      detected: dict[str, Any]) -> tuple[list[str], Any, Any]:
    """Return the header of the sheet (first row) and a reader of the given columns."""
    import zipfile

    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheets = list(book.sheetnames)
        book.close()
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as err:
        raise data_error(name, path, f"the file cannot be opened as an Excel workbook ({err}).",
                         "save it again from Excel as .xlsx, or export it as CSV.") from err
    if sheet is None:
        chosen = sheets[0]
    elif isinstance(sheet, int) and not isinstance(sheet, bool):
        if not 0 <= sheet < len(sheets):
            raise data_error(name, path, f"read.sheet {sheet} is out of range: the workbook has "
                             f"{len(sheets)} sheets {sheets} (the first is 0).",
                             f"set data.{name}.read.sheet to a sheet name.")
        chosen = sheets[sheet]
    else:
        if str(sheet) not in sheets:
            hint = sniff.did_you_mean(str(sheet), sheets)
            raise data_error(name, path, f"the workbook has no sheet {sheet!r}"
                             + (f" (did you mean {hint[0]!r}?)" if hint else "")
                             + f"; its sheets are {sheets}.",
                             f"set data.{name}.read.sheet to one of the sheet names.")
        chosen = str(sheet)
    detected["sheet"] = chosen
    grid = pd.read_excel(path, sheet_name=chosen, header=None, dtype=object, engine="openpyxl")
    if grid.empty:
        raise data_error(name, path, f"the sheet {chosen!r} is empty.", "check read.sheet, or export again.")
    header = [str(v).strip() if pd.notna(v) else f"(column {i + 1})" for i, v in enumerate(grid.iloc[0])]
    body = grid.iloc[1:].reset_index(drop=True)
    body.columns = range(body.shape[1])

    def read_columns(wanted: Sequence[str]) -> pd.DataFrame:
        return pd.DataFrame({h: _excel_column(body[header.index(h)]) for h in wanted})

    def line_key(rows: int) -> np.ndarray | None:
        if len(body) != rows:
            return None
        return pd.util.hash_pandas_object(body.astype("str"), index=False).to_numpy()

    return header, read_columns, line_key
