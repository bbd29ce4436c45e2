"""Type and check the input tables; one clear message for what cannot be used, notes for what was fixed.

``validate_table`` turns a :class:`~crmlib.data.read.RawTable` (text as read) into a :class:`ValidTable`: ids as
``str``, dates ``datetime64[ns]`` (order dates at midnight), numbers ``float64``, flags nullable
``boolean``. ``load_tables`` reads and validates every table named in ``params["data"]``.

What is an error and what is a note (our thresholds):

- **Errors** (:class:`~crmlib.errors.DataError`, the run stops with exit 2): a blank required value
  (customer_id, order_date, amount, ...); any unreadable value in a required column, a money column
  (amount, cost, price, unit_cost, spend) or ``paid_date`` — money must not vanish silently, so even one
  is refused; an impossible date (31.02.2024) in those columns; in any other column, unreadable values in
  more than ``TOLERANCE`` (1 %) of its filled cells (a systematic problem, e.g. a wrong read option).
- **Notes** (:class:`Note`, shown in the data-quality section of ``00_overview``): exact duplicate lines
  (dropped; identical in every column of the file, mapped or not), lines after ``as_of`` (counted; the
  cut happens when the orders are built), blank optional values, unreadable optional values up to the
  tolerance (blanked), negative amounts (returns, kept),
  survey scores outside NPS 0–10 / CSAT 1–5 (dropped; Reichheld's 2003 0–10 recommend scale and the
  contract's five-point CSAT), repeated keys in customers/products (first row kept), tickets resolved
  before they were opened.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pda

from crmlib.data import coerce, frames, rules, textops
from crmlib.data.notes import Note
from crmlib.data.problems import line_number
from crmlib.data.read import MAX_EXAMPLES, REQUIRED, TABLE_COLUMNS, RawTable, data_error, read_table
from crmlib.errors import DataError, ParamsError, did_you_mean

logger = logging.getLogger(__name__)

#: Share of filled cells of an optional column that may be unreadable (blanked with a note) before the
#: column is refused: above it the problem is systematic (wrong read option, shifted columns).
TOLERANCE = 0.01
#: Threads typing the columns of a table (the machine this targets has two cores).
THREADS = 2
#: Columns where money is at stake: not a single unreadable value is accepted.
MONEY: dict[str, tuple[str, ...]] = {
    "orders": ("amount", "cost"), "products": ("price", "unit_cost"), "payments": ("amount", "paid_date"),
    "marketing": ("spend",),
}
#: Score scales: NPS 0–10 (Reichheld 2003, "The One Number You Need to Grow", HBR), CSAT 1–5 (the contract).
SCORE_RANGES: dict[str, tuple[float, float]] = {"nps": (0, 10), "csat": (1, 5)}
#: The date column that ``as_of`` applies to, per table.
EVENT_DATE: dict[str, str] = {"orders": "order_date", "payments": "due_date", "tickets": "opened_at",
                              "surveys": "date", "contacts": "date", "customers": "signup_date"}
#: Tables with one row per key: repeated keys keep their first row.
KEYS: dict[str, str] = {"customers": "customer_id", "products": "product_id"}
#: Set to False to run the checks of one table one after the other (the tests compare both).
OVERLAP = True
#: Set to False to read and check the tables one after the other (the tests compare both).
PARALLEL_TABLES = True
#: Set to False to find repeated keys and duplicate rows without the key's codes (the tests compare both).
FAST_KEYS = True
_DTYPES = {"id": "str", "text": "str", "date": "datetime64[ns]", "month": "datetime64[ns]",
           "number": "float64", "bool": "boolean"}


@dataclass
class ValidTable:
    """One validated table: typed frame with our column names (index 0..n-1) and the notes."""

    name: str
    path: Path
    frame: pd.DataFrame
    notes: list[Note] = field(default_factory=list)
    detected: dict[str, Any] = field(default_factory=dict)
    source_columns: dict[str, str] = field(default_factory=dict)
    rows_read: int = 0
    positions: np.ndarray | None = None  # per kept row, its position in the file as read (for line numbers)
    layout: dict[str, Any] = field(default_factory=dict)
    #: mapped columns (our names) not read: a run of some notebooks reads only those they use (:func:`load_tables`)
    unread: list[str] = field(default_factory=list)

    def lines(self, rows: np.ndarray) -> list[int]:
        """Return the spreadsheet lines of the given rows of :attr:`frame`."""
        positions = self.positions if self.positions is not None else np.arange(len(self.frame))
        return [line_number(self.detected, self.layout, int(positions[r])) for r in rows]


def _rows(raw: RawTable, frame: pd.DataFrame, mask: np.ndarray, column: str) -> list[tuple[int, Any]]:
    """Return (line, value as in the file) of the first rows where ``mask`` holds."""
    positions = np.flatnonzero(mask)[:MAX_EXAMPLES]
    labels = frame.index[positions]
    source = raw.frame[column] if column in raw.frame else frame[column]
    return [(raw.line(label), _plain(source.loc[label])) for label in labels]


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return ""
    if isinstance(value, pd.Timestamp):
        return str(value.date()) if value == value.normalize() else str(value)
    return value.item() if isinstance(value, np.generic) else value


def _layout_regex(fmt: str) -> str:
    """Return the regex of the date part of a strptime format (``%d.%m.%Y`` → ``\\d{1,2}\\.\\d{1,2}...``)."""
    part = re.split(r"[ T]%H", fmt)[0]
    pieces = {"%d": r"\d{1,2}", "%m": r"\d{1,2}", "%Y": r"\d{4}", "%y": r"\d{2}", "%b": r"[^\W\d]+"}
    return "".join(pieces.get(tok, re.escape(tok)) for tok in re.findall(r"%[a-zA-Z]|[^%]", part))


def _coerce(raw: RawTable, column: str, kind: str) -> coerce.Coerced:
    series = raw.frame[column]
    if kind == "id":
        return coerce.to_ids(series)
    if kind == "text":
        return coerce.to_text(series)
    if kind == "number":
        return coerce.to_numbers(series, decimal=raw.detected.get("decimal") or ".",
                                 thousands=raw.detected.get("thousands"))
    if kind == "date":
        fmt = raw.detected.get("date_formats", {}).get(column)
        layout = _layout_regex(fmt) if fmt and fmt not in (coerce.SERIAL_FORMAT, coerce.MONTH_NAME_FORMAT) else None
        return coerce.to_dates(series, fmt=fmt, layout=layout, timezone=raw.detected.get("timezone"))
    if kind == "bool":
        return coerce.to_bools(series)
    return coerce.to_months(series)


def _what_unreadable(raw: RawTable, column: str, kind: str) -> tuple[str, str]:
    """Return (what the values should look like, what to do) for unreadable values of ``column``."""
    read = f"data.{raw.name}.read"
    if kind == "number":
        dec, tho = raw.detected.get("decimal") or ".", raw.detected.get("thousands")
        return (f"numbers written with decimal {dec!r}" + (f" and thousands {tho!r}" if tho else ""),
                f"correct these cells in the file, or set {read}.decimal / {read}.thousands if the file uses "
                "another convention.")
    if kind == "date":
        fmt = raw.detected.get("date_formats", {}).get(column)
        if fmt is None:
            return ("dates in a layout we recognise (2024-03-15, 15.03.2024, 15/03/2024)",
                    f"set {read}.date_format to the file's layout (e.g. '%d.%m.%Y'), or export ISO dates.")
        return (f"dates in the layout {fmt!r} (with or without a time) between {coerce.MIN_YEAR} and "
                f"{coerce.MAX_YEAR}",
                f"correct these cells, or set {read}.date_format if the layout is wrong.")
    if kind == "bool":
        return ("yes/no values (1/0, true/false, evet/hayır, yes/no)", "use one of these words in the file.")
    if kind == "month":
        return ("months (2024-03, 03.2024, Mart 2024)", "write the months in one of these layouts.")
    return ("readable values", "correct these cells in the file.")


def _check_unreadable(raw: RawTable, frame: pd.DataFrame, column: str, kind: str, result: coerce.Coerced,
                      notes: list[Note]) -> pd.Series:
    """Raise for unreadable values in strict columns or above the tolerance; else blank them with a note."""
    values = result.values
    source = raw.source_columns.get(column)
    strict = column in REQUIRED[raw.name] or column in MONEY.get(raw.name, ())
    if result.impossible is not None and result.impossible.any():
        count = int(result.impossible.sum())
        if strict or count > TOLERANCE * max(int(values.notna().sum()) + count, 1):
            raise data_error(raw.name, raw.place, f"{count} values are not real calendar dates (a day that "
                             "does not exist in that month).", "correct these dates in the file.",
                             column=column, source=source, rows=_rows(raw, frame, result.impossible, column))
    bad = result.bad | (result.impossible if result.impossible is not None else False)
    count = int(np.count_nonzero(bad))
    if not count:
        return values
    filled = int(values.notna().sum()) + count
    looks, todo = _what_unreadable(raw, column, kind)
    rows = _rows(raw, frame, bad, column)
    if strict or count > TOLERANCE * filled:
        reason = ("this column allows none" if strict
                  else f"more than {TOLERANCE:.0%} of its {filled} filled cells")
        raise data_error(raw.name, raw.place, f"{count} values cannot be read as {looks} ({reason}).", todo,
                         column=column, source=source, rows=rows)
    notes.append(Note(raw.name, column, "unreadable_blanked", count,
                      f"{count} unreadable values in {column} were left blank", rows))
    return values.where(~bad)


def _drop(frame: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    return frame.loc[~mask] if mask.any() else frame


def _duplicates(frame: pd.DataFrame, codes: np.ndarray | None = None) -> np.ndarray:
    """Return the mask of exact repeats of an earlier row.

    Repeats must agree on every number and date, so a fast numeric hash (sorted, not a hash table) picks
    the candidates and only they are compared in full, text included. Tables without numbers or dates
    hash everything. ``codes`` (one integer per row, equal for equal values of one column, e.g. the
    customers' key) join the hash: repeats agree on them too, so fewer rows are compared in full.
    """
    n = len(frame)
    if n < 2:
        return np.zeros(n, dtype=bool)
    numeric = [c for c in frame if frame[c].dtype.kind in "fiuM"]
    if numeric or codes is not None:
        h = np.zeros(n, dtype=np.uint64)
        for col in [*numeric, None] if codes is not None else numeric:
            values = frame[col].to_numpy() if col is not None else codes.astype(np.int64)
            if values.dtype.kind == "f":
                values = values + 0.0  # -0.0 == 0.0
                nan = np.isnan(values)
                if nan.any():
                    values[nan] = np.nan  # one NaN
            key = values.view(np.uint64) if values.dtype.itemsize == 8 else values.astype(np.uint64)
            h *= np.uint64(0x9E3779B97F4A7C15)  # in place: collisions only add candidates
            h += key
    else:
        h = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    ordered = np.sort(h)  # the hashes that repeat, then the rows holding them (cheaper than an argsort)
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    candidates = pd.Series(h, copy=False).isin(repeated).to_numpy() if len(repeated) else np.zeros(n, dtype=bool)
    out = np.zeros(n, dtype=bool)
    if candidates.any():
        out[np.flatnonzero(candidates)] = frame.loc[candidates].duplicated(keep="first").to_numpy()
    return out


def schema(name: str) -> pda.DataFrameSchema:
    """Return the pandera schema of a validated table: dtypes, required non-null, score ranges."""
    columns = {}
    for col, kind in TABLE_COLUMNS[name].items():
        checks = []
        if name == "surveys" and col in SCORE_RANGES:
            checks.append(pda.Check.in_range(*SCORE_RANGES[col]))
        columns[col] = pda.Column(_DTYPES[kind], checks=checks, nullable=col not in REQUIRED[name],
                                  required=False)
    return pda.DataFrameSchema(columns, strict=True)


def _apply_schema(raw: RawTable, frame: pd.DataFrame, notes: list[Note]) -> pd.DataFrame:
    """Check the typed frame with pandera; drop survey scores out of range, raise for anything else."""
    try:
        schema(raw.name).validate(frame, lazy=True, inplace=True)  # a check, not a copy (0.5 s at 10M lines)
        return frame
    except pda.errors.SchemaErrors as err:
        cases = err.failure_cases
    ranged = cases["check"].astype(str).str.startswith("in_range") & cases["column"].isin(list(SCORE_RANGES))
    for column, group in cases[ranged].groupby("column"):
        low, high = SCORE_RANGES[column]
        mask = frame.index.isin(group["index"])
        notes.append(Note(raw.name, column, "out_of_range_dropped", int(mask.sum()),
                          f"{int(mask.sum())} rows with {column} outside {low}-{high} were dropped",
                          _rows(raw, frame, mask, column), {"low": low, "high": high}))
        frame = frame.loc[~mask]
    rest = cases[~ranged]
    if not rest.empty:
        first = rest.iloc[0]
        column = str(first["column"])
        mask = frame.index.isin(rest.loc[rest["column"] == first["column"], "index"].dropna())
        raise data_error(raw.name, raw.place, f"the typed values fail the check {first['check']!r} "
                         f"({len(rest)} failures).", "report this with the file: the loader should have "
                         "caught it earlier.", column=column, source=raw.source_columns.get(column),
                         rows=_rows(raw, frame, mask, column))
    return frame


def _table_notes(raw: RawTable, frame: pd.DataFrame, notes: list[Note], as_of: Any,
                 key_codes: np.ndarray | None = None) -> pd.DataFrame:
    """Notes and drops specific to each table (returns, keys, ticket order, lines after ``as_of``).

    ``key_codes``: per row of ``frame``, a code of its key (customers, products; equal codes for equal keys, -1
    for a blank one), so that repeated keys are found on integers.
    """
    name = raw.name
    if "amount" in frame and name in ("orders", "payments"):
        negative = (frame["amount"] < 0).to_numpy()
        if negative.any():
            notes.append(Note(name, "amount", "negative_amounts", int(negative.sum()),
                              f"{int(negative.sum())} lines have a negative amount "
                              "(returns, kept and netted)",
                              _rows(raw, frame, negative, "amount"),
                              {"total": float(frame["amount"][negative].sum())}))
    key = KEYS.get(name)
    if key and key in frame:
        if key_codes is not None and len(key_codes) == len(frame):  # the key's codes (-1: blank) of these rows
            repeated = textops.repeats_of_earlier(key_codes) & (key_codes >= 0)
        else:
            repeated = frame[key].duplicated(keep="first").to_numpy() & frame[key].notna().to_numpy()
        if repeated.any():
            notes.append(Note(name, key, "repeated_key_dropped", int(repeated.sum()),
                              f"{int(repeated.sum())} rows repeat a {key} already seen (first row kept)",
                              _rows(raw, frame, repeated, key)))
            frame = frame.loc[~repeated]
    if name == "tickets" and {"opened_at", "resolved_at"} <= set(frame):
        early = (frame["resolved_at"] < frame["opened_at"]).to_numpy()
        if early.any():
            notes.append(Note(name, "resolved_at", "resolved_before_opened", int(early.sum()),
                              f"{int(early.sum())} tickets are resolved before they were opened (kept)",
                              _rows(raw, frame, early, "resolved_at")))
    date_col = EVENT_DATE.get(name)
    if as_of is not None and date_col in frame:
        cut = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
        after = (frame[date_col] >= cut).to_numpy()
        if after.any():
            notes.append(Note(name, date_col, "after_as_of", int(after.sum()),
                              f"{int(after.sum())} rows are dated after the as-of date "
                              f"{pd.Timestamp(as_of).date()} "
                              "and will be ignored", _rows(raw, frame, after, date_col),
                              {"as_of": str(pd.Timestamp(as_of).date())}))
    return frame


def _read_notes(raw: RawTable, notes: list[Note]) -> None:
    """Notes on how the file was read: header row found, sheets combined."""
    name, detected = raw.name, raw.detected
    if detected.get("header_row") and "header_row" not in detected.get("given", []):
        notes.append(Note(name, None, "header_row_found", int(detected["header_row"]),
                          f"the header is line {detected['header_row']} (the lines above it, a title, were "
                          f"skipped); set data.{name}.read.header_row to fix it",
                          values={"line": int(detected["header_row"])}))
    if detected.get("sheet_rows"):
        shown = ", ".join(f"{s} ({n:,} rows)" for s, n in detected["sheet_rows"].items())
        notes.append(Note(name, None, "sheets_combined", len(detected["sheet_rows"]),
                          f"the sheets {shown} were read together", values={"sheets": shown}))


def _read_as_notes(raw: RawTable, column: str, result: coerce.Coerced, notes: list[Note]) -> None:
    texts = {"excel_serial": "were Excel day numbers (45422 = 2024-05-10) and were read as dates",
             "month_names": "had month names (27 Kasım 2025) and were read as dates",
             "offsets": f"had a UTC offset (+0300) and were converted to {raw.detected.get('timezone')}",
             "timezone": f"were time-zone-aware and were converted to {raw.detected.get('timezone')}"}
    for kind, count in result.read_as.items():
        if count:
            notes.append(Note(raw.name, column, f"dates_{kind}", count, f"{count} values of {column} {texts[kind]}",
                              values={"timezone": raw.detected.get("timezone")}))


def _checks(raw: RawTable, out: pd.DataFrame, notes: list[Note], name: str) -> np.ndarray:
    """Id spellings, empty rows (noted), blank required values (refused), blank optional values (noted); return
    the mask of the empty rows."""
    for column in [c for c in ("customer_id", "product_id") if c in out and (c == "customer_id" or name in KEYS
                                                                              or name == "orders")]:
        rules.check_id_spellings(raw, out, column)
    empty = out.isna().all(axis=1).to_numpy()
    if empty.any() and not out.empty:
        notes.append(Note(name, None, "empty_rows_dropped", int(empty.sum()),
                          f"{int(empty.sum())} empty rows were dropped"))
    for column in [c for c in REQUIRED[name] if c in out]:
        blank = out[column].isna().to_numpy() & ~empty
        if blank.any():
            raise data_error(name, raw.place, f"{int(blank.sum())} rows have no value in this required "
                             "column.", "fill these cells in the file, or remove the rows if they are not "
                             "real records.", column=column, source=raw.source_columns.get(column),
                             rows=_rows(raw, out, blank, column))
    kept = len(out) - int(empty.sum())
    for column in [c for c in out if c not in REQUIRED[name]]:
        blank = int(out[column].isna().sum()) - int(empty.sum())
        if blank:
            notes.append(Note(name, column, "blank_values", blank,
                              f"{blank} of {kept} rows have no {column}", values={"rows": kept}))
    return empty


def validate_table(raw: RawTable, *, as_of: Any = None, release: bool = False, currency: str = "TRY") -> ValidTable:
    """Type and check one table read by :func:`crmlib.data.read.read_table`.

    Parameters
    ----------
    raw : the table as read; its frame has our column names (``TABLE_COLUMNS[raw.name]``), required:
        ``REQUIRED[raw.name]`` (orders: customer_id, order_date, amount).
    as_of : the analysis date; rows after it are counted in a note (not removed here).
    release : drop the text columns of ``raw.frame`` once typed (``load_tables`` does, to halve the peak
        memory on large files); later notes then quote typed values instead of the file's text.

    Raises
    ------
    DataError : see the module docstring for what is refused; the message names file, column, lines,
        values and the fix.
    """
    name, kinds = raw.name, TABLE_COLUMNS[raw.name]
    frame = raw.frame
    notes: list[Note] = []
    if frame.empty:
        notes.append(Note(name, None, "empty_table", 0, "the file has a header but no rows"))
    if raw.detected.get("encoding_fallback"):
        notes.append(Note(name, None, "encoding_fallback", 0, "the start of the file is plain ASCII but "
                          "later lines are not UTF-8: the file was read as cp1254 (Turkish Windows)"))
    _read_notes(raw, notes)
    original_rows = len(raw.frame)
    frame = raw.frame
    typed: dict[str, pd.Series] = {}
    # The columns are typed in two threads: the work is in pyarrow/numpy kernels, which release the GIL. The
    # totals rows are looked for meanwhile: when there are some (rare), the columns are typed again without them.
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        totals = pool.submit(rules.total_rows, raw) if OVERLAP else None
        if totals is None:
            rules.drop_total_rows(raw, notes)
            frame = raw.frame
        results = list(pool.map(lambda col: _coerce(raw, col, kinds[col]), frame.columns))
        if totals is not None and totals.result().any():
            rules.drop_total_rows(raw, notes)
            frame = raw.frame
            results = list(pool.map(lambda col: _coerce(raw, col, kinds[col]), frame.columns))
    inline: dict[str, pd.Series | None] = {}
    for column, result in zip(frame.columns, results, strict=True):
        typed[column] = _check_unreadable(raw, frame, column, kinds[column], result, notes)
        _read_as_notes(raw, column, result, notes)
        if result.currency is not None:
            inline[column] = pd.Series(result.currency.to_numpy(), index=frame.index)
    del results
    rows_read = original_rows
    if release:
        raw.frame = frame = frame.iloc[:, :0]
    out = pd.DataFrame(typed, index=frame.index, copy=False)  # the typed columns as they are, not copied
    del typed
    if name == "orders" and "order_date" in out:
        out["order_date"] = out["order_date"].dt.normalize()
    if name == "orders":
        out = rules.apply_line_rules(raw, out, notes)

    def repeated_rows(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """The exact repeats of an earlier row (empty rows included) and the codes of the table's key."""
        line_key = raw.line_key
        if line_key is not None and len(line_key) != len(frame):  # rows left out above: keep the others' codes
            line_key = line_key[frame.index.to_numpy()] if len(line_key) == original_rows else None
        key = frame.copy(deep=False) if line_key is None else frame.assign(_line=line_key)  # unmapped columns too
        key_column = KEYS.get(name)
        key_codes = None
        if FAST_KEYS and key_column in frame and len(frame) > 1:  # one hash of the key serves both checks below
            key_codes = textops.key_codes(frame[key_column])  # hashed and sorted, not a hash table
        return _duplicates(key, key_codes), key_codes

    converts = bool(inline) or "currency" in out
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Without a currency to convert, the values are final here: the repeats are found in a second thread
        # while the checks below run (sorting the hashes releases the GIL).
        found = pool.submit(repeated_rows, out) if OVERLAP and not converts else None
        empty = _checks(raw, out, notes, name)
        if converts:
            out = rules.convert_currency(raw, out, notes, inline, currency=currency)
        repeats, key_codes = found.result() if found is not None else repeated_rows(out)
    repeats = repeats & ~empty  # repeats of an empty row are empty rows, counted above
    keep = str(raw.spec.get("duplicates") or "drop").lower() == "keep"
    if repeats.any() and keep:
        notes.append(Note(name, None, "duplicates_kept", int(repeats.sum()),
                          f"{int(repeats.sum())} lines repeat an earlier line exactly and were kept "
                          f"(data.{name}.duplicates: keep)",
                          [(raw.line(i), "") for i in out.index[repeats][:MAX_EXAMPLES]]))
        repeats = np.zeros(len(out), dtype=bool)
    if repeats.any():
        hint = ("" if name != "orders" else
                "; if the file has no line-number column and the same item can appear twice in one order, "
                f"set data.{name}.duplicates: keep")
        notes.append(Note(name, None, "duplicates_dropped", int(repeats.sum()),
                          f"{int(repeats.sum())} exact duplicate lines were dropped{hint}",
                          [(raw.line(i), "") for i in out.index[repeats][:MAX_EXAMPLES]]))
    if repeats.any() or empty.any():
        out = frames.keep_rows(out, ~(repeats | empty))  # one copy for both drops
        key_codes = key_codes[~(repeats | empty)] if key_codes is not None else None
    out = _table_notes(raw, out, notes, as_of, key_codes)
    out = _apply_schema(raw, out, notes)
    if name == "orders" and out.empty:
        raise data_error(name, raw.place, "the orders table has no rows.", "export the order lines again; "
                         "the workbook needs at least one order.")
    for note in notes:
        logger.info("%s: %s", name, note.message)
    positions = out.index.to_numpy()
    return ValidTable(name, raw.path, out.reset_index(drop=True), notes, dict(raw.detected),
                      dict(raw.source_columns), rows_read, positions, dict(raw.layout), list(raw.unread))


class _Distinct:
    """The distinct non-blank values of the tables' columns, each computed once (a table's key column is
    distinct already once its repeated keys are dropped: no hash table is built for it)."""

    def __init__(self, tables: dict[str, ValidTable]) -> None:
        self.tables = tables
        self.cache: dict[tuple[str, str], pd.Series] = {}

    def __call__(self, name: str, column: str) -> pd.Series:
        if (name, column) not in self.cache:
            values = self.tables[name].frame[column].dropna()
            self.cache[(name, column)] = (values.reset_index(drop=True) if FAST_KEYS and KEYS.get(name) == column
                                          else textops.distinct(values))
        return self.cache[(name, column)]

    def forget(self, name: str, column: str) -> None:
        self.cache.pop((name, column), None)


def _match_ids(tables: dict[str, ValidTable], distinct: _Distinct | None = None) -> dict[tuple[str, str], np.ndarray]:
    """Match customer and product ids of the other tables to the orders' when only leading zeros differ.

    ``12`` in the customers table and ``00012`` in the orders (one file passed through Excel) are the same
    customer when removing the zeros pairs the ids one to one: the other table takes the orders' spelling,
    noted. When it does not (``012`` and ``12`` both present), nothing is changed and the unknown-customers
    note names leading zeros.

    Returns, per (table, column) left as it was, which of the orders' distinct ids (``distinct("orders",
    column)``) the table holds.
    """
    distinct = distinct or _Distinct(tables)
    orders = tables["orders"].frame
    found: dict[tuple[str, str], np.ndarray] = {}
    for column in ("customer_id", "product_id"):
        if column not in orders:
            continue
        for name, table in tables.items():
            if name == "orders" or column not in table.frame or table.frame.empty:
                continue
            plain, other = distinct("orders", column), distinct(name, column)
            known = textops.isin_large(plain, other)
            remap = rules.match_leading_zeros(orders[column], table.frame[column], plain=plain, other=other,
                                              found=known)
            if remap is None:
                found[(name, column)] = known
                continue
            before = table.frame[column]
            after = remap(before)
            changed = int((after != before).sum())
            table.frame = table.frame.assign(**{column: after})
            distinct.forget(name, column)
            table.notes.append(Note(name, column, "leading_zeros_matched", changed,
                                    f"{changed} {column} values differ from the orders' only by leading zeros "
                                    f"(e.g. {before[after != before].iloc[0]!r} = {after[after != before].iloc[0]!r})"
                                    " and were matched to them",
                                    values={"example": f"{before[after != before].iloc[0]} = "
                                                       f"{after[after != before].iloc[0]}"}))
    return found


def columns_to_read(name: str, wanted: Collection[str] | None) -> set[str] | None:
    """The columns (our names) to read of table ``name`` when its readers use only ``wanted``; ``None``: all.

    Only a table with one row per key (:data:`KEYS`: customers, products) is read in part: its rows kept are
    then the same as in a full read. Its exact repeats share the key, so the repeats that fewer columns make
    look exact are dropped as repeated keys, the first row kept either way; totals rows are found in its key;
    a row empty in the columns read but not in the others has a blank key, which a full read refuses. Any other
    table (its exact repeats decide which rows are kept) is read whole. Always read besides ``wanted``: the
    required columns and the key; and every column of a kind (date, number) when one of that kind is wanted,
    as the file's date layout and decimal mark are detected over all of them together.
    """
    if wanted is None or name not in KEYS:
        return None
    kinds = TABLE_COLUMNS[name]
    unknown = sorted(set(wanted) - set(kinds))
    if unknown:
        raise ValueError(f"{name} has no column {unknown[0]!r}; its columns are {list(kinds)}")
    out = {*wanted, *REQUIRED[name], KEYS[name]}
    for kind in ("date", "number"):
        if any(kinds[c] == kind for c in out):
            out |= {c for c, k in kinds.items() if k == kind}
    return out


def load_tables(data_spec: Mapping[str, Any], *, base_dir: Path, as_of: Any = None,
                currency: str = "TRY", columns: Mapping[str, Collection[str]] | None = None
                ) -> dict[str, ValidTable]:
    """Read and validate every table named in ``data_spec`` (``params["data"]``); orders is required.

    Also notes order lines whose customer is missing from the customers table. Raises
    :class:`~crmlib.errors.DataError` on the first unusable problem and :class:`~crmlib.errors.ParamsError`
    for an unknown table name.

    ``columns``: per table, the columns (our names) its readers use (a run of some notebooks); a table that
    :func:`columns_to_read` allows to read in part is read and checked in those columns only, the others named
    in :attr:`ValidTable.unread`. ``None`` (``validate``, a full run): every mapped column of every table.
    """
    specs = {name: ({"path": spec} if isinstance(spec, (str, Path)) else spec)  # `table: path` shorthand
             for name, spec in (data_spec or {}).items() if spec}
    for name in specs:
        if name not in TABLE_COLUMNS:
            hint = did_you_mean(name, TABLE_COLUMNS)
            raise ParamsError(f"data.{name} is not a table of the workbook"
                              + (f" (did you mean {hint[0]!r}?)" if hint else "")
                              + f". What to do: use {list(TABLE_COLUMNS)}.")
    if "orders" not in specs:
        raise DataError("data.orders is missing: the order lines are required. What to do: add data.orders "
                        "with path and columns (customer_id, order_date, amount) to the params file.")
    def load(name: str) -> ValidTable:
        read = columns_to_read(name, (columns or {}).get(name))
        return validate_table(read_table(name, specs[name], base_dir=Path(base_dir), columns=read), as_of=as_of,
                              release=True, currency=currency)

    def load_each(names: list[str]) -> dict[str, ValidTable | BaseException]:
        done: dict[str, ValidTable | BaseException] = {}
        for name in names:  # in the params' order, up to the first table that fails
            try:
                done[name] = load(name)
            except BaseException as err:  # noqa: BLE001 - raised below, in the params' order
                done[name] = err
                break
        return done

    others = [name for name in specs if name != "orders"]
    if PARALLEL_TABLES and others:
        # The other tables are read and checked in a second thread while this one does the orders (Parquet
        # reading and the Arrow/numpy kernels release the GIL). Errors are raised as one after the other would:
        # the first failing table in the params' order.
        with ThreadPoolExecutor(max_workers=1) as pool:
            background = pool.submit(load_each, others)
            results = load_each(["orders"])
            results.update(background.result())
    else:
        results = load_each(list(specs))
    tables = {}
    for name in specs:
        if name not in results:
            continue
        if isinstance(results[name], BaseException):
            raise results[name]
        tables[name] = results[name]
    distinct = _Distinct(tables)
    found = _match_ids(tables, distinct)
    customers = tables.get("customers")
    if customers is not None and not customers.frame.empty:
        orders = tables["orders"]
        ids = distinct("orders", "customer_id")  # the orders' customer ids are never blank (required)
        held = found.get(("customers", "customer_id"))
        unknown = ids[~(held if held is not None else textops.isin(ids, customers.frame["customer_id"]))]
        zeros = unknown
        if len(unknown):
            known = distinct("customers", "customer_id")
            zeros = unknown[textops.isin(rules.strip_zeros_series(unknown), rules.strip_zeros_series(known))]
        if len(zeros):
            raise data_error("customers", customers.path, f"{len(zeros)} customer codes of the orders match this "
                             "table's only when leading zeros are ignored, and not one to one (some codes exist "
                             f"with and without zeros), e.g. {list(zeros.head(MAX_EXAMPLES))}.",
                             "write the codes the same way in both files (in Excel: format the code column as "
                             "Text, or as 00000 so that the zeros show).", column="customer_id",
                             source=customers.source_columns.get("customer_id"))
        if len(unknown):
            orders.notes.append(Note("orders", "customer_id", "unknown_customers", len(unknown),
                                     f"{len(unknown)} customers in orders are not in the customers table",
                                     [(0, v) for v in unknown.head(MAX_EXAMPLES)]))
    return tables


def analysis_date(orders: ValidTable, dates: pd.Series, *, as_of: Any,
                  today: Any = None) -> tuple[pd.Timestamp, Note | None]:
    """Return the analysis date for ``orders`` and the note on lines after today (see :func:`rules.analysis_date`).

    ``dates`` are the order dates of ``orders.frame`` (same rows).
    """
    where = f" (file {str(orders.path)!r})"
    return rules.analysis_date(dates, orders.lines, as_of=as_of, today=today, where=where)
