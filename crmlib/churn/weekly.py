"""The weekly loop: a call list that remembers earlier weeks, and win-back counted per customer episode.

Every run stages the customers it listed in the run history (``churn_flags``: one row per customer and run,
``list`` = ``call`` for the weekly call list or ``winback`` for the win-back campaign list). From those rows
and the orders this module derives:

- :func:`list_state`: per customer, how many consecutive earlier call lists they were on without ordering,
  and whether they are in the win-back campaign;
- :func:`weekly_lists`: this week's call list (customers on ``max_weeks_on_list`` consecutive lists without
  ordering move to the win-back campaign list; contacted customers without a reply move down) and the
  campaign list;
- :func:`episodes`: one row per listing episode. An episode starts the first week a customer is listed and
  ends when they order again (``won_back``), when they lapse past ``lapsed_days`` without an order
  (``lost``) or when a later run no longer lists them (``left_list``); otherwise it is ``open``;
- :func:`winback_rates`: episodes and win-back rates by week of first listing, reason or action. A rate is
  won-back episodes over closed episodes, so that a customer listed for five weeks counts once, not five
  times.

Source of the yardstick the report compares with: 20-30% of lapsing customers won back is a good result in
wholesale win-back programmes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlib.churn.signals import purchases
from crmlib.data import textops

#: episode outcomes, in the order the report shows them
OUTCOMES: tuple[str, ...] = ("won_back", "lost", "left_list", "open")

EPISODE_COLUMNS: tuple[str, ...] = ("customer_id", "first_listed", "reasons", "action_code", "group",
                                    "weeks_on_list", "moved_to_winback", "outcome", "outcome_date")

#: the two groups of the weekly list: ``call`` customers are contacted, ``control`` customers are not
GROUPS: tuple[str, ...] = ("call", "control")


def _flags(flags: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.DataFrame:
    """Earlier runs' flags (``as_of`` before this run), one row per customer and run, with ``list``."""
    cols = ["customer_id", "run_as_of", "list", "reasons", "action_code", "group"]
    if flags is None or len(flags) == 0 or "customer_id" not in flags.columns:
        return pd.DataFrame(columns=cols)
    f = pd.DataFrame({
        "customer_id": flags["customer_id"].astype(str),
        "run_as_of": pd.to_datetime(flags["as_of"]).dt.normalize(),
        "list": flags["list"].fillna("call").astype(str) if "list" in flags.columns else "call",
        "reasons": flags["reasons"].fillna("").astype(str) if "reasons" in flags.columns else "",
        "action_code": (flags["action_code"].fillna("").astype(str) if "action_code" in flags.columns
                        else ""),
        "group": flags["group"].fillna("call").astype(str) if "group" in flags.columns else "call",
    })
    f = f.loc[f["run_as_of"] < as_of]
    # one row per customer and as_of (a re-run of an as_of replaces the earlier one; keep the last)
    return f.drop_duplicates(["customer_id", "run_as_of"], keep="last").sort_values(
        ["customer_id", "run_as_of"]).reset_index(drop=True)


def _purchase_dates(orders: pd.DataFrame, as_of: pd.Timestamp, customers: Any = None) -> dict[str, np.ndarray]:
    """Each customer's purchase days up to ``as_of``, sorted; only ``customers`` (ids) when given."""
    ids = orders["customer_id"].astype(str)
    if customers is not None:  # the customers of earlier lists: a small part of a large customer base
        keep = textops.isin(ids, pd.Series(pd.unique(np.asarray(customers, dtype=object)), dtype="str"))
        orders, ids = orders.loc[keep], ids.loc[keep]
    buys = purchases(orders.assign(customer_id=ids), as_of)
    days = buys[["customer_id", "order_date"]].assign(order_date=buys["order_date"].dt.normalize())
    days = days.drop_duplicates().sort_values(["customer_id", "order_date"])
    cids, dates = days["customer_id"].to_numpy(), days["order_date"].to_numpy()
    if not len(cids):
        return {}
    starts = np.flatnonzero(np.r_[True, cids[1:] != cids[:-1]])
    return dict(zip(cids[starts], np.split(dates, starts[1:]), strict=True))


