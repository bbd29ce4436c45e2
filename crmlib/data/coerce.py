"""Turn the text columns of an export into typed arrays, vectorised with pyarrow.

Each function takes one column (a pandas Series: text as read, or already typed by Parquet/Excel) and
returns a :class:`Coerced`: the typed values plus a boolean mask of the cells that were not blank but could
not be read (``bad``), so that ``crmlib.data.validate`` can name their rows. Dates are parsed once per distinct
value (a year of daily orders has a few hundred distinct dates, whatever the number of lines).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crmlib.data import textops

#: Values that mean "no value" in exports (compared after trimming; lower, UPPER or Title case).
NULL_TOKENS: tuple[str, ...] = ("", "null", "nan", "none", "nat", "n/a", "#n/a", "na")
#: Plausible calendar years: outside them a date is an ERP placeholder (01.01.0001) or a typo.
MIN_YEAR, MAX_YEAR = 1900, 2100
#: Time layouts tried after the date part, in order.
TIME_SUFFIXES: tuple[str, ...] = ("", " %H:%M:%S", " %H:%M", "T%H:%M:%S", "T%H:%M", " %H:%M:%S.%f",
                                  "T%H:%M:%S.%f", " %H:%M:%S %z", " %H:%M:%S%z", "T%H:%M:%S%z", " %H:%M %z",
                                  "T%H:%M%z", "T%H:%M:%S.%f%z", " %H:%M:%S.%f%z")
#: Excel's day zero (serial 1 = 1900-01-01, counting the 1900 leap day Lotus invented).
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: Marker formats of crmlib.data.sniff.DATE_LAYOUTS handled here rather than by strptime.
SERIAL_FORMAT, MONTH_NAME_FORMAT = "excel-serial", "%d %B %Y"
#: Currency marks found inside amounts, and the code each means.
CURRENCY_MARKS: dict[str, str] = {"TL": "TRY", "TRY": "TRY", "YTL": "TRY", "₺": "TRY", "USD": "USD", "US$": "USD",
                                  "$": "USD", "EUR": "EUR", "EURO": "EUR", "€": "EUR", "GBP": "GBP", "£": "GBP",
                                  "CHF": "CHF", "RUB": "RUB", "JPY": "JPY", "CNY": "CNY", "AED": "AED",
                                  "SAR": "SAR"}
_CURRENCY_RE = re.compile(r"(?i)(?<![A-Za-z])(US\$|YTL|TRY|TL|USD|EURO|EUR|GBP|CHF|RUB|JPY|CNY|AED|SAR)(?![A-Za-z])|([₺$€£])")
BOOL_WORDS: dict[str, bool] = {
    "1": True, "0": False, "true": True, "false": False, "yes": True, "no": False, "y": True, "n": False,
    "evet": True, "hayır": False, "hayir": False, "e": True, "h": False, "doğru": True, "yanlış": False,
    "var": True, "yok": False, "x": True, "1.0": True, "0.0": False,
}
TR_MONTHS = ("ocak", "şubat", "mart", "nisan", "mayıs", "haziran", "temmuz", "ağustos", "eylül", "ekim",
             "kasım", "aralık")
EN_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@dataclass
class Coerced:
    """Typed values of one column and the cells that could not be read."""

    values: pd.Series
    bad: np.ndarray  # bool: not blank, not readable
    impossible: np.ndarray | None = None  # dates only: right layout, no such day (31.02.2024)
    read_as: dict[str, int] = field(default_factory=dict)  # how many cells were read in a noted way
    currency: pd.Series | None = None  # numbers only: the currency code written inside each value, if any


def as_arrow(series: pd.Series) -> pa.ChunkedArray:
    """Return ``series`` as a pyarrow chunked array (zero-copy for pyarrow-backed text)."""
    if isinstance(series.array, pd.arrays.ArrowStringArray) or hasattr(series.array, "_pa_array"):
        return pa.chunked_array(series.array.__arrow_array__())
    arr = pa.array(series.to_numpy(dtype=object) if series.dtype == object else series, from_pandas=True)
    return pa.chunked_array([arr])


def text_cells(series: pd.Series) -> pd.Series:
    """Return the text cells of a column (a workbook column mixing cell types keeps only its text)."""
    if series.dtype != object:
        return series
    return series.map(lambda v: v if isinstance(v, str) else None).astype("str")


def cell_kinds(series: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the masks of number, date and text cells of an ``object`` column read from a workbook."""
    values = series.to_numpy(dtype=object)
    kinds = np.fromiter((0 if isinstance(v, str) else 1 if isinstance(v, (int, float, np.number))
                         and not isinstance(v, (bool, np.bool_)) else 2 if isinstance(v, dt.date) else 3
                         for v in values), dtype=np.int8, count=len(values))
    return kinds == 1, kinds == 2, kinds == 0


