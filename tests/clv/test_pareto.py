"""Pareto/NBD with the hypergeometric terms over distinct pairs (crmlib/clv/pareto.py) equals lifetimes'."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlib import clv
from crmlib.clv import analysis, choice, pareto
from crmlib.clv.fit import lifetimes_module
from crmlib.report import i18n


def _rows(n: int, *, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct-looking rows with many shared (x, t_x) and (x, T) pairs, as weekly data has."""
    rng = np.random.default_rng(seed)
    x = rng.poisson(1.5, n) * rng.integers(0, 2, n)
    age = rng.integers(10, 60, n) / 7 * 7.0
    rec = np.where(x > 0, np.minimum(age, rng.integers(1, 60, n).astype(float)), 0.0)
    return x.astype(np.int64), rec, age


@pytest.mark.parametrize("params", [[1.1, 0.5, 0.8, 3.0], [0.6, 3.5, 0.8, 0.3], [0.9, 0.9, 0.9, 0.9],
                                    [2.0, 1.0, 15.0, 40.0]])
def test_likelihood_is_lifetimes_bit_for_bit(params):
    lib = lifetimes_module()
    x, rec, age = _rows(3000, seed=3)
    weights = np.random.default_rng(4).integers(1, 5, len(x))
    p = np.array(params)
    ours = pareto.negative_log_likelihood(x, rec / 10, age / 10, weights, 0.01)(p)
    stock = lib.ParetoNBDFitter._negative_log_likelihood(p, x, rec / 10, age / 10, weights, 0.01)
    assert ours == stock
    assert np.array_equal(pareto.log_a0(p, x, rec, age), lib.ParetoNBDFitter._log_A_0(p, x, rec, age))
    assert pareto.negative_log_likelihood(x, rec, age, weights, 0.0)(-p) == np.inf


def test_fit_and_predictions_are_lifetimes_and_do_not_depend_on_the_global_random_state():
    lib = lifetimes_module()
    x, rec, age = _rows(1500, seed=5)
    start = pareto.start_params()
    stock = lib.ParetoNBDFitter().fit(x, rec, age, initial_params=start)
    np.random.seed(1)
    ours = pareto.fitter_class()().fit(x, rec, age)
    np.random.seed(2)
    again = choice.fit_purchase_model("pareto", _frame(x, rec, age))
    assert ours.params_.to_dict() == stock.params_.to_dict()
    # distinct rows with weights (choice's fit): the same parameters
    assert np.allclose(again.params_.to_numpy(), stock.params_.to_numpy(), rtol=1e-9, atol=0)
    for method, args in [("conditional_expected_number_of_purchases_up_to_time", (13.0, x, rec, age)),
                         ("conditional_probability_alive", (x, rec, age))]:
        assert np.array_equal(getattr(ours, method)(*args), getattr(stock, method)(*args))


def _frame(x: np.ndarray, rec: np.ndarray, age: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"frequency": x, "recency": rec, "T": age})


def test_a_nan_likelihood_ends_the_fit_as_failed(monkeypatch):
    """A likelihood that turns NaN during the fit stops it: a DataError naming the model for a run that asks
    for Pareto/NBD, status ``overflow`` in the holdout comparison (not "did not converge"), never chosen."""
    from types import SimpleNamespace

    from crmlib import clv
    from crmlib.clv import analysis
    from crmlib.errors import DataError

    x, rec, age = _rows(400, seed=6)
    stock = pareto.negative_log_likelihood
    calls = {"n": 0}

    def breaking(*args, **kwargs):
        objective = stock(*args, **kwargs)

        def wrapped(params):
            calls["n"] += 1
            return float("nan") if calls["n"] > 30 else objective(params)

        return wrapped

    monkeypatch.setattr(pareto, "negative_log_likelihood", breaking)
    # the comparison's optimisation in this process, where the likelihood is the patched one
    monkeypatch.setattr(pareto.FitProcess, "outcome", lambda self: self.close())
    with pytest.raises(DataError, match="pareto.*NaN"):
        choice.fit_purchase_model("pareto", _frame(x, rec, age))
    assert calls["n"] == 31  # stopped at the first NaN
    calls["n"] = 0
    lt = _frame(x, rec, age).assign(monetary_value=0.0)
    validation = SimpleNamespace(lt=lt, holdout_days=70, customers=pd.DataFrame(
        {"group": analysis.frequency_group(x), "actual_orders": np.random.default_rng(1).poisson(0.5, len(x))}))
    table = choice.compare_models(validation, params=clv.resolve_params({"time_unit": "W"})).set_index("model")
    assert table.loc["pareto", "status"] == "overflow"  # out of number range, not "did not converge"
    assert (table["status"] == "ok").any()
    assert choice.choose(table.reset_index(), setting="auto") != "pareto"


