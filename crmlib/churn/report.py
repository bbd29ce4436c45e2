"""What ``02_churn_early_warning`` needs beyond the analysis: the CLV inputs that may be missing, the
export table, the executive summary and small display tables (all words from ``locales/churn.yaml``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlib.churn.params import LEVELS
from crmlib.churn.scoring import SIGNALS, reasons_text
from crmlib.churn.signals import NEEDS
from crmlib.core.readiness import describe, readiness
from crmlib.report import formatting as fmt
from crmlib.report import i18n

log = logging.getLogger(__name__)

#: the contract's columns of churn_risk.csv, in order; extras follow
EXPORT_COLUMNS: tuple[str, ...] = ("customer_id", "risk_score", "risk_level", "reasons", "days_since_last_order",
                                   "usual_gap_days")


def clv_inputs(ctx: Any, *, horizon_days: int) -> tuple[Any, pd.Series | None]:
    """The run's fitted CLV model and its expected orders over ``horizon_days``, or ``(None, None)`` when
    the model cannot be fitted on this data (the expected-orders signal is then unavailable)."""
    try:
        model = ctx.clv_model()
        return model, model.expected_orders(ctx.customer_summary, horizon_days=horizon_days)
    except (ValueError, ArithmeticError, RuntimeError) as err:
        log.warning("churn: no CLV model (%s); the expected-orders signal is left out", err)
        return None, None


def export_table(risk: pd.DataFrame, signals: pd.DataFrame, next_orders: pd.DataFrame | None = None, *,
                 lang: str, params: Mapping[str, Any] | None = None,
                 p_order: pd.Series | None = None) -> pd.DataFrame:
    """``churn_risk.csv``: the contract's columns, then the reasons in words (``lang``), value at stake,
    rank, expected next order, each signal's firing flag and, with ``p_order`` (the purchase model's
    :meth:`crmlib.clv.ClvModel.probability_of_order` over 30 days, by customer_id), ``p_order_next_30_days``
    (one row per customer, ranked)."""
    sig = signals.set_index("customer_id")
    extras = sig[["last_order_date", "expected_orders", "horizon_value"] + [f"{c}_fires" for c in SIGNALS]]
    out = risk[list(EXPORT_COLUMNS)].copy()
    out["reasons_text"] = ""
    with_reasons = (out["reasons"].fillna("") != "").to_numpy()
    if with_reasons.any():  # plain dicts of the rows with reasons: iterrows would build a Series per customer
        rows = sig.loc[out.loc[with_reasons, "customer_id"]].to_dict("records")
        out.loc[with_reasons, "reasons_text"] = [
            reasons_text(codes, row, lang, params=params)
            for codes, row in zip(out.loc[with_reasons, "reasons"], rows, strict=True)]
    out[["value_at_stake", "rank"]] = risk[["value_at_stake", "rank"]]
    out = out.join(extras, on="customer_id")
    if next_orders is not None:
        out = out.join(next_orders.set_index("customer_id")[["expected_next_order_date"]], on="customer_id")
    if p_order is not None:
        out["p_order_next_30_days"] = p_order.reindex(out["customer_id"].astype(str)).to_numpy(dtype=float)
    return out.reset_index(drop=True)


def flagged(risk: pd.DataFrame, *, params: Mapping[str, Any]) -> pd.DataFrame:
    """Customers at the list's levels who are not lapsed (an order within ``lapsed_days``)."""
    return risk.loc[risk["risk_level"].isin(list(params["list_levels"]))
                    & (risk["days_since_last_order"] < float(params["lapsed_days"]))]


def backtest_table(metrics: pd.DataFrame, *, lang: str, params: Mapping[str, Any]) -> pd.DataFrame:
    """The backtest's rows with translated population and method names."""
    out = metrics.copy()
    out["population"] = [i18n.t(f"churn.population.{x}", lang, lapsed_days=params["lapsed_days"])
                         for x in out["population"]]
    out["method"] = [i18n.t(f"churn.method.{x}", lang, days=params["no_order_days"]) for x in out["method"]]
    return out[["population", "method", "auc", "precision_top_10", "precision_top_20", "base_rate", "n_customers"]]


