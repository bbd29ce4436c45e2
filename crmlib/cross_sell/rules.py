"""Cross-sell and upsell: association rules, next-best products, premium alternatives, bundles, pre-season.

Everything here works on the canonical ``order_lines`` frame and needs its ``product_id`` column; purchase
lines are the lines with a positive amount (returns are not purchases, see ``docs/ARCHITECTURE.md``). The
same figures come from the SQL views of :mod:`crmlib.data.views` instead of the lines: pass ``items=`` (the
``customer_products`` view: the customer x product purchase table), ``baskets=`` (``order_products``) or
``candidates=`` (``preseason_items``); the notebook reads only these aggregates (``ctx.view``).

- Association rules and bundles: frequent item sets over orders (baskets) by FP-growth (Han, Pei & Yin 2000)
  and rules with support, confidence and lift (Agrawal, Imieliński & Swami 1993; Brin et al. 1997), both
  from mlxtend.
- Next-best products: item-to-item collaborative filtering at the customer level (Linden, Smith & York 2003,
  "Amazon.com recommendations: item-to-item collaborative filtering"): cosine similarity of the products'
  buyer sets, summed over what the customer bought; items they already buy regularly are excluded.
- Validation: hit rate@k and recall@k on a time split against a popularity baseline (Deshpande & Karypis
  2004, "Item-based top-N recommendation algorithms", ACM TOIS 22(1); Cremonesi, Koren & Turrin 2010).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from crmlib.core.readiness import Readiness, readiness
from crmlib.cross_sell.families import TIER_WORDS, product_families
from crmlib.cross_sell.params import resolve as merged_params
from crmlib.data.textops import factorize_sorted, in_order
from crmlib.errors import DataError, ParamsError

log = logging.getLogger(__name__)

REASON_CODES: tuple[str, ...] = ("co_bought", "popular")


# --------------------------------------------------------------------------------------------- helpers


def has_products(order_lines: pd.DataFrame) -> bool:
    """Whether the order lines name products (a ``product_id`` column with at least one value)."""
    return "product_id" in order_lines.columns and bool(order_lines["product_id"].notna().any())


def _require(frame: pd.DataFrame, columns: Iterable[str], table: str, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{what} needs the column(s) {', '.join(missing)} of the {table} table, which has "
            f"{', '.join(map(str, frame.columns[:12]))}. Map them under data.{table}.columns "
            "in the params file."
        )


def data_readiness(order_lines: pd.DataFrame | None, *, as_of: Any = None,
                   params: Mapping[str, Any] | None = None, items: pd.DataFrame | None = None,
                   baskets: pd.DataFrame | None = None) -> Readiness:
    """The minimum-data rules of the rules and the co-bought suggestions: ``min_orders`` purchase orders,
    ``min_customers`` customers and ``min_products`` different products, up to ``as_of``.

    Required columns: ``customer_id``, ``order_id``, ``order_date``, ``amount``, ``product_id``; or, instead
    of the lines, ``items`` (the ``customer_products`` view) and ``baskets`` (``order_products``) at ``as_of``.
    """
    p = merged_params(params)
    if items is not None and baskets is not None:
        n_orders, n_customers = baskets["order_id"].nunique(), items["customer_id"].nunique()
        n_products = items["product_id"].nunique()
    else:
        lines = purchase_lines(order_lines, as_of=as_of)
        n_orders, n_customers = lines["order_id"].nunique(), lines["customer_id"].nunique()
        n_products = lines["product_id"].nunique()
    return readiness("cross_sell", [
        ("cross_sell.min_orders", p["min_orders"], n_orders),
        ("cross_sell.min_customers", p["min_customers"], n_customers),
        ("cross_sell.min_products", p["min_products"], n_products),
    ])


def purchase_lines(order_lines: pd.DataFrame, *, as_of: Any = None, what: str = "Cross-sell") -> pd.DataFrame:
    """Return the purchase lines with a product: amount > 0, ``product_id`` given, ``order_date ≤ as_of``.

    Required columns:

    - ``customer_id``, ``order_id``, ``order_date``, ``amount``, ``product_id``
    """
    _require(order_lines, ["customer_id", "order_id", "order_date", "amount", "product_id"], "orders", what)
    if not has_products(order_lines):
        raise DataError(
            f"{what} needs product ids, but the column product_id of the orders table is empty. "
            "Map the file's product column under data.orders.columns.product_id."
        )
    keep = (order_lines["amount"] > 0) & order_lines["product_id"].notna()
    if as_of is not None:
        keep &= order_lines["order_date"] <= pd.Timestamp(as_of)
    cols = ["customer_id", "order_id", "order_date", "amount", "product_id"]
    cols += [c for c in ("quantity",) if c in order_lines.columns]
    out = order_lines.loc[keep, cols].copy()
    out["product_id"] = out["product_id"].astype(str)
    return out


def product_names(products: pd.DataFrame | None) -> dict[str, str]:
    """Map ``product_id`` to the products table's ``name`` (empty without the table or the column)."""
    if products is None or "name" not in products.columns or "product_id" not in products.columns:
        return {}
    named = products.dropna(subset=["product_id", "name"])
    return dict(zip(named["product_id"].astype(str), named["name"].astype(str), strict=True))


def isin(values: pd.Series, allowed: Iterable[Any]) -> np.ndarray:
    """``values.isin(allowed)`` as a boolean array, by a hash lookup of the distinct allowed values (pandas'
    ``isin`` on Arrow strings converts every allowed value in Python: seconds for a million)."""
    distinct = pd.Index(pd.unique(pd.Series(list(allowed) if not isinstance(allowed, pd.Series | pd.Index)
                                            else allowed)))
    return distinct.get_indexer(values) >= 0


def _label(ids: str, names: Mapping[str, str]) -> str:
    return ", ".join(names.get(i, i) for i in ids.split(", ")) if ids else ids


