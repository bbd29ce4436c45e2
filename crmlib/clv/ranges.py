"""Ranges, not just points: each customer's future spend as a predictive distribution, by simulation.

Method (documented choice, checked on the holdout period): for each of ``draws`` simulations,

1. parameter uncertainty: the BG/NBD and Gamma-Gamma parameters are drawn from a normal distribution on the
   log scale around the fitted values, with lifetimes' covariance (inverse Hessian of the mean negative
   log-likelihood divided by the number of customers, as ``variance_matrix_`` uses);
2. each customer's own uncertainty, from the posterior given (x, t_x, T, m_x) (Fader, Hardie & Lee 2005;
   Fader & Hardie 2013, Gamma-Gamma note): alive with probability P(alive); purchase rate
   lambda ~ Gamma(r + x, alpha + T); dropout probability p ~ Beta(a, b + x); purchases in the horizon
   min(Poisson(lambda t), Geometric(p)) (a BG/NBD customer drops out only right after a purchase); spend
   per purchase Gamma(p_gg, nu) with nu ~ Gamma(q + p_gg x, v + x m_x), so n purchases spend
   Gamma(n p_gg, nu).

The 10th and 90th percentiles of the simulated spend give ``clv_p10`` / ``clv_p90`` after the same margin
and discounting as the point CLV (scaled by the customer's ratio of point CLV to point expected spend); the
sum over customers per simulation gives the range of the existing customers' total.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlib.clv.data import UNITS, lifetimes_summary

#: customers simulated at once (memory: CHUNK x draws floats)
CHUNK = 20_000


def _param_draws(fitter: Any, names: list[str], draws: int, rng: np.random.Generator) -> np.ndarray:
    """``draws`` x len(names) parameter draws, normal on the log scale with lifetimes' covariance."""
    theta = np.log(np.array([float(fitter.params_[n]) for n in names]))
    try:
        hess = np.asarray(fitter._hessian_, dtype=float)
        n = float(np.asarray(fitter.data["weights"]).sum()) if "weights" in fitter.data else float(len(fitter.data))
        cov = np.linalg.inv((hess + hess.T) / 2) / n
        np.linalg.cholesky(cov)
    except (AttributeError, KeyError, TypeError, np.linalg.LinAlgError):
        cov = np.zeros((len(names), len(names)))
    if not np.all(np.isfinite(cov)) or not cov.any():  # no usable covariance: the fitted values only
        return np.tile(np.exp(theta), (draws, 1))
    return np.exp(rng.multivariate_normal(theta, cov, size=draws, method="cholesky"))


