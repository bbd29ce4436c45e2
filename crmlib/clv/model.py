"""Customer lifetime value: BG/NBD (how many more purchases) and Gamma-Gamma (how much per purchase).

Both models are lifetimes' fitters (``BetaGeoFitter``, ``GammaGammaFitter``), wrapped thinly so that the
shape stays lifetimes' (``fit`` returns ``self``, fitted values end in ``_``) and a move to another engine
touches this module only.

Speed at scale: both fits run on the *distinct* rows with weights and are warm-started on large inputs
(:mod:`crmlib.clv.fit`); ``benchmarks/bench_clv.py`` measures them against a plain lifetimes fit (numbers
in ``benchmarks/bench_clv.md``). lifetimes' inputs, the calibration/holdout split and the discounting
schedule are built in :mod:`crmlib.clv.data` and re-exported here.

A "purchase" here is a purchase *day* (frequency = distinct purchase days - 1), as in the CDNOW data of
Fader, Hardie & Lee (2005); expected orders and order values are per purchase day accordingly.

Prediction helpers beyond the model (holdout validation, CAC:LTV) live in :mod:`crmlib.clv.analysis`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlib.clv.data import (
    DAYS_PER_MONTH,
    SUMMARY_COLUMNS,
    UNITS,
    calibration_holdout,
    lifetimes_summary,
    monthly_schedule,
    require_columns,
    unit_days,
)
from crmlib.clv.fit import (
    EXPECTED_MIN_ROWS,
    bgnbd_expected_purchases_at,
    fit_with_retries,
    fitter_class,
    lifetimes_module,
    log_covariance,
    make_fitter,
    patterns,
    quiet,
)
from crmlib.clv.params import resolve as resolve_params
from crmlib.core.readiness import NotEnoughData, Readiness, history_days, readiness
from crmlib.errors import DataError, ParamsError

log = logging.getLogger(__name__)

__all__ = ["DAYS_PER_MONTH", "SUMMARY_COLUMNS", "UNITS", "ClvModel", "calibration_holdout",
           "clv_table", "data_readiness", "fit_clv", "fit_for_run", "lifetimes_summary", "monthly_schedule",
           "patterns", "require_columns",
           "resolve_params"]


#: days per model time unit

class ClvModel:
    """BG/NBD + Gamma-Gamma, fitted with lifetimes on distinct rows (see the module docstring).

    Parameters
    ----------
    time_unit
        ``"W"`` or ``"D"``: the unit of recency and T inside the model.
    penalizer, retry_penalizers
        First penalizer, and the ones tried in turn when a fit does not converge.
    correlation_threshold, min_repeat_buyers, value, margin_rate
        See :data:`crmlib.clv.params.DEFAULTS`.

    Attributes (after :meth:`fit`)
    ------------------------------
    bgnbd_, gamma_gamma_
        lifetimes' fitters (``gamma_gamma_`` is None when the spend model could not be fitted).
    params_
        ``{"bgnbd": {r, alpha, a, b, log_likelihood, std_errors, log_covariance}, "gamma_gamma": {p, q, v, ...} or
        None}``.
    diagnostics_
        What happened: attempts and penalizer per fit, distinct rows, the frequency-spend correlation, the
        margin basis; :meth:`notes` turns it into report sentences.
    """

    def __init__(self, *, time_unit: str = "W", penalizer: float = 0.0,
                 retry_penalizers: Sequence[float] = (0.001, 0.01, 0.1), correlation_threshold: float = 0.3,
                 min_repeat_buyers: int = 20, value: str = "revenue", margin_rate: float | None = None,
                 horizon_days: float = 365, annual_discount_rate: float = 0.10) -> None:
        unit_days(time_unit)
        if value not in ("revenue", "margin"):
            raise ParamsError(f"Params key 'clv.value' must be 'revenue' or 'margin', got {value!r}.")
        if margin_rate is not None and not 0 < float(margin_rate) <= 1:
            raise ParamsError(f"Params key 'clv.margin_rate' must be a share between 0 and 1 (0.25 = 25%) or "
                              f"null, got {margin_rate!r}.")
        for name, pen in [("penalizer", penalizer), *(("retry_penalizers", p) for p in retry_penalizers)]:
            if not isinstance(pen, (int, float)) or isinstance(pen, bool) or pen < 0:
                raise ParamsError(f"Params key 'clv.{name}' must hold numbers >= 0, got {pen!r}.")
        self.time_unit = time_unit
        self.penalizer = float(penalizer)
        self.retry_penalizers = [float(p) for p in retry_penalizers]
        self.correlation_threshold = float(correlation_threshold)
        self.min_repeat_buyers = int(min_repeat_buyers)
        self.value = value
        self.margin_rate = None if margin_rate is None else float(margin_rate)
        self.horizon_days = float(horizon_days)  # recorded for clv_model.json; predictions take their own
        self.annual_discount_rate = float(annual_discount_rate)
        self.bgnbd_: Any = None
        self.gamma_gamma_: Any = None
        self.params_: dict[str, Any] = {}
        self.diagnostics_: dict[str, Any] = {}
        self.margin_rate_: float = 1.0
        self.fallback_value_: float = float("nan")
        self.n_customers_: int = 0
        #: the purchase model that predicts (BG/NBD unless :meth:`use_purchase_model` chose another)
        self.purchase_kind_: str = "bgnbd"
        self.purchase_model_: Any = None
        #: the frame and its prepared inputs shared by predictions within :meth:`_holding`
        self._held: tuple[pd.DataFrame, Any] | None = None

    # -- fitting ----------------------------------------------------------------------------------------
    def fit(self, summary: pd.DataFrame, *, spend: bool = True) -> ClvModel:
        """Fit both models on the per-customer table (day-based columns, see :func:`lifetimes_summary`).

        With ``value="margin"`` the margin share comes from ``margin_rate`` or, when ``summary`` has
        ``margin`` and ``revenue`` for customers with known cost, from sum(margin) / sum(revenue).
        ``spend=False`` fits the purchase model only (see :meth:`fit_lifetimes`).
        """
        lt = lifetimes_summary(summary, time_unit=self.time_unit)
        self.fit_lifetimes(lt, spend=spend)
        self._set_margin(summary)
        return self

    def fit_lifetimes(self, lt: pd.DataFrame, *, spend: bool = True) -> ClvModel:
        """Fit on lifetimes' inputs already in the model's time unit (``frequency, recency, T,
        monetary_value``; e.g. a calibration period). Returns ``self``.

        ``spend=False`` leaves the Gamma-Gamma spend model out (status ``not_fitted``): for callers that
        need only expected orders or P(alive), such as churn's snapshots at earlier dates."""
        require_columns(lt, ["frequency", "recency", "T", "monetary_value"], "lifetimes summary")
        n = len(lt)
        repeaters = int((lt["frequency"] > 0).sum())
        if n < 2 or repeaters == 0:
            raise DataError(f"The lifetime-value model needs customers with repeat purchases: {n} customer(s), "
                            f"{repeaters} with a repeat purchase day. Use a longer order history (earlier "
                            "orders) or a later as_of.")
        penalizers = [self.penalizer, *[p for p in self.retry_penalizers if p > self.penalizer]]
        diag: dict[str, Any] = {"n_customers": n, "n_repeat_buyers": repeaters, "time_unit": self.time_unit}

        t0, c0 = time.perf_counter(), time.process_time()
        (x, rec, age), weights, _ = patterns([lt["frequency"].to_numpy(), lt["recency"].to_numpy(float),
                                              lt["T"].to_numpy(float)])
        fitter, attempts = fit_with_retries("bgnbd", [x.astype(np.int64), rec, age], weights,
                                             penalizers=penalizers)
        diag["bgnbd"] = {"rows": int(len(weights)), "attempts": attempts,
                         "seconds": round(time.perf_counter() - t0, 3),
                         "cpu_seconds": round(time.process_time() - c0, 3)}
        if fitter is None:
            raise DataError(f"The BG/NBD model did not converge on {n} customers, even with penalizers "
                            f"{penalizers}. The data may hold too few repeat purchases ({repeaters} repeat "
                            "buyers); check the order history and the as_of date.")
        diag["bgnbd"]["penalizer"] = float(fitter.penalizer_coef)
        self.bgnbd_ = fitter
        p = {k: float(v) for k, v in fitter.params_.items()}
        lib = lifetimes_module()
        with quiet():
            nll = lib.BetaGeoFitter._negative_log_likelihood(
                np.log([p["r"], p["alpha"], p["a"], p["b"]]), x.astype(np.int64), rec, age, weights, 0.0)
        p["log_likelihood"] = float(-nll * weights.sum())
        p["std_errors"] = {k: float(v) for k, v in fitter.standard_errors_.items()}
        p["log_covariance"] = _stored_covariance(fitter)
        self.params_ = {"bgnbd": p, "gamma_gamma": None}

        # Gamma-Gamma on repeat buyers with a positive mean repeat value
        # numpy arrays, not Series: numpy's attribute probes on a Series make pandas hash its (string) index
        freq, mean_value = lt["frequency"].to_numpy(), lt["monetary_value"].to_numpy(dtype=float)
        rep = (freq > 0) & (mean_value > 0)
        rep_x, rep_m = freq[rep], mean_value[rep]
        gg: dict[str, Any] = {"n": int(len(rep_x)), "attempts": [], "status": "fitted"}
        if len(rep_x) >= 3:
            r_corr = float(np.corrcoef(rep_x, rep_m)[0, 1])
        else:
            r_corr = float("nan")
        diag["correlation"] = r_corr
        diag["correlation_flag"] = bool(np.isfinite(r_corr) and abs(r_corr) > self.correlation_threshold)
        all_values = np.where(freq > 0, mean_value, np.nan)
        self.fallback_value_ = float(np.nanmean(all_values)) if repeaters else float("nan")
        if not spend:
            gg["status"] = "not_fitted"
        elif len(rep_x) < self.min_repeat_buyers:
            gg["status"] = "too_few"
        else:
            t0, c0 = time.perf_counter(), time.process_time()
            (fx, mv), gw, _ = patterns([rep_x.astype(float), rep_m])
            gfit, gg["attempts"] = fit_with_retries("gamma_gamma", [fx, mv], gw, penalizers=penalizers)
            gg["rows"] = int(len(gw))
            gg["seconds"] = round(time.perf_counter() - t0, 3)
            gg["cpu_seconds"] = round(time.process_time() - c0, 3)
            if gfit is None:
                gg["status"] = "failed"
            elif float(gfit.params_["q"]) <= 1:
                gg["status"] = "q_below_one"  # population mean v p / (q - 1) undefined
            else:
                gg["penalizer"] = float(gfit.penalizer_coef)
                self.gamma_gamma_ = gfit
                gp = {k: float(v) for k, v in gfit.params_.items()}
                with quiet():
                    gnll = lib.GammaGammaFitter._negative_log_likelihood(
                        np.log([gp["p"], gp["q"], gp["v"]]), fx, mv, gw, 0.0)
                gp["log_likelihood"] = float(-gnll * gw.sum())
                gp["std_errors"] = {k: float(v) for k, v in gfit.standard_errors_.items()}
                gp["log_covariance"] = _stored_covariance(gfit)
                gp["population_mean"] = gp["p"] * gp["v"] / (gp["q"] - 1)
                self.params_["gamma_gamma"] = gp
        diag["gamma_gamma"] = gg
        self.diagnostics_ = diag
        self.n_customers_ = n
        return self

    def _set_margin(self, summary: pd.DataFrame) -> None:
        basis = "revenue"
        rate = 1.0
        if self.value == "margin":
            if self.margin_rate is not None:
                basis, rate = "margin_fixed", self.margin_rate
            elif {"margin", "revenue"} <= set(summary.columns) and summary["margin"].notna().any():
                known = summary.loc[summary["margin"].notna()]
                revenue = float(known["revenue"].sum())
                if revenue > 0:
                    basis, rate = "margin_data", float(known["margin"].sum()) / revenue
            else:
                basis = "margin_unknown"
        self.margin_rate_ = rate
        self.diagnostics_["value_basis"] = basis
        self.diagnostics_["margin_rate"] = rate

    # -- predictions on arrays in the model's unit ----------------------------------------------------------
    def _check_fitted(self) -> None:
        if self.bgnbd_ is None:
            raise ValueError("ClvModel is not fitted: call fit(customer_summary) or from_dict(...) first.")

    @property
    def purchase_fitter(self) -> Any:
        """The lifetimes fitter that predicts purchases (:attr:`purchase_model_`, else BG/NBD)."""
        return self.purchase_model_ if self.purchase_model_ is not None else self.bgnbd_

    def use_purchase_model(self, kind: str, summary: pd.DataFrame) -> ClvModel:
        """Predict purchases with ``kind`` (``bgnbd``, ``mbgnbd`` or ``pareto``, see :mod:`crmlib.clv.choice`),
        fitted on the per-customer table; the BG/NBD parameters stay on record. Returns ``self``."""
        from crmlib.clv.choice import fit_purchase_model

        self._check_fitted()
        if kind == "bgnbd":
            self.purchase_kind_, self.purchase_model_ = "bgnbd", None
            return self
        lt = lifetimes_summary(summary, time_unit=self.time_unit)
        self.purchase_model_ = fit_purchase_model(kind, lt, penalizer=self.penalizer)
        self.purchase_kind_ = kind
        return self

    def _alive(self, x: np.ndarray, rec: np.ndarray, age: np.ndarray) -> np.ndarray:
        with quiet():
            return np.asarray(self.purchase_fitter.conditional_probability_alive(x, rec, age), dtype=float)

    def _expected(self, t: float | np.ndarray, x: np.ndarray, rec: np.ndarray, age: np.ndarray) -> np.ndarray:
        """E[X(t) | x, t_x, T] (Fader, Hardie & Lee 2005, eq. 10, or the chosen model's), via lifetimes."""
        with quiet():
            out = self.purchase_fitter.conditional_expected_number_of_purchases_up_to_time(t, x, rec, age)
        return np.asarray(out, dtype=float)

    def _order_value(self, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        """E[M | x, m_x] (Fader & Hardie note 025, eq. 5), or the fallback when there is no spend model."""
        x = np.asarray(x, dtype=float)
        m = np.asarray(m, dtype=float)
        if self.gamma_gamma_ is not None:
            with quiet():
                return np.asarray(self.gamma_gamma_.conditional_expected_average_profit(x, m), dtype=float)
        return np.where((x > 0) & (m > 0), m, self.fallback_value_)

    def _expected_at(self, times: list[float], x: np.ndarray, rec: np.ndarray, age: np.ndarray) -> list[np.ndarray]:
        """:meth:`_expected` at each horizon of ``times`` (model time units); BG/NBD's every horizon at once,
        the distinct (x, T) pairs and the denominator found once: the same values, bit for bit."""
        fitter = self.purchase_fitter
        if (isinstance(fitter, fitter_class("bgnbd")) and np.ndim(x) == 1 and len(x) >= EXPECTED_MIN_ROWS
                and np.shape(rec) == np.shape(x) == np.shape(age)):
            with quiet():
                at = bgnbd_expected_purchases_at(fitter, times, np.asarray(x), np.asarray(rec), np.asarray(age))
            return [np.asarray(v, dtype=float) for v in at]
        return [self._expected(t, x, rec, age) for t in times]

    def _discounted_orders(self, x: np.ndarray, rec: np.ndarray, age: np.ndarray, *, horizon_days: float,
                           annual_discount_rate: float) -> np.ndarray:
        ends, factors = monthly_schedule(horizon_days, annual_discount_rate)
        # every month end at once: the same values as one _expected call per month end
        cumulative = [np.zeros(len(x)), *self._expected_at([e / UNITS[self.time_unit] for e in ends], x, rec, age)]
        return sum(f * (cumulative[k + 1] - cumulative[k]) for k, f in enumerate(factors))

    # -- public predictions on the per-customer table -------------------------------------------------------
    def _prepared(self, summary: pd.DataFrame) -> tuple[pd.DataFrame, list[np.ndarray], np.ndarray]:
        self._check_fitted()
        held = self._held
        if held is not None and held[0] is summary:
            return held[1]
        lt = lifetimes_summary(summary, time_unit=self.time_unit)
        cols, _, inverse = patterns([lt["frequency"].to_numpy(), lt["recency"].to_numpy(float),
                                     lt["T"].to_numpy(float)])
        return lt, cols, inverse

    @contextlib.contextmanager
    def _holding(self, summary: pd.DataFrame) -> Iterator[None]:
        """Within the block, the predictions on ``summary`` (this very frame, unchanged meanwhile) share one
        :func:`lifetimes_summary` and one set of distinct rows."""
        prepared = self._prepared(summary)
        self._held = (summary, prepared)
        try:
            yield
        finally:
            self._held = None

    def probability_alive(self, summary: pd.DataFrame) -> pd.Series:
        """P(alive | x, t_x, T) per customer (Fader, Hardie & Lee 2008, note 021), indexed by customer_id."""
        lt, (x, rec, age), inv = self._prepared(summary)
        return pd.Series(self._alive(x, rec, age)[inv], index=lt.index, name="p_alive")

    def expected_orders(self, summary: pd.DataFrame, *, horizon_days: float) -> pd.Series:
        """Expected purchase days in the next ``horizon_days`` (FHL 2005 eq. 10), indexed by customer_id."""
        lt, (x, rec, age), inv = self._prepared(summary)
        values = self._expected(float(horizon_days) / UNITS[self.time_unit], x, rec, age)
        return pd.Series(values[inv], index=lt.index, name="expected_orders")

    def expected_orders_at(self, summary: pd.DataFrame, horizons_days: Sequence[float]) -> np.ndarray:
        """:meth:`expected_orders` at each of ``horizons_days``: one row per customer of ``summary`` (in its
        order), one column per horizon, the same values bit for bit, the inputs prepared once."""
        _, (x, rec, age), inv = self._prepared(summary)
        at = self._expected_at([float(h) / UNITS[self.time_unit] for h in horizons_days], x, rec, age)
        return np.column_stack([v[inv] for v in at]) if at else np.zeros((len(inv), 0))

    def probability_of_order(self, summary: pd.DataFrame, *, horizon_days: float) -> pd.Series:
        """P(at least one purchase in the next ``horizon_days`` | x, t_x, T) per customer, indexed by customer_id.

        In BG/NBD a customer drops out only right after a purchase, so an alive customer makes no purchase in
        (T, T + t] exactly when their Poisson process has no event there; given alive, the purchase rate's
        posterior is Gamma(r + x, alpha + T) (Fader, Hardie & Lee 2005, sec. 4). Hence
        P(no purchase) = 1 - P(alive) + P(alive) * ((alpha + T) / (alpha + T + t)) ** (r + x).
        """
        lt, (x, rec, age), inv = self._prepared(summary)
        t = float(horizon_days) / UNITS[self.time_unit]
        if self.purchase_kind_ == "pareto":  # lifetimes' P(X(t) = 0 | x, t_x, T) for Pareto/NBD
            with quiet():
                none = np.asarray(self.purchase_fitter.conditional_probability_of_n_purchases_up_to_time(
                    0, t, x, rec, age), dtype=float)
            return pd.Series((1.0 - none)[inv], index=lt.index, name="p_order")
        # BG/NBD and MBG/NBD: dropout only right after a purchase, the same Gamma posterior of the rate
        r, alpha = float(self.purchase_fitter.params_["r"]), float(self.purchase_fitter.params_["alpha"])
        alive = self._alive(x, rec, age)
        silent = np.exp((r + x) * (np.log(alpha + age) - np.log(alpha + age + t)))
        return pd.Series((alive * (1.0 - silent))[inv], index=lt.index, name="p_order")

    def expected_order_value(self, summary: pd.DataFrame) -> pd.Series:
        """Expected revenue per future purchase day (Gamma-Gamma, eq. 5), indexed by customer_id."""
        self._check_fitted()
        held = self._held
        lt = held[1][0] if held is not None and held[0] is summary else lifetimes_summary(summary,
                                                                                         time_unit=self.time_unit)
        values = self._order_value(lt["frequency"].to_numpy(), lt["monetary_value"].to_numpy())
        return pd.Series(values, index=lt.index, name="expected_order_value")

    def clv(self, summary: pd.DataFrame, *, horizon_days: float, annual_discount_rate: float) -> pd.Series:
        """Discounted value over ``horizon_days``: sum over months k of (E[X(t_k)] - E[X(t_k-1)]) times the
        expected order value, times the margin share, times (1 + annual) ** (-k / 12).

        The month ends t_k and factors are :func:`monthly_schedule`'s; expected purchases per month are the
        differences of the BG/NBD cumulative expectation (as in lifetimes' ``customer_lifetime_value``).
        """
        lt, (x, rec, age), inv = self._prepared(summary)
        orders = self._discounted_orders(x, rec, age, horizon_days=horizon_days,
                                         annual_discount_rate=annual_discount_rate)[inv]
        value = self._order_value(lt["frequency"].to_numpy(), lt["monetary_value"].to_numpy())
        return pd.Series(orders * value * self.margin_rate_, index=lt.index, name="clv")

    def probability_alive_matrix(self, *, max_frequency: int, max_recency_days: float,
                                 T_days: float, step_days: float = 7.0) -> pd.DataFrame:
        """P(alive) for frequency 0..``max_frequency`` (columns) and recency (rows, days) at age ``T_days``."""
        self._check_fitted()
        u = UNITS[self.time_unit]
        recency = np.arange(0.0, min(max_recency_days, T_days) + 1e-9, step_days)
        freq = np.arange(0, int(max_frequency) + 1)
        xx, rr = np.meshgrid(freq, recency)
        p = self._alive(xx.ravel(), rr.ravel() / u, np.full(xx.size, T_days / u)).reshape(xx.shape)
        p[:, 0] = 1.0  # x = 0 is alive by the model's assumption whatever the recency
        return pd.DataFrame(p, index=pd.Index(recency, name="recency_days"), columns=pd.Index(freq, name="frequency"))

    # -- report helpers -------------------------------------------------------------------------------------
    def parameters_table(self) -> pd.DataFrame:
        """One row per parameter: ``model``, ``parameter``, ``value``, ``std_error``."""
        rows = []
        for model, names in (("bgnbd", ("r", "alpha", "a", "b")), ("gamma_gamma", ("p", "q", "v"))):
            p = self.params_.get(model)
            if not p:
                continue
            for name in names:
                rows.append({"model": model, "parameter": name, "value": p[name],
                             "std_error": p.get("std_errors", {}).get(name, float("nan"))})
        return pd.DataFrame(rows, columns=["model", "parameter", "value", "std_error"])

    def notes(self) -> list[tuple[str, dict[str, Any]]]:
        """What the report should say about the fit: ``(catalogue key, values)`` pairs (``clv.note.*``)."""
        d = self.diagnostics_
        out: list[tuple[str, dict[str, Any]]] = []
        bg = d.get("bgnbd", {})
        if bg.get("penalizer", 0.0) > self.penalizer:
            out.append(("clv.note.bgnbd_penalized", {"penalizer": bg["penalizer"]}))
        else:
            out.append(("clv.note.bgnbd_converged", {"rows": bg.get("rows", 0), "customers": d.get("n_customers", 0)}))
        gg = d.get("gamma_gamma", {})
        status = gg.get("status")
        if status == "fitted" and gg.get("penalizer", 0.0) > self.penalizer:
            out.append(("clv.note.gg_penalized", {"penalizer": gg["penalizer"]}))
        elif status == "too_few":
            out.append(("clv.note.gg_too_few", {"n": gg.get("n", 0), "min": self.min_repeat_buyers}))
        elif status in ("failed", "q_below_one"):
            out.append(("clv.note.gg_failed", {}))
        r = d.get("correlation")  # NaN is stored as null in clv_model.json (fewer than 3 repeat buyers)
        if r is not None and r == r:
            key = "clv.note.correlation_high" if d.get("correlation_flag") else "clv.note.correlation_ok"
            out.append((key, {"r": round(r, 2), "threshold": self.correlation_threshold}))
        once = d.get("n_customers", 0) - d.get("n_repeat_buyers", 0)
        if once > 0:
            out.append(("clv.note.one_time", {"n": once}))
        basis = d.get("value_basis", "revenue")
        out.append((f"clv.note.basis_{basis}", {"rate": d.get("margin_rate", 1.0)}))
        return out

    # -- persistence --------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-able description (the contract's ``clv_model.json`` keys first)."""
        self._check_fitted()
        return {
            "bgnbd": self.params_["bgnbd"],
            "gamma_gamma": self.params_["gamma_gamma"],
            "time_unit": self.time_unit,
            "horizon_days": self.horizon_days,
            "annual_discount_rate": self.annual_discount_rate,
            "n_customers": int(self.n_customers_),
            "purchase_model": {"kind": self.purchase_kind_,
                               "params": {k: float(v) for k, v in self.purchase_fitter.params_.items()}},
            "settings": {"penalizer": self.penalizer, "retry_penalizers": self.retry_penalizers,
                         "correlation_threshold": self.correlation_threshold,
                         "min_repeat_buyers": self.min_repeat_buyers, "value": self.value,
                         "margin_rate": self.margin_rate},
            "margin_rate_used": self.margin_rate_,
            "fallback_order_value": None if not np.isfinite(self.fallback_value_) else self.fallback_value_,
            "diagnostics": _jsonable(self.diagnostics_),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ClvModel:
        """Rebuild a fitted model from :meth:`to_dict`'s output (lifetimes fitters with ``params_`` set)."""
        settings = dict(d.get("settings") or {})
        model = cls(time_unit=d.get("time_unit", "W"), horizon_days=d.get("horizon_days", 365),
                    annual_discount_rate=d.get("annual_discount_rate", 0.10), **settings)
        model.params_ = {"bgnbd": dict(d["bgnbd"]), "gamma_gamma": dict(d["gamma_gamma"]) if d.get("gamma_gamma") else None}
        model.bgnbd_ = make_fitter("bgnbd", d["bgnbd"], model.penalizer)
        if d.get("gamma_gamma"):
            model.gamma_gamma_ = make_fitter("gamma_gamma", d["gamma_gamma"], model.penalizer)
        model.margin_rate_ = float(d.get("margin_rate_used", 1.0))
        fallback = d.get("fallback_order_value")
        model.fallback_value_ = float("nan") if fallback is None else float(fallback)
        model.n_customers_ = int(d.get("n_customers", 0))
        model.diagnostics_ = dict(d.get("diagnostics") or {})
        return model


def _stored_covariance(fitter: Any) -> list[list[float]] | None:
    """:func:`crmlib.clv.fit.log_covariance` as nested lists for ``clv_model.json`` (``None`` when unknown):
    the parameter uncertainty of the ranges, kept with the parameters for a model reopened from the file."""
    cov = log_covariance(fitter)
    return None if cov is None else [[float(v) for v in row] for row in cov]


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return None if not np.isfinite(obj) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def data_readiness(customer_summary: pd.DataFrame, params: Mapping[str, Any] | None = None) -> Readiness:
    """The minimum-data rules of the CLV model (``min_history_days``, ``min_customers``,
    ``min_repeat_customers``) against the per-customer table.

    Required columns: ``customer_id``, ``frequency`` (repeat purchase days), ``T`` (days since the first
    purchase); the history is the largest ``T`` plus one day.
    """
    p = resolve_params(params)
    require_columns(customer_summary, ["customer_id", "frequency", "T"], "customer_summary")
    return readiness("clv", [
        ("clv.min_history_days", p["min_history_days"], history_days(customer_summary)),
        ("clv.min_customers", p["min_customers"], len(customer_summary)),
        ("clv.min_repeat_customers", p["min_repeat_customers"], int((customer_summary["frequency"] > 0).sum())),
    ])


def fit_clv(customer_summary: pd.DataFrame, params: Mapping[str, Any] | None = None, *,
            check_data: bool = True, spend: bool = True) -> ClvModel:
    """Fit the run's CLV model on the per-customer table with the ``clv`` params section.

    Parameters
    ----------
    customer_summary
        The per-customer table (see :func:`lifetimes_summary`; ``margin``/``revenue`` for value "margin").
    params
        The ``clv`` section (:data:`crmlib.clv.params.DEFAULTS` keys; missing keys take the defaults).
    check_data
        Apply the minimum-data rules (:func:`data_readiness`) first.
    spend
        Also fit the Gamma-Gamma spend model (``False``: expected orders and P(alive) only).

    Raises
    ------
    NotEnoughData
        ``check_data`` and a rule is not met (a :class:`~crmlib.errors.DataError`, so every caller that
        degrades without a model degrades here too).
    """
    p = resolve_params(params)
    if check_data:
        ready = data_readiness(customer_summary, p)
        if not ready.ready:
            raise NotEnoughData(ready)
    model = ClvModel(time_unit=p["time_unit"], penalizer=p["penalizer"], retry_penalizers=p["retry_penalizers"],
                     correlation_threshold=p["correlation_threshold"], min_repeat_buyers=p["min_repeat_buyers"],
                     value=p["value"], margin_rate=p["margin_rate"], horizon_days=p["horizon_days"],
                     annual_discount_rate=p["annual_discount_rate"])
    model.fit(customer_summary, spend=spend)
    log.info("CLV model fitted on %d customers: %s", model.n_customers_, model.params_["bgnbd"])
    return model


def fit_for_run(ctx: Any) -> ClvModel:
    """The run's model: :func:`fit_clv` on the context's per-customer table and ``clv`` params (the
    registry's ``clv_model`` provider; the context calls it once per run)."""
    return fit_clv(ctx.customer_summary, ctx.params["clv"])


def clv_table(model: ClvModel, customer_summary: pd.DataFrame, *, horizon_days: float,
              annual_discount_rate: float) -> pd.DataFrame:
    """The rows of ``clv.csv``: ``customer_id, p_alive, expected_orders, expected_order_value, clv``.

    Parameters
    ----------
    customer_summary
        The per-customer table (see :func:`lifetimes_summary`).
    """
    with model._holding(customer_summary):
        out = pd.concat([
            model.probability_alive(customer_summary),
            model.expected_orders(customer_summary, horizon_days=horizon_days),
            model.expected_order_value(customer_summary),
            model.clv(customer_summary, horizon_days=horizon_days, annual_discount_rate=annual_discount_rate),
        ], axis=1)
    return out.reset_index()