def _matrix(rows: pd.Series, cols: pd.Series) -> tuple[sp.csr_matrix, pd.Index, pd.Index]:
    """Binary incidence matrix of (row, col) pairs: rows × cols, 1 where the pair occurs."""
    r, row_index = pd.factorize(rows, sort=True)
    c, col_index = pd.factorize(cols, sort=True)
    m = sp.csr_matrix((np.ones(len(r), dtype=np.int32), (r, c)), shape=(len(row_index), len(col_index)))
    m.data[:] = 1
    return m, pd.Index(row_index), pd.Index(col_index)


# --------------------------------------------------------------------------------- baskets and rules


def baskets(order_lines: pd.DataFrame) -> pd.DataFrame:
    """One-hot basket frame: one row per purchase order, one sparse boolean column per product.

    Required columns:

    - ``customer_id``, ``order_id``, ``order_date``, ``amount`` (lines with amount ≤ 0 are returns, left out)
    - ``product_id``
    """
    lines = purchase_lines(order_lines)
    m, orders, items = _matrix(lines["order_id"], lines["product_id"])
    frame = pd.DataFrame.sparse.from_spmatrix(m.astype(bool), index=orders, columns=items)
    frame.index.name, frame.columns.name = "order_id", "product_id"
    return frame


def frequent_itemsets(
    order_lines: pd.DataFrame | None, *, params: Mapping[str, Any] | None = None,
    baskets: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, int]:
    """Frequent item sets of the purchase orders: every set of at most ``max_len`` products in at least
    ``min_support`` of the orders, with its support (the item sets and supports of mlxtend's ``fpgrowth``,
    Han, Pei & Yin 2000, counted exactly by :func:`count_itemsets`). Pass the result to
    :func:`association_rules` and :func:`bundles` as ``itemsets=`` to mine once.

    Required columns: ``customer_id``, ``order_id``, ``order_date``, ``amount``, ``product_id``; or, instead
    of the lines, ``baskets`` (the ``order_products`` view: ``order_id``, ``product_id``).

    Returns
    -------
    tuple
        mlxtend's frame (``support``, ``itemsets`` as frozensets of product ids) and the number of orders.
    """
    p = merged_params(params)
    lines = baskets if baskets is not None else purchase_lines(order_lines)
    m, _, items = _matrix(lines["order_id"], lines["product_id"])
    found = count_itemsets(m, items.astype(str), min_support=float(p["min_support"]), max_len=int(p["max_len"]))
    return found, m.shape[0]


def _frequent(counts: np.ndarray, n_orders: int, min_support: float) -> np.ndarray:
    """Mask of the counts that are frequent by mlxtend's three tests (the count against min_support × n, its
    ceiling, and the support count / n against min_support), so that float rounding decides as there."""
    return ((counts >= min_support * n_orders) & (counts >= math.ceil(min_support * n_orders))
            & (counts / float(n_orders) >= min_support))


def count_itemsets(onehot: sp.spmatrix, items: pd.Index, *, min_support: float,
                   max_len: int | None = None) -> pd.DataFrame:
    """Every item set of at most ``max_len`` items contained in at least ``min_support`` of the rows of a
    binary order x item matrix, with its support (rows containing it / rows), exactly.

    Depth-first over the order lists of the sets (Eclat, Zaki 2000): a set is only extended by frequent items
    after its last one, and the orders of every extension are counted at once as column sums of the set's
    rows, so every frequent set is found (each has a frequent prefix) and counted exactly. Same sets and
    supports as mlxtend's ``fpgrowth`` (``use_colnames``, ``max_len``) on the dense frame, faster on millions
    of orders. A count is frequent when count ≥ ``min_support`` × rows and count / rows ≥ ``min_support``
    (where float rounding separates the two, mlxtend's answer depends on its tree's shape; here the set is
    always left out, as the pre-filter of single items did).

    Returns
    -------
    pandas.DataFrame
        support (float), itemsets (frozensets of ``items``' labels); singles first, then by set size.
    """
    n_orders = onehot.shape[0]
    empty = pd.DataFrame({"support": pd.Series(dtype=float), "itemsets": pd.Series(dtype=object)})
    if n_orders == 0:
        return empty
    m = sp.csc_matrix(onehot, dtype=bool).astype(np.int32)
    counts = np.asarray(m.sum(axis=0)).ravel()
    frequent = np.flatnonzero(_frequent(counts, n_orders, min_support))
    if len(frequent) == 0:
        return empty
    m = sp.csr_matrix(m[:, frequent])
    rows_of = sp.csc_matrix(m)  # the orders of each frequent item
    labels = np.asarray(items)[frequent]
    found: list[tuple[tuple[int, ...], int]] = [((j,), int(counts[f])) for j, f in enumerate(frequent)]
    orders = [rows_of.indices[rows_of.indptr[j]:rows_of.indptr[j + 1]] for j in range(len(frequent))]
    level = [((j,), orders[j]) for j in range(len(frequent))]
    size = 1
    while level and (max_len is None or size < max_len):
        size += 1
        following: list[tuple[tuple[int, ...], np.ndarray]] = []
        for prefix, rows in level:
            last = prefix[-1]
            if last + 1 >= len(frequent) or len(rows) == 0:
                continue
            together = np.asarray(m[rows].sum(axis=0)).ravel()
            after = np.arange(last + 1, len(frequent))
            ok = after[_frequent(together[after], n_orders, min_support)]
            for j in ok:
                found.append((prefix + (int(j),), int(together[j])))
                if max_len is None or size < max_len:
                    following.append((prefix + (int(j),), np.intersect1d(rows, orders[j], assume_unique=True)))
        level = following
    return pd.DataFrame({
        "support": pd.Series([c / float(n_orders) for _, c in found], dtype=float),
        "itemsets": pd.Series([frozenset(labels[list(s)]) for s, _ in found], dtype=object),
    })


