"""Customer-id lookups on text columns, done by Arrow (shared by the practices' lists).

pandas' ``isin`` on an Arrow text column builds one Arrow scalar per looked-up value in Python: seconds for
hundreds of thousands of ids.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def _arrow(values: pd.Series) -> pa.Array:
    arr = pa.array(values, from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def isin(values: pd.Series, wanted: pd.Series) -> np.ndarray:
    """``values.isin(wanted).to_numpy()``: by Arrow's ``is_in`` when both are text columns (a missing value
    matches a missing one, as in pandas), else by pandas.

    Parameters
    ----------
    values
        The values to test.
    wanted
        The values looked for.

    Returns
    -------
    numpy.ndarray
        One bool per row of ``values``.
    """
    if not (isinstance(values.dtype, pd.StringDtype) and isinstance(wanted.dtype, pd.StringDtype)):
        return values.isin(wanted).to_numpy(dtype=bool)
    if not len(values) or not len(wanted):
        return np.zeros(len(values), dtype=bool)
    left = _arrow(values)
    right = _arrow(wanted).cast(left.type)
    return pc.is_in(left, value_set=right, skip_nulls=False).fill_null(False).to_numpy(zero_copy_only=False)


__all__ = ["isin"]
