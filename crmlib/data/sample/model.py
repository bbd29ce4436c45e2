"""The latent process behind the synthetic Turkish wholesaler of :mod:`crmlib.data.sample`.

Customers' latent parameters, their purchase days, order lines and returns, and the expected number of
future purchases given the latent state. Everything is vectorised numpy driven by one
``numpy.random.Generator`` drawn in a fixed order, so one seed gives one dataset.
:mod:`crmlib.data.sample.tables` turns the process into the observed tables; the model and its sources are
described in :mod:`crmlib.data.sample`'s docstring.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmlib.data.sample import catalogue as cat

logger = logging.getLogger(__name__)

FUTURE_DAYS = 365  # simulated past as_of to write truth.csv
TYPES = ("big", "medium", "small", "one_time")
TYPE_SHARES = np.array([0.07, 0.25, 0.45, 0.23])
LEGACY_SHARE = 0.30  # customers already buying before the window (regular types only)
ARRIVAL_GROWTH = 0.5  # new customers arrive 1.5 times as often at the end of the window as at its start
RATE_MEAN = np.array([0.28, 0.07, 0.02, 0.0])  # purchase rate per day: ~2/week, ~2/month, ~0.6/month
RATE_SHAPE = np.array([6.0, 3.0, 2.0, 1.0])  # gamma shape of the rate across customers (NBD heterogeneity)
LIFETIME_MEAN = np.array([2500.0, 1500.0, 900.0, 1.0])  # days, exponential (Pareto/NBD-like dropout)
LIFETIME_SHAPE = 3.0  # gamma shape of the dropout rate across customers
REFERRED_SHARE = 0.10  # of new customers; referred ones stay longer (Schmitt, Skiera & Van den Bulte 2011)
REFERRED_LIFETIME_FACTOR = 1.4
AOV_MEAN = np.array([24000.0, 8000.0, 2500.0, 3000.0])  # TL, mean order value per type
AOV_SHAPE = 3.0  # gamma shape of customers' mean order values (Gamma-Gamma's q)
ORDER_VALUE_SHAPE = 4.0  # gamma shape of one customer's order values (Gamma-Gamma's p)
LINES_P = np.array([0.50, 0.35, 0.20, 0.25])  # lines per order = 1 + Binomial(7, p)
DISCOUNT = np.array([[0.06, 0.12], [0.03, 0.07], [0.0, 0.03], [0.0, 0.0]])  # uniform range per type
SLOW_SHARE = 0.5  # of regular customers: rate decays over the last S days before dropout
SLOW_DAYS = (90, 240)
SLOW_FLOOR = 0.15  # rate multiplier reached at dropout
DISTRESS_SHARE = 0.8  # of regular customers: late payments, complaints, silence in the last W days
DISTRESS_DAYS = (90, 270)
MONTH_FACTOR = np.array([0.80, 0.85, 1.05, 1.10, 1.10, 0.95, 0.85, 0.90, 1.15, 1.15, 1.10, 1.00])
WEEKDAY_FACTOR = np.array([1.15, 1.15, 1.15, 1.15, 1.05, 0.60, 0.15])  # Monday..Sunday
BUNDLE_P = 0.30  # share of orders that contain one bundle
RETURN_LINE_P = 0.03  # share of orders with a return line
RETURN_ORDER_P = 0.006  # share of orders followed by a pure return order
CHANNELS = ("Saha satış", "Fuar", "Google Ads", "Instagram", "Web sitesi", "Referans")
CHANNEL_P = np.array([  # by type; Referans is given to referred customers only
    [0.50, 0.25, 0.10, 0.00, 0.15, 0.0],
    [0.35, 0.15, 0.25, 0.05, 0.20, 0.0],
    [0.15, 0.05, 0.35, 0.20, 0.25, 0.0],
    [0.05, 0.05, 0.35, 0.35, 0.20, 0.0],
])
FAIR_MONTHS = (3, 10)  # trade fairs (1-based months); fair customers join then
CAC = np.array([6000.0, 9000.0, 2500.0, 1800.0, 800.0, 1000.0])  # TL per new customer
CHANNEL_BASE = np.array([40000.0, 0.0, 5000.0, 3000.0, 15000.0, 0.0])  # TL per month
FAIR_BOOTH = 250000.0  # TL per fair month


@dataclass(frozen=True)
class Calendar:
    """Day grid from the window start to ``as_of`` + FUTURE_DAYS; day ``a`` is ``as_of``."""

    start: pd.Timestamp
    a: int
    n_days: int
    month: np.ndarray  # 0..11
    weekday: np.ndarray  # 0 = Monday

    @classmethod
    def build(cls, as_of: pd.Timestamp, years: float) -> Calendar:
        n_hist = int(round(years * 365))
        start = as_of - pd.Timedelta(days=n_hist - 1)
        days = pd.date_range(start, periods=n_hist + FUTURE_DAYS, freq="D")
        return cls(start, n_hist - 1, len(days), days.month.to_numpy() - 1, days.day_of_week.to_numpy())

    def dates(self, day: np.ndarray) -> pd.DatetimeIndex:
        return self.start + pd.to_timedelta(np.asarray(day), unit="D")


def pick(rng: np.random.Generator, cum: np.ndarray) -> np.ndarray:
    """One categorical draw per row of the row-wise cumulative probabilities ``cum``."""
    u = rng.random(len(cum)) * cum[:, -1]
    return np.minimum((u[:, None] >= cum).sum(axis=1), cum.shape[1] - 1)


def draw_customers(rng: np.random.Generator, n: int, cal: Calendar) -> dict[str, np.ndarray]:
    """Latent customer parameters, sorted by signup day (so customer ids follow signup order)."""
    legacy = rng.random(n) < LEGACY_SHARE
    typ = rng.choice(4, size=n, p=TYPE_SHARES)
    typ[legacy] = rng.choice(3, size=legacy.sum(), p=TYPE_SHARES[:3] / TYPE_SHARES[:3].sum())
    # new customers arrive over the whole window with density 1 + g t (t in [0, 1]): inverse-CDF draw
    u, g = rng.random(n), ARRIVAL_GROWTH
    join = np.floor((np.sqrt(1 + g * (2 + g) * u) - 1) / g * cal.a).astype(int)
    join[legacy] = 0
    signup = join - rng.integers(0, 15, n)
    signup = np.maximum(signup, 0)
    signup[legacy] = -rng.integers(60, 6 * 365, legacy.sum())
    order = np.lexsort((np.arange(n), signup))
    legacy, typ, join, signup = legacy[order], typ[order], join[order], signup[order]

    referred = ~legacy & (typ < 3) & (rng.random(n) < REFERRED_SHARE)
    lam = rng.gamma(RATE_SHAPE[typ], RATE_MEAN[typ] / RATE_SHAPE[typ])
    life = LIFETIME_MEAN[typ] * np.where(referred, REFERRED_LIFETIME_FACTOR, 1.0)
    mu = rng.gamma(LIFETIME_SHAPE, 1.0 / (life * (LIFETIME_SHAPE - 1)))  # E[1/mu] = life
    mu = np.where(typ == 3, 1.0, mu)
    dropout = join + np.ceil(rng.exponential(1.0, n) / mu).astype(np.int64)
    dropout = np.where(typ == 3, join + 1, np.minimum(dropout, 10 * cal.n_days))
    regular = typ < 3
    slow = regular & (rng.random(n) < SLOW_SHARE)
    slow_len = np.where(slow, rng.integers(*SLOW_DAYS, n), 1)
    distress = regular & (rng.random(n) < DISTRESS_SHARE)
    distress_len = np.where(distress, rng.integers(*DISTRESS_DAYS, n), 0)

    referrer = np.full(n, -1)
    weight = np.array([4.0, 2.0, 1.0, 0.5])[typ]
    for i in np.flatnonzero(referred):
        ok = (signup < signup[i]) & (join <= join[i]) & (dropout > join[i])
        if ok.any():
            w = np.where(ok, weight, 0.0)
            referrer[i] = rng.choice(n, p=w / w.sum())
    referred = referrer >= 0

    ch_cum = np.cumsum(CHANNEL_P[typ], axis=1)
    channel = pick(rng, ch_cum)
    join_month = cal.month[np.maximum(join, 0)] + 1
    channel[(channel == 1) & ~np.isin(join_month, FAIR_MONTHS) & ~legacy] = 0
    channel[referred] = 5

    pref = rng.dirichlet(np.full(len(cat.CATEGORIES), 0.4), n)
    lo, hi = DISCOUNT[typ, 0], DISCOUNT[typ, 1]
    return {
        "type": typ, "legacy": legacy, "join": join, "signup": signup, "referrer": referrer,
        "lam": lam, "mu": mu, "dropout": dropout, "slow": slow, "slow_len": slow_len,
        "distress": distress, "distress_len": distress_len, "channel": channel,
        "pref_cum": np.cumsum(pref, axis=1), "fav": pref.argmax(axis=1),
        "premium": rng.beta(2.0, 4.0, n), "discount": lo + (hi - lo) * rng.random(n),
        "aov": rng.gamma(AOV_SHAPE, AOV_MEAN[typ] / AOV_SHAPE),
        "terms": np.where(rng.random(n) < np.array([0.7, 0.4, 0.2, 0.1])[typ], 45, 30),
        "delay_mean": rng.normal(-4.0, 5.0, n),
        "nps_effect": rng.normal(0.0, 1.0, n),
    }


def _day_factor(cal: Calendar) -> np.ndarray:
    week = WEEKDAY_FACTOR * 7 / WEEKDAY_FACTOR.sum()
    return MONTH_FACTOR[cal.month] / MONTH_FACTOR.mean() * week[cal.weekday]


def _slow_factor(c: dict[str, np.ndarray], idx: np.ndarray | slice, day: np.ndarray) -> np.ndarray:
    """Rate multiplier of the slowdown: SLOW_FLOOR ** x over the last slow_len days (x from 0 to 1)."""
    x = (day - (c["dropout"][idx] - c["slow_len"][idx])[:, None]) / c["slow_len"][idx][:, None]
    return np.where(c["slow"][idx][:, None] & (x >= 0), SLOW_FLOOR ** np.clip(x, 0, 1), 1.0)


def draw_purchase_days(rng: np.random.Generator, c: dict[str, np.ndarray],
                       cal: Calendar) -> tuple[np.ndarray, np.ndarray]:
    """Purchase days: a Bernoulli(1 - exp(-rate)) draw per customer and day while alive."""
    f = _day_factor(cal)
    day = np.arange(cal.n_days)
    cs, ds = [], []
    n = len(c["lam"])
    for lo in range(0, n, 1000):
        idx = slice(lo, min(lo + 1000, n))
        alive = (day >= c["join"][idx, None]) & (day < c["dropout"][idx, None])
        rate = c["lam"][idx, None] * f * _slow_factor(c, idx, day)
        hit = rng.random(alive.shape) < -np.expm1(-rate) * alive
        rows = np.arange(hit.shape[0])
        hit[rows, c["join"][idx]] |= ~c["legacy"][idx]  # a new customer's first purchase is its join day
        ci, di = np.nonzero(hit)
        cs.append(ci + lo)
        ds.append(di)
    return np.concatenate(cs), np.concatenate(ds)


def expected_orders(c: dict[str, np.ndarray], cal: Calendar, horizon: int = FUTURE_DAYS) -> np.ndarray:
    """Expected purchase days in (as_of, as_of + horizon] given each customer's latent state at as_of.

    The state is (rate, dropout rate, slowdown flag and length, alive, and the slowdown phase if it has
    begun); the future dropout day is integrated out: by memorylessness the days to dropout (or to the
    start of the slowdown) are geometric with P(> k) = exp(-mu k).
    """
    a = cal.a
    k = np.arange(1, horizon + 1)
    q = -np.expm1(-c["lam"][:, None] * _day_factor(cal)[a + k])  # per-day purchase probability, full rate
    alive = c["dropout"] > a
    surv = np.exp(-c["mu"][:, None] * k)
    out = np.where(alive, (q * surv).sum(axis=1), 0.0)
    in_slow = alive & c["slow"] & (c["dropout"] - c["slow_len"] <= a)
    if in_slow.any():  # phase known: deterministic path until dropout
        i = np.flatnonzero(in_slow)
        g = _slow_factor(c, i, a + k)
        live = (a + k)[None, :] < c["dropout"][i, None]
        out[i] = (-np.expm1(-c["lam"][i, None] * _day_factor(cal)[a + k] * g) * live).sum(axis=1)
    pending = alive & c["slow"] & ~in_slow
    if pending.any():
        i = np.flatnonzero(pending)
        out[i] = _expected_before_slowdown(c["lam"][i], c["mu"][i], c["slow_len"][i], _day_factor(cal)[a + k])
    return out


def _expected_before_slowdown(lam: np.ndarray, mu: np.ndarray, s_len: np.ndarray,
                              f: np.ndarray) -> np.ndarray:
    """Expected purchase days over the horizon ``len(f)`` for customers whose slowdown has not begun.

    The slowdown starts on day j >= 1 with probability e^{-mu (j-1)} (1 - e^{-mu}); before it the daily
    purchase probability is 1 - exp(-lam f_k), from day j on 1 - exp(-lam f_k r^(k-j)) with
    r = SLOW_FLOOR^(1/S) until dropout on day j + S. The window sums over k are computed for every j at
    once from the series 1 - e^{-x} = sum_n (-1)^(n+1) x^n / n! (x <= lam f < 2, so 20 terms are exact
    to double precision) and suffix sums of f_k^n r^(nk).
    """
    horizon = len(f)
    k = np.arange(1, horizon + 1)
    q = -np.expm1(-lam[:, None] * f)
    before = np.concatenate([np.zeros((len(lam), 1)), np.cumsum(q, axis=1)[:, :-1]], axis=1)  # days < j
    log_r = np.log(SLOW_FLOOR) / s_len[:, None]
    end = np.minimum(k[None, :] + s_len[:, None], horizon + 1) - 1  # first day after the window, 0-based
    rows = np.arange(len(lam))[:, None]
    window = np.zeros((len(lam), horizon))
    term = 1.0
    for n in range(1, 21):
        term *= 1.0 / n
        y = f ** n * np.exp(n * k * log_r)
        suffix = np.concatenate([np.cumsum(y[:, ::-1], axis=1)[:, ::-1], np.zeros((len(lam), 1))], axis=1)
        part = (suffix[:, :-1] - suffix[rows, end]) * np.exp(-n * k * log_r)
        window += (-1) ** (n + 1) * term * lam[:, None] ** n * part
    p_start = np.exp(-mu[:, None] * (k - 1)) * -np.expm1(-mu[:, None])
    never = np.exp(-mu * horizon) * q.sum(axis=1)  # the slowdown starts after the horizon
    return (p_start * (before + window)).sum(axis=1) + never


def draw_lines(rng: np.random.Generator, c: dict[str, np.ndarray], arr: dict[str, np.ndarray],
           prod: pd.DataFrame, o_cust: np.ndarray, o_day: np.ndarray, cal: Calendar) -> dict[str, np.ndarray]:
    """Order lines of the purchase orders: bundles, preference- and season-driven picks, Gamma values."""
    n_o = len(o_cust)
    typ = c["type"][o_cust]
    month = cal.month[o_day]
    z = rng.gamma(ORDER_VALUE_SHAPE, c["aov"][o_cust] / ORDER_VALUE_SHAPE)
    n_lines = 1 + rng.binomial(7, LINES_P[typ])
    # one bundle (2-3 products bought together) in BUNDLE_P of the orders, from a preferred category
    has_b = rng.random(n_o) < BUNDLE_P
    b_cat = pick(rng, c["pref_cum"][o_cust])
    b_items = arr["bundles"][b_cat, pick(rng, arr["bundle_cum"][b_cat, month])]
    b_prem = (rng.random(n_o) < c["premium"][o_cust]).astype(int)
    b_ok = has_b[:, None] & (b_items >= 0)
    b_order = np.repeat(np.arange(n_o)[:, None], 3, axis=1)[b_ok]
    b_prod = arr["index"][np.repeat(b_cat[:, None], 3, axis=1)[b_ok], b_items[b_ok],
                          np.repeat(b_prem[:, None], 3, axis=1)[b_ok]]
    # the other lines: category by the customer's preference, item by popularity and season
    n_rand = np.where(has_b, np.maximum(n_lines - b_ok.sum(axis=1), 0), n_lines)
    r_order = np.repeat(np.arange(n_o), n_rand)
    r_cust = o_cust[r_order]
    r_cat = pick(rng, c["pref_cum"][r_cust])
    r_item = pick(rng, arr["pick_cum"][r_cat, month[r_order]])
    r_prem = (rng.random(len(r_order)) < c["premium"][r_cust]).astype(int)
    r_prod = arr["index"][r_cat, r_item, r_prem]
    key = np.sort(np.concatenate([b_order, r_order]) * len(prod) + np.concatenate([b_prod, r_prod]))
    key = key[np.concatenate([[True], key[1:] != key[:-1]])]  # one line per product and order
    order, product = key // len(prod), key % len(prod)
    cust = o_cust[order]
    w = rng.gamma(1.5, 1.0, len(order))
    value = z[order] * w / np.bincount(order, w, minlength=n_o)[order]
    net_price = prod["price"].to_numpy()[product] * (1 - c["discount"][cust])
    qty = np.maximum(1.0, np.rint(value / net_price))
    unit_cost = prod["unit_cost"].to_numpy()[product]
    return {"order": order, "product": product, "qty": qty, "price": net_price, "unit_cost": unit_cost}


def draw_returns(rng: np.random.Generator, c: dict[str, np.ndarray], ln: dict[str, np.ndarray],
             o_cust: np.ndarray, o_day: np.ndarray, cal: Calendar) -> tuple[dict[str, np.ndarray], ...]:
    """Return lines inside orders and pure return orders a few days after a purchase."""
    n_o = len(o_cust)
    first = np.searchsorted(ln["order"], np.arange(n_o))
    count = np.bincount(ln["order"], minlength=n_o)
    which = first + np.floor(rng.random(n_o) * count).astype(int)
    frac = rng.uniform(0.1, 0.5, n_o)
    back = np.maximum(1.0, np.floor(ln["qty"][which] * frac))
    in_order = rng.random(n_o) < RETURN_LINE_P
    pure = rng.random(n_o) < RETURN_ORDER_P
    r_day = o_day + rng.integers(2, 15, n_o)
    pure &= ~in_order & (r_day < c["dropout"][o_cust]) & (r_day < cal.n_days)
    extra = {k: v[which[in_order]] for k, v in ln.items()} | {"qty": -back[in_order]}
    ret_orders = {"cust": o_cust[pure], "day": r_day[pure]}
    ret_lines = {k: v[which[pure]] for k, v in ln.items()} | {"qty": -back[pure],
                                                               "order": n_o + np.arange(pure.sum())}
    return extra, ret_orders, ret_lines
