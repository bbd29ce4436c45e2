"""Remove erased customers from the files of stored runs (used by :mod:`crmlib.core.forget`).

Each ``scrub_*`` function reads a published file and writes its cleaned copy elsewhere (the original is
replaced only when every file of the erasure is ready): the customers' rows are dropped (CSV and XLSX rows
whose id column holds one of the ids, HTML table rows showing the id, name, phone or e-mail as a cell), and
any other mention of them is replaced by :data:`REDACTED`.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REDACTED = "***"
ID_COLUMNS: tuple[str, ...] = ("customer_id",)  # rows of these are the customer's; other mentions are redacted
CONTACT_COLUMNS: tuple[str, ...] = ("name", "phone", "email")
TEXT_SUFFIXES = {".html", ".htm", ".json", ".txt", ".md", ".ipynb", ".csv"}
_TABLE = re.compile(r"<table\b.*?</table>", re.S | re.I)
_ROW = re.compile(r"<tr\b[^>]*>.*?</tr>", re.S | re.I)
_CELL = re.compile(r"<t[dh]\b[^>]*>(.*?)</t[dh]>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
_TEXT_NODE = re.compile(r">([^<]+)<")


def headers(columns: Iterable[str]) -> set[str]:
    """Our column names and their header labels in every language (``col.*`` in the catalogue)."""
    from crmlib.report import exports, i18n

    out: set[str] = set()
    for column in columns:
        out.add(column)
        key = exports.column_label_key(column)
        if key:
            out.update(i18n.t(key, lang) for lang in ("tr", "en"))
    return {h.strip().lower() for h in out}


def _clean(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    return text[1:] if text.startswith("'") else text  # a CSV field neutralised against formulas


@dataclasses.dataclass
class Traces:
    """What identifies the erased customers in a file: their ids and the contacts found beside them."""

    ids: set[str]
    contacts: set[str] = dataclasses.field(default_factory=set)
    _pattern: re.Pattern[str] | None = None

    @classmethod
    def for_ids(cls, ids: Iterable[str]) -> Traces:
        """Traces of ``ids`` (contacts are added by :meth:`collect` and :meth:`collect_history`)."""
        return cls(ids={str(i) for i in ids})

    @property
    def tokens(self) -> set[str]:
        """Ids, names, phones and e-mails (contacts of fewer than three characters are not traces)."""
        return self.ids | {t for t in self.contacts if len(t) >= 3}

    def _add_contacts(self, values: Iterable[Any]) -> None:
        for value in values:
            text = _clean(value)
            if text and text not in ("nan", "None", "–") and "*" not in text:  # masked values name no one
                self.contacts.add(text)
        self._pattern = None

    def collect(self, export_dir: Path) -> None:
        """Add the names, phones and e-mails on the erased customers' rows of the CSV and XLSX exports."""
        if not Path(export_dir).is_dir():
            return
        id_heads, contact_heads = headers(ID_COLUMNS), headers(CONTACT_COLUMNS)
        for path in sorted(Path(export_dir).glob("*.csv")):
            _, head, rows, _ = read_csv(path)
            self._collect_rows(head, rows, id_heads, contact_heads)
        for path in sorted(Path(export_dir).glob("*.xlsx")):
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True)
            try:
                for sheet in book.worksheets:
                    grid = [list(r) for r in sheet.iter_rows(values_only=True)]
                    if grid:
                        self._collect_rows([str(h or "") for h in grid[0]], grid[1:], id_heads, contact_heads)
            finally:
                book.close()

    def _collect_rows(self, head: list[str], rows: list[list[Any]], id_heads: set[str],
                      contact_heads: set[str]) -> None:
        id_cols = [i for i, h in enumerate(head) if h.strip().lower() in id_heads]
        contact_cols = [i for i, h in enumerate(head) if h.strip().lower() in contact_heads]
        for row in rows:
            if any(i < len(row) and _clean(row[i]) in self.ids for i in id_cols):
                self._add_contacts(row[i] for i in contact_cols if i < len(row))

    def collect_history(self, db: Path) -> None:
        """Add contacts kept in history tables (any ``name``, ``phone`` or ``email`` column on their rows)."""
        import duckdb

        con = duckdb.connect(str(db), read_only=True)
        try:
            for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
                cols = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                                  "WHERE table_name = ?", [table]).fetchall()}
                wanted = [c for c in CONTACT_COLUMNS if c in cols]
                if "customer_id" in cols and wanted:
                    select = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in wanted)
                    for row in con.execute(f'SELECT {select} FROM "{table}" WHERE CAST(customer_id AS VARCHAR) '
                                           f"IN (SELECT unnest(?::VARCHAR[]))", [sorted(self.ids)]).fetchall():
                        self._add_contacts(row)
        finally:
            con.close()

    def pattern(self) -> re.Pattern[str] | None:
        """One regular expression for every token, raw and HTML-escaped, as a whole word."""
        if self._pattern is None:
            forms = set()
            for token in self.tokens:
                forms |= {token, html.escape(token, quote=True), html.escape(token, quote=False)}
            if not forms:
                return None
            alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
            self._pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
        return self._pattern


