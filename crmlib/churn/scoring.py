"""Churn early warning: signals, one explainable risk score, the weekly at-risk list, backtest and win-back.

The flow in ``02_churn_early_warning``: :func:`compute_signals` (one row per customer) →
:func:`fit_risk_model` (logistic regression trained out of time) → :func:`risk_scores` (score, level,
reasons) → :func:`at_risk_list` (ranked by value at stake, with an action and a message) →
:func:`backtest` (score against the 60-day rule and BG/NBD expected orders) → :func:`winback` (flags of
earlier runs that ordered again). Signals live in :mod:`crmlib.churn.signals`, the model in
:mod:`crmlib.churn.model`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlib.churn import actions as ca
from crmlib.churn import signals as cs
from crmlib.churn import weekly as wk
from crmlib.churn.model import RiskModel
from crmlib.churn.params import LAPSED_LEVEL
from crmlib.churn.params import resolve as _params
from crmlib.churn.signals import SIGNALS, purchases, require_columns
from crmlib.clv.model import fit_clv
from crmlib.data import tables as tb
from crmlib.data import textops
from crmlib.errors import DataError

log = logging.getLogger(__name__)

__all__ = ["SIGNALS", "RiskModel", "compute_signals", "fit_risk_model", "risk_scores",
           "expected_next_order", "at_risk_list", "history_flags", "winback",
           "expected_orders_at", "unavailable_signals", "WeeklyResult", "weekly_call_lists"]

def _ts(value: Any) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def unavailable_signals(signals: pd.DataFrame) -> list[str]:
    """Signals that could not be computed (missing optional table/column or no expected orders)."""
    return list(signals.attrs.get("unavailable", []))


def compute_signals(customer_summary: pd.DataFrame, orders: pd.DataFrame, *, as_of: Any,
                    tables: Mapping[str, pd.DataFrame | None] | None = None,
                    expected_orders: pd.Series | None = None,
                    params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Every churn signal per customer: its values and a boolean ``<signal>_fires``.

    Parameters
    ----------
    customer_summary
        The customers to score: ``customer_id`` (other columns are recomputed from ``orders`` at ``as_of``,
        so that the same code serves earlier snapshots).
    orders
        ``customer_id``, ``order_date``, ``amount`` (``is_purchase`` used when present); later rows ignored.
    tables
        Optional tables by name (``payments``, ``contacts``, ``tickets``); a missing one makes its signal
        unavailable (NaN values, never fires, listed in ``attrs["unavailable"]``).
    expected_orders
        BG/NBD expected orders over ``horizon_days``, indexed by customer_id (``ClvModel.expected_orders``);
        ``None`` makes ``low_expected_orders`` unavailable.

    Returns
    -------
    pandas.DataFrame
        One row per customer of ``customer_summary`` (same order), ``customer_id`` first.
    """
    p = _params(params)
    as_of = _ts(as_of)
    require_columns(customer_summary, ("customer_id",), "customer_summary")
    ids = pd.Index(customer_summary["customer_id"].astype(str), name="customer_id")
    if ids.has_duplicates:
        dup = ids[ids.duplicated()].unique()[:5]
        raise DataError(f"customer_summary has duplicate customer_id values ({', '.join(map(str, dup))}); "
                        "pass one row per customer (crmlib.data.tables.build_customer_summary).")
    used = [c for c in ("customer_id", "order_date", "amount", "is_purchase", "order_id") if c in orders.columns]
    buys = purchases(orders[used].assign(customer_id=orders["customer_id"].astype(str)), as_of)
    # grouped by each customer's position in ``ids`` (-1: a buyer not scored): whole numbers group far faster
    # than text, the rows of each group and their order stay the same
    buys["customer_id"] = ids.get_indexer(buys["customer_id"])
    at = pd.RangeIndex(len(ids), name="customer_id")
    parts = [cs.rhythm(buys, at, as_of=as_of, params=p), cs.frequency_and_value(buys, at, as_of=as_of, params=p)]
    for part in parts:
        part.index = ids
    unavailable: list[str] = []
    blank = {"late_payments": ["invoices_recent", "invoices_late", "days_late_mean", "late_share"],
             "unanswered_outreach": ["contacts_recent", "contacts_unanswered", "contacts_answered"],
             "complaints": ["tickets_recent", "tickets_open"]}
    builders = {"late_payments": cs.late_payments, "unanswered_outreach": cs.unanswered_outreach,
                "complaints": cs.complaints}
    for code, build in builders.items():
        table = cs.optional_table(tables, code)
        if table is None:
            unavailable.append(code)
            part = pd.DataFrame(np.nan, index=ids, columns=blank[code])
            part[f"{code}_fires"] = False
        else:
            part = build(table.assign(customer_id=ids.get_indexer(table["customer_id"].astype(str))), at,
                         as_of=as_of, params=p)
            part.index = ids
        parts.append(part)
    eo = pd.DataFrame(index=ids)
    if expected_orders is None:
        unavailable.append("low_expected_orders")
        eo["expected_orders"] = np.nan
    else:
        series = pd.Series(expected_orders)
        series.index = series.index.astype(str)
        eo["expected_orders"] = series.reindex(ids).astype("float64")
    eo["low_expected_orders_fires"] = eo["expected_orders"] < float(p["expected_orders_min"])
    parts.append(eo)
    out = pd.concat(parts, axis=1)
    for code in SIGNALS:
        out[f"{code}_fires"] = out[f"{code}_fires"].fillna(False).astype(bool)
    out = out.reset_index()
    out.attrs["unavailable"] = [c for c in SIGNALS if c in unavailable]
    out.attrs["as_of"] = as_of
    return out


