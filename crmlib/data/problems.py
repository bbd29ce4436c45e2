"""Where a data problem is and how it is worded: spreadsheet lines (and sheets), the file, the one
:class:`~crmlib.errors.DataError` per problem. Shared by the readers, the reading and the checks of
:mod:`crmlib.data` (so that none of them imports another's internals)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from crmlib.errors import DataError

#: Examples quoted in a message.
MAX_EXAMPLES = 5


def line_number(detected: Mapping[str, Any], layout: Mapping[str, Any], position: int) -> int:
    """Return the spreadsheet line of the row read at ``position`` (a :class:`SheetLine` across sheets)."""
    lines = layout.get("lines")
    if lines is not None:
        sheets = detected.get("sheet") or []
        return SheetLine(int(lines[int(position)]), sheets[int(layout["sheets_of_rows"][int(position)])])
    return int(position) + int(detected.get("first_line", 2))


class SheetLine(int):
    """A spreadsheet line that also names its sheet (``12 of sheet '2025'``)."""

    sheet: str

    def __new__(cls, line: int, sheet: str) -> SheetLine:
        out = super().__new__(cls, line)
        out.sheet = sheet
        return out

    def __getnewargs__(self) -> tuple[int, str]:  # copies and pickles keep the sheet
        return int(self), self.sheet

    def __format__(self, spec: str) -> str:
        return f"{int(self):{spec}} (sheet {self.sheet!r})"

    def __repr__(self) -> str:
        return format(self)


class Place(str):
    """A file path for messages that remembers the sheet it was read from."""

    sheet: Any

    def __new__(cls, path: Path | str, sheet: Any = None) -> Place:
        out = super().__new__(cls, str(path))
        out.sheet = sheet
        return out


def where(table: str, path: Path | str, column: str | None = None, source: str | None = None) -> str:
    """Return the 'where' part of a message: table, file and column (ours and the file's)."""
    sheet = getattr(path, "sheet", None)
    shown = (f", sheets {sheet}" if isinstance(sheet, list) else f", sheet {sheet!r}") if sheet else ""
    text = f"Table {table!r} (file {str(path)!r}{shown})"
    if column:
        text += f", column {column!r}"
        if source and source != column:
            text += f" (in the file: {source!r})"
    return text


def format_rows(rows: Iterable[tuple[int, Any]]) -> str:
    """Return ``line 5: '12,3,4'; line 9: 'abc'`` for up to five (line, value) pairs."""
    return "; ".join(f"line {line}: {value!r}" for line, value in list(rows)[:MAX_EXAMPLES])


def data_error(table: str, path: Path | str, what: str, todo: str, *, column: str | None = None,
               source: str | None = None, rows: Sequence[tuple[int, Any]] = ()) -> DataError:
    """Return the one :class:`DataError` for a problem: where, what (with rows and values), what to do."""
    text = f"{where(table, path, column, source)}: {what}"
    if rows:
        text += f" First rows: {format_rows(rows)}."
    return DataError(f"{text} What to do: {todo}")


def lines_of(series: pd.Series, values: Iterable[Any]) -> list[tuple[int, Any]]:
    """Return (spreadsheet line, value) of the first row holding each of ``values``."""
    out = []
    for value in list(values)[:MAX_EXAMPLES]:
        hits = series.index[(series == value).fillna(False).to_numpy(dtype=bool)]
        if len(hits):
            out.append((int(hits[0]) + 2, value))
    return out
