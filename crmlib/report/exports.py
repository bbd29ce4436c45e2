"""Export files: CSV in UTF-8 with a byte-order mark (so that Excel shows Turkish letters) and the
workbook of action lists, one sheet per list.

CSV dialects (``report.csv_dialect``): ``excel-tr`` (``;`` between fields, decimal comma, ``dd.mm.yyyy``
dates: what Excel with Turkish regional settings opens by double-click; the default when the report language
is Turkish) and ``standard`` (``,``, decimal point, ISO dates; the default otherwise).

The workbook is for a sales rep: the suggested action and message come first, codes are translated, dates
are real dates shown ``dd.mm.yyyy``, money and percentages are numbers with a cell format (sortable and
summable), and every sheet has a filter row.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmlib.report import formatting, i18n, inert

SHEET_NAME_LIMIT = 31  # Excel's limit on sheet names
EXCEL_MAX_ROWS = 1_048_576  # Excel's limit on rows per sheet, header included
MAX_LIST_ROWS = 5000  # default of params report.max_list_rows
CSV_DIALECTS: dict[str, dict[str, str]] = {
    "excel-tr": {"sep": ";", "decimal": ",", "date_format": "%d.%m.%Y"},
    "standard": {"sep": ",", "decimal": ".", "date_format": "%Y-%m-%d"},
}

# Code columns of the action lists: the catalogue prefix naming each code, and the column that already
# holds the text (then the code column is left out of the workbook; the CSV keeps it for machines).
CODE_COLUMNS: dict[str, tuple[str | None, str | None]] = {
    "risk_level": ("churn.level", None),
    "risk_text": (None, "risk_level"),  # "Yüksek (%65)": the level and the score have their own columns
    "action_code": ("churn.action", "action_text"),
    "message_code": ("churn.message", "message_text"),
    "reasons": (None, "reasons_text"),
    "rfm_segment": ("seg.name", "segment"),
    "current_segment": ("seg.name", None),
    "previous_segment": ("seg.name", None),
    "abc_tier": ("seg.tier", None),
    "reason_code": (None, "reason"),
    "group": ("churn.group", None),
    "outcome": ("churn.outcome", None),
    "occasion": ("loy", None),
}
# What a rep reads first on every sheet.
LEADING_COLUMNS: tuple[str, ...] = ("action_text", "segment_action", "action", "message_text", "message")
# Columns holding money, shares (0–1) and day counts; other floats get one decimal.
MONEY_COLUMNS: frozenset[str] = frozenset({
    "amount", "value", "value_at_stake", "monetary", "clv", "revenue", "spend", "monthly_spend", "price",
    "list_price", "premium_price", "bundle_price", "expected_order_value", "avg_order_value", "early_amount",
    "last_year_amount", "gap_to_next", "next_threshold", "tier_monthly_spend", "monthly_discount_cost",
    "predicted_spend", "actual_spend", "mean_clv", "total_clv", "mean_revenue", "reward", "cac", "ltv", "margin",
    "revenue_window", "clv_p10", "clv_p90", "expected_value", "horizon_value", "discount_amount", "first_orders",
    "reward_payable", "reward_pending", "value_to_date", "revenue_per_month"})
# Name columns shown right after the code they name.
_NEXT_TO: dict[str, str] = {"customer_id": "name", "referrer_id": "name", "product_id": "product_name",
                            "premium_product_id": "premium_name"}
_SHARE = re.compile(r"(^|_)(share|rate|p_alive|probability|confidence|support|risk_score|precision|discount|uplift)(_|$)|^p_")


def csv_dialect(setting: str | None, lang: str) -> str:
    """The CSV dialect in use: ``report.csv_dialect`` when set, else ``excel-tr`` for Turkish, ``standard``."""
    if setting:
        if setting not in CSV_DIALECTS:
            raise ValueError(f"report.csv_dialect is {setting!r}; use one of {', '.join(CSV_DIALECTS)}")
        return setting
    return "excel-tr" if lang == "tr" else "standard"


def write_csv(frame: pd.DataFrame, path: Path, *, dialect: str = "standard") -> Path:
    """Write ``frame`` as UTF-8-with-BOM CSV in ``dialect`` (see :data:`CSV_DIALECTS`), atomically.

    Text fields a spreadsheet would evaluate get a leading apostrophe (:func:`crmlib.report.inert.neutralise`).
    The bytes are those of ``to_csv(path, encoding="utf-8-sig", lineterminator="\\r\\n", **dialect)`` on the
    neutralised frame (``tests/report/test_csv_floats.py``). A frame of text and float columns none of whose
    fields needs quoting (an export of ids and model figures) is written by Arrow's CSV writer from
    :func:`_arrow_text`; any other goes through pandas, float columns turned into their text first
    (:func:`_floats_as_text`). The byte-order mark is written once ahead of the text instead of by the
    ``utf-8-sig`` codec on every row.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    options = CSV_DIALECTS[csv_dialect(dialect, "en")]
    neutral = inert.neutralise_frame(frame)
    table = _arrow_text(neutral, options["sep"], options["decimal"])
    if table is not None:
        import pyarrow as pa
        from pyarrow import csv as pa_csv

        with pa.OSFile(str(tmp), "wb") as handle:
            handle.write(("\ufeff" + options["sep"].join(frame.columns) + "\r\n").encode("utf-8"))
            pa_csv.write_csv(table, handle, pa_csv.WriteOptions(
                include_header=False, delimiter=options["sep"], eol="\r\n", quoting_style="none"))
        os.replace(tmp, path)
        return path
    ready = _floats_as_text(neutral, options["decimal"])
    plain = _plain_text(ready, options["sep"])
    if plain is not None:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write("\ufeff")
            handle.write(plain)
        os.replace(tmp, path)
        return path
    ready = _texts_as_strings(ready)
    if ready.shape[1]:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write("\ufeff")
            ready.to_csv(handle, index=False, lineterminator="\r\n", **options)  # RFC 4180: a CR in a field is quoted
    else:
        ready.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n", **options)
    os.replace(tmp, path)
    return path


