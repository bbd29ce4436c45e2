"""Whether a loyalty offer makes business sense: discount cost against margin, tiers from the company's own
spend, and the person a special-day call is addressed to.

Pure functions on the frames of :mod:`crmlib.loyalty.programme`, without wording: the spend bands' names and
the special-day messages are in :mod:`crmlib.loyalty.report`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlib.data.frames import require_columns
from crmlib.data.textops import isin
from crmlib.errors import ParamsError
from crmlib.loyalty.params import ARTICLE_THRESHOLDS, DEFAULTS, resolve

#: words of a Turkish (and common foreign) legal form: a customer named with one is a company, and a
#: company has no birthday
LEGAL_FORMS = re.compile(
    r"(?<![\w])(?:a\.?\s?ş\.?|ltd\.?|şti\.?|limited|anonim|koll\.?|kom\.?|holding|kooperatif|"
    r"san\.?|tic\.?|inc\.?|llc|gmbh|co\.|corp\.?|plc)(?![\w])",
    re.IGNORECASE,
)


# -- volume discounts weighed against margin --------------------------------------------------------------
def discount_economics(tiers: pd.DataFrame, orders: pd.DataFrame, *, as_of: pd.Timestamp,
                       months: int = DEFAULTS["tier_months"]) -> dict[str, float]:
    """The monthly cost of the volume discounts as a share of the monthly gross margin, same window.

    Parameters
    ----------
    tiers
        From :func:`crmlib.loyalty.programme.discount_tiers`: ``monthly_discount_cost``.
    orders
        ``order_date``, ``amount`` and ``margin`` (NaN where the cost is unknown).

    Returns
    -------
    dict
        ``monthly_cost``, ``monthly_revenue`` and ``monthly_margin`` over the tier window
        (as_of - months, as_of], ``cost_share_of_margin`` (NaN when no margin is known),
        ``margin_coverage`` (the share of the window's revenue whose margin is known).
    """
    require_columns(tiers, ("monthly_discount_cost",), "tiers")
    require_columns(orders, ("order_date", "amount"), "orders")
    as_of = pd.Timestamp(as_of).normalize()
    window = orders[(orders["order_date"] > as_of - pd.DateOffset(months=months)) & (orders["order_date"] <= as_of)]
    revenue = float(window["amount"].sum()) / months
    margin = window["margin"] if "margin" in window.columns else pd.Series(np.nan, index=window.index)
    known = margin.notna()
    coverage = float(window.loc[known, "amount"].sum()) / (revenue * months) if revenue else float("nan")
    monthly_margin = float(margin[known].sum()) / months if known.any() else float("nan")
    cost = float(tiers["monthly_discount_cost"].sum())
    share = cost / monthly_margin if monthly_margin and not math.isnan(monthly_margin) and monthly_margin > 0 \
        else float("nan")
    return {"monthly_cost": cost, "monthly_revenue": revenue, "monthly_margin": monthly_margin,
            "cost_share_of_margin": share, "margin_coverage": coverage}


def _nice(value: float) -> float:
    """``value`` rounded to two significant digits (12,345 -> 12,000; 8,765 -> 8,800)."""
    if value <= 0 or not math.isfinite(value):
        return value
    step = 10 ** (math.floor(math.log10(value)) - 1)
    return float(round(value / step) * step)


def proposed_thresholds(monthly_spend: pd.Series, *,
                        quantiles: Sequence[float] = DEFAULTS["tier_spend_quantiles"],
                        fallback: Sequence[float] = tuple(ARTICLE_THRESHOLDS),
                        min_customers: int = DEFAULTS["tier_min_customers"]) -> tuple[list[float], str]:
    """Volume-discount thresholds from the company's own spend distribution, or ``fallback``.

    The thresholds are the ``quantiles`` (top 20% and top 5% by default) of the average monthly spend of
    the customers buying in the window, rounded to two significant digits, so that the top tier means the
    company's own key accounts rather than an article's example. With fewer than ``min_customers`` buying
    customers, or quantiles that round to the same value, ``fallback`` (the article's 10,000 / 25,000).

    Returns
    -------
    (thresholds, source)
        ``source`` is ``"spend"`` or ``"fallback"``.
    """
    qs = [float(q) for q in quantiles]
    if not qs or any(not 0 < q < 1 for q in qs) or any(b <= a for a, b in zip(qs, qs[1:], strict=False)):
        raise ParamsError(f"loyalty.tier_spend_quantiles must be increasing shares between 0 and 1, got {qs}; "
                          "e.g. [0.80, 0.95].")
    spend = monthly_spend[monthly_spend > 0].astype(float)
    if len(spend) < int(min_customers):
        return [float(x) for x in fallback], "fallback"
    bounds = [_nice(float(spend.quantile(q))) for q in qs]
    if any(b <= a for a, b in zip(bounds, bounds[1:], strict=False)) or bounds[0] <= 0:
        return [float(x) for x in fallback], "fallback"
    return bounds, "spend"


def _as_text_ids(ids: Iterable[Any]) -> pd.Series:
    """``{str(c) for c in ids}`` as a text Series (a text Series is kept, its missing values as the text
    ``"nan"`` that ``str`` makes of them)."""
    if isinstance(ids, pd.Series) and isinstance(ids.dtype, pd.StringDtype):
        return ids.fillna("nan")
    return pd.Series(sorted({str(c) for c in ids}), dtype="str")


def without_lapsed(frame: pd.DataFrame, lapsed_ids: Iterable[str] | None, *,
                   id_column: str = "customer_id") -> pd.DataFrame:
    """``frame`` without the rows of lapsed customers (selling and relationship lists are for customers who
    still buy; the win-back list is the lapsed ones')."""
    if lapsed_ids is None or frame is None or id_column not in frame.columns:
        return frame
    keep = ~isin(frame[id_column].astype(str), _as_text_ids(lapsed_ids))
    return frame.loc[keep].reset_index(drop=True)


def tier_thresholds(orders: pd.DataFrame, *, as_of: pd.Timestamp,
                    params: dict[str, Any] | None = None) -> tuple[list[float], str]:
    """The thresholds a run uses: ``loyalty.tier_thresholds`` when set (``source="params"``), else
    :func:`proposed_thresholds` on the average monthly spend of the tier window (``"spend"`` or
    ``"fallback"``).

    Required columns of ``orders``: ``customer_id``, ``order_date``, ``amount``.
    """
    p = resolve(params)
    if p["tier_thresholds"] is not None:
        return [float(x) for x in p["tier_thresholds"]], "params"
    require_columns(orders, ("customer_id", "order_date", "amount"), "orders")
    as_of = pd.Timestamp(as_of).normalize()
    months = int(p["tier_months"])
    window = orders[(orders["order_date"] > as_of - pd.DateOffset(months=months)) & (orders["order_date"] <= as_of)]
    spend = window.groupby("customer_id")["amount"].sum() / months
    return proposed_thresholds(spend, quantiles=p["tier_spend_quantiles"], min_customers=p["tier_min_customers"])


# -- special days: a person to call and a message -------------------------------------------------------
def contact_person(customers: pd.DataFrame) -> pd.Series:
    """The person to address for each customer (indexed by ``customer_id``), or missing for a company.

    A ``contact_person`` column wins when present; otherwise a name "Person - Company" gives the person
    (a sole trader's usual shop sign), and a name without a legal form (A.Ş., Ltd. Şti., ...) is taken as a
    person's. A company name alone has no person: it gets no birthday call.
    """
    require_columns(customers, ("customer_id",), "customers")
    info = customers.drop_duplicates("customer_id").set_index("customer_id")
    if "contact_person" in info.columns:
        given = info["contact_person"].where(info["contact_person"].astype(str).str.strip() != "")
    else:
        given = pd.Series(np.nan, index=info.index, dtype=object)
    if "name" not in info.columns:
        return given.rename("contact_person")
    names = info["name"].astype(str).str.strip().where(info["name"].notna())
    head = names.str.split(r"\s+[-–]\s+", n=1, regex=True).str[0]
    has_sign = names.str.contains(r"\s[-–]\s", regex=True, na=False)
    person = head.where(has_sign & ~head.str.contains(LEGAL_FORMS, na=False))
    alone = names.where(~has_sign & ~names.str.contains(LEGAL_FORMS, na=False))
    return given.fillna(person).fillna(alone).rename("contact_person")


__all__ = ["LEGAL_FORMS", "contact_person", "discount_economics", "proposed_thresholds", "tier_thresholds",
           "without_lapsed"]
