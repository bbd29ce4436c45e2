"""Propose the params of an export: which table it is, which header is which column, how to read it.

``profile_file`` reads a file with the loader's own readers and sniffing (encoding, separator, header row,
sheets, decimal mark, date layout) and describes each column by its values (dates, numbers, distinct and
repeating values). ``propose_table`` scores every column for every role of a table from the header synonyms
(``synonyms.yaml``, case- and accent-insensitive, extensible) and the values, and keeps the evidence and the
rivals of each choice. ``crmlib.data.init`` writes the result as a commented params file.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from crmlib.data import coerce, readers, rules, sniff
from crmlib.data.read import FORMATS, REQUIRED, TABLE_COLUMNS
from crmlib.errors import DataError

logger = logging.getLogger(__name__)

#: Rows whose values are profiled (enough to see repeats, dates and decimal marks; fast on any file).
PROFILE_ROWS = 200_000
#: Share of the filled cells that must read as a date / number for a column to take a date / number role.
VALUE_SHARE = 0.95
#: Distinct values up to which a column is shown with its values (status, currency).
FEW_VALUES = 30
#: Header rows looked at for the header line (title rows above it).
HEADER_SEARCH = 30
#: Header weight that counts as a recognised name (synonyms.yaml weights run 1-5).
RECOGNISED = 3


def load_synonyms(extra: Sequence[Path] = ()) -> dict[str, dict[str, dict[str, int]]]:
    """Return ``{table: {our column: {normalised header: weight}}}`` from the package table and ``extra`` files."""
    tables = [yaml.safe_load((resources.files("crmlib.data") / "synonyms.yaml").read_text(encoding="utf-8"))]
    for path in extra:
        try:
            tables.append(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})
        except (OSError, yaml.YAMLError) as err:
            raise DataError(f"Synonyms file {str(path)!r} cannot be read ({err}). What to do: give a YAML file "
                            "laid out like crmlib/data/synonyms.yaml (table: column: {header: weight}).") from err
    out: dict[str, dict[str, dict[str, int]]] = {}
    for table in tables:
        for name, columns in (table or {}).items():
            if name not in TABLE_COLUMNS:
                raise DataError(f"Synonyms: {name!r} is not a table. What to do: use {list(TABLE_COLUMNS)}.")
            for column, spellings in (columns or {}).items():
                if column not in TABLE_COLUMNS[name]:
                    raise DataError(f"Synonyms: {name}.{column} is not a column of that table. What to do: use "
                                    f"{list(TABLE_COLUMNS[name])}.")
                into = out.setdefault(name, {}).setdefault(column, {})
                items = spellings.items() if isinstance(spellings, dict) else ((s, 5) for s in spellings)
                for spelling, weight in items:
                    into[sniff.normalise_name(str(spelling))] = int(weight)
    return out


def header_weight(header: str, spellings: Mapping[str, int]) -> int:
    """Return how well ``header`` names a column: its synonym weight, one less for a longer header holding it."""
    folded = sniff.normalise_name(header)
    if not folded:
        return 0
    if folded in spellings:
        return spellings[folded]
    best = 0
    for spelling, weight in spellings.items():
        if len(spelling) >= 5 and (folded.startswith(spelling) or folded.endswith(spelling)):
            best = max(best, weight - 1)
    return best


# ----------------------------------------------------------------------------------------------- profile


@dataclass
class ColumnProfile:
    """What the values of one column look like."""

    header: str
    filled: int
    distinct: int
    date_share: float = 0.0
    number_share: float = 0.0
    whole_share: float = 0.0  # share of numbers without decimals
    negative_share: float = 0.0
    date_format: str | None = None
    top: list[tuple[str, int]] = field(default_factory=list)  # the values, when few

    @property
    def repeats(self) -> bool:
        return 0 < self.distinct < self.filled


@dataclass
class FileProfile:
    """One export as the loader reads it: read options, header, and each column's profile."""

    path: Path
    read: dict[str, Any]
    header: list[str]
    rows: int
    columns: dict[str, ColumnProfile]
    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _header_score(cells: Sequence[Any], synonyms: Mapping[str, Any]) -> int:
    every = {s: w for table in synonyms.values() for col in table.values() for s, w in col.items()}
    return sum(1 for c in cells if isinstance(c, str) and header_weight(c, every) >= RECOGNISED)