def stored_itemsets(meta: Mapping[str, Any], *,
                    params: Mapping[str, Any] | None = None) -> tuple[pd.DataFrame, int] | None:
    """The item sets mined for this run by another engine (``meta["cross_sell_itemsets"]``: the Spark build
    runs Spark ML's FP-growth there, see docs/SCALING.md), in :func:`frequent_itemsets`' form; ``None`` when
    there are none or they were mined with other ``min_support`` / ``max_len`` (then mine here).

    ``meta["cross_sell_itemsets"]`` holds ``n_orders``, ``min_support``, ``max_len`` and ``itemsets``, a
    list of [product ids, orders containing them].
    """
    stored = meta.get("cross_sell_itemsets")
    p = merged_params(params)
    if not stored or float(stored["min_support"]) != float(p["min_support"]) \
            or int(stored["max_len"]) != int(p["max_len"]):
        return None
    n_orders = int(stored["n_orders"])
    found = pd.DataFrame({
        "support": pd.Series([count / n_orders for _, count in stored["itemsets"]], dtype=float),
        "itemsets": pd.Series([frozenset(map(str, items)) for items, _ in stored["itemsets"]], dtype=object),
    })
    return found, n_orders


def join_items(items: Iterable[str]) -> str:
    """An item set as readable text: the ids sorted and joined with ", " (``"A, B"``)."""
    return ", ".join(sorted(items))


RULE_COLUMNS: list[str] = [
    "antecedents",
    "consequents",
    "support",
    "confidence",
    "lift",
    "n_orders",
    "antecedent_orders",
    "antecedent_support",
    "consequent_support",
]


def association_rules(
    order_lines: pd.DataFrame,
    *,
    params: Mapping[str, Any] | None = None,
    products: pd.DataFrame | None = None,
    itemsets: tuple[pd.DataFrame, int] | None = None,
) -> pd.DataFrame:
    """Association rules "orders with A also contain B" over purchase orders (mlxtend FP-growth + rules).

    support(A→B) = share of orders containing A and B; confidence = support(A∪B) / support(A);
    lift = confidence / support(B) (Agrawal et al. 1993; Brin et al. 1997). Rules are kept when support,
    confidence and lift reach ``min_support``, ``min_confidence`` and ``min_lift``.

    Required columns of ``order_lines``:

    - ``customer_id``, ``order_id``, ``order_date``, ``amount``, ``product_id``

    Returns
    -------
    pandas.DataFrame
        antecedents, consequents (product ids joined with ", "), support, confidence, lift, n_orders (orders
        with both sides), antecedent_orders, antecedent_support, consequent_support; with ``products`` (name
        column) also antecedent_names, consequent_names. Sorted by lift, then support, descending.
    """
    from mlxtend.frequent_patterns import association_rules as mlx_rules

    p = merged_params(params)
    itemsets, n_orders = itemsets if itemsets is not None else frequent_itemsets(order_lines, params=p)
    empty = pd.DataFrame(
        {c: pd.Series(dtype=object if c in RULE_COLUMNS[:2] else float) for c in RULE_COLUMNS}
    )
    if itemsets.empty or itemsets["itemsets"].map(len).max() < 2:
        rules = empty
    else:
        raw = mlx_rules(
            itemsets, num_itemsets=n_orders, metric="confidence", min_threshold=float(p["min_confidence"])
        )
        raw = raw[raw["lift"] >= float(p["min_lift"])]
        if raw.empty:
            rules = empty
        else:
            rules = pd.DataFrame(
                {
                    "antecedents": raw["antecedents"].map(join_items).to_numpy(),
                    "consequents": raw["consequents"].map(join_items).to_numpy(),
                    "support": raw["support"].to_numpy(float),
                    "confidence": raw["confidence"].to_numpy(float),
                    "lift": raw["lift"].to_numpy(float),
                    "n_orders": np.rint(raw["support"].to_numpy(float) * n_orders).astype("int64"),
                    "antecedent_orders": np.rint(raw["antecedent support"].to_numpy(float) * n_orders).astype(
                        "int64"
                    ),
                    "antecedent_support": raw["antecedent support"].to_numpy(float),
                    "consequent_support": raw["consequent support"].to_numpy(float),
                }
            )
            rules = rules.sort_values(
                ["lift", "support", "antecedents", "consequents"],
                ascending=[False, False, True, True],
                ignore_index=True,
            )
    names = product_names(products)
    if names:
        rules["antecedent_names"] = rules["antecedents"].map(lambda s: _label(s, names))
        rules["consequent_names"] = rules["consequents"].map(lambda s: _label(s, names))
    log.info("cross-sell: %d rules from %d orders", len(rules), n_orders)
    return rules