def list_state(flags: pd.DataFrame | None, orders: pd.DataFrame, *, as_of: Any) -> pd.DataFrame:
    """Per customer on an earlier list: consecutive earlier call lists without an order, and campaign status.

    Parameters
    ----------
    flags
        ``ctx.history("churn_flags")``: ``as_of``, ``customer_id``, optional ``list`` (``call`` when absent),
        ``reasons``, ``action_code``. Rows of runs on or after ``as_of`` are ignored.
    orders
        ``customer_id``, ``order_date``, ``amount`` (purchases are orders with a positive net amount).

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``weeks_on_list`` (the customer's consecutive earlier call lists, ending with the
        latest run, with no order on or after the first of them), ``in_campaign`` (moved to the win-back
        campaign list and no order since), ``last_listed``.
    """
    as_of = pd.Timestamp(as_of).normalize()
    f = _flags(flags, as_of)
    cols = ["customer_id", "weeks_on_list", "in_campaign", "last_listed", "group"]
    if f.empty:
        return pd.DataFrame(columns=cols)
    runs = np.sort(f["run_as_of"].unique())
    bought = _purchase_dates(orders, as_of, f["customer_id"])
    rows = []
    for cid, g in f.groupby("customer_id", sort=True):
        dates = bought.get(cid, np.array([], dtype="datetime64[ns]"))
        last_buy = dates[-1] if len(dates) else np.datetime64("NaT")
        listed = dict(zip(g["run_as_of"].to_numpy(), g["list"], strict=True))
        streak = 0
        for run in runs[::-1]:  # the latest run first
            if listed.get(run) != "call" or (not np.isnat(last_buy) and last_buy > run):
                break
            streak += 1
        last = g.iloc[-1]
        in_campaign = (last["list"] == "winback" and last["run_as_of"] == runs[-1]
                       and (np.isnat(last_buy) or last_buy <= last["run_as_of"]))
        rows.append((cid, streak, bool(in_campaign), last["run_as_of"], last["group"]))
    return pd.DataFrame(rows, columns=cols)


@dataclass
class WeeklyLists:
    """This week's lists: ``call`` (the weekly call list, with ``weeks_on_list``), ``campaign`` (win-back
    campaign list, with ``moved_this_week``), and the counts of what changed since the last run."""

    call: pd.DataFrame
    campaign: pd.DataFrame
    n_new: int
    n_moved: int
    n_moved_down: int


def excluded_from_call_list(state: pd.DataFrame, *, max_weeks: int) -> pd.Series:
    """Customers who do not go on this week's call list: in the win-back campaign, or on ``max_weeks``
    consecutive earlier call lists without ordering (they move to the campaign this week)."""
    if state.empty:
        return pd.Series(dtype=str)
    out = state.loc[state["in_campaign"] | (state["weeks_on_list"] >= int(max_weeks)), "customer_id"]
    return out.astype(str).reset_index(drop=True)


