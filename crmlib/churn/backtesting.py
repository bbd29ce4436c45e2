"""Backtest of the churn risk score: score customers at an earlier date and compare with what happened.

:func:`backtest` is the public entry point; metrics come from scikit-learn (``roc_auc_score``) and
:func:`precision_at`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from crmlib.churn.model import RiskModel
from crmlib.churn.params import resolve as resolve_params
from crmlib.churn.scoring import (
    fit_risk_model,
    no_purchase_between,
    reusable_snapshot,
    risk_scores,
    snapshot_signals,
    unavailable_signals,
)
from crmlib.errors import DataError, ParamsError


def precision_at(y: np.ndarray, score: np.ndarray, share: float) -> float:
    """Precision in the top ``share`` of ``score``; ties at the cut count at their average (the expected
    value under random tie-breaking, so that a yes/no rule is not flattered by the order of the rows)."""
    k = max(1, int(round(share * len(score))))
    cut = np.sort(score)[::-1][k - 1]
    above, tie = score > cut, score == cut
    hits = y[above].sum() + (k - above.sum()) * y[tie].mean()
    return float(hits / k)


def evaluate(orders: pd.DataFrame, *, as_of: pd.Timestamp, cutoff: pd.Timestamp | None,
             tables: Mapping[str, pd.DataFrame | None] | None, params: Mapping[str, Any],
             clv_params: Mapping[str, Any] | None, expected_orders: pd.Series | None, labels: pd.Series | None,
             population: str | Sequence[str],
             summaries: Callable[[pd.Timestamp], pd.DataFrame] | None = None,
             model: RiskModel | None = None) -> pd.DataFrame:
    """See :func:`backtest` (``params`` complete, dates normalized)."""
    p = params
    h = int(p["horizon_days"])
    cutoff = as_of - pd.Timedelta(days=h) if cutoff is None else cutoff
    if labels is None and cutoff + pd.Timedelta(days=h) > as_of:
        raise DataError(f"backtest cutoff {cutoff.date()} plus {h} days ends after the as-of date {as_of.date()}: "
                        f"the outcome is not known yet. Choose a cutoff on or before "
                        f"{(as_of - pd.Timedelta(days=h)).date()}.")
    past = orders.loc[orders["order_date"] <= cutoff]
    signals = (reusable_snapshot(model, as_of=cutoff, tables=tables, params=p, clv_params=clv_params)
               if expected_orders is None else None)
    if signals is None:
        signals = snapshot_signals(past, as_of=cutoff, tables=tables, params=p, clv_params=clv_params,
                                   expected_orders=expected_orders, summaries=summaries)
    if signals.empty:
        columns = ["method", "auc", *(f"precision_top_{round(100 * s)}" for s in p["backtest_thresholds"]),
                   "n_customers", "n_lost", "base_rate", "cutoff", "horizon_days", "population"]
        return pd.DataFrame(columns=columns)
    trained = fit_risk_model(past, as_of=cutoff, tables=tables, params=p, clv_params=clv_params,
                             summaries=summaries)
    risk = risk_scores(signals, params=p, model=trained).set_index("customer_id").reindex(signals["customer_id"])
    if labels is None:
        y = pd.Series(no_purchase_between(orders, signals["customer_id"], cutoff, cutoff + pd.Timedelta(days=h)),
                      index=signals["customer_id"].to_numpy())
    else:
        known = pd.Series(labels)
        known.index = known.index.astype(str)
        y = known.reindex(signals["customer_id"].to_numpy())
    populations = [population] if isinstance(population, str) else list(population)
    bad = [x for x in populations if x not in ("all", "active")]
    if bad:
        raise ParamsError(f"backtest population {bad[0]!r} is not one of all, active.")
    known = y.notna().to_numpy()
    active = (signals["days_since_last_order"] < float(p["lapsed_days"])).to_numpy()
    rankings = {"risk_score": risk["risk_score"].to_numpy(),
                "no_order_rule": signals["no_order_fires"].to_numpy().astype(float)}
    if "low_expected_orders" not in unavailable_signals(signals):
        rankings["expected_orders"] = -signals["expected_orders"].fillna(0).to_numpy()
    rows = []
    for pop in populations:
        keep = known & active if pop == "active" else known
        y_arr = y.to_numpy()[keep].astype(bool)
        both = 0 < y_arr.sum() < len(y_arr)
        for method, score in rankings.items():
            s = score[keep]
            row = {"method": method, "auc": float(roc_auc_score(y_arr, s)) if both else np.nan}
            for share in p["backtest_thresholds"]:
                row[f"precision_top_{round(100 * share)}"] = (precision_at(y_arr.astype(float), s, share)
                                                              if len(s) else np.nan)
            # the weekly list's size (the team's capacity): how many of that many top-ranked were then lost
            n_list = min(int(p["calls_per_week"] if p.get("calls_per_week") is not None else p["list_size"]),
                         len(s))
            row["n_list"] = n_list
            row["precision_at_list"] = (precision_at(y_arr.astype(float), s, n_list / len(s))
                                        if n_list else np.nan)
            row.update(n_customers=int(len(y_arr)), n_lost=int(y_arr.sum()),
                       base_rate=float(y_arr.mean()) if len(y_arr) else np.nan, cutoff=cutoff, horizon_days=h,
                       population=pop)
            rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["method"] = trained.method_
    return out


def _day(value: Any) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def backtest(orders: pd.DataFrame, *, as_of: Any, cutoff: Any = None, horizon_days: int | None = None,
             tables: Mapping[str, pd.DataFrame | None] | None = None, params: Mapping[str, Any] | None = None,
             clv_params: Mapping[str, Any] | None = None, expected_orders: pd.Series | None = None,
             labels: pd.Series | None = None, population: str | Sequence[str] = "all",
             summaries: Callable[[pd.Timestamp], pd.DataFrame] | None = None,
             model: RiskModel | None = None) -> pd.DataFrame:
    """Score the customers at ``cutoff`` and compare with what happened next.

    The risk model is trained out of time before ``cutoff`` (:func:`fit_risk_model` at ``cutoff``), then
    three rankings are scored with scikit-learn's ``roc_auc_score`` and the precision in the top 10% / 20%:
    the risk score, the plain rule "no order for ``no_order_days``" (a yes/no ranking) and BG/NBD expected
    orders alone (fewer = riskier; needs ``clv_params`` or ``expected_orders``).

    Parameters
    ----------
    orders
        ``customer_id``, ``order_date``, ``amount`` (``is_purchase``), up to ``as_of``.
    cutoff
        Date of the scoring snapshot (default ``as_of - horizon_days``). Without ``labels`` the outcome is
        "no purchase in (cutoff, cutoff + horizon_days]" read from ``orders``, so
        ``cutoff + horizon_days <= as_of``.
    labels
        Known outcomes (True = lost) indexed by customer_id, e.g. from a simulation's truth; replaces the
        outcome read from the orders.
    expected_orders
        BG/NBD expected orders at ``cutoff`` (otherwise fitted at ``cutoff`` with ``clv_params``).
    population
        ``all`` customers with a purchase by ``cutoff``, or ``active`` ones only (an order within
        ``lapsed_days``): the harder test, where the early warning matters; or a list of both (rows for each).
    summaries
        The per-customer table at a date (the context's ``summary_at``: the ``customer_summary`` view at
        each snapshot, computed once per run); built from ``orders`` without it.
    model
        The run's risk model (:func:`fit_risk_model` at ``as_of`` on the same orders, tables and params): it
        was trained on the snapshot at ``as_of - horizon_days``, the default cutoff, which is then scored
        without being computed again (same figures).

    Returns
    -------
    pandas.DataFrame
        One row per population and method (``risk_score``, ``no_order_rule``, ``expected_orders``): ``auc``,
        ``precision_top_10``, ``precision_top_20``, ``n_customers``, ``n_lost``, ``base_rate``, ``cutoff``,
        ``horizon_days``, ``population``; ``attrs["method"]`` is the risk model's method. Empty when no customer had
        bought by ``cutoff``.
    """
    p = resolve_params({**(params or {}), **({"horizon_days": horizon_days} if horizon_days else {})})
    return evaluate(orders, as_of=_day(as_of), cutoff=None if cutoff is None else _day(cutoff),
                    tables=tables, params=p, clv_params=clv_params, expected_orders=expected_orders,
                    labels=labels, population=population, summaries=summaries, model=model)
