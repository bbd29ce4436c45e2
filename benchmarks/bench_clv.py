"""Benchmark: crmlib's CLV fit (distinct rows + weights, warm start) against a plain lifetimes fit.

Simulates ``--customers`` customers from a BG/NBD process with known parameters (Fader, Hardie & Lee 2005's
CDNOW estimates r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, per week) and Gamma-Gamma spend
(p = 6.25, q = 3.74, v = 15.44), vectorised:

- lambda ~ Gamma(r, 1/alpha), p ~ Beta(a, b); the customer drops out after repeat purchase J ~ Geometric(p);
  N ~ Poisson(lambda T) purchases fall in (0, T]; x = min(N, J) and t_x, the x-th of N uniform arrival
  times, is T * Beta(x, N - x + 1);
- times are whole days (t_x rounded up to the day, T a whole number of days) expressed in weeks (days / 7),
  as crmlib's per-customer table gives them, so customers share (x, t_x, T) rows as in real data;
- mean repeat spend m ~ Gamma(p x, rate x nu) with nu ~ Gamma(q, rate v), rounded to cents.

Two acquisition designs: ``cohort`` (everyone's first purchase in a 12-week window, observed to week 39:
the CDNOW design of the paper) and ``continuous`` (first purchases spread over two years).

Both ways run in this one script on the same data: crmlib's ``ClvModel.fit_lifetimes`` and lifetimes'
``BetaGeoFitter().fit`` / ``GammaGammaFitter().fit`` with one row per customer. It prints the times, the
ratio and the largest relative parameter difference, and (untimed) the relative difference between crmlib's
rewritten likelihood (``crmlib.clv.fit.bgnbd_objective`` / ``gamma_gamma_objective``) and lifetimes' own
``_negative_log_likelihood`` on this data's distinct rows at the fitted parameters. Run:

    .venv/bin/python benchmarks/bench_clv.py --customers 1000000 --design both
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from crmlib.clv.fit import bgnbd_objective, gamma_gamma_objective, lifetimes_module, patterns, quiet
from crmlib.clv.model import ClvModel

TRUE = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "v": 15.44}
DESIGNS = {"cohort": (189, 272), "continuous": (1, 730)}  # range of T in days


def simulate(n: int, *, design: str, seed: int = 0) -> pd.DataFrame:
    """``n`` customers' frequency, recency, T (weeks) and monetary_value from BG/NBD + Gamma-Gamma."""
    rng = np.random.default_rng(seed)
    lo, hi = DESIGNS[design]
    lam = rng.gamma(TRUE["r"], 1.0 / TRUE["alpha"], n)
    drop = rng.beta(TRUE["a"], TRUE["b"], n)
    t_days = rng.integers(lo, hi + 1, n)
    age = t_days / 7.0
    purchases = rng.poisson(lam * age)
    x = np.minimum(purchases, rng.geometric(drop))
    buyer = x > 0
    tx = np.zeros(n)
    tx[buyer] = age[buyer] * rng.beta(x[buyer], purchases[buyer] - x[buyer] + 1)
    tx_days = np.where(buyer, np.minimum(np.ceil(tx * 7.0), t_days), 0)
    nu = rng.gamma(TRUE["q"], 1.0 / TRUE["v"], n)
    m = np.zeros(n)
    m[buyer] = np.round(rng.gamma(TRUE["p"] * x[buyer], 1.0 / (x[buyer] * nu[buyer])), 2)
    m[buyer] = np.maximum(m[buyer], 0.01)
    return pd.DataFrame({"frequency": x.astype(np.int64), "recency": tx_days / 7.0, "T": age,
                         "monetary_value": m})


def plain_fit(frame: pd.DataFrame) -> tuple[dict[str, float], float, float, float, float]:
    """lifetimes' stock fitters as usually called: one row per customer, default start.

    Returns the parameters, then wall and CPU seconds of BG/NBD and of Gamma-Gamma.
    """
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    t0, c0 = time.perf_counter(), time.process_time()
    bg = BetaGeoFitter().fit(frame["frequency"], frame["recency"], frame["T"])
    t1, c1 = time.perf_counter(), time.process_time()
    rep = frame.loc[frame["frequency"] > 0]
    gg = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    t2, c2 = time.perf_counter(), time.process_time()
    return {**bg.params_.to_dict(), **gg.params_.to_dict()}, t1 - t0, c1 - c0, t2 - t1, c2 - c1