def _arrow_text(frame: pd.DataFrame, sep: str, decimal: str) -> Any:
    """The fields ``to_csv`` writes for a frame of text and float columns, as an Arrow table of text (blanks
    as nulls); None for any other frame (fewer than two columns, another dtype, an object column holding
    something other than text, a header or field holding the separator, a quote or a line break), which
    :func:`write_csv` then writes as before.

    float64 columns get :func:`float_columns_text` (Python's ``repr``, what pandas writes); text columns are
    taken as they are (pandas writes a missing text as a blank, as Arrow does a null). No field needs quoting,
    so Arrow's writer without quoting writes what the csv module would.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if frame.shape[1] < 2 or not all(isinstance(c, str) for c in frame.columns):
        return None
    special = (sep, '"', "\r", "\n")
    if any(ch in c for c in frame.columns for ch in special):
        return None
    arrays: list[Any] = [None] * frame.shape[1]
    floats: dict[int, np.ndarray] = {}
    for i in range(frame.shape[1]):
        series = frame.iloc[:, i]
        if series.dtype == np.float64:
            floats[i] = series.to_numpy()
            continue
        if not (isinstance(series.dtype, pd.StringDtype)
                or (series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) == "string")):
            return None
        try:
            array = pa.array(series, type=pa.string(), from_pandas=True)  # refuses anything but text and blanks
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            return None
        if any(pc.any(pc.match_substring(array, ch)).as_py() for ch in special):
            return None
        arrays[i] = array
    if floats:
        for i, array in zip(floats, float_columns_text(list(floats.values()), decimal), strict=True):
            arrays[i] = array
    return pa.table(arrays, names=[f"c{i}" for i in range(frame.shape[1])])


def float_columns_text(columns: list[np.ndarray], decimal: str = ".") -> list[Any]:
    """The text ``to_csv`` writes for the values of each float64 array, as Arrow string arrays (NaN a null).

    pandas writes a float as Python's ``repr`` (the shortest text that reads back as the same float; ``1e-05``,
    ``1e+16``, ``-0.0``, ``inf``), its ``.`` as ``decimal``. DuckDB's cast of a DOUBLE to VARCHAR writes that
    same text (checked on millions of values of every bit pattern in ``tests/report/test_csv_floats.py``), in
    C++: each distinct value of a column (by bit pattern, so ``-0.0`` keeps its sign) is cast once, all columns'
    in one query, and the texts are taken back to the rows by Arrow; a million values in about a tenth of a
    second instead of a second.
    """
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc

    if not columns:
        return []
    codes, uniques = [], []
    for values in columns:
        code, uniq = pd.factorize(np.ascontiguousarray(values, dtype=np.float64).view(np.int64), sort=False)
        codes.append(code)
        uniques.append(uniq.view(np.float64))
    source = pa.table({"x": pa.array(np.concatenate(uniques))})
    text = "x::VARCHAR" if decimal == "." else "replace(x::VARCHAR, '.', '" + decimal.replace("'", "''") + "')"
    con = duckdb.connect()
    try:
        con.register("source", source)
        result = con.sql(f"SELECT CASE WHEN isnan(x) THEN NULL ELSE {text} END AS x FROM source")
        table = result.to_arrow_table() if hasattr(result, "to_arrow_table") else result.arrow()
    finally:
        con.close()
    if table.num_rows != source.num_rows:  # one text per value, in order (a projection keeps the rows' order)
        raise RuntimeError("float formatting returned another number of rows")
    formatted = table.column("x").combine_chunks().cast(pa.string())
    out, start = [], 0
    for code, uniq in zip(codes, uniques, strict=True):
        out.append(pc.take(formatted.slice(start, len(uniq)), pa.array(code)))
        start += len(uniq)
    return out


def _plain_text(frame: pd.DataFrame, sep: str) -> str | None:
    """The CSV text ``to_csv`` writes for a frame of text columns none of whose fields needs quoting, joined in
    one pass; None for any other frame (fewer than two columns, a column that is not text, a header or field
    holding the separator, a quote or a line break), which ``to_csv`` then writes itself.

    Such fields are written as they are (the csv module quotes a field only for those characters, and a lone
    empty field, which two columns rule out); missing values are blank, lines end in CRLF.
    """
    if frame.shape[1] < 2 or not all(isinstance(c, str) for c in frame.columns):
        return None
    special = (sep, '"', "\r", "\n")
    if any(ch in c for c in frame.columns for ch in special):
        return None
    columns = []
    for i in range(frame.shape[1]):
        series = frame.iloc[:, i]
        if isinstance(series.dtype, pd.StringDtype):
            values = series.to_numpy(dtype=object, na_value="")
        elif series.dtype == object:  # e.g. :func:`_floats_as_text`'s columns: text only, or to_csv's turn
            values = series.to_numpy()
        else:
            return None
        try:
            joined = "\t".join(values)
        except TypeError:  # not all text (missing values, numbers, dates): to_csv formats those
            return None
        if any(ch in joined for ch in special):
            return None
        columns.append(values.tolist())
    lines = [sep.join(frame.columns), *map(sep.join, zip(*columns, strict=True))]
    return "\r\n".join(lines) + "\r\n"


def float_text(values: np.ndarray, decimal: str = ".") -> np.ndarray:
    """The text ``to_csv`` writes for each float64 value (``repr`` of the value, its ``.`` as ``decimal``; NaN
    blank), as an object array (:func:`float_columns_text`)."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    (text,) = float_columns_text([values], decimal)
    out = np.asarray(text.fill_null("").to_numpy(zero_copy_only=False), dtype=object)
    return out


