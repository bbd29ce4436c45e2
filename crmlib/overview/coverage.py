"""Every input customer accounted for: who is in the analysis, who was left out, and why.

The analysis (segments, churn, lifetime value...) covers the customers with at least one purchase, an order
with a positive net amount, up to the as-of date (``docs/ARCHITECTURE.md``). Everyone else named in the input
is counted here under one reason, so that no customer disappears without a word.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

#: reasons, in the order the report lists them
REASONS: tuple[str, ...] = ("no_purchase", "after_as_of", "no_orders")


def _distinct(ids: pd.Series) -> set:
    """The distinct values of ``ids`` as a Python set (taken as one NumPy array first: iterating an Arrow
    array value by value is slow)."""
    return set(np.asarray(ids.unique(), dtype=object))


def customers_left_out(order_lines: pd.DataFrame, customer_summary: pd.DataFrame, *,
                       customers: pd.DataFrame | None = None, after_as_of: Iterable[str] = (),
                       examples: int = 5) -> pd.DataFrame:
    """The input's customers that are not in the analysis, by reason.

    Reasons (:data:`REASONS`):

    - ``no_purchase``: in the order lines up to the as-of date, but no order has a positive net amount
      (every order is zero or a return);
    - ``after_as_of``: every order line is after the as-of date (``after_as_of``: their ids, as the loader
      found them, ``ctx.meta["customers_after_as_of"]``);
    - ``no_orders``: in the customers table but in no order line at all.

    Parameters
    ----------
    order_lines
        The run's order lines (after the as-of cut), or its orders (the same customers): ``customer_id``.
    customer_summary
        The analysed customers: ``customer_id``.
    customers
        The optional customers table (``customer_id``).
    after_as_of
        Ids of the customers whose every order line is after the as-of date.

    Returns
    -------
    pandas.DataFrame
        One row per reason with at least one customer: ``reason``, ``customers`` (count), ``examples`` (up to
        ``examples`` customer ids, sorted, joined with ", ").
    """
    analysed = _distinct(customer_summary["customer_id"].astype(str))  # distinct ids first: a set of
    in_orders = _distinct(order_lines["customer_id"].dropna().astype(str))  # millions of lines is slow
    rows = []
    no_purchase = sorted(in_orders - analysed)
    rows.append(("no_purchase", len(no_purchase), ", ".join(no_purchase[:examples])))
    after = sorted(set(map(str, after_as_of)) - in_orders)
    rows.append(("after_as_of", len(after), ", ".join(after[:examples])))
    if customers is not None and "customer_id" in customers.columns:
        no_orders = sorted(_distinct(customers["customer_id"].dropna().astype(str)) - in_orders - set(after))
        rows.append(("no_orders", len(no_orders), ", ".join(no_orders[:examples])))
    out = pd.DataFrame(rows, columns=["reason", "customers", "examples"])
    return out.loc[out["customers"] > 0].reset_index(drop=True)
