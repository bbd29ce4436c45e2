"""Benchmark: how the models' accuracy falls as the history and the customer count shrink.

The evidence behind the minimum-data rules (``min_*`` keys of the ``clv``, ``churn`` and ``cross_sell`` params;
``docs/THRESHOLDS.md``). On the sample generator's wholesaler (``--customers`` customers, three years, seed
``--seed``), for each history length L (days before the as-of date) and customer count N (customers drawn at
random among those with a purchase in the window, ``--reps`` draws per cell), it measures against the
simulation's ground truth (``truth.csv``: what each customer really did in the 365 days after the as-of date):

- **CLV** (BG/NBD fitted with the ``clv`` defaults on the cut history): relative error of the predicted number
  of purchase days over the next 365 days, summed over the customers, against the true count; and the same
  for the naive run rate (the history's purchase days scaled to a year); and per customer, the Spearman rank
  correlation of predicted and true purchase days (model and run rate: who will buy most);
  ``clv_fit`` is the share of draws where the model could be fitted at all.
- **Churn** (signals on the orders alone, :func:`crmlib.churn.scoring.fit_risk_model` trained out of time):
  AUC of the risk score against "no purchase in the next 90 days" (truth), with the logistic model when it
  could be trained (``logistic`` = share of draws) and of the rule-based points score.
- **Cross-sell** (:func:`crmlib.cross_sell.rules.evaluate`, test period the last 90 days, training the L days
  before it): hit rate@5 of the item-to-item suggestions and of the popularity baseline, over the customers
  with a new product in the test period; ``orders`` = training orders.

Medians over the draws; an empty cell = not measurable (no fit, one outcome only, nobody to test). Run:

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_thresholds.py            # about 10 minutes
    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_thresholds.py --quick    # 2 x 2 cells, a smoke test
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from crmlib.churn import scoring as churn
from crmlib.clv.model import fit_clv
from crmlib.cross_sell.rules import evaluate
from crmlib.data import tables
from crmlib.data.sample import tables as sample_tables

HISTORY_DAYS = (30, 90, 180, 365, 730)
CUSTOMERS = (30, 100, 300, 1000)
AS_OF = pd.Timestamp("2026-06-30")
CHURN_HORIZON = 90


def simulate(customers: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sample's order lines (canonical columns and types) and its truth, ids as text."""
    t = sample_tables.simulate(customers=customers, seed=seed, as_of=AS_OF, years=3.0)
    lines = t["orders"].assign(customer_id=lambda d: d["customer_id"].astype(str),
                               order_id=lambda d: d["order_id"].astype(str),
                               product_id=lambda d: d["product_id"].astype(str),
                               quantity=lambda d: d["quantity"].astype(float))
    truth = t["truth"].assign(customer_id=lambda d: d["customer_id"].astype(str)).set_index("customer_id")
    return lines, truth


