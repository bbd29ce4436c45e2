"""The one required-columns check that every practice module's entry points use, so messages never drift."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from crmlib.data import textops
from crmlib.errors import DataError


def require_columns(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    """Raise :class:`DataError` naming the columns of ``columns`` that ``frame`` (the table ``name``) lacks.

    The message lists what the frame has and says how to fix it: map the column in the params file, or
    build the frame with :mod:`crmlib.data.tables`.
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{name} lacks the column(s) {', '.join(missing)} (has: {', '.join(map(str, list(frame.columns)[:12]))}); "
            f"map them under data.{name}.columns in the params file, or build the frame with crmlib.data.tables."
        )


def keep_rows(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """Return ``frame.loc[keep]`` (``keep`` a boolean mask by position), filtering Arrow text with Arrow.

    pandas takes rows of Arrow text by position, which costs about ten times pyarrow's filter on 10M rows;
    the other columns are taken by pandas, block by block. The result (values, dtypes, index) is the same.
    """
    if keep.all():
        return frame
    text = {name: textops.arrow_text(frame[name]) for name in frame.columns if frame[name].dtype == "str"}
    text = {name: values for name, values in text.items() if values is not None}
    if not text or frame.columns.has_duplicates:
        return frame.loc[keep]
    out = frame.drop(columns=list(text)).loc[keep]
    mask = pa.array(keep)
    for position, name in enumerate(frame.columns):  # back in their places, left to right
        if name in text:
            out.insert(position, name, pd.Series(text[name].filter(mask).to_pandas().array, index=out.index,
                                                 copy=False))
    return out


def map_distinct(values: pd.Series, func: Callable[[Any], Any]) -> pd.Series:
    """``values.map(func)`` with ``func`` called once per distinct value (a missing value included).

    The distinct values are mapped as a Series of the same dtype, so the result's dtype is the one
    ``values.map(func)`` infers from the same results.
    """
    codes, _ = pd.factorize(values, use_na_sentinel=False)
    firsts = np.unique(codes, return_index=True)[1]  # codes number the values in order of first appearance
    mapped = values.iloc[firsts].map(func)
    return pd.Series(mapped.array.take(codes), index=values.index, name=values.name)
