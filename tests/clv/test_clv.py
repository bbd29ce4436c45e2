"""Lifetime value: data preparation, the fits against published numbers, discounting, validation, CAC:LTV."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlib import clv as clv
from crmlib.clv import analysis as clv_analysis
from crmlib.clv import fit as clv_fit
from crmlib.clv import report as clv_report
from crmlib.data import tables
from crmlib.errors import DataError, ParamsError

# Published values. BG/NBD: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing
# Science 24(2), p. 280 (CDNOW 1/10th sample, 2,357 customers, weeks, calibration to 1997-09-30), LL -9582.4.
FHL_2005 = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
# Gamma-Gamma: Fader & Hardie, "The Gamma-Gamma Model of Monetary Value" (2013, note 025), same 946 repeat buyers.
FH_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}


# -- fixtures: frames built in code ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cdnow_orders() -> pd.DataFrame:
    """The CDNOW sample lifetimes ships, through the workbook's own path: order lines -> build_orders."""
    path = Path(importlib.util.find_spec("lifetimes").origin).parent / "datasets" / "CDNOW_sample.txt"
    raw = pd.read_csv(path, sep=r"\s+", header=None, names=["cid", "cid2", "date", "cds", "dollars"],
                      dtype={"cid": str, "cid2": str, "date": str})
    lines = pd.DataFrame({
        "customer_id": raw["cid"],
        "order_id": raw.index.astype(str),
        "order_date": pd.to_datetime(raw["date"], format="%Y%m%d"),
        "amount": raw["dollars"].astype(float),
        "quantity": raw["cds"].astype(float),
    })
    return tables.build_orders(lines)


@pytest.fixture(scope="module")
def cdnow_summary(cdnow_orders) -> pd.DataFrame:
    return tables.build_customer_summary(cdnow_orders, "1997-09-30")


@pytest.fixture(scope="module")
def cdnow_model(cdnow_summary) -> clv.ClvModel:
    return clv.fit_clv(cdnow_summary, {"time_unit": "W"})


def simulate_lifetimes(n: int, *, seed: int, span_days: int = 500) -> pd.DataFrame:
    """BG/NBD customers with Gamma-Gamma spend (FHL's parameters), times in whole days, in weeks."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.243, 1 / 4.414, n)
    drop = rng.beta(0.793, 2.426, n)
    t_days = rng.integers(1, span_days, n)
    age = t_days / 7
    n_purchases = rng.poisson(lam * age)
    x = np.minimum(n_purchases, rng.geometric(drop))
    tx = np.zeros(n)
    buy = x > 0
    tx[buy] = age[buy] * rng.beta(x[buy], n_purchases[buy] - x[buy] + 1)
    nu = rng.gamma(3.74, 1 / 15.44, n)
    m = np.zeros(n)
    m[buy] = np.round(rng.gamma(6.25 * x[buy], 1 / (x[buy] * nu[buy])), 2) + 0.01
    return pd.DataFrame({"frequency": x, "recency": np.where(buy, np.minimum(np.ceil(tx * 7), t_days), 0) / 7,
                         "T": age, "monetary_value": m}, index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"))


def day_summary(lt: pd.DataFrame) -> pd.DataFrame:
    """A per-customer table (days) from lifetimes' inputs in weeks."""
    return pd.DataFrame({"customer_id": lt.index, "frequency": lt["frequency"].to_numpy(),
                         "recency": np.round(lt["recency"].to_numpy() * 7), "T": np.round(lt["T"].to_numpy() * 7),
                         "monetary_value": lt["monetary_value"].to_numpy()})


# -- published numbers -----------------------------------------------------------------------------------------
def test_cdnow_summary_matches_pymc_marketing_data_prep(cdnow_summary, cdnow_orders):
    # pymc-marketing's CDNOW check: 946 repeat buyers, mean repeat spend 35, median 27.
    repeat = cdnow_summary.loc[cdnow_summary["frequency"] > 0, "monetary_value"]
    assert len(repeat) == 946
    assert repeat.mean() == pytest.approx(35.08, abs=0.01)
    assert repeat.median() == pytest.approx(27.50, abs=0.01)
    # 2,357 customers in the file; the 8 whose only transactions are $0.00 are not purchasers here
    # (the workbook counts orders with a positive net amount), hence 2,349.
    assert cdnow_orders["customer_id"].nunique() == 2357
    assert len(cdnow_summary) == 2349


def test_bgnbd_matches_fader_hardie_lee_2005(cdnow_model):
    p = cdnow_model.params_["bgnbd"]
    for name, published in FHL_2005.items():
        assert p[name] == pytest.approx(published, rel=0.01), name
    # LL -9582.4 on 2,357 customers; ours has 8 fewer (no purchase), so within 0.1%
    assert p["log_likelihood"] == pytest.approx(-9582.4, rel=1e-3)
    assert cdnow_model.diagnostics_["bgnbd"]["penalizer"] == 0.0


def test_gamma_gamma_matches_fader_hardie_note_025(cdnow_model):
    p = cdnow_model.params_["gamma_gamma"]
    for name, published in FH_GAMMA_GAMMA.items():
        assert p[name] == pytest.approx(published, rel=0.01), name
    # Fader & Hardie report r = 0.11 between frequency and spend: the independence check passes
    assert cdnow_model.diagnostics_["correlation"] == pytest.approx(0.11, abs=0.01)
    assert not cdnow_model.diagnostics_["correlation_flag"]


