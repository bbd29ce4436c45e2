"""Overview: what data the run saw, KPIs, revenue over time, order values, and what the loader fixed.

Submodules: changes, coverage, kpis, params, plots, report (what the notebook shows:
:func:`report.analyse`), summary. Parameters: ``params.DEFAULTS`` (documented) and
``params.check``; the practice's registry entry is in :mod:`crmlib.core.registry`.
"""

from crmlib.overview import changes, coverage, kpis, params, plots, report, summary
from crmlib.overview.changes import what_got_worse
from crmlib.overview.kpis import (
    KPI_DEFAULTS,
    KPI_UNITS,
    cac_by_channel,
    cohort_average,
    cohort_retention,
    csat,
    kpis_by_period,
    monthly_kpis,
    nps,
    repeat_customer_share,
    survey_scores,
    survey_trend,
    window_kpis,
)
from crmlib.overview.report import (
    UNITS,
    OverviewAnalysis,
    analyse,
    field_label,
    format_kpi,
    kpi_table,
    left_out_table,
    quality_notes,
    table_label,
    worse_sentence,
)
from crmlib.overview.summary import (
    active_customers,
    headline,
    last_complete_month,
    missing_values,
    monthly,
    order_values,
    tables_used,
)

__all__ = [
    "changes",
    "active_customers",
    "what_got_worse",
    "worse_sentence",
    "coverage",
    "report",
    "UNITS",
    "OverviewAnalysis",
    "analyse",
    "left_out_table",
    "kpis",
    "params",
    "plots",
    "summary",
    "KPI_DEFAULTS",
    "KPI_UNITS",
    "cac_by_channel",
    "cohort_average",
    "cohort_retention",
    "csat",
    "field_label",
    "format_kpi",
    "headline",
    "kpi_table",
    "kpis_by_period",
    "last_complete_month",
    "missing_values",
    "monthly",
    "monthly_kpis",
    "nps",
    "order_values",
    "quality_notes",
    "repeat_customer_share",
    "survey_scores",
    "survey_trend",
    "table_label",
    "tables_used",
    "window_kpis",
]
