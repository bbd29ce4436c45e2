"""The context built on Spark (``engine: spark``): the order lines never pass through pandas for the tables.

Spark reads the orders Parquet (a file, or a folder of Parquet files with hive-style partitions), checks it
with SQL (the columns the params map are present, the required ones have no blanks, numbers and dates are
readable, dates after ``as_of`` are counted and cut), drops exact duplicate lines as the pandas loader does,
and runs ``sql/orders.sql`` and ``sql/customer_summary.sql`` there; the frequent item sets of the
cross-sell rules are mined there too (Spark ML's FP-growth). What is collected to this process: the orders
and per-customer tables, the item sets, and (until every section reads SQL views) the validated order lines,
written by Spark as Parquet and read back with pyarrow. docs/SCALING.md states what runs where and the limits.

The optional tables (customers, products, payments, ...) are one row per customer, product or event and are
read by the usual loader. So are the order lines when the orders file is CSV or Excel, or when the params ask
for what only that loader applies (``rates``, ``drop_when``, ``return_when``, a currency column): they are read
and checked on this process exactly as on DuckDB (same notes, same messages), then handed to Spark as Parquet,
and orders, the per-customer table and the views are computed on Spark as for a Parquet input.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from crmlib.core import context as context_mod
from crmlib.core import params as params_mod
from crmlib.data import tables
from crmlib.data import validate as validation
from crmlib.data.read import REQUIRED, TABLE_COLUMNS
from crmlib.errors import DataError, ParamsError

log = logging.getLogger(__name__)

#: data.orders keys only the usual loader applies: with any of them the lines are read by it (see loader_reason)
LOADER_KEYS: tuple[str, ...] = ("rates", "drop_when", "return_when")
#: strftime directives and their Spark datetime pattern (read.date_format for dates stored as text)
_PATTERN = {"%d": "dd", "%m": "MM", "%Y": "yyyy", "%y": "yy", "%H": "HH", "%M": "mm", "%S": "ss", "%%": "%"}
EXAMPLES = 5


def _q(column: str) -> str:
    """A column name quoted for Spark SQL (backticks; file headers may hold spaces and Turkish letters)."""
    return "`" + column.replace("`", "``") + "`"


def _lit(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def spark_pattern(date_format: str) -> str:
    """A strftime ``read.date_format`` (``%d.%m.%Y``) as a Spark datetime pattern (``dd.MM.yyyy``)."""
    out, i = [], 0
    while i < len(date_format):
        two = date_format[i:i + 2]
        if two in _PATTERN:
            out.append(_PATTERN[two])
            i += 2
        elif two.startswith("%"):
            raise ParamsError(f"Params key 'data.orders.read.date_format' {date_format!r}: {two} is not read by "
                              "the Spark engine (it reads %d %m %Y %y %H %M %S). Store the dates as Parquet "
                              "dates, or use engine: duckdb.")
        else:
            ch = date_format[i]
            out.append(f"'{ch}'" if ch.isalpha() else ch)
            i += 1
    return "".join(out)


def orders_source(params: dict[str, Any], params_dir: Path | None) -> Path:
    """The orders file or folder (a missing one is refused: one message, exit 2)."""
    path = context_mod.resolve_data_path(params["data"]["orders"]["path"], params_dir)
    if not path.exists():
        raise DataError(f"The orders file {str(path)!r} does not exist. What to do: check data.orders.path in the "
                        "params file (relative to the params file).")
    return path


def loader_reason(spec: dict[str, Any], path: Path) -> str | None:
    """Why the order lines go through the usual loader on this process (``None``: read and checked on Spark).

    A file that is not Parquet (a CSV or Excel export: one file, which fits one machine), or the params keys
    only that loader applies (``rates``, ``drop_when``, ``return_when``, ``columns.currency``).
    """
    is_parquet = path.is_dir() and any(path.rglob("*.parquet")) or path.suffix.lower() == ".parquet"
    if not is_parquet:
        return "not_parquet"
    for key in LOADER_KEYS:
        if spec.get(key):
            return key
    if (spec.get("columns") or {}).get("currency"):
        return "currency"
    return None


def _mapping(spec: dict[str, Any], header: list[str], path: Path) -> dict[str, str]:
    """Our column -> the file's column, for the order columns the file has."""
    columns = spec.get("columns")
    ours = [c for c in TABLE_COLUMNS["orders"] if c != "currency"]
    if columns is None:
        mapping = {c: c for c in ours if c in header}
    else:
        mapping = {}
        for col, source in columns.items():
            if col not in ours:
                continue
            if source not in header:
                raise DataError(f"Table 'orders' (file {str(path)!r}): data.orders.columns.{col} names the column "
                                f"{source!r}, which the file does not have; its columns are {header}. What to do: "
                                f"correct data.orders.columns.{col}.")
            mapping[col] = source
    for col in REQUIRED["orders"]:
        if col not in mapping:
            raise DataError(f"Table 'orders' (file {str(path)!r}): the required column {col!r} is not mapped. "
                            f"What to do: add '{col}: <the file's header>' under data.orders.columns; the file's "
                            f"columns are {header}.")
    return mapping