def test_expected_purchases_matches_hardie_spreadsheet():
    # Hardie's BG/NBD spreadsheet: x = 2, t_x = 30.43, T = 38.86 weeks, t = 39 weeks -> 1.226 purchases.
    model = clv.ClvModel.from_dict({"bgnbd": FHL_2005, "gamma_gamma": FH_GAMMA_GAMMA, "time_unit": "W"})
    one = pd.DataFrame({"customer_id": ["x"], "frequency": [2], "recency": [30.43 * 7], "T": [38.86 * 7],
                        "monetary_value": [20.0]})
    assert model.expected_orders(one, horizon_days=39 * 7).iloc[0] == pytest.approx(1.226, abs=5e-4)
    # the same in days (the time unit only rescales alpha)
    days = clv.ClvModel.from_dict({"bgnbd": {**FHL_2005, "alpha": FHL_2005["alpha"] * 7},
                                   "gamma_gamma": FH_GAMMA_GAMMA, "time_unit": "D"})
    assert days.expected_orders(one, horizon_days=39 * 7).iloc[0] == pytest.approx(1.226, abs=5e-4)
    # Gamma-Gamma eq. 5 by hand: weight p x / (p x + q - 1) on the customer's own mean
    w = 6.25 * 2 / (6.25 * 2 + 3.74 - 1)
    hand = (1 - w) * 15.44 * 6.25 / (3.74 - 1) + w * 20.0
    assert model.expected_order_value(one).iloc[0] == pytest.approx(hand, rel=1e-12)


# -- fitting on distinct rows --------------------------------------------------------------------------------
def test_weighted_fit_matches_plain_lifetimes_fit():
    lib = clv_fit.lifetimes_module()
    lt = simulate_lifetimes(4000, seed=3)
    model = clv.ClvModel().fit_lifetimes(lt)
    assert model.diagnostics_["bgnbd"]["rows"] < len(lt)  # there were duplicates to collapse
    with clv_fit.quiet():  # the stock fitters set warning filters on every call
        stock = lib.BetaGeoFitter().fit(lt["frequency"], lt["recency"], lt["T"])
        rep = lt.loc[lt["frequency"] > 0]
        gstock = lib.GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    for name in ("r", "alpha", "a", "b"):
        assert model.params_["bgnbd"][name] == pytest.approx(stock.params_[name], rel=1e-4), name
        # standard errors: central differences of the gradient vs lifetimes' autograd Hessian
        assert model.params_["bgnbd"]["std_errors"][name] == pytest.approx(stock.standard_errors_[name], rel=1e-4)
    for name in ("p", "q", "v"):
        assert model.params_["gamma_gamma"][name] == pytest.approx(gstock.params_[name], rel=1e-4), name
        assert model.params_["gamma_gamma"]["std_errors"][name] == pytest.approx(gstock.standard_errors_[name],
                                                                                 rel=1e-4)


def random_bgnbd_rows(n: int, seed: int) -> tuple[np.ndarray, ...]:
    """Random (x, t_x, T, weights) rows as lifetimes receives them (time scaled to max T = 1), a third x = 0."""
    rng = np.random.default_rng(seed)
    x = np.where(rng.random(n) < 1 / 3, 0, rng.integers(1, 60, n))
    days = rng.integers(1, 730, n)
    rec = np.where(x > 0, np.floor(rng.random(n) * (days + 1)), 0.0)
    return x, rec / days.max(), days / days.max(), rng.integers(1, 50, n)


@pytest.mark.parametrize("penalizer", [0.0, 0.05])
def test_bgnbd_objective_matches_lifetimes_likelihood(penalizer):
    """The unique-value rewrite of FHL (2005) eq. 6 against lifetimes' own function and autograd gradient."""
    from autograd import value_and_grad

    lib = clv_fit.lifetimes_module()
    rng = np.random.default_rng(11)
    args = (*random_bgnbd_rows(5000, seed=12), penalizer)
    objective = clv_fit.bgnbd_objective(*args)
    for log_params in rng.normal(0.0, 1.5, (6, 4)):
        with clv_fit.quiet():
            value, gradient = value_and_grad(lib.BetaGeoFitter._negative_log_likelihood)(log_params, *args)
        ours, our_gradient = objective(log_params)
        assert ours == pytest.approx(value, rel=1e-10)
        np.testing.assert_allclose(our_gradient, gradient, rtol=1e-8, atol=1e-12 * np.abs(gradient).max())


