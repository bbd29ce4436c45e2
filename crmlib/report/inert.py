"""Exports that stay inert when a spreadsheet opens them (no formula injection from customer-supplied text).

A customer's name is typed by the customer (a web-shop sign-up, an ERP card); Excel and LibreOffice evaluate a
CSV field or an XLSX formula cell that starts with ``=`` (and, in a CSV, ``+``, ``-``, ``@``, tab or carriage
return), so ``=HYPERLINK(...)`` or a DDE payload in a name would run on a sales rep's machine ("CSV injection",
OWASP: https://owasp.org/www-community/attacks/CSV_Injection).

- CSV (:func:`neutralise_frame`): a text field that starts with one of :data:`FORMULA_TRIGGERS` is written with a
  leading apostrophe, the rule OWASP gives; numeric, boolean and date columns keep their values. Phone columns
  (:data:`PHONE_COLUMNS`) also get the apostrophe when Excel would otherwise read the number as a number
  (``905321234567`` shown as ``9.05E+11``, a leading ``0`` dropped): the digits and the ``+`` stay, so campaign
  tools that keep digits (or parse with libphonenumber) read the same number.
- XLSX (:func:`inert_sheet`): every text cell is stored as a string (openpyxl would store ``=...`` as a formula),
  with Excel's quote prefix when it starts with a trigger, so editing the cell in Excel keeps it text too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: a field starting with one of these is read as a formula by Excel or LibreOffice (OWASP's list)
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
#: columns holding phone numbers: written so that Excel shows them as text, never as a number
PHONE_COLUMNS: frozenset[str] = frozenset({"phone", "mobile", "telefon"})


def neutralise(value: Any, *, phone: bool = False) -> Any:
    """Return ``value`` with a leading apostrophe when a spreadsheet would evaluate it; other values as given.

    Parameters
    ----------
    value
        A CSV field; only strings are changed.
    phone
        The value is a phone number: also prefixed when Excel would read it as a number.
    """
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    if phone and value.isdigit():  # Excel would show 905321234567 as 9.05E+11 and drop a leading 0
        return "'" + value
    return value


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series) or isinstance(
        series.dtype, pd.CategoricalDtype)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with every text column's fields neutralised (:func:`neutralise`) for a CSV export.

    Numeric, boolean and date columns are left as they are (a negative amount stays a number). Each distinct
    value of a column is checked once (a million-row export repeats its ids, names and codes), and only the
    fields that change are replaced.
    """
    out = frame
    for col in frame.columns:
        series = frame[col]
        if not _is_text(series):
            continue
        phone = str(col).strip().lower() in PHONE_COLUMNS
        if (not phone and isinstance(series.dtype, pd.StringDtype)
                and not series.str.startswith(FORMULA_TRIGGERS).fillna(False).any()):
            continue  # text only, none starting with a trigger: nothing to change (one Arrow pass)
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        values = np.asarray(uniques, dtype=object)
        fixed = np.array([neutralise(v, phone=phone) for v in values] + [None], dtype=object)[:-1]
        hit = np.fromiter((a is not b for a, b in zip(fixed, values, strict=True)), dtype=bool, count=len(values))
        if not hit.any():
            continue
        rows = np.flatnonzero((codes >= 0) & hit[np.maximum(codes, 0)])
        changed = series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series.copy()
        changed.iloc[rows] = fixed[codes[rows]]
        if out is frame:
            out = frame.copy()
        out[col] = changed
    return out


def inert_sheet(sheet: Any) -> int:
    """Make every text cell of an openpyxl worksheet a plain string; return how many cells were changed.

    openpyxl stores a string that starts with ``=`` as a formula; such cells become strings again. Text that
    starts with a formula trigger also gets Excel's quote prefix (``'``, not part of the value), so a user
    editing the cell in Excel cannot turn it into a formula either. Numbers and dates are not touched.
    """
    changed = 0
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f" or (cell.data_type == "s" and isinstance(cell.value, str)
                                         and cell.value.startswith(FORMULA_TRIGGERS)):
                cell.data_type = "s"
                cell.quotePrefix = True
                changed += 1
    return changed
