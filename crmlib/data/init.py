"""``python -m crmlib init EXPORT [MORE...]``: write a commented params file from the exports themselves.

Each export is read with the loader's sniffing and recognised as a table (:mod:`crmlib.data.propose`); the
params file lists every choice with its evidence, every rival as a commented alternative, the read options
detected, and the cancelled/returned/currency keys pre-filled where the values are unambiguous. The caller
(``crmlib.__main__``) then validates the file and names the line to edit when it does not validate.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmlib.data import propose
from crmlib.errors import DataError

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "head": "Params written by `python -m crmlib init` on {date} from {files}.",
        "check": "Check each choice: the evidence is in the comment beside it; alternatives are commented out.",
        "as_of": "analysis date; null = the last order date not after today",
        "language": "tr | en: the language of the reports",
        "currency": "the report currency",
        "alternative": "alternative",
        "tie": "as likely as the line above: choose one",
        "read": "read options detected from the file",
        "drop": "lines left out (cancelled), values found in the column",
        "return": "lines counted as returns, values found in the column",
        "status": "looks like a status column; its values",
        "rates": "several currencies: give the rate of each to {currency} here, then remove the #",
        "no_order_id": "no order number found: one order per customer and day",
        "unrecognised": "not recognised as a table of the workbook; map it by hand if it is one",
        "missing": "NOT FOUND: write the file's header here (the file has: {headers})",
        "rows": "{rows} rows",
    },
    "tr": {
        "head": "Bu ayar dosyası `python -m crmlib init` ile {date} tarihinde şu dosyalardan yazıldı: {files}.",
        "check": "Her seçimi kontrol edin: gerekçesi yanındaki açıklamada; diğer seçenekler # ile kapalı.",
        "as_of": "analiz tarihi; null = bugünden sonra olmayan son sipariş tarihi",
        "language": "tr | en: raporların dili",
        "currency": "rapor para birimi",
        "alternative": "diğer seçenek",
        "tie": "üstteki satır kadar olası: birini seçin",
        "read": "dosyadan bulunan okuma ayarları",
        "drop": "çıkarılacak satırlar (iptal), sütunda bulunan değerler",
        "return": "iade sayılacak satırlar, sütunda bulunan değerler",
        "status": "bir durum sütununa benziyor; değerleri",
        "rates": "birden çok para birimi: her birinin {currency} kurunu buraya yazın, sonra # işaretini kaldırın",
        "no_order_id": "sipariş numarası bulunamadı: müşteri ve gün başına bir sipariş",
        "unrecognised": "çalışma kitabının bir tablosu olarak tanınmadı; öyleyse elle eşleyin",
        "missing": "BULUNAMADI: dosyadaki sütun adını buraya yazın (dosyadaki sütunlar: {headers})",
        "rows": "{rows} satır",
    },
}


def _q(value: Any) -> str:
    """Return ``value`` as a YAML scalar (double-quoted JSON is valid YAML)."""
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


@dataclass
class Written:
    """The params text and where each key ended up (line numbers are 1-based)."""

    text: str
    lines: dict[str, int] = field(default_factory=dict)  # "orders.columns.amount", "orders.rates", ...
    messages: list[str] = field(default_factory=list)  # what the terminal should say about the choices
    proposals: list[propose.Proposal] = field(default_factory=list)


class _Doc:
    def __init__(self) -> None:
        self.rows: list[str] = []
        self.keys: dict[str, int] = {}

    def add(self, text: str, key: str | None = None) -> None:
        self.rows.append(text)
        if key:
            self.keys.setdefault(key, len(self.rows))


def _pad(text: str, comment: str, width: int = 44) -> str:
    return f"{text:<{width}} # {comment}" if comment else text


def propose_params(exports: Sequence[Path], out: Path, *, language: str = "tr",
                   synonyms: Sequence[Path] = ()) -> Written:
    """Return the commented params text for ``exports`` (paths written relative to ``out``'s folder).

    The comments (evidence included) are in ``language``; the terminal's messages stay in English.
    """
    words = {**TEXT[language], "lang": language}
    table = propose.load_synonyms(synonyms)
    proposals: list[propose.Proposal] = []
    unrecognised: list[Path] = []
    notes: list[str] = []
    for path in exports:
        profile = propose.profile_file(Path(path), table)
        notes += [f"{Path(path).name}: {note}" for note in profile.notes]
        found = propose.recognise(profile, table, taken=[p.table for p in proposals])
        if found is None:
            unrecognised.append(Path(path))
        else:
            proposals.append(found)
    if not any(p.table == "orders" for p in proposals) and unrecognised:
        # the order lines with headers we do not know: write what the values show, the rest to be filled in
        best = max((propose.propose_table("orders", propose.profile_file(path, table), table) for path in unrecognised),
                   key=lambda p: len(p.choices))
        if best.choices:
            proposals.append(best)
            unrecognised.remove(best.profile.path)
    if not any(p.table == "orders" for p in proposals):
        shown = ", ".join(str(p) for p in exports)
        if notes:  # numbers that cannot be read: the amount cannot be recognised, whatever its header
            raise DataError(f"None of the exports ({shown}) could be read as the order lines: "
                            + "; ".join(notes) + ". What to do: export the numbers with one decimal mark (in Excel: "
                            "the column's number format, or the system's decimal separator), then run init again.")
        raise DataError(f"None of the exports ({shown}) looks like the order lines: no file has a customer code, "
                        "a date and an amount column recognised by their headers or values. What to do: give the "
                        "sales lines export (one row per invoice or order line), or extend the header synonyms with "
                        "--synonyms FILE (see crmlib/data/synonyms.yaml).")
    proposals.sort(key=lambda p: list(propose.TABLE_COLUMNS).index(p.table))
    doc = _Doc()
    messages: list[str] = []
    files = ", ".join(Path(p).name for p in exports)
    doc.add(f"# {words['head'].format(date=dt.date.today().isoformat(), files=files)}")
    doc.add(f"# {words['check']}")
    orders = next(p for p in proposals if p.table == "orders")
    codes = [c for c in orders.currencies if c]
    currency = codes[0] if len(codes) == 1 else "TRY"
    doc.add(_pad("as_of: null", words["as_of"]), "as_of")
    doc.add(_pad(f"language: {language}", words["language"]), "language")
    doc.add(_pad(f"currency: {currency}", words["currency"]), "currency")
    doc.add("data:", "data")
    base = Path(out).resolve().parent
    for proposal in proposals:
        _write_table(doc, proposal, base, words, messages, currency)
    for path in unrecognised:
        doc.add(f"  # {Path(path).name}: {words['unrecognised']}")
        messages.append(f"{Path(path).name}: not recognised as a table of the workbook (left out).")
    return Written("\n".join(doc.rows) + "\n", doc.keys, messages, proposals)


def _write_table(doc: _Doc, proposal: propose.Proposal, base: Path, words: dict[str, str], messages: list[str],
                 currency: str) -> None:
    name = proposal.table
    profile = proposal.profile
    rel = os.path.relpath(profile.path.resolve(), base)
    doc.add(f"  {name}:", name)
    rows = f"{profile.rows:,}".replace(",", "." if words["lang"] == "tr" else ",")
    doc.add(_pad(f"    path: {_q(rel)}", words["rows"].format(rows=rows)), f"{name}.path")
    doc.add("    columns:", f"{name}.columns")
    for role in propose.TABLE_COLUMNS[name]:
        choice = proposal.choices.get(role)
        if choice is None:
            if name == "orders" and role == "order_id":
                doc.add(f"      # order_id: {words['no_order_id']}")
            if role in propose.REQUIRED[name]:
                headers = ", ".join(profile.header)
                doc.add(_pad(f"      {role}: \"\"", words["missing"].format(headers=headers)),
                        f"{name}.columns.{role}")
                messages.append(f"{name}.{role}: no header or values fit; write the file's header at line "
                                f"{doc.keys[f'{name}.columns.{role}']} (headers: {headers}).")
            continue
        doc.add(_pad(f"      {role}: {_q(choice.header)}", choice.describe(words["lang"])), f"{name}.columns.{role}")
        for alt in proposal.alternatives.get(role, []):
            note = words["tie"] if alt.weight == choice.weight else words["alternative"]
            doc.add(_pad(f"      # {role}: {_q(alt.header)}", f"{note}: {alt.describe(words['lang'])}"))
        if role in proposal.ties:
            rival = proposal.alternatives[role][0].header
            messages.append(f"{name}.{role}: {choice.header!r} and {rival!r} fit equally; {choice.header!r} was "
                            f"written and {rival!r} commented out (line {doc.keys[f'{name}.columns.{role}'] + 1}): "
                            "check which one is right.")
    read = {k: v for k, v in profile.read.items() if v is not None}
    if read:
        inline = ", ".join(f"{k}: {_q(v) if not isinstance(v, list) else json.dumps(v, ensure_ascii=False)}"
                           for k, v in read.items())
        doc.add(_pad(f"    read: {{{inline}}}", words["read"]), f"{name}.read")
    if name != "orders":
        return
    for key, rules, word in (("drop_when", proposal.drop_when, "drop"), ("return_when", proposal.return_when,
                                                                          "return")):
        if rules:
            body = ", ".join(f"{_q(col)}: [{', '.join(_q(v) for v in values)}]" for col, values in rules.items())
            doc.add(_pad(f"    {key}: {{{body}}}", words[word]), f"orders.{key}")
            messages.append(f"orders.{key}: {body} (from the values of the column).")
    for column, values in proposal.status_seen.items():
        doc.add(f"    # drop_when: {{{_q(column)}: [...]}}   # {words['status']}: {values}")
    foreign = sorted(c for c in proposal.currencies if c and c != currency)
    if foreign:
        placeholders = ", ".join(f"{c}: 0.0" for c in foreign)
        doc.add(f"    # {words['rates'].format(currency=currency)}")
        doc.add(f"    # rates: {{{placeholders}}}", "orders.rates")
        listed = ", ".join(f"{c or '(no code)'}: {n:,} lines" for c, n in proposal.currencies.items())
        messages.append(f"orders: several currencies ({listed}): the rates to {currency} are needed.")


# -------------------------------------------------------------------------------------- line to edit


def line_to_edit(message: str, written: Written) -> int | None:
    """Return the line of the params file that the refusal ``message`` asks to change, if one can be named."""
    keys = written.lines
    table = re.search(r"Table '(\w+)'", message) or re.search(r"data\.(\w+)\.", message)
    name = table.group(1) if table else "orders"
    if "rates" in message or "currencies" in message:
        return keys.get(f"{name}.rates") or keys.get(f"{name}.columns.currency") or keys.get("currency")
    option = re.search(rf"data\.{name}\.read\.(\w+)", message)
    if option:
        return keys.get(f"{name}.read") or keys.get(f"{name}.path")
    column = re.search(r"column '(\w+)'", message)
    if column and f"{name}.columns.{column.group(1)}" in keys:
        return keys[f"{name}.columns.{column.group(1)}"]
    for key in ("drop_when", "return_when", "duplicates"):
        if f"{name}.{key}" in message or f"data.{name}.{key}" in message:
            return keys.get(f"{name}.{key}")
    return keys.get(f"{name}.path")