def _typed(col: str, source: str, kind: str, dtype: str, date_format: str | None) -> str:
    """The SQL expression that reads ``source`` as our column ``col`` (NULL where unreadable)."""
    q = _q(source)
    if kind == "id":
        return f"NULLIF(TRIM(CAST({q} AS STRING)), '')"
    if kind == "number":
        return f"CAST({q} AS DOUBLE)" if dtype != "string" else f"TRY_CAST(TRIM({q}) AS DOUBLE)"
    if dtype in ("date", "timestamp", "timestamp_ntz"):
        return f"CAST({q} AS DATE)"
    if dtype == "string" and date_format:
        return f"CAST(TRY_TO_TIMESTAMP(TRIM({q}), {_lit(spark_pattern(date_format))}) AS DATE)"
    return f"TRY_CAST(TRIM(CAST({q} AS STRING)) AS DATE)"


def checked_lines(eng: Any, params: dict[str, Any], path: Path) -> tuple[Any, list[dict[str, Any]], dict]:
    """Register ``raw_lines`` (the file) and ``typed_lines`` (our columns, typed); check them with SQL.

    Returns the Spark frame of the typed lines (duplicates dropped unless ``duplicates: keep``), the quality
    notes and the facts found (rows, mapping). Raises :class:`DataError` on what the pandas loader refuses:
    a required column missing or blank, a number or date that cannot be read.
    """
    spec = params["data"]["orders"]
    raw = eng.frame(path)
    eng.register_frame("raw_lines", raw)
    dtypes = {f.name: f.dataType.typeName() for f in raw.schema.fields}
    mapping = _mapping(spec, list(dtypes), path)
    kinds = TABLE_COLUMNS["orders"]
    date_format = (spec.get("read") or {}).get("date_format")
    exprs = {col: _typed(col, src, kinds[col], dtypes[src], date_format) for col, src in mapping.items()}
    checks = []
    for col, src in mapping.items():
        checks.append(f"SUM(CASE WHEN {_q(src)} IS NOT NULL AND {exprs[col]} IS NULL THEN 1 ELSE 0 END) AS bad_{col}")
        checks.append(f"SUM(CASE WHEN {exprs[col]} IS NULL THEN 1 ELSE 0 END) AS null_{col}")
    found = eng.sql(f"SELECT COUNT(*) AS n_rows, {', '.join(checks)} FROM raw_lines").collect()[0].asDict()
    where = f"Table 'orders' (file {str(path)!r})"
    for col, src in mapping.items():
        bad = int(found[f"bad_{col}"] or 0)
        if bad and (col in REQUIRED["orders"] or kinds[col] != "id"):
            shown = _examples(eng, f"{_q(src)} IS NOT NULL AND {exprs[col]} IS NULL", src)
            what = "a date" + (f" in the format {date_format!r}" if date_format else "") if kinds[col] == "date" \
                else "a number"
            raise DataError(f"{where}, column {src!r} ({col}): {bad:,} values cannot be read as {what}, e.g. "
                            f"{shown}. What to do: correct these values (or data.orders.read.date_format), or "
                            "store the column with a Parquet date or number type.")
    for col in REQUIRED["orders"]:
        blank = int(found[f"null_{col}"] or 0)
        if blank:
            raise DataError(f"{where}, column {mapping[col]!r} ({col}): {blank:,} rows have no value in this "
                            "required column. What to do: fill these cells, or remove the rows if they are not "
                            "real records.")
    notes = []
    kept = int(found["n_rows"])
    for col in mapping:
        blank = int(found[f"null_{col}"] or 0)
        if col not in REQUIRED["orders"] and blank:
            notes.append({"table": "orders", "column": col, "kind": "blank_values", "count": blank,
                          "values": {"rows": kept}, "message": f"{blank} of {kept} rows have no {col}"})
    select = ", ".join(f"{expr} AS {col}" for col, expr in exprs.items())
    keep_dups = str(spec.get("duplicates") or "drop").lower() == "keep"
    source = "raw_lines" if keep_dups else "(SELECT DISTINCT * FROM raw_lines)"
    typed = eng.sql(f"SELECT {select} FROM {source}")
    if not keep_dups:
        n_distinct = typed.count()
        if n_distinct < kept:
            dropped = kept - n_distinct
            notes.append({"table": "orders", "column": None, "kind": "duplicates_dropped", "count": dropped,
                          "values": {}, "message": f"{dropped} exact duplicate lines were dropped; if the file "
                          "has no line-number column and the same item can appear twice in one order, set "
                          "data.orders.duplicates: keep"})
    return typed, notes, {"rows": kept, "mapping": mapping}


