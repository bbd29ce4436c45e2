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

How it is drawn (the same distributions, fewer random numbers): a customer's rate, dropout and spend are
drawn only in the simulations where they are alive and buy (a customer who is not alive or makes no purchase
spends 0 whatever those draws); spend as (v + x m) G / H with G ~ Gamma(n p, 1), H ~ Gamma(q + p x, 1) (the
same law as Gamma(n p, nu), nu ~ Gamma(q + p x, v + x m)); Poisson(lambda t) with lambda ~ Gamma(r + x,
alpha + T) as numpy's negative binomial (which draws exactly that); P(alive)'s logs over the distinct x, T and
t_x, and a single-precision uniform for the alive draw (P(alive) is compared, not summed).
Customers are simulated in blocks, each from its own random stream spawned from the seed, on two threads
(numpy's generators release the GIL): the result depends on the seed alone. ``tests/clv/test_ranges.py``
compares the ranges with the previous per-customer simulation (within Monte-Carlo noise).

The holdout check of the ranges (:func:`holdout_coverage`) runs on the model comparison's seeded random
subset of ``clv.compare_max_customers`` calibration customers when there are more (the share inside is a
sample estimate; the total's range is compared with that sample's actual total; the page's sentence
``clv.txt.coverage_sample`` names the sample's size).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlib.clv.data import UNITS, lifetimes_summary

#: customers simulated at once (memory: a few CHUNK x draws arrays)
CHUNK = 20_000
#: threads that simulate blocks of customers at once (numpy's generators release the GIL while they fill)
WORKERS = max(1, min(2, os.cpu_count() or 1))


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


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``values`` into their sorted distinct values, and those values."""
    uniq, codes = np.unique(values, return_inverse=True)
    return codes.reshape(-1), uniq


@dataclass(frozen=True)
class _Draws:
    """What every block of customers shares: the model kind, the parameter draws and the horizon."""

    kind: str
    bg: np.ndarray  # draws x 4: r, alpha, a, b (Pareto/NBD: r, alpha, s, beta)
    gg: np.ndarray | None  # draws x 3: p, q, v
    fallback_value: float
    horizon: float


def _purchases(d: _Draws, x: np.ndarray, tx: np.ndarray, T: np.ndarray, p_alive: np.ndarray | None,  # noqa: N803
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulated purchases of one block: flat indices into (customers x draws), customer and draw of each
    non-zero count, and the counts (zero counts are left out: they spend nothing)."""
    n, draws = len(x), len(d.bg)
    r, alpha, a, b = (d.bg[:, k][None, :] for k in range(4))
    xc = x[:, None]
    if d.kind == "pareto":
        # alive with the fitted P(alive); given alive, lambda ~ Gamma(r + x, alpha + T) and the dropout
        # rate mu ~ Gamma(s, beta + T); purchases Poisson(lambda * min(t, Exp(mu)))
        alive = rng.random((n, draws)) < p_alive[:, None]
    else:
        # P(alive | x, t_x, T) = 1 / (1 + odds) in closed form (FHL 2005 note 021; MBG/NBD: Batislam et al.
        # 2007, eq. 14), odds = a / (b + x - 1) ((b + x) for MBG/NBD) ((alpha + T) / (alpha + t_x)) ** (r + x);
        # the logs over the block's distinct T and t_x (a few hundred) for every draw, gathered per customer
        it, uniq_t = _codes(T)
        ir, uniq_r = _codes(tx)
        log_ratio = np.log(alpha + uniq_t[:, None])[it] - np.log(alpha + uniq_r[:, None])[ir]
        ix, uniq_x = _codes(x)
        first = b + uniq_x[:, None] if d.kind == "mbgnbd" else np.maximum(b + uniq_x[:, None] - 1, 1e-12)
        log_odds = (np.log(a) - np.log(first))[ix]
        log_odds += (r + xc) * log_ratio
        with np.errstate(over="ignore"):  # odds beyond 1e308: not alive
            odds = np.exp(log_odds, out=log_odds)
        if d.kind == "bgnbd":
            odds[x == 0] = 0.0  # BG/NBD: no repeat purchase, no dropout yet
        odds += 1.0
        odds *= rng.random((n, draws), dtype=np.float32)
        alive = odds < 1.0
    flat = np.flatnonzero(alive)  # only alive customers buy: the rest is drawn for them alone
    ci, dk = np.divmod(flat, draws)
    xs = x[ci]
    if d.kind == "pareto":
        lam = rng.standard_gamma(d.bg[dk, 0] + xs) / (d.bg[dk, 1] + T[ci])
        mu = rng.standard_gamma(d.bg[dk, 2]) / (d.bg[dk, 3] + T[ci])
        count = rng.poisson(lam * np.minimum(d.horizon, rng.standard_exponential(len(flat)) / mu))
    else:
        # Poisson(lambda t) with lambda ~ Gamma(r + x, alpha + T): numpy's negative binomial draws exactly that
        scale = d.bg[dk, 1] + T[ci]
        count = rng.negative_binomial(d.bg[dk, 0] + xs, scale / (scale + d.horizon))
        buy = np.flatnonzero(count > 0)  # a dropout after the k-th purchase matters only when buying
        extra = 1.0 if d.kind == "mbgnbd" else 0.0
        p = rng.beta(d.bg[dk[buy], 2], d.bg[dk[buy], 3] + xs[buy] + extra)
        count[buy] = np.minimum(count[buy], rng.geometric(np.clip(p, 1e-12, 1.0)))
    keep = count > 0
    return flat[keep], ci[keep], count[keep]


def _block(d: _Draws, x: np.ndarray, tx: np.ndarray, T: np.ndarray, m: np.ndarray,  # noqa: N803
           p_alive: np.ndarray | None, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """10th and 90th percentile of one block's simulated spend per customer, and its total per draw."""
    n, draws = len(x), len(d.bg)
    flat, ci, count = _purchases(d, x, tx, T, p_alive, rng)
    dk = flat % draws
    xs = x[ci]
    if d.gg is not None:
        # n purchases spend Gamma(n p, nu) with nu ~ Gamma(q + p x, v + x m): (v + x m) G / H with
        # G ~ Gamma(n p, 1), H ~ Gamma(q + p x, 1)
        pg, q, v = d.gg[dk, 0], d.gg[dk, 1], d.gg[dk, 2]
        spent = (v + xs * m[ci]) * rng.standard_gamma(count * pg) / rng.standard_gamma(q + pg * xs)
    else:
        value = np.where((x > 0) & (m > 0), m, d.fallback_value)
        spent = count * value[ci]
    spend = np.zeros(n * draws)
    spend[flat] = spent
    spend = spend.reshape(n, draws)
    p10, p90 = np.percentile(spend, [10, 90], axis=1)
    return p10, p90, np.bincount(dk, spent, minlength=draws)


def simulate_spend(model: Any, lt: pd.DataFrame, *, horizon: float, draws: int = 200, seed: int = 0,
                   workers: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulated spend per customer over ``horizon`` (in the model's time unit).

    Customers are simulated in blocks of :data:`CHUNK`, each from its own random stream (spawned from
    ``seed``), on ``workers`` threads (default :data:`WORKERS`): the result depends on the seed only. A
    customer draws a purchase rate, dropout and spend only in the simulations where they are alive and buy.

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
    seeds = np.random.SeedSequence(seed)
    rng = np.random.default_rng(seeds.spawn(1)[0])
    kind = getattr(model, "purchase_kind_", "bgnbd")
    fitter = model.purchase_fitter if hasattr(model, "purchase_fitter") else model.bgnbd_
    names = ["r", "alpha", "s", "beta"] if kind == "pareto" else ["r", "alpha", "a", "b"]
    bg = _param_draws(fitter, names, draws, rng)
    gg = (_param_draws(model.gamma_gamma_, ["p", "q", "v"], draws, rng)
          if model.gamma_gamma_ is not None else None)
    d = _Draws(kind, bg, gg, float(model.fallback_value_), float(horizon))
    x = lt["frequency"].to_numpy(dtype=float)
    tx = lt["recency"].to_numpy(dtype=float)
    T = lt["T"].to_numpy(dtype=float)  # noqa: N806
    m = lt["monetary_value"].to_numpy(dtype=float)
    p_alive = model._alive(x, tx, T) if kind == "pareto" else None
    n = len(lt)
    starts = list(range(0, n, CHUNK))
    streams = [np.random.default_rng(s) for s in seeds.spawn(len(starts))]

    def run(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sl = slice(starts[k], min(n, starts[k] + CHUNK))
        return _block(d, x[sl], tx[sl], T[sl], m[sl], None if p_alive is None else p_alive[sl], streams[k])

    workers = min(workers or WORKERS, len(starts))
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(run, range(len(starts))))
    else:
        parts = [run(k) for k in range(len(starts))]
    if not parts:
        return np.zeros(0), np.zeros(0), np.zeros(draws)
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
            np.sum([p[2] for p in parts], axis=0))


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


def holdout_coverage(validation: Any, *, draws: int = 200, seed: int = 0,
                     max_customers: int = 0) -> dict[str, float]:
    """How often the holdout period's actual spend fell inside the simulated 10-90% ranges.

    ``validation`` is :func:`crmlib.clv.analysis.holdout_validation`'s result (status ``ok``): its
    calibration model, customers and holdout length. With ``max_customers`` (``clv.compare_max_customers``)
    and more calibration customers than that, the check runs on the same seeded random subset as the model
    comparison (:func:`crmlib.clv.choice.comparison_rows`): the share inside is a sample estimate, and the
    total's range is compared with that sample's actual total.

    Returns ``coverage`` (share of customers whose actual holdout spend is within their range; about 0.8
    when the ranges are right; customers with no purchase and a range starting at 0 count as inside),
    ``total_p10``, ``total_p90``, ``total_actual``, ``total_inside``, ``n_customers`` (customers checked) and
    ``sampled`` (1.0 when a subset was checked).
    """
    from crmlib.clv.choice import comparison_rows

    model = validation.model
    cal = validation.customers
    frame = getattr(validation, "lt", None)
    if frame is None or model is None:
        raise ValueError("holdout_coverage needs the calibration inputs (validation.lt)")
    keep = comparison_rows(len(frame), int(max_customers))
    if keep is not None:
        frame, cal = frame.iloc[keep], cal.iloc[keep]
    horizon = float(validation.holdout_days) / UNITS[model.time_unit]
    lo, hi, totals = simulate_spend(model, frame, horizon=horizon, draws=draws, seed=seed)
    actual = cal["actual_spend"].to_numpy(dtype=float)
    inside = (actual >= lo - 1e-9) & (actual <= hi + 1e-9)
    t_lo, t_hi = float(np.percentile(totals, 10)), float(np.percentile(totals, 90))
    total = float(actual.sum())
    return {"coverage": float(inside.mean()), "total_p10": t_lo, "total_p90": t_hi, "total_actual": total,
            "total_inside": float(t_lo <= total <= t_hi), "n_customers": float(len(frame)),
            "sampled": float(keep is not None)}