@pytest.mark.parametrize("penalizer", [0.0, 0.05])
def test_gamma_gamma_objective_matches_lifetimes_likelihood(penalizer):
    """The unique-value rewrite of Fader & Hardie's (2013) eq. 1a against lifetimes' function and gradient."""
    from autograd import value_and_grad

    lib = clv_fit.lifetimes_module()
    rng = np.random.default_rng(13)
    x = rng.integers(1, 60, 5000).astype(float)
    args = (x, np.round(rng.gamma(2.0, 20.0, 5000), 2) + 0.01, rng.integers(1, 50, 5000), penalizer)
    objective = clv_fit.gamma_gamma_objective(*args)
    for log_params in rng.normal(1.0, 1.0, (6, 3)):
        with clv_fit.quiet():
            value, gradient = value_and_grad(lib.GammaGammaFitter._negative_log_likelihood)(log_params, *args)
        ours, our_gradient = objective(log_params)
        assert ours == pytest.approx(value, rel=1e-10)
        np.testing.assert_allclose(our_gradient, gradient, rtol=1e-8, atol=1e-12 * np.abs(gradient).max())


def test_objective_hessian_matches_lifetimes_autograd_hessian():
    """Central differences of the analytic gradient against autograd's Hessian of lifetimes' likelihood."""
    from autograd import hessian

    lib = clv_fit.lifetimes_module()
    args = (*random_bgnbd_rows(3000, seed=14), 0.0)
    log_params = np.log([0.3, 0.5, 0.8, 2.5])
    with clv_fit.quiet():
        expected = hessian(lib.BetaGeoFitter._negative_log_likelihood)(log_params, *args)
    objective = clv_fit.bgnbd_objective(*args)
    got = clv_fit.central_hessian(lambda p: objective(p)[1], log_params)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9 * np.abs(expected).max())


def test_warm_started_fit_matches_cold_fit(monkeypatch):
    lt = simulate_lifetimes(4000, seed=5)
    cold = clv.ClvModel().fit_lifetimes(lt)
    monkeypatch.setattr(clv_fit, "WARM_START_ROWS", 100)
    monkeypatch.setattr(clv_fit, "SUBSAMPLE_CUSTOMERS", 1000)
    warm = clv.ClvModel().fit_lifetimes(lt)
    assert warm.diagnostics_["bgnbd"]["attempts"][-1]["start"] == "subsample"
    for name in ("r", "alpha", "a", "b"):
        assert warm.params_["bgnbd"][name] == pytest.approx(cold.params_["bgnbd"][name], rel=1e-4), name


def test_patterns_rebuild_every_row():
    a = np.array([1, 1, 2, 1, 2])
    b = np.array([0.5, 0.5, 1.0, 0.5, 2.0])
    (da, db), w, inv = clv.patterns([a, b])
    assert w.tolist() == [3, 1, 1]
    np.testing.assert_array_equal(da[inv], a)
    np.testing.assert_array_equal(db[inv], b)


def test_non_convergence_retries_with_penalizer_and_says_so(monkeypatch):
    ConvergenceError = clv_fit.lifetimes_module().utils.ConvergenceError  # noqa: N806
    real = clv_fit.fit_once

    def fail_unpenalized(kind, arrays, weights, *, penalizer, warm, seed):
        if kind == "bgnbd" and penalizer == 0.0:
            raise ConvergenceError("The model did not converge.")
        return real(kind, arrays, weights, penalizer=penalizer, warm=warm, seed=seed)

    monkeypatch.setattr(clv_fit, "fit_once", fail_unpenalized)
    model = clv.ClvModel().fit_lifetimes(simulate_lifetimes(1500, seed=1))
    attempts = model.diagnostics_["bgnbd"]["attempts"]
    assert [a["status"] for a in attempts] == ["failed", "converged"]
    assert model.diagnostics_["bgnbd"]["penalizer"] == 0.001
    assert ("clv.note.bgnbd_penalized", {"penalizer": 0.001}) in model.notes()


def test_no_repeat_buyers_is_a_data_error():
    lt = pd.DataFrame({"frequency": [0, 0, 0], "recency": [0.0, 0, 0], "T": [3.0, 4, 5], "monetary_value": 0.0})
    with pytest.raises(DataError, match="needs customers with repeat purchases: 3 customer"):
        clv.ClvModel().fit_lifetimes(lt)


def test_correlated_spend_is_flagged():
    lt = simulate_lifetimes(1500, seed=2)
    lt["monetary_value"] = np.where(lt["frequency"] > 0, 10.0 + 5.0 * lt["frequency"], 0.0)
    model = clv.ClvModel().fit_lifetimes(lt)
    assert model.diagnostics_["correlation"] > 0.3 and model.diagnostics_["correlation_flag"]
    assert any(key == "clv.note.correlation_high" for key, _ in model.notes())


def test_too_few_repeat_buyers_fall_back_to_own_mean():
    lt = simulate_lifetimes(60, seed=4)
    model = clv.ClvModel(min_repeat_buyers=1000).fit_lifetimes(lt)
    assert model.gamma_gamma_ is None and model.diagnostics_["gamma_gamma"]["status"] == "too_few"
    value = model._order_value(lt["frequency"].to_numpy(), lt["monetary_value"].to_numpy())
    buyers = lt["frequency"].to_numpy() > 0
    np.testing.assert_allclose(value[buyers], lt["monetary_value"].to_numpy()[buyers])
    assert np.allclose(value[~buyers], lt.loc[buyers, "monetary_value"].mean())


