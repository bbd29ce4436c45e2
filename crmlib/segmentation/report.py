"""What ``01_segmentation`` shows: segment and tier names, strategies, the contact list, the executive
summary, the section sentences and :func:`analyse`, which computes them once for the notebook.

Every text comes from the practice's catalogue (``crmlib/segmentation/messages.yaml``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlib.core.readiness import Readiness, describe, history_days, readiness
from crmlib.data.frames import map_distinct, require_columns
from crmlib.report import display as report
from crmlib.report import formatting as fmt
from crmlib.report import i18n
from crmlib.report.display import mask_email, mask_name, mask_phone  # noqa: F401  (re-exported)
from crmlib.segmentation.actions import ENTERED, GONE, consent_given, migration, missing_consent
from crmlib.segmentation.params import DEFAULTS, TIERS, lapsed_limit, resolve_params
from crmlib.segmentation.rfm import segment_profile, top_customers

log = logging.getLogger(__name__)

#: contact columns of the customers table carried into the contact list, masked with mask_pii
CONTACT_COLUMNS: tuple[str, ...] = ("name", "email", "phone", "city")

#: the unit of each column the report's tables show (headers are ``seg.col.<column>``)
UNITS: dict[str, str] = {
    "n_customers": "int", "customer_share": "pct", "revenue": "money", "revenue_share": "pct", "margin": "money",
    "margin_share": "pct", "median_recency_days": "int", "mean_orders": "number:1", "mean_revenue": "money",
    "recency_days": "int", "frequency": "int", "monetary": "money",
}


# -- labels and strategies --------------------------------------------------------------------------------
def segment_label(code: str, lang: str) -> str:
    """The segment's name in ``lang`` (``seg.name.<code>``); the code itself for a custom segment."""
    key = f"seg.name.{code}"
    return i18n.t(key, lang) if i18n.has(key) else str(code)


def tier_label(tier: str, lang: str) -> str:
    """The tier's name in ``lang`` (``seg.tier.<A|B|C>``)."""
    key = f"seg.tier.{tier}"
    return i18n.t(key, lang) if i18n.has(key) else str(tier)


def group_label(code: str, lang: str) -> str:
    """Label of a segment, tier or migration code (``entered``/``gone``) in ``lang``."""
    if code in TIERS:
        return tier_label(code, lang)
    if code in (ENTERED, GONE):
        return i18n.t(f"seg.migration.{code}", lang)
    return segment_label(code, lang)