def _examples(eng: Any, condition: str, source: str) -> str:
    rows = eng.sql(f"SELECT CAST({_q(source)} AS STRING) AS v FROM raw_lines WHERE {condition} LIMIT {EXAMPLES}")
    return ", ".join(repr(r["v"]) for r in rows.collect())


def analysis_date(eng: Any, as_of: str | None, path: Path) -> tuple[pd.Timestamp, dict[str, Any] | None]:
    """As :func:`crmlib.data.rules.analysis_date`, in SQL over ``typed_lines``: ``as_of`` when given, else the
    last order date not after today (later lines are typos, noted and left out)."""
    if as_of is not None:
        return pd.Timestamp(as_of).normalize(), None
    today = pd.Timestamp.today().normalize()
    row = eng.sql(f"SELECT MAX(CASE WHEN order_date <= DATE'{today:%Y-%m-%d}' THEN order_date END) AS last, "
                  f"SUM(CASE WHEN order_date > DATE'{today:%Y-%m-%d}' THEN 1 ELSE 0 END) AS future, "
                  "COUNT(*) AS n FROM typed_lines").collect()[0]
    future = int(row["future"] or 0)
    if row["last"] is None:
        raise DataError(f"Table 'orders' (file {str(path)!r}): every line is dated after today "
                        f"({today:%Y-%m-%d}). What to do: correct the dates, or set as_of.")
    cut = pd.Timestamp(row["last"]).normalize()
    if not future:
        return cut, None
    from crmlib.data.rules import FUTURE_MAX, FUTURE_TOLERANCE

    if future > FUTURE_MAX and future > FUTURE_TOLERANCE * int(row["n"]):
        raise DataError(f"Table 'orders' (file {str(path)!r}), column 'order_date': {future:,} of {int(row['n']):,} "
                        f"lines are dated after today ({today:%Y-%m-%d}), too many to be typos. What to do: "
                        "correct the dates (or read.date_format), or set as_of to the analysis date.")
    return cut, {"table": "orders", "column": "order_date", "kind": "future_lines_left_out", "count": future,
                 "values": {"as_of": f"{cut:%Y-%m-%d}", "today": f"{today:%Y-%m-%d}"},
                 "message": f"{future} lines are dated after today ({today:%Y-%m-%d}) and were left out"}


