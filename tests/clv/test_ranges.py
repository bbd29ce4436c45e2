"""CLV ranges (crmlib/clv/ranges.py): coverage of the 10-90% ranges on simulated customers' next period."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlib import clv
from crmlib.clv import ranges


def _simulate(n: int, *, seed: int, t_obs: float = 360.0, t_next: float = 180.0) -> pd.DataFrame:
    """BG/NBD purchases (r 0.24, alpha 31 days, a 0.79, b 2.43) with Gamma-Gamma spend (p 6.25, q 3.74,
    v 15.44: Fader & Hardie's CDNOW values); observed over (0, t_obs], spend of (t_obs, t_obs + t_next]."""
    rng = np.random.default_rng(seed)
    lam, drop = rng.gamma(0.24, 1 / 31.0, n), rng.beta(0.79, 2.43, n)
    nu = rng.gamma(3.74, 1 / 15.44, n)
    x, last, spent, future = np.zeros(n, int), np.zeros(n), np.zeros(n), np.zeros(n)
    now, active = np.zeros(n), np.ones(n, bool)
    while active.any():
        i = np.flatnonzero(active)
        now[i] += rng.exponential(1 / lam[i])
        value = rng.gamma(6.25, 1 / nu[i])
        seen, nxt = i[now[i] <= t_obs], (now[i] > t_obs) & (now[i] <= t_obs + t_next)
        x[seen] += 1
        last[seen] = now[seen]
        spent[seen] += value[now[i] <= t_obs]
        future[i[nxt]] += value[nxt]
        active[i[now[i] > t_obs + t_next]] = False
        gone = i[rng.random(len(i)) < drop[i]]
        active[gone] = False
    return pd.DataFrame({"customer_id": [f"c{k}" for k in range(n)], "frequency": x, "recency": last,
                         "T": t_obs, "monetary_value": np.where(x > 0, spent / np.maximum(x, 1), 0.0),
                         "future_spend": future})


def test_ranges_cover_the_simulated_next_period():
    """8,000 simulated customers: the per-customer 10-90% range holds the next 180 days' actual spend for
    about 80% of them (accepted 0.75-0.95: zero spend inside a range starting at 0 adds to it), and the
    total's range holds the actual total."""
    sim = _simulate(8000, seed=11)
    model = clv.fit_clv(sim, {"value": "revenue"})
    lt = sim[["frequency", "recency", "T", "monetary_value"]].assign(
        recency=sim["recency"] / 7, T=sim["T"] / 7).set_index(sim["customer_id"])
    lo, hi, totals = ranges.simulate_spend(model, lt, horizon=180 / 7, draws=300, seed=1)
    actual = sim["future_spend"].to_numpy()
    coverage = ((actual >= lo) & (actual <= hi)).mean()
    assert 0.75 <= coverage <= 0.95, coverage
    # the upper tail: about 10% of customers spend more than their 90th percentile
    assert 0.05 <= (actual > hi).mean() <= 0.15, (actual > hi).mean()
    assert np.percentile(totals, 5) <= actual.sum() <= np.percentile(totals, 95)
    assert (lo <= hi).all()


def test_holdout_coverage_on_the_comparison_sample():
    """The holdout check of the ranges on the model comparison's seeded subset: about 80% of the sampled
    customers inside their range, the sample's actual total inside (or near) its range, and the subset is the
    comparison's (:func:`crmlib.clv.choice.comparison_rows`)."""
    from types import SimpleNamespace

    from crmlib.clv import choice

    sim = _simulate(6000, seed=12)
    model = clv.fit_clv(sim, {"value": "revenue"})
    lt = sim[["frequency", "recency", "T", "monetary_value"]].assign(recency=sim["recency"] / 7, T=sim["T"] / 7)
    validation = SimpleNamespace(model=model, lt=lt, holdout_days=180,
                                 customers=pd.DataFrame({"actual_spend": sim["future_spend"]}))
    whole = ranges.holdout_coverage(validation, draws=200, seed=1)
    part = ranges.holdout_coverage(validation, draws=200, seed=1, max_customers=2500)
    assert whole["sampled"] == 0.0 and whole["n_customers"] == 6000
    assert part["sampled"] == 1.0 and part["n_customers"] == 2500
    keep = choice.comparison_rows(6000, 2500)
    assert len(keep) == 2500 and np.all(np.diff(keep) > 0)
    assert choice.comparison_rows(6000, 0) is None and choice.comparison_rows(2500, 2500) is None
    assert part["total_actual"] == pytest.approx(sim["future_spend"].to_numpy()[keep].sum())
    for result in (whole, part):
        assert 0.75 <= result["coverage"] <= 0.95, result
        # the total's 10-90% range (parameter uncertainty included) holds the actual total up to one width
        width = result["total_p90"] - result["total_p10"]
        assert result["total_p10"] - width <= result["total_actual"] <= result["total_p90"] + width
    assert abs(whole["coverage"] - part["coverage"]) < 0.03


def test_clv_ranges_bracket_the_point_clv_and_are_reproducible():
    sim = _simulate(3000, seed=5)
    model = clv.fit_clv(sim, {"value": "revenue"})
    table = clv.clv_table(model, sim, horizon_days=365, annual_discount_rate=0.3)
    frame, totals = ranges.clv_ranges(model, sim, table, horizon_days=365, draws=200, seed=2)
    merged = table.assign(customer_id=table["customer_id"].astype(str)).merge(frame, on="customer_id")
    assert (merged["clv_p10"] <= merged["clv_p90"]).all()
    assert ((merged["clv_p10"] <= merged["clv"] + 1e-9) | (merged["clv_p90"] <= 0)).mean() > 0.99
    assert totals["spend_p10"] < totals["spend_mean"] < totals["spend_p90"]
    # the range of the value today (discounted, as the page's headline) holds the total CLV, and is the spend's
    # range on the CLV's scale
    total_clv = table["clv"].sum()
    assert totals["value_p10"] < total_clv < totals["value_p90"]
    ratio = total_clv / (table["expected_orders"] * table["expected_order_value"]).sum()
    assert totals["value_p10"] == pytest.approx(totals["spend_p10"] * ratio, rel=1e-9)
    assert totals["value_p90"] < totals["spend_p90"]  # discounted at 30 % a year
    again, _ = ranges.clv_ranges(model, sim, table, horizon_days=365, draws=200, seed=2)
    pd.testing.assert_frame_equal(frame, again)


def test_a_model_reopened_from_its_json_gives_the_same_ranges():
    """The runner's notebooks reopen the model from ``clv_model.json``: its ranges keep the parameter
    uncertainty (the stored covariance of the log-parameters), and are those of the fitted model, bit for bit
    (a reopened model without a Hessian used to draw the fitted values only: narrower ranges than JupyterLab's)."""
    import json

    sim = _simulate(3000, seed=5)
    model = clv.fit_clv(sim, {"value": "revenue"})
    stored = json.loads(json.dumps(model.to_dict()))
    assert np.array_equal(np.asarray(stored["bgnbd"]["log_covariance"]), clv.fit.log_covariance(model.bgnbd_))
    reopened = clv.ClvModel.from_dict(stored)
    table = clv.clv_table(model, sim, horizon_days=365, annual_discount_rate=0.3)
    fitted, fitted_total = ranges.clv_ranges(model, sim, table, horizon_days=365, draws=200, seed=2)
    again, again_total = ranges.clv_ranges(reopened, sim, table, horizon_days=365, draws=200, seed=2)
    pd.testing.assert_frame_equal(fitted, again)
    assert fitted_total == again_total
    # the parameter draws vary: the uncertainty is kept
    draws = ranges._param_draws(reopened.bgnbd_, ["r", "alpha", "a", "b"], 50, np.random.default_rng(0))
    assert np.ptp(draws, axis=0).min() > 0
    without = clv.ClvModel.from_dict({**stored, "bgnbd": {k: v for k, v in stored["bgnbd"].items()
                                                          if k != "log_covariance"}})
    assert np.ptp(ranges._param_draws(without.bgnbd_, ["r", "alpha", "a", "b"], 50,
                                      np.random.default_rng(0)), axis=0).max() == 0

def _previous_simulation(model, lt: pd.DataFrame, *, horizon: float, draws: int, seed: int):
    """The simulation before blocks and streams (every draw for every customer, one stream): the reference."""
    rng = np.random.default_rng(seed)
    kind = model.purchase_kind_
    names = ["r", "alpha", "s", "beta"] if kind == "pareto" else ["r", "alpha", "a", "b"]
    bg = ranges._param_draws(model.purchase_fitter, names, draws, rng)
    gg = ranges._param_draws(model.gamma_gamma_, ["p", "q", "v"], draws, rng)
    x, tx, T, m = (lt[c].to_numpy(float)[:, None] for c in ["frequency", "recency", "T", "monetary_value"])  # noqa: N806
    r, alpha, a, b = (bg[:, k][None, :] for k in range(4))
    lam = rng.gamma(r + x, 1.0 / (alpha + T))
    if kind == "pareto":
        alive = rng.random(lam.shape) < model._alive(x[:, 0], tx[:, 0], T[:, 0])[:, None]
        mu = rng.gamma(np.broadcast_to(a, lam.shape), 1.0 / (b + T))
        n_buy = rng.poisson(lam * np.minimum(horizon, rng.exponential(1.0 / mu)))
    else:
        ratio = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + tx)))
        if kind == "mbgnbd":
            odds, p = a / (b + x) * ratio, rng.beta(np.broadcast_to(a, lam.shape), b + x + 1)
        else:
            odds = np.where(x > 0, a / np.maximum(b + x - 1, 1e-12) * ratio, 0.0)
            p = rng.beta(np.broadcast_to(a, lam.shape), b + x)
        alive = rng.random(odds.shape) < 1.0 / (1.0 + odds)
        n_buy = np.minimum(rng.poisson(lam * horizon), rng.geometric(np.clip(p, 1e-12, 1.0)))
    n_buy = np.where(alive, n_buy, 0)
    pg, q, v = (gg[:, k][None, :] for k in range(3))
    nu = rng.gamma(q + pg * x, 1.0 / (v + x * m))
    spend = np.where(n_buy > 0, rng.gamma(np.maximum(n_buy * pg, 1e-12), 1.0 / nu), 0.0)
    lo, hi = np.percentile(spend, [10, 90], axis=1)
    return lo, hi, spend.sum(axis=0)


