"""Overview: what data the run saw, KPIs, revenue over time, order values, and what the loader fixed.

Submodules: changes, coverage, kpis, params, plots, report (what the notebook shows:
:func:`report.analyse`), summary. Parameters: ``params.DEFAULTS`` (documented) and
``params.check``; the practice's registry entry is in :mod:`crmlib.core.registry`.
"""

from crmlib.lazy import attach

#: the public names by the submodule that defines them; a submodule is imported when one of its names is
#: first used (:mod:`crmlib.lazy`), so that reading ``params`` or running a computation does not import
#: the report and plotting modules
EXPORTS: dict[str, tuple[str, ...]] = {
    "changes": ("what_got_worse",),
    "coverage": (),
    "kpis": (
        "KPI_DEFAULTS", "KPI_UNITS", "cac_by_channel", "cohort_average", "cohort_retention", "csat",
        "kpis_by_period", "monthly_kpis", "nps", "repeat_customer_share", "survey_scores", "survey_trend",
        "window_kpis",
    ),
    "params": (),
    "plots": (),
    "report": (
        "UNITS", "OverviewAnalysis", "analyse", "field_label", "format_kpi", "kpi_table", "left_out_table",
        "quality_notes", "table_label", "worse_sentence",
    ),
    "summary": (
        "active_customers", "headline", "last_complete_month", "missing_values", "monthly", "order_values",
        "tables_used",
    ),
}

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

__getattr__, __dir__ = attach(__name__, EXPORTS, __all__)