def simulate_spend(model: Any, lt: pd.DataFrame, *, horizon: float, draws: int = 200,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulated spend per customer over ``horizon`` (in the model's time unit).

    Parameters
    ----------
    model
        A fitted :class:`crmlib.clv.ClvModel`.
    lt
        lifetimes' inputs in the model's unit: ``frequency``, ``recency``, ``T``, ``monetary_value``.

    Returns
    -------
    (p10, p90, totals)
        Per-customer 10th and 90th percentiles, and the total over all customers of each draw.
    """
    rng = np.random.default_rng(seed)
    kind = getattr(model, "purchase_kind_", "bgnbd")
    fitter = model.purchase_fitter if hasattr(model, "purchase_fitter") else model.bgnbd_
    names = ["r", "alpha", "s", "beta"] if kind == "pareto" else ["r", "alpha", "a", "b"]
    bg = _param_draws(fitter, names, draws, rng)
    gg = (_param_draws(model.gamma_gamma_, ["p", "q", "v"], draws, rng)
          if model.gamma_gamma_ is not None else None)
    x_all = lt["frequency"].to_numpy(dtype=float)
    tx_all = lt["recency"].to_numpy(dtype=float)
    T_all = lt["T"].to_numpy(dtype=float)  # noqa: N806
    m_all = lt["monetary_value"].to_numpy(dtype=float)
    n = len(lt)
    p10, p90 = np.zeros(n), np.zeros(n)
    totals = np.zeros(draws)
    for start in range(0, n, CHUNK):
        sl = slice(start, min(n, start + CHUNK))
        x, tx, T, m = x_all[sl, None], tx_all[sl, None], T_all[sl, None], m_all[sl, None]  # noqa: N806
        r, alpha, a, b = (bg[:, k][None, :] for k in range(4))  # Pareto/NBD: a, b are s, beta
        lam = rng.gamma(r + x, 1.0 / (alpha + T))
        if kind == "pareto":
            # alive with the fitted P(alive); given alive, lambda ~ Gamma(r + x, alpha + T) and the dropout
            # rate mu ~ Gamma(s, beta + T); purchases Poisson(lambda * min(t, Exp(mu)))
            p_alive = model._alive(x_all[sl], tx_all[sl], T_all[sl])[:, None]
            alive = rng.random(lam.shape) < p_alive
            mu = rng.gamma(np.broadcast_to(a, lam.shape), 1.0 / (b + T))
            n_buy = rng.poisson(lam * np.minimum(horizon, rng.exponential(1.0 / mu)))
        else:
            # P(alive | x, t_x, T) in closed form (FHL 2005 note 021; MBG/NBD: Batislam et al. 2007, eq. 14)
            ratio = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + tx)))
            if kind == "mbgnbd":
                odds = a / (b + x) * ratio
                p = rng.beta(np.broadcast_to(a, lam.shape), b + x + 1)
            else:
                odds = np.where(x > 0, a / np.maximum(b + x - 1, 1e-12) * ratio, 0.0)
                p = rng.beta(np.broadcast_to(a, lam.shape), b + x)
            alive = rng.random(odds.shape) < 1.0 / (1.0 + odds)
            n_buy = np.minimum(rng.poisson(lam * horizon), rng.geometric(np.clip(p, 1e-12, 1.0)))
        n_buy = np.where(alive, n_buy, 0)
        if gg is not None:
            pg, q, v = (gg[:, k][None, :] for k in range(3))
            nu = rng.gamma(q + pg * x, 1.0 / (v + x * m))
            spend = np.where(n_buy > 0, rng.gamma(np.maximum(n_buy * pg, 1e-12), 1.0 / nu), 0.0)
        else:
            value = np.where((x > 0) & (m > 0), m, model.fallback_value_)
            spend = n_buy * value
        p10[sl], p90[sl] = np.percentile(spend, [10, 90], axis=1)
        totals += spend.sum(axis=0)
    return p10, p90, totals


def clv_ranges(model: Any, customer_summary: pd.DataFrame, table: pd.DataFrame, *, horizon_days: float,
               draws: int = 200, seed: int = 0) -> tuple[pd.DataFrame, dict[str, float]]:
    """``clv_p10`` and ``clv_p90`` per customer, and the range of the existing customers' total spend.

    Parameters
    ----------
    table
        The CLV table (``customer_id``, ``expected_orders``, ``expected_order_value``, ``clv``), one row per
        customer of ``customer_summary``.

    Returns
    -------
    (frame, totals)
        ``customer_id``, ``clv_p10``, ``clv_p90``; totals ``spend_p10``, ``spend_p90``, ``spend_mean`` of the
        existing customers over ``horizon_days`` (undiscounted revenue).
    """
    lt = lifetimes_summary(customer_summary, time_unit=model.time_unit)
    horizon = float(horizon_days) / UNITS[model.time_unit]
    lo, hi, totals = simulate_spend(model, lt, horizon=horizon, draws=draws, seed=seed)
    t = table.set_index(table["customer_id"].astype(str))
    ids = lt.index.astype(str)
    point = (t["expected_orders"] * t["expected_order_value"]).reindex(ids).to_numpy(dtype=float)
    clv = t["clv"].reindex(ids).to_numpy(dtype=float)
    scale = np.divide(clv, point, out=np.zeros_like(clv), where=point > 0)
    frame = pd.DataFrame({"customer_id": ids, "clv_p10": lo * scale, "clv_p90": hi * scale})
    return frame, {"spend_p10": float(np.percentile(totals, 10)), "spend_p90": float(np.percentile(totals, 90)),
                   "spend_mean": float(totals.mean())}


def holdout_coverage(validation: Any, *, draws: int = 200, seed: int = 0) -> dict[str, float]:
    """How often the holdout period's actual spend fell inside the simulated 10-90% ranges.

    ``validation`` is :func:`crmlib.clv.analysis.holdout_validation`'s result (status ``ok``): its
    calibration model, customers and holdout length. Returns ``coverage`` (share of customers whose actual
    holdout spend is within their range; about 0.8 when the ranges are right; customers with no purchase and
    a range starting at 0 count as inside), ``total_p10``, ``total_p90``, ``total_actual`` and ``total_inside``.
    """
    model = validation.model
    cal = validation.customers
    frame = getattr(validation, "lt", None)
    if frame is None or model is None:
        raise ValueError("holdout_coverage needs the calibration inputs (validation.lt)")
    horizon = float(validation.holdout_days) / UNITS[model.time_unit]
    lo, hi, totals = simulate_spend(model, frame, horizon=horizon, draws=draws, seed=seed)
    actual = cal["actual_spend"].to_numpy(dtype=float)
    inside = (actual >= lo - 1e-9) & (actual <= hi + 1e-9)
    t_lo, t_hi = float(np.percentile(totals, 10)), float(np.percentile(totals, 90))
    total = float(actual.sum())
    return {"coverage": float(inside.mean()), "total_p10": t_lo, "total_p90": t_hi, "total_actual": total,
            "total_inside": float(t_lo <= total <= t_hi)}