@pytest.mark.parametrize("kind", ["bgnbd", "mbgnbd", "pareto"])
def test_ranges_match_the_previous_simulation_within_monte_carlo_noise(kind):
    """Per-customer p10 / p90 and the total's draws against the previous simulation, 2,000 draws each: the new
    ranges differ from the previous ones no more than the previous simulation differs from itself with another
    seed (times 1.3, over the customers with a positive p90), and the total's mean agrees within 4 standard
    errors of the difference."""
    sim = _simulate(1500, seed=21)
    model = clv.fit_clv(sim, {"value": "revenue"}).use_purchase_model(kind, sim)
    lt = sim[["frequency", "recency", "T", "monetary_value"]].assign(recency=sim["recency"] / 7, T=sim["T"] / 7)
    horizon, draws = 26.0, 2000
    new_lo, new_hi, new_tot = ranges.simulate_spend(model, lt, horizon=horizon, draws=draws, seed=3)
    old_lo, old_hi, old_tot = _previous_simulation(model, lt, horizon=horizon, draws=draws, seed=4)
    ref_lo, ref_hi, _ = _previous_simulation(model, lt, horizon=horizon, draws=draws, seed=5)
    pos = old_hi > 0
    for new, old, ref in [(new_lo, old_lo, ref_lo), (new_hi, old_hi, ref_hi)]:
        scale = old_hi[pos]  # p10 is often 0: differences relative to the customer's p90
        between = np.abs(new[pos] - old[pos]) / scale
        noise = np.abs(ref[pos] - old[pos]) / scale
        assert between.mean() <= 1.3 * noise.mean() + 1e-3, (kind, between.mean(), noise.mean())
        assert np.quantile(between, 0.95) <= 1.3 * np.quantile(noise, 0.95) + 1e-3
    assert ((new_lo > 0) == (old_lo > 0)).mean() > 0.97
    se = np.sqrt(new_tot.var() / draws + old_tot.var() / draws)
    assert abs(new_tot.mean() - old_tot.mean()) <= 4 * se, (new_tot.mean(), old_tot.mean(), se)
    assert 0.75 <= new_tot.std() / old_tot.std() <= 1.33


