"""Pareto/NBD with lifetimes' likelihood, its Gauss hypergeometric terms evaluated once per distinct pair.

lifetimes' ``ParetoNBDFitter`` (0.11.3) spends nearly all of its fit in ``_log_A_0`` (Hardie's note 009,
eqs. 19-20): two ``hyp2f1`` calls per row and likelihood evaluation, one on (x, t_x) and one on (x, T). Many
rows share those pairs (distinct (x, t_x, T) rows share their x and t_x or x and T), so
:func:`log_a0` evaluates ``hyp2f1`` over the distinct pairs only, gathers the values per row and then does
the rest of lifetimes' arithmetic per row, in the same order: every row's value is bit for bit lifetimes'
(``hyp2f1`` is elementwise), so the Nelder-Mead path, the fitted parameters and the predictions are
lifetimes' exactly (``tests/clv/test_pareto.py`` checks bitwise equality of the likelihood and of a fit).

A likelihood value that is NaN (the hypergeometric term out of floating-point range, e.g. on a ridge with
s and beta in the hundreds) ends the fit with ``FloatingPointError``: lifetimes' Nelder-Mead cannot order
NaN values, so whatever it returned after one was arbitrary (on 850k customers it ran on for 400 more
evaluations, the slowest ones, and ended with non-finite predictions). The comparison reports such a fit
as failed (:mod:`crmlib.clv.choice`), a run that asks for Pareto/NBD gets one message saying so.

The fit starts from a seeded draw of lifetimes' own random start (normal, mean 1, sd 0.05, see
:data:`START_SEED`) instead of numpy's global random state, so that a run is reproducible.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy import log
from scipy.special import gammaln, hyp2f1, logsumexp

from crmlib.clv.fit import lifetimes_module

#: threads for the hypergeometric terms during a fit
WORKERS: int = max(1, min(2, os.cpu_count() or 1))
#: seed of the start drawn like lifetimes' own (``np.random.normal(1.0, 0.05, 4)``)
START_SEED: int = 0


def start_params(seed: int = START_SEED) -> np.ndarray:
    """lifetimes' random start for Pareto/NBD (normal, mean 1, sd 0.05, four values), from a seeded generator."""
    return np.random.default_rng(seed).normal(1.0, 0.05, size=4)


def pair_codes(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of the distinct (x, y) pairs per row and the pairs' x and y (``ux[codes] == x``)."""
    x, y = np.asarray(x), np.asarray(y)
    both = np.empty(len(x), dtype=[("x", x.dtype), ("y", y.dtype)])
    both["x"], both["y"] = x, y
    uniq, codes = np.unique(both, return_inverse=True)
    return codes.reshape(-1), uniq["x"], uniq["y"]


def _hyp(xu: np.ndarray, yu: np.ndarray, *, r: Any, s: Any, low_alpha: bool, abs_alpha_beta: Any,
         max_of_alpha_beta: Any, pool: ThreadPoolExecutor | None) -> np.ndarray:
    """lifetimes' ``hyp2f1(r + s + x, t, r + s + x + 1, |alpha - beta| / (max(alpha, beta) + y))`` per pair,
    in two halves on ``pool``'s threads when given (``hyp2f1`` is elementwise and releases the GIL)."""

    def part(sl: slice) -> np.ndarray:
        x, y = xu[sl], yu[sl]
        rsf_u = r + s + x
        t = r + x if low_alpha else s + 1
        return hyp2f1(rsf_u, t, rsf_u + 1.0, abs_alpha_beta / (max_of_alpha_beta + y))

    if pool is None or len(xu) < 2000:
        return part(slice(None))
    half = len(xu) // 2
    return np.concatenate(list(pool.map(part, [slice(0, half), slice(half, None)])))


def log_a0(params: Any, freq: np.ndarray, recency: np.ndarray, age: np.ndarray,
           codes: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]
           | None = None, pool: ThreadPoolExecutor | None = None) -> np.ndarray:
    """``ParetoNBDFitter._log_A_0`` bit for bit, ``hyp2f1`` over the distinct (x, t_x) and (x, T) pairs.

    ``codes``: :func:`pair_codes` of (freq, recency) and (freq, age), computed here when not given;
    ``pool``: threads for ``hyp2f1``.
    """
    r, alpha, s, beta = params
    freq, recency, age = np.asarray(freq), np.asarray(recency), np.asarray(age)
    if freq.ndim == 0:  # a single customer: lifetimes' own code
        return lifetimes_module().ParetoNBDFitter._log_A_0(params, freq, recency, age)
    (c1, x1, u1), (c2, x2, u2) = codes if codes is not None else (pair_codes(freq, recency), pair_codes(freq, age))
    low_alpha = alpha < beta
    if low_alpha:
        min_of_alpha_beta, max_of_alpha_beta = alpha, beta
    else:
        min_of_alpha_beta, max_of_alpha_beta = beta, alpha
    abs_alpha_beta = max_of_alpha_beta - min_of_alpha_beta
    both = _hyp(np.concatenate([x1, x2]), np.concatenate([u1, u2]), r=r, s=s, low_alpha=low_alpha,
                abs_alpha_beta=abs_alpha_beta, max_of_alpha_beta=max_of_alpha_beta, pool=pool)

    rsf = r + s + freq
    p_1 = both[:len(x1)][c1]
    q_1 = max_of_alpha_beta + recency
    p_2 = both[len(x1):][c2]
    q_2 = max_of_alpha_beta + age
    sign = np.ones(len(freq))
    return logsumexp([log(p_1) + rsf * log(q_2), log(p_2) + rsf * log(q_1)], axis=0, b=[sign, -sign]) - rsf * log(
        q_1 * q_2
    )