# -- data preparation ------------------------------------------------------------------------------------------
def test_lifetimes_summary_converts_days_to_weeks():
    cs = pd.DataFrame({"customer_id": ["a", "b"], "frequency": [0, 3], "recency": [0, 14], "T": [7, 70],
                       "monetary_value": [0.0, 12.5]})
    out = clv.lifetimes_summary(cs, time_unit="W")
    expected = pd.DataFrame({"frequency": [0, 3], "recency": [0.0, 2.0], "T": [1.0, 10.0],
                             "monetary_value": [0.0, 12.5]}, index=pd.Index(["a", "b"], name="customer_id"))
    pd.testing.assert_frame_equal(out, expected)
    assert clv.lifetimes_summary(cs, time_unit="D")["T"].tolist() == [7.0, 70.0]


def test_lifetimes_summary_errors_name_customers():
    cs = pd.DataFrame({"customer_id": ["a", "b"], "frequency": [1, 2], "recency": [5, 80], "T": [7, 70],
                       "monetary_value": [1.0, 2.0]})
    with pytest.raises(DataError, match=r"recency > T .* for 1 customer\(s\), e.g. b"):
        clv.lifetimes_summary(cs)
    with pytest.raises(DataError, match="lacks the column"):
        clv.lifetimes_summary(cs.drop(columns="T"))
    with pytest.raises(ParamsError, match="'clv.time_unit' must be 'W'"):
        clv.lifetimes_summary(cs, time_unit="M")


def test_calibration_holdout_on_hand_built_frame():
    d = pd.Timestamp
    orders = pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "a", "b", "b", "c", "d"],
        "order_date": [d("2024-01-01"), d("2024-01-01"), d("2024-01-15"), d("2024-02-05"), d("2024-03-10"),
                       d("2024-01-29"), d("2024-02-20"), d("2024-02-10"), d("2024-01-08")],
        "amount": [10.0, 5.0, 20.0, -3.0, 40.0, 7.0, 9.0, 11.0, 50.0],
        "is_purchase": [True, True, True, False, True, True, True, True, True],
    })
    out = clv.calibration_holdout(orders, calibration_end="2024-01-31", holdout_end="2024-03-31", time_unit="D")
    # c first buys after the calibration end: not in the calibration sample
    assert out.index.tolist() == ["a", "b", "d"]
    a = out.loc["a"]
    # a: purchase days 1 Jan (10 + 5) and 15 Jan; the -3 return on 5 Feb is not a purchase; 10 Mar in holdout
    assert (a["frequency_cal"], a["recency_cal"], a["T_cal"]) == (1, 14.0, 30.0)
    assert a["monetary_value_cal"] == 20.0
    assert (a["frequency_holdout"], a["spend_holdout"], a["monetary_value_holdout"]) == (1, 40.0, 40.0)
    b = out.loc["b"]
    assert (b["frequency_cal"], b["recency_cal"], b["T_cal"], b["monetary_value_cal"]) == (0, 0.0, 2.0, 0.0)
    assert (b["frequency_holdout"], b["spend_holdout"]) == (1, 9.0)
    assert out.loc["d", "frequency_holdout"] == 0 and out.loc["d", "monetary_value_holdout"] == 0.0
    assert (out["duration_holdout"] == 60.0).all()
    weeks = clv.calibration_holdout(orders, calibration_end="2024-01-31", holdout_end="2024-03-31")
    assert weeks.loc["a", "T_cal"] == pytest.approx(30 / 7)
    with pytest.raises(ParamsError, match="holdout end 2024-01-01 must be after the calibration end"):
        clv.calibration_holdout(orders, calibration_end="2024-01-31", holdout_end="2024-01-01")


# -- discounting -----------------------------------------------------------------------------------------------
def test_monthly_schedule_matches_hand_computation():
    ends, factors = clv.monthly_schedule(365, 0.1268250301319698)  # 1.01 ** 12 - 1: 1% a month
    assert len(ends) == 12
    assert ends[0] == pytest.approx(30.4375) and ends[-1] == 365.0
    np.testing.assert_allclose(factors, 1.01 ** -np.arange(1, 13))
    ends, factors = clv.monthly_schedule(45, 0.0)
    np.testing.assert_allclose(ends, [30.4375, 45.0])
    np.testing.assert_allclose(factors, [1.0, 1.0])
    with pytest.raises(ParamsError, match="'clv.annual_discount_rate' must be a yearly rate"):
        clv.monthly_schedule(365, -0.1)


def test_clv_discounting_matches_hand_computation():
    model = clv.ClvModel.from_dict({"bgnbd": FHL_2005, "gamma_gamma": FH_GAMMA_GAMMA, "time_unit": "W"})
    one = pd.DataFrame({"customer_id": ["x"], "frequency": [2], "recency": [213], "T": [272],
                        "monetary_value": [20.0]})
    month = 365.25 / 12
    cumulative = [0.0] + [model.expected_orders(one, horizon_days=k * month).iloc[0] for k in (1, 2, 3)]
    value = model.expected_order_value(one).iloc[0]
    hand = sum(value * (cumulative[k] - cumulative[k - 1]) / 1.01 ** k for k in (1, 2, 3))
    got = model.clv(one, horizon_days=3 * month, annual_discount_rate=1.01 ** 12 - 1).iloc[0]
    assert got == pytest.approx(hand, rel=1e-10)
    # no discounting: expected orders over the horizon times the expected order value
    flat = model.clv(one, horizon_days=365, annual_discount_rate=0.0).iloc[0]
    assert flat == pytest.approx(model.expected_orders(one, horizon_days=365).iloc[0] * value, rel=1e-10)


