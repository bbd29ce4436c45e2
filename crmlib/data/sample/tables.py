"""The observed tables of the synthetic wholesaler, drawn from the process of :mod:`crmlib.data.sample.model`.

:func:`simulate` runs the process and returns every input table with the contract's column names (history up
to ``as_of`` only) plus ``truth``; :mod:`crmlib.data.sample` formats and writes them. Ids are still integers here.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from crmlib.data.sample import catalogue as cat
from crmlib.data.sample.model import (
    CAC,
    CHANNEL_BASE,
    CHANNELS,
    FAIR_BOOTH,
    FAIR_MONTHS,
    TYPES,
    Calendar,
    draw_customers,
    draw_lines,
    draw_purchase_days,
    draw_returns,
    expected_orders,
    pick,
)

logger = logging.getLogger(__name__)


def simulate(*, customers: int, seed: int, as_of: pd.Timestamp, years: float) -> dict[str, pd.DataFrame]:
    """Simulate the wholesaler; return the input tables (history up to ``as_of``) and ``truth``.

    Ids are still integers here (customer and product row numbers, order and invoice sequence
    numbers); :mod:`crmlib.data.sample` turns them into codes when it writes the files.
    """
    rng = np.random.default_rng(seed)
    cal = Calendar.build(as_of, years)
    products, arr = cat.products(rng)
    c = draw_customers(rng, customers, cal)
    o_cust, o_day = draw_purchase_days(rng, c, cal)
    ln = draw_lines(rng, c, arr, products, o_cust, o_day, cal)
    extra, r_orders, r_lines = draw_returns(rng, c, ln, o_cust, o_day, cal)

    # all orders (purchases, then pure returns) numbered in date order
    n_o = len(o_cust)
    cust = np.concatenate([o_cust, r_orders["cust"]])
    day = np.concatenate([o_day, r_orders["day"]])
    kind = np.concatenate([np.zeros(n_o, int), np.ones(len(day) - n_o, int)])
    rank = np.empty(len(day), int)
    rank[np.lexsort((kind, cust, day))] = np.arange(len(day))
    lines = {k: np.concatenate([ln[k], extra[k], r_lines[k]]) for k in ln}
    amount = np.round(lines["qty"] * lines["price"], 2)
    cost = np.round(lines["qty"] * lines["unit_cost"], 2)
    order_amount = np.bincount(lines["order"], amount, minlength=len(day))
    l_sort = np.lexsort((lines["qty"] < 0, lines["product"], rank[lines["order"]]))
    l_order = lines["order"][l_sort]
    hist = day[l_order] <= cal.a
    order_lines = pd.DataFrame({
        "customer_id": cust[l_order][hist], "order_id": rank[l_order][hist] + 1,
        "order_date": cal.dates(day[l_order][hist]), "product_id": lines["product"][l_sort][hist],
        "quantity": lines["qty"][l_sort][hist], "amount": amount[l_sort][hist], "cost": cost[l_sort][hist],
    })

    past = (kind == 0) & (day <= cal.a)
    p_idx = np.flatnonzero(past)
    payments = _payments(rng, c, cust[p_idx], day[p_idx], order_amount[p_idx], rank[p_idx] + 1, cal)
    tickets = _tickets(rng, c, cust[p_idx], day[p_idx], p_idx, ln, cal)
    complained = np.isin(p_idx, tickets.pop("order").to_numpy())
    surveys = _surveys(rng, c, cust[p_idx], day[p_idx], complained, cal)
    contacts = _contacts(rng, c, cal)
    marketing = _marketing(rng, c, cal)
    table = _customer_table(rng, c, cal)
    truth = _truth(c, cal, cust, day, kind, order_amount)
    logger.info("simulated %d customers, %d orders, %d order lines up to %s",
                customers, past.sum(), len(order_lines), as_of.date())
    return {"orders": order_lines, "customers": table, "products": products, "payments": payments,
            "tickets": tickets, "surveys": surveys, "contacts": contacts, "marketing": marketing,
            "truth": truth}


def _customer_table(rng: np.random.Generator, c: dict[str, np.ndarray], cal: Calendar) -> pd.DataFrame:
    """The customer master: every simulated customer, also those without a purchase in the window."""
    n = len(c["type"])
    names, emails = cat.company_names(rng, c["type"], c["fav"])
    birth = pd.Timestamp("1955-01-01") + pd.to_timedelta(rng.integers(0, 45 * 365, n), unit="D")
    table = pd.DataFrame({
        "customer_id": np.arange(n), "name": names, "email": emails, "phone": cat.phones(rng, n),
        "city": cat.cities(rng, n), "signup_date": cal.dates(c["signup"]), "birth_date": birth,
        "referred_by": np.where(c["referrer"] >= 0, c["referrer"], np.nan),
        "marketing_consent": (rng.random(n) < 0.7).astype(int),
        "channel": np.array(CHANNELS)[c["channel"]],
    })
    table.loc[rng.random(n) < 0.04, "email"] = None  # real customer masters have gaps
    table.loc[rng.random(n) < 0.02, "phone"] = None
    table.loc[rng.random(n) < 0.15, "birth_date"] = pd.NaT
    return table


def _truth(c: dict[str, np.ndarray], cal: Calendar, cust: np.ndarray, day: np.ndarray, kind: np.ndarray,
           order_amount: np.ndarray) -> pd.DataFrame:
    """Each customer's simulated fate after as_of (customers with a purchase up to as_of)."""
    n = len(c["type"])
    a = cal.a
    buyers = np.unique(cust[(kind == 0) & (day <= a)])
    out = {"customer_id": buyers, "latent_type": np.array(TYPES)[c["type"][buyers]],
           "alive_at_as_of": (c["dropout"][buyers] > a).astype(int)}
    drop = c["dropout"][buyers].astype(float)
    drop[drop >= cal.n_days] = np.nan
    out["dropout_date"] = pd.Series(cal.dates(np.nan_to_num(drop))).where(~np.isnan(drop))
    for h in (90, 365):
        window = (day > a) & (day <= a + h)
        purchases = np.bincount(cust[window & (kind == 0)], minlength=n)
        revenue = np.bincount(cust[window], order_amount[window], minlength=n)
        out[f"orders_next_{h}d"] = purchases[buyers]
        out[f"revenue_next_{h}d"] = np.round(revenue[buyers], 2)
    out["expected_orders_next_365d"] = np.round(expected_orders(c, cal)[buyers], 4)
    started = c["dropout"] - c["slow_len"] < cal.n_days
    out["slowed_down"] = (c["slow"] & started)[buyers].astype(int)
    return pd.DataFrame(out)


