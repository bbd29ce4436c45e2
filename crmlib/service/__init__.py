"""Customer service: complaint handling metrics, recurring problems and this week's follow-up lists.

Submodules: complaints, params, plots, report
(what the notebook shows: :func:`report.analyse`), triage. Parameters: ``params.DEFAULTS`` (documented) and
``params.check``; the practice's registry entry is in :mod:`crmlib.core.registry`.
"""

from crmlib.lazy import attach

#: the public names by the submodule that defines them; a submodule is imported when one of its names is
#: first used (:mod:`crmlib.lazy`), so that reading ``params`` or running a computation does not import
#: the report and plotting modules
EXPORTS: dict[str, tuple[str, ...]] = {
    "complaints": (
        "age_band_labels", "checkins", "open_by_age", "open_complaints", "recurring_categories",
        "recurring_products", "resolution_followups", "review_requests", "service_by_month",
        "service_metrics", "this_week",
    ),
    "params": ("DEFAULTS", "check"),
    "plots": (),
    "report": ("UNITS", "ServiceAnalysis", "analyse", "with_contacts"),
    "triage": ("flag_priority", "split_stale", "weekly_calls"),
}

__all__ = [
    "report",
    "UNITS",
    "ServiceAnalysis",
    "analyse",
    "params",
    "complaints",
    "plots",
    "triage",
    "flag_priority",
    "split_stale",
    "weekly_calls",
    "DEFAULTS",
    "age_band_labels",
    "check",
    "checkins",
    "open_by_age",
    "open_complaints",
    "recurring_categories",
    "recurring_products",
    "resolution_followups",
    "review_requests",
    "service_by_month",
    "service_metrics",
    "this_week",
    "with_contacts",
]

__getattr__, __dir__ = attach(__name__, EXPORTS, __all__)