def expected_orders_at(customer_summary: pd.DataFrame, *, horizon_days: int,
                       clv_params: Mapping[str, Any]) -> pd.Series:
    """BG/NBD expected orders over ``horizon_days`` from a model fitted on ``customer_summary`` (CLV module)."""
    model = fit_clv(customer_summary, dict(clv_params), spend=False)  # orders only: no spend model
    return model.expected_orders(customer_summary, horizon_days=horizon_days)


def snapshot_signals(orders: pd.DataFrame, *, as_of: pd.Timestamp,
                     tables: Mapping[str, pd.DataFrame | None] | None, params: Mapping[str, Any],
                     clv_params: Mapping[str, Any] | None,
                     expected_orders: pd.Series | None = None,
                     summaries: Callable[[pd.Timestamp], pd.DataFrame] | None = None) -> pd.DataFrame:
    """Signals at ``as_of`` of every customer with a purchase by then (an earlier snapshot).

    ``orders`` are the canonical orders (all columns of ``crmlib.data.tables.build_orders`` when ``clv_params``
    is given, since BG/NBD is then fitted on the per-customer table at ``as_of``). ``summaries(date)`` gives
    that table at a date (the context's ``summary_at``: the ``customer_summary`` view, cached per run);
    without it the table is built from ``orders``.
    """
    p = params
    ids = cs.purchase_rows(orders, as_of)["customer_id"].astype(str).unique()  # sorted below
    summary = pd.DataFrame({"customer_id": np.sort(ids)})
    eo = expected_orders
    if eo is None and clv_params is not None and len(ids):
        if summaries is not None:
            full = summaries(as_of)
        else:
            full = tb.build_customer_summary(orders.loc[orders["order_date"] <= as_of], as_of)
        try:
            eo = expected_orders_at(full, horizon_days=int(p["horizon_days"]), clv_params=clv_params)
        except (ValueError, ArithmeticError) as err:  # too little data to fit BG/NBD at this date
            log.warning("churn: BG/NBD could not be fitted at %s (%s); expected orders left out", as_of.date(), err)
    return compute_signals(summary, orders, as_of=as_of, tables=tables, expected_orders=eo, params=p)