def objective_check(frame: pd.DataFrame, ours: dict[str, float]) -> tuple[float, float]:
    """Relative difference between crmlib's objectives and lifetimes' likelihoods (BG/NBD, Gamma-Gamma) on the
    distinct rows of ``frame`` at the parameters ``ours``, time scaled as lifetimes scales it."""
    lib = lifetimes_module()
    (x, rec, age), w, _ = patterns([frame["frequency"].to_numpy(), frame["recency"].to_numpy(float),
                                    frame["T"].to_numpy(float)])
    scale = 1.0 / float(age.max())
    args = (x.astype(np.int64), rec * scale, age * scale, w, 0.0)
    theta = np.log([ours["r"], ours["alpha"] * scale, ours["a"], ours["b"]])
    rep = frame.loc[frame["frequency"] > 0]
    (fx, mv), gw, _ = patterns([rep["frequency"].to_numpy(float), rep["monetary_value"].to_numpy(float)])
    gtheta = np.log([ours["p"], ours["q"], ours["v"]])
    with quiet():
        bg = lib.BetaGeoFitter._negative_log_likelihood(theta, *args)
        gg = lib.GammaGammaFitter._negative_log_likelihood(gtheta, fx, mv, gw, 0.0)
    return (abs(bgnbd_objective(*args)(theta)[0] / bg - 1),
            abs(gamma_gamma_objective(fx, mv, gw, 0.0)(gtheta)[0] / gg - 1))


def run(n: int, design: str, seed: int) -> dict[str, float]:
    frame = simulate(n, design=design, seed=seed)
    lifetimes_module()  # import lifetimes (and scipy, autograd) before timing either way
    model = ClvModel()
    model.fit_lifetimes(frame)
    d = model.diagnostics_
    ours = {**model.params_["bgnbd"], **model.params_["gamma_gamma"]}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        plain, bg_wall, bg_cpu, gg_wall, gg_cpu = plain_fit(frame)
    bg_diff = max(abs(ours[k] / plain[k] - 1) for k in ("r", "alpha", "a", "b"))
    gg_diff = max(abs(ours[k] / plain[k] - 1) for k in ("p", "q", "v"))
    print(f"\n== design {design}: {n:,} customers, {d['n_repeat_buyers']:,} repeat buyers ==")
    print("times in CPU seconds of this process (wall seconds in brackets; the ratio uses CPU time, which other "
          "processes on a shared machine do not inflate)")
    rows = [("BG/NBD", d["bgnbd"], bg_cpu, bg_wall, bg_diff), ("Gamma-Gamma", d["gamma_gamma"], gg_cpu, gg_wall, gg_diff)]
    for name, ours_d, cpu, wall, diff in rows:
        print(f"{name:<12} distinct rows {ours_d['rows']:>9,}  plain {cpu:7.2f} s ({wall:6.2f})  "
              f"crmlib {ours_d['cpu_seconds']:6.2f} s ({ours_d['seconds']:6.2f})  "
              f"ratio {cpu / ours_d['cpu_seconds']:5.1f}x  max rel param diff {diff:.1e}")
    both_plain = bg_cpu + gg_cpu
    both_ours = d["bgnbd"]["cpu_seconds"] + d["gamma_gamma"]["cpu_seconds"]
    print(f"{'both':<12} plain {both_plain:7.2f} s  crmlib {both_ours:6.2f} s  ratio {both_plain / both_ours:5.1f}x")
    bg_obj, gg_obj = objective_check(frame, ours)
    print(f"likelihood at the fit, crmlib's objective vs lifetimes' function: rel diff BG/NBD {bg_obj:.1e}, "
          f"Gamma-Gamma {gg_obj:.1e}")
    print("params  " + "  ".join(f"{k}={ours[k]:.4f} (plain {plain[k]:.4f}, true {TRUE[k]})" for k in TRUE))
    return {"bg_ratio": bg_cpu / d["bgnbd"]["cpu_seconds"], "gg_ratio": gg_cpu / d["gamma_gamma"]["cpu_seconds"],
            "bg_diff": bg_diff, "gg_diff": gg_diff}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--design", choices=[*DESIGNS, "both"], default="both")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for design in (DESIGNS if args.design == "both" else [args.design]):
        run(args.customers, design, args.seed)


if __name__ == "__main__":
    main()