def bundles(
    order_lines: pd.DataFrame,
    *,
    params: Mapping[str, Any] | None = None,
    products: pd.DataFrame | None = None,
    itemsets: tuple[pd.DataFrame, int] | None = None,
) -> pd.DataFrame:
    """Item sets of two or more products frequently bought in the same order, as bundle candidates.

    An item set qualifies when its support (share of orders containing all its items) reaches
    ``min_support`` and its lift, support(S) / Π support(i) (Brin et al. 1997, generalised to sets), reaches
    ``min_lift``, and no frequent set with one more product is in at least (1 − ``bundle_closed_tolerance``)
    of its orders (δ-tolerance closed item sets, Cheng, Ke & Ng 2006, "δ-Tolerance closed frequent
    itemsets", ICDM: a pair nearly always bought as part of a triple is shown as the triple). The
    ``bundle_top_n`` most frequent are listed. With a products table that has ``price`` the list price (sum
    of unit prices) and the bundle price after ``bundle_discount_pct`` are added.

    Required columns of ``order_lines``: ``customer_id``, ``order_id``, ``order_date``, ``amount``,
    ``product_id``.

    Returns
    -------
    pandas.DataFrame
        items (ids joined with ", "), n_items, share_of_orders, n_orders, lift, discount_pct, and when known
        item_names, list_price, bundle_price.
    """
    p = merged_params(params)
    itemsets, n_orders = itemsets if itemsets is not None else frequent_itemsets(order_lines, params=p)
    cols = ["items", "n_items", "share_of_orders", "n_orders", "lift", "discount_pct"]
    if itemsets.empty:
        return pd.DataFrame({c: pd.Series(dtype=object if c == "items" else float) for c in cols})
    single = {
        next(iter(s)): sup
        for s, sup in zip(itemsets["itemsets"], itemsets["support"], strict=True)
        if len(s) == 1
    }
    support = dict(zip(itemsets["itemsets"], itemsets["support"], strict=True))
    keep = 1 - float(p["bundle_closed_tolerance"])
    absorbed = {
        sub
        for sup, s_sup in support.items()
        if len(sup) >= 3
        for sub in (sup - {i} for i in sup)
        if s_sup >= keep * support.get(sub, np.inf)
    }
    sets = itemsets[(itemsets["itemsets"].map(len) >= 2) & ~itemsets["itemsets"].isin(absorbed)].copy()
    expected = sets["itemsets"].map(lambda s: float(np.prod([single[i] for i in s])))
    out = pd.DataFrame(
        {
            "items": sets["itemsets"].map(join_items).to_numpy(),
            "n_items": sets["itemsets"].map(len).to_numpy("int64"),
            "share_of_orders": sets["support"].to_numpy(float),
            "n_orders": np.rint(sets["support"].to_numpy(float) * n_orders).astype("int64"),
            "lift": (sets["support"] / expected).to_numpy(float),
            "discount_pct": float(p["bundle_discount_pct"]),
        }
    )
    out = out[out["lift"] >= float(p["min_lift"])]
    out = out.sort_values(["share_of_orders", "lift", "items"], ascending=[False, False, True])
    out = out.head(int(p["bundle_top_n"])).reset_index(drop=True)
    names = product_names(products)
    if names:
        out["item_names"] = out["items"].map(lambda s: _label(s, names))
    if products is not None and {"product_id", "price"} <= set(products.columns):
        priced = products.dropna(subset=["product_id", "price"])
        price = pd.Series(priced["price"].to_numpy(float), index=priced["product_id"].astype(str))
        price = price[~price.index.duplicated()]
        out["list_price"] = out["items"].map(
            lambda s: float(price.reindex(s.split(", ")).sum(min_count=len(s.split(", "))))
        )
        out["bundle_price"] = out["list_price"] * (1 - out["discount_pct"] / 100)
    return out


# ------------------------------------------------------------------------- per-customer suggestions