def no_purchase_between(orders: pd.DataFrame, ids: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    """True where customer ``ids`` made no purchase in (start, end] (``orders``: customer_id, order_date,
    amount, optional is_purchase): the churn label."""
    buys = cs.purchase_rows(orders, end)  # which customers bought, not in which order: no sort
    active = pd.unique(buys.loc[buys["order_date"] > start, "customer_id"].astype(str))
    return ~textops.isin(ids.astype(str), active)  # Arrow's hash lookup, not a Python object per id


def fit_risk_model(orders: pd.DataFrame, *, as_of: Any, tables: Mapping[str, pd.DataFrame | None] | None = None,
                   params: Mapping[str, Any] | None = None,
                   clv_params: Mapping[str, Any] | None = None,
                   summaries: Callable[[pd.Timestamp], pd.DataFrame] | None = None) -> RiskModel:
    """Fit the risk model out of time: signals at ``as_of - horizon_days``, label = no purchase in the
    ``horizon_days`` after it (from ``orders``), so that the label is known at ``as_of``.

    ``clv_params`` (the params' ``clv`` section) adds BG/NBD expected orders fitted at the earlier date;
    pass it exactly when the signals at ``as_of`` carry expected orders. Too few customers or outcomes →
    the points score (:class:`RiskModel`). ``summaries``: see :func:`snapshot_signals`.
    """
    p = _params(params)
    as_of = _ts(as_of)
    start = as_of - pd.Timedelta(days=int(p["horizon_days"]))
    model = RiskModel(p)
    signals = snapshot_signals(orders, as_of=start, tables=tables, params=p, clv_params=clv_params,
                               summaries=summaries)
    # the backtest scores this same snapshot (its default cutoff is as_of - horizon): kept for it
    model.snapshot_ = signals
    model.snapshot_inputs_ = _snapshot_inputs(tables, p, clv_params)
    if signals.empty:
        model.why_points_ = f"no customer had a purchase by {start.date()}"
        return model
    return model.fit(signals, no_purchase_between(orders, signals["customer_id"], start, as_of), as_of=start)


def _snapshot_inputs(tables: Mapping[str, pd.DataFrame | None] | None, params: Mapping[str, Any],
                     clv_params: Mapping[str, Any] | None) -> tuple:
    """What a snapshot depends on besides the orders up to its date: the tables (the same mapping) and params."""
    return tables, dict(params), dict(clv_params) if clv_params is not None else None


def reusable_snapshot(model: RiskModel | None, *, as_of: pd.Timestamp,
                      tables: Mapping[str, pd.DataFrame | None] | None, params: Mapping[str, Any],
                      clv_params: Mapping[str, Any] | None) -> pd.DataFrame | None:
    """The signals ``model`` was trained on (:func:`fit_risk_model`) when they are the snapshot at ``as_of``
    with the same tables and params, i.e. what :func:`snapshot_signals` would compute again from the same
    orders; else ``None``."""
    snapshot = getattr(model, "snapshot_", None)
    if snapshot is None or snapshot.empty or snapshot.attrs.get("as_of") != as_of:
        return None
    known_tables, known_params, known_clv = model.snapshot_inputs_
    if known_tables is not tables or (known_params, known_clv) != _snapshot_inputs(None, params, clv_params)[1:]:
        return None
    return snapshot


def _reason_codes(contrib: np.ndarray, fires: np.ndarray, n: int) -> np.ndarray:
    """Per row, the firing signals with a positive contribution, largest first (ties in :data:`SIGNALS`
    order), at most ``n``, joined by ``;`` (columns of both arrays in :data:`SIGNALS` order)."""
    key = np.where(fires & (contrib > 0), -contrib, np.inf)
    n = max(0, min(int(n), key.shape[1]))
    if n == 0 or len(key) == 0:
        return np.full(len(key), "", dtype=object)
    top = np.argsort(key, axis=1, kind="stable")[:, :n]
    top = np.where(np.isfinite(np.take_along_axis(key, top, axis=1)), top, -1)
    # a handful of distinct reason lists: each row's list as one whole number (base len(SIGNALS) + 1, the
    # signal's index + 1, 0 for none), worded once per distinct number
    base = len(SIGNALS) + 1
    packed = ((top + 1) * base ** np.arange(n, dtype=np.int64)).sum(axis=1)
    combos, inverse = np.unique(packed, return_inverse=True)
    digits = (combos[:, None] // base ** np.arange(n, dtype=np.int64)) % base - 1
    texts = np.array([";".join(SIGNALS[i] for i in row if i >= 0) for row in digits] or [""], dtype=object)
    return texts[np.asarray(inverse).ravel()]


def risk_scores(signals: pd.DataFrame, *, params: Mapping[str, Any] | None = None,
                model: RiskModel | None = None) -> pd.DataFrame:
    """Score, level and reasons per customer, ranked (ties: value at stake, then customer_id).

    Parameters
    ----------
    signals
        From :func:`compute_signals`.
    model
        A fitted :class:`RiskModel`; ``None`` = the points score.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``risk_score`` (higher = more likely to order nothing over the horizon),
        ``risk_level`` (low/medium/high/critical, or ``lapsed`` for customers with no order for
        ``lapsed_days`` or more: their score is kept, but no early warning is meant for them), ``reasons`` (signal codes joined by ``;``, largest
        contribution first), ``days_since_last_order``, ``usual_gap_days``, ``value_at_stake``
        (score × value over the horizon), ``rank`` (1 = most at risk).
    """
    p = _params(params)
    model = model or RiskModel(p)
    score = np.clip(model.predict(signals), 0.0, 1.0)
    contrib = model.contributions(signals)
    fires = pd.DataFrame({c: signals[f"{c}_fires"].to_numpy() for c in SIGNALS}, index=signals.index)
    reasons = _reason_codes(contrib[list(SIGNALS)].to_numpy(float), fires.to_numpy(bool), int(p["n_reasons"]))
    bounds = p["levels"]
    level = np.select([score >= bounds["critical"], score >= bounds["high"], score >= bounds["medium"]],
                      ["critical", "high", "medium"], default="low")
    level = np.where(~(signals["days_since_last_order"].to_numpy(float) < float(p["lapsed_days"])), LAPSED_LEVEL,
                     level)
    out = pd.DataFrame({
        "customer_id": signals["customer_id"].to_numpy(), "risk_score": score, "risk_level": level,
        "reasons": reasons, "days_since_last_order": signals["days_since_last_order"].to_numpy(),
        "usual_gap_days": signals["usual_gap_days"].to_numpy(),
        "value_at_stake": score * signals["horizon_value"].to_numpy(),
    })
    out = cs.sorted_rows(out, ["risk_score", "value_at_stake", "customer_id"], [False, False, True])
    out["rank"] = np.arange(1, len(out) + 1)
    out.attrs["method"] = model.method_
    # the learned score's rules as (params key, need, have) lists: attrs must stay JSON-able (parquet keeps them)
    out.attrs["readiness"] = [[r.key, r.need, r.have] for r in model.readiness().requirements]
    return out


def expected_next_order(customer_summary: pd.DataFrame, *, as_of: Any, model: Any = None,
                        params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Expected date of each customer's next order, beside the usual gap between orders.

    From the customer's own rhythm (last order + median gap) when they have at least ``min_gaps`` gaps,
    otherwise from the BG/NBD model (``model``, a ``ClvModel``): the day its expected orders reach one.

    Parameters
    ----------
    customer_summary
        - ``customer_id``, ``last_order_date``, ``n_order_days``, ``median_gap_days``, and the model's inputs
          (``frequency``, ``recency``, ``T``) when ``model`` is given

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``usual_gap_days``, ``last_order_date``, ``expected_next_order_date`` (NaT when no
        order is expected within two years), ``days_to_next_order`` (negative = overdue), ``basis``
        (rhythm / model / none).
    """
    p = _params(params)
    return ca.next_order(customer_summary, as_of=_ts(as_of), model=model, min_gaps=int(p["min_gaps"]))


def at_risk_list(risk: pd.DataFrame, signals: pd.DataFrame, *, params: Mapping[str, Any] | None = None,
                 customers: pd.DataFrame | None = None, next_orders: pd.DataFrame | None = None,
                 contacts: pd.DataFrame | None = None, as_of: Any = None) -> pd.DataFrame:
    """The weekly at-risk list in codes: customers at the ``list_levels`` ranked by value at stake.

    Lapsed customers (no order for ``lapsed_days``) and customers with nothing at stake are left out.

    Ties are broken by risk score, then customer_id. Each row has the reason codes, the last order, the
    usual gap, the expected next order, contact details from ``customers`` (``name``, ``phone``, ``email``,
    ``city``, unmasked) and a suggested action and message (:func:`crmlib.churn.actions.suggest`) in
    ``action_code`` / ``message_code``. :func:`crmlib.churn.report.at_risk_list` (``churn.at_risk_list``)
    adds the sentences in a language and masks the contacts.

    Parameters
    ----------
    risk
        From :func:`risk_scores`.
    signals
        From :func:`compute_signals` (same customers).
    next_orders
        From :func:`expected_next_order` (optional).
    contacts
        Optional outreach table with ``as_of``: customers reached within ``min_days_between_calls`` wait
        for a later week (:func:`crmlib.churn.actions.recently_contacted`); the list is cut at
        ``calls_per_week`` (the team's capacity) when set.
    """
    p = _params(params)
    return ca.build_list(risk, signals, params=p, customers=customers, next_orders=next_orders,
                         contacts=contacts, as_of=as_of)


@dataclass
class WeeklyResult:
    """This week's lists and the loop over earlier weeks (see :func:`weekly_call_lists`).

    ``at_risk`` the call list (with ``weeks_on_list``), ``campaign`` the win-back campaign list,
    ``episodes`` one row per listing episode up to this run (``winback.csv``), ``by_week`` / ``by_reason`` /
    ``by_action`` win-back rates of the episodes, ``changes`` what changed since the previous run, ``flags``
    the rows to stage as this run's ``churn_flags``, ``control`` / ``control_by_reason`` win-back of called
    against control customers (:func:`crmlib.churn.weekly.control_comparison`).
    """

    at_risk: pd.DataFrame
    campaign: pd.DataFrame
    episodes: pd.DataFrame
    by_week: pd.DataFrame
    by_reason: pd.DataFrame
    by_action: pd.DataFrame
    changes: dict[str, Any]
    flags: pd.DataFrame
    control: pd.DataFrame
    control_by_reason: pd.DataFrame


def weekly_call_lists(risk: pd.DataFrame, signals: pd.DataFrame, *, flags: pd.DataFrame | None,
                      orders: pd.DataFrame, as_of: Any, params: Mapping[str, Any] | None = None,
                      customers: pd.DataFrame | None = None, next_orders: pd.DataFrame | None = None,
                      contacts: pd.DataFrame | None = None) -> WeeklyResult:
    """The weekly call list that remembers earlier weeks (:mod:`crmlib.churn.weekly`), in codes
    (:func:`crmlib.churn.report.weekly_call_lists`, ``churn.weekly_call_lists``, adds the sentences).

    Customers on ``max_weeks_on_list`` consecutive earlier lists without ordering, and customers already in
    the win-back campaign, are left out of :func:`at_risk_list` (whose next candidates take their places)
    and listed on the campaign list; contacted customers without a reply move down. Win-back is counted
    per episode, not per list place.

    Parameters
    ----------
    flags
        ``ctx.history("churn_flags")`` (earlier runs' listed customers), or ``None`` on a first run.
    orders
        ``customer_id``, ``order_date``, ``amount``.
    """
    p = _params(params)
    as_of = _ts(as_of)
    state = wk.list_state(flags, orders, as_of=as_of)
    out = wk.excluded_from_call_list(state, max_weeks=int(p["max_weeks_on_list"]))
    candidates = risk.loc[~risk["customer_id"].astype(str).isin(out)]
    call = at_risk_list(candidates, signals, params=p, customers=customers, next_orders=next_orders,
                        contacts=contacts, as_of=as_of)
    held_back = {"deferred_recent_contact": int(call.attrs.get("deferred_recent_contact", 0)),
                 "cut_by_capacity": int(call.attrs.get("cut_by_capacity", 0))}
    lists = wk.weekly_lists(call, risk, state, as_of=as_of, params=p, contacts=contacts)
    control = (lists.call["group"] == "control").to_numpy()
    if control.any() and "action_code" in lists.call.columns:
        lists.call.loc[control, "action_code"] = "control"
        lists.call.loc[control, "message_code"] = "control"
    rows = wk.history_rows(lists)
    earlier = flags if flags is not None and len(flags) else None
    current = rows.assign(as_of=as_of)
    allflags = current if earlier is None else pd.concat([earlier, current], ignore_index=True)
    eps = wk.episodes(allflags, orders, as_of=as_of, params=p)
    return WeeklyResult(
        control=wk.control_comparison(eps), control_by_reason=wk.control_comparison(eps, by="reason"),
        at_risk=lists.call, campaign=lists.campaign, episodes=eps,
        by_week=wk.winback_rates(eps, by="week"), by_reason=wk.winback_rates(eps, by="reason"),
        by_action=wk.winback_rates(eps, by="action"),
        changes={**wk.changes_since_last_run(flags, orders, as_of=as_of, lists=lists),
                 "moved_down": lists.n_moved_down, **held_back},
        flags=rows)


def history_flags(at_risk: pd.DataFrame) -> pd.DataFrame:
    """The rows to stage as this run's ``churn_flags``: customer_id, risk_level, reasons, risk_score,
    value_at_stake of the customers on the weekly list (the runner adds run_id and as_of)."""
    cols = ["customer_id", "risk_level", "reasons", "risk_score", "value_at_stake"]
    require_columns(at_risk, cols, "at-risk list")
    return at_risk[cols].reset_index(drop=True)


def winback(history_flags: pd.DataFrame | None, orders: pd.DataFrame, *, as_of: Any,
            by: str = "week") -> pd.DataFrame:
    """Of the customers flagged by earlier runs, how many ordered again after that run's as_of.

    Parameters
    ----------
    history_flags
        ``ctx.history("churn_flags")``: ``run_id``, ``as_of``, ``customer_id``, ``risk_level``, ``reasons``;
        ``None`` or empty on a first run. Runs with an as_of on or after ``as_of`` are ignored.
    orders
        ``customer_id``, ``order_date``, ``amount`` (purchases up to ``as_of`` count as orders again).
    by
        ``week`` (the run's week, Monday; a customer flagged by several runs of a week counts once),
        ``reason`` (each reason code of a flag), ``level`` or ``run``.

    Returns
    -------
    pandas.DataFrame
        The ``by`` key(s), ``n_flagged``, ``n_won_back``, ``winback_rate`` (20-30% is a good result in
        wholesale win-back programmes).
    """
    return ca.count_winback(history_flags, orders, as_of=_ts(as_of), by=by)
