"""lifetimes' fitters run on distinct rows with weights, warm-started, with retries (used by crmlib.clv).

The BG/NBD likelihood of a customer depends on (x, t_x, T) only and the Gamma-Gamma one on (x, m_x), so a fit
on the distinct rows with ``weights`` = customers per row has exactly the same optimum as one row per
customer (Fader, Hardie & Lee 2005, section 7; lifetimes' ``weights`` argument). Large inputs are
warm-started: a fit on a binomially thinned copy of the weights (about ``SUBSAMPLE_CUSTOMERS`` customers)
gives the starting point and its inverse Hessian (BFGS ``hess_inv0``), so that the fit on all rows takes a
few Newton-like steps instead of ~30 from lifetimes' default start. The final fit uses lifetimes' default
tolerance, so the parameters are those of a plain fit to optimiser precision (``benchmarks/bench_clv.md``).

lifetimes' side effects (warning filters set at import and in every likelihood call, a pandas option set at
import, the optimiser's output printed before ``ConvergenceError``) are contained by :func:`quiet`.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import math
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

#: customers in the thinned copy that warm-starts a large fit
SUBSAMPLE_CUSTOMERS: int = 10_000
#: distinct rows above which a fit is warm-started from the thinned copy
WARM_START_ROWS: int = 5_000
#: optimiser tolerance of the warm-start fit (it only needs to land near the optimum; the final fit uses
#: lifetimes' default 1e-7)
SUBSAMPLE_TOL: float = 1e-4


@contextlib.contextmanager
def quiet() -> Iterator[io.StringIO]:
    """Contain lifetimes' side effects: it sets warning filters at import and in every likelihood call,
    and prints the optimiser's output before raising ConvergenceError. Filters are restored on exit and the
    printout is captured (and logged by the caller)."""
    buffer = io.StringIO()
    with warnings.catch_warnings(), np.errstate(all="ignore"), contextlib.redirect_stdout(buffer):
        # lifetimes 0.11 on pandas 3 warns about its own deprecated calls (e.g. the chained_assignment
        # option it sets at import); nothing a user can act on, so silenced inside this block only.
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        yield buffer


def lifetimes_module() -> Any:
    with quiet():
        import lifetimes
        import lifetimes.utils
    return lifetimes


def patterns(columns: Sequence[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Distinct rows of ``columns`` with their counts.

    Returns
    -------
    (distinct columns, weights, inverse)
        ``distinct[j][inverse]`` rebuilds column ``j``; ``weights`` counts the rows behind each distinct row.
    """
    arrays = [np.asarray(c) for c in columns]
    n = len(arrays[0])
    key = np.zeros(n, dtype=np.int64)
    for values in arrays:  # combine per-column codes, re-coding after each step so the key stays below n
        codes, uniques = pd.factorize(values, sort=False)
        key, _ = pd.factorize(key * len(uniques) + codes, sort=False)
    codes = key.astype(np.int64)
    k = int(codes.max()) + 1 if n else 0
    first = np.empty(k, dtype=np.int64)
    first[codes[::-1]] = np.arange(n - 1, -1, -1)
    weights = np.bincount(codes, minlength=k).astype(np.int64)
    distinct = [values[first] for values in arrays]
    return distinct, weights, codes


# -- fitting on distinct rows ------------------------------------------------------------------------------
def central_hessian(fun: Any, x: np.ndarray, args: tuple[Any, ...], *, step: float = 1e-5) -> np.ndarray:
    """Hessian of ``fun`` at ``x`` by central differences of its autograd gradient (2 n gradient calls)."""
    from autograd import grad

    gradient = grad(fun)
    n = len(x)
    out = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = step
        out[:, i] = (gradient(x + e, *args) - gradient(x - e, *args)) / (2 * step)
    return (out + out.T) / 2


@functools.lru_cache(maxsize=2)
def fitter_class(kind: str) -> type:
    """lifetimes' ``BetaGeoFitter`` (``kind="bgnbd"``) or ``GammaGammaFitter``, with one change: the Hessian
    at the optimum (for the standard errors) comes from :func:`central_hessian` of lifetimes' own autograd
    gradient instead of autograd's reverse-over-reverse ``hessian``, which costs about as much as the whole
    rest of a warm-started fit (its trigamma terms dominate). Likelihood, parametrisation, optimiser call
    and ConvergenceError are lifetimes' (``BaseFitter._fit`` of lifetimes 0.11.3, the final release);
    ``tests/test_clv.py`` checks the parameters and standard errors against the stock fitters."""
    lt = lifetimes_module()
    base = lt.BetaGeoFitter if kind == "bgnbd" else lt.GammaGammaFitter

    def _fit(self: Any, minimizing_function_args: tuple[Any, ...], initial_params: Any, params_size: int,
             disp: bool, tol: float = 1e-7, bounds: Any = None, **kwargs: Any) -> tuple[Any, float, np.ndarray]:
        from autograd import value_and_grad
        from scipy.optimize import minimize

        x0 = 0.1 * np.ones(params_size) if initial_params is None else initial_params
        output = minimize(value_and_grad(self._negative_log_likelihood), jac=True, method=None, tol=tol, x0=x0,
                          args=minimizing_function_args, options={"disp": disp, **kwargs}, bounds=bounds)
        if not output.success:
            raise lt.utils.ConvergenceError(
                f"The model did not converge ({output.message}). Try adding a larger penalizer.")
        hessian = central_hessian(self._negative_log_likelihood, output.x, minimizing_function_args)
        return output.x, output.fun, hessian

    return type(base.__name__, (base,), {"_fit": _fit, "__module__": __name__, "__doc__": base.__doc__})