def spark_itemsets(eng: Any, cross_sell: dict[str, Any]) -> dict[str, Any]:
    """Frequent item sets of the purchase orders by Spark ML's FP-growth (same ``min_support`` and
    ``max_len`` as mlxtend's), as stored in the context: ``{n_orders, min_support, max_len, itemsets:
    [[items, orders], ...]}`` (see :func:`crmlib.cross_sell.rules.stored_itemsets`)."""
    from pyspark.ml.fpm import FPGrowth

    baskets = eng.sql("SELECT order_id, collect_set(CAST(product_id AS STRING)) AS items FROM order_lines "
                      "WHERE amount > 0 AND product_id IS NOT NULL GROUP BY order_id")
    baskets = baskets.persist()
    try:
        n_orders = baskets.count()
        min_support, max_len = float(cross_sell["min_support"]), int(cross_sell["max_len"])
        found: list[list[Any]] = []
        if n_orders:
            # Spark keeps sets in at least ceil(min_support * n) orders, mlxtend those with support >= min_support:
            # the same sets; the exact test below settles rounding at the boundary.
            model = FPGrowth(itemsCol="items", minSupport=min_support * (1 - 1e-9), minConfidence=1.0).fit(baskets)
            rows = model.freqItemsets.where(f"size(items) <= {max_len}").collect()
            found = [[sorted(r["items"]), int(r["freq"])] for r in rows if r["freq"] / n_orders >= min_support]
    finally:
        baskets.unpersist()
    return {"n_orders": int(n_orders), "min_support": min_support, "max_len": max_len,
            "itemsets": sorted(found, key=lambda x: (len(x[0]), x[0]))}


def _lines_to_pandas(frame: Any, folder: Path) -> pd.DataFrame:
    """Write the validated lines with Spark as Parquet, read them back with pyarrow, in the pandas loader's
    dtypes."""
    import pyarrow.parquet as pq

    target = folder / "order_lines"
    frame.write.mode("overwrite").parquet(str(target))
    out = pq.read_table(target).to_pandas()
    out["order_date"] = pd.to_datetime(out["order_date"]).astype("datetime64[ns]")
    return out


def build_context(params: dict[str, Any], *, params_dir: Path | None = None, as_of: str | None = None,
                  export_dir: Path | None = None, session: Any = None) -> context_mod.Context:
    """:func:`crmlib.core.context.build_context` with the order lines read, checked and aggregated on Spark.

    ``as_of`` overrides ``params["as_of"]`` (``--as-of``). ``session``: an existing SparkSession (tests share
    one); otherwise one is started from ``params["spark"]`` (or the one this process runs is joined) and
    stopped before returning when it was started here.
    """
    if as_of is not None:
        params = {**params, "as_of": params_mod.normalize({**params, "as_of": as_of})["as_of"]}
    path = orders_source(params, params_dir)
    reason = loader_reason(params["data"]["orders"], path)
    loaded_lines = None
    if reason is not None:  # read and checked before Spark starts: bad input exits 2 without a JVM
        loaded_lines = context_mod.load_lines(params, params_dir=params_dir)
        params = loaded_lines["params"]
    try:
        from crmlib.data.spark_engine import SparkEngine
    except ImportError as err:  # pyspark missing
        raise ParamsError("engine: spark needs pyspark (and Java 17): pip install -e '.[spark]'. Or use engine: "
                          "duckdb.") from err
    if shutil.which("java") is None and not _java_home():
        raise ParamsError("engine: spark needs Java 17 (the 'java' command or JAVA_HOME); on Debian/Ubuntu: "
                          "apt-get install openjdk-17-jre-headless. Or use engine: duckdb.")
    with SparkEngine(params.get("spark"), session=session) as eng, \
            tempfile.TemporaryDirectory(prefix="crmlib-spark-") as tmp:
        if loaded_lines is not None:
            _register_loaded(eng, loaded_lines["lines"], Path(tmp))
            lines = eng.materialise_sql("order_lines", "SELECT * FROM loaded_lines")
            cut_date, quality = loaded_lines["as_of"], loaded_lines["quality"]
            eng.set_as_of(cut_date)
        else:
            lines, cut_date, quality, found, later_only = _spark_lines(eng, params, path)
        eng.materialise("orders", "orders")
        orders = tables.orders_types(eng.fetch_relation("orders").sort_values(
            ["customer_id", "order_date", "order_id"], ignore_index=True))
        summary = tables.summary_types(eng.fetch("customer_summary"))
        from crmlib.data import views

        on_spark = views.compute_run_views(eng, params, as_of=cut_date, ready=("order_lines", "orders"))
        eng.set_as_of(cut_date)  # the views at earlier dates moved it
        meta_extra: dict[str, Any] = {"engine": "spark", "views_on_spark": sorted(on_spark)}
        has_products = ("product_id" in loaded_lines["lines"].columns if loaded_lines is not None
                        else "product_id" in found["mapping"])
        if has_products:
            meta_extra["cross_sell_itemsets"] = spark_itemsets(eng, params["cross_sell"])
        order_lines = loaded_lines["lines"] if loaded_lines is not None else _lines_to_pandas(lines, Path(tmp))
    if summary.empty:
        raise DataError(f"No customer has a purchase (an order with a positive net amount) on or before "
                        f"{cut_date:%Y-%m-%d} in {str(path)!r}. Check the amount column mapping.")
    params = {**params, "as_of": cut_date.strftime("%Y-%m-%d")}
    if loaded_lines is not None:
        loaded, spec = loaded_lines["loaded"], loaded_lines["spec"]
        meta = context_mod.loaded_meta(spec, loaded, loaded_lines["later_only"], loaded_lines["fingerprint"])
        meta["detected"]["orders"] = {**meta["detected"].get("orders", {}), "engine": "spark", "loader": reason}
        optional = context_mod.cut_tables({name: (loaded[name].frame if name in loaded else None)
                                           for name in context_mod.OPTIONAL_TABLES}, cut_date)
        ctx = context_mod.Context(params=params, as_of=cut_date, order_lines=order_lines, orders=orders,
                                  customer_summary=summary, tables=optional, quality=quality,
                                  meta={**meta, **meta_extra}, export_dir=Path(export_dir) if export_dir else None)
        ctx.keep_views(on_spark)
        return ctx
    return _parquet_context(params, params_dir, path, quality=quality, found=found, later_only=later_only,
                            order_lines=order_lines, orders=orders, summary=summary, cut_date=cut_date,
                            meta_extra=meta_extra, on_spark=on_spark, export_dir=export_dir)