def redact_text(text: str, traces: Traces) -> tuple[str, int]:
    """Replace every mention of a trace in plain text; return the text and the number of mentions."""
    pattern = traces.pattern()
    if pattern is None:
        return text, 0
    return pattern.subn(REDACTED, text)


def redact_markup(markup: str, traces: Traces) -> tuple[str, int, int]:
    """Drop the table rows of the erased customers, then redact mentions in text nodes.

    In a table with a customer-id column (its header is ``customer_id`` or that column's label) a row goes
    when that column holds an erased id; in other tables when any cell is an erased id, name, phone or
    e-mail. Returns the markup, the rows dropped and the mentions replaced.
    """
    tokens = traces.tokens
    id_heads = headers(ID_COLUMNS)
    dropped = 0

    def cells(row: str) -> list[str]:
        return [html.unescape(_TAG.sub("", c)).strip() for c in _CELL.findall(row)]

    def table(match: re.Match[str]) -> str:
        nonlocal dropped
        block = match.group(0)
        rows = _ROW.findall(block)
        head = next((r for r in rows if re.search(r"<th\b", r, re.I)), None)
        id_cols = [i for i, h in enumerate(cells(head)) if h.lower() in id_heads] if head else []

        def row(found: re.Match[str]) -> str:
            nonlocal dropped
            text = found.group(0)
            if "<td" not in text.lower():  # the header row
                return text
            values = cells(text)
            hit = (any(i < len(values) and values[i] in traces.ids for i in id_cols) if id_cols
                   else bool(set(values) & tokens))
            if hit:
                dropped += 1
                return ""
            return text

        return _ROW.sub(row, block)

    markup = _TABLE.sub(table, markup)
    mentions = 0

    def node(match: re.Match[str]) -> str:
        nonlocal mentions
        text, n = redact_text(match.group(1), traces)
        mentions += n
        return f">{text}<"

    return _TEXT_NODE.sub(node, markup), dropped, mentions


def read_csv(path: Path) -> tuple[csv.Dialect | type[csv.Dialect], list[str], list[list[str]], dict[str, Any]]:
    """A CSV export as (dialect, header, rows, how it was written: BOM and line ending)."""
    raw = Path(path).read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    first = text.split("\n", 1)[0]
    try:
        dialect = csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=dialect.delimiter))
    head, body = (rows[0], rows[1:]) if rows else ([], [])
    return dialect, head, body, {"bom": bom, "eol": "\r\n" if first.endswith("\r") else "\n"}


def scrub_csv(path: Path, target: Path, traces: Traces) -> str | None:
    """Drop the rows whose customer id is erased; redact other mentions (a ``referred_by``). ``None`` if unchanged."""
    dialect, head, rows, how = read_csv(path)
    id_cols = [i for i, h in enumerate(head) if h.strip().lower() in headers(ID_COLUMNS)]
    kept, dropped, mentions = [], 0, 0
    for row in rows:
        if any(i < len(row) and _clean(row[i]) in traces.ids for i in id_cols):
            dropped += 1
            continue
        cleaned = []
        for field in row:
            new, n = redact_text(field, traces)
            mentions += n
            cleaned.append(new)
        kept.append(cleaned)
    if not dropped and not mentions:
        return None
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=dialect.delimiter, lineterminator=how["eol"])
    writer.writerow(head)
    writer.writerows(kept)
    target.write_bytes((b"\xef\xbb\xbf" if how["bom"] else b"") + buffer.getvalue().encode("utf-8"))
    return _summary(dropped, mentions)


def scrub_xlsx(path: Path, target: Path, traces: Traces) -> str | None:
    """Delete the sheet rows whose id column holds an erased id; redact other mentions in text cells."""
    import openpyxl

    from crmlib.report import inert

    book = openpyxl.load_workbook(path)
    id_heads = headers(ID_COLUMNS)
    dropped = mentions = 0
    for sheet in book.worksheets:
        id_cols = [c.column for c in sheet[1] if isinstance(c.value, str) and c.value.strip().lower() in id_heads]
        doomed = [r for r in range(2, sheet.max_row + 1)
                  if any(_clean(sheet.cell(row=r, column=c).value) in traces.ids for c in id_cols)]
        for r in reversed(doomed):
            sheet.delete_rows(r)
        dropped += len(doomed)
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    new, n = redact_text(cell.value, traces)
                    if n:
                        cell.value = new
                        mentions += n
        inert.inert_sheet(sheet)
    if not dropped and not mentions:
        return None
    book.save(target)
    return _summary(dropped, mentions)