def test_margin_basis_scales_clv(cdnow_summary):
    cs = cdnow_summary.assign(margin=cdnow_summary["revenue"] * 0.25)
    rev = clv.fit_clv(cs, {})
    mar = clv.fit_clv(cs, {"value": "margin"})
    fixed = clv.fit_clv(cdnow_summary, {"value": "margin", "margin_rate": 0.4})
    kw = {"horizon_days": 365, "annual_discount_rate": 0.1}
    assert mar.margin_rate_ == pytest.approx(0.25)
    np.testing.assert_allclose(mar.clv(cs, **kw), 0.25 * rev.clv(cs, **kw), rtol=1e-6)
    np.testing.assert_allclose(fixed.clv(cs, **kw), 0.4 * rev.clv(cs, **kw), rtol=1e-6)
    unknown = clv.fit_clv(cdnow_summary.assign(margin=np.nan), {"value": "margin"})
    assert unknown.margin_rate_ == 1.0 and ("clv.note.basis_margin_unknown", {"rate": 1.0}) in unknown.notes()


def test_params_are_checked():
    with pytest.raises(ParamsError, match="Unknown params key"):
        clv.resolve_params({"horizon": 365})
    with pytest.raises(ParamsError, match="'clv.horizon_days' must be a positive number"):
        clv.resolve_params({"horizon_days": 0})
    with pytest.raises(ParamsError, match="'clv.value' must be 'revenue' or 'margin'"):
        clv.ClvModel(value="profit")
    with pytest.raises(ParamsError, match="'clv.margin_rate' must be a share"):
        clv.ClvModel(margin_rate=25)


# -- persistence and the export table --------------------------------------------------------------------------
def test_to_dict_round_trip_predicts_the_same(cdnow_model, cdnow_summary):
    d = json.loads(json.dumps(cdnow_model.to_dict()))
    for key in ("bgnbd", "gamma_gamma", "time_unit", "horizon_days", "n_customers"):
        assert key in d
    assert set(FHL_2005) | {"log_likelihood"} <= set(d["bgnbd"]) and set(FH_GAMMA_GAMMA) <= set(d["gamma_gamma"])
    again = clv.ClvModel.from_dict(d)
    kw = {"horizon_days": 365, "annual_discount_rate": 0.1}
    pd.testing.assert_frame_equal(clv.clv_table(again, cdnow_summary, **kw), clv.clv_table(cdnow_model, cdnow_summary, **kw))
    assert again.notes() == cdnow_model.notes()


def test_clv_table_columns_and_sanity(cdnow_model, cdnow_summary):
    out = clv.clv_table(cdnow_model, cdnow_summary, horizon_days=365, annual_discount_rate=0.1)
    assert out.columns.tolist() == ["customer_id", "p_alive", "expected_orders", "expected_order_value", "clv"]
    assert len(out) == len(cdnow_summary) and out["customer_id"].tolist() == cdnow_summary["customer_id"].tolist()
    assert out["p_alive"].between(0, 1).all() and (out["clv"] >= 0).all()
    assert (out.loc[cdnow_summary["frequency"].to_numpy() == 0, "p_alive"] == 1.0).all()
    # discounting lowers the value, never below the 1-year undiscounted value / 1.1
    flat = cdnow_model.clv(cdnow_summary, horizon_days=365, annual_discount_rate=0.0).to_numpy()
    assert np.all(out["clv"].to_numpy() <= flat + 1e-9) and np.all(out["clv"].to_numpy() >= flat / 1.1 - 1e-9)


def test_probability_alive_matrix_shape(cdnow_model):
    mat = cdnow_model.probability_alive_matrix(max_frequency=7, max_recency_days=272, T_days=272)
    assert mat.shape == (39, 8) and mat.columns.tolist() == list(range(8))
    assert (mat[0] == 1.0).all()
    # recent buyers are likelier alive than lapsed ones with the same frequency
    assert mat.loc[mat.index.max(), 3] > mat.loc[mat.index.min(), 3]
    assert math.isclose(mat.loc[0.0, 1], cdnow_model._alive(np.array([1]), np.array([0.0]), np.array([272 / 7]))[0])