def _floats_as_text(frame: pd.DataFrame, decimal: str) -> pd.DataFrame:
    """Float columns as the text ``to_csv`` writes for them (``to_csv`` formats floats with numpy's ``str``,
    one value at a time for a ``decimal`` other than ``.``: a minute for a million-row export).

    float64 columns go through :func:`float_text`; other float widths (float32: its own shortest text) through
    numpy's ``astype(str)``, with the first ``.`` made ``decimal``. Blanks stay blank; the columns hold Python
    text (object dtype), which :func:`_plain_text` joins as it is.
    """
    out = frame
    for i in range(frame.shape[1]):
        series = frame.iloc[:, i]
        if not isinstance(series.dtype, np.dtype) or series.dtype.kind != "f" or not len(series):
            continue  # an empty column has no text (and numpy's replace refuses an empty array)
        values = series.to_numpy()
        if values.dtype == np.float64:
            text = float_text(values, decimal)
        else:
            text = np.strings.replace(values.astype(str), ".", decimal, 1).astype(object)
            text[np.isnan(values)] = ""
        if out is frame:
            out = frame.copy()
        out.isetitem(i, pd.Series(text, index=frame.index, dtype=object))
    return out


def _texts_as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns holding only text (or blanks) as pandas' string dtype: the same fields, but ``to_csv``
    then writes them in one pass (with a ``date_format`` it looks at every object field for a date)."""
    out = frame
    for i in range(frame.shape[1]):
        series = frame.iloc[:, i]
        if series.dtype == object and len(series) and pd.api.types.infer_dtype(series, skipna=True) == "string":
            if out is frame:
                out = frame.copy()
            out.isetitem(i, series.astype("str"))
    return out


def column_label_key(column: str) -> str | None:
    """Catalogue key of a column's header: ``col.<name>``, else a practice's ``<practice>.col.<name>``."""
    if i18n.has(f"col.{column}"):
        return f"col.{column}"
    keys = sorted(k for k in i18n.catalogue() if k.endswith(f".col.{column}") and k.count(".") == 2)
    return keys[0] if keys else None


def localized_columns(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Rename the columns that have a label in the catalogue to that label in ``lang`` (unique headers)."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for column in frame.columns:
        key = column_label_key(str(column))
        label = i18n.t(key, lang) if key and not i18n.placeholders(i18n.t(key, lang)) else str(column)
        if label in used:
            label = f"{label} ({column})"
        used.add(label)
        mapping[column] = label
    return frame.rename(columns=mapping)


def sheet_title(name: str, lang: str) -> str:
    """Sheet title of an action list: ``sheet.<name>`` from the catalogue, else the name."""
    title = i18n.t(f"sheet.{name}", lang) if i18n.has(f"sheet.{name}") else name
    for bad in "[]:*?/\\":
        title = title.replace(bad, " ")
    return title[:SHEET_NAME_LIMIT]


def code_label(prefix: str, code: object, lang: str) -> object:
    """The catalogue's name for ``code`` under ``prefix`` (``churn.level`` + ``critical`` → ``Kritik``);
    a parenthetical that needs values (``Kopmuş ({days}+ gün)``) is dropped; unknown codes stay as they are."""
    if not isinstance(code, str) or not i18n.has(f"{prefix}.{code}"):
        return code
    text = i18n.catalogue()[f"{prefix}.{code}"][lang]
    text = re.sub(r"\s*\([^()]*\{[^{}]*\}[^()]*\)", "", text)
    return code if i18n.placeholders(text) else text


def readable_list(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """An action list as a rep reads it: action and message first, codes translated (their text twins kept),
    time zones dropped from dates. Column names stay canonical (headers are translated when written)."""
    out = frame.copy()
    for column, (prefix, twin) in CODE_COLUMNS.items():
        if column not in out.columns:
            continue
        if twin is not None and twin in out.columns:
            out = out.drop(columns=column)
        elif prefix is not None:
            out[column] = [code_label(prefix, v, lang) for v in out[column]]
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_localize(None)
    first = [c for c in LEADING_COLUMNS if c in out.columns]
    order = first + [c for c in out.columns if c not in first and c not in _NEXT_TO.values()]
    for code, name in _NEXT_TO.items():  # a name right after its code: the rep reads "KRT-006-S Kalem Seti"
        if name in out.columns and name not in order and (code in order or code == "referrer_id"):
            order.insert(order.index(code) + 1 if code in order else len(order), name)
    order += [c for c in out.columns if c not in order]
    return out[order]


def number_format(column: str, series: pd.Series, lang: str, currency: str = "TRY") -> str | None:
    """Excel number format of a column: dates ``dd.mm.yyyy``, money with its currency, shares as %."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return "dd.mm.yyyy" if lang == "tr" else "d mmm yyyy"
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return None
    if column in MONEY_COLUMNS:
        code = "TL" if currency.upper() in ("TRY", "TL") else currency.upper()
        return f'#,##0 "{code}"' if lang == "tr" else f'"{"TRY" if code == "TL" else code}" #,##0'
    if _SHARE.search(column):
        return "%0.0" if lang == "tr" else "0.0%"
    values = series.dropna()
    whole = pd.api.types.is_integer_dtype(series) or bool(len(values) and (values % 1 == 0).all())
    if whole or "days" in column or column in ("rank", "year", "years"):
        return "#,##0"
    return "#,##0.0"


