"""Overview options: fixed, documented constants, not a params section.

The overview shows the same windows for every business so that reports stay comparable week to week; the
practice registry therefore declares no params section for it, and there is nothing to check at load.
"""

from __future__ import annotations

from typing import Any

#: KPI options (``crmlib.overview.kpis.KPI_DEFAULTS``).
DEFAULTS: dict[str, Any] = {
    # rolling windows compared with the window just before them (days): the usual 30/90-day views of
    # retail dashboards (Farris et al. 2010 recommend a period matching the purchase cycle).
    "windows_days": (30, 90),
    # number of calendar months in the monthly table and chart
    "months": 12,
    # cohorts (first-order months) and months since the first order shown in the retention heatmap
    "cohort_months": 12,
    # survey window for the headline NPS/CSAT (days), compared with the window before it
    "survey_days": 90,
    # months of marketing spend used for CAC by channel
    "cac_months": 12,
}