# -- validation, groups, CAC:LTV (crmlib.clv.analysis) ------------------------------------------------------------
def test_holdout_validation_on_cdnow_reuses_the_calibration_fit(cdnow_orders, cdnow_model, cdnow_summary):
    # FHL's design: calibrate to 1997-09-30, hold out weeks 40-78 (273 days, to 1998-06-30)
    result = clv_analysis.holdout_validation(cdnow_orders, as_of="1998-06-30", params={"holdout_days": 273})
    assert result.status == "ok" and result.calibration_end == pd.Timestamp("1997-09-30")
    for name in ("r", "alpha", "a", "b"):  # the calibration data are the test above's: same fit
        assert result.model.params_["bgnbd"][name] == pytest.approx(cdnow_model.params_["bgnbd"][name], rel=1e-6)
    expected = cdnow_model.expected_orders(cdnow_summary, horizon_days=273).sum()
    assert result.totals["predicted_orders"] == pytest.approx(expected, rel=1e-9)
    # actual: purchase days after the calibration end, counted straight from the orders
    later = cdnow_orders.loc[cdnow_orders["is_purchase"] & (cdnow_orders["order_date"] > "1997-09-30")]
    assert result.totals["actual_orders"] == later.drop_duplicates(["customer_id", "order_date"]).shape[0] == 1882
    # measured: 1,653 predicted vs 1,882 actual purchase days (-12.1%), spend -15.6%
    assert result.totals["orders_error"] == pytest.approx(-0.121, abs=0.005)
    assert result.by_frequency["group"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert result.by_frequency["n_customers"].sum() == 2349


def test_holdout_validation_says_when_history_is_too_short(cdnow_orders):
    result = clv_analysis.holdout_validation(cdnow_orders, as_of="1997-03-01", params={"holdout_days": 120})
    assert result.status == "too_short" and result.model is None


def test_cac_ltv_matches_hand_computation():
    marketing = pd.DataFrame({"month": ["2024-01", "2024-02", "2024-01", "2024-02"],
                              "channel": ["Fuar", "Fuar", "Web", "Web"],
                              "spend": [1000.0, 500.0, 300.0, 300.0], "new_customers": [3, 2, 6, 6]})
    table = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "clv": [900.0, 300.0, 200.0, 0.0]})
    out = clv_analysis.cac_ltv(marketing, table)
    fuar = out.loc[out["channel"] == "Fuar"].iloc[0]
    assert (fuar["spend"], fuar["new_customers"], fuar["cac"]) == (1500.0, 5, 300.0)
    assert fuar["ltv"] == 350.0 and fuar["ltv_basis"] == "overall"
    assert fuar["ltv_to_cac"] == pytest.approx(350 / 300) and fuar["below_target"]
    web = out.loc[out["channel"] == "Web"].iloc[0]
    assert web["cac"] == 50.0 and web["ltv_to_cac"] == 7.0 and not web["below_target"]
    customers = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "channel": ["Fuar", "Fuar", "Web", "Web"]})
    per = clv_analysis.cac_ltv(marketing, table, customers=customers).set_index("channel")
    assert per.loc["Fuar", "ltv"] == 600.0 and per.loc["Web", "ltv"] == 100.0
    assert (per["ltv_basis"] == "channel").all()
    one = clv_analysis.cac_ltv(marketing.drop(columns="channel"), table)
    assert len(one) == 1 and pd.isna(one["channel"].iloc[0]) and one["cac"].iloc[0] == 2100 / 17
    with pytest.raises(DataError, match="marketing lacks the column"):
        clv_analysis.cac_ltv(marketing.drop(columns="new_customers"), table)


def test_clv_by_group_and_top_customers(cdnow_model, cdnow_summary):
    table = clv.clv_table(cdnow_model, cdnow_summary, horizon_days=365, annual_discount_rate=0.1)
    groups = pd.Series(np.where(cdnow_summary["frequency"] > 0, "repeat", "once"), index=cdnow_summary["customer_id"])
    by = clv_analysis.clv_by_group(table, groups, order=["repeat", "once"])
    assert by["group"].tolist() == ["repeat", "once"] and by["n_customers"].sum() == len(table)
    assert by["clv_share"].sum() == pytest.approx(1.0)
    assert by["total_clv"].sum() == pytest.approx(table["clv"].sum())
    # BG/NBD gives every one-time buyer P(alive) = 1: over all customers a group of them looks all active
    assert by.set_index("group").loc["once", "mean_p_alive"] == 1.0
    repeat = clv_report.repeat_buyers(table, cdnow_summary)
    assert repeat.sum() == (cdnow_summary["frequency"] > 0).sum()
    mixed = pd.Series(np.where(np.arange(len(table)) % 2, "odd", "even"), index=cdnow_summary["customer_id"])
    on_repeat = clv_analysis.clv_by_group(table, mixed, repeat=repeat).set_index("group")
    for name, rows in (("odd", np.arange(len(table)) % 2 == 1), ("even", np.arange(len(table)) % 2 == 0)):
        expected = table.loc[rows & repeat, "p_alive"].mean()
        assert on_repeat.loc[name, "mean_p_alive"] == pytest.approx(expected)
        assert on_repeat.loc[name, "n_customers"] == rows.sum()  # every customer still counted
    assert expected < table.loc[rows, "p_alive"].mean()  # the one-time buyers' 1.0 no longer lifts it
    # a group of one-time buyers only has no average (shown as a dash), not 100 %
    only_once = clv_analysis.clv_by_group(table, groups, repeat=repeat).set_index("group")
    assert np.isnan(only_once.loc["once", "mean_p_alive"])
    assert only_once.loc["once", "total_clv"] == by.set_index("group").loc["once", "total_clv"]
    top = clv_analysis.top_customers(table, cdnow_summary, n=5)
    assert len(top) == 5 and top["clv"].is_monotonic_decreasing
    assert top["clv"].iloc[0] == table["clv"].max()


