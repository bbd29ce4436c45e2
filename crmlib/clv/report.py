"""Everything ``03_lifetime_value`` shows, computed once by :func:`analyse`, and the practice's wording.

The numbers come from :mod:`crmlib.clv.model`, :mod:`crmlib.clv.analysis`, :mod:`crmlib.clv.choice` and
:mod:`crmlib.clv.ranges`; this module puts them into words (``crmlib/clv/messages.yaml``): the executive
summary, the model's notes and parameters, the sections' sentences and display tables. ``UNITS`` is the
column-unit map of the practice's tables (``rp.table(ctx, frame, ns="clv")``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlib.clv import choice, ranges
from crmlib.clv.analysis import (
    ACTIVITY_BANDS,
    HoldoutResult,
    activity_bands,
    cac_ltv,
    clv_by_group,
    clv_share_of_top,
    holdout_validation,
    model_facts,
    same_rows,
    top_customers,
    value_to_date,
)
from crmlib.clv.model import ClvModel, clv_table, resolve_params
from crmlib.core.readiness import NotEnoughData, describe
from crmlib.errors import DataError
from crmlib.report import formatting as fmt
from crmlib.report import i18n
from crmlib.report.display import mask_contacts

#: units of the columns the report's tables show (``rp.table(ctx, frame, ns="clv")``)
UNITS: dict[str, str] = {
    "revenue": "money", "avg_order_value": "money", "revenue_per_month": "money", "n_orders": "int",
    "recency_days": "int", "first_order_date": "date", "value": "number:3", "std_error": "number:3",
    "predicted": "int", "actual": "int", "total_error": "pct", "group_error": "number:2",
    "total_clv": "money", "mean_clv": "money", "clv_share": "pct", "mean_p_alive": "pct", "n_customers": "int",
    "total_expected_orders": "number:0", "expected_order_value": "money", "clv": "money", "p_alive": "pct",
    "expected_orders": "number:1", "customer_share": "pct", "revenue_share": "pct", "spend": "money",
    "cac": "money", "ltv": "money", "new_customers": "int", "ltv_to_cac": "number:1",
}


# -- the executive summary and the model in words --------------------------------------------------------
def summary_lines(table: pd.DataFrame, model: ClvModel, validation: HoldoutResult | None,
                  cac: pd.DataFrame | None, *, customer_summary: pd.DataFrame, lang: str, currency: str,
                  horizon_days: float, annual_discount_rate: float, min_ratio: float = 3.0) -> list[str]:
    """The report's executive summary, in ``lang`` (catalogue keys ``clv.sum.*``).

    The "still active" count is over repeat buyers only: BG/NBD gives every one-time buyer P(alive) = 1
    (drop-out can only follow a repeat purchase; FHL 2005, assumption iv), which says nothing about them.
    """
    repeat = table.loc[repeat_buyers(table, customer_summary), "p_alive"]
    lines = [
        i18n.t("clv.sum.value", lang, n=fmt.number(len(table), lang), days=fmt.number(horizon_days, lang),
               orders=fmt.number(table["expected_orders"].sum(), lang),
               value=fmt.money(table["clv"].sum(), lang, currency),
               rate=fmt.pct(annual_discount_rate, lang)),
        i18n.t("clv.sum.top", lang, share=fmt.pct(clv_share_of_top(table, 0.1), lang)),
        i18n.t("clv.sum.alive", lang, n=fmt.number(int((repeat >= 0.5).sum()), lang),
               total=fmt.number(len(repeat), lang),
               share=fmt.pct(float((repeat >= 0.5).mean()) if len(repeat) else float("nan"), lang)),
    ]
    if validation is not None and validation.status == "ok":
        lines.append(i18n.t("clv.sum.validation", lang, days=fmt.number(validation.holdout_days, lang),
                            predicted=fmt.number(validation.totals["predicted_orders"], lang),
                            actual=fmt.number(validation.totals["actual_orders"], lang),
                            error=signed_pct(validation.totals["orders_error"], lang)))
    for key, values in model.notes():
        if key in ("clv.note.bgnbd_penalized", "clv.note.gg_penalized", "clv.note.gg_failed",
                   "clv.note.gg_too_few", "clv.note.correlation_high"):
            lines.append(note_text(key, values, lang))
    if cac is not None and len(cac):
        low = cac.loc[cac["below_target"]]
        if len(low):
            names = ", ".join(channel_label(c, lang) for c in low["channel"])
            lines.append(i18n.t("clv.sum.cac_low", lang, n=len(low), channels=names, target=fmt.number(min_ratio, lang, 1)))
        elif cac["ltv_to_cac"].notna().any():
            lines.append(i18n.t("clv.sum.cac_ok", lang, target=fmt.number(min_ratio, lang, 1)))
    return lines


def repeat_buyers(table: pd.DataFrame, customer_summary: pd.DataFrame) -> np.ndarray:
    """Per row of the CLV ``table``, whether the customer bought again (frequency > 0 in the per-customer
    table)."""
    if same_rows(table["customer_id"], customer_summary["customer_id"]):  # the table's rows are the summary's
        freq = customer_summary["frequency"].to_numpy()
    else:
        freq = table["customer_id"].map(customer_summary.set_index("customer_id")["frequency"]).to_numpy()
    return np.asarray(freq > 0, dtype=bool)


def signed_pct(x: float, lang: str) -> str:
    """A relative error as a signed percentage (``+11.2%``, ``-%4,0``)."""
    text = fmt.pct(x, lang)
    return f"+{text}" if x == x and x > 0 else text


def note_text(key: str, values: Mapping[str, Any], lang: str) -> str:
    """A model note (:meth:`ClvModel.notes`) as a sentence, numbers formatted for ``lang``."""
    shown = {}
    for name, value in values.items():
        if name in ("rate",):
            shown[name] = fmt.pct(value, lang)
        elif name in ("r", "threshold"):
            shown[name] = fmt.number(value, lang, 2)
        elif name == "penalizer":
            shown[name] = fmt.number(value, lang, 3)
        elif isinstance(value, (int, np.integer)):
            shown[name] = fmt.number(value, lang)
        else:
            shown[name] = value
    return i18n.t(key, lang, **shown)


def channel_label(channel: Any, lang: str) -> str:
    """A channel name, or the catalogue's "all channels" for a marketing table without channels."""
    return i18n.t("clv.all_channels", lang) if channel is None or channel != channel else str(channel)