def test_simulation_depends_on_the_seed_only():
    """Blocks of customers on one or two threads, in any block size: the same draws for the same seed."""
    sim = _simulate(2500, seed=8)
    model = clv.fit_clv(sim, {"value": "revenue"})
    lt = sim[["frequency", "recency", "T", "monetary_value"]].assign(recency=sim["recency"] / 7, T=sim["T"] / 7)
    one = ranges.simulate_spend(model, lt, horizon=20.0, draws=100, seed=9, workers=1)
    old_chunk = ranges.CHUNK
    try:
        ranges.CHUNK = 600  # five blocks
        two = ranges.simulate_spend(model, lt, horizon=20.0, draws=100, seed=9, workers=2)
        again = ranges.simulate_spend(model, lt, horizon=20.0, draws=100, seed=9, workers=1)
    finally:
        ranges.CHUNK = old_chunk
    for a, b in zip(two, again, strict=True):
        assert np.array_equal(a, b)
    assert not np.array_equal(one[1], two[1])  # other blocks, other streams: a different (equally valid) sample
    assert np.allclose(one[2].mean(), two[2].mean(), rtol=0.05)


@pytest.mark.parametrize("kind", ["bgnbd", "mbgnbd"])
def test_expected_orders_of_the_total_are_lifetimes(kind):
    """The total's expectation uses lifetimes' conditional expected purchases (BG/NBD: its formula with the
    hypergeometric term over the distinct (x, T)), to 1e-12 relative."""
    sim = _simulate(2000, seed=5)
    model = clv.fit_clv(sim, {"value": "revenue"}).use_purchase_model(kind, sim)
    lt = clv.lifetimes_summary(sim, time_unit="W")
    x, tx, age = (lt[c].to_numpy(float) for c in ["frequency", "recency", "T"])
    names = ["r", "alpha", "a", "b"]
    params = np.array([float(model.purchase_fitter.params_[k]) for k in names])
    ours = ranges._expected_orders(kind, model.purchase_fitter, params, names, x, tx, age, 52.0)
    assert np.allclose(ours, model._expected(52.0, x, tx, age), rtol=1e-12, atol=0)
