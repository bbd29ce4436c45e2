"""The purchase model chosen on the holdout (crmlib/clv/choice.py)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from crmlib import clv
from crmlib.clv import analysis, choice
from crmlib.errors import ParamsError


def _bgnbd_counts(n: int, *, seed: int, t_obs: float = 39.0, t_next: float = 39.0) -> pd.DataFrame:
    """BG/NBD customers in weeks with Hardie's CDNOW parameters (r 0.243, alpha 4.414, a 0.793, b 2.426):
    repeat purchases in (0, t_obs] and their number in the next t_next weeks."""
    rng = np.random.default_rng(seed)
    lam, p = rng.gamma(0.243, 1 / 4.414, n), rng.beta(0.793, 2.426, n)
    x, last, future = np.zeros(n, int), np.zeros(n), np.zeros(n, int)
    now, active = np.zeros(n), np.ones(n, bool)
    while active.any():
        i = np.flatnonzero(active)
        now[i] += rng.exponential(1 / lam[i])
        seen, nxt = now[i] <= t_obs, (now[i] > t_obs) & (now[i] <= t_obs + t_next)
        x[i[seen]] += 1
        last[i[seen]] = now[i[seen]]
        future[i[nxt]] += 1
        active[i[now[i] > t_obs + t_next]] = False
        active[i[rng.random(len(i)) < p[i]]] = False
    return pd.DataFrame({"frequency": x, "recency": last, "T": t_obs, "monetary_value": 0.0, "future": future})


def _validation(sim: pd.DataFrame) -> SimpleNamespace:
    """What the comparison reads of a holdout check: calibration inputs, groups, holdout purchases."""
    return SimpleNamespace(
        lt=sim[["frequency", "recency", "T", "monetary_value"]], holdout_days=39 * 7,
        customers=pd.DataFrame({"group": analysis.frequency_group(sim["frequency"]),
                                "actual_orders": sim["future"].astype(float)}))


def test_models_are_compared_on_the_holdout_and_the_generating_model_family_wins():
    sim = _bgnbd_counts(4000, seed=2)
    validation = _validation(sim)
    params = clv.resolve_params({"time_unit": "W"})
    table = choice.compare_models(validation, params=params).set_index("model")
    assert list(table.index) == ["bgnbd", "mbgnbd", "pareto"]
    assert (table["status"] == "ok").all()
    # data simulated from BG/NBD: its holdout total within 10%, and a Beta-geometric model is chosen
    assert abs(table.loc["bgnbd", "total_error"]) < 0.10
    assert choice.choose(table.reset_index(), setting="auto") in ("bgnbd", "mbgnbd")
    assert choice.choose(table.reset_index(), setting="pareto") == "pareto"
    assert choice.choose(None, setting="auto") == "bgnbd"


def test_pareto_is_skipped_when_too_large_and_the_model_setting_is_checked():
    sim = _bgnbd_counts(300, seed=4)
    validation = _validation(sim)
    params = clv.resolve_params({"time_unit": "W", "pareto_max_rows": 10})
    table = choice.compare_models(validation, params=params).set_index("model")
    assert table.loc["pareto", "status"] == "too_large"
    with pytest.raises(ParamsError, match=r"clv.model.*gamma"):
        clv.resolve_params({"model": "gamma"})


def test_the_chosen_model_predicts():
    sim = _bgnbd_counts(2000, seed=6)
    summary = sim.assign(customer_id=[f"c{i}" for i in range(len(sim))], recency=sim["recency"] * 7,
                         T=sim["T"] * 7, monetary_value=np.where(sim["frequency"] > 0, 20.0 + sim["frequency"], 0.0))
    model = clv.fit_clv(summary, {"value": "revenue"})
    bg = model.expected_orders(summary, horizon_days=90).to_numpy()
    model.use_purchase_model("pareto", summary)
    pareto = model.expected_orders(summary, horizon_days=90).to_numpy()
    assert model.purchase_kind_ == "pareto" and not np.allclose(bg, pareto)
    p_order = model.probability_of_order(summary, horizon_days=30).to_numpy()
    assert ((p_order >= 0) & (p_order <= 1)).all()
    assert model.to_dict()["purchase_model"]["kind"] == "pareto"
