"""Loyalty levers: volume-discount tiers, payment terms, priority stock, special days, referral rewards.

All functions take the canonical frames (docs/ARCHITECTURE.md) and the optional tables with the contract's
column names, and return new frames; the notebook ``05_loyalty_and_service`` shows them and exports the
action lists.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from crmlib.data.frames import require_columns
from crmlib.data.textops import isin
from crmlib.errors import ParamsError
from crmlib.loyalty.params import ARTICLE_THRESHOLDS, DEFAULTS, check_tiers

logger = logging.getLogger(__name__)

def assign_tier(
    monthly_spend: pd.Series,
    *,
    thresholds: list[float] = ARTICLE_THRESHOLDS,
    discounts: list[float] = DEFAULTS["tier_discounts"],
) -> pd.DataFrame:
    """Tier of each monthly spend: tier k when thresholds[k-1] <= spend < thresholds[k] (tier 0 below all).

    Thresholds are inclusive lower bounds: with the defaults exactly 10,000 is tier 1 (3 %) and exactly
    25,000 is tier 2 (5 %).

    Returns
    -------
    DataFrame
        Aligned with ``monthly_spend``: ``tier`` (0 = standard price), ``discount``, ``next_threshold``
        (NaN at the top tier), ``gap_to_next`` (next_threshold - spend), ``next_discount``.
    """
    check_tiers(list(thresholds), list(discounts))
    spend = monthly_spend.astype(float)
    bounds = np.asarray(thresholds, dtype=float)
    tier = np.searchsorted(bounds, spend.to_numpy(), side="right")
    rates = np.asarray(discounts, dtype=float)
    next_bound = np.append(bounds, np.nan)[tier]
    next_rate = np.append(rates[1:], np.nan)[tier]
    return pd.DataFrame(
        {
            "tier": tier.astype(int),
            "discount": rates[tier],
            "next_threshold": next_bound,
            "gap_to_next": next_bound - spend.to_numpy(),
            "next_discount": next_rate,
        },
        index=monthly_spend.index,
    )


def discount_tiers(
    orders: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    months: int = DEFAULTS["tier_months"],
    thresholds: list[float] = ARTICLE_THRESHOLDS,
    discounts: list[float] = DEFAULTS["tier_discounts"],
) -> pd.DataFrame:
    """Each customer's discount tier on average monthly spend over the last ``months`` months.

    The window is (as_of - months calendar months, as_of] (``pd.DateOffset``, so month ends are handled);
    average monthly spend = net revenue in the window / ``months``.

    Required columns of ``orders``: ``customer_id``, ``order_date``, ``amount``.

    Returns
    -------
    DataFrame
        One row per customer with an order in the window: ``customer_id``, ``monthly_spend``, the columns
        of :func:`assign_tier`, and ``monthly_discount_cost`` (spend x discount: what the tier costs a month
        if the customer keeps buying the same), sorted by monthly spend (largest first).
    """
    require_columns(orders, ("customer_id", "order_date", "amount"), "orders")
    if months < 1:
        raise ParamsError(f"loyalty.tier_months must be at least 1, got {months}.")
    as_of = pd.Timestamp(as_of).normalize()
    start = as_of - pd.DateOffset(months=months)
    window = orders[(orders["order_date"] > start) & (orders["order_date"] <= as_of)]
    spend = window.groupby("customer_id")["amount"].sum() / months
    spend = spend[spend > 0].rename("monthly_spend")
    out = pd.concat([spend, assign_tier(spend, thresholds=thresholds, discounts=discounts)], axis=1)
    out["monthly_discount_cost"] = out["monthly_spend"] * out["discount"]
    out = out.rename_axis("customer_id").reset_index()
    return out.sort_values(["monthly_spend", "customer_id"], ascending=[False, True], ignore_index=True)


def tier_summary(tiers: pd.DataFrame, *, discounts: list[float] = DEFAULTS["tier_discounts"]) -> pd.DataFrame:
    """Customers, monthly spend and monthly discount cost per tier (every tier listed, empty ones with 0).

    Required columns of ``tiers`` (from :func:`discount_tiers`): ``tier``, ``monthly_spend``,
    ``monthly_discount_cost``.
    """
    require_columns(tiers, ("tier", "monthly_spend", "monthly_discount_cost"), "tiers")
    grouped = tiers.groupby("tier").agg(
        customers=("monthly_spend", "size"),
        monthly_spend=("monthly_spend", "sum"),
        monthly_discount_cost=("monthly_discount_cost", "sum"),
    )
    out = grouped.reindex(range(len(discounts)), fill_value=0)
    out.insert(0, "discount", list(discounts))
    out["customers"] = out["customers"].astype(int)
    return out.rename_axis("tier").reset_index()


def near_next_tier(tiers: pd.DataFrame, *, share: float = DEFAULTS["near_tier_share"]) -> pd.DataFrame:
    """Customers whose gap to the next tier is at most ``share`` of its threshold (the upsell list).

    Required columns: ``customer_id``, ``monthly_spend``, ``tier``, ``next_threshold``, ``gap_to_next``,
    ``next_discount``. Sorted by the gap (smallest first).
    """
    require_columns(tiers, ("customer_id", "monthly_spend", "tier", "next_threshold", "gap_to_next"), "tiers")
    near = tiers[tiers["next_threshold"].notna() & (tiers["gap_to_next"] <= share * tiers["next_threshold"])]
    return near.sort_values(["gap_to_next", "customer_id"], ignore_index=True)


def late_payments(
    payments: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    grace_days: int = DEFAULTS["late_grace_days"],
    lookback_months: int = DEFAULTS["late_lookback_months"],
) -> pd.Series:
    """Number of late payments per customer among invoices due in the lookback window.

    Late = paid more than ``grace_days`` after the due date, or still unpaid at ``as_of`` with the due
    date more than ``grace_days`` ago. A payment dated after ``as_of`` counts as unpaid at ``as_of``.

    Required columns: ``customer_id``, ``due_date``; ``paid_date`` optional (without it no payment can be
    recognised as late, and a warning is logged).
    """
    require_columns(payments, ("customer_id", "due_date"), "payments")
    as_of = pd.Timestamp(as_of).normalize()
    due = payments["due_date"]
    in_window = (due > as_of - pd.DateOffset(months=lookback_months)) & (due <= as_of)
    grace = pd.Timedelta(days=grace_days)
    if "paid_date" in payments.columns:
        paid = payments["paid_date"].where(payments["paid_date"] <= as_of)
        late = (paid > due + grace) | (paid.isna() & (as_of > due + grace))
    else:
        logger.warning("payments has no paid_date column: no payment can be recognised as late")
        late = pd.Series(False, index=payments.index)
    return late[in_window].groupby(payments.loc[in_window, "customer_id"]).sum().astype(int).rename("late_payments")


def invoices_due(payments: pd.DataFrame, *, as_of: pd.Timestamp,
                 lookback_months: int = DEFAULTS["late_lookback_months"]) -> pd.Series:
    """Number of invoices per customer due in the lookback window (as_of - lookback_months, as_of]."""
    require_columns(payments, ("customer_id", "due_date"), "payments")
    as_of = pd.Timestamp(as_of).normalize()
    due = payments["due_date"]
    in_window = (due > as_of - pd.DateOffset(months=lookback_months)) & (due <= as_of)
    return payments.loc[in_window].groupby("customer_id").size().astype(int).rename("invoices")


def payment_terms(
    customer_summary: pd.DataFrame,
    payments: pd.DataFrame | None = None,
    *,
    as_of: pd.Timestamp,
    min_tenure_months: int = DEFAULTS["loyal_min_tenure_months"],
    min_orders: int = DEFAULTS["loyal_min_orders"],
    max_late: int = DEFAULTS["loyal_max_late_payments"],
    grace_days: int = DEFAULTS["late_grace_days"],
    lookback_months: int = DEFAULTS["late_lookback_months"],
    loyal_days: int = DEFAULTS["loyal_terms_days"],
    standard_days: int = DEFAULTS["standard_terms_days"],
    max_recency_days: float | None = DEFAULTS["terms_max_recency_days"],
    min_invoices: int = DEFAULTS["terms_min_invoices"],
) -> pd.DataFrame:
    """Payment terms per customer: loyal customers get ``loyal_days``, everyone else ``standard_days``.

    Loyal = first purchase at least ``min_tenure_months`` calendar months before ``as_of`` AND at least
    ``min_orders`` purchase orders AND a purchase within ``max_recency_days`` (longer terms for an account
    that stopped buying only extend credit to it; ``None`` skips the test) AND at least ``min_invoices``
    invoices due in the lookback with at most ``max_late`` of them late (:func:`late_payments`): "no late
    payment" says nothing about a customer without invoices. Without a payments table nobody qualifies
    (``meets_payments`` is False, ``late_payments`` NaN) and the notebook says which table would enable it.

    Required columns of ``customer_summary``: ``customer_id``, ``first_order_date``, ``n_orders``, and
    ``last_order_date`` for the recency test.

    Returns
    -------
    DataFrame
        ``customer_id``, ``first_order_date``, ``tenure_months`` (whole calendar months), ``n_orders``,
        ``last_order_date``, ``days_since_last_order``, ``invoices`` (due in the lookback),
        ``late_payments``, ``meets_tenure``, ``meets_orders``, ``meets_recent``, ``meets_payments``,
        ``is_loyal``, ``terms_days``; loyal customers first.
    """
    require_columns(customer_summary, ("customer_id", "first_order_date", "n_orders"), "customer_summary")
    if max_recency_days is not None:
        require_columns(customer_summary, ("last_order_date",), "customer_summary")
    as_of = pd.Timestamp(as_of).normalize()
    first = customer_summary["first_order_date"]
    months = (as_of.year - first.dt.year) * 12 + (as_of.month - first.dt.month)
    months = months - (first.dt.day > as_of.day).astype(int)  # whole months completed
    out = customer_summary[["customer_id", "first_order_date", "n_orders"]].copy()
    out.insert(2, "tenure_months", months.astype(int))
    if "last_order_date" in customer_summary.columns:
        last = pd.to_datetime(customer_summary["last_order_date"])
        out["last_order_date"] = last
        out["days_since_last_order"] = (as_of - last.dt.normalize()).dt.days.astype(float)
    else:
        out["last_order_date"] = pd.NaT
        out["days_since_last_order"] = np.nan
    if payments is not None:
        late = late_payments(payments, as_of=as_of, grace_days=grace_days, lookback_months=lookback_months)
        invoices = invoices_due(payments, as_of=as_of, lookback_months=lookback_months)
        out["invoices"] = out["customer_id"].map(invoices).fillna(0).astype(int)
        out["late_payments"] = out["customer_id"].map(late).fillna(0).astype(float)
        meets_payments = (out["late_payments"] <= max_late) & (out["invoices"] >= max(int(min_invoices), 1))
    else:
        out["invoices"] = 0
        out["late_payments"] = np.nan
        meets_payments = pd.Series(False, index=out.index)
    out["meets_tenure"] = out["tenure_months"] >= min_tenure_months
    out["meets_orders"] = out["n_orders"] >= min_orders
    out["meets_recent"] = (True if max_recency_days is None
                           else out["days_since_last_order"] <= float(max_recency_days))
    out["meets_payments"] = meets_payments
    out["is_loyal"] = out["meets_tenure"] & out["meets_orders"] & out["meets_recent"] & out["meets_payments"]
    out["terms_days"] = np.where(out["is_loyal"], loyal_days, standard_days).astype(int)
    return out.sort_values(["is_loyal", "n_orders", "customer_id"], ascending=[False, False, True], ignore_index=True)


def product_launches(
    order_lines: pd.DataFrame | None, *, as_of: pd.Timestamp, burn_in_days: int = DEFAULTS["burn_in_days"],
    first_sales: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """First sale date of every product, and whether it is a launch (first sold after the burn-in).

    Required columns: ``product_id``, ``order_date``, ``amount``; or, instead of the lines, ``first_sales``
    (the ``product_first_sales`` view at ``as_of``: product_id, first_sale, data_start).

    Returns
    -------
    DataFrame
        ``product_id``, ``first_sale``, ``is_launch``, ``days_on_sale`` (as_of - first sale + 1).
    """
    as_of = pd.Timestamp(as_of).normalize()
    if first_sales is not None:
        if first_sales.empty:
            return pd.DataFrame(columns=["product_id", "first_sale", "is_launch", "days_on_sale"])
        first = first_sales[["product_id", "first_sale"]].sort_values("product_id", ignore_index=True)
        data_start = first_sales["data_start"].iloc[0]
    else:
        require_columns(order_lines, ("product_id", "order_date", "amount"), "order_lines")
        sold = order_lines[(order_lines["amount"] > 0) & (order_lines["order_date"] <= as_of)]
        if sold.empty:
            return pd.DataFrame(columns=["product_id", "first_sale", "is_launch", "days_on_sale"])
        first = sold.groupby("product_id")["order_date"].min().rename("first_sale").reset_index()
        data_start = sold["order_date"].min()
    first["is_launch"] = first["first_sale"] > data_start + pd.Timedelta(days=burn_in_days)
    first["days_on_sale"] = (as_of - first["first_sale"]).dt.days + 1
    return first


def priority_stock(
    order_lines: pd.DataFrame | None,
    *,
    as_of: pd.Timestamp,
    new_product_days: int = DEFAULTS["new_product_days"],
    early_buyer_days: int = DEFAULTS["early_buyer_days"],
    burn_in_days: int = DEFAULTS["burn_in_days"],
    top_n: int = DEFAULTS["priority_top_n"],
    first_sales: pd.DataFrame | None = None,
    early_buyers: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The customers to offer new or scarce stock first, and the new products with their early buyers.

    The data has no launch dates or stock levels, so both are read from sales: a product's launch is its
    first sale (products already selling in the first ``burn_in_days`` of the data are the existing range);
    its early buyers bought it within ``early_buyer_days`` of that first sale (day 0 included). The
    priority list ranks customers by the number of launches they bought early (then by early spend):
    Rogers' "innovators and early adopters" (*Diffusion of Innovations*, 5th ed., 2003, ch. 7), the
    customers who absorb scarce new stock fastest.

    Required columns of ``order_lines``: ``customer_id``, ``product_id``, ``order_date``, ``amount``; or,
    instead of the lines, ``first_sales`` and ``early_buyers`` (the ``product_first_sales`` view and the
    ``early_buyers`` view with ``early_days`` = ``early_buyer_days``, both at ``as_of``).

    Returns
    -------
    (priority, new_products)
        ``priority``: ``customer_id``, ``launches_bought_early``, ``new_bought_early`` (of the products first
        sold within ``new_product_days``), ``early_amount``, ``share_of_launches``; the top ``top_n``.
        ``new_products``: ``product_id``, ``first_sale``, ``early_buyers``, ``early_amount``,
        ``top_buyers`` (up to five ids, largest early spend first).
    """
    from_views = first_sales is not None and early_buyers is not None
    if not from_views:
        require_columns(order_lines, ("customer_id", "product_id", "order_date", "amount"), "order_lines")
    as_of = pd.Timestamp(as_of).normalize()
    launches = product_launches(order_lines, as_of=as_of, burn_in_days=burn_in_days,
                                first_sales=first_sales if from_views else None)
    launches = launches[launches["is_launch"].astype(bool)] if not launches.empty else launches
    priority_cols = ["customer_id", "launches_bought_early", "new_bought_early", "early_amount", "share_of_launches"]
    new_cols = ["product_id", "first_sale", "early_buyers", "early_amount", "top_buyers"]
    if launches.empty:
        return pd.DataFrame(columns=priority_cols), pd.DataFrame(columns=new_cols)
    if from_views:  # one row per customer and product bought early already
        early = early_buyers[early_buyers["product_id"].isin(launches["product_id"])]
        per_pair = early[["customer_id", "product_id", "amount", "first_sale"]].sort_values(
            ["customer_id", "product_id"], ignore_index=True)
        per_pair.insert(3, "is_new", per_pair["first_sale"] > as_of - pd.Timedelta(days=new_product_days))
    else:
        lines = order_lines[(order_lines["amount"] > 0) & (order_lines["order_date"] <= as_of)]
        lines = lines.merge(launches[["product_id", "first_sale"]], on="product_id")
        early = lines[lines["order_date"] < lines["first_sale"] + pd.Timedelta(days=early_buyer_days)]
        early = early.assign(is_new=early["first_sale"] > as_of - pd.Timedelta(days=new_product_days))
        per_pair = early.groupby(["customer_id", "product_id"], as_index=False).agg(
            amount=("amount", "sum"), is_new=("is_new", "first"), first_sale=("first_sale", "first")
        )
    priority = per_pair.groupby("customer_id", as_index=False).agg(
        launches_bought_early=("product_id", "nunique"),
        new_bought_early=("is_new", "sum"),
        early_amount=("amount", "sum"),
    )
    priority["new_bought_early"] = priority["new_bought_early"].astype(int)
    priority["share_of_launches"] = priority["launches_bought_early"] / len(launches)
    priority = priority.sort_values(
        ["launches_bought_early", "early_amount", "customer_id"], ascending=[False, False, True], ignore_index=True
    ).head(top_n)

    new_pairs = per_pair[per_pair["is_new"]].sort_values(["product_id", "amount"], ascending=[True, False])
    new_products = new_pairs.groupby("product_id", as_index=False).agg(
        first_sale=("first_sale", "first"),
        early_buyers=("customer_id", "size"),
        early_amount=("amount", "sum"),
        top_buyers=("customer_id", lambda s: ", ".join(s.head(5))),
    )
    new_products = new_products.sort_values(["first_sale", "product_id"], ascending=[False, True], ignore_index=True)
    return priority[priority_cols], new_products[new_cols]