def strategy_table(profile: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """One row per segment (or tier) of ``profile`` with its name, size, revenue share and strategy.

    Parameters
    ----------
    profile
        From :func:`crmlib.segmentation.rfm.segment_profile`: indexed by segment code (or tier, index name
        ``abc_tier``), columns ``n_customers`` and ``revenue_share``.

    Returns
    -------
    DataFrame
        ``group, n_customers, revenue_share, strategy`` (texts ``seg.strategy.<code>`` /
        ``seg.tier_strategy.<tier>``).
    """
    tiers = profile.index.name == "abc_tier"
    rows = []
    for code, row in profile.iterrows():
        key = f"seg.tier_strategy.{code}" if tiers else f"seg.strategy.{code}"
        rows.append({"group": group_label(str(code), lang), "n_customers": int(row["n_customers"]),
                     "revenue_share": row["revenue_share"],
                     "strategy": i18n.t(key, lang) if i18n.has(key) else ""})
    return pd.DataFrame(rows, columns=["group", "n_customers", "revenue_share", "strategy"])


# -- masking ----------------------------------------------------------------------------------------------
def _as_text(value: Any) -> Any:
    """A phone number read as a number (905321234567.0) as text, so that masking cannot skip it."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, (float, np.floating)) and not np.isnan(value):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


def mask_contacts(frame: pd.DataFrame) -> pd.DataFrame:
    """Mask the ``name``, ``email`` and ``phone`` columns present in ``frame`` (``crmlib.report.display``'s masks)."""
    out = frame.copy()
    for col in ("name", "email", "phone"):
        if col in out.columns:
            out[col] = out[col].map(_as_text).astype(object)
    return report.mask_contacts(out, enabled=True)


def contact_list(table: pd.DataFrame, customers: pd.DataFrame | None = None, *, lang: str,
                 mask_pii: bool = False, segments: Sequence[str] | None = None,
                 order: Sequence[str] | None = None) -> pd.DataFrame:
    """Per-segment contact list: who to call, in which segment, with what action.

    Customers with ``marketing_consent`` not given are left out when the customers table has that column
    (see :func:`consent_given`); ``mask_pii`` masks name, e-mail and phone.

    Parameters
    ----------
    table
        From :func:`crmlib.segmentation.rfm.segment_table`: ``customer_id``, ``rfm_segment``, ``abc_tier``,
        ``recency_days``, ``frequency``, ``monetary``.
    customers
        Optional customers table: ``customer_id`` and any of ``name, email, phone, city,
        marketing_consent``.
    segments
        Segment codes to keep (default: all).

    Returns
    -------
    DataFrame
        ``customer_id, rfm_segment, segment, abc_tier, segment_action, [name, email, phone, city], recency_days,
        frequency, monetary``, by segment (best first) then revenue.
    """
    require_columns(table, ["customer_id", "rfm_segment", "abc_tier", "recency_days", "frequency", "monetary"],
                    "segment table")
    order = list(DEFAULTS["segment_order"] if order is None else order)
    out = table[["customer_id", "rfm_segment", "abc_tier", "recency_days", "frequency", "monetary"]].copy()
    if segments is not None:
        out = out.loc[out["rfm_segment"].isin(list(segments))]
    contact_cols: list[str] = []
    if customers is not None:
        require_columns(customers, ["customer_id"], "customers")
        info = customers.drop_duplicates("customer_id")
        contact_cols = [c for c in CONTACT_COLUMNS if c in info.columns]
        keep = ["customer_id", *contact_cols] + (["marketing_consent"] if "marketing_consent" in info else [])
        out = out.merge(info[keep], on="customer_id", how="left")
        if "marketing_consent" in out.columns:
            before = len(out)
            out = out.loc[consent_given(out["marketing_consent"])].drop(columns="marketing_consent")
            log.info("contact list: %d of %d customers without marketing consent left out", before - len(out),
                     before)
    if mask_pii:
        out = mask_contacts(out)
    out["segment"] = map_distinct(out["rfm_segment"], lambda c: segment_label(c, lang))
    out["segment_action"] = map_distinct(
        out["rfm_segment"], lambda c: i18n.t(f"seg.action.{c}", lang) if i18n.has(f"seg.action.{c}") else "")
    rank = {code: i for i, code in enumerate(order)}
    out = out.assign(_k=out["rfm_segment"].map(rank).fillna(len(rank)))
    out = out.sort_values(["_k", "monetary"], ascending=[True, False], kind="stable").drop(columns="_k")
    columns = ["customer_id", "rfm_segment", "segment", "abc_tier", "segment_action", *contact_cols, "recency_days",
               "frequency", "monetary"]
    return out[columns].reset_index(drop=True)


def with_names(frame: pd.DataFrame, customers: pd.DataFrame | None, *, mask_pii: bool) -> pd.DataFrame:
    """``frame`` with the customers table's ``name`` inserted after ``customer_id`` (masked with mask_pii)."""
    if customers is None or "name" not in customers.columns:
        return frame
    names = customers.drop_duplicates("customer_id").set_index("customer_id")["name"]
    out = frame.copy()
    out.insert(out.columns.get_loc("customer_id") + 1, "name", out["customer_id"].map(names))
    return mask_contacts(out) if mask_pii else out


def value_summary(table: pd.DataFrame, *, lang: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Customers and revenue behind each value flag: high value, referrers, effortless, tenure bands.

    Parameters
    ----------
    table
        From :func:`crmlib.segmentation.rfm.segment_table` (``high_value``, ``value_basis``, ``referrer``,
        ``effortless``, ``tenure_band``, ``monetary``). Flags that are unknown (``<NA>``: the table they need
        is absent) are left out.

    Returns
    -------
    DataFrame
        ``flag`` (label in ``lang``), ``n_customers``, ``customer_share``, ``revenue_share``.
    """
    value = resolve_params(params)["value"]
    n, total = len(table), float(table["monetary"].sum())
    share = fmt.pct(value["high_value_share"], lang, 0)
    rows: list[tuple[str, pd.Series]] = []
    for basis in ("margin", "revenue"):
        hit = table["high_value"].astype(bool) & (table["value_basis"] == basis)
        if (table["value_basis"] == basis).any():
            rows.append((i18n.t(f"seg.flag.high_value_{basis}", lang, share=share), hit))
    if table["referrer"].notna().any():
        rows.append((i18n.t("seg.flag.referrer", lang, n=value["referrer_min_referrals"]),
                     table["referrer"].fillna(False).astype(bool)))
    if table["effortless"].notna().any():
        rows.append((i18n.t("seg.flag.effortless", lang, n=value["effortless_max_tickets"]),
                     table["effortless"].fillna(False).astype(bool)))
    bands = [b for b in pd.unique(table["tenure_band"].dropna())]
    bands.sort(key=lambda b: float(str(b).split("-")[0].rstrip("+")))
    for band in bands:
        rows.append((i18n.t("seg.flag.tenure", lang, band=band), table["tenure_band"] == band))
    out = pd.DataFrame([{"flag": label, "n_customers": int(hit.sum()), "customer_share": hit.sum() / n if n else np.nan,
                         "revenue_share": table.loc[hit, "monetary"].sum() / total if total else np.nan}
                        for label, hit in rows], columns=["flag", "n_customers", "customer_share", "revenue_share"])
    return out


# -- executive summary ------------------------------------------------------------------------------------
def _and_list(items: list[str], lang: str) -> str:
    """``A, B and C`` in the report's language (catalogue ``seg.list_and``)."""
    if len(items) < 2:
        return "".join(items)
    return i18n.t("seg.list_and", lang, first=", ".join(items[:-1]), last=items[-1])


def summary_lines(table: pd.DataFrame, *, lang: str, currency: str,
                  previous: pd.DataFrame | None = None, matrix: pd.DataFrame | None = None,
                  moved_down: pd.DataFrame | None = None, top: Sequence[str] = ("champions", "loyal"),
                  previous_as_of: Any = None, window_days: float | None = None) -> list[str]:
    """The executive summary's sentences (catalogue ``seg.summary.*``), most important first.

    Parameters
    ----------
    table
        From :func:`crmlib.segmentation.rfm.segment_table`.
    previous, matrix, moved_down
        The previous run's rows and :func:`migration`'s result; ``previous=None`` means a first run.
    """
    if window_days is None:
        window_days = DEFAULTS["abc"]["window_days"]
    n = len(table)
    counts = table["rfm_segment"].value_counts()
    total = float(table["monetary"].sum())
    in_top = table["rfm_segment"].isin(list(top))
    lapsed = table["rfm_segment"].isin(["lapsed", "lost"]) | (table["abc_tier"] == "P")
    lines = [
        i18n.t("seg.summary.customers", lang, n=fmt.number(n, lang),
               champions=fmt.number(counts.get("champions", 0), lang),
               champions_share=fmt.pct(counts.get("champions", 0) / n if n else np.nan, lang),
               at_risk=fmt.number(counts.get("at_risk", 0) + counts.get("cant_lose", 0), lang),
               lapsed=fmt.number(int(lapsed.sum()), lang)),
        i18n.t("seg.summary.top_share", lang, segments=_and_list([segment_label(c, lang) for c in top], lang),
               customer_share=fmt.pct(in_top.mean() if n else np.nan, lang),
               revenue_share=fmt.pct(table.loc[in_top, "monetary"].sum() / total if total else np.nan, lang)),
    ]
    tiers = table["abc_tier"].value_counts()
    # the tiers are set on the last window_days: their revenue share is over the same days
    window_value = table["revenue_window"] if "revenue_window" in table.columns else table["monetary"]
    window_total = float(window_value.sum())
    lines.append(i18n.t("seg.summary.tiers", lang, a=fmt.number(tiers.get("A", 0), lang),
                        b=fmt.number(tiers.get("B", 0), lang), c=fmt.number(tiers.get("C", 0), lang),
                        p=fmt.number(tiers.get("P", 0), lang), days=fmt.number(window_days, lang),
                        a_share=fmt.pct(window_value[table["abc_tier"] == "A"].sum() / window_total
                                        if window_total else np.nan, lang)))
    if previous is None or matrix is None or moved_down is None:
        lines.append(i18n.t("seg.summary.first_run", lang))
        return lines
    moves = matrix.drop(index=[ENTERED], errors="ignore").drop(columns=[GONE], errors="ignore").copy()
    for code in set(moves.index) & set(moves.columns):
        moves.loc[code, code] = 0
    stacked = moves.stack()
    stacked = stacked[stacked > 0].sort_values(ascending=False, kind="stable")
    n_down = int(moved_down["segment_down"].sum()) if len(moved_down) else 0
    if stacked.empty:
        lines.append(i18n.t("seg.summary.no_moves", lang, date=fmt.date(previous_as_of, lang)))
    else:
        (src, dst), size = stacked.index[0], int(stacked.iloc[0])
        lines.append(i18n.t("seg.summary.moves", lang, date=fmt.date(previous_as_of, lang),
                            moved=fmt.number(int(stacked.sum()), lang), down=fmt.number(n_down, lang),
                            n=fmt.number(size, lang), source=segment_label(src, lang),
                            target=segment_label(dst, lang)))
    return lines



def history_readiness(customer_summary: pd.DataFrame, params: dict[str, Any] | None = None) -> Readiness:
    """Whether the order history is long enough for the segments to mean much (``min_history_days``).

    The history is :func:`crmlib.core.readiness.history_days`, as for the lifetime-value model. A shorter one
    does not stop the page: its summary opens with a caution (``seg.summary.thin_history``).
    """
    p = resolve_params(params)
    require_columns(customer_summary, ["T"], "customer_summary")
    return readiness("segmentation", [("segmentation.min_history_days", p["min_history_days"],
                                       history_days(customer_summary))])


# -- the notebook's analysis ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SegmentationAnalysis:
    """Everything ``01_segmentation`` shows, computed once by :func:`analyse`.

    Frames named after a section are ready to show (names in the report's language, columns with their
    ``seg.col.<column>`` headers and :data:`UNITS`); sentences are in the report's language.
    """

    #: per customer: RFM scores and segment, A/B/C tier, value flags (``segments.csv`` without the names)
    table: pd.DataFrame
    #: :func:`~crmlib.segmentation.rfm.segment_profile` by segment code and by tier (the charts' input)
    profile: pd.DataFrame
    tiers: pd.DataFrame
    #: the sales team's contact list (``segment_contacts``)
    contacts: pd.DataFrame
    #: segment transitions since the previous run and the customers who moved down (see ``migration``)
    matrix: pd.DataFrame
    moved_down: pd.DataFrame
    #: the previous run's as-of date; ``None`` on a first run
    previous_as_of: pd.Timestamp | None
    bins: int
    summary: tuple[str, ...]
    tiles: tuple[tuple[str, str], ...]
    sizes: pd.DataFrame
    sizes_sentence: str
    profile_table: pd.DataFrame
    profile_sentence: str
    strategy: pd.DataFrame
    #: how many customers the contact list leaves out for missing consent; ``None`` without a consent column
    consent_sentence: str | None
    top: pd.DataFrame
    top_sentence: str
    tier_strategy: pd.DataFrame
    tiers_sentence: str
    tiers_passive_sentence: str
    values: pd.DataFrame
    value_sentence: str
    migration_sentence: str
    moved_down_table: pd.DataFrame
    #: "nobody moved down" after a previous run; ``None`` on a first run or when somebody did
    no_down_sentence: str | None

    @property
    def first_run(self) -> bool:
        """Whether no previous run's segments exist (no migration chart)."""
        return self.previous_as_of is None


def _named(frame: pd.DataFrame, lang: str, *columns: str) -> pd.DataFrame:
    """``frame`` with segment codes in ``columns`` replaced by their names in ``lang``."""
    return frame.assign(**{c: map_distinct(frame[c], lambda code: segment_label(code, lang)) for c in columns})


def _with_name_column(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``frame[columns]`` with ``name`` after ``customer_id`` when the frame has it."""
    wanted = [c for c in columns if c != "name" or "name" in frame.columns]
    return frame[wanted].reset_index(drop=True)


def tiles(table: pd.DataFrame, *, lang: str) -> tuple[tuple[str, str], ...]:
    """The executive summary's headline figures ``(label, value)``."""
    n = len(table)
    monetary = table["monetary"].sum()
    top_share = table.loc[table["rfm_segment"].isin(["champions", "loyal"]), "monetary"].sum() / monetary
    return (
        (i18n.t("seg.tile.customers", lang), fmt.number(n, lang)),
        (i18n.t("seg.tile.champions", lang), fmt.number((table["rfm_segment"] == "champions").sum(), lang)),
        (i18n.t("seg.tile.slipping", lang), fmt.number(table["rfm_segment"].isin(["at_risk", "cant_lose"]).sum(),
                                                       lang)),
        (i18n.t("seg.tile.top_revenue", lang), fmt.pct(top_share, lang)),
        (i18n.t("seg.tile.a_tier", lang), fmt.number((table["abc_tier"] == "A").sum(), lang)),
    )


def _orders_text(value: Any, lang: str) -> str:
    orders = float(value)
    return fmt.number(orders, lang, 0 if orders.is_integer() else 1)


def tiers_sentences(table: pd.DataFrame, *, lang: str, currency: str, params: dict[str, Any],
                    lapsed_days: float) -> tuple[str, str]:
    """The tiers section's two sentences: how the tiers are set, and the passive customers."""
    abc = params["abc"]
    rules = i18n.t("seg.p.tiers", lang, window=fmt.number(abc["window_days"], lang),
                   a_days=fmt.number(abc["a_max_recency_days"], lang),
                   a_orders=_orders_text(abc["a_min_orders_per_month"], lang),
                   a_share=fmt.pct(abc["a_top_volume_share"], lang, 0),
                   b_days=fmt.number(abc["b_max_recency_days"], lang),
                   b_orders=_orders_text(abc["b_min_orders_per_month"], lang),
                   b_share=fmt.pct(abc["b_top_volume_share"], lang, 0),
                   c_days=fmt.number(abc["c_min_recency_days"], lang),
                   fallback=fmt.number(table["abc_fallback"].sum(), lang))
    passive = i18n.t("seg.p.tiers_passive", lang, lapsed_days=fmt.number(lapsed_days, lang),
                     passive=fmt.number((table["abc_tier"] == "P").sum(), lang),
                     window=fmt.number(abc["window_days"], lang),
                     total=fmt.money(table["revenue_window"].sum(), lang, currency))
    return rules, passive


def analyse(ctx: Any) -> SegmentationAnalysis:
    """Segment the run's customers, write ``segments.csv``, the ``segment_contacts`` list and the staged
    ``segments`` history, and return what the notebook shows.

    Parameters
    ----------
    ctx
        The run's :class:`~crmlib.core.context.Context`.
    """
    lang, cur = ctx.lang, ctx.currency
    p = resolve_params(ctx.params)
    table = ctx.segments()
    profile = segment_profile(table)
    tiers = segment_profile(table, by="abc_tier")
    previous = ctx.previous_history("segments")
    matrix, moved_down = migration(previous, table)
    previous_as_of = previous["as_of"].max() if previous is not None else None
    customers = ctx.tables.get("customers")
    top = with_names(top_customers(table, n=p["top_customers"]), customers, mask_pii=ctx.mask_pii)
    contacts = contact_list(table, customers, lang=lang, mask_pii=ctx.mask_pii, segments=p["contact_segments"])
    biggest = profile["revenue_share"].idxmax()

    ctx.export_csv("segments", table.assign(segment_name=map_distinct(table["rfm_segment"],
                                                                      lambda c: segment_label(c, lang))))
    ctx.export_action_list("segment_contacts", contacts)
    ctx.stage_history("segments", table[["customer_id", "rfm_segment", "abc_tier"]])

    no_consent = missing_consent(table, customers, segments=p["contact_segments"])
    ready = history_readiness(ctx.customer_summary, ctx.params)
    caution = [] if ready.ready else [describe(ready, lang, key="seg.summary.thin_history")]
    tiers_text, passive_text = tiers_sentences(table, lang=lang, currency=cur, params=p,
                                               lapsed_days=lapsed_limit(ctx.params))
    shown_down = _named(with_names(moved_down, customers, mask_pii=ctx.mask_pii), lang, "previous_segment",
                        "rfm_segment").rename(columns={"rfm_segment": "current_segment", "abc_tier": "current_tier"})
    if previous is None:
        migration_text = i18n.t("seg.p.first_run", lang)
    else:
        migration_text = i18n.t("seg.p.migration", lang, date=fmt.date(previous_as_of, lang),
                                down=fmt.number(len(moved_down), lang))
    return SegmentationAnalysis(
        table=table, profile=profile, tiers=tiers, contacts=contacts, matrix=matrix, moved_down=moved_down,
        previous_as_of=previous_as_of, bins=int(p["bins"]),
        summary=tuple(caution + summary_lines(table, lang=lang, currency=cur, previous=previous, matrix=matrix,
                                              moved_down=moved_down, previous_as_of=previous_as_of,
                                              window_days=p["abc"]["window_days"])),
        tiles=tiles(table, lang=lang),
        sizes=_named(profile.reset_index(), lang, "rfm_segment")[
            ["rfm_segment", "n_customers", "customer_share", "revenue", "revenue_share", "margin", "margin_share"]],
        sizes_sentence=i18n.t("seg.p.sizes", lang, segment=segment_label(biggest, lang),
                              revenue_share=fmt.pct(profile.loc[biggest, "revenue_share"], lang),
                              customer_share=fmt.pct(profile.loc[biggest, "customer_share"], lang)),
        profile_table=_named(profile.reset_index(), lang, "rfm_segment")[
            ["rfm_segment", "n_customers", "median_recency_days", "mean_orders", "mean_revenue"]],
        profile_sentence=i18n.t("seg.p.profile", lang, bins=p["bins"]),
        strategy=strategy_table(profile, lang=lang).rename(columns={"group": "segment_group"}),
        consent_sentence=(None if no_consent is None else
                          i18n.t("seg.p.contacts_consent", lang, n=fmt.number(no_consent, lang),
                                 total=fmt.number(len(table), lang))),
        top=_with_name_column(_named(top, lang, "rfm_segment"), ["rfm_segment", "customer_id", "name", "abc_tier",
                                                                   "recency_days", "frequency", "monetary"]),
        top_sentence=i18n.t("seg.p.top", lang, n=p["top_customers"]),
        tier_strategy=strategy_table(tiers, lang=lang).rename(columns={"group": "tier_group"}),
        tiers_sentence=tiers_text, tiers_passive_sentence=passive_text,
        values=value_summary(table, lang=lang, params=p),
        value_sentence=i18n.t("seg.p.value", lang, max_tickets=p["value"]["effortless_max_tickets"],
                              ticket_days=fmt.number(p["value"]["ticket_window_days"], lang)),
        migration_sentence=migration_text,
        moved_down_table=_with_name_column(shown_down, ["customer_id", "name", "previous_segment", "current_segment",
                                                        "previous_tier", "current_tier", "monetary"]),
        no_down_sentence=(i18n.t("seg.p.no_down", lang) if previous is not None and not len(moved_down) else None),
    )