def _scrub_json_value(value: Any, traces: Traces, counts: list[int], *, markup: bool) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(key, str) and key.startswith("image/"):
                out[key] = item  # base64 pictures: charts never name a customer
                continue
            if isinstance(key, str) and "/" in key and isinstance(item, list) and all(isinstance(x, str) for x in item):
                item = "".join(item)  # a notebook's multi-line output: one string, so rows are seen whole
            out[key] = _scrub_json_value(item, traces, counts, markup=markup)
        return out
    if isinstance(value, list):
        return [_scrub_json_value(v, traces, counts, markup=markup) for v in value]
    if isinstance(value, str):
        if markup and "<" in value:
            new, dropped, mentions = redact_markup(value, traces)
            counts[0] += dropped
            counts[1] += mentions
            return new
        new, n = redact_text(value, traces)
        counts[1] += n
        return new
    return value


def scrub_json(path: Path, target: Path, traces: Traces) -> str | None:
    """A JSON file or an executed notebook: table rows dropped from HTML outputs, other mentions redacted."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    counts = [0, 0]
    cleaned = _scrub_json_value(data, traces, counts, markup=path.suffix == ".ipynb")
    if not any(counts):
        return None
    indent = 1 if path.suffix == ".ipynb" else 2
    target.write_text(json.dumps(cleaned, indent=indent, ensure_ascii=False) + "\n", encoding="utf-8")
    return _summary(*counts)


def scrub_markup_file(path: Path, target: Path, traces: Traces) -> str | None:
    """An HTML page (or other text): rows dropped from its tables, other mentions redacted."""
    text = Path(path).read_text(encoding="utf-8")
    if path.suffix.lower() in (".html", ".htm"):
        new, dropped, mentions = redact_markup(text, traces)
    else:
        (new, mentions), dropped = redact_text(text, traces), 0
    if not dropped and not mentions:
        return None
    target.write_text(new, encoding="utf-8")
    return _summary(dropped, mentions)


def scrub_file(path: Path, target: Path, traces: Traces) -> str | None:
    """Write the cleaned copy of ``path`` to ``target``; ``None`` (nothing written) when nothing matched."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return scrub_csv(path, target, traces)
    if suffix == ".xlsx":
        return scrub_xlsx(path, target, traces)
    if suffix in (".json", ".ipynb"):
        return scrub_json(path, target, traces)
    if suffix in TEXT_SUFFIXES:
        return scrub_markup_file(path, target, traces)
    return None  # pictures and other binary files hold no customer data


def scrub_history(db: Path, target: Path, ids: Iterable[str]) -> int:
    """Write a new history database without the customers' rows; return how many rows were left out.

    A new file rather than ``DELETE`` in place: deleted rows can stay readable in a database file's free
    blocks until it is rewritten.
    """
    import duckdb

    from crmlib.core import history

    ids = sorted(ids)
    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    removed = 0
    try:
        con.execute(f"ATTACH '{str(db).replace(chr(39), chr(39) * 2)}' AS old (READ_ONLY)")
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_catalog = 'old'").fetchall()]
        for table in tables:
            cols = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                              "WHERE table_catalog = 'old' AND table_name = ?", [table]).fetchall()}
            keep = " AND ".join(f'(CAST("{c}" AS VARCHAR) IS NULL OR CAST("{c}" AS VARCHAR) NOT IN '
                                f"(SELECT unnest($ids::VARCHAR[])))" for c in ID_COLUMNS if c in cols) or "TRUE"
            name = '"' + table.replace('"', '""') + '"'
            if table == "runs":
                con.execute(history.RUNS_DDL)
                con.execute(f"INSERT INTO runs SELECT * FROM old.{name}")
            else:
                con.execute(f"CREATE TABLE {name} AS SELECT * FROM old.{name} WHERE {keep}", {"ids": ids})
                before = con.execute(f"SELECT count(*) FROM old.{name}").fetchone()[0]
                removed += before - con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        con.execute("DETACH old")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    wal = target.with_name(target.name + ".wal")
    if wal.exists():
        wal.unlink()
    return removed


def _summary(dropped: int, mentions: int) -> str:
    parts = []
    if dropped:
        parts.append(f"{dropped} rows dropped")
    if mentions:
        parts.append(f"{mentions} mentions replaced by {REDACTED}")
    return ", ".join(parts)

