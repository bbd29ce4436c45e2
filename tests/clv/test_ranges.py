"""CLV ranges (crmlib/clv/ranges.py): coverage of the 10-90% ranges on simulated customers' next period."""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def test_clv_ranges_bracket_the_point_clv_and_are_reproducible():
    sim = _simulate(3000, seed=5)
    model = clv.fit_clv(sim, {"value": "revenue"})
    table = clv.clv_table(model, sim, horizon_days=365, annual_discount_rate=0.3)
    frame, totals = ranges.clv_ranges(model, sim, table, horizon_days=365, draws=200, seed=2)
    merged = table.assign(customer_id=table["customer_id"].astype(str)).merge(frame, on="customer_id")
    assert (merged["clv_p10"] <= merged["clv_p90"]).all()
    assert ((merged["clv_p10"] <= merged["clv"] + 1e-9) | (merged["clv_p90"] <= 0)).mean() > 0.99
    assert totals["spend_p10"] < totals["spend_mean"] < totals["spend_p90"]
    again, _ = ranges.clv_ranges(model, sim, table, horizon_days=365, draws=200, seed=2)
    pd.testing.assert_frame_equal(frame, again)
