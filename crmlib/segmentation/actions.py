"""What to do with the segments: migration since the previous run and marketing consent.

The functions here take the per-customer table of :func:`crmlib.segmentation.rfm.segment_table` and hold no
wording: names, strategies, contact lists and sentences are in :mod:`crmlib.segmentation.report`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmlib.data.frames import require_columns
from crmlib.segmentation.params import DEFAULTS

#: migration labels: customers absent from the previous run (row) or from this run (column)
ENTERED = "entered"
GONE = "gone"
_TRUE = {"1", "1.0", "true", "t", "yes", "y", "evet", "e", "x", "var", "onay", "onaylı", "onayli"}


def _distinct(values: pd.Series) -> set:
    """``set(values)`` from one NumPy array of the distinct values (not iterating an Arrow column)."""
    return set(np.asarray(values.unique(), dtype=object))


# -- migration --------------------------------------------------------------------------------------------
def migration(previous: pd.DataFrame | None, current: pd.DataFrame, *, order: Sequence[str] | None = None,
              drop_empty: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Segment transitions since the previous run and the customers who moved down.

    Parameters
    ----------
    previous
        The previous run's rows (``ctx.previous_history("segments")``): ``customer_id``, ``rfm_segment``,
        optionally ``abc_tier``; ``None`` on a first run (every customer then counts as entered).
    current
        This run's table: ``customer_id``, ``rfm_segment``, optionally ``abc_tier`` and ``monetary``.
    order
        Segment codes best to worst (default ``DEFAULTS["segment_order"]``).

    Returns
    -------
    (matrix, moved_down)
        ``matrix``: customer counts, rows = previous segment plus ``entered`` (not in the previous run),
        columns = current segment plus ``gone`` (not in this run); empty rows and columns dropped when
        ``drop_empty``. ``moved_down``: customers in both runs whose segment comes later in ``order`` than
        before, or whose tier fell (A > B > C): ``customer_id, previous_segment, rfm_segment, steps,
        segment_down, previous_tier, abc_tier, tier_down`` (+ ``monetary``), biggest falls first.
    """
    order = list(DEFAULTS["segment_order"] if order is None else order)
    require_columns(current, ["customer_id", "rfm_segment"], "current segments")
    if previous is None:
        previous = pd.DataFrame({"customer_id": pd.Series(dtype=object), "rfm_segment": pd.Series(dtype=object)})
    require_columns(previous, ["customer_id", "rfm_segment"], "previous segments")
    prev_cols = ["customer_id", "rfm_segment"] + (["abc_tier"] if "abc_tier" in previous.columns else [])
    prev = previous[prev_cols].rename(columns={"rfm_segment": "previous_segment", "abc_tier": "previous_tier"})
    prev = prev.assign(customer_id=prev["customer_id"].astype(str)).drop_duplicates("customer_id")
    cur = current.assign(customer_id=current["customer_id"].astype(str))
    both = prev.merge(cur, on="customer_id", how="outer", indicator=True)
    rows = both["previous_segment"].where(both["_merge"] != "right_only", ENTERED)
    cols = both["rfm_segment"].where(both["_merge"] != "left_only", GONE)
    known = set(order) | {ENTERED, GONE}
    extra = sorted((_distinct(rows) | _distinct(cols)) - known)
    matrix = pd.crosstab(rows, cols).reindex(index=[*order, *extra, ENTERED], columns=[*order, *extra, GONE],
                                             fill_value=0).astype("int64")
    matrix.index.name, matrix.columns.name = "previous", "current"
    if drop_empty:
        matrix = matrix.loc[matrix.sum(axis=1) > 0, matrix.sum(axis=0) > 0]

    rank = {code: i for i, code in enumerate([*order, *extra])}
    stay = both.loc[both["_merge"] == "both"].copy()
    stay["steps"] = (stay["rfm_segment"].map(rank).astype(float)
                     - stay["previous_segment"].map(rank).astype(float)).astype("int64")
    stay["segment_down"] = stay["steps"] > 0
    if "previous_tier" in stay.columns and "abc_tier" in stay.columns:
        stay["tier_down"] = stay["abc_tier"].astype(str) > stay["previous_tier"].astype(str)
        stay.loc[stay["previous_tier"].isna() | stay["abc_tier"].isna(), "tier_down"] = False
    else:
        stay["tier_down"] = False
        stay["previous_tier"] = stay.get("previous_tier", np.nan)
        stay["abc_tier"] = stay.get("abc_tier", np.nan)
    down = stay.loc[stay["segment_down"] | stay["tier_down"]]
    columns = ["customer_id", "previous_segment", "rfm_segment", "steps", "segment_down", "previous_tier",
               "abc_tier", "tier_down"] + (["monetary"] if "monetary" in down.columns else [])
    sort = ["steps", "monetary"] if "monetary" in down.columns else ["steps"]
    down = down.sort_values([*sort, "customer_id"], ascending=[False] * len(sort) + [True], kind="stable")
    return matrix, down[columns].reset_index(drop=True)


# -- consent ----------------------------------------------------------------------------------------------
def consent_given(values: pd.Series) -> pd.Series:
    """Whether each ``marketing_consent`` value says yes (1, true, yes, evet, ...); missing = no.

    Missing counts as no: commercial electronic messages need the recipient's prior consent in Turkey
    (Law 6563 on e-commerce, art. 6; KVKK, Law 6698).
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.fillna(False).astype(bool)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.fillna(0).astype(float) > 0
    text = values.map(lambda v: re.sub(r"\s+", "", str(v)).lower() if pd.notna(v) else "")
    return text.isin(_TRUE)


def missing_consent(table: pd.DataFrame, customers: pd.DataFrame | None, *,
                    segments: Sequence[str] | None = None) -> int | None:
    """How many customers :func:`contact_list` leaves out for missing marketing consent (``None``: no
    ``marketing_consent`` column, nobody is left out for it)."""
    if customers is None or "marketing_consent" not in customers.columns:
        return None
    ids = table.loc[table["rfm_segment"].isin(list(segments)) if segments is not None else slice(None), "customer_id"]
    info = customers.drop_duplicates("customer_id").set_index("customer_id")["marketing_consent"]
    return int((~consent_given(ids.map(info))).sum())
