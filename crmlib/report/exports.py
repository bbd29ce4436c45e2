"""Export files: CSV in UTF-8 with a byte-order mark (so that Excel shows Turkish letters) and the
workbook of action lists, one sheet per list."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from crmlib.report import formatting, i18n, inert

SHEET_NAME_LIMIT = 31  # Excel's limit on sheet names
EXCEL_MAX_ROWS = 1_048_576  # Excel's limit on rows per sheet, header included
MAX_LIST_ROWS = 5000  # default of params report.max_list_rows


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` as UTF-8-with-BOM CSV (ISO dates, ``.`` decimals), atomically.

    Text fields a spreadsheet would evaluate get a leading apostrophe (:func:`crmlib.report.inert.neutralise`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    inert.neutralise_frame(frame).to_csv(tmp, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d",
                                         lineterminator="\r\n")  # RFC 4180: a CR in a field is quoted
    os.replace(tmp, path)
    return path


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


def sheet_rows(max_rows: int | None) -> int:
    """Rows of data a sheet may hold: ``max_rows`` (default 5000), never more than Excel allows."""
    wanted = MAX_LIST_ROWS if max_rows is None else int(max_rows)
    return max(1, min(wanted, EXCEL_MAX_ROWS - 3))  # header, a blank row and the note fit too


def write_action_lists(lists: dict[str, pd.DataFrame], path: Path, *, lang: str,
                       max_rows: int | None = MAX_LIST_ROWS) -> Path | None:
    """Write every action list as a sheet of one ``.xlsx`` (headers in the report language).

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
            frame = lists[name].head(cap).copy()
            for col in frame.columns:
                if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
                    frame[col] = frame[col].dt.tz_localize(None)
            localized_columns(frame, lang).to_excel(writer, sheet_name=title, index=False)
            sheet = writer.sheets[title]
            inert.inert_sheet(sheet)  # text stays text, whatever it starts with
            for idx, col in enumerate(sheet.columns, start=1):
                width = max(len(str(c.value)) if c.value is not None else 0 for c in list(col)[:200])
                sheet.column_dimensions[sheet.cell(row=1, column=idx).column_letter].width = min(60, width + 2)
            sheet.freeze_panes = "A2"
            if more > 0:
                sheet.cell(row=len(frame) + 3, column=1,
                           value=i18n.t("sheet.more_rows", lang, shown=formatting.number(len(frame), lang),
                                        more=formatting.number(more, lang), file=f"{name}.csv"))
    os.replace(tmp, path)
    return path
