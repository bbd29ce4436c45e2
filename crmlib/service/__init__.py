"""Service: customer service: complaint handling metrics, recurring problems and this week's follow-up lists.

Submodules: complaints, plots, triage.
"""

from crmlib.service import complaints, plots, triage
from crmlib.service.complaints import (
    DEFAULTS,
    age_band_labels,
    check_params,
    checkins,
    logger,
    open_by_age,
    open_complaints,
    recurring_categories,
    recurring_products,
    resolution_followups,
    review_requests,
    service_by_month,
    service_metrics,
    this_week,
    with_contacts,
)
from crmlib.service.triage import flag_priority, split_stale, weekly_calls

__all__ = [
    "complaints",
    "plots",
    "triage",
    "flag_priority",
    "split_stale",
    "weekly_calls",
    "DEFAULTS",
    "age_band_labels",
    "check_params",
    "checkins",
    "logger",
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
