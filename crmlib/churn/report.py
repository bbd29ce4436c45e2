"""Everything ``02_churn_early_warning`` shows, computed once by :func:`analyse`, and the practice's wording.

The computation modules (:mod:`~crmlib.churn.scoring`, :mod:`~crmlib.churn.actions`, ...) return codes and
numbers; this module puts them into words (``crmlib/churn/messages.yaml``): the reasons, risk and action
texts of the call list, the executive summary, the sections' sentences and display tables. ``UNITS`` is the
column-unit map of the practice's tables (``rp.table(ctx, frame, ns="churn")``).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlib.churn import calibration as cal
from crmlib.churn import products as cp
from crmlib.churn import scoring
from crmlib.churn.actions import LIST_COLUMNS, open_complaints
from crmlib.churn.backtesting import backtest
from crmlib.churn.params import LEVELS
from crmlib.churn.params import resolve as _params
from crmlib.churn.scoring import SIGNALS, WeeklyResult
from crmlib.churn.signals import NEEDS
from crmlib.core.readiness import describe, readiness
from crmlib.data import textops
from crmlib.errors import ParamsError
from crmlib.report import formatting as fmt
from crmlib.report import i18n
from crmlib.report.display import mask_contacts, masks_html

log = logging.getLogger(__name__)

#: units of the columns the report's tables show (``rp.table(ctx, frame, ns="churn")``)
UNITS: dict[str, str] = {
    "n_customers": "int", "customer_share": "pct", "active_share": "pct", "value_at_stake": "money",
    "rank": "int", "weeks_on_list": "int", "last_order_date": "date", "expected_next_order_date": "date",
    "action_count": "int", "auc": "number:3", "precision_top_10": "pct", "precision_top_20": "pct",
    "base_rate": "pct", "n_scored": "int", "decile": "int", "predicted": "pct", "observed": "pct",
    "weight": "number:2", "usual_gap_days": "int", "days_since": "int", "last_purchase_date": "date",
    "n_episodes": "int", "n_won_back": "int", "n_lost": "int", "n_left_list": "int", "n_open": "int",
    "winback_rate": "pct", "n_call": "int", "n_control": "int", "rate_call": "pct", "rate_control": "pct",
    "difference": "pct",
}

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
        rows = sig.loc[out.loc[with_reasons, "customer_id"], [c for c in REASON_VALUES if c in sig]]
        out.loc[with_reasons, "reasons_text"] = reason_sentences_many(  # params resolved once, not per customer
            out.loc[with_reasons, "reasons"].tolist(), rows, lang, params=_params(params))
    out[["value_at_stake", "rank"]] = risk[["value_at_stake", "rank"]]
    out = out.join(extras, on="customer_id")
    if next_orders is not None:
        out = out.join(next_orders.set_index("customer_id")[["expected_next_order_date"]], on="customer_id")
    if p_order is not None:
        out["p_order_next_30_days"] = p_order.reindex(out["customer_id"].astype(str)).to_numpy(dtype=float)
    # codes and sentences as pandas text (Arrow): the CSV writer checks and writes them column-wise
    out[["reasons", "reasons_text"]] = out[["reasons", "reasons_text"]].astype("str")
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
    if lapsed.any():  # nobody lapsed (a short history): nothing to say
        lines.append(i18n.t("churn.summary.lapsed", lang, n=fmt.number(int(lapsed.sum()), lang),
                            lapsed_days=params["lapsed_days"]))
    ready = readiness("churn", risk.attrs["readiness"]) if risk.attrs.get("readiness") else None
    if method == "points" and ready is not None and not ready.ready:
        lines.append(describe(ready, lang, key="churn.summary.points_needs", days=h))
    elif method == "points":
        lines.append(i18n.t("churn.summary.points", lang))
    return lines


# -- the call list in words ------------------------------------------------------------------------------
def risk_text(score: float, level: str, lang: str, *, points: bool = False) -> str:
    """The level with the score as a whole percentage, never "100%": a model's probability is not a
    certainty, so scores of 99.5% and above read "99%+" (catalogue ``churn.risk_text*``).

    With ``points`` (the rule-based score of a short history: fixed points per warning sign, not a
    probability) the score is shown as a number between 0 and 1, never as a percentage.
    """
    name = i18n.t(f"churn.level.{level}", lang) if level in ("low", "medium", "high", "critical") else level
    if not np.isfinite(score):
        return name
    if points:
        return i18n.t("churn.risk_text_points", lang, level=name, score=fmt.number(float(score), lang, 2))
    if score >= 0.995:
        return i18n.t("churn.risk_text_max", lang, level=name, pct=fmt.pct(0.99, lang, 0))
    return i18n.t("churn.risk_text", lang, level=name, pct=fmt.pct(max(float(score), 0.01), lang, 0))


def _num(x: Any, lang: str, digits: int = 0) -> str:
    try:
        return _num_cached(x, lang, digits)
    except TypeError:  # not hashable
        return fmt.number(x, lang, digits)


@functools.lru_cache(maxsize=1 << 16, typed=True)
def _num_cached(x: Any, lang: str, digits: int) -> str:
    """The sentences quote whole days and small counts: Babel formats each distinct value once."""
    return fmt.number(x, lang, digits)


#: the signal values the reason sentences quote (:func:`reason_sentences`)
REASON_VALUES: tuple[str, ...] = ("usual_gap_days", "days_since_last_order", "orders_recent", "orders_previous",
                                  "aov_change", "invoices_late", "invoices_recent", "days_late_mean",
                                  "contacts_unanswered", "tickets_recent", "tickets_open", "expected_orders")


def _format_many(values: np.ndarray, key: Callable[[float], float], word: Callable[[float], str]) -> np.ndarray:
    """``word(x)`` of each value (``"–"`` where missing), worded once per distinct ``key(x)``: ``word`` must
    depend on ``key(x)`` alone (the rounded value it shows)."""
    out = np.full(len(values), "–", dtype=object)
    known = ~np.isnan(values)
    if known.any():
        distinct, inverse = np.unique(values[known], return_inverse=True)
        memo: dict[float, str] = {}
        texts = np.empty(len(distinct), dtype=object)
        for i, x in enumerate(distinct.tolist()):
            k = key(x)
            text = memo.get(k)
            texts[i] = memo[k] = word(x) if text is None else text
        out[known] = texts[np.asarray(inverse).ravel()]
    return out


def _numbers(values: np.ndarray, lang: str, digits: int = 0) -> np.ndarray:
    """:func:`crmlib.report.formatting.number` of many values (each rounded value formatted once)."""
    return _format_many(values, lambda x: round(x, digits) + 0.0, lambda x: fmt.number(x, lang, digits))


def _percents(values: np.ndarray, lang: str, digits: int = 0) -> np.ndarray:
    """:func:`crmlib.report.formatting.pct` of many shares (each rounded percentage formatted once)."""
    return _format_many(values, lambda x: round(100 * x, digits) + 0.0, lambda x: fmt.pct(x, lang, digits))


def _plain_template(key: str, lang: str) -> list[tuple[str, str | None]] | None:
    """The catalogue text of ``key`` as (literal, field) pairs when every field is a plain ``{name}`` (no
    format spec or conversion: ``str.format`` then only joins the texts), else ``None``."""
    parsed = list(string.Formatter().parse(i18n.t(key, lang)))
    if any(spec or conv or (name is not None and not name.isidentifier()) for _, name, spec, conv in parsed):
        return None
    return [(literal, name) for literal, name, _, _ in parsed]


def _sentences(keys: np.ndarray, kwargs: Mapping[str, np.ndarray], lang: str) -> np.ndarray:
    """``i18n.t(key, lang, **kwargs)`` row by row (``kwargs``: text columns): a plain template is filled by
    joining the columns, others are worded once per distinct combination."""
    out = np.empty(len(keys), dtype=object)
    for key in pd.unique(keys):
        rows = np.flatnonzero(keys == key)
        template = _plain_template(key, lang)
        if template is not None:
            text = np.full(len(rows), "", dtype=object)
            for literal, name in template:
                # str(x) is format(x, "") for the texts and whole numbers passed here
                text = text + literal if name is None else text + literal + np.array(
                    [str(x) for x in kwargs[name][rows]], dtype=object)
            out[rows] = text
            continue
        names = list(kwargs)
        memo: dict[tuple, str] = {}
        for i, combo in zip(rows, zip(*(kwargs[n][rows] for n in names), strict=True), strict=True):
            text = memo.get(combo)
            if text is None:
                text = memo[combo] = i18n.t(key, lang, **dict(zip(names, combo, strict=True)))
            out[i] = text
    return out


def _reason_part(code: str, values: pd.DataFrame, lang: str, p: Mapping[str, Any]) -> np.ndarray:
    """The sentence of reason ``code`` for each row of ``values`` (signal values), as :func:`reason_sentences`
    words it."""
    def v(column: str) -> np.ndarray:
        return values[column].to_numpy(dtype=float) if column in values.columns else np.full(len(values), np.nan)

    key = np.full(len(values), f"churn.reason.{code}", dtype=object)
    if code in ("overdue", "no_order"):
        gap = v("usual_gap_days")
        kw = {"gap": _numbers(gap, lang), "days": _numbers(v("days_since_last_order"), lang)}
        if code == "overdue":
            daily = ~np.isnan(gap) & (np.round(gap) <= 1)
            key[daily] = "churn.reason.overdue_daily"
    elif code == "frequency_drop":
        kw = {"recent": _numbers(v("orders_recent"), lang), "previous": _numbers(v("orders_previous"), lang),
              "window": np.full(len(key), p["frequency_window_days"], dtype=object)}
    elif code == "aov_drop":
        kw = {"pct": _percents(-v("aov_change"), lang), "k": np.full(len(key), p["aov_recent_orders"], dtype=object)}
    elif code == "late_payments":
        kw = {"late": _numbers(v("invoices_late"), lang), "n": _numbers(v("invoices_recent"), lang),
              "days": _numbers(v("days_late_mean"), lang)}
    elif code == "unanswered_outreach":
        kw = {"n": _numbers(v("contacts_unanswered"), lang),
              "window": np.full(len(key), p["contacts_window_days"], dtype=object)}
    elif code == "complaints":
        key[v("tickets_recent") == 0] = "churn.reason.complaints_open_only"  # open ones opened before the window
        kw = {"recent": _numbers(v("tickets_recent"), lang), "open": _numbers(v("tickets_open"), lang),
              "window": np.full(len(key), p["tickets_window_days"], dtype=object)}
    else:  # low_expected_orders
        n = v("expected_orders")
        none = n < 0.05
        key[none] = "churn.reason.low_expected_orders_none"
        kw = {"n": np.where(none, None, _numbers(n, lang, 1)),
              "horizon": np.full(len(key), p["horizon_days"], dtype=object)}
    return _sentences(key, kw, lang)


def reason_sentences_many(codes: Sequence[str], values: pd.DataFrame | Sequence[Mapping[str, Any]], lang: str, *,
                          params: Mapping[str, Any]) -> list[str]:
    """:func:`reason_sentences` of many customers (``params`` complete; ``values``: their signal rows, a frame
    or one mapping per customer, in the order of ``codes``): each distinct value is formatted once and each
    distinct sentence worded once."""
    codes = list(codes)
    if not isinstance(values, pd.DataFrame):
        values = pd.DataFrame.from_records(list(values), index=range(len(codes)))
    n = len(codes)
    inverse, combos = pd.factorize(pd.Series(codes, dtype=object).fillna(""))
    lists = []
    for combo in combos:
        listed = [c for c in str(combo).split(";") if c]
        if "overdue" in listed:  # its sentence already says how long nothing was ordered
            listed = [c for c in listed if c != "no_order"]
        for c in listed:
            if c not in SIGNALS:
                raise ParamsError(f"Unknown churn reason code {c!r}; known: {', '.join(SIGNALS)}.")
        lists.append(listed)
    parts: dict[str, np.ndarray] = {}
    for code in SIGNALS:
        with_code = [i for i, listed in enumerate(lists) if code in listed]
        if with_code:
            rows = np.flatnonzero(np.isin(inverse, with_code))
            parts[code] = np.empty(n, dtype=object)
            parts[code][rows] = _reason_part(code, values.iloc[rows], lang, params)
    out = np.full(n, "", dtype=object)
    for i, listed in enumerate(lists):
        if listed:
            at = np.flatnonzero(inverse == i)
            text = parts[listed[0]][at]
            for code in listed[1:]:
                text = text + "; " + parts[code][at]
            out[at] = text
    return out.tolist()


def reason_sentences(codes: str | Sequence[str], values: Mapping[str, Any], lang: str, *,
                     params: Mapping[str, Any]) -> str:
    """See :func:`reasons_text` (``params`` complete)."""
    p = params
    if isinstance(codes, str):
        codes = [c for c in codes.split(";") if c]
    if "overdue" in codes:  # its sentence already says how long nothing was ordered
        codes = [c for c in codes if c != "no_order"]
    parts = []
    for code in codes:
        if code not in SIGNALS:
            raise ParamsError(f"Unknown churn reason code {code!r}; known: {', '.join(SIGNALS)}.")
        v = values
        kw: dict[str, Any] = {}
        key = f"churn.reason.{code}"
        if code in ("overdue", "no_order"):
            gap = v.get("usual_gap_days")
            kw = {"gap": _num(gap, lang), "days": _num(v.get("days_since_last_order"), lang)}
            if code == "overdue" and gap is not None and not pd.isna(gap) and round(float(gap)) <= 1:
                key = "churn.reason.overdue_daily"
        elif code == "frequency_drop":
            kw = {"recent": _num(v.get("orders_recent"), lang), "previous": _num(v.get("orders_previous"), lang),
                  "window": p["frequency_window_days"]}
        elif code == "aov_drop":
            kw = {"pct": fmt.pct(-float(v.get("aov_change", np.nan)), lang, 0), "k": p["aov_recent_orders"]}
        elif code == "late_payments":
            kw = {"late": _num(v.get("invoices_late"), lang), "n": _num(v.get("invoices_recent"), lang),
                  "days": _num(v.get("days_late_mean"), lang)}
        elif code == "unanswered_outreach":
            kw = {"n": _num(v.get("contacts_unanswered"), lang), "window": p["contacts_window_days"]}
        elif code == "complaints":
            kw = {"recent": _num(v.get("tickets_recent"), lang), "open": _num(v.get("tickets_open"), lang),
                  "window": p["tickets_window_days"]}
            if v.get("tickets_recent") == 0:  # only complaints opened before the window are still open
                key = "churn.reason.complaints_open_only"
        elif code == "low_expected_orders":
            n = float(v.get("expected_orders", np.nan))
            kw = {"n": _num(n, lang, 1), "horizon": p["horizon_days"]}
            if n < 0.05:
                key = "churn.reason.low_expected_orders_none"
                kw = {"horizon": p["horizon_days"]}
        parts.append(i18n.t(key, lang, **kw))
    return "; ".join(parts)


def reasons_text(codes: str | Sequence[str], values: Mapping[str, Any], lang: str, *,
                 params: Mapping[str, Any] | None = None) -> str:
    """Plain-language sentences for reason codes, joined by ``; ``.

    ``values`` is the customer's row of :func:`~crmlib.churn.scoring.compute_signals` (a Series or dict);
    ``params`` gives the windows quoted in the sentences (defaults otherwise). Example (en): ``"usually
    orders every 4 days; nothing for 21 days"``.
    """
    return reason_sentences(codes, values, lang, params=_params(params))


def worded_list(frame: pd.DataFrame, signals: pd.DataFrame, *, lang: str, params: Mapping[str, Any] | None = None,
                tickets: pd.DataFrame | None = None, as_of: Any = None, mask_pii: bool = False) -> pd.DataFrame:
    """A call list in codes (:func:`crmlib.churn.scoring.at_risk_list`) with its sentences in ``lang``:
    ``risk_text``, ``reasons_text``, ``action_text`` (an open complaint of ``tickets`` named by category and
    opening date), ``message_text``; contacts masked when ``mask_pii``. Columns in
    :data:`~crmlib.churn.actions.LIST_COLUMNS` order, then the weekly ones."""
    p = _params(params)
    out = frame.copy()
    rows = signals.set_index("customer_id").loc[out["customer_id"]]
    points = frame.attrs.get("method") == "points"
    out["risk_text"] = [risk_text(sc, lv, lang, points=points)
                        for sc, lv in zip(out["risk_score"], out["risk_level"], strict=True)]
    out["reasons_text"] = [reasons_text(codes, row, lang, params=p) for codes, (_, row) in
                           zip(out["reasons"], rows.iterrows(), strict=True)]
    # a learned score can list a customer with no single sign past its threshold: say so, never an empty "why"
    out.loc[out["reasons_text"] == "", "reasons_text"] = i18n.t("churn.reason.none_alone", lang)
    out["action_text"] = [i18n.t(f"churn.action.{a}", lang) for a in out["action_code"]]
    complaints = open_complaints(tickets, as_of=as_of, max_age_days=p["tickets_open_max_age_days"])
    if len(complaints):
        named = complaints.set_index("customer_id")
        for i in np.flatnonzero((out["action_code"] == "resolve_complaint").to_numpy()):
            cid = str(out["customer_id"].iloc[i])
            if cid in named.index:
                c = named.loc[cid]
                what = c["category"] if isinstance(c["category"], str) and c["category"] else i18n.t(
                    "churn.complaint_unnamed", lang)
                out.iloc[i, out.columns.get_loc("action_text")] = i18n.t(
                    "churn.action.resolve_complaint_named", lang, what=what, date=fmt.date(c["opened_at"], lang),
                    ticket=c["ticket_id"] if isinstance(c["ticket_id"], str) else "")
    out["message_text"] = [i18n.t(f"churn.message.{m}", lang) for m in out["message_code"]]
    out = mask_contacts(out, enabled=mask_pii)
    first = [c for c in LIST_COLUMNS if c in out.columns]
    out = out[first + [c for c in out.columns if c not in first]]
    out.attrs.update(frame.attrs)
    return out


def at_risk_list(risk: pd.DataFrame, signals: pd.DataFrame, *, params: Mapping[str, Any] | None = None,
                 lang: str = "tr", customers: pd.DataFrame | None = None,
                 next_orders: pd.DataFrame | None = None, mask_pii: bool = False,
                 tickets: pd.DataFrame | None = None, contacts: pd.DataFrame | None = None,
                 as_of: Any = None) -> pd.DataFrame:
    """The weekly at-risk list (:func:`crmlib.churn.scoring.at_risk_list`) with its sentences in ``lang``
    (:func:`worded_list`): reasons, risk, a suggested action and message; contacts masked when ``mask_pii``.

    ``tickets`` (optional): "resolve the complaint first" names the open complaint (category, opening date).
    """
    p = _params(params)
    coded = scoring.at_risk_list(risk, signals, params=p, customers=customers, next_orders=next_orders,
                                 contacts=contacts, as_of=as_of)
    return worded_list(coded, signals, lang=lang, params=p, tickets=tickets, as_of=as_of, mask_pii=mask_pii)


def weekly_call_lists(risk: pd.DataFrame, signals: pd.DataFrame, *, flags: pd.DataFrame | None,
                      orders: pd.DataFrame, as_of: Any, params: Mapping[str, Any] | None = None, lang: str = "tr",
                      customers: pd.DataFrame | None = None, next_orders: pd.DataFrame | None = None,
                      contacts: pd.DataFrame | None = None, mask_pii: bool = False,
                      tickets: pd.DataFrame | None = None) -> WeeklyResult:
    """:func:`crmlib.churn.scoring.weekly_call_lists` with the call list in words (:func:`worded_list`; the
    control group's action and message say so)."""
    p = _params(params)
    res = scoring.weekly_call_lists(risk, signals, flags=flags, orders=orders, as_of=as_of, params=p,
                                    customers=customers, next_orders=next_orders, contacts=contacts)
    return dataclasses.replace(res, at_risk=worded_list(res.at_risk, signals, lang=lang, params=p, tickets=tickets,
                                                        as_of=pd.Timestamp(as_of).normalize(), mask_pii=mask_pii))


# -- the notebook's one call -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ChurnAnalysis:
    """What ``02_churn_early_warning`` shows, section by section (sentences already in the report's language).

    Frames are empty (with their columns) where a section has nothing to show; ``has_*`` say whether a
    section's chart and table are shown.
    """

    horizon_days: int
    levels: Mapping[str, float]
    list_levels: tuple[str, ...]
    no_order_days: int
    method: str
    summary: list[str]
    tiles: list[tuple[str, str]]
    risk: pd.DataFrame
    active: pd.DataFrame
    distribution_text: str
    level_table: pd.DataFrame
    levels_text: str
    reasons_text: str
    unavailable: list[str]
    call_list: pd.DataFrame
    list_lines: list[str]
    messages: pd.DataFrame
    messages_text: str
    rhythm_lines: list[str]
    has_backtest: bool
    backtest_active: pd.DataFrame
    backtest: pd.DataFrame
    backtest_lines: list[str]
    has_calibration: bool
    calibration: pd.DataFrame
    p_order_text: str
    weights: pd.DataFrame
    model_text: str
    lapsed_products: pd.DataFrame
    lapsed_products_text: str
    has_winback: bool
    winback_by_week: pd.DataFrame
    winback_text: str
    winback_by_reason: pd.DataFrame
    has_control: bool
    control_lines: list[str]
    control_by_reason: pd.DataFrame


def _reason_names(codes: pd.Series, lang: str, no_order_days: int) -> list[str]:
    return [i18n.t(f"churn.signal.{r}", lang, days=no_order_days) if r in SIGNALS else i18n.t("common.none", lang)
            for r in codes]


def list_lines(at_risk: pd.DataFrame, metrics: pd.DataFrame, changes: Mapping[str, Any], n_campaign: int, *,
               lang: str, params: Mapping[str, Any]) -> list[str]:
    """The call list section's sentences: the list, the team's capacity, moved down, the campaign and how
    many of the called customers the backtest says will be lost."""
    p, n = params, (lambda x: fmt.number(x, lang))
    lines = [i18n.t("churn.p.list", lang, days=p["horizon_days"], size=p["list_size"])]
    if p["calls_per_week"] is not None or changes["deferred_recent_contact"]:
        lines.append(i18n.t("churn.p.capacity", lang,
                            calls=n(p["calls_per_week"] if p["calls_per_week"] is not None else p["list_size"]),
                            cut=n(changes["cut_by_capacity"]), deferred=n(changes["deferred_recent_contact"]),
                            days=p["min_days_between_calls"]))
    if changes["moved_down"]:
        lines.append(i18n.t("churn.p.moved_down", lang, n=n(changes["moved_down"])))
    if n_campaign:
        lines.append(i18n.t("churn.p.campaign", lang, n=n(n_campaign), moved=n(changes["moved"]),
                            max_weeks=p["max_weeks_on_list"]))
    reach = metrics.loc[(metrics["population"] == "active") & (metrics["method"] == "risk_score")] \
        if len(metrics) else metrics
    if len(reach) and reach["precision_at_list"].notna().all():
        r, n_call = reach.iloc[0], min(int(reach["n_list"].iloc[0]), int((at_risk["group"] != "control").sum()))
        lines.append(i18n.t("churn.p.reach", lang, n=n(n_call), n_past=n(r["n_list"]), days=p["horizon_days"],
                            precision=fmt.pct(r["precision_at_list"], lang, 0),
                            k=n(round(r["precision_at_list"] * n_call))))
    return lines


def analyse(ctx: Any) -> ChurnAnalysis:
    """Score every customer, build this week's lists, backtest, and put it all in words, once.

    Writes the exports ``churn_risk.csv``, ``at_risk``, ``winback_campaign``, ``winback.csv`` and
    ``lapsed_products``, and stages this run's ``churn_flags`` history.

    Parameters
    ----------
    ctx
        The run's :class:`~crmlib.core.context.Context`.

    Returns
    -------
    ChurnAnalysis
    """
    lang, cur, p = ctx.lang, ctx.currency, ctx.params["churn"]
    h = int(p["horizon_days"])
    model, expected = clv_inputs(ctx, horizon_days=h)
    clv_params = ctx.params["clv"] if model is not None else None
    signals = scoring.compute_signals(ctx.customer_summary, ctx.orders, as_of=ctx.as_of, tables=ctx.tables,
                                      expected_orders=expected, params=p)
    risk_model = scoring.fit_risk_model(ctx.orders, as_of=ctx.as_of, tables=ctx.tables, params=p,
                                        clv_params=clv_params, summaries=ctx.summary_at)
    risk = scoring.risk_scores(signals, params=p, model=risk_model)
    next_orders = scoring.expected_next_order(ctx.customer_summary, as_of=ctx.as_of, model=model, params=p)
    week = weekly_call_lists(risk, signals, flags=ctx.history("churn_flags"), orders=ctx.orders, as_of=ctx.as_of,
                             params=p, lang=lang, customers=ctx.tables.get("customers"), next_orders=next_orders,
                             contacts=ctx.tables.get("contacts"), mask_pii=ctx.mask_pii,
                             tickets=ctx.tables.get("tickets"))
    at_risk = week.at_risk
    metrics = backtest(ctx.orders, as_of=ctx.as_of, tables=ctx.tables, params=p, clv_params=clv_params,
                       population=["active", "all"], summaries=ctx.summary_at, model=risk_model)
    flagged_now, current = flagged(risk, params=p), active(risk, params=p)
    rhythm = risk.loc[risk["usual_gap_days"].notna()]
    twice = rhythm.loc[rhythm["days_since_last_order"] > 2 * rhythm["usual_gap_days"], "customer_id"]
    p_order = model.probability_of_order(ctx.customer_summary, horizon_days=30) if model is not None else None
    calibration = cal.p_order_calibration(ctx.orders, as_of=ctx.as_of, clv_params=ctx.params["clv"],
                                          summaries=ctx.summary_at)
    ctx.export_csv("churn_risk", export_table(risk, signals, next_orders, lang=lang, params=p, p_order=p_order))
    ctx.export_action_list("at_risk", at_risk)
    ctx.export_action_list("winback_campaign", week.campaign)
    ctx.export_csv("winback", week.episodes)
    lapsed_lines = cp.lapsed_products(None, ctx.customer_summary, as_of=ctx.as_of, params=p,
                                      rhythm=ctx.view("product_rhythm"))
    ctx.export_action_list("lapsed_products", lapsed_lines)
    ctx.stage_history("churn_flags", week.flags)

    n, lv, days = (lambda x: fmt.number(x, lang)), p["levels"], p["no_order_days"]
    logistic = risk_model.method_ == "logistic"
    active_metrics = metrics.loc[metrics["population"] == "active"]
    has_backtest = bool(active_metrics["auc"].notna().any())
    backtest_lines = ([i18n.t("churn.p.backtest", lang, cutoff=fmt.date(metrics["cutoff"].iloc[0], lang), days=h),
                       backtest_line(metrics, lang=lang, params=p)] if has_backtest
                      else [i18n.t("churn.p.no_backtest", lang, days=h)])
    has_calibration = p_order is not None and len(calibration) > 0
    p_order_text = (i18n.t("churn.p.p_order", lang, cutoff=fmt.date(calibration.attrs["cutoff"], lang),
                           error=fmt.pct(calibration.attrs["mean_abs_error"], lang, 1)) if has_calibration
                    else i18n.t("churn.p.p_order_none", lang))
    weights = risk_model.summary()
    weights = weights.assign(signal=[i18n.t(f"churn.signal.{c}", lang, days=days) for c in weights["signal"]])
    if not ctx.has("orders", "product_id"):
        lapsed_text = i18n.t("churn.p.lapsed_products_need", lang)
    elif len(lapsed_lines):
        counts = {k: n(v) for k, v in cp.summary_counts(lapsed_lines).items() if k != "value"}
        lapsed_text = i18n.t("churn.p.lapsed_products", lang, days=h, **counts,
                             value=fmt.money(lapsed_lines["value_at_stake"].sum(), lang, cur))
    else:
        lapsed_text = i18n.t("churn.p.no_lapsed_products", lang)
    shown_lapsed = cp.with_names(lapsed_lines, customers=ctx.tables.get("customers"),
                                 products=ctx.tables.get("products"))
    has_winback = week.changes["previous"] is not None and len(week.by_week) > 0
    by_reason = week.by_reason.sort_values(["n_episodes", "reason"], ascending=[False, True])
    control = week.control
    has_control = bool(control["n_control"].gt(0).any() and control["n_call"].gt(0).any())
    share = fmt.pct(p["control_share"], lang, 0)
    if has_control:
        c = control.iloc[0]
        control_lines = [i18n.t("churn.p.control", lang, share=share, rate_call=fmt.pct(c["rate_call"], lang, 0),
                                rate_control=fmt.pct(c["rate_control"], lang, 0),
                                difference=fmt.pct(c["difference"], lang, 0), low=fmt.pct(c["ci_low"], lang, 0),
                                high=fmt.pct(c["ci_high"], lang, 0))]
    else:
        control_lines = [i18n.t("churn.p.control_pending", lang, share=share)] if p["control_share"] else []
    cbr = week.control_by_reason
    return ChurnAnalysis(
        horizon_days=h, levels=lv, list_levels=tuple(p["list_levels"]), no_order_days=days,
        method=risk_model.method_,
        summary=summary_lines(risk, mask_contacts(at_risk, enabled=masks_html(ctx)),  # names as the tables show
                              lang=lang, currency=cur, params=p, metrics=metrics,
                              winback_week=week.by_week, method=risk_model.method_, changes=week.changes),
        tiles=[(i18n.t("churn.tile.at_risk", lang), n(len(flagged_now))),
               (i18n.t("churn.tile.value", lang, days=h), fmt.money(flagged_now["value_at_stake"].sum(), lang, cur)),
               (i18n.t("churn.tile.listed", lang), n(len(at_risk)))],
        risk=risk, active=current,
        distribution_text=i18n.t("churn.p.distribution" if logistic else "churn.p.distribution_points", lang,
                                 days=h, lapsed_days=p["lapsed_days"], medium=fmt.number(lv["medium"], lang, 2),
                                 high=fmt.number(lv["high"], lang, 2), critical=fmt.number(lv["critical"], lang, 2)),
        level_table=level_table(risk, lang=lang, params=p),
        levels_text=i18n.t("churn.p.levels_base", lang, n=n(len(risk)), n_active=n(len(current))),
        reasons_text=i18n.t("churn.p.reasons", lang, n=p["n_reasons"]),
        unavailable=unavailable_text(signals, lang=lang, no_order_days=days),
        # the usual gap is in the reasons
        # a masked phone ("+90 5** *** ** 48") helps no reader and widens the table past the page: the sales
        # team's lists have it
        call_list=at_risk[["rank", "customer_id", *[c for c in ("name", "phone", "city") if c in at_risk.columns
                                                    and not (c == "phone" and masks_html(ctx))],
                           "risk_text", "value_at_stake", "weeks_on_list", "reasons_text", "last_order_date",
                           "expected_next_order_date", "action_text"]],
        list_lines=list_lines(at_risk, metrics, week.changes, len(week.campaign), lang=lang, params=p),
        messages=at_risk.groupby(["action_text", "message_text"], sort=False).size().rename(
            "action_count").reset_index(),
        messages_text=i18n.t("churn.p.messages", lang),
        rhythm_lines=[i18n.t("churn.p.rhythm", lang, n=n(len(twice)), n_list=n(textops.isin(at_risk["customer_id"], twice).sum())),
                      i18n.t("churn.p.next_order", lang, n_rhythm=n((next_orders["basis"] == "rhythm").sum()),
                             n_model=n((next_orders["basis"] == "model").sum()))],
        has_backtest=has_backtest, backtest_active=active_metrics,
        backtest=backtest_table(metrics, lang=lang, params=p).rename(columns={"n_customers": "n_scored"}),
        backtest_lines=[line for line in backtest_lines if line],
        has_calibration=has_calibration, calibration=calibration, p_order_text=p_order_text,
        weights=weights,
        model_text=(i18n.t("churn.p.model_logistic", lang, n=n(risk_model.n_train_), lost=n(risk_model.n_lost_),
                           date=fmt.date(risk_model.trained_as_of_, lang)) if logistic
                    else i18n.t("churn.p.model_points", lang)),
        lapsed_products=shown_lapsed.drop(columns=["n_purchase_days", "amount_per_purchase"]),
        lapsed_products_text=lapsed_text,
        has_winback=has_winback, winback_by_week=week.by_week,
        winback_text=(i18n.t("churn.p.winback_episodes", lang, lapsed_days=p["lapsed_days"],
                             max_weeks=p["max_weeks_on_list"]) if has_winback else i18n.t("churn.p.first_run", lang)),
        winback_by_reason=by_reason.assign(reason=_reason_names(by_reason["reason"], lang, days)),
        has_control=has_control, control_lines=control_lines,
        control_by_reason=cbr[["reason", "n_call", "rate_call", "n_control", "rate_control", "difference"]].assign(
            reason=_reason_names(cbr["reason"], lang, days)),
    )