def parameters_display(model: ClvModel, lang: str) -> pd.DataFrame:
    """:meth:`ClvModel.parameters_table` with the model names and a plain-words meaning in ``lang``."""
    table = model.parameters_table()
    table["model"] = [i18n.t(f"clv.model.{m}", lang) for m in table["model"]]
    table.insert(2, "meaning", [i18n.t(f"clv.param.{p}", lang) for p in table["parameter"]])
    return table


def band_label(low: float, high: float, lang: str) -> str:
    """A P(alive) band's name for readers (``clv.band.<n>`` with its limits)."""
    index = int(np.searchsorted(np.asarray(ACTIVITY_BANDS), low, side="right"))
    return i18n.t(f"clv.band.{index}", lang, low=fmt.pct(low, lang, 0), high=fmt.pct(high, lang, 0))


def fitted_model(ctx: Any) -> tuple[ClvModel | None, str | None]:
    """The run's fitted model, or ``None`` and one sentence (in the report language) saying why not.

    Lifetime value needs repeat purchases: a shop whose history has (almost) none gets a report that says
    so instead of a failure page. Any other error still propagates.
    """
    try:
        return ctx.clv_model(), None
    except NotEnoughData as err:
        return None, describe(err.readiness, ctx.lang, key="clv.txt.not_ready")
    except DataError:
        summary = ctx.customer_summary
        return None, i18n.t("clv.txt.no_model", ctx.lang, customers=fmt.number(len(summary), ctx.lang),
                            repeat=fmt.number(int((summary["frequency"] > 0).sum()), ctx.lang))