def next_occurrence(dates: pd.Series, *, as_of: pd.Timestamp) -> pd.Series:
    """The first anniversary of each date on or after ``as_of`` (the date itself if it is on ``as_of``).

    A 29 February falls on 28 February in non-leap years (it stays in its month; a documented choice).
    Missing dates stay missing.
    """
    as_of = pd.Timestamp(as_of).normalize()
    month = dates.dt.month
    day = dates.dt.day

    def in_year(year: int) -> pd.Series:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        d = day.where(~((month == 2) & (day == 29)) | leap, 28)
        parts = pd.DataFrame({"year": year, "month": month, "day": d})
        return pd.to_datetime(parts.dropna().astype(int)).reindex(dates.index)

    this_year = in_year(as_of.year)
    return this_year.where(this_year >= as_of, in_year(as_of.year + 1))


def special_days(
    customer_summary: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    *,
    as_of: pd.Timestamp,
    days_ahead: int = DEFAULTS["special_days_ahead"],
    data_start: pd.Timestamp | None = None,
    burn_in_days: int = DEFAULTS["burn_in_days"],
) -> pd.DataFrame:
    """Birthdays and first-order anniversaries in the ``days_ahead`` days starting at ``as_of``.

    The window is as_of .. as_of + days_ahead - 1 (today included). Birthdays need ``customers.birth_date``
    (skipped without it); anniversaries use ``customer_summary.first_order_date`` (years >= 1 only) and,
    when ``data_start`` (the first order date of the history) is given, skip customers whose first order
    lies within ``burn_in_days`` of it: their true first order may be older than the data.

    Returns
    -------
    DataFrame
        ``customer_id``, ``occasion`` (``birthday`` or ``anniversary``), ``date``, ``years`` (age or years as
        a customer), ``days_until``; sorted by date.
    """
    require_columns(customer_summary, ("customer_id", "first_order_date"), "customer_summary")
    as_of = pd.Timestamp(as_of).normalize()
    end = as_of + pd.Timedelta(days=days_ahead - 1)
    firsts = customer_summary
    if data_start is not None:
        cutoff = pd.Timestamp(data_start).normalize() + pd.Timedelta(days=burn_in_days)
        firsts = customer_summary[customer_summary["first_order_date"] > cutoff]
    sources = [("anniversary", firsts["customer_id"], firsts["first_order_date"])]
    if customers is not None and "birth_date" in customers.columns:
        known = customers[customers["birth_date"].notna() & (customers["birth_date"] <= as_of)]
        sources.append(("birthday", known["customer_id"], known["birth_date"]))
    parts = []
    for occasion, ids, dates in sources:
        dates = pd.to_datetime(dates).dt.normalize()
        when = next_occurrence(dates, as_of=as_of)
        frame = pd.DataFrame(
            {"customer_id": ids.to_numpy(), "occasion": occasion, "date": when.to_numpy(),
             "years": (when.dt.year - dates.dt.year).to_numpy()}
        )
        parts.append(frame[(frame["date"] <= end) & (frame["years"] >= 1)])
    out = pd.concat(parts, ignore_index=True)
    out["years"] = out["years"].astype(int)
    out["days_until"] = (out["date"] - as_of).dt.days.astype(int)
    return out.sort_values(["date", "occasion", "customer_id"], ignore_index=True)


