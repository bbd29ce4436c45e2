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

During a fit, :func:`negative_log_likelihood` computes lifetimes' likelihood with the same expressions per
row, the functions of x, t_x or T alone over their distinct values, and a second process
(:class:`HypHelper`) evaluating part of the hypergeometric terms meanwhile (scipy's ``hyp2f1`` holds the
GIL): elementwise values are the same wherever computed, so the Nelder-Mead path is lifetimes' point for
point (``tests/clv/test_pareto.py``).

The fit starts from a seeded draw of lifetimes' own random start (normal, mean 1, sd 0.05, see
:data:`START_SEED`) instead of numpy's global random state, so that a run is reproducible.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy import log
from scipy.special import gammaln, hyp2f1, logsumexp

#: processes that evaluate the hypergeometric terms during a fit (this one and a helper, :class:`HypHelper`)
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


def shared_pair_codes(freq: np.ndarray, recency: np.ndarray, age: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Codes of the distinct pairs among the (x, t_x) and the (x, T) pairs together: ``(codes of (x, t_x) per
    row, codes of (x, T) per row, the pairs' x, the pairs' y)``. A pair that is both some row's (x, t_x) and
    another's (x, T) (durations in whole days: a quarter of the pairs on a 20,000-customer sample) is one
    hypergeometric term, computed once (elementwise: the same value either way)."""
    freq = np.asarray(freq)
    codes, xs, ys = pair_codes(np.concatenate([freq, freq]), np.concatenate([np.asarray(recency), np.asarray(age)]))
    return codes[:len(freq)], codes[len(freq):], xs, ys


def _hyp(xu: np.ndarray, yu: np.ndarray, *, r: Any, s: Any, low_alpha: bool, abs_alpha_beta: Any,
         max_of_alpha_beta: Any) -> np.ndarray:
    """lifetimes' ``hyp2f1(r + s + x, t, r + s + x + 1, |alpha - beta| / (max(alpha, beta) + y))`` per pair."""
    rsf_u = r + s + xu
    t = r + xu if low_alpha else s + 1
    return hyp2f1(rsf_u, t, rsf_u + 1.0, abs_alpha_beta / (max_of_alpha_beta + yu))


def log_diff_exp(a0: np.ndarray, a1: np.ndarray) -> np.ndarray:
    """``scipy.special.logsumexp([a0, a1], axis=0, b=[1, -1])`` bit for bit (scipy 1.17's algorithm: the
    shifted sum with the largest term's weight taken out, the direct log of the sum where that is not
    finite), without its array-API dispatch. ``tests/clv/test_pareto.py`` compares it with scipy's."""
    with np.errstate(all="ignore"):
        out_inf = np.log(np.exp(a0) - np.exp(a1))
        a_max = np.maximum(a0, a1)
        m0, m1 = a0 == a_max, a1 == a_max
        m = m0.astype(float) - m1.astype(float)
        total = np.exp(np.where(m0, -np.inf, a0) - a_max) - np.exp(np.where(m1, -np.inf, a1) - a_max)
        total = np.where(total == 0, total, total / m)
        sgn = np.sign(total + 1) * np.sign(m)
        total = np.where(total < -1, -total - 2, total)
        out = np.log1p(total) + np.log(np.abs(m)) + a_max
        out[sgn < 0] = np.nan
        return np.where(np.isfinite(out), out, out_inf)


def alpha_beta_order(alpha: float, beta: float) -> tuple[bool, float, float]:
    """``(alpha < beta, |alpha - beta|, max(alpha, beta))`` as lifetimes' ``_log_A_0`` orders them."""
    low_alpha = alpha < beta
    if low_alpha:
        min_of_alpha_beta, max_of_alpha_beta = alpha, beta
    else:
        min_of_alpha_beta, max_of_alpha_beta = beta, alpha
    return low_alpha, max_of_alpha_beta - min_of_alpha_beta, max_of_alpha_beta


def log_a0(params: Any, freq: np.ndarray, recency: np.ndarray, age: np.ndarray,
           codes: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """``ParetoNBDFitter._log_A_0`` bit for bit, ``hyp2f1`` over the distinct (x, t_x) and (x, T) pairs.

    ``codes``: :func:`shared_pair_codes` of (freq, recency, age), computed here when not given.
    """
    r, alpha, s, beta = params
    freq, recency, age = np.asarray(freq), np.asarray(recency), np.asarray(age)
    if freq.ndim == 0:  # a single customer: lifetimes' own code
        from crmlib.clv.fit import lifetimes_module

        return lifetimes_module().ParetoNBDFitter._log_A_0(params, freq, recency, age)
    c1, c2, xs, ys = codes if codes is not None else shared_pair_codes(freq, recency, age)
    low_alpha, abs_alpha_beta, max_of_alpha_beta = alpha_beta_order(alpha, beta)
    both = _hyp(xs, ys, r=r, s=s, low_alpha=low_alpha, abs_alpha_beta=abs_alpha_beta,
                max_of_alpha_beta=max_of_alpha_beta)

    rsf = r + s + freq
    p_1 = both[c1]
    q_1 = max_of_alpha_beta + recency
    p_2 = both[c2]
    q_2 = max_of_alpha_beta + age
    sign = np.ones(len(freq))
    return logsumexp([log(p_1) + rsf * log(q_2), log(p_2) + rsf * log(q_1)], axis=0, b=[sign, -sign]) - rsf * log(
        q_1 * q_2
    )


def conditional_log_likelihood(params: Any, freq: np.ndarray, rec: np.ndarray, T: np.ndarray,  # noqa: N803
                               codes: Any = None) -> np.ndarray:
    """``ParetoNBDFitter._conditional_log_likelihood`` (Hardie's note 009, eq. 18) with :func:`log_a0`."""
    r, alpha, s, beta = params
    x = freq
    r_s_x = r + s + x
    A_1 = gammaln(r + x) - gammaln(r) + r * log(alpha) + s * log(beta)  # noqa: N806
    log_A_0 = log_a0(params, x, rec, T, codes)  # noqa: N806
    A_2 = np.logaddexp(-(r + x) * log(alpha + T) - s * log(beta + T), log(s) + log_A_0 - log(r_s_x))  # noqa: N806
    return A_1 + A_2


#: the helper process: reads the pairs (count, x, y as float64), says ready, then per evaluation reads
#: (r, s, low_alpha, |alpha - beta|, max(alpha, beta)) and writes the pairs' hypergeometric terms
_HELPER_CODE = r"""
import os, sys
import numpy as np
from scipy.special import hyp2f1

def read(n):
    data = bytearray()
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:
            sys.exit(0)
        data += chunk
    return bytes(data)

def write(data):
    view = memoryview(data)
    while len(view):
        view = view[os.write(1, view):]

k = int(np.frombuffer(read(8), np.int64)[0])
x = np.frombuffer(read(8 * k), np.float64).copy()
y = np.frombuffer(read(8 * k), np.float64).copy()
write(b"R")
while True:
    r, s, low, abs_ab, max_ab = np.frombuffer(read(40), np.float64)
    rsf = r + s + x
    write(np.ascontiguousarray(hyp2f1(rsf, r + x if low else s + 1, rsf + 1.0, abs_ab / (max_ab + y)),
                               np.float64).tobytes())
"""


def write_input(proc: subprocess.Popen[bytes] | None, data: bytes, *, close: bool = False) -> bool:
    """Write all of ``data`` to a process's input (on a thread of its own when larger than a pipe holds),
    closing it after with ``close``; False when the process is gone or its input closed."""
    try:
        assert proc is not None and proc.stdin is not None
        view = memoryview(data)
        while len(view):
            view = view[os.write(proc.stdin.fileno(), view):]
        if close:
            proc.stdin.close()
    except (OSError, ValueError, AssertionError):
        return False
    return True


def end_process(proc: subprocess.Popen[bytes], *, grace: float) -> None:
    """End a process of this module: close its pipes, give it ``grace`` seconds to end on its own (0: kill it
    at once if still running), then kill it, and reap it."""
    if not grace and proc.poll() is None:
        proc.kill()
    for stream in (proc.stdin, proc.stdout):
        with contextlib.suppress(OSError, ValueError):
            if stream is not None:
                stream.close()
    try:
        proc.wait(timeout=grace or None)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class HypHelper:
    """A second process that evaluates part of the hypergeometric terms while this one evaluates the rest
    (scipy's ``hyp2f1`` holds the GIL, so threads cannot share it). Elementwise values are the same in
    either process, so whichever computes them the likelihood is bit for bit the same; the helper is only
    used once it has started and read its pairs, and any failure of it (it cannot start, it dies) falls
    back to computing everything here. A context manager: the process ends on exit."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled and WORKERS > 1 and os.name == "posix"
        self.proc: subprocess.Popen[bytes] | None = None
        self.ready = False
        self.size = 0

    def start(self, x: np.ndarray, y: np.ndarray) -> None:
        """Start the helper on the pairs ``x``, ``y`` (its share of them); the header is written by a thread
        so that this process never waits for the helper's start."""
        if not self.enabled or self.proc is not None or len(x) < MIN_HELPER_PAIRS:
            return
        try:
            self.proc = subprocess.Popen([sys.executable, "-c", _HELPER_CODE], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
        except OSError:
            self.enabled = False
            return
        self.size = len(x)
        header = (np.array([len(x)], np.int64).tobytes() + np.asarray(x, np.float64).tobytes()
                  + np.asarray(y, np.float64).tobytes())
        threading.Thread(target=self._write, args=(header,), daemon=True).start()

    def _write(self, data: bytes) -> None:
        if not write_input(self.proc, data):
            self.enabled = False

    def available(self) -> bool:
        """Whether the helper has read its pairs (never waits)."""
        if self.ready:
            return True
        if not self.enabled or self.proc is None or self.proc.stdout is None:
            return False
        try:
            if select.select([self.proc.stdout], [], [], 0)[0]:
                self.ready = os.read(self.proc.stdout.fileno(), 1) == b"R"
                self.enabled = self.ready
        except (OSError, ValueError):
            self.enabled = self.ready = False
        return self.ready

    def submit(self, values: list[float]) -> bool:
        """Ask for the terms at ``values`` (r, s, low_alpha, |alpha - beta|, max(alpha, beta))."""
        try:
            assert self.proc is not None and self.proc.stdin is not None
            os.write(self.proc.stdin.fileno(), np.array(values, np.float64).tobytes())
            return True
        except (OSError, ValueError, AssertionError):
            self.enabled = self.ready = False
            return False

    def result(self) -> np.ndarray | None:
        """The terms asked for by :meth:`submit`, or None when the helper failed."""
        out = np.empty(self.size, np.float64)
        view, got = memoryview(out).cast("B"), 0
        try:
            assert self.proc is not None and self.proc.stdout is not None
            fd = self.proc.stdout.fileno()
            while got < len(view):
                n = os.readv(fd, [view[got:]])
                if not n:
                    raise OSError("the helper ended")
                got += n
        except (OSError, ValueError, AssertionError):
            self.enabled = self.ready = False
            return None
        return out

    def close(self) -> None:
        proc, self.proc = self.proc, None
        self.enabled = self.ready = False
        if proc is not None:
            end_process(proc, grace=2.0)  # it ends on its own once its input closes

    def __enter__(self) -> HypHelper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: fewest pairs for which the helper process is worth starting
MIN_HELPER_PAIRS: int = 1500
#: share of the pairs the helper evaluates (this process also does the per-row arithmetic meanwhile)
HELPER_SHARE: float = 0.6


def negative_log_likelihood(freq: np.ndarray, rec: np.ndarray, T: np.ndarray, weights: np.ndarray,  # noqa: N803
                            penalizer_coef: float, *, helper: HypHelper | None = None
                            ) -> Callable[[np.ndarray], float]:
    """``params -> ParetoNBDFitter._negative_log_likelihood(params, freq, rec, T, weights, penalizer_coef)``,
    the same value bit for bit (lifetimes' expressions, in the same order, per row), computed faster:

    - the pairs' codes once, ``hyp2f1`` over the distinct (x, t_x) and (x, T) pairs, each pair once
      (:func:`shared_pair_codes`, :func:`log_a0`), part
      of them in ``helper``'s process (:class:`HypHelper`) while this one does the rest;
    - the elementwise functions of x, t_x or T alone (``gammaln(r + x)``, ``log(alpha + T)``, ...) over
      their distinct values, gathered per row (elementwise: the same value per row);
    - scipy's ``logsumexp`` of two terms as :func:`log_diff_exp`.
    """
    freq, rec, T = np.asarray(freq), np.asarray(rec), np.asarray(T)  # noqa: N806
    weights = np.asarray(weights)
    c1, c2, xs, ys = shared_pair_codes(freq, rec, T)
    split = len(xs) - int(len(xs) * HELPER_SHARE)
    if helper is not None:
        helper.start(xs[split:], ys[split:])
    ix, ux = np.unique(freq, return_inverse=True)[::-1]
    ir, ur = np.unique(rec, return_inverse=True)[::-1]
    it, ut = np.unique(T, return_inverse=True)[::-1]
    ix, ir, it = ix.reshape(-1), ir.reshape(-1), it.reshape(-1)
    weights_mean = weights.mean()

    def objective(params: np.ndarray) -> float:
        if np.any(np.asarray(params) <= 0.0):
            return np.inf
        r, alpha, s, beta = params
        low_alpha, abs_alpha_beta, max_of_alpha_beta = alpha_beta_order(alpha, beta)
        remote = (helper is not None and helper.available()
                  and helper.submit([r, s, float(low_alpha), abs_alpha_beta, max_of_alpha_beta]))
        # lifetimes' per-row expressions; the functions of x, t_x or T alone over their distinct values
        rx = (r + ux)[ix]
        A_1 = gammaln(r + ux)[ix] - gammaln(r) + r * log(alpha) + s * log(beta)  # noqa: N806
        r_s_x = (r + s + ux)[ix]
        log_q1 = log(max_of_alpha_beta + ur)[ir]
        log_q2 = log(max_of_alpha_beta + ut)[it]
        log_q12 = log((max_of_alpha_beta + ur)[ir] * (max_of_alpha_beta + ut)[it])
        first = -rx * log(alpha + ut)[it] - s * log(beta + ut)[it]
        log_r_s_x = log(r + s + ux)[ix]
        kw = {"r": r, "s": s, "low_alpha": low_alpha, "abs_alpha_beta": abs_alpha_beta,
              "max_of_alpha_beta": max_of_alpha_beta}
        if remote:
            mine = _hyp(xs[:split], ys[:split], **kw)
            theirs = helper.result()  # type: ignore[union-attr]
            both = (np.concatenate([mine, theirs]) if theirs is not None
                    else np.concatenate([mine, _hyp(xs[split:], ys[split:], **kw)]))
        else:
            both = _hyp(xs, ys, **kw)
        p_1 = both[c1]
        p_2 = both[c2]
        log_A_0 = log_diff_exp(log(p_1) + r_s_x * log_q2, log(p_2) + r_s_x * log_q1) - r_s_x * log_q12  # noqa: N806
        A_2 = np.logaddexp(first, log(s) + log_A_0 - log_r_s_x)  # noqa: N806
        cll = A_1 + A_2
        penalizer_term = penalizer_coef * sum(np.asarray(params) ** 2)
        return -(weights * cll).sum() / weights_mean + penalizer_term

    return objective


#: one optimisation of a fit: (lifetimes' minimizing args, start, tolerance, method, options)
Call = tuple[tuple[Any, ...], np.ndarray, float, str, dict[str, Any]]


def optimise(call: Call, *, helper: bool = True) -> tuple[np.ndarray, float]:
    """Run the Nelder-Mead optimisation of a fit (lifetimes' ``minimize`` call, options and tolerance) on
    :func:`negative_log_likelihood`; a NaN likelihood raises ``FloatingPointError``. With ``helper`` a
    second process evaluates part of the terms (:class:`HypHelper`); the path is the same either way."""
    from scipy.optimize import minimize

    args, x0, tol, fit_method, options = call
    with HypHelper(enabled=helper) as hyp:
        likelihood = negative_log_likelihood(*args, helper=hyp)

        def objective(params: np.ndarray) -> float:
            value = likelihood(params)
            if np.isnan(value):  # Nelder-Mead cannot order NaN: what it returned after one was arbitrary
                raise FloatingPointError(f"Pareto/NBD likelihood is NaN at {np.asarray(params).tolist()}")
            return value

        output = minimize(objective, method=fit_method, tol=tol, x0=x0, options=options)
    return output.x, output.fun


class _Captured(Exception):  # noqa: N818 - not an error: carries the optimisation a fit would run
    def __init__(self, call: Call) -> None:
        super().__init__("optimisation captured")
        self.call = call


def optimisation_call(fitter: Any, *args: Any, **kwargs: Any) -> Call:
    """The optimisation ``fitter.fit(*args, **kwargs)`` would run (lifetimes' own preparation of the inputs:
    integer frequencies, time scaled), without running it. ``fitter``: an instance of :func:`fitter_class`."""
    fitter.optimum = _Captured
    try:
        fitter.fit(*args, **kwargs)
    except _Captured as captured:
        return captured.call
    finally:
        fitter.optimum = None
    raise RuntimeError("the Pareto/NBD fit did not reach its optimisation")


#: the process of :class:`FitProcess`: reads a pickled :data:`Call` on stdin, writes the pickled outcome
_FIT_CODE = "from crmlib.clv.pareto import _serve_fit; _serve_fit()"


def _serve_fit() -> None:
    """:class:`FitProcess`'s side: one optimisation, in this process alone (the other core is the caller's)."""
    call = pickle.load(sys.stdin.buffer)
    started = time.perf_counter()
    try:
        x, fun = optimise(call, helper=False)
        outcome: tuple[Any, ...] = ("ok", x, fun)
    except FloatingPointError as err:
        outcome = ("nan", str(err))
    except Exception as err:  # noqa: BLE001 - reported to the caller, which then optimises itself
        outcome = ("error", f"{type(err).__name__}: {err}")
    sys.stdout.buffer.write(pickle.dumps((*outcome, time.perf_counter() - started)))
    sys.stdout.buffer.flush()


class FitProcess:
    """A Pareto/NBD optimisation (:func:`optimisation_call`) running in a process of its own while this one
    does other work (the model comparison fits the other models meanwhile; :mod:`crmlib.clv.choice`).

    :meth:`outcome` waits for it: ``(x, fun)``, a ``FloatingPointError`` when the likelihood turned NaN, or
    None when the process could not start or failed (the caller then optimises here: the same path, since
    every likelihood value is the same bit for bit wherever computed). :meth:`close` ends it; a context
    manager.
    """

    def __init__(self, call: Call) -> None:
        self.seconds = 0.0
        self.proc: subprocess.Popen[bytes] | None = None
        if os.name != "posix":
            return
        package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in [package, os.environ.get("PYTHONPATH", "")] if p)}
        try:
            self.proc = subprocess.Popen([sys.executable, "-c", _FIT_CODE], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, bufsize=0)
        except OSError:
            return
        # written by a thread: the inputs are larger than a pipe holds, and this process goes on meanwhile
        # (a failure means the process ended, closed or failed: outcome() finds out)
        threading.Thread(target=write_input, args=(self.proc, pickle.dumps(call)), kwargs={"close": True},
                         daemon=True).start()

    def outcome(self) -> tuple[np.ndarray, float] | FloatingPointError | None:
        """Wait for the optimisation: ``(x, fun)``, the NaN error, or None when it did not run there."""
        proc = self.proc
        if proc is None or proc.stdout is None:
            return None
        try:
            data = proc.stdout.read()
            proc.wait()
            status, *rest, self.seconds = pickle.loads(data)
        except (OSError, ValueError, EOFError, pickle.UnpicklingError, TypeError):
            return None
        finally:
            self.close()
        if status == "ok":
            return rest[0], rest[1]
        if status == "nan":
            return FloatingPointError(rest[0])
        return None

    def close(self) -> None:
        """End the process (if still running) and release its pipes."""
        proc, self.proc = self.proc, None
        if proc is not None:
            end_process(proc, grace=0.0)  # its outcome is read or no longer wanted

    def __enter__(self) -> FitProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@functools.lru_cache(maxsize=1)
def fitter_class() -> type:
    """lifetimes' ``ParetoNBDFitter`` with :func:`log_a0` inside its fit and predictions.

    ``_fit`` is lifetimes' (the same Nelder-Mead call, options and tolerance, :func:`optimise`) with the
    objective from :func:`negative_log_likelihood`; ``initial_params`` defaults to :func:`start_params`. An
    instance's ``optimum`` set to an outcome of :class:`FitProcess` (``(x, fun)`` or the NaN error) is used
    instead of optimising again.
    """
    from crmlib.clv.fit import lifetimes_module

    base = lifetimes_module().ParetoNBDFitter

    def _fit(self: Any, minimizing_function_args: tuple[Any, ...], iterative_fitting: int, initial_params: Any,
             params_size: int, disp: bool, tol: float = 1e-6, fit_method: str = "Nelder-Mead", maxiter: int = 2000,
             **kwargs: Any) -> tuple[np.ndarray, float]:
        if iterative_fitting != 1:
            raise ValueError("crmlib's Pareto/NBD fits once, from initial_params or the seeded start")
        options = {"disp": disp, "maxiter": maxiter, **kwargs}
        x0 = start_params() if initial_params is None else initial_params
        call = (minimizing_function_args, x0, tol, fit_method, options)
        known, self.optimum = self.optimum, None
        if known is _Captured:
            raise _Captured(call)
        if isinstance(known, FloatingPointError):
            raise known
        if known is not None:
            return known
        return optimise(call)

    return type(base.__name__, (base,), {
        "_fit": _fit, "__module__": __name__, "__doc__": base.__doc__, "optimum": None,
        "_log_A_0": staticmethod(log_a0),
        "_conditional_log_likelihood": staticmethod(conditional_log_likelihood),
    })
