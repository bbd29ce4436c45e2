"""Product families: which products are versions of the same item (the only fair premium alternatives).

A premium alternative is the same item one step up ("Zımba Standart" → "Zımba Premium"), never another
product of the category ("Zımba Standart" → "Hesap Makinesi Premium"). The family comes from the products
table's ``family`` column when it has one, else from names that differ only by a tier word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

#: words that name a version of an item rather than the item (Turkish and English price-list usage)
TIER_WORDS: tuple[str, ...] = (
    "standart", "standard", "premium", "ekonomik", "ekonomi", "economy", "eco", "lüks", "luks", "lux", "deluxe",
    "plus", "pro", "gold", "basic", "temel", "klasik", "classic", "elite", "ekstra", "extra", "süper", "super",
)

_FOLD = str.maketrans({"I": "ı", "İ": "i"})


def _fold(text: str) -> str:
    """Lower case with Turkish dotted/dotless i kept apart (``str.lower`` maps "I" to "i")."""
    return text.translate(_FOLD).lower()


def family_key(names: pd.Series, *, tier_words: Iterable[str] = TIER_WORDS) -> pd.Series:
    """The name without its tier words, folded to lower case and single spaces (missing for no name).

    "Zımba Standart" and "ZIMBA  Premium" share the key "zımba"; "Hesap Makinesi Standart" does not. A name
    made of tier words only has no key.
    """
    words = {_fold(w) for w in tier_words}
    pattern = re.compile(r"[\w'’.]+")

    def key(name: object) -> object:
        if not isinstance(name, str) or not name.strip():
            return np.nan
        kept = [w for w in pattern.findall(_fold(name)) if w.strip(".") not in words]
        return " ".join(kept) if kept else np.nan

    return names.map(key)


def product_families(products: pd.DataFrame, *, tier_words: Iterable[str] = TIER_WORDS) -> pd.Series:
    """Each product's family, indexed by ``product_id`` (str): the ``family`` column where given, else
    :func:`family_key` of the ``name``; missing when neither is known (no premium alternative then).

    Required columns: ``product_id``; optional ``family``, ``name``.
    """
    info = products.dropna(subset=["product_id"]).assign(product_id=lambda d: d["product_id"].astype(str))
    info = info.drop_duplicates("product_id").set_index("product_id")
    out = pd.Series(np.nan, index=info.index, dtype=object, name="family")
    if "name" in info.columns:
        out = family_key(info["name"], tier_words=tier_words).astype(object).rename("family")
    if "family" in info.columns:
        given = info["family"].where(info["family"].astype(str).str.strip() != "")
        out = ("f:" + given.astype(str)).where(given.notna(), out)
    return out


__all__ = ["TIER_WORDS", "family_key", "product_families"]
