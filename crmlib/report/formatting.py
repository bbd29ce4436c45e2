"""Numbers, money, percentages, dates, plurals and Turkish suffixes as a Turkish or English reader expects them.

Separators, percent patterns, month names and plural categories come from Babel (CLDR data for ``tr`` and
``en``); the spoken form of a number, from which a Turkish suffix takes its vowel, comes from num2words.

Turkish: ``1.234.567 TL``, ``%12,5``, ``31.12.2026``, ``Haziran 2026``; with suffixes ``8.644 TL'nin``,
``%27,2'si``, ``1.953'ü``, ``Haziran 2026'da``. English: ``TRY 1,234,567``, ``12.5%``, ``31 Dec 2026``,
``1 order`` / ``2 orders``.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import pandas as pd
from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from num2words import num2words

LOCALES: dict[str, str] = {"tr": "tr_TR", "en": "en"}
# Turkish business writing puts "TL" after the amount (CLDR's tr symbol is "₺", rarely used on invoices).
CURRENCY_SYMBOLS: dict[str, str] = {"TRY": "TL", "TL": "TL", "EUR": "€", "USD": "$", "GBP": "£"}


def _missing(x: Any) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(isinstance(x, float) and math.isnan(x)) or bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _locale(lang: str) -> str:
    return LOCALES.get(lang, lang)


def _pattern(digits: int) -> str:
    return "#,##0" + ("." + "0" * digits if digits > 0 else "")


def _rounded(x: Any, digits: int) -> float:
    value = round(float(x), max(digits, 0))
    return value + 0.0  # -0.0 → 0.0: a rounded-away minus sign is noise


def number(x: Any, lang: str, digits: int = 0) -> str:
    """Format a number with the language's thousands and decimal separators; missing → ``–``."""
    if _missing(x):
        return "–"
    return babel_numbers.format_decimal(_rounded(x, digits), format=_pattern(digits), locale=_locale(lang))


def money(x: Any, lang: str, currency: str = "TRY", digits: int = 0) -> str:
    """Format an amount of money: ``12.345 TL`` (tr) or ``TRY 12,345`` (en); other currencies by their symbol."""
    if _missing(x):
        return "–"
    code = currency.upper()
    value = _rounded(x, digits)
    body = number(value, lang, digits)
    if lang == "tr":
        return f"{body} {CURRENCY_SYMBOLS.get(code, code)}"
    if CURRENCY_SYMBOLS.get(code, code) == "TL" or code not in CURRENCY_SYMBOLS:  # like Babel's "-$1": sign first
        return f"{'-' if value < 0 else ''}{'TRY' if code == 'TL' else code} {number(abs(value), lang, digits)}"
    return babel_numbers.format_currency(value, code, format="¤" + _pattern(digits), locale=_locale(lang),
                                         currency_digits=False)


def compact_money(x: Any, lang: str, currency: str = "TRY") -> str:
    """Money in a few characters from a million up (chart ticks): ``60 Mn TL`` / ``TRY 60M``, ``2,8 Mr TL``;
    smaller amounts as :func:`money`."""
    if _missing(x) or abs(float(x)) < 1e6:
        return money(x, lang, currency)
    body = babel_numbers.format_compact_decimal(abs(float(x)), format_type="short", locale=_locale(lang),
                                                fraction_digits=1)
    sign = "-" if float(x) < 0 else ""
    code = currency.upper()
    symbol = CURRENCY_SYMBOLS.get(code, code)
    if lang == "tr":
        return f"{sign}{body} {symbol}"
    prefix = ("TRY" if symbol == "TL" else code) + " " if symbol == "TL" or code not in CURRENCY_SYMBOLS else symbol
    return f"{sign}{prefix}{body}"


@lru_cache(maxsize=16)
def _percent_pattern(lang: str, digits: int) -> str:
    base = Locale.parse(_locale(lang)).percent_formats[None].pattern  # tr "%#,##0", en "#,##0%"
    return base.replace("#,##0", _pattern(digits), 1)


