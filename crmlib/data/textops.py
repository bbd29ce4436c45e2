"""Vectorised operations on text columns held by Arrow (pandas' ``str`` dtype), for 10M-row tables.

pandas 3's ``Series.isin`` on Arrow-backed text turns every candidate into a Python object first (seconds for
a few hundred thousand ids), and ``Series.map`` of a Python function boxes every value. These helpers hand
the same work to pyarrow's compute kernels and fall back to pandas for anything that is not Arrow text, so
results are the same either way (tested against the pandas forms).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def arrow_text(values: Any) -> pa.ChunkedArray | None:
    """``values`` (Series, Index, extension array) as an Arrow string array when Arrow already holds them as
    text; ``None`` otherwise (object columns, numbers, Python lists)."""
    array = values.array if isinstance(values, (pd.Series, pd.Index)) else values
    if not isinstance(getattr(array, "dtype", None), pd.StringDtype) or not hasattr(array, "__arrow_array__"):
        return None
    out = array.__arrow_array__()
    if isinstance(out, pa.Array):
        out = pa.chunked_array([out])
    if not (pa.types.is_string(out.type) or pa.types.is_large_string(out.type)):
        return None
    return out


def isin(values: Any, candidates: Any) -> np.ndarray:
    """``pd.Series(values).isin(candidates)`` as a numpy bool array (a missing value matches a missing one)."""
    left = arrow_text(values)
    right = _candidates(candidates) if left is not None else None
    if left is None or right is None:
        series = values if isinstance(values, pd.Series) else pd.Series(values)
        return series.isin(candidates).to_numpy(dtype=bool)
    value_set = pc.unique(right.cast(left.type))
    return pc.is_in(left, value_set=value_set, skip_nulls=False).fill_null(False).to_numpy(zero_copy_only=False)


def _candidates(candidates: Any) -> pa.ChunkedArray | None:
    if isinstance(candidates, (set, frozenset, list, tuple)):
        try:
            array = pa.array(list(candidates))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
        if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
            return None
        return pa.chunked_array([array])
    return arrow_text(candidates)


def strip_leading_zeros(values: Any) -> pa.ChunkedArray | None:
    """``crmlib.data.rules.strip_zeros`` of every value (``"00012"`` → ``"12"``, ``"000"`` → ``"0"``) as an Arrow
    array; ``None`` when ``values`` are not Arrow text."""
    text = arrow_text(values)
    if text is None:
        return None
    stripped = pc.utf8_ltrim(text, characters="0")
    return pc.if_else(pc.equal(stripped, ""), pa.scalar("0", stripped.type), stripped)