def _csv_header_row(path: Path, synonyms: Mapping[str, Any]) -> int | None:
    with path.open("rb") as handle:
        head = handle.read(sniff.SAMPLE_BYTES)
    try:
        encoding = sniff.detect_encoding(head, complete=len(head) < sniff.SAMPLE_BYTES)
        text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    except sniff.Undecided:
        return None
    import csv

    best, best_row = 1, None
    for i, line in enumerate(text.splitlines()[:HEADER_SEARCH]):
        for sep in sniff.SEPARATORS:
            score = _header_score(next(csv.reader([line], delimiter=sep), []), synonyms)
            if score > best:
                best, best_row = score, i
    return None if best_row in (None, 0) else best_row + 1


def _xlsx_sheets(path: Path, synonyms: Mapping[str, Any]) -> tuple[Any, int | None]:
    """Return the read.sheet to use (a name, or 'all' for sheets sharing the best header) and the header row."""
    from python_calamine import CalamineWorkbook

    try:
        names = list(CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception as err:  # noqa: BLE001 - calamine's errors share no base class
        raise DataError(f"File {str(path)!r} cannot be opened as an Excel workbook ({err}). What to do: save it "
                        "again from Excel as .xlsx, or export it as CSV.") from err
    found = []
    for name in names:
        grid = pd.read_excel(path, sheet_name=name, header=None, dtype=object, engine="calamine",
                             nrows=HEADER_SEARCH)
        scores = [(_header_score(list(row), synonyms), i) for i, row in enumerate(grid.to_numpy().tolist())]
        if scores:
            score, row = max(scores, key=lambda s: (s[0], -s[1]))
            header = [str(v).strip() for v in grid.iloc[row] if pd.notna(v)] if len(grid) else []
            found.append((score, name, row, header))
    if not found:
        return names[0] if names else None, None
    best = max(found, key=lambda f: f[0])
    same = [f[1] for f in found if f[3] == best[3] and f[0] >= 2]
    sheet: Any = best[1] if len(same) <= 1 else ("all" if len(same) == len(names) else same)
    return sheet, (best[2] + 1 if best[0] >= 2 else None)


def profile_file(path: Path, synonyms: Mapping[str, Any]) -> FileProfile:
    """Read ``path`` as the loader would (sniffing everything) and profile its columns."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if not path.is_file():
        raise DataError(f"File {str(path)!r} does not exist. What to do: give the path of an export (.csv, .xlsx, "
                        ".parquet).")
    if fmt is None:
        raise DataError(f"File {str(path)!r}: the extension {path.suffix!r} is not supported. What to do: give a "
                        ".csv, .xlsx or .parquet export.")
    read: dict[str, Any] = {}
    detected: dict[str, Any] = {}
    if fmt == "csv":
        header_row = _csv_header_row(path, synonyms)
        if header_row:
            read["header_row"] = header_row
        header, reader, _ = readers.read_csv_columns("orders", path, read, detected)
    elif fmt == "xlsx":
        sheet, header_row = _xlsx_sheets(path, synonyms)
        read["sheet"] = sheet
        if header_row and header_row > 1:
            read["header_row"] = header_row
        header, reader, _ = readers.read_xlsx_columns("orders", path, read, detected, [])
    else:
        header, reader, _ = readers.read_parquet_columns("orders", path)
    header = [h.lstrip("\ufeff").strip() for h in header]
    named = [h for h in dict.fromkeys(header) if h and not h.startswith("(column ") and header.count(h) == 1]
    raw = reader([h for h in named])
    frame = raw.head(PROFILE_ROWS) if len(raw) > PROFILE_ROWS else raw
    for key in ("encoding", "sep"):
        if detected.get(key):
            read[key] = detected[key]
    notes: list[str] = []
    columns = _profile_columns(frame, read, notes=notes, first_line=int(read.get("header_row") or 1) + 1)
    return FileProfile(path, read, named, len(raw), columns, frame, notes)


def _profile_columns(frame: pd.DataFrame, read: dict[str, Any], *, notes: list[str] | None = None,
                     first_line: int = 2) -> dict[str, ColumnProfile]:
    """Profile every column; set read.decimal / thousands / date_format when the values settle them.

    A report's totals rows (a cell reading TOPLAM, Genel Toplam, Total...) are left out first, as the loader
    leaves them out: they are neither a customer code nor an order. When the numbers mix a decimal comma and
    a decimal point, ``notes`` gets one sentence naming the columns, values and lines that show it
    (:func:`_mixed_marks`; ``first_line``: the file's line of the first row).
    """
    texts = {c: coerce.text_cells(frame[c]) for c in frame if coerce.is_text(frame[c])}
    totals = np.zeros(len(frame), dtype=bool)
    for values in texts.values():
        totals |= values.map(lambda v: isinstance(v, str) and bool(rules.TOTAL_WORDS.match(
            v.strip().replace("İ", "i")))).to_numpy(dtype=bool)
    if totals.any():
        frame = frame.loc[~totals]
        texts = {c: v.loc[~totals] for c, v in texts.items()}
    evidence = sniff.DecimalEvidence()
    for values in texts.values():
        sample = pd.Series(values.dropna().unique()[:5000])
        plain = sample[sample.str.fullmatch(r"\s*[-+(]?[\d.,\s]+\)?-?\s*(?:TL|TRY|USD|EUR|₺|\$|€)?\s*",
                                             case=False).fillna(False).astype(bool)]
        if len(plain) >= 0.9 * max(len(sample), 1):
            evidence.add(plain.tolist())
    try:
        decimal, thousands = sniff.decide_decimal(evidence)
    except sniff.Undecided:
        decimal, thousands = ".", ","
        if notes is not None and evidence.comma and evidence.point:
            notes.append(_mixed_marks(texts, first_line))
    if evidence.comma or evidence.point:
        read["decimal"], read["thousands"] = decimal, thousands
    date_samples = {c: pd.Series(v.dropna().unique()[:2000]).tolist() for c, v in texts.items()}
    try:
        formats = sniff.detect_date_formats(date_samples)
    except sniff.Undecided:
        formats = {}
    out = {}
    for col in frame:
        series = frame[col]
        shown = series.map(coerce.cell_text) if series.dtype == object else series
        filled = int(series.notna().sum())
        distinct = int(pd.Series(shown.dropna().unique()).shape[0])
        prof = ColumnProfile(col, filled, distinct)
        if filled:
            fmt = formats.get(col)
            dates = coerce.to_dates(series, fmt=fmt)
            prof.date_share = float(dates.values.notna().sum()) / filled
            if pd.api.types.is_numeric_dtype(series.dtype) and fmt is None:
                prof.date_share = 0.0  # a number column is not a date column unless its header says so
            prof.date_format = fmt
            numbers = coerce.to_numbers(series, decimal=decimal, thousands=thousands)
            values = numbers.values.dropna()
            prof.number_share = float(len(values)) / filled
            if len(values):
                prof.whole_share = float((values == values.round()).mean())
                prof.negative_share = float((values < 0).mean())
        if distinct <= FEW_VALUES:
            counts = shown.value_counts()
            prof.top = [(str(v), int(n)) for v, n in counts.items()]
        out[col] = prof
    dated = {formats[c] for c, p in out.items() if c in formats and p.date_share >= VALUE_SHARE}
    if len(dated) == 1:
        read["date_format"] = dated.pop()
    return out


def _mixed_marks(texts: Mapping[str, pd.Series], first_line: int) -> str:
    """One sentence on the columns whose numbers use a decimal comma and those using a decimal point: per
    column, a value of each kind with its line (a column mixing both is named as such)."""
    parts = []
    for col, values in texts.items():
        shown = {}
        for row, value in values.dropna().items():
            vote = sniff.decimal_vote(value) if isinstance(value, str) else None
            if vote in (",", ".") and vote not in shown:
                shown[vote] = f"{value.strip()!r} on line {first_line + int(row)}"
                if len(shown) == 2:
                    break
        if len(shown) == 2:
            parts.append(f"column {col!r} mixes a decimal comma ({shown[',']}) and a decimal point ({shown['.']})")
        elif shown:
            mark = next(iter(shown))
            parts.append(f"column {col!r} has a decimal {'comma' if mark == ',' else 'point'} ({shown[mark]})")
    return ("the numbers mix a decimal comma and a decimal point, so no number column can be read: "
            + "; ".join(parts))


# ----------------------------------------------------------------------------------------------- propose


@dataclass
class Candidate:
    """One header considered for a role, with its score and the facts behind it (:meth:`describe`)."""

    header: str
    weight: int  # header synonym weight (0: chosen from the values alone)
    role: str
    kind: str
    column: ColumnProfile

    @property
    def evidence(self) -> str:
        """The evidence in English (the terminal's messages)."""
        return self.describe("en")

    def describe(self, lang: str) -> str:
        """The evidence for this header in ``lang`` (``tr`` or ``en``): what its values look like."""
        return _evidence(self.role, self.kind, self.column, by_values=self.weight == 0, lang=lang)


@dataclass
class Proposal:
    """The proposed params of one table from one file."""

    table: str
    profile: FileProfile
    choices: dict[str, Candidate]
    alternatives: dict[str, list[Candidate]]
    ties: list[str] = field(default_factory=list)  # roles where two headers fit equally
    drop_when: dict[str, list[str]] = field(default_factory=dict)
    return_when: dict[str, list[str]] = field(default_factory=dict)
    status_seen: dict[str, str] = field(default_factory=dict)  # column -> values, when no rule was pre-filled
    currencies: dict[str, int] = field(default_factory=dict)  # code -> lines
    score: int = 0


_KIND_GATE = {"date": lambda p: p.date_share >= VALUE_SHARE, "month": lambda p: p.filled > 0,
              "number": lambda p: p.number_share >= VALUE_SHARE,
              "id": lambda p: p.filled > 0 and p.distinct > 1,
              "text": lambda p: p.filled > 0, "bool": lambda p: p.distinct <= 4 and p.filled > 0}


#: the evidence's phrases; numbers are written the language's way (:func:`_n`, :func:`_pct`)
EVIDENCE: dict[str, dict[str, str]] = {
    "en": {"date": "{h}: {share} of {n} values are dates", "layout": ", layout {layout}",
           "number": "{h}: {share} of {n} values are numbers",
           "amount": ", {decimals} with decimals, {negative} negative",
           "id": "{h}: {distinct} distinct codes over {n} lines, {how}", "repeats": "repeats across lines",
           "once": "each value once", "text": "{h}: {distinct} distinct values",
           "by_values": " (chosen by its values: no header synonym)"},
    "tr": {"date": "{h}: {n} değerin {share} kadarı tarih", "layout": ", biçim {layout}",
           "number": "{h}: {n} değerin {share} kadarı sayı",
           "amount": ", {decimals} kadarı küsuratlı, {negative} kadarı eksi",
           "id": "{h}: {n} satırda {distinct} farklı kod, {how}", "repeats": "satırlar arasında tekrarlanıyor",
           "once": "her değer bir kez", "text": "{h}: {distinct} farklı değer",
           "by_values": " (değerlerine göre seçildi: başlığı eş anlamlılar listesinde yok)"},
}


def _n(value: int, lang: str) -> str:
    return f"{value:,}".replace(",", "." if lang == "tr" else ",")


def _pct(share: float, lang: str, digits: int = 0) -> str:
    text = f"{share * 100:.{digits}f}"
    return f"%{text.replace('.', ',')}" if lang == "tr" else f"{text}%"


def _evidence(role: str, kind: str, prof: ColumnProfile, *, by_values: bool = False, lang: str = "en") -> str:
    words = EVIDENCE[lang]
    h, n = f"'{prof.header}'", _n(prof.filled, lang)
    if kind == "date":
        text = words["date"].format(h=h, share=_pct(prof.date_share, lang), n=n)
        if prof.date_format:
            text += words["layout"].format(layout=prof.date_format)
    elif kind == "number":
        text = words["number"].format(h=h, share=_pct(prof.number_share, lang), n=n)
        if role == "amount":
            text += words["amount"].format(decimals=_pct(1 - prof.whole_share, lang),
                                           negative=_pct(prof.negative_share, lang, 1))
    elif kind == "id":
        text = words["id"].format(h=h, distinct=_n(prof.distinct, lang), n=n,
                                  how=words["repeats"] if prof.repeats else words["once"])
    else:
        text = words["text"].format(h=h, distinct=_n(prof.distinct, lang))
    return text + (words["by_values"] if by_values else "")


def propose_table(table: str, profile: FileProfile, synonyms: Mapping[str, Any]) -> Proposal:
    """Assign the file's headers to the columns of ``table``: synonyms first, then the values.

    A header takes at most one role; roles are filled in the table's order of importance (required first).
    Two headers with the same synonym weight for a role is a tie: the first is written, the other commented.
    """
    kinds = TABLE_COLUMNS[table]
    spellings = synonyms.get(table, {})
    order = list(REQUIRED[table]) + [c for c in kinds if c not in REQUIRED[table]]
    used: set[str] = set()
    choices: dict[str, Candidate] = {}
    alternatives: dict[str, list[Candidate]] = {}
    ties = []
    for role in order:
        kind = kinds[role]
        gate = _KIND_GATE[kind]
        scored = []
        for header in profile.header:
            prof = profile.columns.get(header)
            if prof is None or header in used:
                continue
            weight = header_weight(header, spellings.get(role, {}))
            if weight and gate(prof):
                scored.append(Candidate(header, weight, role, kind, prof))
        if not scored and role in ("order_date", "amount", "date", "opened_at", "due_date"):
            scored = _by_values(role, kind, profile, used)
        if not scored:
            continue
        scored.sort(key=lambda c: -c.weight)
        best = scored[0]
        choices[role] = best
        used.add(best.header)
        alternatives[role] = scored[1:4]
        if len(scored) > 1 and scored[1].weight == best.weight:
            ties.append(role)
    proposal = Proposal(table, profile, choices, alternatives, ties)
    proposal.score = sum(c.weight for c in choices.values())
    if table == "orders":
        _status_rules(proposal, used)
    return proposal


def _by_values(role: str, kind: str, profile: FileProfile, used: set[str]) -> list[Candidate]:
    """Candidates for a role no header names: the only date column, the number column with decimals."""
    gate = _KIND_GATE[kind]
    fits = [profile.columns[h] for h in profile.header if h not in used and h in profile.columns
            and gate(profile.columns[h])]
    if kind == "number":
        fits = [p for p in fits if p.whole_share < 0.9 and p.date_share < VALUE_SHARE]
    if kind == "date":
        fits = [p for p in fits if p.number_share < VALUE_SHARE or p.date_format]
    return [Candidate(p.header, 0, role, kind, p) for p in fits]


def _status_rules(proposal: Proposal, used: set[str]) -> None:
    """Pre-fill drop_when / return_when from status columns whose values are unambiguous; note currencies."""
    profile = proposal.profile
    for header in profile.header:
        prof = profile.columns.get(header)
        if prof is None or header in used or not prof.top:
            continue
        values = [v for v, _ in prof.top]
        flagged = sniff.status_values(values)
        if not flagged and not sniff.status_like_name(header):
            continue
        cancel = [v for v in flagged if any(w in sniff.normalise_name(v) for w in
                                            ("iptal", "cancel", "void", "storno", "reddedil"))]
        returned = [v for v in flagged if v not in cancel]
        if cancel:
            proposal.drop_when[header] = cancel
        if returned:
            proposal.return_when[header] = returned
        if not flagged:
            proposal.status_seen[header] = ", ".join(f"{v} ({n:,})" for v, n in prof.top[:8])
    currency = proposal.choices.get("currency")
    if currency is not None:
        for value, count in profile.columns[currency.header].top:
            code = coerce.CURRENCY_MARKS.get(value.strip().upper(), value.strip().upper())
            proposal.currencies[code] = proposal.currencies.get(code, 0) + count
    amount = proposal.choices.get("amount")
    if amount is not None:
        series = profile.frame[amount.header]
        if coerce.is_text(series):
            found = coerce.currency_codes(coerce.as_arrow(coerce.text_cells(series)))
            if found is not None:
                for code, count in found.value_counts().items():
                    proposal.currencies[str(code)] = proposal.currencies.get(str(code), 0) + int(count)
                unmarked = int(found.isna().sum() - series.isna().sum())
                if unmarked > 0 and proposal.currencies:
                    proposal.currencies.setdefault("", unmarked)


def recognise(profile: FileProfile, synonyms: Mapping[str, Any], *, taken: Sequence[str] = ()) -> Proposal | None:
    """Return the best table for a file: orders when its required columns fit, else the best optional table."""
    best: Proposal | None = None
    for table in TABLE_COLUMNS:
        if table in taken:
            continue
        proposal = propose_table(table, profile, synonyms)
        if not all(r in proposal.choices for r in REQUIRED[table]):
            continue
        if table != "orders":
            named = sum(1 for c in proposal.choices.values() if c.weight >= RECOGNISED)
            if named < max(2, len(REQUIRED[table])):
                continue
        key = (proposal.score, table == "orders")
        if best is None or key > (best.score, best.table == "orders"):
            best = proposal
    return best