def sheet_rows(max_rows: int | None) -> int:
    """Rows of data a sheet may hold: ``max_rows`` (default 5000), never more than Excel allows."""
    wanted = MAX_LIST_ROWS if max_rows is None else int(max_rows)
    return max(1, min(wanted, EXCEL_MAX_ROWS - 3))  # header, a blank row and the note fit too


def write_action_lists(lists: dict[str, pd.DataFrame], path: Path, *, lang: str, currency: str = "TRY",
                       max_rows: int | None = MAX_LIST_ROWS) -> Path | None:
    """Write every action list as a sheet of one ``.xlsx`` (see the module docstring for the layout).

    A sheet holds the first ``max_rows`` rows of its list (lists come highest priority first) and, when the
    list is longer, a note below them saying how many more rows its CSV holds; never more than Excel's
    1,048,576 rows.
    """
    cap = sheet_rows(max_rows)
    if not lists:
        return None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.xlsx")
    used: set[str] = set()
    with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
        for name in sorted(lists):
            title = sheet_title(name, lang)
            base, k = title, 2
            while title in used:
                title = f"{base[: SHEET_NAME_LIMIT - 3]} {k}"
                k += 1
            used.add(title)
            more = len(lists[name]) - cap
            frame = readable_list(lists[name].head(cap), lang)
            formats = [number_format(str(c), frame[c], lang, currency) for c in frame.columns]
            localized_columns(frame, lang).to_excel(writer, sheet_name=title, index=False)
            sheet = writer.sheets[title]
            inert.inert_sheet(sheet)  # text stays text, whatever it starts with
            for idx, col in enumerate(sheet.columns, start=1):
                cells = list(col)
                if formats[idx - 1]:
                    for cell in cells[1:]:
                        cell.number_format = formats[idx - 1]
                width = max(len(str(c.value)) if c.value is not None else 0 for c in cells[:200])
                if formats[idx - 1] and "yy" in formats[idx - 1]:
                    width = max(len(str(cells[0].value)), 11)
                sheet.column_dimensions[sheet.cell(row=1, column=idx).column_letter].width = min(60, width + 2)
            sheet.freeze_panes = "A2"
            last = sheet.cell(row=len(frame) + 1, column=max(len(frame.columns), 1)).coordinate
            sheet.auto_filter.ref = f"A1:{last}"  # the rows of the list, not the note below them
            if more > 0:
                sheet.cell(row=len(frame) + 3, column=1,
                           value=i18n.t("sheet.more_rows", lang, shown=formatting.number(len(frame), lang),
                                        more=formatting.number(more, lang), file=f"{name}.csv"))
    os.replace(tmp, path)
    return path
