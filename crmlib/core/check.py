"""What ``python -m crmlib validate`` prints: a plain summary, or one JSON object for schedulers.

Both come from the same figures (:func:`summary`): rows read per table, order lines, orders and purchase
orders, customers, net revenue, the data window and as-of date, the read options detected and every note.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmlib.core import context as context_mod
from crmlib.core import params as params_mod

#: Read options shown per table (the detected value, or the one given in params).
SHOWN_OPTIONS: tuple[str, ...] = ("format", "encoding", "sep", "decimal", "thousands", "date_format", "sheet",
                                  "header_row", "timezone")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (pd.Timestamp,)):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, int) and type(value) is not int and not isinstance(value, bool):
        return str(format(value))  # a line of a named sheet: "12 (sheet '2025')"
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def summary(params_path: str | Path, *, as_of: str | None = None) -> dict[str, Any]:
    """Load and check the data; return the figures ``validate`` prints (raises ParamsError or DataError)."""
    path = Path(params_path)
    params = params_mod.load(path)
    if params["engine"] == "spark":  # the order lines checked on Spark, as the run does
        from crmlib.core import spark_context

        ctx = spark_context.build_context(params, params_dir=path.resolve().parent, as_of=as_of)
    else:
        ctx = context_mod.build_context(params, params_dir=path.resolve().parent, as_of=as_of)
    first, last = ctx.data_window
    detected = {}
    for name, found in (ctx.meta.get("detected") or {}).items():
        detected[name] = {k: found[k] for k in SHOWN_OPTIONS if found.get(k) is not None}
    notes = [{k: q.get(k) for k in ("table", "column", "kind", "count", "message", "examples") if k in q}
             for q in ctx.quality]
    return _plain({
        "params": str(path.resolve()),
        "rows": dict(ctx.meta.get("rows", {})),
        "lines": len(ctx.order_lines),
        "orders": len(ctx.orders),
        "purchase_orders": int(ctx.orders["is_purchase"].sum()),
        "customers": len(ctx.customer_summary),
        "revenue": round(float(ctx.orders["amount"].sum()), 2),
        "currency": ctx.params.get("currency", "TRY"),
        "first_date": first,
        "last_date": last,
        "as_of": ctx.as_of,
        "files": dict(ctx.meta.get("files", {})),
        "detected": detected,
        "absent": [n for n in context_mod.OPTIONAL_TABLES if ctx.tables.get(n) is None],
        "notes": notes,
    })


def as_json(figures: dict[str, Any]) -> str:
    """Return the figures as one JSON object (UTF-8 text, Turkish letters kept)."""
    return json.dumps(figures, ensure_ascii=False, indent=None)


def as_text(figures: dict[str, Any]) -> str:
    """Return the plain report of ``validate``."""
    lines = [f"params: {figures['params']}",
             f"as of: {figures['as_of']}   data window: {figures['first_date']} .. {figures['last_date']}",
             f"customers: {figures['customers']:,}   orders: {figures['orders']:,} "
             f"({figures['purchase_orders']:,} purchases)   order lines: {figures['lines']:,}",
             f"net revenue: {figures['revenue']:,.2f} {figures['currency']}", "tables:"]
    for name, file in figures["files"].items():
        found = figures["detected"].get(name) or {}
        how = ", ".join(f"{k} {v!r}" for k, v in found.items())
        lines.append(f"  {name:<10} {figures['rows'].get(name, 0):>10,} rows  {file}" + (f"  ({how})" if how else ""))
    if figures["absent"]:
        lines.append(f"not given (their report sections will say so): {', '.join(figures['absent'])}")
    if figures["notes"]:
        lines.append("fixed or left out while loading:")
        lines.extend(f"  [{q.get('table', '')}] {q.get('message', q)}" for q in figures["notes"])
    else:
        lines.append("no problems found")
    return "\n".join(lines)