def test_predictions_out_of_number_range_are_named_so_not_a_convergence_failure(monkeypatch):
    from types import SimpleNamespace

    rng = np.random.default_rng(3)
    x = rng.poisson(2, 400)
    age = rng.uniform(20, 52, 400)
    rec = np.where(x > 0, age * rng.uniform(0.2, 1, 400), 0.0)
    lt = _frame(x, rec, age).assign(monetary_value=0.0)
    validation = SimpleNamespace(lt=lt, holdout_days=70, customers=pd.DataFrame(
        {"group": analysis.frequency_group(x), "actual_orders": rng.poisson(0.5, len(x))}))
    stock = choice.fit_purchase_model

    def heavy_buyer_nan(kind, frame, **kw):  # lifetimes' Pareto/NBD expectation overflows for heavy buyers
        fitter = stock(kind, frame, **kw)
        if kind == "pareto":
            real = fitter.conditional_expected_number_of_purchases_up_to_time
            fitter.conditional_expected_number_of_purchases_up_to_time = (
                lambda *a: np.where(np.asarray(a[1]) > 5, np.nan, real(*a)))
        return fitter

    monkeypatch.setattr(choice, "fit_purchase_model", heavy_buyer_nan)
    table = choice.compare_models(validation, params=clv.resolve_params({"time_unit": "W"})).set_index("model")
    assert table.loc["pareto", "status"] == "overflow" and table.loc["bgnbd", "status"] == "ok"
    assert i18n.t("clv.modelstatus.overflow", "en") != i18n.t("clv.modelstatus.failed", "en")


def test_log_diff_exp_is_scipys_logsumexp_bit_for_bit():
    from scipy.special import logsumexp

    rng = np.random.default_rng(11)
    n = 4000
    a0 = rng.normal(0, 50, n)
    a1 = np.where(rng.random(n) < 0.3, a0, rng.normal(0, 50, n))  # equal terms: log(0) = -inf
    a1 = np.where(rng.random(n) < 0.3, a0 - rng.exponential(1e-12, n), a1)  # nearly equal
    special = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 710.0, -745.0, 1e308])
    a0 = np.concatenate([a0, np.repeat(special, len(special))])
    a1 = np.concatenate([a1, np.tile(special, len(special))])
    ones = np.ones(len(a0))
    with np.errstate(all="ignore"):
        expected = logsumexp([a0, a1], axis=0, b=[ones, -ones])
    assert np.array_equal(pareto.log_diff_exp(a0, a1), expected, equal_nan=True)


def _wait_for(helper: pareto.HypHelper) -> None:
    import time

    deadline = time.monotonic() + 30
    while not helper.available() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert helper.available()


@pytest.mark.parametrize("params", [[1.1, 0.5, 0.8, 3.0], [0.6, 3.5, 0.8, 0.3], [2.0, 1.0, 15.0, 40.0]])
def test_likelihood_with_the_helper_process_is_lifetimes_bit_for_bit(params, monkeypatch):
    """Part of the hypergeometric terms in the helper process, the rest here: lifetimes' value bit for bit;
    when the helper dies, this process computes its part (the same value); the helper ends on exit."""
    monkeypatch.setattr(pareto, "WORKERS", 2)
    monkeypatch.setattr(pareto, "MIN_HELPER_PAIRS", 10)
    lib = lifetimes_module()
    x, rec, age = _rows(3000, seed=3)
    weights = np.random.default_rng(4).integers(1, 5, len(x))
    p = np.array(params)
    stock = lib.ParetoNBDFitter._negative_log_likelihood(p, x, rec / 10, age / 10, weights, 0.01)
    with pareto.HypHelper() as helper:
        objective = pareto.negative_log_likelihood(x, rec / 10, age / 10, weights, 0.01, helper=helper)
        assert objective(p) == stock  # before the helper is ready: all here
        _wait_for(helper)
        assert objective(p) == stock  # with the helper
        proc = helper.proc
        proc.kill()
        proc.wait()
        assert objective(p) == stock  # the helper died: all here again
        assert not helper.available()
    assert helper.proc is None and proc.poll() is not None


def test_fit_with_the_helper_process_follows_the_same_path(monkeypatch):
    """The whole Nelder-Mead path (every evaluated point and value) with and without the helper process."""
    import subprocess

    x, rec, age = _rows(2500, seed=7)
    paths = {}
    stock = pareto.negative_log_likelihood
    started = []
    real_popen = subprocess.Popen

    def popen(*args, **kwargs):
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(subprocess, "Popen", popen)
    for workers in (1, 2):
        monkeypatch.setattr(pareto, "WORKERS", workers)
        monkeypatch.setattr(pareto, "MIN_HELPER_PAIRS", 10)
        path = paths[workers] = []

        def recording(*args, path=path, **kwargs):
            objective = stock(*args, **kwargs)
            helper = kwargs.get("helper")
            if helper is not None and helper.proc is not None:
                _wait_for(helper)

            def wrapped(params, path=path):
                value = objective(params)
                path.append((np.array(params, copy=True), value))
                return value

            return wrapped

        monkeypatch.setattr(pareto, "negative_log_likelihood", recording)
        pareto.fitter_class()().fit(x, rec, age)
    assert len(started) == 1 and started[0].poll() is not None  # one helper, ended with the fit
    assert len(paths[1]) == len(paths[2]) > 50
    for (p1, v1), (p2, v2) in zip(paths[1], paths[2], strict=True):
        assert np.array_equal(p1, p2) and v1 == v2


