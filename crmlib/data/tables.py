"""The orders table and the per-customer table, defined once in engine-neutral SQL (``crmlib/data/sql``, run by :mod:`crmlib.data.engine`).

DuckDB runs the definitions here, in process, straight on Arrow/pandas frames; the same SQL files run on
Spark SQL for the largest users (define ``days_between(a, b)`` as ``datediff(b, a)`` there).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crmlib.data import textops
from crmlib.data.engine import DuckDBEngine, sql_text

log = logging.getLogger(__name__)

#: decimals kept of the sums and means the SQL returns: engines add floating-point numbers in different orders
#: (DuckDB's threads, Spark's partitions), which changes the last bits; rounded, equal sums stay equal (and
#: so do ties in every rank computed from them) whichever engine added them
DECIMALS = 6

ORDER_LINE_COLUMNS: tuple[str, ...] = ("customer_id", "order_id", "order_date", "amount", "cost", "quantity")


def sql(name: str) -> str:
    """Return the text of ``crmlib/data/sql/<name>.sql``."""
    return sql_text(name)


def _to_arrow(frame: pd.DataFrame, columns: tuple[str, ...]) -> pa.Table:
    """Return ``columns`` of ``frame`` as an Arrow table, column by column (Arrow text and numpy arrays are
    shared, not copied; ``cost`` and ``quantity`` are NaN when absent)."""
    data = {}
    n = len(frame)
    for col in columns:
        if col in frame.columns:
            data[col] = _arrow_column(frame[col])
        elif col in ("cost", "quantity"):
            data[col] = pa.array(np.full(n, np.nan))
        else:
            raise KeyError(f"order_lines has no column {col!r}")
    return pa.table(data)


def _arrow_column(series: pd.Series) -> pa.Array | pa.ChunkedArray:
    text = textops.arrow_text(series)
    if text is not None:
        return text
    return pa.Array.from_pandas(series)


def _fetch(eng: DuckDBEngine, name: str) -> pd.DataFrame:
    """Run ``sql/<name>.sql`` and return the result with DATE columns as ``datetime64[ns]`` (cast by Arrow)."""
    return _dates_as_timestamps(eng.con.sql(sql_text(name)).to_arrow_table()).to_pandas()


def _dates_as_timestamps(table: pa.Table) -> pa.Table:
    """DATE columns as ``timestamp[ns]``, and whole-number DECIMAL columns (DuckDB's ``SUM`` of counts is a
    HUGEINT, which Arrow hands over as ``decimal128(38, 0)``) as int64: pandas would make every value of those a
    Python ``Decimal`` object (half a second at 850k customers) before the int64 the tables hold."""
    for i, field in enumerate(table.schema):
        if pa.types.is_date(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.timestamp("ns")))
        elif pa.types.is_decimal(field.type) and field.type.scale == 0:  # a safe cast: overflow raises
            table = table.set_column(i, field.name, table.column(i).cast(pa.int64()))
    return table


def _dates_to_datetime(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    for col in columns:
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    return frame


def build_orders(order_lines: pd.DataFrame | pa.Table) -> pd.DataFrame:
    """Aggregate order lines into orders (``sql/orders.sql``).

    Parameters
    ----------
    order_lines
        One row per line, with columns

        - ``customer_id``, ``order_id`` (str), ``order_date`` (datetime), ``amount`` (float, negative = return)
        - optional ``cost``, ``quantity`` (float; filled with NaN when absent)

    Returns
    -------
    pandas.DataFrame
        One row per order: customer_id, order_id, order_date, amount, cost, margin, n_lines, quantity,
        returns_amount, has_return, is_purchase.
    """
    table = order_lines if isinstance(order_lines, pa.Table) else _to_arrow(order_lines, ORDER_LINE_COLUMNS)
    with DuckDBEngine() as eng:
        eng.register("order_lines", table)
        out = _fetch(eng, "orders")
    return orders_types(out)


def orders_types(out: pd.DataFrame) -> pd.DataFrame:
    """The canonical dtypes of the orders table (whichever engine computed it)."""
    out = _dates_to_datetime(out, ["order_date"])
    out["n_lines"] = out["n_lines"].astype("int64")
    for col in ("amount", "cost", "margin", "quantity", "returns_amount"):
        out[col] = out[col].astype("float64").round(DECIMALS)
    return out


def build_customer_summary(orders: pd.DataFrame, as_of: pd.Timestamp | str) -> pd.DataFrame:
    """Build the per-customer table at ``as_of`` (``sql/customer_summary.sql``).

    Parameters
    ----------
    orders
        As returned by :func:`build_orders`.
    as_of
        Analysis date, inclusive: orders after it are ignored.

    Returns
    -------
    pandas.DataFrame
        One row per customer with a purchase on or before ``as_of``; columns as documented in
        ``docs/ARCHITECTURE.md`` (durations in days).
    """
    coded = customer_codes(orders) if FAST_CODES else None
    with DuckDBEngine() as eng:
        if coded is None:
            eng.register("orders", orders)
        else:  # the same SQL on whole numbers standing for the ids, in the ids' order
            eng.register("orders", orders.assign(customer_id=coded[0]))
        eng.set_as_of(as_of)
        if coded is None:
            out = _fetch(eng, "customer_summary")
        else:
            table = eng.con.sql(sql_text("customer_summary")).to_arrow_table()
            ids = coded[1].take(table.column("customer_id"))
            out = _dates_as_timestamps(table.set_column(0, "customer_id", ids)).to_pandas()
    return summary_types(out)


#: Set to False to let the SQL group, window and sort on the customer ids' text (the tests compare both).
FAST_CODES = True


def customer_codes(orders: pd.DataFrame) -> tuple[np.ndarray, pa.Array] | None:
    """Return per order a whole number standing for its customer, in the ids' order, and the ids by number.

    Grouping, windows and sorting on ``customer_id`` give the same rows on these numbers (equal ids, equal
    numbers; ``ORDER BY`` the number is ``ORDER BY`` the id in byte order, DuckDB's and Spark's order of
    text), on integers instead of text. Orders sorted by customer (as :func:`build_orders` returns them) are
    numbered by comparing neighbours; others by sorting the distinct ids. None when an id is missing or the
    column is not Arrow text.
    """
    if "customer_id" not in orders.columns or not len(orders):
        return None
    text = textops.arrow_text(orders["customer_id"])
    if text is None or text.null_count:
        return None
    ids = text.combine_chunks()
    n = len(ids)
    ahead, behind = ids.slice(1), ids.slice(0, n - 1)
    if not pc.any(pc.less(ahead, behind)).as_py():  # sorted: a new number where the id changes
        changes = pc.not_equal(ahead, behind).to_numpy(zero_copy_only=False)
        codes = np.zeros(n, dtype=np.int64)
        np.cumsum(changes, out=codes[1:])
        firsts = np.concatenate([[0], np.flatnonzero(changes) + 1])
        return codes, ids.take(pa.array(firsts))
    encoded = pc.dictionary_encode(ids)
    order = pc.sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[encoded.indices.to_numpy(zero_copy_only=False)], encoded.dictionary.take(pa.array(order))


def summary_types(out: pd.DataFrame) -> pd.DataFrame:
    """The canonical dtypes of the per-customer table (whichever engine computed it)."""
    out = _dates_to_datetime(out, ["first_order_date", "last_order_date"])
    for col in ("n_orders", "n_order_days", "frequency", "recency_days", "tenure_days", "recency", "T"):
        out[col] = out[col].astype("int64")
    for col in ("revenue", "returns_amount", "cost", "margin", "avg_order_value", "mean_gap_days",
                "median_gap_days", "monetary_value"):
        out[col] = out[col].astype("float64").round(DECIMALS)
    return out.reset_index(drop=True)


def query(name: str, *, as_of: pd.Timestamp | str | None = None, **views: pd.DataFrame) -> pd.DataFrame:
    """Run ``sql/<name>.sql`` on the given frames (registered as views under their keyword names) and, when
    ``as_of`` is given, a one-row ``run_params(as_of DATE)`` view; return the result as a pandas frame."""
    with DuckDBEngine() as eng:
        for view, frame in views.items():
            eng.register(view, frame)
        if as_of is not None:
            eng.set_as_of(as_of)
        return eng.fetch(name)