def pct(x: Any, lang: str, digits: int = 1) -> str:
    """Format a share (0.125) as a percentage: ``%12,5`` (tr) or ``12.5%`` (en)."""
    if _missing(x):
        return "–"
    value = _rounded(100 * float(x), digits) / 100
    return babel_numbers.format_percent(value, format=_percent_pattern(lang, digits), locale=_locale(lang))


def date(x: Any, lang: str) -> str:
    """Format a date: ``31.12.2026`` (tr) or ``31 Dec 2026`` (en)."""
    if _missing(x):
        return "–"
    pattern = "dd.MM.yyyy" if lang == "tr" else "d MMM yyyy"
    return babel_dates.format_date(pd.Timestamp(x).date(), pattern, locale=_locale(lang))


def month(x: Any, lang: str, *, short: bool = False) -> str:
    """Format a month for a sentence: ``Haziran 2026`` / ``June 2026``; ``short=True`` (chart axes, table
    cells): ``Haz 2026`` / ``Jun 2026``."""
    if _missing(x):
        return "–"
    return babel_dates.format_date(pd.Timestamp(x).date(), "LLL yyyy" if short else "LLLL yyyy",
                                   locale=_locale(lang))


# -- plurals ------------------------------------------------------------------------------------------
def _as_decimal(value: Any, lang: str) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    match = re.search(r"-?\d[\d.,]*", str(value))
    if not match:
        return None
    try:
        return babel_numbers.parse_decimal(match.group(0).rstrip(".,"), locale=_locale(lang), strict=False)
    except (babel_numbers.NumberFormatError, InvalidOperation):
        return None


def plural_category(value: Any, lang: str) -> str:
    """CLDR plural category (``one``, ``other``, ...) of a number or of a formatted number's text."""
    number_ = _as_decimal(value, lang)
    if number_ is None:
        return "other"
    return Locale.parse(_locale(lang)).plural_form(number_)


def plural(value: Any, lang: str, forms: str) -> str:
    """Choose among ``forms`` (``"# order|# orders"``: one form per CLDR category of ``lang`` in the order
    one, other) by the number ``value``; ``#`` stands for the value as given (already formatted).

    Turkish nouns stay singular after a number ("3 sipariş"), so Turkish texts give one form.
    """
    options = forms.split("|")
    tags = Locale.parse(_locale(lang)).plural_form.tags
    order = [c for c in ("zero", "one", "two", "few", "many") if c in tags] + ["other"]
    chosen = dict(zip(order, options, strict=False)).get(plural_category(value, lang), options[-1])
    return chosen.replace("#", str(value))


# -- Turkish suffixes ---------------------------------------------------------------------------------
_VOWELS = "aeıioöuü"
_BACK = "aıou"
_VOICELESS = "fstkçşhp"  # "fıstıkçı şahap": d → t after these (2025'te, 40'ta)
_HIGH = {"a": "ı", "ı": "ı", "o": "u", "u": "u", "e": "i", "i": "i", "ö": "ü", "ü": "ü"}
# How Turkish readers spell out letters of an abbreviation (TL → "te le" → TL'nin, TL'de).
_LETTERS = {"A": "a", "B": "be", "C": "ce", "Ç": "çe", "D": "de", "E": "e", "F": "fe", "G": "ge", "Ğ": "yumuşak ge",
            "H": "he", "I": "ı", "İ": "i", "J": "je", "K": "ke", "L": "le", "M": "me", "N": "ne", "O": "o",
            "Ö": "ö", "P": "pe", "Q": "kü", "R": "re", "S": "se", "Ş": "şe", "T": "te", "U": "u", "Ü": "ü",
            "V": "ve", "W": "çift ve", "X": "iks", "Y": "ye", "Z": "ze"}
_SYMBOLS = {"€": "avro", "$": "dolar", "£": "sterlin", "₺": "lira"}
SUFFIXES: tuple[str, ...] = ("acc", "dat", "loc", "abl", "gen", "poss", "ins", "lik", "pl", "ki")
_NUMBER_AT_END = re.compile(r"(\d[\d.]*)(?:,(\d+))?\s*$")
_WORD_AT_END = re.compile(r"([^\W\d_]+)\W*$")