def test_summary_lines_in_both_languages(cdnow_model, cdnow_summary):
    table = clv.clv_table(cdnow_model, cdnow_summary, horizon_days=365, annual_discount_rate=0.1)
    cac = pd.DataFrame({"channel": ["Fuar"], "ltv_to_cac": [1.2], "below_target": [True]})
    for lang in ("tr", "en"):
        lines = clv_report.summary_lines(table, cdnow_model, None, cac, customer_summary=cdnow_summary,
                                         lang=lang, currency="TRY",
                                         horizon_days=365, annual_discount_rate=0.1)
        assert len(lines) == 4 and "Fuar" in lines[-1]
    assert lines[0].startswith("Over the next 365 days the 2,349 customers")
    for key, values in cdnow_model.notes():
        assert clv_report.note_text(key, values, "tr")


# -- the generated sample against its truth --------------------------------------------------------------------
def test_expected_orders_match_sample_truth(sample_ctx, sample_dir):
    """Expected purchase days in the next 365 days vs the simulation's orders_next_365d.

    Measured on the 2,000-customer sample (seed 7): 17,861 expected vs 17,175 actual orders, +4.0%. The
    sample's process is not a BG/NBD (purchase rates decay before drop-out, big accounts), so a 10%
    tolerance: about twice the measured error, and well under the error that a wrong time unit or a
    mis-built summary produces (they are off by a factor).
    """
    model = sample_ctx.clv_model()
    table = clv.clv_table(model, sample_ctx.customer_summary, horizon_days=365, annual_discount_rate=0.1)
    truth = pd.read_csv(sample_dir / "truth.csv", dtype={"customer_id": str})
    joined = table.merge(truth, on="customer_id", how="inner")
    assert len(joined) == len(table)
    error = joined["expected_orders"].sum() / joined["orders_next_365d"].sum() - 1
    assert abs(error) < 0.10, f"aggregate error {error:+.1%}"
    # and customer by customer the forecast ranks who will buy: Spearman rho well above 0.5
    assert joined["expected_orders"].corr(joined["orders_next_365d"], method="spearman") > 0.6


