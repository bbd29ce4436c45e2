"""The notes of the data-quality section: what the loader fixed, dropped or counted, worded in the report's
language from the message catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Note:
    """Something the loader fixed, dropped or counted, for the data-quality section.

    ``kind`` selects the catalogue message ``dq.note.<kind>`` (crmlib/locales/dq.yaml); ``examples`` are
    (spreadsheet line, value) pairs; ``message`` is the English sentence for logs and the CLI.
    """

    table: str
    column: str | None
    kind: str
    count: int
    message: str
    examples: list[tuple[int, Any]] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str, *, currency: str = "TRY") -> str:
        """Return the note in ``lang`` from the message catalogue, numbers in that language's style."""
        # imported here: the loader itself needs no report layer (matplotlib and the catalogue cost about 0.6 s
        # of every process that only loads data)
        from crmlib.report import formatting
        from crmlib.report.i18n import field_label, t, table_label

        def shown(key: str, value: Any) -> Any:
            if key == "total":
                return formatting.money(value, lang, currency)
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            return formatting.number(value, lang) if numeric else value

        values = {k: shown(k, v) for k, v in self.values.items()}
        return t(f"dq.note.{self.kind}", lang, table=table_label(self.table, lang),
                 column=field_label(self.table, self.column or "", lang),
                 count=formatting.number(self.count, lang), **values)
