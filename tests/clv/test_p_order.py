"""P(order in the next t days) from BG/NBD, checked against simulated customers' actual next period."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlib import clv


def _simulate(n: int, *, r: float, alpha: float, a: float, b: float, t_obs: float, t_next: float,
              seed: int) -> pd.DataFrame:
    """BG/NBD customers (days): first purchase at 0, Poisson(lambda) purchases, a dropout with probability p
    after each purchase; observed over (0, t_obs], then whether any purchase falls in (t_obs, t_obs + t_next]."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    x = np.zeros(n, dtype=int)
    last = np.zeros(n)
    now = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    future = np.zeros(n, dtype=bool)
    active = np.ones(n, dtype=bool)  # still simulating
    while active.any():
        idx = np.flatnonzero(active)
        now[idx] += rng.exponential(1.0 / lam[idx])
        seen = idx[now[idx] <= t_obs]
        x[seen] += 1
        last[seen] = now[seen]
        nxt = idx[(now[idx] > t_obs) & (now[idx] <= t_obs + t_next)]
        future[nxt] = True
        done = idx[now[idx] > t_obs]
        active[done] = False
        drop = seen[rng.random(len(seen)) < p[seen]]
        alive[drop] = False
        active[drop] = False
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "frequency": x, "recency": last,
                         "T": np.full(n, t_obs), "monetary_value": np.where(x > 0, 50.0 + 10.0 * (x % 5), 0.0),
                         "ordered_next": future})


def test_probability_of_order_is_calibrated_on_simulated_customers():
    """CDNOW-like parameters in days (r 0.24, alpha 4.4 weeks = 31 days, a 0.79, b 2.43; Fader, Hardie & Lee
    2005); 20,000 customers observed 270 days: by decile of the predicted probability, the share that
    ordered in the next 30 days matches the prediction within 3 points (binomial sd <= 1.1 points)."""
    sim = _simulate(20_000, r=0.24, alpha=31.0, a=0.79, b=2.43, t_obs=270.0, t_next=30.0, seed=3)
    model = clv.fit_clv(sim, {"value": "revenue"})
    pred = model.probability_of_order(sim, horizon_days=30)
    frame = pd.DataFrame({"p": pred.to_numpy(), "y": sim["ordered_next"].to_numpy()})
    frame["decile"] = pd.qcut(frame["p"].rank(method="first"), 10, labels=False)
    g = frame.groupby("decile").agg(p=("p", "mean"), y=("y", "mean"))
    assert np.abs(g["p"] - g["y"]).max() < 0.03, g
    assert abs(frame["p"].mean() - frame["y"].mean()) < 0.01
    # consistent with expected orders: P(at least one) <= E[number]
    expected = model.expected_orders(sim, horizon_days=30).to_numpy()
    assert (pred.to_numpy() <= expected + 1e-9).all()


def test_purchase_model_alone_predicts_the_same_orders_and_p_order(sample_ctx):
    """``spend=False`` (churn's snapshots) skips the Gamma-Gamma fit and nothing else."""
    summary = sample_ctx.customer_summary
    both = clv.fit_clv(summary, sample_ctx.params["clv"])
    orders_only = clv.fit_clv(summary, sample_ctx.params["clv"], spend=False)
    assert both.gamma_gamma_ is not None and orders_only.gamma_gamma_ is None
    assert orders_only.diagnostics_["gamma_gamma"]["status"] == "not_fitted"
    assert orders_only.params_["bgnbd"] == both.params_["bgnbd"]
    pd.testing.assert_series_equal(orders_only.expected_orders(summary, horizon_days=90),
                                   both.expected_orders(summary, horizon_days=90))
    np.testing.assert_array_equal(np.asarray(orders_only.probability_of_order(summary, horizon_days=30)),
                                  np.asarray(both.probability_of_order(summary, horizon_days=30)))