def active(risk: pd.DataFrame, *, params: Mapping[str, Any]) -> pd.DataFrame:
    """Customers with an order within ``lapsed_days`` (the ones an early warning is for)."""
    return risk.loc[risk["days_since_last_order"] < float(params["lapsed_days"])]


def level_table(risk: pd.DataFrame, *, lang: str, params: Mapping[str, Any]) -> pd.DataFrame:
    """Active customers, their share and value at stake per risk level (critical first), then the lapsed.

    ``customer_share`` is of all customers (the column adds up to 100%), ``active_share`` of the active
    customers (adds up to 100% over the four levels; empty for the lapsed row): the summary's share of
    customers at high or critical risk is the sum of that column's two rows.
    """
    current = active(risk, params=params)
    g = current.groupby("risk_level")
    out = pd.DataFrame({"n_customers": g.size(), "value_at_stake": g["value_at_stake"].sum()})
    out = out.reindex(LEVELS[::-1]).fillna(0)
    out.index = [i18n.t(f"churn.level.{lv}", lang) for lv in out.index]
    lapsed = risk.loc[~risk.index.isin(current.index)]
    out.loc[i18n.t("churn.level.lapsed", lang, days=params["lapsed_days"])] = [len(lapsed),
                                                                                lapsed["value_at_stake"].sum()]
    out["customer_share"] = out["n_customers"] / max(len(risk), 1)
    out["active_share"] = out["n_customers"] / max(len(current), 1)
    out.iloc[-1, out.columns.get_loc("active_share")] = np.nan
    return out.rename_axis("risk_level").reset_index()[["risk_level", "n_customers", "customer_share",
                                                         "active_share", "value_at_stake"]]


def unavailable_text(signals: pd.DataFrame, *, lang: str, no_order_days: int) -> list[str]:
    """One sentence per unavailable signal, naming the table or input that would enable it."""
    out = []
    for code in signals.attrs.get("unavailable", []):
        name = i18n.t(f"churn.signal.{code}", lang, days=no_order_days)
        if code in NEEDS:
            table, columns = NEEDS[code]
            out.append(i18n.t("churn.p.unavailable_table", lang, signal=name, table=table,
                              columns=", ".join(columns)))
        else:
            out.append(i18n.t("churn.p.unavailable_model", lang, signal=name))
    return out


def _who(row: pd.Series) -> str:
    name = row.get("name")
    return f"{name} ({row['customer_id']})" if isinstance(name, str) and name else str(row["customer_id"])


def backtest_line(metrics: pd.DataFrame | None, *, lang: str, params: Mapping[str, Any]) -> str | None:
    """The backtest in one sentence (AUC, the plain rule's AUC, precision in the top 10%) for the analysts'
    section; ``None`` without a backtest."""
    if metrics is None or not len(metrics) or not metrics["auc"].notna().any():
        return None
    h = int(params["horizon_days"])
    pop = "active" if (metrics["population"] == "active").any() else "all"
    m = metrics.loc[metrics["population"] == pop].set_index("method")
    key = "churn.summary.backtest_eo" if "expected_orders" in m.index else "churn.summary.backtest"
    return i18n.t(key, lang, days=h, auc=fmt.number(m.loc["risk_score", "auc"], lang, 2),
                  rule_auc=fmt.number(m.loc["no_order_rule", "auc"], lang, 2),
                  eo_auc=fmt.number(m["auc"].get("expected_orders", np.nan), lang, 2),
                  p10=fmt.pct(m.loc["risk_score", "precision_top_10"], lang, 0),
                  rule_days=params["no_order_days"], lapsed_days=params["lapsed_days"])


