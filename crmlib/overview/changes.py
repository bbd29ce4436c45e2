"""What got worse since the previous period: the figures a manager should hear about first.

Each comparison is over a stated window against the window of the same length just before it (the windows
of :func:`crmlib.overview.kpis.window_kpis` and :func:`crmlib.overview.kpis.survey_scores`): active
customers and revenue, NPS and CSAT, and the count of complaints per category. Only changes for the worse
beyond a small tolerance are reported; the sentence naming them is
:func:`crmlib.overview.report.worse_sentence` (catalogue ``ov.worse.*``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlib.overview.kpis import KPI_DEFAULTS, survey_scores, window_kpis

#: a change counts as "worse" beyond these tolerances (noise floor of small samples): 5% fewer active
#: customers or revenue, 1 NPS point, 1 CSAT percentage point, and complaints of a category up by at least
#: 20% and 5 complaints
TOLERANCE: dict[str, float] = {"relative": 0.05, "nps_points": 1.0, "csat_points": 0.01,
                               "complaints_share": 0.20, "complaints_min": 5}

COLUMNS = ["item", "label", "previous", "current", "unit", "days"]


def complaint_categories(tickets: pd.DataFrame, *, as_of: Any, days: int) -> pd.DataFrame:
    """Complaints per category in the last ``days`` days, (as_of - days, as_of], and the ``days`` before.

    Required columns: ``opened_at``, ``category``. Returns ``category``, ``current``, ``previous``.
    """
    as_of = pd.Timestamp(as_of).normalize()
    age = (as_of - pd.to_datetime(tickets["opened_at"]).dt.normalize()) // pd.Timedelta(days=1)
    window = pd.Series(np.where(age >= 0, age // days, -1), index=tickets.index)
    frame = pd.DataFrame({"category": tickets["category"], "window": window})
    frame = frame.loc[frame["category"].notna() & frame["window"].isin([0, 1])]
    counts = frame.groupby(["category", "window"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=[0, 1], fill_value=0)
    return counts.set_axis(["current", "previous"], axis=1).rename_axis("category").reset_index()


def what_got_worse(orders: pd.DataFrame, tables: Mapping[str, pd.DataFrame | None] | None = None, *,
                   as_of: Any, days: int = KPI_DEFAULTS["windows_days"][-1],
                   survey_days: int = KPI_DEFAULTS["survey_days"], kpis: pd.DataFrame | None = None) -> pd.DataFrame:
    """The figures that got worse over the last ``days`` (or ``survey_days``) against the period before.

    Parameters
    ----------
    orders
        ``customer_id``, ``order_id``, ``order_date``, ``amount`` (``is_purchase`` optional).
    tables
        Optional ``surveys`` (``date``, ``nps`` and/or ``csat``) and ``tickets`` (``opened_at``,
        ``category``); a missing table leaves its items out.
    kpis
        ``window_kpis(orders, as_of=as_of, days=days)`` when already computed (it is not computed again).

    Returns
    -------
    DataFrame
        ``item`` (``active_customers``, ``revenue``, ``nps``, ``csat``, ``complaints``), ``label`` (the
        complaint category), ``previous``, ``current``, ``unit`` (count, money, points, pct), ``days`` (the
        window); worst first within each kind, in the order above.
    """
    tables = tables or {}
    rows: list[dict[str, Any]] = []
    tol = TOLERANCE
    kpis = window_kpis(orders, as_of=as_of, days=days) if kpis is None else kpis
    for key, unit in (("active_customers", "count"), ("revenue", "money")):
        cur, prev = float(kpis.loc[key, "current"]), float(kpis.loc[key, "previous"])
        if np.isfinite(prev) and prev > 0 and cur < prev * (1 - tol["relative"]):
            rows.append({"item": key, "label": "", "previous": prev, "current": cur, "unit": unit, "days": days})
    surveys = tables.get("surveys")
    if surveys is not None and "date" in surveys.columns and ({"nps", "csat"} & set(surveys.columns)):
        scores = survey_scores(surveys, as_of=as_of, days=survey_days)
        for key, unit, limit in (("nps", "points", tol["nps_points"]), ("csat", "pct", tol["csat_points"])):
            cur, prev = float(scores.loc["current", key]), float(scores.loc["previous", key])
            if np.isfinite(cur) and np.isfinite(prev) and cur < prev - limit:
                rows.append({"item": key, "label": "", "previous": prev, "current": cur, "unit": unit,
                             "days": survey_days})
    tickets = tables.get("tickets")
    if tickets is not None and {"opened_at", "category"} <= set(tickets.columns):
        cats = complaint_categories(tickets, as_of=as_of, days=days)
        up = cats.loc[(cats["current"] >= cats["previous"] + tol["complaints_min"])
                      & (cats["current"] >= cats["previous"] * (1 + tol["complaints_share"]))]
        up = up.assign(rise=up["current"] - up["previous"]).sort_values(["rise", "category"], ascending=[False, True])
        for _, r in up.iterrows():
            rows.append({"item": "complaints", "label": str(r["category"]), "previous": float(r["previous"]),
                         "current": float(r["current"]), "unit": "count", "days": days})
    return pd.DataFrame(rows, columns=COLUMNS)


__all__ = ["TOLERANCE", "complaint_categories", "what_got_worse"]