def referral_rewards(
    customers: pd.DataFrame,
    customer_summary: pd.DataFrame,
    *,
    reward: float | None = DEFAULTS["referral_reward"],
    share: float = DEFAULTS["referral_reward_share"],
    orders: pd.DataFrame | None = None,
    payments: pd.DataFrame | None = None,
    as_of: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """What each referrer earned for the referred customers who placed at least one purchase order.

    The reward per referred customer is ``reward`` when given (a fixed amount), else ``share`` of the
    referred customer's first purchase order (``orders`` needed): scaled to what the referral brought. A
    reward is payable once the referred customer has paid an invoice by ``as_of`` (``payments`` with
    ``paid_date``), pending otherwise; without payments the split is unknown (NaN).

    Required columns: ``customers``: ``customer_id``, ``referred_by`` (the referrer's customer_id; self
    referrals are ignored); ``customer_summary``: ``customer_id``, ``first_order_date``; ``orders``:
    ``customer_id``, ``order_date``, ``amount`` (``is_purchase`` when present).

    Returns
    -------
    DataFrame
        ``referrer_id``, ``referred`` (customers naming them), ``referred_ordered``, ``first_orders`` (their
        first purchase orders' total, NaN without orders), ``reward``, ``reward_payable``,
        ``reward_pending``, ``referred_ids`` (those who ordered, comma separated), ``last_first_order``
        (latest first order among them); referrers who earned something, largest reward first.
    """
    require_columns(customers, ("customer_id", "referred_by"), "customers")
    require_columns(customer_summary, ("customer_id", "first_order_date"), "customer_summary")
    ref = customers[["customer_id", "referred_by"]].dropna()
    ref = ref.assign(referred_by=ref["referred_by"].astype(str).str.strip())
    ref = ref[(ref["referred_by"] != "") & (ref["referred_by"] != ref["customer_id"])]
    first = customer_summary.set_index("customer_id")["first_order_date"]
    ref = ref.assign(first_order_date=ref["customer_id"].map(first))
    ref = ref.assign(ordered=ref["first_order_date"].notna())
    columns = ["referrer_id", "referred", "referred_ordered", "first_orders", "reward", "reward_payable",
               "reward_pending", "referred_ids", "last_first_order"]
    if ref.empty:
        return pd.DataFrame(columns=columns)
    if reward is None and orders is None:
        raise ParamsError("loyalty.referral_reward is null (a share of the first order) but no orders were "
                          "given to measure the first order; pass orders or set a fixed loyalty.referral_reward.")
    if orders is not None:
        require_columns(orders, ("customer_id", "order_date", "amount"), "orders")
        bought = orders[orders["is_purchase"].astype(bool)] if "is_purchase" in orders else orders[orders["amount"] > 0]
        bought = bought.loc[isin(bought["customer_id"], ref["customer_id"])]  # only the referred customers' orders
        firsts = bought.sort_values(["customer_id", "order_date"], kind="stable").drop_duplicates("customer_id")
        ref = ref.assign(first_order=ref["customer_id"].map(firsts.set_index("customer_id")["amount"]).astype(float))
    else:
        ref = ref.assign(first_order=np.nan)
    each = float(reward) if reward is not None else float(share) * ref["first_order"].fillna(0.0)
    ref = ref.assign(reward=np.where(ref["ordered"], each, 0.0))
    if payments is not None and "paid_date" in payments.columns:
        cut = pd.Timestamp(as_of) if as_of is not None else payments["paid_date"].max()
        payers = payments.loc[payments["paid_date"].notna() & (payments["paid_date"] <= cut), "customer_id"]
        paid = pd.Series(isin(ref["customer_id"], payers), index=ref.index)
        ref = ref.assign(reward_payable=ref["reward"].where(paid, 0.0), reward_pending=ref["reward"].where(~paid, 0.0))
    else:
        ref = ref.assign(reward_payable=np.nan, reward_pending=np.nan)
    ordered = ref[ref["ordered"]].sort_values("first_order_date")
    by = ref.groupby("referred_by")
    out = by.agg(referred=("customer_id", "size"), referred_ordered=("ordered", "sum"), reward=("reward", "sum"))
    sums = by[["first_order", "reward_payable", "reward_pending"]].sum(min_count=1)  # NaN when none is known
    out = out.assign(first_orders=sums["first_order"], reward_payable=sums["reward_payable"],
                     reward_pending=sums["reward_pending"])
    out["referred_ids"] = ordered.groupby("referred_by")["customer_id"].agg(", ".join)
    out["last_first_order"] = ordered.groupby("referred_by")["first_order_date"].max()
    out["referred_ordered"] = out["referred_ordered"].astype(int)
    out = out[out["referred_ordered"] > 0].rename_axis("referrer_id").reset_index()
    return out.sort_values(["reward", "referrer_id"], ascending=[False, True], ignore_index=True)[columns]
