"""Export files: CSV in UTF-8 with a byte-order mark (so that Excel shows Turkish letters) and the
workbook of action lists, one sheet per list."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from crmlib import i18n

SHEET_NAME_LIMIT = 31  # Excel's limit on sheet names


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` as UTF-8-with-BOM CSV (ISO dates, ``.`` decimals), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    frame.to_csv(tmp, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d")
    os.replace(tmp, path)
    return path


def localized_columns(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Rename columns that have a ``col.<name>`` entry in the catalogue to their label in ``lang``."""
    mapping = {c: i18n.t(f"col.{c}", lang) for c in frame.columns if i18n.has(f"col.{c}")}
    return frame.rename(columns=mapping)


def sheet_title(name: str, lang: str) -> str:
    """Sheet title of an action list: ``sheet.<name>`` from the catalogue, else the name."""
    title = i18n.t(f"sheet.{name}", lang) if i18n.has(f"sheet.{name}") else name
    for bad in "[]:*?/\\":
        title = title.replace(bad, " ")
    return title[:SHEET_NAME_LIMIT]


def write_action_lists(lists: dict[str, pd.DataFrame], path: Path, *, lang: str) -> Path | None:
    """Write every action list as a sheet of one ``.xlsx`` (headers in the report language)."""
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
            frame = lists[name].copy()
            for col in frame.columns:
                if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
                    frame[col] = frame[col].dt.tz_localize(None)
            localized_columns(frame, lang).to_excel(writer, sheet_name=title, index=False)
            sheet = writer.sheets[title]
            for idx, col in enumerate(sheet.columns, start=1):
                width = max(len(str(c.value)) if c.value is not None else 0 for c in list(col)[:200])
                sheet.column_dimensions[sheet.cell(row=1, column=idx).column_letter].width = min(60, width + 2)
            sheet.freeze_panes = "A2"
    os.replace(tmp, path)
    return path
