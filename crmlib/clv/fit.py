"""lifetimes' fitters run on distinct rows with weights, warm-started, with retries (used by crmlib.clv.model).

The BG/NBD likelihood of a customer depends on (x, t_x, T) only and the Gamma-Gamma one on (x, m_x), so a fit
on the distinct rows with ``weights`` = customers per row has exactly the same optimum as one row per
customer (Fader, Hardie & Lee 2005, section 7; lifetimes' ``weights`` argument). Large inputs are
warm-started: a fit on a binomially thinned copy of the weights (about ``SUBSAMPLE_CUSTOMERS`` customers)
gives the starting point and its inverse Hessian (BFGS ``hess_inv0``), so that the fit on all rows takes a
few Newton-like steps instead of ~30 from lifetimes' default start. The final fit uses lifetimes' default
tolerance, so the parameters are those of a plain fit to optimiser precision (``benchmarks/bench_clv.md``).

The optimiser's objective is lifetimes' likelihood, rewritten (:func:`bgnbd_objective`,
:func:`gamma_gamma_objective`): each customer's log-likelihood is a sum of terms in x, t_x or T alone plus,
for BG/NBD, a log-sum of two of them, so the special functions are evaluated over the few hundred unique
values of each and gathered per row, with an analytic gradient instead of autograd. It equals lifetimes'
function to rounding (checked in ``tests/test_clv.py``).

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
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln, hyp2f1

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
    coded = [pd.factorize(values, sort=False) for values in arrays]
    sizes = [len(uniques) for _, uniques in coded]
    if all(int(c.min(initial=0)) >= 0 for c, _ in coded) and math.prod(sizes) < 2 ** 62:
        # one key for the combination (the codes of its first appearances, as step by step below)
        key = np.zeros(n, dtype=np.int64)
        for (codes, _), size in zip(coded, sizes, strict=True):
            key *= size
            key += codes
        key, _ = pd.factorize(key, sort=False)
    else:
        key = np.zeros(n, dtype=np.int64)
        for codes, uniques in coded:  # re-coding after each step so that the key stays below n
            key, _ = pd.factorize(key * len(uniques) + codes, sort=False)
    codes = key.astype(np.int64)
    k = int(codes.max()) + 1 if n else 0
    first = np.empty(k, dtype=np.int64)
    first[codes[::-1]] = np.arange(n - 1, -1, -1)
    weights = np.bincount(codes, minlength=k).astype(np.int64)
    distinct = [values[first] for values in arrays]
    return distinct, weights, codes


# -- likelihoods on distinct rows from values over unique x, t_x, T -------------------------------------------
Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and unique values of ``values`` (hash-based, unsorted: ``uniques[codes]`` rebuilds it)."""
    codes, uniques = pd.factorize(np.asarray(values), sort=False)
    return codes.astype(np.intp), np.asarray(uniques, dtype=float)


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Inner product by numpy's pairwise summation: as accurate as lifetimes' ``.sum()`` (the optimiser's
    line search near the optimum needs a smooth value), and no BLAS, whose idle threads spin and add CPU
    time to short calls."""
    return float(np.sum(a * b))


def bgnbd_objective(freq: np.ndarray, rec: np.ndarray, T: np.ndarray, weights: np.ndarray,  # noqa: N803
                    penalizer_coef: float) -> Objective:
    """lifetimes' BG/NBD negative log-likelihood and its analytic gradient in the log-parameters.

    Same value as ``BetaGeoFitter._negative_log_likelihood(log_params, freq, rec, T, weights,
    penalizer_coef)`` (lifetimes 0.11.3), computed differently: Fader, Hardie & Lee (2005, eq. 6; Hardie's
    note 004) write a customer's log-likelihood as ``A1 + A2 + log(exp(A3) + [x > 0] exp(A4))`` with

    - ``A1 = ln Gamma(r + x) - ln Gamma(r) + r ln alpha`` and
      ``A2 = ln Gamma(a + b) + ln Gamma(b + x) - ln Gamma(b) - ln Gamma(a + b + x)``: functions of x only;
    - ``A3 = -(r + x) ln(alpha + T)`` and ``A4 = ln a - ln(b + x - 1) - (r + x) ln(alpha + t_x)``: a term
      in x times a log over the unique T or t_x.

    So the special functions (``gammaln``, ``digamma``) and logs are evaluated over the unique values of x,
    t_x and T (a few hundred each) and gathered per row with integer codes. Rows with x = 0 collapse to one
    term per unique T; for rows with x > 0 only ``log(exp(A3) + exp(A4)) - A3 = log(1 + exp(A4 - A3))``
    needs a transcendental per row (one ``exp``, one ``log``; its derivative is the logistic weight of A4).
    The value is summed per row like lifetimes' (large terms cancel within a row before the sum, so it is
    as smooth in the parameters as lifetimes', which the line search near the optimum needs); the gradient's
    sums collapse to per-value weight totals. ``tests/test_clv.py`` checks value and gradient against
    lifetimes' likelihood and its autograd gradient on random inputs.

    Parameters
    ----------
    freq, rec, T, weights, penalizer_coef
        lifetimes' ``minimizing_function_args`` for BG/NBD: frequency, recency and age (time already
        scaled by lifetimes), customers per row, penalizer.

    Returns
    -------
    callable
        ``log_params -> (value, gradient)`` for ``scipy.optimize.minimize(..., jac=True)``.
    """
    x = np.asarray(freq, dtype=float)
    w = np.asarray(weights, dtype=float)
    total = float(w.sum())
    ix, ux = _codes(x)
    it, ut = _codes(T)
    wx = np.bincount(ix, w, minlength=len(ux))  # customers per unique x
    wt = np.bincount(it, w, minlength=len(ut))  # customers per unique T ...
    wxt = np.bincount(it, w * x, minlength=len(ut))  # ... and their sum of x
    buy = x > 0
    w0t = np.bincount(it[~buy], w[~buy], minlength=len(ut))  # customers without repeat purchase per unique T
    i0 = np.flatnonzero(ux == 0)  # the code of x = 0, if any
    ir, ur = _codes(np.asarray(rec, dtype=float)[buy])
    w_b, x_b, ix_b, it_b = w[buy], x[buy], ix[buy], it[buy]
    xm1 = np.maximum(ux, 1.0) - 1.0

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(np.asarray(log_params, dtype=float))
        lt = np.log(alpha + ut)
        lr = np.log(alpha + ur)
        log_alpha = math.log(alpha)
        # A1 + A2 per unique x
        g_x = (gammaln(r + ux) - gammaln(r) + r * log_alpha
               + gammaln(a + b) + gammaln(b + ux) - gammaln(b) - gammaln(a + b + ux))
        # rows with x = 0: A1 + A2 + A3, per unique T
        ll = _dot(w0t, (g_x[i0[0]] if len(i0) else 0.0) - r * lt)
        # rows with x > 0: A1 + A2 + A3 + log(1 + exp(d)), d = A4 - A3, with one exp and one log per row; summed
        # per row (as lifetimes does), so that the large terms cancel within each row before the sum
        c4 = math.log(a) - np.log(b + xm1)
        rx = r + x_b
        lt_b = lt[it_b]
        delta = lr[ir] - lt_b
        d = c4[ix_b] - rx * delta
        e = np.exp(-np.abs(d))
        one_e = 1.0 + e
        ll += _dot(w_b, g_x[ix_b] - rx * lt_b + np.maximum(d, 0.0) + np.log(one_e))
        ws = w_b * np.where(d >= 0.0, 1.0, e) / one_e  # customers times the weight of A4 in the log-sum
        # gradient in r, alpha, a, b
        d_r = _dot(wx, digamma(r + ux) - digamma(r) + log_alpha) - _dot(wt, lt) - _dot(ws, delta)
        inv_t = 1.0 / (alpha + ut)
        inv_r = 1.0 / (alpha + ur)
        d_alpha = total * r / alpha - _dot(r * wt + wxt, inv_t) - _dot(ws * rx, inv_r[ir] - inv_t[it_b])
        ws_x = np.bincount(ix_b, ws, minlength=len(ux))
        psi_ab, psi_abx = digamma(a + b), digamma(a + b + ux)
        d_a = _dot(wx, psi_ab - psi_abx) + ws_x.sum() / a
        d_b = _dot(wx, psi_ab + digamma(b + ux) - digamma(b) - psi_abx) - _dot(ws_x, 1.0 / (b + xm1))
        params = np.array([r, alpha, a, b])
        value = -ll / total + penalizer_coef * _dot(params, params)
        grad = -np.array([d_r, d_alpha, d_a, d_b]) * params / total + 2.0 * penalizer_coef * params ** 2
        return float(value), grad

    return objective


def gamma_gamma_objective(frequency: np.ndarray, avg_monetary_value: np.ndarray, weights: np.ndarray,
                          penalizer_coef: float) -> Objective:
    """lifetimes' Gamma-Gamma negative log-likelihood and its analytic gradient in the log-parameters.

    Same value as ``GammaGammaFitter._negative_log_likelihood`` (lifetimes 0.11.3; Fader & Hardie, "The
    Gamma-Gamma Model of Monetary Value", 2013, eq. 1a): per customer
    ``ln Gamma(p x + q) - ln Gamma(p x) - ln Gamma(q) + q ln v + (p x - 1) ln m + p x ln x
    - (p x + q) ln(x m + v)``. The ``gammaln``/``digamma`` terms are evaluated over the unique x and
    ``ln m`` once, so that the only transcendental per row and evaluation is ``ln(x m + v)``. The value is
    summed per row like lifetimes' (see :func:`bgnbd_objective`); ``tests/test_clv.py`` checks value and
    gradient against lifetimes' likelihood and its autograd gradient.

    Parameters
    ----------
    frequency, avg_monetary_value, weights, penalizer_coef
        lifetimes' ``minimizing_function_args`` for Gamma-Gamma.

    Returns
    -------
    callable
        ``log_params -> (value, gradient)`` for ``scipy.optimize.minimize(..., jac=True)``.
    """
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(avg_monetary_value, dtype=float)
    w = np.asarray(weights, dtype=float)
    total = float(w.sum())
    ix, ux = _codes(x)
    wx = np.bincount(ix, w, minlength=len(ux))
    w_x = w * x
    log_m = np.log(m)
    sum_wx_log_m = _dot(w_x, log_m)
    spend = x * m
    log_ux = np.log(ux)

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, v = np.exp(np.asarray(log_params, dtype=float))
        px = p * ux
        log_sv = np.log(spend + v)
        inv_sv = 1.0 / (spend + v)
        s_x, s_1 = _dot(w_x, log_sv), _dot(w, log_sv)
        g_x = gammaln(px + q) - gammaln(px) + px * log_ux - gammaln(q) + q * math.log(v)
        # summed per row (as lifetimes does), so that the large terms cancel within each row before the sum
        ll = _dot(w, g_x[ix] + (p * x) * (log_m - log_sv) - log_m - q * log_sv)
        psi_pxq = digamma(px + q)
        d_p = _dot(wx, ux * (psi_pxq - digamma(px) + log_ux)) + sum_wx_log_m - s_x
        d_q = _dot(wx, psi_pxq) + total * (math.log(v) - digamma(q)) - s_1
        d_v = total * q / v - p * _dot(w_x, inv_sv) - q * _dot(w, inv_sv)
        params = np.array([p, q, v])
        value = -ll / total + penalizer_coef * _dot(params, params)
        grad = -np.array([d_p, d_q, d_v]) * params / total + 2.0 * penalizer_coef * params ** 2
        return float(value), grad

    return objective


OBJECTIVES: dict[str, Callable[..., Objective]] = {"bgnbd": bgnbd_objective, "gamma_gamma": gamma_gamma_objective}


# -- fitting on distinct rows ------------------------------------------------------------------------------
def central_hessian(gradient: Callable[[np.ndarray], np.ndarray], x: np.ndarray, *,
                    step: float = 1e-5) -> np.ndarray:
    """Hessian at ``x`` by central differences of ``gradient`` (2 n gradient calls), symmetrised."""
    n = len(x)
    out = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = step
        out[:, i] = (gradient(x + e) - gradient(x - e)) / (2 * step)
    return (out + out.T) / 2


@functools.lru_cache(maxsize=2)
def fitter_class(kind: str) -> type:
    """lifetimes' ``BetaGeoFitter`` (``kind="bgnbd"``) or ``GammaGammaFitter`` with ``_fit`` replaced.

    The optimiser call, its start, tolerance, bounds and options, the ConvergenceError and everything
    around ``_fit`` (time scaling, ``params_``, standard errors) are lifetimes' (``BaseFitter._fit`` of
    lifetimes 0.11.3, the final release). Two things differ:

    - the objective is :func:`bgnbd_objective` / :func:`gamma_gamma_objective`: lifetimes' negative
      log-likelihood to rounding, with an analytic gradient and the special functions evaluated over
      unique values instead of autograd over every row;
    - the Hessian at the optimum (for the standard errors) is :func:`central_hessian` of that gradient
      instead of autograd's reverse-over-reverse ``hessian``.

    ``tests/test_clv.py`` checks the objective against lifetimes' likelihood and the fitted parameters and
    standard errors against the stock fitters.
    """
    lt = lifetimes_module()
    base = lt.BetaGeoFitter if kind == "bgnbd" else lt.GammaGammaFitter
    make_objective = OBJECTIVES[kind]

    def _fit(self: Any, minimizing_function_args: tuple[Any, ...], initial_params: Any, params_size: int,
             disp: bool, tol: float = 1e-7, bounds: Any = None, **kwargs: Any) -> tuple[Any, float, np.ndarray]:
        from scipy.optimize import minimize

        objective = make_objective(*minimizing_function_args)
        x0 = 0.1 * np.ones(params_size) if initial_params is None else initial_params
        output = minimize(objective, jac=True, method=None, tol=tol, x0=x0, options={"disp": disp, **kwargs},
                          bounds=bounds)
        if not output.success:
            raise lt.utils.ConvergenceError(
                f"The model did not converge ({output.message}). Try adding a larger penalizer.")
        hessian = central_hessian(lambda p: objective(p)[1], output.x)
        return output.x, output.fun, hessian

    members: dict[str, Any] = {"_fit": _fit, "__module__": __name__, "__doc__": base.__doc__}
    if kind == "bgnbd":
        members["conditional_expected_number_of_purchases_up_to_time"] = bgnbd_expected_purchases
    return type(base.__name__, (base,), members)


#: fewest customers for which :func:`bgnbd_expected_purchases` groups them by (x, T)
EXPECTED_MIN_ROWS: int = 1000


def bgnbd_expected_purchases(self: Any, t: Any, frequency: Any, recency: Any, T: Any) -> Any:  # noqa: N803
    """lifetimes' ``BetaGeoFitter.conditional_expected_number_of_purchases_up_to_time`` (FHL 2005, eq. 10)
    bit for bit, its hypergeometric terms over the distinct (x, T) pairs.

    lifetimes evaluates two ``hyp2f1`` per customer (the second as a fallback for an infinite first); the
    numerator of eq. 10 is a function of x and T only, so it is computed once per distinct (x, T) with
    lifetimes' own expressions and gathered, and the denominator (P(alive)'s odds, which involve t_x) per
    customer: the same operations on the same numbers, hence the same value (``tests/clv/test_clv.py``
    checks bitwise equality). A scalar horizon and one-dimensional arrays of at least
    :data:`EXPECTED_MIN_ROWS` customers only; anything else goes to lifetimes' method.
    """
    x, rec, age = np.asarray(frequency), np.asarray(recency), np.asarray(T)
    if np.ndim(t) or x.ndim != 1 or len(x) < EXPECTED_MIN_ROWS or rec.shape != x.shape or age.shape != x.shape:
        base = lifetimes_module().BetaGeoFitter.conditional_expected_number_of_purchases_up_to_time
        return base(self, t, frequency, recency, T)
    return bgnbd_expected_purchases_at(self, [t], x, rec, age)[0]


def bgnbd_expected_purchases_at(fitter: Any, times: Sequence[float], x: np.ndarray, rec: np.ndarray,
                                age: np.ndarray) -> list[np.ndarray]:
    """:func:`bgnbd_expected_purchases` at each scalar horizon of ``times`` (one-dimensional arrays of the
    same length), the distinct (x, T) pairs and the denominator (which does not involve the horizon) found
    once: each result is bit for bit the single-horizon one (the same operations on the same numbers)."""
    r, alpha, a, b = fitter._unload_params("r", "alpha", "a", "b")
    (ux, ut), _, pair = patterns([x, age])
    _a = r + ux
    _b = b + ux
    _c = a + b + ux - 1
    first_term = (a + b + ux - 1) / (a - 1)
    denominator = 1 + (x > 0) * (a / (b + x - 1)) * ((alpha + age) / (alpha + rec)) ** (r + x)
    out = []
    for t in times:
        _z = t / (alpha + ut + t)
        ln_hyp_term = np.log(hyp2f1(_a, _b, _c, _z))
        ln_hyp_term_alt = np.log(hyp2f1(_c - _a, _c - _b, _c, _z)) + (_c - _a - _b) * np.log(1 - _z)
        ln_hyp_term = np.where(np.isinf(ln_hyp_term), ln_hyp_term_alt, ln_hyp_term)
        second_term = 1 - np.exp(ln_hyp_term + (r + ux) * np.log((alpha + ut) / (alpha + t + ut)))
        numerator = first_term * second_term
        out.append(numerator[pair] / denominator)
    return out


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


def make_fitter(kind: str, params: Mapping[str, Any], penalizer: float = 0.0) -> Any:
    """A fitter with ``params_`` set (no data), for predictions from stored parameters; with the stored
    ``log_covariance`` (:func:`log_covariance`) when ``params`` has it."""
    cls = fitter_class(kind)
    names = ["r", "alpha", "a", "b"] if kind == "bgnbd" else ["p", "q", "v"]
    fitter = cls(penalizer_coef=penalizer)
    fitter.params_ = pd.Series([float(params[n]) for n in names], index=names, dtype=float)
    if params.get("log_covariance") is not None:
        fitter.log_covariance_ = np.asarray(params["log_covariance"], dtype=float)
    return fitter


def log_covariance(fitter: Any) -> np.ndarray | None:
    """The covariance of a fitted model's log-parameters (in ``params_``' order): the inverse of the
    symmetrised Hessian of the mean negative log-likelihood (lifetimes fits the log-parameters), divided by the
    number of customers; lifetimes' ``variance_matrix_`` scales the same inverse to the parameters themselves.
    ``None`` when it is unknown or not positive definite.

    A fitter rebuilt from stored parameters (:func:`make_fitter`) has no Hessian: it gives the covariance
    stored with them, so that a model reopened from ``clv_model.json`` draws the same parameters as the fitted
    one (:mod:`crmlib.clv.ranges`).
    """
    stored = getattr(fitter, "log_covariance_", None)
    if stored is not None:
        return stored
    try:
        hess = np.asarray(fitter._hessian_, dtype=float)
        n = float(np.asarray(fitter.data["weights"]).sum()) if "weights" in fitter.data else float(len(fitter.data))
        cov = np.linalg.inv((hess + hess.T) / 2) / n
        np.linalg.cholesky(cov)
    except (AttributeError, KeyError, TypeError, np.linalg.LinAlgError):
        return None
    if not np.all(np.isfinite(cov)) or not cov.any():
        return None
    return cov