def summary_lines(risk: pd.DataFrame, at_risk: pd.DataFrame, *, lang: str, currency: str,
                  params: Mapping[str, Any], metrics: pd.DataFrame | None, winback_week: pd.DataFrame,
                  method: str, first_call: int = 5, changes: Mapping[str, Any] | None = None) -> list[str]:
    """The executive summary's sentences (``churn.summary.*``), most important first.

    ``winback_week`` is :func:`crmlib.churn.weekly.winback_rates` by week (episodes) with ``changes`` from
    :func:`crmlib.churn.weekly.changes_since_last_run`; without ``changes`` the older per-flag counts of
    :func:`crmlib.churn.scoring.winback` are accepted.
    """
    h = int(params["horizon_days"])
    lapsed = risk["days_since_last_order"] >= float(params["lapsed_days"])
    flagged = risk.loc[risk["risk_level"].isin(list(params["list_levels"])) & ~lapsed]
    lines = [i18n.t("churn.summary.at_risk", lang, n=fmt.number(len(flagged), lang),
                    share=fmt.pct(len(flagged) / max(int((~lapsed).sum()), 1), lang), days=h,
                    lapsed_days=params["lapsed_days"],
                    value=fmt.money(flagged["value_at_stake"].sum(), lang, currency))]
    if len(at_risk):
        called = at_risk.loc[at_risk["group"] != "control"] if "group" in at_risk.columns else at_risk
        top = called.head(first_call)
        lines.append(i18n.t("churn.summary.call_first", lang, k=len(top),
                            who="; ".join(_who(r) for _, r in top.iterrows()),
                            value=fmt.money(top["value_at_stake"].sum(), lang, currency)))
    else:
        lines.append(i18n.t("churn.summary.nobody", lang))
    # the backtest's AUC is for analysts: its sentence is :func:`backtest_line`, in the backtest section
    previous = (changes or {}).get("previous")
    if previous is not None:
        lines.append(i18n.t("churn.summary.changes", lang, previous=fmt.date(previous, lang),
                            new=fmt.number(changes["new"], lang), won=fmt.number(changes["won_back"], lang),
                            moved=fmt.number(changes["moved"], lang), weeks=params["max_weeks_on_list"]))
    if previous is not None and winback_week is not None and "n_episodes" in winback_week.columns:
        won, n_open = int(winback_week["n_won_back"].sum()), int(winback_week["n_open"].sum())
        closed = int(winback_week["n_episodes"].sum()) - n_open
        if closed:
            lines.append(i18n.t("churn.summary.winback_episodes", lang, won=fmt.number(won, lang),
                                closed=fmt.number(closed, lang), rate=fmt.pct(won / closed, lang, 0),
                                open=fmt.number(n_open, lang)))
        else:
            lines.append(i18n.t("churn.summary.winback_none_closed", lang, open=fmt.number(n_open, lang)))
    elif previous is None and changes is None and winback_week is not None and len(winback_week):
        n, won = int(winback_week["n_flagged"].sum()), int(winback_week["n_won_back"].sum())
        lines.append(i18n.t("churn.summary.winback", lang, rate=fmt.pct(won / n if n else np.nan, lang, 0),
                            won=fmt.number(won, lang), n=fmt.number(n, lang)))
    else:
        lines.append(i18n.t("churn.summary.first_run", lang))
    lines.append(i18n.t("churn.summary.lapsed", lang, n=fmt.number(int(lapsed.sum()), lang),
                        lapsed_days=params["lapsed_days"]))
    ready = readiness("churn", risk.attrs["readiness"]) if risk.attrs.get("readiness") else None
    if method == "points" and ready is not None and not ready.ready:
        lines.append(describe(ready, lang, key="churn.summary.points_needs", days=h))
    elif method == "points":
        lines.append(i18n.t("churn.summary.points", lang))
    return lines
