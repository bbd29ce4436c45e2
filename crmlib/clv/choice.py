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


def fit_purchase_model(kind: str, lt: pd.DataFrame, *, penalizer: float = 0.0) -> Any:
    """Fit a lifetimes purchase model on lifetimes' inputs (``frequency``, ``recency``, ``T``), on the distinct
    rows with weights. BG/NBD uses crmlib's fast fit (:func:`crmlib.clv.fit.fit_with_retries`), Pareto/NBD
    :func:`crmlib.clv.pareto.fitter_class` (lifetimes' fit bit for bit, from a seeded start)."""
    if kind not in MODELS:
        raise ValueError(f"unknown purchase model {kind!r}; known: {', '.join(MODELS)}")
    (x, rec, age), weights, _ = patterns([lt["frequency"].to_numpy(), lt["recency"].to_numpy(float),
                                          lt["T"].to_numpy(float)])
    if kind == "bgnbd":
        fitter, _ = fit_with_retries("bgnbd", [x.astype(np.int64), rec, age], weights, penalizers=[penalizer, 0.001,
                                                                                                  0.01])
        if fitter is None:
            raise ValueError("BG/NBD did not converge")
        return fitter
    # Pareto/NBD: lifetimes' fitter with its hypergeometric terms over distinct pairs, seeded start
    cls = pareto.fitter_class() if kind == "pareto" else getattr(lifetimes_module(), MODELS[kind])
    fitter = cls(penalizer_coef=penalizer)
    try:
        with quiet():
            fitter.fit(x.astype(np.int64), rec, age, weights=weights)
    except FloatingPointError as err:  # Pareto/NBD's likelihood turned NaN (crmlib.clv.pareto)
        raise DataError(f"The {kind} purchase model could not be fitted on {len(lt)} customers: {err}. Use "
                        "clv.model: auto, bgnbd or mbgnbd.") from err
    return fitter


def comparison_rows(n: int, cap: int) -> np.ndarray | None:
    """Positions (sorted) of the seeded random subset of ``cap`` of ``n`` calibration customers that the
    comparison and the ranges' holdout check use, or None when all ``n`` are used (``cap`` 0 or ``n <= cap``)."""
    if not cap or n <= cap:
        return None
    return np.sort(np.random.default_rng(0).choice(n, size=int(cap), replace=False))


def compare_models(validation: Any, *, params: Mapping[str, Any]) -> pd.DataFrame:
    """Each model's holdout errors (see the module docstring).

    Parameters
    ----------
    validation
        :func:`crmlib.clv.analysis.holdout_validation`'s result with status ``ok`` (its ``lt`` and
        ``customers``: ``group``, ``actual_orders``).
    params
        The ``clv`` section: ``penalizer``, ``pareto_max_rows``, ``time_unit``.
    """
    lt, cust = validation.lt, validation.customers
    keep = comparison_rows(len(lt), int(params["compare_max_customers"]))
    if keep is not None:  # the models' relative fit shows on a random subset; keeps large runs fast
        lt, cust = lt.iloc[keep], cust.iloc[keep]
    t = float(validation.holdout_days) / UNITS[params["time_unit"]]
    n_rows = len(lt[["frequency", "recency", "T"]].drop_duplicates())
    rows = []
    for kind in MODELS:
        t0 = time.perf_counter()
        if kind == "pareto" and n_rows > int(params["pareto_max_rows"]):
            rows.append({"model": kind, "status": "too_large", "seconds": 0.0})
            continue
        try:
            fitter = fit_purchase_model(kind, lt, penalizer=float(params["penalizer"]))
            with quiet():
                pred = np.asarray(fitter.conditional_expected_number_of_purchases_up_to_time(
                    t, lt["frequency"].to_numpy(), lt["recency"].to_numpy(float), lt["T"].to_numpy(float)), float)
        except (ValueError, ArithmeticError, RuntimeError, np.linalg.LinAlgError) as err:
            # a likelihood out of floating-point range (Pareto/NBD with heavy buyers) is not a failure to converge
            overflow = isinstance(err, FloatingPointError) or isinstance(err.__cause__, FloatingPointError)
            log.info("holdout comparison: %s %s (%s)", kind, "overflowed" if overflow else "failed", err)
            rows.append({"model": kind, "status": "overflow" if overflow else "failed",
                         "seconds": time.perf_counter() - t0})
            continue
        if not np.all(np.isfinite(pred)):  # fitted, but its prediction overflows for some customers
            log.info("holdout comparison: %s predicts non-finite purchases for %d customers", kind,
                     int((~np.isfinite(pred)).sum()))
            rows.append({"model": kind, "status": "overflow", "seconds": time.perf_counter() - t0})
            continue
        frame = pd.DataFrame({"group": cust["group"].to_numpy(), "pred": pred,
                              "actual": cust["actual_orders"].to_numpy(float)})
        by = frame.groupby("group")[["pred", "actual"]].mean()
        actual = float(frame["actual"].sum())
        rows.append({"model": kind, "status": "ok", "predicted": float(pred.sum()), "actual": actual,
                     "total_error": (float(pred.sum()) - actual) / actual if actual else np.nan,
                     "group_error": float((by["pred"] - by["actual"]).abs().mean()),
                     "seconds": time.perf_counter() - t0})
    return pd.DataFrame(rows).reindex(columns=list(COLUMNS))


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
