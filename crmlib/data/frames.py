"""The one required-columns check that every practice module's entry points use, so messages never drift."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

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