def weekly_lists(at_risk: pd.DataFrame, risk: pd.DataFrame, state: pd.DataFrame, *, as_of: Any,
                 params: Mapping[str, Any], contacts: pd.DataFrame | None = None) -> WeeklyLists:
    """Apply the weekly rules to a call list built without the excluded customers.

    Parameters
    ----------
    at_risk
        The call list from :func:`crmlib.churn.scoring.at_risk_list`, built on ``risk`` without the customers
        of :func:`excluded_from_call_list`: ``rank``, ``customer_id``, ...
    risk
        All customers' scores (``customer_id``, ``risk_score``, ``risk_level``, ``value_at_stake``,
        ``reasons``, ``days_since_last_order``).
    state
        From :func:`list_state`.
    contacts
        Optional outreach table (``customer_id``, ``date``, ``responded``): listed customers contacted since
        their episode began (or in the last 7 days) without any reply move to the bottom of the list.

    Returns
    -------
    WeeklyLists
    """
    as_of = pd.Timestamp(as_of).normalize()
    max_weeks = int(params["max_weeks_on_list"])
    lapsed_days = float(params["lapsed_days"])
    call = at_risk.copy()
    st = state.set_index("customer_id") if len(state) else pd.DataFrame(
        columns=["weeks_on_list", "in_campaign", "last_listed"])
    before = st["weeks_on_list"].reindex(call["customer_id"].astype(str)).fillna(0).astype(int).to_numpy()
    call["weeks_on_list"] = before + 1
    n_new = int((before == 0).sum())
    call["no_reply"] = False
    if contacts is not None and len(call) and {"customer_id", "date"} <= set(contacts.columns):
        c = contacts.assign(customer_id=contacts["customer_id"].astype(str),
                            date=pd.to_datetime(contacts["date"]).dt.normalize())
        start = as_of - pd.to_timedelta(7 * call["weeks_on_list"].to_numpy(), unit="D")
        starts = pd.Series(start, index=call["customer_id"].astype(str).to_numpy())
        c = c.loc[c["customer_id"].isin(starts.index) & (c["date"] <= as_of)]
        c = c.loc[c["date"] > starts.reindex(c["customer_id"]).to_numpy()]
        if len(c):
            answered = c["responded"].fillna(False).astype(bool) if "responded" in c.columns else False
            g = c.assign(answered=answered).groupby("customer_id")["answered"].agg(["size", "any"])
            silent = g.index[(g["size"] > 0) & ~g["any"]]
            call["no_reply"] = call["customer_id"].astype(str).isin(silent).to_numpy()
    n_moved_down = int(call["no_reply"].sum())
    call["group"] = assign_groups(call, state, as_of=as_of, share=float(params.get("control_share") or 0.0),
                                  seed=int(params.get("control_seed") or 0)) if len(call) else []
    # called customers first (no-reply ones last among them), then the control group
    call = call.assign(_ctl=call["group"] == "control").sort_values(["_ctl", "no_reply"], kind="mergesort")
    call = call.drop(columns="_ctl").reset_index(drop=True)
    if "rank" in call.columns:
        call["rank"] = np.arange(1, len(call) + 1)
    # the campaign list: customers in the campaign, and those whose streak reached the limit
    moved = state.loc[~state["in_campaign"].astype(bool) & (state["weeks_on_list"] >= max_weeks)] \
        if len(state) else state
    staying = state.loc[state["in_campaign"].astype(bool)] if len(state) else state
    ids = pd.concat([moved["customer_id"], staying["customer_id"]]).astype(str) if len(state) else pd.Series(
        dtype=str)
    r = risk.assign(customer_id=risk["customer_id"].astype(str)).set_index("customer_id")
    r = r.reindex(ids.to_numpy())
    campaign = r.loc[r["days_since_last_order"].notna() & (r["days_since_last_order"] < lapsed_days)]
    campaign = campaign.reset_index()[["customer_id", "risk_score", "risk_level", "value_at_stake", "reasons",
                                       "days_since_last_order"]]
    campaign["moved_this_week"] = campaign["customer_id"].isin(moved["customer_id"].astype(str)) if len(
        state) else False
    campaign = campaign.sort_values(["value_at_stake", "customer_id"], ascending=[False, True],
                                    kind="mergesort").reset_index(drop=True)
    return WeeklyLists(call=call, campaign=campaign, n_new=n_new,
                       n_moved=int(campaign["moved_this_week"].sum()), n_moved_down=n_moved_down)


def history_rows(lists: WeeklyLists) -> pd.DataFrame:
    """The rows to stage as this run's ``churn_flags``: both lists, with ``list``, ``weeks_on_list``,
    ``reasons``, ``risk_level``, ``risk_score``, ``value_at_stake`` and ``action_code`` (the runner adds
    ``run_id`` and ``as_of``)."""
    cols = ["customer_id", "risk_level", "reasons", "risk_score", "value_at_stake"]
    call = lists.call[cols].assign(
        list="call", weeks_on_list=lists.call["weeks_on_list"].astype("int64"),
        group=lists.call["group"].astype(str) if "group" in lists.call.columns else "call",
        action_code=lists.call["action_code"].astype(str) if "action_code" in lists.call.columns else "")
    camp = lists.campaign[cols].assign(list="winback", weeks_on_list=0, action_code="winback_campaign",
                                       group="call")
    out = pd.concat([call, camp], ignore_index=True)
    out["customer_id"] = out["customer_id"].astype(str)
    out["reasons"] = out["reasons"].fillna("").astype(str)
    return out


