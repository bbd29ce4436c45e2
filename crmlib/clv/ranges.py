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
range of the existing customers' total is described below.

How it is drawn (the same per-customer distributions, far fewer random numbers; a documented change):

- Given alive, a customer's future depends on x and T only (the posterior of lambda and p above), so one
  given-alive future (purchases, and spend divided by the scale v + x m: G / H with G ~ Gamma(n p, 1),
  H ~ Gamma(q + p x, 1), the same law as Gamma(n p, nu)) is drawn per distinct (x, T) and parameter draw
  and shared by the customers of that group; each customer then has their own alive draws (P(alive) in
  closed form for the draw's parameters, Pareto/NBD: lifetimes' fitted P(alive)) and their own scale
  v_draw + x m. Every customer's spend is thus drawn from the same predictive distribution as before
  (parameter uncertainty included); only customers of one group are no longer independent, which the
  per-customer ranges do not see. Customers with the same (x, t_x, T, m) (e.g. one-time buyers of the
  same age) have one distribution and are simulated once.
- The total over customers needs independent customers, so it is not summed from those draws: per
  parameter draw it is the expected total for the draw's parameters (first order in the log-parameters
  around the fitted values: lifetimes' conditional expected purchases times the Gamma-Gamma expected
  value per purchase, derivatives by forward differences) plus the customers' own variation, normal with
  the sum of the customers' simulated variances (independent customers, central limit). The total's range
  thus keeps both the parameter uncertainty and the customers' own.

