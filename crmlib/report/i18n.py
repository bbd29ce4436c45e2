"""The message catalogue: every visible word of the reports, in Turkish and English.

The catalogue is the union of ``crmlib/locales/*.yaml``. Each file maps a dotted key to one entry per
language::

    seg.title:
      en: Customer segmentation
      tr: Müşteri segmentasyonu

Placeholders use :py:meth:`str.format` syntax (``{n_customers}``); both languages must use the same ones.
Two format specs make grammar follow the number (values are passed already formatted):

- Turkish suffixes (:func:`crmlib.report.formatting.suffix`): ``{share:poss}`` → ``%27,2'si``,
  ``{amount:gen}`` → ``8.644 TL'nin``, ``{month:loc}`` → ``Haziran 2026'da``, ``{n:poss+acc}`` → ``1.953'ünü``.
- Plurals by CLDR category (:func:`crmlib.report.formatting.plural`): ``{n:plural:# order|# orders}`` →
  ``1 order`` / ``2 orders`` (``#`` is the value; Turkish keeps the noun singular and needs no spec).
"""

from __future__ import annotations

import string
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES: tuple[str, ...] = ("tr", "en")
#: libyaml's safe loader when PyYAML was built with it (the same documents, several times faster: every
#: notebook kernel loads the whole catalogue once)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def catalogue_files() -> list:
    """Every message file: the shared ones (``crmlib/report/locales/*.yaml``) and each practice's
    ``messages.yaml`` / ``*_messages.yaml`` in its own subpackage."""
    root = resources.files("crmlib")
    files = [e for e in (root / "report" / "locales").iterdir() if e.name.endswith(".yaml")]
    for pkg in root.iterdir():
        if pkg.is_dir() and not pkg.name.startswith(("_", ".")) and pkg.name != "report":
            files += [e for e in pkg.iterdir() if e.name == "messages.yaml" or e.name.endswith("_messages.yaml")]
    return sorted(files, key=lambda p: (p.name, str(p)))


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """Return the merged catalogue ``{key: {lang: text}}``; duplicate keys across files are an error."""
    merged: dict[str, dict[str, str]] = {}
    origin: dict[str, str] = {}
    for entry in catalogue_files():
        data = yaml.load(entry.read_text(encoding="utf-8"), Loader=_LOADER) or {}
        for key, texts in data.items():
            if key in merged:
                raise KeyError(f"message key {key!r} is defined in both {origin[key]} and {entry.name}")
            merged[key] = {lang: str(text) for lang, text in (texts or {}).items()}
            origin[key] = str(entry)
    return merged


def placeholders(text: str) -> set[str]:
    """Return the names of the ``{placeholders}`` in ``text``."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(text) if name}


def t(key: str, lang: str, /, **values: Any) -> str:
    """Return the message ``key`` in ``lang``, formatted with ``values``.

    Raises
    ------
    KeyError
        If the key or its language entry is missing (a missing translation is a bug, never silent).
    """
    if lang not in LANGUAGES:
        raise KeyError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
    try:
        text = catalogue()[key][lang]
    except KeyError:
        raise KeyError(f"message {key!r} has no {lang!r} text in crmlib/locales/*.yaml") from None
    return _Formatter(lang).vformat(text, (), values) if values else text


class _Formatter(string.Formatter):
    """:py:meth:`str.format` plus the suffix and plural specs (see the module docstring)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        from crmlib.report import formatting

        if format_spec.startswith("plural:"):
            return formatting.plural(value, self.lang, format_spec[len("plural:"):])
        if formatting.is_suffix_spec(format_spec):
            return formatting.suffix(value, format_spec, self.lang)
        return super().format_field(value, format_spec)


def table_label(table: str, lang: str) -> str:
    """An input table's name for readers (``common.table.<table>``; the name itself otherwise)."""
    key = f"common.table.{table}"
    return t(key, lang) if has(key) else table


def field_label(table: str, column: str, lang: str) -> str:
    """An input column's name for readers (``field.<table>.<column>``, e.g. ``Doğum tarihi`` for
    ``customers.birth_date``); the column itself when the catalogue has no entry."""
    key = f"field.{table}.{column}"
    return t(key, lang) if column and has(key) else column


def has(key: str) -> bool:
    """Whether ``key`` exists in the catalogue."""
    return key in catalogue()