def _register_loaded(eng: Any, lines: pd.DataFrame, folder: Path) -> None:
    """Write the loader's validated lines as Parquet (dates as dates, the optional line columns present) and
    register them on Spark as ``loaded_lines``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from crmlib.data import views

    table = pa.Table.from_pandas(views.with_line_columns(lines), preserve_index=False)
    at = table.schema.get_field_index("order_date")
    table = table.set_column(at, "order_date", table.column(at).cast(pa.date32()))
    target = folder / "loaded_lines.parquet"
    pq.write_table(table, target)
    eng.register_frame("loaded_lines", eng.frame(target))


def _spark_lines(eng: Any, params: dict[str, Any], path: Path) -> tuple[Any, pd.Timestamp, list[dict[str, Any]],
                                                                          dict[str, Any], list[str]]:
    """Read and check the Parquet order lines on Spark, cut them at the analysis date and keep them as
    ``order_lines``; return them, the date, the notes, the facts found and the customers only seen later."""
    typed, quality, found = checked_lines(eng, params, path)
    if "order_id" not in found["mapping"]:
        typed = typed.selectExpr("*", "concat(customer_id, '|', date_format(order_date, 'yyyy-MM-dd')) "
                                 "AS order_id")
        quality.append({"table": "orders", "column": "order_id", "kind": "order_id_synthesised",
                        "count": found["rows"], "values": {},
                        "message": "no order_id column: one order per customer and day"})
    for col, kind in (("cost", "DOUBLE"), ("quantity", "DOUBLE"), ("product_id", "STRING")):
        if col not in found["mapping"]:  # the views read every line column (crmlib.data.views.LINE_COLUMNS)
            typed = typed.selectExpr("*", f"CAST(NULL AS {kind}) AS {col}")
    eng.register_frame("typed_lines", typed)
    cut_date, future = analysis_date(eng, params["as_of"], path)
    if future is not None:
        quality.append(future)
    eng.set_as_of(cut_date)
    after = int(eng.sql("SELECT COUNT(*) AS n FROM typed_lines CROSS JOIN run_params p "
                        "WHERE order_date > p.as_of").collect()[0]["n"])
    later_only = [r["customer_id"] for r in eng.sql(
        "SELECT customer_id FROM typed_lines CROSS JOIN run_params p GROUP BY customer_id "
        "HAVING MIN(order_date) > MAX(p.as_of) ORDER BY customer_id").collect()] if after else []
    if after and future is None:
        quality.append({"table": "orders", "column": "order_date", "kind": "lines_after_as_of", "count": after,
                        "values": {"as_of": f"{cut_date:%Y-%m-%d}"},
                        "message": f"{after} order lines after the as-of date {cut_date:%Y-%m-%d} were left out"})
    lines = eng.materialise_sql("order_lines", "SELECT l.* FROM typed_lines l CROSS JOIN run_params p "
                                "WHERE l.order_date <= p.as_of")
    if lines.isEmpty():
        raise DataError(f"No order lines on or before the as-of date {cut_date:%Y-%m-%d} in {str(path)!r}. "
                        "Choose a later as_of (params or --as-of).")
    return lines, cut_date, quality, found, later_only


def _parquet_context(params: dict[str, Any], params_dir: Path | None, path: Path, *, quality: list[dict[str, Any]],
                     found: dict[str, Any], later_only: list[str], order_lines: pd.DataFrame, orders: pd.DataFrame,
                     summary: pd.DataFrame, cut_date: pd.Timestamp, meta_extra: dict[str, Any],
                     on_spark: dict[str, pd.DataFrame], export_dir: Path | None) -> context_mod.Context:
    """The context of a Parquet input checked on Spark, with the optional tables read by the usual loader."""
    loaded = _load_optional(params, params_dir, order_customers=orders["customer_id"])
    quality += [context_mod._note_dict(note) | {"table": name} for name, table in loaded.items()
                for note in table.notes]
    optional = context_mod.cut_tables({name: (loaded[name].frame if name in loaded else None)
                                       for name in context_mod.OPTIONAL_TABLES}, cut_date)
    meta = {"fingerprint": _fingerprint(path, [Path(t.path) for t in loaded.values()]),
            "files": {"orders": str(path), **{n: str(t.path) for n, t in loaded.items()}},
            "detected": {"orders": {"format": "parquet", "engine": "spark"},
                         **{n: getattr(t, "detected", {}) for n, t in loaded.items()}},
            "rows": {"orders": found["rows"], **{n: int(len(t.frame)) for n, t in loaded.items()}},
            "customers_after_as_of": sorted(map(str, later_only)), **meta_extra}
    ctx = context_mod.Context(params=params, as_of=cut_date, order_lines=order_lines, orders=orders,
                              customer_summary=summary, tables=optional, quality=quality, meta=meta,
                              export_dir=Path(export_dir) if export_dir else None)
    ctx.keep_views(on_spark)  # saved with the context: the notebooks read them, nothing recomputes them
    return ctx


def _java_home() -> bool:
    import os

    home = os.environ.get("JAVA_HOME")
    return bool(home) and (Path(home) / "bin" / "java").exists()


def _fingerprint(orders: Path, others: list[Path]) -> str:
    files = sorted(orders.rglob("*.parquet")) if orders.is_dir() else [orders]
    return context_mod._fingerprint([*files, *others])


def _load_optional(params: dict[str, Any], params_dir: Path | None, *,
                   order_customers: pd.Series) -> dict[str, Any]:
    """The optional tables by the usual loader (they are one row per customer, product or event), with the
    orders' note on customers missing from the customers table."""
    from crmlib.data.notes import Note
    from crmlib.data.read import read_table

    base = Path(params_dir) if params_dir else Path.cwd()
    loaded = {}
    for name, spec in params["data"].items():
        if name == "orders":
            continue
        spec = {**spec, "path": str(context_mod.resolve_data_path(spec["path"], params_dir))}
        loaded[name] = validation.validate_table(read_table(name, spec, base_dir=base), release=True,
                                                 currency=params.get("currency") or "TRY")
    customers = loaded.get("customers")
    if customers is not None and not customers.frame.empty:
        ids = pd.Series(order_customers.unique())
        unknown = ids[~ids.isin(customers.frame["customer_id"])]
        if len(unknown):
            customers.notes.append(Note("orders", "customer_id", "unknown_customers", len(unknown),
                                        f"{len(unknown)} customers in orders are not in the customers table",
                                        [(0, v) for v in unknown.head(EXAMPLES)]))
    return loaded


__all__ = ["build_context", "checked_lines", "loader_reason", "spark_itemsets", "spark_pattern", "orders_source"]
