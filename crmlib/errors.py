"""The workbook's exceptions: one base class, a shallow tree, and the one did-you-mean helper their
messages use."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable


class CrmError(Exception):
    """Base class of every error the workbook raises on purpose."""


class ParamsError(CrmError, ValueError):
    """The params file is missing, malformed, or has an unknown or invalid key."""


class DataError(CrmError, ValueError):
    """An input table cannot be read or fails a check; the message says where and what to do."""


class NotebookFailed(CrmError, RuntimeError):
    """A notebook raised while it ran; its failure page was written."""


def fold_name(name: str) -> str:
    """Return ``name`` case-, accent- and punctuation-folded (``Sipariş Tarihi`` → ``siparistarihi``)."""
    folded = name.replace("İ", "i").replace("I", "ı").casefold().replace("ı", "i")
    folded = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in folded if ch.isalnum() and not unicodedata.combining(ch))


def did_you_mean(name: str, candidates: Iterable[str]) -> list[str]:
    """Return the candidates that look like ``name``, best first (same letters ignoring case, accents and
    punctuation, else close by :func:`difflib.get_close_matches`); ``[]`` when none does.

    The one helper behind every "did you mean" of the workbook (params keys, tables, columns, sheets,
    notebooks, files).
    """
    candidates = [str(c) for c in candidates]
    target = fold_name(str(name))
    same = [c for c in candidates if fold_name(c) == target]
    if same:
        return same
    folded: dict[str, str] = {}
    for c in candidates:
        folded.setdefault(fold_name(c), c)
    close = difflib.get_close_matches(target, list(folded), n=3, cutoff=0.6)
    return [folded[c] for c in close]
