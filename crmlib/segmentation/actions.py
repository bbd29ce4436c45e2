"""What to do with the segments: strategies, migration since the previous run, contact lists, PII masking.

The functions here take the per-customer table of :func:`crmlib.segmentation.rfm.segment_table`; every text
comes from the catalogue (``crmlib/locales/segmentation.yaml``). They are also reachable as
``crmlib.segmentation.rfm.<name>``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlib.data.frames import require_columns
from crmlib.report import display as report
from crmlib.report import formatting as fmt
from crmlib.report import i18n
from crmlib.report.display import mask_email, mask_name, mask_phone  # noqa: F401  (re-exported)
from crmlib.segmentation.params import DEFAULTS, TIERS, resolve_params

log = logging.getLogger(__name__)

#: migration labels: customers absent from the previous run (row) or from this run (column)
ENTERED = "entered"
GONE = "gone"
#: contact columns of the customers table carried into the contact list, masked with mask_pii
CONTACT_COLUMNS: tuple[str, ...] = ("name", "email", "phone", "city")
_TRUE = {"1", "1.0", "true", "t", "yes", "y", "evet", "e", "x", "var", "onay", "onaylı", "onayli"}


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


# -- migration --------------------------------------------------------------------------------------------
def migration(previous: pd.DataFrame | None, current: pd.DataFrame, *, order: Sequence[str] | None = None,
              drop_empty: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Segment transitions since the previous run and the customers who moved down.

    Parameters
    ----------
    previous
        The previous run's rows (``ctx.previous_history("segments")``): ``customer_id``, ``rfm_segment``,
        optionally ``abc_tier``; ``None`` on a first run (every customer then counts as entered).
    current
        This run's table: ``customer_id``, ``rfm_segment``, optionally ``abc_tier`` and ``monetary``.
    order
        Segment codes best to worst (default ``DEFAULTS["segment_order"]``).

    Returns
    -------
    (matrix, moved_down)
        ``matrix``: customer counts, rows = previous segment plus ``entered`` (not in the previous run),
        columns = current segment plus ``gone`` (not in this run); empty rows and columns dropped when
        ``drop_empty``. ``moved_down``: customers in both runs whose segment comes later in ``order`` than
        before, or whose tier fell (A > B > C): ``customer_id, previous_segment, rfm_segment, steps,
        segment_down, previous_tier, abc_tier, tier_down`` (+ ``monetary``), biggest falls first.
    """
    order = list(DEFAULTS["segment_order"] if order is None else order)
    require_columns(current, ["customer_id", "rfm_segment"], "current segments")
    if previous is None:
        previous = pd.DataFrame({"customer_id": pd.Series(dtype=object), "rfm_segment": pd.Series(dtype=object)})
    require_columns(previous, ["customer_id", "rfm_segment"], "previous segments")
    prev_cols = ["customer_id", "rfm_segment"] + (["abc_tier"] if "abc_tier" in previous.columns else [])
    prev = previous[prev_cols].rename(columns={"rfm_segment": "previous_segment", "abc_tier": "previous_tier"})
    prev = prev.assign(customer_id=prev["customer_id"].astype(str)).drop_duplicates("customer_id")
    cur = current.assign(customer_id=current["customer_id"].astype(str))
    both = prev.merge(cur, on="customer_id", how="outer", indicator=True)
    rows = both["previous_segment"].where(both["_merge"] != "right_only", ENTERED)
    cols = both["rfm_segment"].where(both["_merge"] != "left_only", GONE)
    known = set(order) | {ENTERED, GONE}
    extra = sorted((set(rows) | set(cols)) - known)
    matrix = pd.crosstab(rows, cols).reindex(index=[*order, *extra, ENTERED], columns=[*order, *extra, GONE],
                                             fill_value=0).astype("int64")
    matrix.index.name, matrix.columns.name = "previous", "current"
    if drop_empty:
        matrix = matrix.loc[matrix.sum(axis=1) > 0, matrix.sum(axis=0) > 0]

    rank = {code: i for i, code in enumerate([*order, *extra])}
    stay = both.loc[both["_merge"] == "both"].copy()
    stay["steps"] = (stay["rfm_segment"].map(rank).astype(float)
                     - stay["previous_segment"].map(rank).astype(float)).astype("int64")
    stay["segment_down"] = stay["steps"] > 0
    if "previous_tier" in stay.columns and "abc_tier" in stay.columns:
        stay["tier_down"] = stay["abc_tier"].astype(str) > stay["previous_tier"].astype(str)
        stay.loc[stay["previous_tier"].isna() | stay["abc_tier"].isna(), "tier_down"] = False
    else:
        stay["tier_down"] = False
        stay["previous_tier"] = stay.get("previous_tier", np.nan)
        stay["abc_tier"] = stay.get("abc_tier", np.nan)
    down = stay.loc[stay["segment_down"] | stay["tier_down"]]
    columns = ["customer_id", "previous_segment", "rfm_segment", "steps", "segment_down", "previous_tier",
               "abc_tier", "tier_down"] + (["monetary"] if "monetary" in down.columns else [])
    sort = ["steps", "monetary"] if "monetary" in down.columns else ["steps"]
    down = down.sort_values([*sort, "customer_id"], ascending=[False] * len(sort) + [True], kind="stable")
    return matrix, down[columns].reset_index(drop=True)


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


def consent_given(values: pd.Series) -> pd.Series:
    """Whether each ``marketing_consent`` value says yes (1, true, yes, evet, ...); missing = no.

    Missing counts as no: commercial electronic messages need the recipient's prior consent in Turkey
    (Law 6563 on e-commerce, art. 6; KVKK, Law 6698).
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.fillna(False).astype(bool)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.fillna(0).astype(float) > 0
    text = values.map(lambda v: re.sub(r"\s+", "", str(v)).lower() if pd.notna(v) else "")
    return text.isin(_TRUE)


def missing_consent(table: pd.DataFrame, customers: pd.DataFrame | None, *,
                    segments: Sequence[str] | None = None) -> int | None:
    """How many customers :func:`contact_list` leaves out for missing marketing consent (``None``: no
    ``marketing_consent`` column, nobody is left out for it)."""
    if customers is None or "marketing_consent" not in customers.columns:
        return None
    ids = table.loc[table["rfm_segment"].isin(list(segments)) if segments is not None else slice(None), "customer_id"]
    info = customers.drop_duplicates("customer_id").set_index("customer_id")["marketing_consent"]
    return int((~consent_given(ids.map(info))).sum())


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
    out["segment"] = out["rfm_segment"].map(lambda c: segment_label(c, lang))
    out["segment_action"] = out["rfm_segment"].map(
        lambda c: i18n.t(f"seg.action.{c}", lang) if i18n.has(f"seg.action.{c}") else "")
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