class _Background:
    """``func(*args)`` on a thread of its own, started on entering the ``with`` block; ``result()`` waits for it
    and returns its value or raises its error. Leaving the block always waits for the thread: an error raised
    in the block is the one that propagates (the thread's, if any, is then dropped, as the call it replaces
    would not have been made)."""

    def __init__(self, func: Any, *args: Any) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export")
        self._future = self._pool.submit(func, *args)

    def __enter__(self) -> _Background:
        return self

    def result(self) -> Any:
        return self._future.result()

    def __exit__(self, *exc: Any) -> None:
        self._pool.shutdown(wait=True)


def with_ranges(table: pd.DataFrame, ranged: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the columns of ``ranged`` (:func:`crmlib.clv.ranges.clv_ranges`) matched on
    ``customer_id``: ``table.merge(ranged, on="customer_id", how="left")``, or, when both hold the same
    customers in the same (sorted) order, the columns side by side (the same frame, without hashing the ids)."""
    extra = [c for c in ranged.columns if c != "customer_id"]
    if not set(extra) & set(table.columns) and same_rows(table["customer_id"], ranged["customer_id"]):
        return table.assign(**{c: ranged[c].to_numpy() for c in extra}).reset_index(drop=True)
    return table.merge(ranged, on="customer_id", how="left")


# -- the notebook's one call -----------------------------------------------------------------------------
def _values(ctx: Any, model: ClvModel, kind: str, p: Mapping[str, Any]
            ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Every customer's value and its range with purchase model ``kind``: :func:`clv_table` and
    :func:`crmlib.clv.ranges.clv_ranges`."""
    model.use_purchase_model(kind, ctx.customer_summary)
    table = clv_table(model, ctx.customer_summary, horizon_days=p["horizon_days"],
                      annual_discount_rate=p["annual_discount_rate"])
    ranged, spend_range = ranges.clv_ranges(model, ctx.customer_summary, table, horizon_days=p["horizon_days"],
                                            draws=p["interval_draws"])
    return table, ranged, spend_range


@dataclass(frozen=True)
class ClvAnalysis:
    """What ``03_lifetime_value`` shows, section by section (sentences already in the report's language).

    Without a model (``has_model`` false: too few repeat purchases) only ``problem`` and the value-to-date
    view are filled; the other frames are empty and the sentence lists empty.
    """

    has_model: bool
    problem: list[str]
    top_n: int
    horizon_days: int
    target: float
    summary: list[str]
    value_to_date: pd.DataFrame
    value_to_date_text: str
    model_lines: list[str]
    parameters: pd.DataFrame
    parameters_lines: list[str]
    notes: list[str]
    has_validation: bool
    by_frequency: pd.DataFrame
    validation_lines: list[str]
    has_comparison: bool
    comparison: pd.DataFrame
    comparison_text: str
    clv: pd.Series
    distribution_text: str
    by_segment_chart: pd.DataFrame
    by_segment: pd.DataFrame
    segments_text: str
    top: pd.DataFrame
    top_text: str
    bands: pd.DataFrame
    bands_table: pd.DataFrame
    bands_text: str
    has_cac: bool
    cac_missing: list[str]
    cac_chart: pd.DataFrame
    cac_lines: list[str]
    cac_table: pd.DataFrame


#: the customers table's columns this page uses (names in the top lists, channels for CAC:LTV)
NAME_COLUMNS: tuple[str, ...] = ("customer_id", "name", "channel")
#: the columns of the orders table the holdout check reads
HOLDOUT_COLUMNS: tuple[str, ...] = ("customer_id", "order_date", "amount", "is_purchase")


def _history_start(ctx: Any) -> list[str]:
    """A sentence when the orders start less than a year before the as-of date: a "first purchase" is then the
    first in the data, and customers who bought before it look new."""
    start = pd.Timestamp(ctx.data_window[0])
    if (ctx.as_of - start).days >= 365:
        return []
    return [i18n.t("clv.txt.first_in_data", ctx.lang, date=fmt.date(start, ctx.lang))]


def _no_model(ctx: Any, p: Mapping[str, Any], problem: str | None, *,
              customers: pd.DataFrame | None) -> ClvAnalysis:
    lang, empty = ctx.lang, pd.DataFrame()
    to_date = value_to_date(ctx.customer_summary, n=p["top_n"], customers=customers)
    return ClvAnalysis(
        has_model=False, problem=[problem] if problem else [], top_n=int(p["top_n"]),
        horizon_days=int(p["horizon_days"]), target=float(p["min_ltv_to_cac"]), summary=[],
        value_to_date=mask_contacts(to_date, enabled=ctx.mask_pii),
        value_to_date_text=" ".join([i18n.t("clv.txt.value_to_date", lang, n=fmt.number(len(to_date), lang)),
                                     *_history_start(ctx)]),
        model_lines=[], parameters=empty, parameters_lines=[], notes=[], has_validation=False, by_frequency=empty,
        validation_lines=[], has_comparison=False, comparison=empty, comparison_text="", clv=pd.Series(dtype=float),
        distribution_text="", by_segment_chart=empty, by_segment=empty, segments_text="", top=empty, top_text="",
        bands=empty, bands_table=empty, bands_text="", has_cac=False, cac_missing=[], cac_chart=empty,
        cac_lines=[], cac_table=empty)


def analyse(ctx: Any) -> ClvAnalysis:
    """Lifetime value of every customer with the run's model, its holdout check and model comparison, value by
    segment, the top customers, activity bands and CAC:LTV, put into words, once.

    Writes the exports ``clv.csv`` and ``clv_model.json``. Without enough repeat purchases for a model the
    result carries the reason and the value-to-date view (no exports).

    Parameters
    ----------
    ctx
        The run's :class:`~crmlib.core.context.Context`.

    Returns
    -------
    ClvAnalysis
    """
    from crmlib import segmentation as seg
    from crmlib.overview.kpis import KPI_DEFAULTS, cac_by_channel

    lang, cur = ctx.lang, ctx.currency
    p = resolve_params(ctx.params["clv"])
    horizon, rate, target = p["horizon_days"], p["annual_discount_rate"], p["min_ltv_to_cac"]
    # the holdout check and the model comparison read only the orders: they run while the runner may still be
    # computing the per-customer table and fitting the run's model on it. The orders' four columns the check
    # reads, not the whole table (read from the runner's file in a notebook)
    validation = holdout_validation(ctx.orders_columns(list(HOLDOUT_COLUMNS)), as_of=ctx.as_of, params=p)
    with contextlib.ExitStack() as stack:
        # Pareto/NBD's optimisation runs in its own process meanwhile (crmlib.clv.choice): the figures are
        # computed with the better of the other two models and computed again only if Pareto/NBD wins
        comparing = (stack.enter_context(choice.start_comparison(validation, params=p))
                     if validation.status == "ok" else None)
        # nor do the ranges' holdout check and the customers' names and channels (not the whole master)
        coverage = (ranges.holdout_coverage(validation, draws=p["interval_draws"],
                                            max_customers=p["compare_max_customers"])
                    if validation.status == "ok" else None)
        customers = ctx.read("customers", NAME_COLUMNS)
        model, problem = fitted_model(ctx)
        if model is None:
            return _no_model(ctx, p, problem, customers=customers)
        kind = choice.choose(comparing.known() if comparing is not None else None, setting=p["model"])
        table, ranged, spend_range = _values(ctx, model, kind, p)
        comparison = comparing.result() if comparing is not None else None
    chosen = choice.choose(comparison, setting=p["model"])
    if chosen != kind:
        table, ranged, spend_range = _values(ctx, model, chosen, p)
    table = with_ranges(table.assign(customer_id=table["customer_id"].astype(str)), ranged)
    # clv.csv is written on a second thread while the rest of the page is computed (the formatting and writing
    # run in C++ without Python's lock); its error, if any, is raised here before anything else is exported
    with _Background(ctx.export_csv, "clv", table.copy(deep=False)) as csv_written:
        facts = model_facts(model)
        segments = ctx.rfm_segments(columns=["customer_id", "rfm_segment"])
        by_segment = clv_by_group(table, segments.set_index("customer_id")["rfm_segment"], order=list(seg.SEGMENTS),
                                  repeat=repeat_buyers(table, ctx.customer_summary))
        segment_names = pd.Series({code: seg.segment_label(code, lang) for code in by_segment["group"]})
        top = top_customers(table, ctx.customer_summary, n=p["top_n"], customers=customers)
        top_share = top["clv"].sum() / table["clv"].sum()
        bands = activity_bands(table, ctx.customer_summary)
        has_marketing = ctx.has("marketing", "spend", "new_customers")
        cac = (cac_ltv(ctx.tables["marketing"], table, customers=customers, min_ratio=target,
                       acquisition=cac_by_channel(ctx.tables["marketing"], as_of=ctx.as_of))
               if has_marketing else None)
        csv_written.result()
    ctx.export_json("clv_model", model.to_dict())

    n, money = (lambda x: fmt.number(x, lang)), (lambda x: fmt.money(x, lang, cur))
    summary = summary_lines(table, model, validation, cac, customer_summary=ctx.customer_summary, lang=lang,
                            currency=cur, horizon_days=horizon, annual_discount_rate=rate, min_ratio=target)
    # the value's range right after the value (the same discounted figure), then the undiscounted spend
    summary.insert(1, i18n.t("clv.summary.range", lang, days=n(horizon), value_low=money(spend_range["value_p10"]),
                             value_high=money(spend_range["value_p90"]), mean=money(spend_range["spend_mean"]),
                             low=money(spend_range["spend_p10"]), high=money(spend_range["spend_p90"])))
    model_lines = [i18n.t("clv.txt.bgnbd", lang, rate=fmt.number(facts["purchases_per_year"], lang, 1),
                          drop=fmt.pct(facts["dropout"], lang)),
                   i18n.t("clv.txt.gg", lang, mean=money(facts["mean_order_value"]))
                   if model.gamma_gamma_ is not None else i18n.t("clv.txt.gg_missing", lang)]
    if validation.status == "ok":
        validation_lines = [
            i18n.t("clv.txt.validation", lang, date=fmt.date(validation.calibration_end, lang),
                   days=n(validation.holdout_days), error=signed_pct(validation.totals["orders_error"], lang),
                   spend_error=signed_pct(validation.totals["spend_error"], lang)),
            i18n.t("clv.txt.coverage_sample" if coverage["sampled"] else "clv.txt.coverage", lang,
                   coverage=fmt.pct(coverage["coverage"], lang, 0), actual=money(coverage["total_actual"]),
                   n=n(int(coverage["n_customers"])),
                   inside=i18n.t("clv.inside.yes" if coverage["total_inside"] else "clv.inside.no", lang),
                   low=money(coverage["total_p10"]), high=money(coverage["total_p90"]))]
    else:
        validation_lines = [i18n.t(f"clv.txt.validation_{'short' if validation.status == 'too_short' else 'failed'}",
                                   lang, days=n(validation.holdout_days))]
    if comparison is not None:
        shown_comparison = comparison.drop(columns="seconds").assign(
            model=[i18n.t(f"clv.modelname.{m}", lang) for m in comparison["model"]],
            status=[i18n.t(f"clv.modelstatus.{s}", lang) for s in comparison["status"]])
        left_out = [i18n.t(f"clv.modelname.{m}", lang)
                    for m, status in zip(comparison["model"], comparison["status"], strict=True) if status != "ok"]
        comparison_text = i18n.t("clv.txt.models_some" if left_out else "clv.txt.models", lang,
                                 date=fmt.date(validation.calibration_end, lang),
                                 days=n(validation.holdout_days), left_out=", ".join(left_out),
                                 chosen=i18n.t(f"clv.modelname.{model.purchase_kind_}", lang),
                                 override=i18n.t("clv.txt.models_override", lang) if p["model"] != "auto" else "")
    else:
        shown_comparison, comparison_text = pd.DataFrame(), i18n.t("clv.txt.models_none", lang)
    named_segments = by_segment.assign(group=by_segment["group"].map(segment_names))
    largest = by_segment.loc[by_segment["total_clv"].idxmax()]
    if cac is None:
        marketing = ctx.tables.get("marketing")
        cac_missing = (["month", "channel", "spend", "new_customers"] if marketing is None
                       else ["spend", "new_customers"])
        names, cac_lines, cac_table = [], [], pd.DataFrame()
    else:
        cac_missing = []
        names = [channel_label(c, lang) for c in cac["channel"]]
        basis = "channel" if (cac["ltv_basis"] == "channel").any() else "overall"
        cac_lines = [i18n.t(f"clv.txt.cac_{basis}", lang, days=n(horizon), target=fmt.number(target, lang, 1)),
                     i18n.t("clv.txt.cac_period", lang, months=KPI_DEFAULTS["cac_months"])]
        cac_table = cac.assign(channel=names, below_target=[i18n.t("clv.yes" if b else "clv.no", lang)
                                                            for b in cac["below_target"]]).drop(columns="ltv_basis")
    return ClvAnalysis(
        has_model=True, problem=[], top_n=int(p["top_n"]), horizon_days=int(horizon), target=float(target),
        summary=summary, value_to_date=pd.DataFrame(), value_to_date_text="",
        model_lines=model_lines, parameters=parameters_display(model, lang),
        parameters_lines=[i18n.t("clv.txt.params", lang), i18n.t("clv.txt.notes", lang)],
        notes=[note_text(key, values, lang) for key, values in model.notes()],
        has_validation=validation.status == "ok", by_frequency=validation.by_frequency,
        validation_lines=validation_lines,
        has_comparison=comparison is not None, comparison=shown_comparison, comparison_text=comparison_text,
        clv=table["clv"],
        distribution_text=i18n.t("clv.txt.distribution", lang, median=money(table["clv"].median()),
                                 p90=money(table["clv"].quantile(0.9))),
        by_segment_chart=named_segments,
        by_segment=named_segments.rename(columns={"group": "segment", "expected_orders": "total_expected_orders"}),
        segments_text=i18n.t("clv.txt.segments", lang, segment=segment_names[largest["group"]],
                             share=fmt.pct(largest["clv_share"], lang)),
        top=mask_contacts(top, enabled=ctx.mask_pii),
        top_text=i18n.t("clv.txt.top", lang, n=n(len(top)), share=fmt.pct(top_share, lang)),
        bands=bands,
        bands_table=bands.assign(band=[band_label(lo, hi, lang) for lo, hi in zip(bands["low"], bands["high"],
                                                                                  strict=True)])[
            ["band", "n_customers", "customer_share", "revenue", "revenue_share", "clv"]],
        bands_text=i18n.t("clv.txt.palive", lang, n_lost=n(bands["n_customers"].iloc[0]),
                          n_repeat=n(bands["n_customers"].sum()), limit=fmt.pct(bands["high"].iloc[0], lang, 0),
                          share=fmt.pct(bands["revenue_share"].iloc[0], lang)),
        has_cac=cac is not None, cac_missing=cac_missing,
        cac_chart=cac.assign(channel=names) if cac is not None else pd.DataFrame(), cac_lines=cac_lines,
        cac_table=cac_table,
    )
