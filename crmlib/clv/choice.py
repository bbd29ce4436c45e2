"""The right purchase model for the data, chosen on the holdout period.

BG/NBD (Fader, Hardie & Lee 2005), MBG/NBD (Batislam, Denizel & Filiztekin 2007: a customer may also drop out
right after the first purchase, so one-time buyers do not all get P(alive) = 1) and Pareto/NBD (Schmittlein,
Morrison & Colombo 1987; fitted only when the distinct (x, t_x, T) rows are few enough for its slower
likelihood, ``clv.pareto_max_rows``) are fitted with lifetimes on the calibration period and compared with
what customers did in the holdout: the relative error of the total repeat purchases and the mean absolute
error over the calibration-frequency groups 0..7+ (FHL 2005, Figure 4). The smallest group error wins;
``clv.model`` overrides the choice. Above ``clv.compare_max_customers`` calibration customers the comparison
runs on a random subset of that size (seed 0, :func:`comparison_rows`); the ranges' holdout check
(:func:`crmlib.clv.ranges.holdout_coverage`) uses the same subset, and the page says so. A Pareto/NBD fit
whose likelihood turns NaN stops there and is reported failed (:mod:`crmlib.clv.pareto`). Pareto/NBD
starts from a seeded draw of lifetimes' own random start (:mod:`crmlib.clv.pareto`; lifetimes draws it from numpy's global random state, so the comparison's
Pareto/NBD row, and with it the choice, could differ between two runs on the same data).

Pareto/NBD's optimisation, the slowest of the three, runs in a process of its own
(:class:`crmlib.clv.pareto.FitProcess`) while the other two are fitted here: :func:`start_comparison` returns
at once with those two (:meth:`Comparison.known`), so that the page can go on with the better of them and
redo its figures only when Pareto/NBD wins (:meth:`Comparison.result` waits for it). The optimisation's path,
and so the table, is the same wherever it runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlib.clv import pareto
from crmlib.clv.data import UNITS
from crmlib.clv.fit import fit_with_retries, lifetimes_module, patterns, quiet
from crmlib.errors import DataError

log = logging.getLogger(__name__)

#: model code → lifetimes fitter class
MODELS: dict[str, str] = {"bgnbd": "BetaGeoFitter", "mbgnbd": "ModifiedBetaGeoFitter",
                          "pareto": "ParetoNBDFitter"}
CHOICES: tuple[str, ...] = ("auto", *MODELS)
COLUMNS: tuple[str, ...] = ("model", "status", "predicted", "actual", "total_error", "group_error", "seconds")


def fit_purchase_model(kind: str, lt: pd.DataFrame, *, penalizer: float = 0.0, optimum: Any = None) -> Any:
    """Fit a lifetimes purchase model on lifetimes' inputs (``frequency``, ``recency``, ``T``), on the distinct
    rows with weights. BG/NBD uses crmlib's fast fit (:func:`crmlib.clv.fit.fit_with_retries`), Pareto/NBD
    :func:`crmlib.clv.pareto.fitter_class` (lifetimes' fit bit for bit, from a seeded start); ``optimum``:
    Pareto/NBD's optimisation already run (:meth:`crmlib.clv.pareto.FitProcess.outcome`)."""
    if kind not in MODELS:
        raise ValueError(f"unknown purchase model {kind!r}; known: {', '.join(MODELS)}")
    x, rec, age, weights = _distinct(lt)
    if kind == "bgnbd":
        fitter, _ = fit_with_retries("bgnbd", [x.astype(np.int64), rec, age], weights, penalizers=[penalizer, 0.001,
                                                                                                  0.01])
        if fitter is None:
            raise ValueError("BG/NBD did not converge")
        return fitter
    # Pareto/NBD: lifetimes' fitter with its hypergeometric terms over distinct pairs, seeded start
    cls = pareto.fitter_class() if kind == "pareto" else getattr(lifetimes_module(), MODELS[kind])
    fitter = cls(penalizer_coef=penalizer)
    if optimum is not None:
        fitter.optimum = optimum
    try:
        with quiet():
            fitter.fit(x.astype(np.int64), rec, age, weights=weights)
    except FloatingPointError as err:  # Pareto/NBD's likelihood turned NaN (crmlib.clv.pareto)
        raise DataError(f"The {kind} purchase model could not be fitted on {len(lt)} customers: {err}. Use "
                        "clv.model: auto, bgnbd or mbgnbd.") from err
    return fitter


def _distinct(lt: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (frequency, recency, T) rows of ``lt`` and their weights, as the fits take them."""
    (x, rec, age), weights, _ = patterns([lt["frequency"].to_numpy(), lt["recency"].to_numpy(float),
                                          lt["T"].to_numpy(float)])
    return x, rec, age, weights


def comparison_rows(n: int, cap: int) -> np.ndarray | None:
    """Positions (sorted) of the seeded random subset of ``cap`` of ``n`` calibration customers that the
    comparison and the ranges' holdout check use, or None when all ``n`` are used (``cap`` 0 or ``n <= cap``)."""
    if not cap or n <= cap:
        return None
    return np.sort(np.random.default_rng(0).choice(n, size=int(cap), replace=False))


class Comparison:
    """The holdout comparison under way (:func:`start_comparison`): BG/NBD and MBG/NBD fitted, Pareto/NBD's
    optimisation running in its own process. A context manager: leaving it ends that process."""

    def __init__(self, validation: Any, params: Mapping[str, Any]) -> None:
        lt, cust = validation.lt, validation.customers
        keep = comparison_rows(len(lt), int(params["compare_max_customers"]))
        if keep is not None:  # the models' relative fit shows on a random subset; keeps large runs fast
            lt, cust = lt.iloc[keep], cust.iloc[keep]
        self._lt, self._cust, self._penalizer = lt, cust, float(params["penalizer"])
        self._t = float(validation.holdout_days) / UNITS[params["time_unit"]]
        self._rows: dict[str, dict[str, Any]] = {}
        self._pareto: pareto.FitProcess | None = None
        n_rows = len(lt[["frequency", "recency", "T"]].drop_duplicates())
        if n_rows > int(params["pareto_max_rows"]):
            self._rows["pareto"] = {"model": "pareto", "status": "too_large", "seconds": 0.0}
        else:
            self._pareto = self._start_pareto()
        for kind in MODELS:
            if kind != "pareto":
                self._rows[kind] = self._row(kind)

    def _start_pareto(self) -> pareto.FitProcess | None:
        x, rec, age, weights = _distinct(self._lt)
        try:
            with quiet():
                call = pareto.optimisation_call(pareto.fitter_class()(penalizer_coef=self._penalizer),
                                                x.astype(np.int64), rec, age, weights=weights)
        except (ValueError, ArithmeticError, RuntimeError):
            return None  # fitted here instead, where the same error is reported
        return pareto.FitProcess(call)

    def _row(self, kind: str, optimum: Any = None, seconds: float = 0.0) -> dict[str, Any]:
        lt, cust = self._lt, self._cust
        t0 = time.perf_counter() - seconds
        try:
            fitter = fit_purchase_model(kind, lt, penalizer=self._penalizer, optimum=optimum)
            with quiet():
                pred = np.asarray(fitter.conditional_expected_number_of_purchases_up_to_time(
                    self._t, lt["frequency"].to_numpy(), lt["recency"].to_numpy(float), lt["T"].to_numpy(float)),
                    float)
        except (ValueError, ArithmeticError, RuntimeError, np.linalg.LinAlgError) as err:
            # a likelihood out of floating-point range (Pareto/NBD with heavy buyers) is not a failure to converge
            overflow = isinstance(err, FloatingPointError) or isinstance(err.__cause__, FloatingPointError)
            log.info("holdout comparison: %s %s (%s)", kind, "overflowed" if overflow else "failed", err)
            return {"model": kind, "status": "overflow" if overflow else "failed",
                    "seconds": time.perf_counter() - t0}
        if not np.all(np.isfinite(pred)):  # fitted, but its prediction overflows for some customers
            log.info("holdout comparison: %s predicts non-finite purchases for %d customers", kind,
                     int((~np.isfinite(pred)).sum()))
            return {"model": kind, "status": "overflow", "seconds": time.perf_counter() - t0}
        frame = pd.DataFrame({"group": cust["group"].to_numpy(), "pred": pred,
                              "actual": cust["actual_orders"].to_numpy(float)})
        by = frame.groupby("group")[["pred", "actual"]].mean()
        actual = float(frame["actual"].sum())
        return {"model": kind, "status": "ok", "predicted": float(pred.sum()), "actual": actual,
                "total_error": (float(pred.sum()) - actual) / actual if actual else np.nan,
                "group_error": float((by["pred"] - by["actual"]).abs().mean()),
                "seconds": time.perf_counter() - t0}

    def known(self) -> pd.DataFrame:
        """The rows computed so far (without Pareto/NBD while its optimisation runs); never waits."""
        return pd.DataFrame([self._rows[k] for k in MODELS if k in self._rows]).reindex(columns=list(COLUMNS))

    def result(self) -> pd.DataFrame:
        """Each model's holdout errors, in :data:`MODELS` order (waits for Pareto/NBD)."""
        if "pareto" not in self._rows:
            process, self._pareto = self._pareto, None
            outcome = process.outcome() if process is not None else None
            self._rows["pareto"] = self._row("pareto", outcome, process.seconds if process is not None else 0.0)
        return self.known()

    def close(self) -> None:
        """End Pareto/NBD's process if it still runs (its row is then never computed)."""
        process, self._pareto = self._pareto, None
        if process is not None:
            process.close()

    def __enter__(self) -> Comparison:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_comparison(validation: Any, *, params: Mapping[str, Any]) -> Comparison:
    """Start the comparison of the three purchase models on the holdout (see the module docstring); BG/NBD
    and MBG/NBD are fitted before this returns, Pareto/NBD in another process meanwhile.

    Parameters
    ----------
    validation
        :func:`crmlib.clv.analysis.holdout_validation`'s result with status ``ok`` (its ``lt`` and
        ``customers``: ``group``, ``actual_orders``).
    params
        The ``clv`` section: ``penalizer``, ``pareto_max_rows``, ``compare_max_customers``, ``time_unit``.
    """
    return Comparison(validation, params)


def compare_models(validation: Any, *, params: Mapping[str, Any]) -> pd.DataFrame:
    """Each model's holdout errors (see the module docstring): :func:`start_comparison` and its result."""
    with start_comparison(validation, params=params) as comparison:
        return comparison.result()


def choose(comparison: pd.DataFrame | None, *, setting: str) -> str:
    """The model to use: ``setting`` unless ``auto``; with ``auto`` the smallest group error on the holdout,
    BG/NBD when no comparison could be made."""
    if setting != "auto":
        return setting
    if comparison is None or comparison.empty:
        return "bgnbd"
    ok = comparison.loc[comparison["status"] == "ok"]
    if ok.empty:
        return "bgnbd"
    return str(ok.sort_values(["group_error", "model"]).iloc[0]["model"])
