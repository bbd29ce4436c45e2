"""Customer-service params: the ``service`` section of the params file, its defaults and its checks.

:data:`DEFAULTS` documents every key; :func:`check` runs when the params file loads, so a bad value stops
the run with one message before any notebook starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmlib.core.params import Check

DEFAULTS: dict = {
    # upper bounds (days, inclusive) of the age bands of open complaints; the last band is "older";
    # 7/30/90 follow the ageing buckets of receivables reports (0-7, 8-30, 31-90, over 90 days)
    "open_age_bands_days": [7, 30, 90],
    # recurring problems are looked for in the last N days
    "recurring_lookback_days": 90,
    # a category or product is "recurring" with at least N complaints in the lookback ...
    "recurring_min_complaints": 3,
    # ... and, for products, when complaints per order containing the product reach this rate
    # (1 complaint in 20 orders: a rate far above the 1-2 % defect levels of distribution quality audits)
    "recurring_min_rate": 0.05,
    # "is everything all right?" call N days after a complaint was resolved
    "followup_after_resolution_days": 7,
    # review request N days after an order (time for the goods to arrive and be used)
    "review_request_days": 7,
    # check-ins N days after a customer's first order (onboarding calls)
    "checkin_days": [15, 30],
    # length of "this week" (days starting at as_of)
    "week_days": 7,
    # complaints open this long or longer are stale records (a ticket nobody closed), listed apart; the same
    # limit as churn.tickets_open_max_age_days, so that both pages call the same tickets open
    "stale_open_days": 365,
    # open complaints of customers in these segments are flagged and listed first ("can't lose them": big,
    # frequent buyers who have gone quiet; an unresolved complaint is the likeliest reason)
    "priority_segments": ["cant_lose"],
    # review requests the team can make in a week (the most valuable orders first; null = all): one rep's
    # ten short calls a day over a five-day week, a judgement default to set to your team's capacity
    "review_calls_per_week": 50,
    # per-customer contact-frequency cap for the follow-up lists: nobody reached (contacts table) within
    # this many days is called again (two weeks, as churn.min_days_between_calls)
    "min_days_between_calls": 14,
}


def check(params: Mapping[str, Any]) -> None:
    """Raise :class:`~crmlib.errors.ParamsError` for a ``service`` value that cannot work (merged section)."""
    c = Check("service", params, DEFAULTS)
    c.increasing("open_age_bands_days", low=0, what="increasing non-negative days (upper bounds of the bands)")
    c.increasing("checkin_days", low=1, what="increasing days after the first order, each >= 1")
    for key in ("recurring_lookback_days", "recurring_min_complaints", "followup_after_resolution_days",
                "review_request_days", "week_days"):
        c.positive(key)
    c.share("recurring_min_rate")
    c.positive("stale_open_days")
    c.number("min_days_between_calls", low=0, whole=True)
    c.number("review_calls_per_week", low=1, whole=True, optional=True, what="a whole number >= 1 or null (all)")
    segments = c.get("priority_segments")
    if not isinstance(segments, (list, tuple)) or not all(isinstance(v, str) for v in segments):
        raise c.fail("priority_segments", "a list of segment codes (possibly empty)")