def _draw(ids: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return ids if len(ids) <= n else rng.choice(ids, size=n, replace=False)


def clv_cell(lines: pd.DataFrame, truth: pd.DataFrame, days: int) -> dict[str, float]:
    """Relative error of the summed 365-day purchase days: model and the naive run rate (the history's
    purchase days scaled to a year: "the next year is like the last ``days`` days")."""
    orders = tables.build_orders(lines)
    summary = tables.build_customer_summary(orders, AS_OF)
    actual = truth.loc[summary["customer_id"], "orders_next_365d"].to_numpy(float)
    run_rate = summary["n_order_days"].to_numpy(float) * 365 / days
    out = {"clv_fit": 0.0, "clv_error": np.nan, "rule_error": _error(run_rate, actual), "clv_rank": np.nan,
           "rule_rank": _rank(run_rate, actual)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = fit_clv(summary, check_data=False)  # the clv defaults, minimum-data rules off
            predicted = model.expected_orders(summary, horizon_days=365).to_numpy(float)
    except (ValueError, ArithmeticError, RuntimeError):
        return out
    out.update(clv_fit=1.0, clv_error=_error(predicted, actual), clv_rank=_rank(predicted, actual))
    return out


def _error(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Relative error of the total: (sum predicted - sum actual) / sum actual."""
    return float((predicted.sum() - actual.sum()) / actual.sum()) if actual.sum() else np.nan


def _rank(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Spearman rank correlation per customer (NaN when either side is constant)."""
    if np.ptp(predicted) == 0 or np.ptp(actual) == 0:
        return np.nan
    return float(spearmanr(predicted, actual).statistic)


def churn_cell(lines: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """AUC against the truth of the learned risk score and of the points score (orders only)."""
    orders = tables.build_orders(lines)
    summary = tables.build_customer_summary(orders, AS_OF)
    signals = churn.compute_signals(summary[["customer_id"]], orders, as_of=AS_OF)
    y = (truth.loc[signals["customer_id"], "orders_next_90d"] == 0).to_numpy()
    model = churn.fit_risk_model(orders, as_of=AS_OF)
    out = {"logistic": float(model.method_ == "logistic"), "churn_auc": np.nan, "points_auc": np.nan}
    if 0 < y.sum() < len(y):
        learned = churn.risk_scores(signals, model=model).set_index("customer_id").loc[signals["customer_id"]]
        points = churn.risk_scores(signals).set_index("customer_id").loc[signals["customer_id"]]
        out["churn_auc"] = float(roc_auc_score(y, learned["risk_score"]))
        out["points_auc"] = float(roc_auc_score(y, points["risk_score"]))
    return out


def cross_sell_cell(lines: pd.DataFrame) -> dict[str, float]:
    """Hit rate@5 of item-to-item and popularity on the last 90 days."""
    cut = AS_OF - pd.Timedelta(days=90)
    ev = evaluate(lines, cut=cut, horizon_days=90, k=5).set_index("method")
    n_orders = lines.loc[(lines["order_date"] <= cut) & (lines["amount"] > 0), "order_id"].nunique()
    return {"orders": float(n_orders), "tested": float(ev.loc["item_to_item", "n_customers"]),
            "hit_rate": float(ev.loc["item_to_item", "hit_rate"]),
            "popularity": float(ev.loc["popularity", "hit_rate"])}


def run(*, customers: int, seed: int, reps: int, history: tuple[int, ...], counts: tuple[int, ...],
        models: tuple[str, ...] = ("clv", "churn", "cross_sell")) -> pd.DataFrame:
    """One row per (history days, customers) cell: the medians over ``reps`` draws."""
    lines, truth = simulate(customers, seed)
    rng = np.random.default_rng(seed)
    rows = []
    for days in history:
        start = AS_OF - pd.Timedelta(days=days)
        window = lines[lines["order_date"] > start]
        buyers = window.loc[window["amount"] > 0, "customer_id"].unique()
        cut = AS_OF - pd.Timedelta(days=90)
        xs_window = lines[lines["order_date"] > cut - pd.Timedelta(days=days)]
        xs_buyers = xs_window.loc[(xs_window["amount"] > 0) & (xs_window["order_date"] <= cut),
                                  "customer_id"].unique()
        for n in counts:
            draws = []
            for _ in range(reps):
                ids = _draw(buyers, n, rng)
                cell = window[window["customer_id"].isin(ids)]
                xs_ids = _draw(xs_buyers, n, rng)
                row = {**(clv_cell(cell, truth, days) if "clv" in models else {}),
                       **(churn_cell(cell, truth) if "churn" in models else {}),
                       **(cross_sell_cell(xs_window[xs_window["customer_id"].isin(xs_ids)])
                          if "cross_sell" in models else {})}
                row["repeat_buyers"] = float(cell.groupby("customer_id")["order_date"].nunique().gt(1).sum())
                draws.append(row)
            med = pd.DataFrame(draws).median(numeric_only=True)
            rows.append({"history_days": days, "customers": min(n, len(buyers)), **med.to_dict()})
            print(f"  L={days:>4} N={n:>5}: " + ", ".join(f"{k} {v:.3g}" for k, v in med.items()), flush=True)
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    """The table as Markdown (errors as signed percentages, AUC and hit rates to two decimals)."""
    cols = {"history_days": "history (days)", "customers": "customers", "repeat_buyers": "repeat buyers",
            "clv_fit": "CLV fitted", "clv_error": "CLV error", "rule_error": "run-rate error",
            "clv_rank": "CLV rank r", "rule_rank": "run-rate rank r",
            "logistic": "churn learned", "churn_auc": "churn AUC", "points_auc": "points AUC",
            "orders": "x-sell orders", "hit_rate": "hit@5", "popularity": "popular hit@5"}

    def fmt(col: str, v: float) -> str:
        if v != v:
            return ""
        if col in ("clv_error", "rule_error"):
            return f"{v:+.0%}"
        if col in ("clv_fit", "logistic"):
            return f"{v:.0%}"
        if col in ("history_days", "customers", "repeat_buyers", "orders"):
            return f"{v:,.0f}"
        return f"{v:.2f}"

    cols = {k: v for k, v in cols.items() if k in table.columns}
    head = "| " + " | ".join(cols.values()) + " |"
    sep = "|" + "|".join("---:" for _ in cols) + "|"
    body = ["| " + " | ".join(fmt(c, r[c]) for c in cols) + " |" for _, r in table.iterrows()]
    return "\n".join([head, sep, *body])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="two history lengths and two customer counts")
    parser.add_argument("--models", default="clv,churn,cross_sell", help="comma-separated subset to measure")
    parser.add_argument("--csv", help="also write the table to this CSV file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    history, counts = ((90, 365), (100, 1000)) if args.quick else (HISTORY_DAYS, CUSTOMERS)
    started = time.perf_counter()
    table = run(customers=args.customers, seed=args.seed, reps=args.reps, history=history, counts=counts,
                models=tuple(args.models.split(",")))
    print(f"\nsample: {args.customers:,} customers, seed {args.seed}, {args.reps} draws per cell, "
          f"{time.perf_counter() - started:.0f} s\n")
    print(markdown(table))
    if args.csv:
        table.to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