def episodes(flags: pd.DataFrame | None, orders: pd.DataFrame, *, as_of: Any,
             params: Mapping[str, Any]) -> pd.DataFrame:
    """One row per listing episode (see the module docstring), from earlier runs' flags up to ``as_of``.

    A customer listed by a run and ordering after that run's as_of (by ``as_of``) is won back, provided the
    order came before they lapsed (``lapsed_days`` without an order); an episode with no order and a lapse
    date on or before ``as_of`` is lost; a customer on no list of the next run is ``left_list``.

    Returns
    -------
    pandas.DataFrame
        :data:`EPISODE_COLUMNS`: ``first_listed``, ``reasons`` and ``action_code`` of the first listing,
        ``weeks_on_list`` (call lists in the episode), ``moved_to_winback`` (date or NaT), ``outcome``
        (:data:`OUTCOMES`), ``outcome_date``.
    """
    as_of = pd.Timestamp(as_of).normalize()
    lapsed = pd.Timedelta(days=float(params["lapsed_days"]))
    f = _flags(flags, as_of + pd.Timedelta(days=1))  # this run's own rows count too when staged
    if f.empty:
        return pd.DataFrame(columns=list(EPISODE_COLUMNS))
    runs = np.sort(f["run_as_of"].unique())
    next_run = {runs[i]: (runs[i + 1] if i + 1 < len(runs) else None) for i in range(len(runs))}
    bought = _purchase_dates(orders, as_of, f["customer_id"])
    rows = []
    for cid, g in f.groupby("customer_id", sort=True):
        dates = bought.get(cid, np.array([], dtype="datetime64[ns]"))
        listing = g.to_dict("records")
        n, i = len(listing), 0
        while i < n:
            first = listing[i]
            start = np.datetime64(first["run_as_of"])
            before, after = dates[dates <= start], dates[dates > start]
            lapse = (before[-1] if len(before) else start) + np.timedelta64(lapsed)
            order = after[0] if len(after) else None
            j, weeks, moved = i, 0, pd.NaT
            while True:  # consecutive runs listing the customer, before an order or the lapse
                row = listing[j]
                weeks += row["list"] == "call"
                if row["list"] == "winback" and pd.isna(moved):
                    moved = row["run_as_of"]
                nxt = next_run[row["run_as_of"]]
                if (j + 1 < n and nxt is not None and listing[j + 1]["run_as_of"] == nxt
                        and (order is None or np.datetime64(nxt) < order) and np.datetime64(nxt) < lapse):
                    j += 1
                    continue
                break
            nxt = next_run[listing[j]["run_as_of"]]
            limit = np.datetime64(nxt) if nxt is not None else np.datetime64(as_of)
            if order is not None and order < lapse and order <= limit:
                outcome, when = "won_back", order
            elif lapse <= limit:
                outcome, when = "lost", lapse
            elif nxt is not None:
                outcome, when = "left_list", nxt
            else:
                outcome, when = "open", None
            rows.append((cid, first["run_as_of"], first["reasons"], first["action_code"], first["group"],
                         int(weeks), moved, outcome, pd.Timestamp(when) if when is not None else pd.NaT))
            i = j + 1
    out = pd.DataFrame(rows, columns=list(EPISODE_COLUMNS))
    out["first_listed"] = pd.to_datetime(out["first_listed"])
    out["moved_to_winback"] = pd.to_datetime(out["moved_to_winback"])
    out["outcome_date"] = pd.to_datetime(out["outcome_date"])
    return out.sort_values(["first_listed", "customer_id"]).reset_index(drop=True)


def winback_rates(episodes: pd.DataFrame, *, by: str) -> pd.DataFrame:
    """Episodes and win-back rate per ``by``: ``week`` (Monday of the first listing), ``reason`` (each reason
    code of the first listing) or ``action`` (the first listing's action).

    Returns ``by``, ``n_episodes``, ``n_won_back``, ``n_lost``, ``n_left_list``, ``n_open``, ``winback_rate``
    (won back over closed episodes; NaN when none is closed yet).
    """
    keys = {"week": "week", "reason": "reason", "action": "action_code"}
    if by not in keys:
        raise ValueError(f"winback_rates by={by!r} is not one of {', '.join(keys)}")
    key = keys[by]
    columns = [key, "n_episodes", "n_won_back", "n_lost", "n_left_list", "n_open", "winback_rate"]
    if episodes is None or episodes.empty:
        return pd.DataFrame(columns=columns)
    e = episodes.copy()
    if by == "week":
        e["week"] = (e["first_listed"] - pd.to_timedelta(e["first_listed"].dt.day_of_week, unit="D")).dt.normalize()
    elif by == "reason":
        e = e.assign(reason=e["reasons"].fillna("").astype(str).str.split(";")).explode("reason")
        e["reason"] = e["reason"].replace("", "none")
    out = pd.crosstab(e[key], e["outcome"]).reindex(columns=list(OUTCOMES), fill_value=0)
    out.columns = [f"n_{c}" for c in out.columns]
    out["n_episodes"] = out.sum(axis=1)
    closed = out["n_episodes"] - out["n_open"]
    out["winback_rate"] = np.where(closed > 0, out["n_won_back"] / closed.where(closed > 0, 1), np.nan)
    return out.reset_index()[columns]