Distinct customers are simulated in blocks, each from its own random stream spawned from the seed, on two
threads (numpy's generators release the GIL): the result depends on the seed alone.
``tests/clv/test_ranges.py`` compares the ranges and the total with the previous per-customer simulation
(kept there as the oracle) within Monte-Carlo noise, and the coverage on simulated customers.

The holdout check of the ranges (:func:`holdout_coverage`) runs on the model comparison's seeded random
subset of ``clv.compare_max_customers`` calibration customers when there are more (the share inside is a
sample estimate; the total's range is compared with that sample's actual total; the page's sentence
``clv.txt.coverage_sample`` names the sample's size).
"""

from __future__ import annotations

import contextlib
import copy
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import hyp2f1

from crmlib.clv.data import UNITS, lifetimes_summary
from crmlib.clv.fit import log_covariance, patterns, quiet

#: customers simulated at once (memory: a few CHUNK x draws arrays)
CHUNK = 20_000
#: customers computed at once inside a block (a few SUB x draws arrays stay in the processor's cache)
SUB = 1024
#: threads that simulate blocks of customers at once (numpy's generators release the GIL while they fill)
WORKERS = max(1, min(2, os.cpu_count() or 1))


def _param_draws(fitter: Any, names: list[str], draws: int, rng: np.random.Generator) -> np.ndarray:
    """``draws`` x len(names) parameter draws, normal on the log scale with lifetimes' covariance."""
    theta = np.log(np.array([float(fitter.params_[n]) for n in names]))
    cov = log_covariance(fitter)
    if cov is None:  # no usable covariance: the fitted values only
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


def _given_alive(d: _Draws, ux: np.ndarray, uT: np.ndarray, rng: np.random.Generator) -> np.ndarray:  # noqa: N803
    """One simulated future per (x, T) group and draw for a customer who is alive: the spend divided by the
    customer's Gamma-Gamma scale (v + x m) (without a spend model: the number of purchases), groups x draws.

    Given alive, the future depends on x and T only (FHL 2005: lambda ~ Gamma(r + x, alpha + T),
    p ~ Beta(a, b + x), MBG/NBD Beta(a, b + x + 1); Pareto/NBD mu ~ Gamma(s, beta + T)); purchases in the
    horizon min(Poisson(lambda t), Geometric(p)) (Pareto/NBD: Poisson(lambda min(t, Exp(mu)))); n purchases
    spend (v + x m) G / H, G ~ Gamma(n p_gg, 1), H ~ Gamma(q + p_gg x, 1).
    """
    groups, draws = len(ux), len(d.bg)
    dk = np.tile(np.arange(draws), groups)
    xs = np.repeat(ux, draws)
    ts = np.repeat(uT, draws)
    if d.kind == "pareto":
        lam = rng.standard_gamma(d.bg[dk, 0] + xs) / (d.bg[dk, 1] + ts)
        mu = rng.standard_gamma(d.bg[dk, 2]) / (d.bg[dk, 3] + ts)
        count = rng.poisson(lam * np.minimum(d.horizon, rng.standard_exponential(len(dk)) / mu))
    else:
        # Poisson(lambda t) with lambda ~ Gamma(r + x, alpha + T): numpy's negative binomial draws exactly that
        scale = d.bg[dk, 1] + ts
        count = rng.negative_binomial(d.bg[dk, 0] + xs, scale / (scale + d.horizon))
        buy = np.flatnonzero(count > 0)  # a dropout after the k-th purchase matters only when buying
        extra = 1.0 if d.kind == "mbgnbd" else 0.0
        p = rng.beta(d.bg[dk[buy], 2], d.bg[dk[buy], 3] + xs[buy] + extra)
        count[buy] = np.minimum(count[buy], rng.geometric(np.clip(p, 1e-12, 1.0)))
    out = np.zeros(len(dk))
    buy = np.flatnonzero(count > 0)
    if d.gg is None:
        out[buy] = count[buy]
    else:
        pg, q = d.gg[dk[buy], 0], d.gg[dk[buy], 1]
        out[buy] = rng.standard_gamma(count[buy] * pg) / rng.standard_gamma(q + pg * xs[buy])
    return out.reshape(groups, draws)


def _alive(d: _Draws, x: np.ndarray, tx: np.ndarray, T: np.ndarray, p_alive: np.ndarray | None,  # noqa: N803
           rng: np.random.Generator) -> np.ndarray | None:
    """Alive or not per customer and draw (None: alive in every draw, BG/NBD customers without a repeat
    purchase). Computed :data:`SUB` customers at a time (arrays that stay in the processor's cache), the
    uniform draws taken from ``rng`` in the same order as for the whole block at once."""
    n, draws = len(x), len(d.bg)
    if d.kind == "pareto":
        # the fitted P(alive) (lifetimes' Pareto/NBD, a hypergeometric term per customer)
        return rng.random((n, draws), dtype=np.float32) < p_alive[:, None]
    if d.kind == "bgnbd" and not np.any(x > 0):
        return None
    r, alpha, a, b = (d.bg[:, k][None, :] for k in range(4))
    # P(alive | x, t_x, T) = 1 / (1 + odds) in closed form (FHL 2005 note 021; MBG/NBD: Batislam et al.
    # 2007, eq. 14), odds = a / (b + x - 1) ((b + x) for MBG/NBD) ((alpha + T) / (alpha + t_x)) ** (r + x);
    # the logs over the block's distinct T and t_x for every draw, gathered per customer
    it, uniq_t = _codes(T)
    ir, uniq_r = _codes(tx)
    ix, uniq_x = _codes(x)
    log_t, log_r = np.log(alpha + uniq_t[:, None]), np.log(alpha + uniq_r[:, None])
    first = b + uniq_x[:, None] if d.kind == "mbgnbd" else np.maximum(b + uniq_x[:, None] - 1, 1e-12)
    log_first = np.log(a) - np.log(first)
    out = np.empty((n, draws), dtype=bool)
    for start in range(0, n, SUB):
        sl = slice(start, min(n, start + SUB))
        log_odds = log_t[it[sl]] - log_r[ir[sl]]
        log_odds *= r + x[sl, None]
        log_odds += log_first[ix[sl]]
        with np.errstate(over="ignore"):  # odds beyond 1e308: not alive
            odds = np.exp(log_odds, out=log_odds)
        if d.kind == "bgnbd":
            odds[x[sl] == 0] = 0.0  # BG/NBD: no repeat purchase, no dropout yet
        odds += 1.0
        odds *= rng.random((sl.stop - sl.start, draws), dtype=np.float32)
        np.less(odds, 1.0, out=out[sl])
    return out


def _block(d: _Draws, future: np.ndarray, group: np.ndarray, x: np.ndarray, m: np.ndarray,
           alive: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """10th and 90th percentile and variance of the simulated spend of one block of distinct customers, from
    their groups' given-alive futures and their alive draws (:func:`_alive`); :data:`SUB` customers at a
    time (every figure is per customer)."""
    n = len(x)
    p10, p90, var = np.empty(n), np.empty(n), np.empty(n)
    for start in range(0, n, SUB):
        sl = slice(start, min(n, start + SUB))
        spend = future[group[sl]]  # the (x, T) group's given-alive future, draw by draw
        if d.gg is not None:
            spend *= d.gg[:, 2][None, :] + (x[sl] * m[sl])[:, None]
        else:
            spend *= np.where((x[sl] > 0) & (m[sl] > 0), m[sl], d.fallback_value)[:, None]
        if alive is not None:
            spend *= alive[sl]
        var[sl] = spend.var(axis=1)
        p10[sl], p90[sl] = row_percentiles(spend, [10.0, 90.0])
    return p10, p90, var


def row_percentiles(values: np.ndarray, q: list[float]) -> np.ndarray:
    """``np.percentile(values, q, axis=1)`` (linear interpolation) bit for bit, by sorting each row in place.

    numpy partitions along the first axis after moving the axis there (strided, slow for rows of a few
    hundred draws); a sort of contiguous rows gives the same order statistics, and the interpolation below
    is numpy's (``_quantile``'s virtual index, ``_lerp``). ``values`` is sorted in place. A row with NaN gives
    NaN, as numpy's.
    """
    n = values.shape[1]
    values.sort(axis=1)
    virtual = (n - 1) * np.true_divide(np.asanyarray(q, dtype=float), 100)  # numpy's "linear" method
    previous = np.floor(virtual)
    nxt = previous + 1
    previous[virtual >= n - 1], nxt[virtual >= n - 1] = -1, -1
    previous[virtual < 0], nxt[virtual < 0] = 0, 0
    previous, nxt = previous.astype(np.intp), nxt.astype(np.intp)
    gamma = virtual - previous
    out = np.empty((len(virtual), values.shape[0]))
    for i, t in enumerate(gamma):
        a, b = values[:, previous[i]], values[:, nxt[i]]
        diff_b_a = b - a
        np.add(a, diff_b_a * t, out=out[i])
        if t >= 0.5:
            np.subtract(b, diff_b_a * (1 - t), out=out[i])
    out[:, np.isnan(values[:, -1])] = np.nan
    return out


class _Expected:
    """Conditional expected purchases in ``horizon`` for purchase parameters given per call: BG/NBD by FHL
    2005 eq. 10 (lifetimes' formula) with its hypergeometric term over the distinct (x, T), the distinct
    pairs found once for every call; the other models by their lifetimes fitter."""

    def __init__(self, kind: str, fitter: Any, names: list[str], x: np.ndarray, tx: np.ndarray,
                 T: np.ndarray, horizon: float) -> None:  # noqa: N803
        self.kind, self.fitter, self.names, self.horizon = kind, fitter, names, horizon
        self.x, self.tx, self.T = x, tx, T
        if kind == "bgnbd":
            (self.ux, self.ut), _, self.pair = patterns([x, T])
            self.buys = x > 0

    def __call__(self, params: np.ndarray) -> np.ndarray:
        x, tx, T, horizon = self.x, self.tx, self.T, self.horizon  # noqa: N806
        if self.kind == "bgnbd":
            r, alpha, a, b = params
            ux, ut = self.ux, self.ut
            z = horizon / (alpha + ut + horizon)
            given_alive = (1 - ((alpha + ut) / (alpha + ut + horizon)) ** (r + ux)
                           * hyp2f1(r + ux, b + ux, a + b + ux - 1, z)) * (a + b + ux - 1) / (a - 1)
            odds = self.buys * (a / np.maximum(b + x - 1, 1e-12)) * ((alpha + T) / (alpha + tx)) ** (r + x)
            return given_alive[self.pair] / (1 + odds)
        f = copy.copy(self.fitter)
        f.params_ = pd.Series(params, index=self.names, dtype=float)
        with quiet():
            return np.asarray(f.conditional_expected_number_of_purchases_up_to_time(horizon, x, tx, T), float)


def _expected_orders(kind: str, fitter: Any, params: np.ndarray, names: list[str], x: np.ndarray,
                     tx: np.ndarray, T: np.ndarray, horizon: float) -> np.ndarray:  # noqa: N803
    """Conditional expected purchases in ``horizon`` with the purchase parameters ``params`` (see
    :class:`_Expected`)."""
    return _Expected(kind, fitter, names, x, tx, T, horizon)(params)


def _order_values(model: Any, gg: np.ndarray | None, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """The Gamma-Gamma expected value per purchase with spend parameters ``gg`` (lifetimes'
    ``conditional_expected_average_profit``), the fallback without a spend model."""
    if gg is None:
        return np.where((x > 0) & (m > 0), m, float(model.fallback_value_))
    p, q, v = gg
    weight = p * x / (p * x + q - 1)
    return (1 - weight) * (v * p / (q - 1)) + weight * m


def _total_mean(model: Any, fitter: Any, d: _Draws, names: list[str], x: np.ndarray, tx: np.ndarray,
                T: np.ndarray, m: np.ndarray, weights: np.ndarray) -> np.ndarray:  # noqa: N803
    """The existing customers' expected total spend per draw, given the draw's parameters: first order in the
    log-parameters around the fitted values (derivatives by forward differences) of the conditional expected
    purchases times the Gamma-Gamma expected value per purchase, summed with ``weights``. Expected purchases
    do not depend on the spend parameters: computed once for those derivatives."""
    kind = getattr(model, "purchase_kind_", "bgnbd")
    bg0 = np.array([float(fitter.params_[k]) for k in names])
    gg0 = (None if d.gg is None else
           np.array([float(model.gamma_gamma_.params_[k]) for k in ("p", "q", "v")]))
    expected = _Expected(kind, fitter, names, x, tx, T, d.horizon)

    def orders(bg: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return expected(bg)

    def total(o: np.ndarray, gg: np.ndarray | None) -> float:
        return float(np.sum(weights * o * _order_values(model, gg, x, m)))

    orders0 = orders(bg0)
    base = total(orders0, gg0)
    step = 1e-4
    grad_bg = np.array([(total(orders(bg0 * np.exp(step * np.eye(4)[k])), gg0) - base) / step for k in range(4)])
    mean = base + (np.log(d.bg) - np.log(bg0)) @ grad_bg
    if d.gg is not None and gg0 is not None:
        grad_gg = np.array([(total(orders0, gg0 * np.exp(step * np.eye(3)[k])) - base) / step for k in range(3)])
        mean = mean + (np.log(d.gg) - np.log(gg0)) @ grad_gg
    return mean


def simulate_spend(model: Any, lt: pd.DataFrame, *, horizon: float, draws: int = 200, seed: int = 0,
                   workers: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulated spend per customer over ``horizon`` (in the model's time unit), and the total's draws.

    See the module docstring: one given-alive future per (x, T) group and draw, shared by the group's
    customers, each with their own alive draws and spend scale; every distinct (x, t_x, T, m) once.
    Distinct customers are simulated in blocks of :data:`CHUNK`, each from its own random stream (spawned
    from ``seed``), on ``workers`` threads (default :data:`WORKERS`): the result depends on the seed only.

    Parameters
    ----------
    model
        A fitted :class:`crmlib.clv.ClvModel`.
    lt
        lifetimes' inputs in the model's unit: ``frequency``, ``recency``, ``T``, ``monetary_value``.

    Returns
    -------
    (p10, p90, totals)
        Per-customer 10th and 90th percentiles, and ``draws`` draws of the total over all customers.
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
    n = len(lt)
    if not n:
        return np.zeros(0), np.zeros(0), np.zeros(draws)
    cols = [lt[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T", "monetary_value")]
    # distinct customers (x, t_x, T, m): the same predictive distribution, simulated once
    (x, tx, T, m), weights, inverse = patterns(cols)  # noqa: N806
    weights = np.asarray(weights, dtype=float)
    (gx, gt), _, group = patterns([x, T])
    future_rng = np.random.default_rng(seeds.spawn(1)[0])
    k = len(x)
    starts = list(range(0, k, CHUNK))
    streams = [np.random.default_rng(s) for s in seeds.spawn(len(starts))]
    blocks = [slice(start, min(k, start + CHUNK)) for start in starts]
    workers = min(workers or WORKERS, max(2, len(starts)))
    with ThreadPoolExecutor(max_workers=workers) if workers > 1 else contextlib.nullcontext() as pool:
        # Each draw comes from its own stream, so the order of the work does not change it: the given-alive
        # futures (one thread) while the blocks' alive draws start (the other), the total's expectation in
        # this thread meanwhile, then the blocks' spend once the futures are there. numpy's random draws and
        # array arithmetic release the GIL.
        futures = pool.submit(_given_alive, d, gx, gt, future_rng) if pool is not None else None
        p_alive = model._alive(x, tx, T) if kind == "pareto" else None

        def alive(j: int) -> np.ndarray | None:
            sl = blocks[j]
            return _alive(d, x[sl], tx[sl], T[sl], None if p_alive is None else p_alive[sl], streams[j])

        alives = [pool.submit(alive, j) for j in range(len(blocks))] if pool is not None else None
        mean = _total_mean(model, fitter, d, names, x, tx, T, m, weights)
        future = futures.result() if futures is not None else _given_alive(d, gx, gt, future_rng)

        def run(j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            sl = blocks[j]
            return _block(d, future, group[sl], x[sl], m[sl], alives[j].result() if alives else alive(j))

        parts = (list(pool.map(run, range(len(blocks)))) if pool is not None
                 else [run(j) for j in range(len(blocks))])
    p10, p90, var = (np.concatenate([p[i] for p in parts]) for i in range(3))
    spread = float(np.sqrt(np.sum(weights * var)))
    totals = mean + spread * rng.standard_normal(len(mean))
    return p10[inverse], p90[inverse], totals


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
        existing customers over ``horizon_days`` (undiscounted revenue), and ``value_p10``, ``value_p90``: the
        range of the total CLV (the value today, after margin and discounting), the spend's draws scaled by the
        ratio of the total point CLV to the total point spend, as each customer's range is scaled.
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
    points = float(np.nansum(point))
    value = totals * (float(np.nansum(clv)) / points if points > 0 else 0.0)
    return frame, {"spend_p10": float(np.percentile(totals, 10)), "spend_p90": float(np.percentile(totals, 90)),
                   "spend_mean": float(totals.mean()), "value_p10": float(np.percentile(value, 10)),
                   "value_p90": float(np.percentile(value, 90))}


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