def customer_items(
    order_lines: pd.DataFrame, *, as_of: Any = None, params: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """One row per (customer, product) bought up to ``as_of``, with whether it is bought regularly.

    Regular = bought in at least ``regular_min_orders`` orders, or at least once in the last
    ``regular_recent_days`` days before ``as_of`` (the exclusion rule of the suggestions).

    Returns
    -------
    pandas.DataFrame
        customer_id, product_id, n_orders, first_date, last_date, amount, regular.
    """
    lines = purchase_lines(order_lines, as_of=as_of)
    as_of = pd.Timestamp(as_of) if as_of is not None else lines["order_date"].max()
    out = (
        lines.groupby(["customer_id", "product_id"], sort=True, observed=True)
        .agg(
            n_orders=("order_id", "nunique"),
            first_date=("order_date", "min"),
            last_date=("order_date", "max"),
            amount=("amount", "sum"),
        )
        .reset_index()
    )
    return regular_items(out, as_of=as_of, params=params)


def regular_items(
    items: pd.DataFrame, *, as_of: Any = None, params: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """:func:`customer_items` from the customer x product purchase table (the ``customer_products`` view,
    or any frame with customer_id, product_id, n_orders, first_date, last_date, amount) at ``as_of``."""
    p = merged_params(params)
    out = items[["customer_id", "product_id", "n_orders", "first_date", "last_date", "amount"]]
    if not in_order(out["customer_id"], out["product_id"]):  # the view's rows are already in order
        out = out.take(_sorted_by(out["customer_id"], out["product_id"]))
    out = out.reset_index(drop=True)
    as_of = pd.Timestamp(as_of) if as_of is not None else out["last_date"].max()
    recent = out["last_date"] > as_of - pd.Timedelta(days=int(p["regular_recent_days"]))
    out["regular"] = (out["n_orders"] >= int(p["regular_min_orders"])) | recent
    return out


def _sorted_by(*keys: pd.Series) -> np.ndarray:
    """The stable ascending order of rows by ``keys`` (blanks last): ``sort_values(kind="mergesort")``'s
    order, from each key's sorted codes (sorting the codes, not the strings)."""
    codes = []
    for key in keys:
        code, uniques = pd.factorize(key, sort=True)
        codes.append(np.where(code < 0, len(uniques), code))
    return np.lexsort(codes[::-1])


def _candidates(
    held: pd.DataFrame,
    items: pd.Index,
    as_of: pd.Timestamp,
    p: Mapping[str, Any],
    products: pd.DataFrame | None,
) -> np.ndarray:
    """Boolean mask over ``items``: sold in the last ``candidate_recent_days`` days (some customer's last
    purchase of it is that recent) and in the catalogue."""
    since = as_of - pd.Timedelta(days=int(p["candidate_recent_days"]))
    ok = items.isin(held.loc[held["last_date"] > since, "product_id"].unique())
    if products is not None and "product_id" in products.columns:
        ok &= items.isin(products["product_id"].astype(str))
    return np.asarray(ok)


def _ranking_order(sim: np.ndarray | None, popularity: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The tie-break order of the items (popularity desc, then item) and ``sim``'s columns in it."""
    perm = np.lexsort((np.arange(len(popularity)), -popularity))
    return perm, (sim[:, perm] if sim is not None else None)


def _top_k(
    held: sp.csr_matrix, sim: np.ndarray | None, blocked: np.ndarray | sp.spmatrix, popularity: np.ndarray,
    k: int, *, allowed: np.ndarray | None = None, order: tuple[np.ndarray, np.ndarray | None] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Top-k candidates of a block of customers: (row, item, score, anchor item) arrays, best first.

    Ranked by score, then popularity (fills customers with few scored items), then item order; blocked
    items (``blocked``: a boolean rows x items array, or a sparse matrix of the blocked pairs; and the items
    not ``allowed``) are left out. The anchor is the held item with the largest term of the score (the first
    such item in item order on ties). ``order``: :func:`_ranking_order` of ``sim`` and ``popularity`` when
    already computed (one per call of :func:`recommend`, not one per block).

    The columns are put in (popularity desc, item) order first, so that "score desc, then column" is the
    whole ranking: k passes of a row-wise ``argmax`` (which returns the first of equal values) pick the k
    best in order, instead of sorting every row.
    """
    n_rows, n_items = held.shape
    k = min(int(k), n_items)
    if n_rows == 0 or k <= 0:
        return np.array([], int), np.array([], int), np.array([]), np.array([], int)
    perm, ordered = order if order is not None else _ranking_order(sim, popularity)
    ranked = np.asarray(held @ ordered) if ordered is not None else np.zeros((n_rows, n_items))
    if sp.issparse(blocked):
        at = np.empty(n_items, dtype=np.int64)
        at[perm] = np.arange(n_items)
        r_blocked, c_blocked = blocked.nonzero()
        ranked[r_blocked, at[c_blocked]] = -np.inf
    else:
        ranked[blocked[:, perm]] = -np.inf
    if allowed is not None and not allowed.all():
        ranked[:, ~allowed[perm]] = -np.inf
    rows = np.arange(n_rows)
    pos = np.empty((n_rows, k), dtype=np.int64)
    s = np.empty((n_rows, k))
    for j in range(k):
        best = ranked.argmax(axis=1)
        pos[:, j], s[:, j] = best, ranked[rows, best]
        ranked[rows, best] = -np.inf
    r_idx = np.repeat(rows, k)
    c_idx = perm[pos.ravel()]
    s = s.ravel()
    keep = np.isfinite(s)
    r_idx, c_idx, s = r_idx[keep], c_idx[keep], s[keep]
    anchor = np.zeros(len(c_idx), dtype=int)
    if sim is not None and len(c_idx):
        anchor = _anchors(held, sim, r_idx, c_idx)
    return r_idx, c_idx, s, anchor


def _anchors(held: sp.csr_matrix, sim: np.ndarray, r_idx: np.ndarray, c_idx: np.ndarray) -> np.ndarray:
    """For each suggestion (row r, item c): the item z held by row r with the largest ``sim[z, c]``, the
    first in item order on ties (rows without items get 0)."""
    held = held.tocsr(copy=True)
    held.sort_indices()
    start, stop = held.indptr[r_idx], held.indptr[r_idx + 1]
    counts = stop - start
    pair = np.repeat(np.arange(len(r_idx)), counts)
    offset = np.arange(len(pair)) - np.repeat(np.cumsum(counts) - counts, counts)
    z = held.indices[np.repeat(start, counts) + offset]
    value = sim[z, c_idx[pair]]
    anchor = np.zeros(len(r_idx), dtype=int)
    has = counts > 0
    if not has.any():
        return anchor
    seg = (np.cumsum(counts) - counts)[has]  # each pair's run of held items (in item order)
    best = np.repeat(np.maximum.reduceat(value, seg), counts[has])
    position = np.where(value == best, np.arange(len(value)), len(value))
    anchor[has] = z[np.minimum.reduceat(position, seg)]  # the first item with the largest value
    return anchor


def recommend(
    order_lines: pd.DataFrame | None,
    *,
    customers: Iterable[str] | None = None,
    products: pd.DataFrame | None = None,
    params: Mapping[str, Any] | None = None,
    as_of: Any = None,
    method: str = "item_to_item",
    items: pd.DataFrame | None = None,
    held: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Next-best products per customer: the ``top_n`` items that co-occur with what the customer buys.

    Item-to-item collaborative filtering (Linden, Smith & York 2003): with B the customer × product matrix
    of who bought what up to ``as_of`` and C = BᵀB the number of customers who bought both of two products,
    sim(z, y) = C[z, y] / √(C[z, z]·C[y, y]) (cosine), set to 0 when fewer than ``min_pair_customers``
    customers bought both; score(u, y) = Σ_z B[u, z]·sim(z, y). Items the customer buys regularly
    (:func:`customer_items`) and products not sold in the last ``candidate_recent_days`` days (or absent
    from ``products`` when given) are never suggested. The reason is the customer's product z with the
    largest term: "bought with z by C[z, y]/C[z, z] of z's buyers". Customers with fewer than ``top_n``
    scored items get the most popular remaining products (reason ``popular``, score 0).
    ``method="popularity"`` ranks every customer's candidates by popularity alone (the baseline).
    Memory: the product × product matrices are dense (fine to a few thousand products); customers are
    scored in blocks.

    Required columns of ``order_lines``: ``customer_id``, ``order_id``, ``order_date``, ``amount``,
    ``product_id``; or, instead of the lines, ``items`` (the ``customer_products`` view at ``as_of``); or
    ``held``, their :func:`customer_items` / :func:`regular_items` table at ``as_of`` with these ``params``
    when already computed (then neither is read).

    Returns
    -------
    pandas.DataFrame
        customer_id, rank (1 = best), product_id, score, reason_code (``co_bought`` or ``popular``),
        reason_product_id, reason_share, reason_buyers; and product_name with a products name column.
    """
    if method not in ("item_to_item", "popularity"):
        raise ParamsError(f"recommend: method must be 'item_to_item' or 'popularity', got {method!r}.")
    p = merged_params(params)
    if held is not None:
        latest = held["last_date"]
    elif items is None:
        lines = purchase_lines(order_lines, as_of=as_of)
        latest = lines["order_date"]
    else:
        latest = items["last_date"]
    if latest.empty:
        raise DataError(
            "Cross-sell found no purchase lines with a product up to the as-of date "
            f"{as_of}; check the orders table's product_id and amount columns."
        )
    as_of = pd.Timestamp(as_of) if as_of is not None else latest.max()
    if held is None:
        held = customer_items(lines, as_of=as_of, params=p) if items is None else regular_items(
            items, as_of=as_of, params=p)
    u_code, users = factorize_sorted(held["customer_id"])  # the view's rows: in order
    i_code, items = pd.factorize(held["product_id"], sort=True)
    items = pd.Index(items)
    b = sp.csr_matrix((np.ones(len(u_code), dtype=np.int32), (u_code, i_code)), shape=(len(users), len(items)))
    b.data[:] = 1
    is_regular = held["regular"].to_numpy(bool)
    regular = sp.csr_matrix(
        (np.ones(int(is_regular.sum()), dtype=bool), (u_code[is_regular], i_code[is_regular])), shape=b.shape
    )

    if customers is not None:
        given = customers if isinstance(customers, pd.Series | pd.Index) else list(customers)
        wanted = pd.Index(pd.unique(pd.Series(given, dtype=str)))
        rows = users.get_indexer(wanted)
        rows = rows[rows >= 0]
    else:
        rows = np.arange(len(users))
    n_users = len(users)
    popularity = np.asarray(b.sum(axis=0)).ravel() / max(n_users, 1)
    allowed = _candidates(held, items, as_of, p, products)

    # the co-buyer counts C = BᵀB only for the similarities (the baseline's reasons never use them); its
    # diagonal, each product's buyers, is B's column sums
    co = (b.T @ b).toarray().astype(float) if method == "item_to_item" else None
    buyers = np.diag(co).copy() if co is not None else np.asarray(b.sum(axis=0), dtype=float).ravel()
    sim = None
    if co is not None:
        sim = co / np.sqrt(np.outer(buyers, buyers))
        sim[co < int(p["min_pair_customers"])] = 0.0
        np.fill_diagonal(sim, 0.0)
    k = int(p["top_n"])
    step = max(1, 20_000_000 // max(len(items), 1))  # customers per block: bounds the dense score block
    parts: list[tuple[np.ndarray, ...]] = [
        (np.array([], int), np.array([], int), np.array([]), np.array([], int))
    ]
    order = _ranking_order(sim, popularity)
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        r, c, sc, a = _top_k(b[chunk], sim, regular[chunk], popularity, k, allowed=allowed, order=order)
        parts.append((r + start, c, sc, a))
    r_idx, c_idx, s, anchor = (np.concatenate([part[j] for part in parts]) for j in range(4))
    co_bought = s > 0
    share = popularity[c_idx] if co is None else np.where(
        co_bought, co[anchor, c_idx] / np.maximum(buyers[anchor], 1), popularity[c_idx])
    out = pd.DataFrame(
        {
            "customer_id": users[rows][r_idx].astype(str),
            "rank": (pd.Series(r_idx).groupby(r_idx).cumcount() + 1).to_numpy("int64"),
            "product_id": items[c_idx].astype(str),
            "score": np.where(co_bought, s, 0.0),
            "reason_code": np.where(co_bought, "co_bought", "popular"),
            "reason_product_id": np.where(co_bought, items[anchor].astype(str), None),
            "reason_share": share,
            "reason_buyers": np.where(co_bought, buyers[anchor], float(n_users)).astype("int64"),
        }
    )
    names = product_names(products)
    if names:
        out["product_name"] = out["product_id"].map(names).fillna(out["product_id"])
    return out.sort_values(["customer_id", "rank"], ignore_index=True)


def premium_alternatives(
    order_lines: pd.DataFrame | None,
    products: pd.DataFrame,
    *,
    params: Mapping[str, Any] | None = None,
    as_of: Any = None,
    items: pd.DataFrame | None = None,
    held: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Upsell: for each product a customer buys regularly, a premium version of the same item.

    Premium = same family (:func:`crmlib.cross_sell.families.product_families`: ``products.family``, else
    names that differ only by a tier word such as Standart/Premium/Ekonomik; products with no known family
    get no alternative), same ``category``, ``price`` between ``premium_min_price_ratio`` and
    ``premium_max_price_ratio`` × the standard item's price, and, when both unit costs are known, a higher
    margin rate 1 − unit_cost / price (with the higher price, also a higher margin per unit). Among those,
    the one most bought by the standard item's other buyers ("similar customers") is suggested, when at
    least ``min_premium_share`` of them and ``min_pair_customers`` customers bought it. Items the customer
    already buys regularly are not suggested. At most ``top_n`` rows per customer.

    Required columns:

    - ``order_lines``: ``customer_id``, ``order_id``, ``order_date``, ``amount``, ``product_id``
    - ``products``: ``product_id``, ``category``, ``price`` (optional ``unit_cost``, ``name``)
    - or, instead of the lines, ``items`` (the ``customer_products`` view at ``as_of``), or ``held``, their
      :func:`regular_items` table at ``as_of`` with these ``params`` when already computed

    Returns
    -------
    pandas.DataFrame
        customer_id, product_id, premium_product_id, category, price, premium_price, price_uplift (share),
        share_of_buyers, n_buyers (of the standard item); product_name, premium_name with a name column.
    """
    p = merged_params(params)
    _require(products, ["product_id", "category", "price"], "products", "Premium alternatives")
    if held is None and items is None:
        held = customer_items(order_lines, as_of=as_of, params=p)
    elif held is None:
        held = regular_items(items, as_of=as_of, params=p)
    cat = products.dropna(subset=["product_id", "category", "price"]).copy()
    cat["product_id"] = cat["product_id"].astype(str)
    cat = cat.drop_duplicates("product_id").set_index("product_id")
    rate = 1 - cat["unit_cost"] / cat["price"] if "unit_cost" in cat.columns else np.nan
    cat["margin_rate"] = rate
    words = p["premium_tier_words"] if p["premium_tier_words"] is not None else TIER_WORDS
    cat["family"] = product_families(products, tier_words=words).reindex(cat.index)
    cat = cat[["category", "price", "margin_rate", "family"]]

    b, _, items = _matrix(held["customer_id"], held["product_id"])
    co = (b.T @ b).toarray()
    buyers = np.diag(co).copy()
    s_idx, y_idx = np.nonzero(co >= int(p["min_pair_customers"]))
    co = pd.DataFrame(
        {
            "product_id": items[s_idx],
            "product_id_premium": items[y_idx],
            "n_both": co[s_idx, y_idx],
            "n_buyers": buyers[s_idx],
        }
    )
    co = co.join(cat, on="product_id", how="inner").join(
        cat.add_prefix("premium_"), on="product_id_premium", how="inner"
    )
    rates = co[["margin_rate", "premium_margin_rate"]]
    margin_ok = (rates["premium_margin_rate"] > rates["margin_rate"]) | rates.isna().any(axis=1)
    co["share_of_buyers"] = co["n_both"] / co["n_buyers"]
    co = co[
        (co["category"] == co["premium_category"])
        & co["family"].notna()
        & (co["family"] == co["premium_family"])
        & (co["premium_price"] >= float(p["premium_min_price_ratio"]) * co["price"])
        & (co["premium_price"] <= float(p["premium_max_price_ratio"]) * co["price"])
        & margin_ok
        & (co["share_of_buyers"] >= float(p["min_premium_share"]))
    ]
    standard = held.loc[held["regular"], ["customer_id", "product_id"]]
    cand = standard.merge(co.reset_index(drop=True), on="product_id", how="inner")  # an empty join keeps its key as index
    regular = held.loc[held["regular"], ["customer_id", "product_id"]].rename(
        columns={"product_id": "product_id_premium"}
    )
    cand = cand.merge(regular.assign(_held=True), on=["customer_id", "product_id_premium"], how="left")
    cand = cand[cand["_held"].isna()]
    cand = cand.sort_values(
        ["customer_id", "product_id", "share_of_buyers", "product_id_premium"],
        ascending=[True, True, False, True],
    )
    cand = cand.drop_duplicates(["customer_id", "product_id"])
    cand = cand.sort_values(["customer_id", "share_of_buyers", "product_id"], ascending=[True, False, True])
    cand = cand.groupby("customer_id").head(int(p["top_n"]))
    out = pd.DataFrame(
        {
            "customer_id": cand["customer_id"].astype(str).to_numpy(),
            "product_id": cand["product_id"].to_numpy(),
            "premium_product_id": cand["product_id_premium"].to_numpy(),
            "category": cand["category"].to_numpy(),
            "price": cand["price"].to_numpy(float),
            "premium_price": cand["premium_price"].to_numpy(float),
            "price_uplift": (cand["premium_price"] / cand["price"] - 1).to_numpy(float),
            "share_of_buyers": cand["share_of_buyers"].to_numpy(float),
            "n_buyers": cand["n_buyers"].to_numpy("int64"),
        }
    )
    names = product_names(products)
    if names:
        out["product_name"] = out["product_id"].map(names).fillna(out["product_id"])
        out["premium_name"] = out["premium_product_id"].map(names).fillna(out["premium_product_id"])
    return out.reset_index(drop=True)


def preseason(
    order_lines: pd.DataFrame | None,
    *,
    as_of: Any = None,
    params: Mapping[str, Any] | None = None,
    products: pd.DataFrame | None = None,
    candidates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Pre-season suggestions: what each customer bought in the coming weeks last year, not yet this season.

    Last year's season window is (as_of − 365 d, as_of − 365 d + ``preseason_lead_weeks`` weeks]; an item
    bought there counts as already bought this season when the customer bought it again in the last
    ``preseason_lead_weeks`` weeks up to ``as_of``. Only seasonal products qualify: the product's seasonal
    index, the share of the year's (as_of − 365 d, as_of] orders with the product that fell in last year's
    window, divided by the window's share of the year (lead days / 365), must reach ``preseason_min_index``
    (orders rather than amounts, so that one very large order does not make a product seasonal). The
    ``top_n`` items per customer by last year's amount.

    Required columns of ``order_lines``: ``customer_id``, ``order_id``, ``order_date``, ``amount``,
    ``product_id`` (optional ``quantity``); or, instead of the lines, ``candidates`` (the ``preseason_items``
    view at ``as_of`` with ``lead_days`` = 7 × ``preseason_lead_weeks``, see :func:`preseason_lead_days`).

    Returns
    -------
    pandas.DataFrame
        customer_id, rank, product_id, last_year_date (first purchase in the window), expected_date (that
        date + 365 days), last_year_orders, last_year_amount, last_year_quantity, seasonal_index;
        product_name when known.
    """
    p = merged_params(params)
    lead = pd.Timedelta(weeks=int(p["preseason_lead_weeks"]))
    if candidates is not None:
        return _preseason_picks(candidates, lead=lead, params=p, products=products)
    lines = purchase_lines(order_lines, as_of=as_of)
    as_of = pd.Timestamp(as_of) if as_of is not None else lines["order_date"].max()
    start = as_of - pd.Timedelta(days=365)
    last_year = lines[(lines["order_date"] > start) & (lines["order_date"] <= start + lead)]
    this_season = lines.loc[
        lines["order_date"] > as_of - lead, ["customer_id", "product_id"]
    ].drop_duplicates()
    if "quantity" not in last_year.columns:
        last_year = last_year.assign(quantity=np.nan)
    picks = (
        last_year.groupby(["customer_id", "product_id"], sort=True)
        .agg(
            last_year_date=("order_date", "min"),
            last_year_orders=("order_id", "nunique"),
            last_year_amount=("amount", "sum"),
            last_year_quantity=("quantity", "sum"),
        )
        .reset_index()
    )
    picks = picks.merge(this_season.assign(_bought=True), on=["customer_id", "product_id"], how="left")
    picks = picks[picks["_bought"].isna()].drop(columns="_bought")
    year = lines[lines["order_date"] > start].groupby("product_id")["order_id"].nunique()
    window_share = last_year.groupby("product_id")["order_id"].nunique() / year
    index = (window_share / (lead.days / 365)).rename("seasonal_index")
    picks = picks.join(index, on="product_id")
    return _preseason_rank(picks, params=p, products=products)


def preseason_lead_days(params: Mapping[str, Any] | None = None) -> int:
    """The ``lead_days`` of the ``preseason_items`` view: ``preseason_lead_weeks`` in days."""
    return int(pd.Timedelta(weeks=int(merged_params(params)["preseason_lead_weeks"])).days)


def _preseason_picks(candidates: pd.DataFrame, *, lead: pd.Timedelta, params: Mapping[str, Any],
                     products: pd.DataFrame | None) -> pd.DataFrame:
    """:func:`preseason` from the ``preseason_items`` view."""
    cols = ["customer_id", "product_id", "last_year_date", "last_year_orders", "last_year_amount",
            "last_year_quantity"]
    picks = candidates.loc[~candidates["bought_this_season"].astype(bool)]
    share = picks["window_orders"].astype(float) / picks["year_orders"].astype(float)
    picks = picks[cols].assign(seasonal_index=(share / (lead.days / 365)).to_numpy())
    picks = picks.sort_values(["customer_id", "product_id"], kind="mergesort", ignore_index=True)
    return _preseason_rank(picks, params=params, products=products)


def _preseason_rank(picks: pd.DataFrame, *, params: Mapping[str, Any],
                    products: pd.DataFrame | None) -> pd.DataFrame:
    p = params
    picks = picks[picks["seasonal_index"] >= float(p["preseason_min_index"])]
    picks = picks.sort_values(
        ["customer_id", "last_year_amount", "product_id"], ascending=[True, False, True]
    )
    picks = picks.groupby("customer_id").head(int(p["top_n"])).reset_index(drop=True)
    picks.insert(1, "rank", (picks.groupby("customer_id").cumcount() + 1).astype("int64"))
    picks.insert(4, "expected_date", picks["last_year_date"] + pd.Timedelta(days=365))
    names = product_names(products)
    if names:
        picks["product_name"] = picks["product_id"].map(names).fillna(picks["product_id"])
    return picks


# ------------------------------------------------------------------------------------------ validation


def evaluate(
    order_lines: pd.DataFrame | None,
    *,
    cut: Any,
    horizon_days: int,
    k: int = 5,
    params: Mapping[str, Any] | None = None,
    products: pd.DataFrame | None = None,
    items_at_cut: pd.DataFrame | None = None,
    items_at_end: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Hit rate@k and recall@k of the suggestions on a time split, against the popularity baseline.

    Train on purchase lines up to ``cut``; the test items of a customer are the products they bought in
    (cut, cut + ``horizon_days``] that they did not buy regularly at the cut (what a suggestion could have
    won). Over the customers with history before the cut and at least one test item:
    hit rate@k = share with at least one of their top-k suggestions among their test items;
    recall@k = mean over customers of |top-k ∩ test items| / |test items| (Deshpande & Karypis 2004).
    Instead of the lines: ``items_at_cut`` and ``items_at_end``, the ``customer_products`` view at ``cut`` and
    at ``cut + horizon_days`` (a test item is a pair whose last purchase by the end is after the cut).

    Returns
    -------
    pandas.DataFrame
        One row per method (``item_to_item``, ``popularity``): method, k, n_customers, hit_rate, recall.
        ``attrs["status"]`` says why ``n_customers`` is 0: ``"no_training"`` (no purchase up to the cut: the
        history is shorter than the test period), ``"no_test"`` (no customer of the training period bought
        a new product in the test period), else ``"ok"``.
    """
    p = {**merged_params(params), "top_n": int(k)}
    cut = pd.Timestamp(cut)
    if items_at_cut is not None and items_at_end is not None:
        train = None
        test = items_at_end.loc[items_at_end["last_date"] > cut]
        empty = items_at_cut.empty
    else:
        lines = purchase_lines(order_lines)
        train = lines[lines["order_date"] <= cut]
        test = lines[(lines["order_date"] > cut) & (lines["order_date"] <= cut + pd.Timedelta(days=horizon_days))]
        empty = train.empty
    if empty:
        out = pd.DataFrame([{"method": m, "k": int(k), "n_customers": 0, "hit_rate": np.nan, "recall": np.nan}
                            for m in ("item_to_item", "popularity")])
        out.attrs["status"] = "no_training"
        return out
    if train is None:
        held = regular_items(items_at_cut, as_of=cut, params=p)
    else:
        held = customer_items(train, as_of=cut, params=p)
    truth = test[["customer_id", "product_id"]].drop_duplicates()
    truth = truth.merge(
        held.loc[held["regular"], ["customer_id", "product_id"]].assign(_reg=True),
        on=["customer_id", "product_id"],
        how="left",
    )
    truth = truth[truth["_reg"].isna() & isin(truth["customer_id"], held["customer_id"])]
    n_truth = truth.groupby("customer_id").size()
    who = n_truth.index
    rows = []
    for method in ("item_to_item", "popularity"):
        if len(who) == 0:
            rows.append(
                {"method": method, "k": int(k), "n_customers": 0, "hit_rate": np.nan, "recall": np.nan}
            )
            continue
        recs = recommend(train, customers=who, products=products, params=p, as_of=cut, method=method, held=held)
        hits = recs.merge(truth[["customer_id", "product_id"]], on=["customer_id", "product_id"], how="inner")
        n_hits = hits.groupby("customer_id").size().reindex(who, fill_value=0)
        rows.append(
            {
                "method": method,
                "k": int(k),
                "n_customers": int(len(who)),
                "hit_rate": float((n_hits > 0).mean()),
                "recall": float((n_hits / n_truth).mean()),
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["status"] = "ok" if len(who) else "no_test"
    return out