def changes_since_last_run(flags: pd.DataFrame | None, orders: pd.DataFrame, *, as_of: Any,
                           lists: WeeklyLists) -> dict[str, int]:
    """What changed since the previous run: ``new`` on the call list, ``won_back`` (on the previous run's
    lists and ordered since), ``moved`` to the win-back campaign; ``previous`` is the previous run's as_of
    (``None`` on a first run)."""
    as_of = pd.Timestamp(as_of).normalize()
    f = _flags(flags, as_of)
    if f.empty:
        return {"new": lists.n_new, "won_back": 0, "moved": lists.n_moved, "previous": None}
    last = f["run_as_of"].max()
    prev = f.loc[f["run_as_of"] == last, "customer_id"].unique()
    bought = _purchase_dates(orders, as_of, prev)
    won = sum(1 for cid in prev if len(d := bought.get(cid, [])) and d[-1] > np.datetime64(last))
    return {"new": lists.n_new, "won_back": int(won), "moved": lists.n_moved, "previous": last}


def assign_groups(call: pd.DataFrame, state: pd.DataFrame, *, as_of: Any, share: float, seed: int) -> pd.Series:
    """``call`` or ``control`` for each customer of this week's call list.

    A customer starting an episode (``weeks_on_list`` 1) is drawn: of this week's new customers, the
    ``round(share * n)`` with the smallest hash of (``seed``, customer, as_of) form the control group, so the
    split is exact and the same on every re-run. A customer continuing an episode keeps their group.
    """
    import hashlib

    as_of = pd.Timestamp(as_of).normalize()
    ids = call["customer_id"].astype(str)
    kept = state.set_index("customer_id")["group"] if len(state) else pd.Series(dtype=str)
    group = kept.reindex(ids).where(call["weeks_on_list"].to_numpy() > 1).fillna("call").to_numpy(dtype=object)
    new = call["weeks_on_list"].to_numpy() == 1
    if share > 0 and new.any():
        keys = np.array([int(hashlib.sha256(f"{seed}|{cid}|{as_of:%Y-%m-%d}".encode()).hexdigest()[:12], 16)
                         for cid in ids[new]])
        n_control = int(round(share * int(new.sum())))
        control = np.zeros(int(new.sum()), dtype=bool)
        control[np.argsort(keys, kind="stable")[:n_control]] = True
        group[np.flatnonzero(new)[control]] = "control"
    return pd.Series(group, index=call.index, name="group")


def control_comparison(episodes: pd.DataFrame, *, by: str | None = None, level: float = 0.95) -> pd.DataFrame:
    """Win-back of called against control customers, on closed episodes, overall or per ``reason``.

    The difference of the two rates comes with Newcombe's hybrid-score interval (statsmodels
    ``confint_proportions_2indep``, ``method="newcomb"``): an interval that excludes 0 means the calls made a
    difference beyond customers who would have come back anyway.

    Returns ``reason`` (with ``by="reason"``), ``n_call``, ``won_call``, ``rate_call``, ``n_control``,
    ``won_control``, ``rate_control``, ``difference``, ``ci_low``, ``ci_high`` (NaN while a group has no
    closed episode).
    """
    from statsmodels.stats.proportion import confint_proportions_2indep

    cols = ["n_call", "won_call", "rate_call", "n_control", "won_control", "rate_control", "difference",
            "ci_low", "ci_high"]
    key = [] if by is None else ["reason"]
    if by not in (None, "reason"):
        raise ValueError(f"control_comparison by={by!r} is not None or 'reason'")
    if episodes is None or episodes.empty or "group" not in episodes.columns:
        return pd.DataFrame(columns=key + cols)
    e = episodes.loc[episodes["outcome"] != "open"].copy()
    if by == "reason":
        e = e.assign(reason=e["reasons"].fillna("").astype(str).str.split(";")).explode("reason")
        e["reason"] = e["reason"].replace("", "none")
    else:
        e["reason"] = "all"
    rows = []
    for reason, g in e.groupby("reason", sort=True):
        won = g["outcome"] == "won_back"
        n1, w1 = int((g["group"] == "call").sum()), int((won & (g["group"] == "call")).sum())
        n0, w0 = int((g["group"] == "control").sum()), int((won & (g["group"] == "control")).sum())
        r1 = w1 / n1 if n1 else np.nan
        r0 = w0 / n0 if n0 else np.nan
        lo = hi = np.nan
        if n1 and n0:
            lo, hi = confint_proportions_2indep(w1, n1, w0, n0, method="newcomb", compare="diff",
                                                alpha=1 - level)
        rows.append((reason, n1, w1, r1, n0, w0, r0, r1 - r0, float(lo), float(hi)))
    out = pd.DataFrame(rows, columns=["reason", *cols])
    return out if by == "reason" else out.drop(columns="reason")