def is_text(series: pd.Series) -> bool:
    """Return whether ``series`` holds text (rather than numbers or dates typed by the file)."""
    return pd.api.types.is_string_dtype(series.dtype) or series.dtype == object


_NULL_SPELLINGS = pa.array(sorted({v for t in NULL_TOKENS for v in (t, t.upper(), t.title())}
                                  | {"NaN", "NaT", "N/A", "#N/A"}))


def blank_to_null(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    """Trim whitespace and turn the null tokens (``''``, ``NULL``, ``nan`` ...) into nulls."""
    trimmed = pc.utf8_trim_whitespace(arr)
    is_null_token = pc.is_in(trimmed, value_set=_NULL_SPELLINGS)
    if not pc.any(is_null_token).as_py():
        return trimmed
    return pc.if_else(is_null_token, pa.scalar(None, trimmed.type), trimmed)


def _text_series(arr: pa.ChunkedArray | pa.Array, index: pd.Index) -> pd.Series:
    return arr.to_pandas().set_axis(index).astype("str")  # by position: the index may skip dropped rows


def _mask(arr: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def encode(arr: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """Return the distinct values of ``arr`` and each row's code into them (-1 for null)."""
    if len(arr) == 0:
        return pa.array([], pa.string()), np.zeros(0, dtype=np.int64)
    encoded = pc.dictionary_encode(arr).unify_dictionaries()
    dictionary = encoded.chunk(0).dictionary
    codes = np.concatenate([pc.fill_null(chunk.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
                            for chunk in encoded.chunks])
    return dictionary, codes


def _by_distinct(arr: pa.ChunkedArray, clean: Any) -> tuple[pa.Array, np.ndarray]:
    """Apply ``clean`` (string array → string array) to the distinct values only; return rows and codes.

    A few thousand distinct names or flags are cleaned instead of every row; the codes identify equal
    cleaned values (-1 for missing).
    """
    dictionary, codes = encode(arr)
    cleaned = clean(dictionary)
    recoded = pc.dictionary_encode(cleaned)
    remap = pc.fill_null(recoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    final = np.where(codes >= 0, remap[np.maximum(codes, 0)] if len(remap) else -1, -1)
    if not len(final):
        return pa.array([], pa.string()), final
    rows = pc.take(recoded.dictionary, pa.array(final, mask=final < 0))
    return rows, final


def cell_text(value: Any) -> Any:
    """Return a workbook cell as the text Excel's General format shows (``12``, ``23566.05``, ``2024-03-01``)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return f"{value:.0f}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if (value.hour, value.minute, value.second) != (0, 0, 0) \
            else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _as_text_arrow(series: pd.Series) -> pa.ChunkedArray:
    if series.dtype == object:
        series = series.map(cell_text).astype("str")
    if not is_text(series):
        series = series.astype("str").where(series.notna())
    arr = as_arrow(series)
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return arr
    return pc.cast(arr, pa.string())


def _whole_floats_as_text(series: pd.Series) -> pd.Series:
    """Return a float column whose values are all whole (Excel's 1001.0, 5321234567.0) as digits."""
    values = series.to_numpy(dtype=float, na_value=np.nan)
    finite = np.isfinite(values)
    whole = finite & (values == np.round(values))
    if whole.sum() != finite.sum():
        return series
    digits = pd.Series(np.where(whole, values, 0).astype(np.int64), index=series.index).astype("str")
    return digits.where(whole)


_STR = pd.Series([], dtype="str").dtype


def _clean_already(series: pd.Series) -> bool:
    """Return whether :func:`blank_to_null` would leave the Arrow text ``series`` as it is (and its dtype is
    already ``str``): the exact trim runs only on the rows a byte-level look cannot clear."""
    if series.dtype != _STR:
        return False
    suspects = textops.untrimmed_rows(series)
    if suspects is None:
        return False
    if suspects.any():
        text = textops.arrow_text(series).filter(pa.array(suspects))
        if not blank_to_null(text).equals(text):
            return False
    return True


def to_text(series: pd.Series) -> Coerced:
    """Return trimmed text with blanks as missing (whole numbers from Excel without ``.0``)."""
    if _clean_already(series):
        return Coerced(series, np.zeros(len(series), dtype=bool))
    if pd.api.types.is_float_dtype(series.dtype):
        series = _whole_floats_as_text(series)
    rows = blank_to_null(_as_text_arrow(series))  # vector kernels: no gain from cleaning distinct values only
    return Coerced(_text_series(rows, series.index), np.zeros(len(series), dtype=bool))


_FLOAT_LIKE = r"^-?\d+\.0+$"


def _float_like_head(values: pa.ChunkedArray) -> bool:
    """Return whether the first 1,000 filled values all look like ``1001.0`` (cheap test first: most id columns
    are not float-like)."""
    head = values.slice(0, 1000).drop_null()
    return bool(len(head)) and bool(pc.all(pc.match_substring_regex(head, _FLOAT_LIKE)).as_py())


def _strip_float_zero(values: pa.ChunkedArray) -> pa.ChunkedArray:
    values = blank_to_null(values)
    if not _float_like_head(values):
        return values
    if pc.all(pc.match_substring_regex(values, _FLOAT_LIKE)).as_py():
        values = pc.replace_substring_regex(values, r"\.0+$", "")
    return values


def to_ids(series: pd.Series) -> Coerced:
    """Return identifiers as text: trimmed, and ``1001.0`` (a number that passed through Excel) → ``1001``.

    The ``.0`` is removed only when every value of the column has it, so an id such as ``10.0`` in a
    column of text codes is kept as written.
    """
    if _clean_already(series) and not _float_like_head(textops.arrow_text(series)):
        return Coerced(series, np.zeros(len(series), dtype=bool))
    if pd.api.types.is_float_dtype(series.dtype):
        series = _whole_floats_as_text(series)
    rows = _strip_float_zero(_as_text_arrow(series))
    return Coerced(_text_series(rows, series.index), np.zeros(len(series), dtype=bool))


def number_pattern(decimal: str, thousands: str | None) -> str:
    """Return the regex a cleaned number must match with this decimal mark and thousands separator."""
    d = re.escape(decimal)
    grouped = rf"\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+|" if thousands else ""
    exponent = r"(?:[eE][+-]?\d+)?" if decimal == "." else ""
    return rf"^[+-]?(?:(?:{grouped}\d+)(?:{d}\d*)?|{d}\d+){exponent}$"


def to_numbers(series: pd.Series, *, decimal: str, thousands: str | None) -> Coerced:
    """Return float64 values read with ``decimal`` and ``thousands``.

    Accepts currency marks (``TL``, ``₺``), spaces, accounting negatives ``(12,50)`` and the trailing minus
    of SAP exports (``12,50-``); a value that does not match the convention (``12.5`` in a decimal-comma
    file, ``1.2.3``) is bad rather than guessed.
    """
    if not is_text(series):
        values = pd.to_numeric(series, errors="coerce").astype("float64")
        return Coerced(values, np.zeros(len(series), dtype=bool))
    if series.dtype == object:  # a workbook column mixing number and text cells: each read by its type
        number, date, _ = cell_kinds(series)
        if number.any() or date.any():
            sub = to_numbers(text_cells(series), decimal=decimal, thousands=thousands)
            values = sub.values.to_numpy(copy=True)
            values[number] = pd.to_numeric(series[number], errors="coerce").to_numpy(dtype="float64")
            return Coerced(pd.Series(values, index=series.index), sub.bad | date, currency=sub.currency)
        series = series.astype("str")
    pattern = number_pattern(decimal, thousands)
    arr = as_arrow(series)
    empty = pc.equal(arr, "")
    if pc.any(empty).as_py():  # blank cells are missing values, not bad ones
        arr = pc.if_else(empty, pa.scalar(None, arr.type), arr)
    fast = _fast_check(arr, decimal, thousands)
    if fast is not None:
        values, ok = fast
        values[~ok] = np.nan
    else:
        ok = _mask(pc.match_substring_regex(arr, pattern))
        values = _convert(arr if ok.all() else pc.if_else(pa.array(ok), arr, pa.scalar(None, arr.type)),
                          decimal, thousands)
    bad = np.zeros(len(series), dtype=bool)
    todo = np.flatnonzero(~ok & _mask(pc.is_valid(arr)))
    if len(todo):  # the few values that need cleaning: blanks, spaces, currency, (12,50), 12,50-
        sub = blank_to_null(arr.take(pa.array(todo)))
        sub = pc.replace_substring_regex(sub, r"(?i)[\s\x{00a0}\x{202f}']|TL|TRY|₺|EUR|USD|€|\$", "")
        sub = pc.replace_substring_regex(sub, r"^\((.*)\)$", r"-\1")  # accounting negative (12,50)
        sub = pc.replace_substring_regex(sub, r"^([^-]+)-$", r"-\1")  # SAP's trailing minus 12,50-
        sub_ok = _mask(pc.match_substring_regex(sub, pattern))
        bad[todo] = ~sub_ok & _mask(pc.is_valid(sub))
        sub = pc.if_else(pa.array(sub_ok), sub, pa.scalar(None, sub.type))
        values[todo] = _convert(sub, decimal, thousands)
    return Coerced(pd.Series(values, index=series.index, dtype="float64"), bad,
                   currency=currency_codes(arr) if len(todo) else None)


def currency_codes(arr: pa.ChunkedArray) -> pd.Series | None:
    """Return the currency code written inside each value (``1.234,56 USD`` → USD, ``₺12`` → TRY), or None.

    Looked up once per distinct value; None when no value carries a currency mark.
    """
    marked = pc.match_substring_regex(arr, r"[A-Za-z₺$€£]")
    if not pc.any(marked).as_py():
        return None
    dictionary, codes = encode(arr)

    def code(value: Any) -> Any:
        if not isinstance(value, str):
            return None
        match = _CURRENCY_RE.search(value)
        return CURRENCY_MARKS.get((match.group(1) or match.group(2)).upper()) if match else None

    found = np.array([code(v) for v in dictionary.to_pylist()] + [None], dtype=object)
    return pd.Series(found[codes], dtype=object)


def _fast_check(arr: pa.ChunkedArray, decimal: str,
                thousands: str | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Return (values, mask of well-formed numbers) cheaply, or None when the full regex check is needed.

    When every value converts (digits, one decimal mark, thousands marks) only the values holding a
    thousands mark need the grouping regex: ten million amounts are checked in a fraction of the time.
    """
    if decimal != "." and pc.any(pc.match_substring(arr, "e", ignore_case=True)).as_py():
        return None  # 1e5 is a number to the cast, not in a decimal-comma file
    try:
        values = _convert(arr, decimal, thousands)
    except (pa.ArrowInvalid, ValueError):
        return None
    ok = np.isfinite(values) | ~_mask(pc.is_valid(arr))
    if thousands:
        grouped = _mask(pc.match_substring(arr, thousands))
        if grouped.any():
            idx = pa.array(np.flatnonzero(grouped))
            pattern = number_pattern(decimal, thousands)
            ok[np.flatnonzero(grouped)] &= _mask(pc.match_substring_regex(arr.take(idx), pattern))
    if decimal != "." and thousands != ".":  # the cast would read 12.5 in a decimal-comma file
        ok &= ~_mask(pc.match_substring(arr, "."))
    return values, ok


def _convert(arr: pa.ChunkedArray | pa.Array, decimal: str, thousands: str | None) -> np.ndarray:
    """Return float64 values of numbers that already match the convention (nulls → NaN)."""
    if thousands:
        arr = pc.replace_substring(arr, thousands, "")
    if decimal != ".":
        arr = pc.replace_substring(arr, decimal, ".")
    return np.array(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), dtype="float64")


_MONTH_NAME = re.compile(r"^\s*(\d{1,2})[ .\-/]+([^\W\d_]+)\.?[ .\-/]+(\d{4})(.*)$")


def _month_number(name: str) -> int | None:
    name = name.replace("İ", "i").replace("I", "ı").lower()
    for names in (TR_MONTHS, EN_MONTHS):
        for i, full in enumerate(names):
            if name == full or (len(name) >= 3 and full.startswith(name)):
                return i + 1
    plain = name.translate(str.maketrans("çğıöşü", "cgiosu"))
    for i, full in enumerate(TR_MONTHS):
        if plain == full.translate(str.maketrans("çğıöşü", "cgiosu")):
            return i + 1
    return None


def _month_names_to_numbers(texts: pd.Series) -> pd.Series:
    """Return ``27 Kasım 2025 10:00`` as ``27.11.2025 10:00`` (Turkish or English month names); else None."""
    def one(value: Any) -> Any:
        match = _MONTH_NAME.match(value) if isinstance(value, str) else None
        month = _month_number(match.group(2)) if match else None
        return f"{match.group(1)}.{month}.{match.group(3)}{match.group(4)}" if month else None

    return texts.map(one)


def excel_serials(values: pd.Series) -> pd.Series:
    """Return Excel serial day numbers (``45422`` = 2024-05-10, fractions are the time) as timestamps."""
    days = pd.to_numeric(values, errors="coerce").astype("float64")
    return (EXCEL_EPOCH + pd.to_timedelta(days.round(6), unit="D")).astype("datetime64[us]")


def _parse_unique(texts: pd.Series, fmt: str, timezone: str | None = None) -> pd.Series:
    """Parse distinct date strings with ``fmt`` and its time variants; NaT where none fits.

    Values with a UTC offset (``+0300``, ``Z``) are converted to ``timezone`` and keep its wall time.
    """
    out = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[us]")  # us: year 1 fits, ns does not
    if fmt == SERIAL_FORMAT:
        plain = texts.where(texts.str.fullmatch(r"\s*\d+(?:\.\d+)?\s*").fillna(False).astype(bool))
        return excel_serials(plain)
    if fmt == MONTH_NAME_FORMAT:
        texts, fmt = _month_names_to_numbers(texts), "%d.%m.%Y"
    todo = texts.notna()
    for suffix in ("",) if "%z" in fmt else TIME_SUFFIXES:
        if not todo.any():
            break
        full = fmt + suffix
        if "%z" in full:
            parsed = pd.to_datetime(texts[todo], format=full, errors="coerce", utc=True)
            parsed = parsed.dt.tz_convert(timezone or "UTC").dt.tz_localize(None)
        else:
            parsed = pd.to_datetime(texts[todo], format=full, errors="coerce")
        out.loc[parsed.index] = parsed.astype("datetime64[us]")
        todo &= out.isna()
    return out


def _plausible(values: pd.Series) -> pd.Series:
    low, high = values.min(), values.max()
    if pd.isna(low) or (low.year >= MIN_YEAR and high.year <= MAX_YEAR):
        return pd.Series(True, index=values.index)
    return values.isna() | ((values.dt.year >= MIN_YEAR) & (values.dt.year <= MAX_YEAR))


def to_dates(series: pd.Series, *, fmt: str | None, layout: str | None = None,
             timezone: str | None = None) -> Coerced:
    """Return datetime64[ns] values parsed with ``fmt`` (date part; a time may follow).

    ``bad`` marks values that do not follow the layout or fall outside 1900–2100; ``impossible`` those that
    follow it but name no real day (``31.02.2024``). ``layout`` is the regex of the date part, used to tell
    the two apart. Time-zone-aware values (Parquet, ``+0300`` offsets) are converted to ``timezone`` and
    keep its wall time; number cells of a workbook are Excel serial days. ``read_as`` counts both.
    """
    n = len(series)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        read_as = {}
        if getattr(series.dt, "tz", None) is not None:
            read_as["timezone"] = int(series.notna().sum())
            values = series.dt.tz_convert(timezone or "UTC").dt.tz_localize(None)
        else:
            values = series
        implausible = ~_plausible(values).to_numpy()
        if implausible.any():  # (a copy of 10M dates otherwise)
            values = values.where(~implausible)
        values = values.astype("datetime64[ns]")
        return Coerced(values, implausible, np.zeros(n, dtype=bool), read_as=read_as)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = excel_serials(series)
        implausible = (series.notna() & ~_plausible(values)).to_numpy() | (series.notna() & values.isna()).to_numpy()
        values = values.where(~implausible).astype("datetime64[ns]")
        return Coerced(values, implausible, np.zeros(n, dtype=bool),
                       read_as={"excel_serial": int(values.notna().sum())})
    if not is_text(series):
        bad = series.notna().to_numpy()
        return Coerced(pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]"), bad, np.zeros(n, bool))
    if series.dtype == object:
        number, date, text = cell_kinds(series)
        if number.any() or date.any():  # a workbook column mixing date, number and text cells
            sub = to_dates(text_cells(series), fmt=fmt, layout=layout, timezone=timezone)
            values = sub.values.copy()
            if date.any():
                values[date] = pd.to_datetime(series[date].map(
                    lambda v: v.tz_convert(timezone or "UTC").tz_localize(None)
                    if getattr(v, "tzinfo", None) else v)).astype("datetime64[ns]")
            read_as = dict(sub.read_as)
            bad = sub.bad.copy()
            if number.any():
                serial = to_dates(pd.to_numeric(series[number], errors="coerce"), fmt=None)
                values[number] = serial.values.to_numpy()
                bad[number] = serial.bad
                read_as["excel_serial"] = read_as.get("excel_serial", 0) + int(serial.values.notna().sum())
            return Coerced(values, bad, sub.impossible, read_as=read_as)
        series = series.astype("str")
    arr = blank_to_null(as_arrow(series))
    encoded = pc.dictionary_encode(arr).combine_chunks()
    uniques = pd.Series(encoded.dictionary.to_pandas(), dtype="str")
    parsed = _parse_unique(uniques, fmt, timezone) if fmt else pd.Series(pd.NaT, index=uniques.index,
                                                                        dtype="datetime64[us]")
    unparsed = parsed.isna().to_numpy()
    implausible = ~unparsed & ~_plausible(parsed).to_numpy()
    looks_right = np.zeros(len(uniques), dtype=bool)
    if layout and unparsed.any():
        parts = uniques[unparsed].str.extract(r"^\s*([^\sT]+)", expand=False)
        looks_right[unparsed] = parts.str.fullmatch(layout).fillna(False).to_numpy(dtype=bool)
    impossible_u = unparsed & looks_right
    failed_u = (unparsed & ~looks_right) | implausible
    parsed = parsed.where(~(unparsed | implausible)).astype("datetime64[ns]")
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    valid = ~np.asarray(encoded.indices.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    safe = np.where(valid, codes, 0).astype(np.int64)
    values = parsed.to_numpy()[safe] if len(uniques) else np.full(n, np.datetime64("NaT"), "datetime64[ns]")
    values = np.where(valid, values, np.datetime64("NaT"))
    failed_rows = valid & (failed_u[safe] if len(uniques) else False)
    impossible = valid & (impossible_u[safe] if len(uniques) else False)
    read_as = {}
    if fmt in (SERIAL_FORMAT, MONTH_NAME_FORMAT) or (fmt and "%z" in fmt):
        read_as[{SERIAL_FORMAT: "excel_serial", MONTH_NAME_FORMAT: "month_names"}.get(fmt, "offsets")] = int(
            (valid & ~failed_rows & ~impossible).sum())
    elif len(uniques):
        offsets = uniques.str.contains(r"(?:[+-]\d{2}:?\d{2}|Z)\s*$", regex=True).fillna(False).to_numpy(bool)
        if offsets.any():
            read_as["offsets"] = int(offsets[safe][valid].sum())
    return Coerced(pd.Series(values, index=series.index, dtype="datetime64[ns]"), failed_rows, impossible,
                   read_as=read_as)


def to_bools(series: pd.Series) -> Coerced:
    """Return nullable booleans from 1/0, true/false, evet/hayır, yes/no (any case)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return Coerced(series.astype("boolean"), np.zeros(len(series), dtype=bool))
    if FAST_BOOLS and pd.api.types.is_numeric_dtype(series.dtype) and len(series):
        # numbers (a Parquet 0/1 column): each distinct number read as its text (1 → "1", 1.0 → "1.0") once,
        # instead of writing every row as text; the same values and bad cells
        codes, distinct = pd.factorize(series, use_na_sentinel=True)
        sub = _bools_from_text(pd.Series(distinct, dtype=series.dtype))
        filled = codes >= 0
        values = sub.values.array.take(codes, allow_fill=True)
        bad = sub.bad[np.maximum(codes, 0)] & filled if len(distinct) else np.zeros(len(series), dtype=bool)
        return Coerced(pd.Series(values, index=series.index, dtype="boolean"), bad)
    return _bools_from_text(series)


#: Set to False to read every number of a yes/no column as text (the tests compare both).
FAST_BOOLS = True


def _bools_from_text(series: pd.Series) -> Coerced:
    rows, _ = _by_distinct(_as_text_arrow(series), blank_to_null)
    text = _text_series(rows, series.index)
    mapped = text.str.lower().map(BOOL_WORDS)
    bad = (text.notna() & mapped.isna()).to_numpy()
    return Coerced(mapped.astype("boolean"), bad)


def _month(value: str) -> pd.Timestamp | None:
    value = value.strip().lower()
    for pattern, order in ((r"(\d{4})[-/.](\d{1,2})(?:[-/.]\d{1,2})?(?:[ T].*)?", "ym"),
                           (r"(?:\d{1,2}[./-])?(\d{1,2})[./-](\d{4})", "my")):
        match = re.fullmatch(pattern, value)
        if match:
            a, b = int(match.group(1)), int(match.group(2))
            year, month = (a, b) if order == "ym" else (b, a)
            return pd.Timestamp(year, month, 1) if 1 <= month <= 12 and MIN_YEAR <= year <= MAX_YEAR else None
    match = re.fullmatch(r"([^\W\d]+)[ .\-/]+(\d{4})", value)
    if match:
        name = match.group(1)
        for names in (TR_MONTHS, EN_MONTHS):
            for i, full in enumerate(names):
                if name == full or (len(name) >= 3 and full.startswith(name)):
                    return pd.Timestamp(int(match.group(2)), i + 1, 1)
    return None


def to_months(series: pd.Series) -> Coerced:
    """Return the first day of the month from ``2024-03``, ``03.2024``, ``2024-03-15``, ``Mart 2024``."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series.astype("datetime64[ns]").dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")
        return Coerced(values, np.zeros(len(series), dtype=bool))
    if series.dtype == object:
        series = series.map(lambda v: v.isoformat(sep=" ") if isinstance(v, dt.date) else v)
    text = to_text(series.astype("str").where(series.notna())).values
    parsed = text.map(lambda v: _month(v) if isinstance(v, str) else None)
    values = pd.to_datetime(parsed).astype("datetime64[ns]")
    bad = (text.notna() & values.isna()).to_numpy()
    return Coerced(values, bad)