def _distressed(c: dict[str, np.ndarray], cust: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Whether the customer is in its pre-dropout distress window on that day."""
    d = c["dropout"][cust]
    return c["distress"][cust] & (day >= d - c["distress_len"][cust]) & (day < d)


def _payments(rng: np.random.Generator, c: dict[str, np.ndarray], cust: np.ndarray, day: np.ndarray,
              amount: np.ndarray, invoice: np.ndarray, cal: Calendar) -> pd.DataFrame:
    """One invoice per purchase order; paid late (or never) far more often in the distress window."""
    n = len(cust)
    stress = _distressed(c, cust, day)
    due = day + c["terms"][cust]
    delay = np.rint(rng.normal(c["delay_mean"][cust], 3.0))
    delay += np.where(stress & (rng.random(n) < 0.8), rng.integers(10, 46, n), 0)
    paid = np.maximum(due + delay, day).astype(float)
    paid[rng.random(n) < np.where(stress, 0.25, 0.005)] = np.nan  # never paid
    paid[paid > cal.a] = np.nan  # not paid yet at as_of
    return pd.DataFrame({
        "customer_id": cust, "invoice_id": invoice, "due_date": cal.dates(due),
        "paid_date": pd.Series(cal.dates(np.nan_to_num(paid)), dtype="datetime64[ns]").where(~np.isnan(paid)),
        "amount": np.round(amount, 2),
    })


def _tickets(rng: np.random.Generator, c: dict[str, np.ndarray], cust: np.ndarray, day: np.ndarray,
             order_idx: np.ndarray, ln: dict[str, np.ndarray], cal: Calendar) -> pd.DataFrame:
    """Complaints after deliveries: 3 % of orders, 15 % in the distress window, slower service there."""
    stress = _distressed(c, cust, day)
    hit = rng.random(len(cust)) < np.where(stress, 0.15, 0.03)
    cust, day, order_idx, stress = cust[hit], day[hit], order_idx[hit], stress[hit]
    n = len(cust)
    opened = (day + rng.integers(1, 11, n)) * 1440 + rng.integers(8 * 60, 18 * 60, n)  # minutes from start
    ack = opened + np.rint(rng.exponential(np.where(stress, 1440.0, 240.0)))
    resolved = opened + np.rint(rng.lognormal(np.log(np.where(stress, 7.0, 2.0) * 1440), 0.6)).astype(float)
    resolved[rng.random(n) < np.where(stress, 0.15, 0.02)] = np.nan
    category = np.array(["Geç teslimat", "Hasarlı ürün", "Eksik ürün", "Fatura hatası", "Kalite"])
    cat_i = rng.choice(5, n, p=[0.3, 0.2, 0.2, 0.15, 0.15])
    first = np.searchsorted(ln["order"], order_idx)
    count = np.searchsorted(ln["order"], order_idx, side="right") - first
    product = ln["product"][first + np.floor(rng.random(n) * count).astype(int)].astype(float)
    product[np.isin(cat_i, [0, 3])] = np.nan  # delivery and invoice complaints name no product
    end = (cal.a + 1) * 1440
    keep = opened < end
    sort = np.lexsort((cust[keep], opened[keep]))

    def stamp(minutes: np.ndarray) -> pd.Series:
        m = np.where(minutes < end, minutes, np.nan)[keep][sort]
        return pd.Series(cal.start + pd.to_timedelta(m, unit="min"))

    return pd.DataFrame({
        "customer_id": cust[keep][sort], "ticket_id": np.arange(1, keep.sum() + 1),
        "opened_at": stamp(opened), "acknowledged_at": stamp(ack), "resolved_at": stamp(resolved),
        "category": category[cat_i[keep][sort]], "product_id": product[keep][sort],
        "order": order_idx[keep][sort],
    })


def _surveys(rng: np.random.Generator, c: dict[str, np.ndarray], cust: np.ndarray, day: np.ndarray,
             complained: np.ndarray, cal: Calendar) -> pd.DataFrame:
    """NPS (0-10) and CSAT (1-5) after 8 % of deliveries; lower in distress and after a complaint."""
    hit = rng.random(len(cust)) < 0.08
    cust, day, complained = cust[hit], day[hit] + rng.integers(3, 15, hit.sum()), complained[hit]
    keep = day <= cal.a
    cust, day, complained = cust[keep], day[keep], complained[keep]
    latent = (np.array([8.2, 7.7, 7.2, 6.6])[c["type"][cust]] + c["nps_effect"][cust]
              - 3.0 * _distressed(c, cust, day) - 1.5 * complained + rng.normal(0, 1.2, len(cust)))
    nps = np.clip(np.rint(latent), 0, 10).astype(int)
    csat = np.clip(np.rint(1 + 4 * latent / 10 + rng.normal(0, 0.5, len(cust))), 1, 5).astype(int)
    sort = _first_per_day(cust, day)
    return pd.DataFrame({"customer_id": cust[sort], "date": cal.dates(day[sort]),
                         "nps": nps[sort], "csat": csat[sort]})


def _contacts(rng: np.random.Generator, c: dict[str, np.ndarray], cal: Calendar) -> pd.DataFrame:
    """Sales reps' outreach from join until some months after dropout; answered less in distress."""
    n = len(c["type"])
    first = np.where(c["legacy"], 0, c["join"])
    last = np.minimum(c["dropout"] + rng.integers(60, 241, n), cal.a + 1)
    span = np.maximum(last - first, 0)
    count = rng.poisson(np.array([3.0, 1.5, 0.6, 0.3])[c["type"]] * span / 30.0)
    cust = np.repeat(np.arange(n), count)
    day = first[cust] + np.floor(rng.random(len(cust)) * span[cust]).astype(int)
    dead = day >= c["dropout"][cust]
    p = np.where(dead, 0.10, np.where(_distressed(c, cust, day), 0.35, 0.85))
    responded = (rng.random(len(cust)) < p).astype(int)
    channels = np.array(["telefon", "e-posta", "ziyaret", "WhatsApp"])
    big = c["type"][cust] == 0
    ch_cum = np.where(big[:, None], np.cumsum([0.35, 0.15, 0.35, 0.15]), np.cumsum([0.40, 0.25, 0.05, 0.30]))
    ch = pick(rng, ch_cum)
    sort = _first_per_day(cust, day)
    return pd.DataFrame({"customer_id": cust[sort], "date": cal.dates(day[sort]),
                         "channel": channels[ch[sort]], "responded": responded[sort]})


def _first_per_day(cust: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Row order by day and customer, keeping one row per customer and day (no duplicate rows)."""
    sort = np.lexsort((cust, day))
    keep = np.concatenate([[True], (np.diff(day[sort]) != 0) | (np.diff(cust[sort]) != 0)])
    return sort[keep]


def _marketing(rng: np.random.Generator, c: dict[str, np.ndarray], cal: Calendar) -> pd.DataFrame:
    """Monthly spend and new customers per acquisition channel, from the customers' signup months."""
    months = pd.period_range(cal.start, cal.dates(np.array([cal.a]))[0], freq="M")
    new = ~c["legacy"]
    signup_month = cal.dates(c["signup"][new]).to_period("M")
    counts = pd.crosstab(signup_month, c["channel"][new]).reindex(
        index=months, columns=range(len(CHANNELS)), fill_value=0)
    n = counts.to_numpy()
    spend = n * CAC * rng.lognormal(0.0, 0.25, n.shape) + CHANNEL_BASE * rng.uniform(0.8, 1.2, n.shape)
    fair = np.isin(months.month, FAIR_MONTHS)
    spend[:, 1] += np.where(fair, FAIR_BOOTH * rng.uniform(0.8, 1.2, len(months)), 0.0)
    return pd.DataFrame({
        "month": np.repeat(months.strftime("%Y-%m"), len(CHANNELS)),
        "channel": np.tile(np.array(CHANNELS), len(months)),
        "spend": np.round(spend.ravel(), -1), "new_customers": n.ravel(),
    })