def conditional_log_likelihood(params: Any, freq: np.ndarray, rec: np.ndarray, T: np.ndarray,  # noqa: N803
                               codes: Any = None, pool: ThreadPoolExecutor | None = None) -> np.ndarray:
    """``ParetoNBDFitter._conditional_log_likelihood`` (Hardie's note 009, eq. 18) with :func:`log_a0`."""
    r, alpha, s, beta = params
    x = freq
    r_s_x = r + s + x
    A_1 = gammaln(r + x) - gammaln(r) + r * log(alpha) + s * log(beta)  # noqa: N806
    log_A_0 = log_a0(params, x, rec, T, codes, pool)  # noqa: N806
    A_2 = np.logaddexp(-(r + x) * log(alpha + T) - s * log(beta + T), log(s) + log_A_0 - log(r_s_x))  # noqa: N806
    return A_1 + A_2


def negative_log_likelihood(freq: np.ndarray, rec: np.ndarray, T: np.ndarray, weights: np.ndarray,  # noqa: N803
                            penalizer_coef: float, *, pool: ThreadPoolExecutor | None = None
                            ) -> Callable[[np.ndarray], float]:
    """``params -> ParetoNBDFitter._negative_log_likelihood(params, freq, rec, T, weights, penalizer_coef)``,
    the same value bit for bit, with the pairs' codes computed once (``pool``: threads for ``hyp2f1``)."""
    codes = (pair_codes(freq, rec), pair_codes(freq, T))

    def objective(params: np.ndarray) -> float:
        if np.any(np.asarray(params) <= 0.0):
            return np.inf
        cll = conditional_log_likelihood(params, freq, rec, T, codes, pool)
        penalizer_term = penalizer_coef * sum(np.asarray(params) ** 2)
        return -(weights * cll).sum() / weights.mean() + penalizer_term

    return objective


@functools.lru_cache(maxsize=1)
def fitter_class() -> type:
    """lifetimes' ``ParetoNBDFitter`` with :func:`log_a0` inside its fit and predictions.

    ``_fit`` is lifetimes' (the same Nelder-Mead call, options and tolerance) with the objective from
    :func:`negative_log_likelihood`; ``initial_params`` defaults to :func:`start_params`.
    """
    from scipy.optimize import minimize

    base = lifetimes_module().ParetoNBDFitter

    def _fit(self: Any, minimizing_function_args: tuple[Any, ...], iterative_fitting: int, initial_params: Any,
             params_size: int, disp: bool, tol: float = 1e-6, fit_method: str = "Nelder-Mead", maxiter: int = 2000,
             **kwargs: Any) -> tuple[np.ndarray, float]:
        if iterative_fitting != 1:
            raise ValueError("crmlib's Pareto/NBD fits once, from initial_params or the seeded start")
        options = {"disp": disp, "maxiter": maxiter, **kwargs}
        x0 = start_params() if initial_params is None else initial_params
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            likelihood = negative_log_likelihood(*minimizing_function_args, pool=pool if WORKERS > 1 else None)

            def objective(params: np.ndarray) -> float:
                value = likelihood(params)
                if np.isnan(value):  # Nelder-Mead cannot order NaN: what it returned after one is arbitrary
                    raise FloatingPointError(f"Pareto/NBD likelihood is NaN at {np.asarray(params).tolist()}")
                return value

            output = minimize(objective, method=fit_method, tol=tol, x0=x0, options=options)
        return output.x, output.fun

    return type(base.__name__, (base,), {
        "_fit": _fit, "__module__": __name__, "__doc__": base.__doc__,
        "_log_A_0": staticmethod(log_a0),
        "_conditional_log_likelihood": staticmethod(conditional_log_likelihood),
    })
