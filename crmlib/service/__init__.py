"""Customer service: complaint handling metrics, recurring problems and this week's follow-up lists.

Submodules: complaints, params, plots, report
(what the notebook shows: :func:`report.analyse`), triage. Parameters: ``params.DEFAULTS`` (documented) and
``params.check``; the practice's registry entry is in :mod:`crmlib.core.registry`.
"""

from crmlib.service import complaints, params, plots, report, triage
from crmlib.service.complaints import (
    age_band_labels,
    checkins,
    open_by_age,
    open_complaints,
    recurring_categories,
    recurring_products,
    resolution_followups,
    review_requests,
    service_by_month,
    service_metrics,
    this_week,
)
from crmlib.service.params import DEFAULTS, check
from crmlib.service.report import UNITS, ServiceAnalysis, analyse, with_contacts
from crmlib.service.triage import flag_priority, split_stale, weekly_calls

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
