"""Detect how a text export is written: encoding, separator, decimal mark, date order.

Every detector looks at evidence only and refuses to guess: when the evidence is missing or contradicts
itself it raises :class:`Undecided` with the values that made it hesitate, and the caller (``crmlib.data.read``)
turns that into one :class:`~crmlib.errors.DataError` naming the file, column, rows and the ``read:``
option that settles it. Explicit read options always win: these functions are only called for the options
left null.
"""

from __future__ import annotations

import codecs
import csv
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from crmlib.errors import fold_name

logger = logging.getLogger(__name__)

#: Bytes read from the top of a file to detect its encoding and separator (1 MiB: thousands of lines).
SAMPLE_BYTES = 1 << 20
#: Candidate separators, in order of preference when equally consistent (ERP exports in Turkey use ``;``).
SEPARATORS: tuple[str, ...] = (";", ",", "\t", "|")
#: Non-ASCII characters that may appear in Turkish business text besides letters (currency, punctuation).
_SYMBOLS = set("€£°²³½¼¾§©®±µ·«»–—‘’‚“”„•…™×÷¨´¸¡¿ ")
#: Share of non-ASCII characters that must be letters or the symbols above for cp1254 to be accepted.
CP1254_MIN_SENSIBLE = 0.9


class Undecided(Exception):
    """Detection found no safe answer; ``values`` holds the examples that show why."""

    def __init__(self, reason: str, *, values: Sequence[str] = (), option: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.values = list(values)
        self.option = option


# ---------------------------------------------------------------------------------------------- encoding


def detect_encoding(head: bytes, *, complete: bool) -> str:
    """Return the encoding of a text file from its first bytes.

    A byte-order mark decides (``utf-8-sig``, ``utf-16``); otherwise text that decodes as UTF-8 is UTF-8,
    and anything else must decode as cp1254 (Turkish Windows, what Excel and Turkish ERPs write) into
    mostly letters. ``complete`` says whether ``head`` is the whole file (else a multi-byte character
    cut at the end of the sample is ignored).
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        raise Undecided("the file contains NUL bytes: it is binary, or UTF-16 without a byte-order mark",
                        option="encoding")
    if not complete and b"\n" in head:
        head = head[: head.rindex(b"\n") + 1]
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = head.decode("cp1254")
    except UnicodeDecodeError as err:
        raise Undecided(f"the bytes are neither UTF-8 nor cp1254 (byte {head[err.start]:#04x} "
                        f"at offset {err.start})", option="encoding") from err
    if not sensible_text(text):
        odd = sorted({c for c in text if ord(c) > 127 and not c.isalpha() and c not in _SYMBOLS})[:5]
        raise Undecided("the text is not UTF-8 and reads as nonsense in cp1254 (Turkish Windows)",
                        values=odd, option="encoding")
    return "cp1254"


def sensible_text(text: str) -> bool:
    """Return whether the non-ASCII characters of ``text`` are mostly letters (ç ğ ı İ ö ş ü ...)."""
    extra = [c for c in text if ord(c) > 127]
    if not extra:
        return True
    good = sum(c.isalpha() or c in _SYMBOLS for c in extra)
    return good / len(extra) >= CP1254_MIN_SENSIBLE


# --------------------------------------------------------------------------------------------- separator


def detect_separator(lines: Sequence[str]) -> str:
    """Return the field separator of a CSV from its header and first lines.

    The separator is the candidate that gives the most sampled lines the header's number of fields (quotes
    respected; at least two fields, and more than half of the lines agreeing), then the most fields; ``;``
    wins ties, as in Turkish exports where ``,`` is the decimal mark. Lines that disagree are reported by
    the reader.
    """
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise Undecided("the file has no header line", option="sep")
    best: tuple[float, int, str] | None = None
    for sep in SEPARATORS:
        counts = [len(row) for row in csv.reader(lines, delimiter=sep)]
        if counts[0] < 2:
            continue
        consistent = sum(c == counts[0] for c in counts) / len(counts)
        key = (consistent, counts[0], sep)
        if best is None or key[:2] > best[:2]:
            best = key
    if best is None or best[0] <= 0.5:
        raise Undecided("no separator (; , tab |) splits the lines into a consistent number of fields",
                        values=lines[:3], option="sep")
    return best[2]


# ----------------------------------------------------------------------------------------- decimal mark

_NUMBER_NOISE = re.compile(r"[\s\u00a0\u202f']|TL|TRY|₺|EUR|USD|€|\$", re.IGNORECASE)


def number_body(value: str) -> str:
    """Return ``value`` without currency, spaces and sign: the digits with their separators."""
    body = _NUMBER_NOISE.sub("", value)
    if body.startswith("(") and body.endswith(")"):
        body = body[1:-1]
    return body.strip("+-")


def decimal_vote(value: str) -> str | None:
    """Which decimal mark the number ``value`` shows: ``','``, ``'.'``, ``'?'`` (either) or None (not a
    number); the vote :class:`DecimalEvidence` records."""
    return _vote(number_body(value))


def _vote(body: str) -> str | None:
    """Return ``','`` or ``'.'`` if ``body`` shows which mark is the decimal, ``'?'`` if it cannot."""
    if not re.fullmatch(r"[\d.,]+(?:[eE][+-]?\d+)?", body) or not any(ch.isdigit() for ch in body):
        return None
    has_dot, has_comma = "." in body, "," in body
    if has_dot and has_comma:
        return "," if body.rindex(",") > body.rindex(".") else "."
    mark = "," if has_comma else "." if has_dot else ""
    if not mark:
        return None
    if "e" in body.lower():
        return "."
    if body.count(mark) > 1:  # 1.234.567 / 1,234,567: the mark groups thousands
        grouped = re.fullmatch(rf"\d{{1,3}}(?:{re.escape(mark)}\d{{3}})+", body)
        return ("," if mark == "." else ".") if grouped else None
    head, tail = body.split(mark)
    if len(tail) != 3 or len(head) > 3 or head in ("", "0") or head.startswith("0"):
        return mark  # 12,5 / 1234,567 / 0,125 cannot be thousands grouping
    return "?"  # 1.234 or 1,234: thousands or decimal, the value alone cannot tell


@dataclass
class DecimalEvidence:
    """What the values of the number columns say about the decimal mark."""

    comma: list[str] = field(default_factory=list)
    point: list[str] = field(default_factory=list)
    unclear: list[str] = field(default_factory=list)

    def add(self, values: Iterable[str]) -> None:
        """Record the vote of each value (keeps up to five examples per kind)."""
        for value in values:
            vote = _vote(number_body(value))
            bucket = {",": self.comma, ".": self.point, "?": self.unclear}.get(vote or "")
            if bucket is not None and len(bucket) < 5:
                bucket.append(value)


def decide_decimal(evidence: DecimalEvidence) -> tuple[str, str | None]:
    """Return ``(decimal, thousands)`` from the evidence, or raise :class:`Undecided`.

    Values such as ``1.234,56`` or ``12,5`` prove a decimal comma; ``1,234.56`` or ``12.5`` a decimal
    point. Both kinds in one file, or only values like ``1.234`` (which could mean either), are refused.
    """
    if evidence.comma and evidence.point:
        raise Undecided("the numbers mix a decimal comma and a decimal point",
                        values=evidence.comma[:3] + evidence.point[:3], option="decimal")
    if evidence.comma:
        return ",", "."
    if evidence.point:
        return ".", ","
    if evidence.unclear:
        raise Undecided("values such as these can be read with a thousands separator or a decimal mark",
                        values=evidence.unclear, option="decimal")
    return ".", None


# ------------------------------------------------------------------------------------------------- dates

#: Date-part layouts: regex of the part before any time, and its strptime format ('DM' = day/month open).
DATE_LAYOUTS: dict[str, tuple[str, str]] = {
    "iso": (r"\d{4}-\d{1,2}-\d{1,2}", "%Y-%m-%d"),
    "ymd_slash": (r"\d{4}/\d{1,2}/\d{1,2}", "%Y/%m/%d"),
    "ymd_dot": (r"\d{4}\.\d{1,2}\.\d{1,2}", "%Y.%m.%d"),
    "dot": (r"(\d{1,2})\.(\d{1,2})\.\d{4}", "%d.%m.%Y"),  # dd.mm.yyyy: no country writes mm.dd.yyyy
    "slash": (r"(\d{1,2})/(\d{1,2})/\d{4}", "DM/"),
    "dash": (r"(\d{1,2})-(\d{1,2})-\d{4}", "DM-"),
    "month_name": (r"\d{1,2}[ .\-/]+[^\W\d_]+\.?[ .\-/]+\d{4}", "%d %B %Y"),  # 27 Kasım 2025, 3-Mar-2024
    "serial": (r"[1-9]\d{4}(?:\.\d+)?", "excel-serial"),  # Excel's day count: 45422 = 2024-05-10
}
#: Statuses and document types whose lines are not plain sales (compared after normalise_name).
STATUS_WORDS: tuple[str, ...] = ("iptal", "iade", "cancel", "return", "refund", "storno", "void", "reddedil")
#: Header names of status / document-type columns (normalised).
STATUS_HEADERS: tuple[str, ...] = ("durum", "status", "belgeturu", "belgetipi", "fisturu", "fistipi", "evrakturu",
                                   "evraktipi", "islemturu", "islemtipi", "hareketturu", "hareketyonu", "faturaturu",
                                   "siparisdurumu", "state", "documenttype", "doctype", "type", "tip", "tur",
                                   "orderstatus", "iptal", "iade", "returned", "cancelled")


def status_like_name(header: str) -> bool:
    """Return whether a header names a status or document type (Durum, Belge Türü, Status, ...)."""
    folded = normalise_name(header)
    return any(folded == h or folded.endswith(h) and len(h) > 3 for h in STATUS_HEADERS)


def status_values(values: Iterable[str]) -> list[str]:
    """Return the values that say cancelled or returned (İptal, İade Faturası, Cancelled, Return ...)."""
    return [v for v in values if isinstance(v, str) and any(w in normalise_name(v) for w in STATUS_WORDS)]
_DATE_PART = re.compile(r"^\s*([^\sT]+)")


def date_part(value: str) -> str:
    """Return the part of ``value`` before a time (separated by a space or ``T``)."""
    match = _DATE_PART.match(value)
    return match.group(1) if match else ""


def detect_date_formats(samples: dict[str, Sequence[str]]) -> dict[str, str]:
    """Return the strptime format of the date part of each column in ``samples``.

    The layout is the one most values of the column follow. For ``a/b/yyyy`` and ``a-b-yyyy`` the order
    is decided by a first field above 12 (day first) or a second above 12 (month first), pooled over the
    columns of the file (one file, one convention); when every value has both fields at most 12 the order
    is unknowable and :class:`Undecided` asks for ``read.date_format``.
    """
    layouts: dict[str, str] = {}
    for column, values in samples.items():
        counts = {name: 0 for name in DATE_LAYOUTS}
        for value in values:
            part = date_part(value)
            for name, (pattern, _) in DATE_LAYOUTS.items():
                if (re.match(pattern + r"(?:[ T]|$)", value.strip()) if name == "month_name"
                        else re.fullmatch(pattern, part)):
                    counts[name] += 1
                    break
        name, hits = max(counts.items(), key=lambda kv: kv[1])
        if hits:
            layouts[column] = name
    day_first: dict[str, bool] = {}
    seen: dict[str, list[str]] = {}
    for name in {n for n in layouts.values() if DATE_LAYOUTS[n][1].startswith("DM")}:
        pattern = DATE_LAYOUTS[name][0]
        first_big, second_big, all_values = [], [], []
        for column, layout in layouts.items():
            if layout != name:
                continue
            for value in samples[column]:
                match = re.fullmatch(pattern, date_part(value))
                if not match:
                    continue
                all_values.append(value)
                a, b = int(match.group(1)), int(match.group(2))
                if a > 12:
                    first_big.append(value)
                if b > 12:
                    second_big.append(value)
        if first_big and second_big:
            raise Undecided("some dates put the day first and others the month first",
                            values=first_big[:3] + second_big[:3], option="date_format")
        if not first_big and not second_big:
            raise Undecided("every date has day and month at most 12, so dd/mm and mm/dd both fit",
                            values=all_values[:5], option="date_format")
        day_first[name] = bool(first_big)
        seen[name] = all_values
    formats = {}
    for column, name in layouts.items():
        fmt = DATE_LAYOUTS[name][1]
        if fmt.startswith("DM"):
            sep = fmt[2]
            fmt = f"%d{sep}%m{sep}%Y" if day_first[name] else f"%m{sep}%d{sep}%Y"
        formats[column] = fmt
    return formats


# ----------------------------------------------------------------------------------------- header names


#: header folding: the one implementation, shared with the did-you-mean of every message (crmlib.errors)
normalise_name = fold_name