def test_a_pair_that_is_one_rows_x_t_x_and_anothers_x_t_is_computed_once():
    x, rec, age = _rows(3000, seed=3)
    c1, c2, xs, ys = pareto.shared_pair_codes(x, rec, age)
    separate = len(pareto.pair_codes(x, rec)[1]) + len(pareto.pair_codes(x, age)[1])
    assert len(xs) < separate
    assert np.array_equal(xs[c1], x) and np.array_equal(ys[c1], rec)
    assert np.array_equal(xs[c2], x) and np.array_equal(ys[c2], age)


def _validation(x: np.ndarray, rec: np.ndarray, age: np.ndarray, *, seed: int):
    from types import SimpleNamespace

    lt = _frame(x, rec, age).assign(monetary_value=0.0)
    return SimpleNamespace(lt=lt, holdout_days=70, customers=pd.DataFrame(
        {"group": analysis.frequency_group(x), "actual_orders": np.random.default_rng(seed).poisson(0.5, len(x))}))


def test_the_optimisation_in_its_own_process_is_the_one_run_here_bit_for_bit():
    """FitProcess runs lifetimes' optimisation elsewhere: the same parameters and likelihood to the last bit
    as the fit in this process (with its helper), and the fit built on its outcome is that fit."""
    x, rec, age = _rows(1500, seed=5)
    here = pareto.fitter_class()().fit(x, rec, age)
    call = pareto.optimisation_call(pareto.fitter_class()(), x, rec, age)
    with pareto.FitProcess(call) as process:
        outcome = process.outcome()
        assert process.proc is None  # ended once its outcome is read
    assert outcome is not None and not isinstance(outcome, FloatingPointError)
    x_here, fun_here = pareto.optimise(call)
    assert np.array_equal(outcome[0], x_here) and outcome[1] == fun_here
    fitter = pareto.fitter_class()()
    fitter.optimum = outcome
    built = fitter.fit(x, rec, age)
    assert built.params_.to_dict() == here.params_.to_dict()
    assert fitter.optimum is None  # used once


def test_a_nan_likelihood_in_the_fit_process_comes_back_as_the_same_error():
    x, rec, age = _rows(400, seed=6)
    (args, x0, tol, method, options) = pareto.optimisation_call(pareto.fitter_class()(), x, rec, age)
    broken = (args[0], np.full(len(args[1]), np.nan), *args[2:])  # every likelihood value NaN
    with pareto.FitProcess((broken, x0, tol, method, options)) as process:
        outcome = process.outcome()
    assert isinstance(outcome, FloatingPointError) and "NaN" in str(outcome)
    fitter = pareto.fitter_class()()
    fitter.optimum = outcome
    with pytest.raises(FloatingPointError):
        fitter.fit(x, rec, age)


def test_closing_the_fit_process_before_its_outcome_ends_it():
    x, rec, age = _rows(3000, seed=7)
    process = pareto.FitProcess(pareto.optimisation_call(pareto.fitter_class()(), x, rec, age))
    proc = process.proc
    assert proc is not None
    process.close()
    assert proc.poll() is not None and process.outcome() is None  # nothing left running; nothing to read


def test_the_comparison_is_the_same_with_pareto_optimised_elsewhere_or_here(monkeypatch):
    """start_comparison gives BG/NBD and MBG/NBD at once and Pareto/NBD when asked; the table equals the one
    with every fit in this process (the fit process failing: the fallback)."""
    x, rec, age = _rows(1500, seed=5)
    validation = _validation(x, rec, age, seed=2)
    params = clv.resolve_params({"time_unit": "W"})
    with choice.start_comparison(validation, params=params) as comparison:
        known = comparison.known()
        assert list(known["model"]) == ["bgnbd", "mbgnbd"]
        elsewhere = comparison.result()
    assert list(elsewhere["model"]) == ["bgnbd", "mbgnbd", "pareto"]
    assert elsewhere.loc[2, "status"] == "ok"
    monkeypatch.setattr(pareto.FitProcess, "outcome", lambda self: self.close())
    here = choice.compare_models(validation, params=params)
    pd.testing.assert_frame_equal(elsewhere.drop(columns="seconds"), here.drop(columns="seconds"), check_exact=True)