def _sym_inverse(hessian: np.ndarray) -> np.ndarray | None:
    """Inverse of a symmetrised Hessian if it is positive definite (BFGS's hess_inv0), else None."""
    h = (np.asarray(hessian, dtype=float) + np.asarray(hessian, dtype=float).T) / 2
    if not np.all(np.isfinite(h)) or np.linalg.eigvalsh(h).min() <= 0:
        return None
    inv = np.linalg.inv(h)
    return (inv + inv.T) / 2


def fit_once(kind: str, arrays: list[np.ndarray], weights: np.ndarray, *, penalizer: float,
             warm: bool, seed: int) -> Any:
    """One lifetimes fit on distinct rows; ``warm``: start from a fit on a thinned copy of the weights."""
    lt = lifetimes_module()
    cls = fitter_class(kind)
    options: dict[str, Any] = {}
    if warm:
        rng = np.random.default_rng(seed)
        thin = rng.binomial(weights, min(1.0, SUBSAMPLE_CUSTOMERS / float(weights.sum())))
        keep = thin > 0
        try:
            with quiet():
                sub = cls(penalizer_coef=penalizer).fit(*[a[keep] for a in arrays], weights=thin[keep],
                                                        tol=SUBSAMPLE_TOL)
            start = np.log(sub.params_.to_numpy(dtype=float))
            if kind == "bgnbd":  # lifetimes fits alpha on time scaled by 1 / max(T)
                start[1] += math.log(1.0 / float(np.max(arrays[2])))
            options["initial_params"] = start
            hinv = _sym_inverse(sub._hessian_)
            if hinv is not None:
                options["hess_inv0"] = hinv
        except (lt.utils.ConvergenceError, np.linalg.LinAlgError, FloatingPointError):
            options = {}
    with quiet() as printed:
        try:
            fitter = cls(penalizer_coef=penalizer).fit(*arrays, weights=weights, **options)
        except lt.utils.ConvergenceError:
            log.debug("lifetimes %s did not converge: %s", kind, printed.getvalue())
            raise
    return fitter


def fit_with_retries(kind: str, arrays: list[np.ndarray], weights: np.ndarray, *,
                     penalizers: Sequence[float], seed: int = 0) -> tuple[Any, list[dict[str, Any]]]:
    """Fit, retrying from lifetimes' default start and then with each larger penalizer.

    Returns the fitter (None if every attempt failed) and one record per attempt.
    """
    lt = lifetimes_module()
    attempts: list[dict[str, Any]] = []
    starts = (["subsample"] if len(weights) > WARM_START_ROWS else []) + ["default"]
    for penalizer in penalizers:
        for start in starts:
            t0 = time.perf_counter()
            try:
                fitter = fit_once(kind, arrays, weights, penalizer=float(penalizer), warm=start == "subsample",
                                  seed=seed)
            except (lt.utils.ConvergenceError, np.linalg.LinAlgError, FloatingPointError) as err:
                attempts.append({"penalizer": float(penalizer), "start": start, "status": "failed",
                                 "message": " ".join(str(err).split()), "seconds": time.perf_counter() - t0})
                continue
            values = fitter.params_.to_numpy(dtype=float)
            if not np.all(np.isfinite(values)) or np.any(values <= 0):
                attempts.append({"penalizer": float(penalizer), "start": start, "status": "failed",
                                 "message": f"non-finite parameters {values.tolist()}",
                                 "seconds": time.perf_counter() - t0})
                continue
            attempts.append({"penalizer": float(penalizer), "start": start, "status": "converged",
                             "message": "", "seconds": time.perf_counter() - t0})
            return fitter, attempts
    return None, attempts


def make_fitter(kind: str, params: Mapping[str, float], penalizer: float = 0.0) -> Any:
    """A fitter with ``params_`` set (no data), for predictions from stored parameters."""
    cls = fitter_class(kind)
    names = ["r", "alpha", "a", "b"] if kind == "bgnbd" else ["p", "q", "v"]
    fitter = cls(penalizer_coef=penalizer)
    fitter.params_ = pd.Series([float(params[n]) for n in names], index=names, dtype=float)
    return fitter
