"""The one required-columns check that every practice module's entry points use, so messages never drift."""

from __future__ import annotations

from collections.abc import Sequence

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
    the result (values, dtypes, index) is the same.
    """
    if keep.all():
        return frame
    columns = {}
    mask = pa.array(keep)
    for name in frame.columns:
        series = frame[name]
        text = textops.arrow_text(series) if series.dtype == "str" else None
        if text is not None:
            columns[name] = text.filter(mask).to_pandas().array
        else:
            columns[name] = series.array[keep]
    index = frame.index[keep]
    return pd.DataFrame({n: pd.Series(c, index=index, copy=False) for n, c in columns.items()},
                        columns=frame.columns)