def test_activity_bands_count_repeat_buyers_only_and_shares_add_up():
    table = pd.DataFrame({"customer_id": list("abcdef"), "p_alive": [0.1, 0.3, 0.6, 0.9, 1.0, 1.0],
                          "clv": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    summary = pd.DataFrame({"customer_id": list("abcdef"), "frequency": [3, 2, 1, 4, 5, 0],
                            "revenue": [100.0, 300.0, 200.0, 400.0, 0.0, 999.0]})
    bands = clv_analysis.activity_bands(table, summary)
    assert bands["n_customers"].tolist() == [1, 1, 1, 2]  # f, a one-time buyer, is left out
    assert bands["revenue"].tolist() == [100.0, 300.0, 200.0, 400.0]
    assert bands["customer_share"].sum() == pytest.approx(1.0) and bands["revenue_share"].sum() == pytest.approx(1.0)
    assert clv_report.band_label(0.0, 0.25, "tr") == "Büyük olasılıkla kaybedildi (%25'in altı)"
    assert clv_report.band_label(0.75, 1.0, "en") == "Active (75% or more)"
    from crmlib.clv import plots

    ax = plots.plot_activity_bands(bands, lang="tr")
    assert [p.get_width() for p in ax.patches][::-1] == [1, 1, 1, 2]


@pytest.mark.parametrize("params", [(0.24, 4.4, 0.79, 2.43), (0.55, 23.8, 2.68, 10.8), (2.0, 0.5, 0.3, 0.9)])
def test_bgnbd_expected_purchases_are_lifetimes_bit_for_bit(params):
    """Conditional expected purchases with the hypergeometric terms over distinct (x, T): lifetimes' values
    exactly, many customers sharing (x, T) and some with huge x (the fallback formula)."""
    lib = clv_fit.lifetimes_module()
    rng = np.random.default_rng(4)
    n = 5000
    x = np.where(rng.random(n) < 0.5, 0, rng.poisson(3, n)).astype(np.int64)
    x[:20] = rng.integers(150, 400, 20)
    age = rng.integers(1, 150, n) / 7.0 * 7
    rec = np.where(x > 0, age * rng.random(n), 0.0)
    fitter = clv_fit.make_fitter("bgnbd", dict(zip(["r", "alpha", "a", "b"], params, strict=True)))
    stock = lib.BetaGeoFitter()
    stock.params_ = fitter.params_
    for t in (4.0, 26.0, 52.0):
        with clv_fit.quiet():
            ours = fitter.conditional_expected_number_of_purchases_up_to_time(t, x, rec, age)
            theirs = stock.conditional_expected_number_of_purchases_up_to_time(t, x, rec, age)
        assert np.array_equal(ours, theirs, equal_nan=True)


def _calibration_holdout_on_ids(orders, *, calibration_end, holdout_end, time_unit="W"):
    """The previous calibration/holdout split (grouped on the ids themselves): the oracle of the coded one."""
    days = clv.UNITS[time_unit]
    cal_end, hold_end = pd.Timestamp(calibration_end), pd.Timestamp(holdout_end)
    frame = orders.loc[orders["is_purchase"].astype(bool), ["customer_id", "order_date", "amount"]]
    daily = (frame.assign(order_date=pd.to_datetime(frame["order_date"]).dt.normalize())
             .groupby(["customer_id", "order_date"], sort=True, observed=True)["amount"].sum().reset_index())
    daily = daily.loc[daily["order_date"] <= hold_end]
    cal, hold = daily.loc[daily["order_date"] <= cal_end], daily.loc[daily["order_date"] > cal_end]
    grouped = cal.groupby("customer_id", sort=True)
    first, last, n_days, total = (grouped["order_date"].min(), grouped["order_date"].max(), grouped.size(),
                                  grouped["amount"].sum())
    first_amount = cal.drop_duplicates("customer_id", keep="first").set_index("customer_id")["amount"]
    repeat = n_days - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = ((total - first_amount.reindex(total.index)) / repeat).where(repeat > 0, 0.0)
    out = pd.DataFrame({"frequency_cal": repeat.astype(np.int64), "recency_cal": (last - first).dt.days / days,
                        "T_cal": (cal_end - first).dt.days / days, "monetary_value_cal": monetary.astype(float)})
    h = hold.groupby("customer_id", sort=True)["amount"].agg(["size", "sum"]).reindex(out.index)
    out["frequency_holdout"] = h["size"].fillna(0).astype(np.int64)
    out["spend_holdout"] = h["sum"].fillna(0.0).astype(float)
    out["monetary_value_holdout"] = (out["spend_holdout"] / out["frequency_holdout"]).where(
        out["frequency_holdout"] > 0, 0.0)
    out["duration_holdout"] = (hold_end - cal_end).days / days
    out.index = out.index.astype(str)
    out.index.name = "customer_id"
    return out


@pytest.mark.parametrize("variant", ["shuffled", "sorted", "object_ids", "missing_dates"])
@pytest.mark.parametrize("seed", range(3))
def test_calibration_holdout_on_codes_equals_grouping_on_ids(seed, variant):
    """Ids of every kind (Turkish letters, upper and lower case, digits, dotted account codes, spaces),
    several orders a day, returns, orders after the holdout: the same frame as grouping on the ids, bit for
    bit; orders in any order (sorted by customer and date: pandas sums sorted groups another way), ids as
    Arrow or Python strings, orders without a date (in no group)."""
    rng = np.random.default_rng(seed)
    pool = np.array(["120.01.00042", "120.01.00042 ", "Çiçek", "çiçek", "ÇİÇEK", "ışık", "Z9", "a", "A", "10", "9",
                     "müşteri-7", "b b"] + [f"C{i:03d}" for i in range(60)], dtype=object)
    n = 4000
    orders = pd.DataFrame({
        "customer_id": pd.Series(rng.choice(pool, n), dtype="str"),
        "order_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
        + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s"),
        "amount": np.round(rng.lognormal(5, 1, n), 2) * rng.choice([1, -1], n, p=[0.95, 0.05]),
    })
    orders["is_purchase"] = orders["amount"] > 0
    if variant == "sorted":
        orders = orders.sort_values(["customer_id", "order_date"], kind="stable").reset_index(drop=True)
    elif variant == "object_ids":
        orders["customer_id"] = orders["customer_id"].astype(object)
    elif variant == "missing_dates":
        orders.loc[rng.choice(n, 40, replace=False), "order_date"] = pd.NaT
    ends = {"calibration_end": pd.Timestamp("2025-06-01"), "holdout_end": pd.Timestamp("2025-09-01")}
    ours = clv.calibration_holdout(orders, time_unit="W", **ends)
    pd.testing.assert_frame_equal(ours, _calibration_holdout_on_ids(orders, **ends), check_exact=True)
    assert len(ours) > 50


def test_activity_bands_equal_the_map_based_version():
    """Customers looked up once by position: the same bands as with one ``Series.map`` per column (table in
    another order, a customer missing from the summary)."""
    rng = np.random.default_rng(0)
    n = 3000
    summary = pd.DataFrame({"customer_id": pd.Series([f"c{i}" for i in range(n)], dtype="str"),
                            "frequency": rng.poisson(1, n), "revenue": rng.lognormal(5, 1, n)})
    table = pd.DataFrame({"customer_id": pd.Series([f"c{i}" for i in rng.permutation(n)] + ["zz"], dtype="str"),
                          "p_alive": rng.random(n + 1), "clv": rng.lognormal(4, 1, n + 1)})
    for frame in (table.iloc[:n], table):
        info = summary.set_index("customer_id")
        merged = frame.assign(frequency=frame["customer_id"].map(info["frequency"]),
                              revenue=frame["customer_id"].map(info["revenue"]))
        repeat = merged.loc[merged["frequency"] > 0]
        edges = [0.0, *clv_analysis.ACTIVITY_BANDS, 1.0 + 1e-9]
        grouped = repeat.groupby(pd.cut(repeat["p_alive"], edges, right=False, labels=False))
        out = clv_analysis.activity_bands(frame, summary)
        assert out["n_customers"].tolist() == [int(grouped.size().get(k, 0)) for k in range(4)]
        assert np.array_equal(out["revenue"].to_numpy(), [grouped["revenue"].sum().get(k, 0.0) for k in range(4)])
        assert np.array_equal(out["clv"].to_numpy(), [grouped["clv"].sum().get(k, 0.0) for k in range(4)])