def _lower_tr(text: str) -> str:
    return text.replace("I", "ı").replace("İ", "i").lower()


def spoken_tr(text: str) -> str:
    """How a Turkish reader says the end of ``text``: ``"1.953"`` → ``"bin dokuz yüz elli üç"`` (as num2words
    writes it), ``"%27,2"`` → ``"... virgül iki"``, ``"8.644 TL"`` → ``"te le"``, ``"Haziran 2026"`` → the year."""
    stripped = str(text).strip().rstrip(")]\"'»”")
    if stripped and stripped[-1] in _SYMBOLS:
        return _SYMBOLS[stripped[-1]]
    found = _NUMBER_AT_END.search(stripped)
    if found:
        whole = int(found.group(1).replace(".", "") or 0)
        spoken = num2words(whole, lang="tr")
        if found.group(2) is not None:  # "27,05" is read "yirmi yedi virgül sıfır beş": the last digits count
            fraction = found.group(2)
            spoken += " virgül " + num2words(int(fraction), lang="tr")
        return spoken
    word = _WORD_AT_END.search(stripped)
    if not word:
        return ""
    token = word.group(1)
    if token.isupper() and len(token) <= 4:
        return " ".join(_LETTERS.get(ch, _lower_tr(ch)) for ch in token)
    return _lower_tr(token)


def _morpheme(stem: str, name: str, after_possessive: bool) -> str:
    vowels = [ch for ch in stem if ch in _VOWELS]
    last = vowels[-1] if vowels else "e"
    high, low = _HIGH[last], ("a" if last in _BACK else "e")
    end = stem[-1] if stem else "e"
    vowel_end = end in _VOWELS
    d = "t" if end in _VOICELESS and not after_possessive else "d"
    buffer_y = "n" if after_possessive else ("y" if vowel_end else "")
    if name == "poss":
        return ("s" if vowel_end else "") + high
    if name == "acc":
        return buffer_y + high
    if name == "dat":
        return buffer_y + low
    if name == "loc":
        return ("n" if after_possessive else "") + d + low
    if name == "abl":
        return ("n" if after_possessive else "") + d + low + "n"
    if name == "gen":
        return ("n" if vowel_end else "") + high + "n"
    if name == "ins":
        return ("y" if vowel_end else "") + "l" + low
    if name == "lik":
        return "l" + high + "k"
    if name == "pl":
        return "l" + low + "r"
    if name == "ki":
        return "ki"
    raise ValueError(f"unknown Turkish suffix {name!r}: use one or more of {', '.join(SUFFIXES)} joined by '+'")


def is_suffix_spec(spec: str) -> bool:
    """Whether ``spec`` names Turkish suffixes (``"poss+acc"``)."""
    return bool(spec) and all(part in SUFFIXES for part in spec.split("+"))


def suffix(text: Any, spec: str, lang: str = "tr") -> str:
    """Attach Turkish case suffixes to a number, amount, percentage, date or abbreviation, after an apostrophe.

    ``spec`` is one or more of ``acc`` (-ı: 1.953'ü), ``dat`` (-a: 10'a), ``loc`` (-da: 2026'da, 3'te),
    ``abl`` (-dan), ``gen`` (-ın: 8.644 TL'nin), ``poss`` (third-person -sı: %27,2'si), ``ins`` (-la),
    ``lik`` (-lık: %10'luk), ``pl`` (-lar), ``ki`` (2026'daki) joined by ``+`` (``poss+acc``: %63'ünü).
    The vowel and the buffer consonant follow the number as it is read aloud (num2words, ``lang="tr"``).
    Other languages get the text unchanged.
    """
    body = str(text)
    if lang != "tr" or body in ("", "–"):
        return body
    stem = spoken_tr(body).replace(" ", "")
    added = ""
    previous = ""
    for name in spec.split("+"):
        piece = _morpheme(stem + added, name, previous == "poss")
        added += piece
        previous = name
    return f"{body}'{added}"
