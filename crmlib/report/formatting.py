"""Numbers, money, percentages and dates as a Turkish or English reader expects them.

Turkish: ``1.234.567,89 TL``, ``%12,5``, ``31.12.2026``. English: ``TRY 1,234,567.89``, ``12.5%``,
``31 Dec 2026``.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

CURRENCY_SYMBOLS: dict[str, str] = {"TRY": "TL", "TL": "TL", "EUR": "€", "USD": "$", "GBP": "£"}
_EN_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_TR_MONTHS = ["Oca", "Şub", "Mar", "Nis", "May", "Haz", "Tem", "Ağu", "Eyl", "Eki", "Kas", "Ara"]


def _missing(x: Any) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(isinstance(x, float) and math.isnan(x)) or bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def number(x: Any, lang: str, digits: int = 0) -> str:
    """Format a number with the language's thousands and decimal separators; missing → ``–``."""
    if _missing(x):
        return "–"
    text = f"{float(x):,.{digits}f}"
    if lang == "tr":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def money(x: Any, lang: str, currency: str = "TRY", digits: int = 0) -> str:
    """Format an amount of money: ``12.345 TL`` (tr) or ``TRY 12,345`` (en)."""
    if _missing(x):
        return "–"
    symbol = CURRENCY_SYMBOLS.get(currency.upper(), currency)
    body = number(abs(float(x)), lang, digits)
    sign = "-" if float(x) < 0 and body.strip("0.,") else ""
    if lang == "tr":
        return f"{sign}{body} {symbol}"
    code = currency.upper() if symbol == "TL" else symbol
    sep = " " if code.isalpha() else ""
    return f"{sign}{code}{sep}{body}"


def pct(x: Any, lang: str, digits: int = 1) -> str:
    """Format a share (0.125) as a percentage: ``%12,5`` (tr) or ``12.5%`` (en)."""
    if _missing(x):
        return "–"
    body = number(100 * float(x), lang, digits)
    return f"%{body}" if lang == "tr" else f"{body}%"


def date(x: Any, lang: str) -> str:
    """Format a date: ``31.12.2026`` (tr) or ``31 Dec 2026`` (en)."""
    if _missing(x):
        return "–"
    ts = pd.Timestamp(x)
    if lang == "tr":
        return ts.strftime("%d.%m.%Y")
    return f"{ts.day} {_EN_MONTHS[ts.month - 1]} {ts.year}"


def month(x: Any, lang: str) -> str:
    """Format a month: ``Ara 2026`` (tr) or ``Dec 2026`` (en)."""
    if _missing(x):
        return "–"
    ts = pd.Timestamp(x)
    names = _TR_MONTHS if lang == "tr" else _EN_MONTHS
    return f"{names[ts.month - 1]} {ts.year}"
