"""The registry of engine-neutral SQL views: every aggregate a notebook needs from the order lines.

A view is one file in ``crmlib/data/sql/`` written in the SQL that DuckDB and Spark SQL both run unchanged.
The registry names, for each view, its SQL file, the relations it reads (input tables such as
``order_lines`` or ``products``, or other views) and whether it depends on the analysis date (the one-row
``run_params(as_of DATE)`` relation). :func:`compute` runs a view on any :class:`~crmlib.data.engine.Engine`,
registering the inputs it is given and materialising the views it reads first; what comes back to Python is
the aggregate only, with canonical dtypes (dates as ``datetime64[ns]``) whichever engine computed it.

Notebooks ask the run's context (``ctx.view(name)``), which caches each view as Parquet in the context folder
(:func:`cache_path`, :func:`write_atomic`) so that parallel notebooks compute it once.

Usage::

    with DuckDBEngine() as eng:
        summary = views.compute(eng, "customer_summary", sources={"order_lines": "lines.parquet"},
                                as_of="2026-06-30")
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tempfile
from collections.abc import Callable, Collection, Mapping
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from crmlib.data import tables
from crmlib.data.engine import Engine, Source

#: input relations a view may read (the context's tables, registered by name)
INPUTS: tuple[str, ...] = ("order_lines", "products", "customers")
#: the order-line columns the views read, with their Arrow types; the optional ones absent from a file are
#: given as nulls (:func:`line_schema`), so that every view runs on every data set
LINE_COLUMNS: dict[str, pa.DataType] = {
    "customer_id": pa.string(), "order_id": pa.string(), "order_date": pa.timestamp("ns"),
    "amount": pa.float64(), "product_id": pa.string(), "quantity": pa.float64(), "cost": pa.float64()}
OPTIONAL_LINE_COLUMNS: tuple[str, ...] = ("product_id", "quantity", "cost")


@dataclasses.dataclass(frozen=True)
class View:
    """One registered view.

    Attributes
    ----------
    name
        The relation name (also the cache file's stem).
    sql
        Stem of the SQL file in ``crmlib/data/sql/``.
    reads
        Relations the SQL reads: :data:`INPUTS` or other views' names (``run_params`` is implied by ``as_of``).
    as_of
        Whether the SQL reads ``run_params`` itself.
    description
        One line: the grain and what it holds.
    types
        Turns the engine's result into the canonical dtypes (default: dates to ``datetime64[ns]``).
    parameters
        Names of whole-number settings the SQL reads from the one-row relation ``view_params`` (e.g.
        ``lead_days``); :func:`compute` takes their values and the cache key names them.
    """

    name: str
    sql: str
    reads: tuple[str, ...]
    as_of: bool
    description: str
    types: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    parameters: tuple[str, ...] = ()


_REGISTRY: dict[str, View] = {}


def register(view: View) -> View:
    """Add ``view`` to the registry (its name must be new and its inputs known)."""
    if view.name in _REGISTRY:
        raise ValueError(f"view {view.name!r} is registered already")
    unknown = [r for r in view.reads if r not in INPUTS and r not in _REGISTRY]
    if unknown:
        raise ValueError(f"view {view.name!r} reads unknown relations: {', '.join(unknown)}")
    _REGISTRY[view.name] = view
    return view


def get(name: str) -> View:
    """The registered view ``name``."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"no view {name!r}; registered: {', '.join(sorted(_REGISTRY))}") from None


def names() -> tuple[str, ...]:
    """The registered views' names, in registration order (a view comes after the views it reads)."""
    return tuple(_REGISTRY)


def sql_path(name: str) -> Path:
    """The SQL file of view ``name``."""
    return Path(str(resources.files("crmlib.data") / "sql" / f"{get(name).sql}.sql"))


def requires(name: str, *, given: Collection[str] = ()) -> tuple[str, ...]:
    """Every relation ``name`` reads, directly or through the views it reads (inputs and views); a relation in
    ``given`` is named but not looked through (it is registered as it is, as :func:`compute` does with sources)."""
    out: list[str] = []

    def walk(rel: str) -> None:
        for dep in get(rel).reads:
            if dep in _REGISTRY and dep not in given:
                walk(dep)
            if dep not in out:
                out.append(dep)

    walk(name)
    return tuple(out)


def depends_on_as_of(name: str) -> bool:
    """Whether ``name`` (or a view it reads) depends on the analysis date."""
    return get(name).as_of or any(_REGISTRY[d].as_of for d in requires(name) if d in _REGISTRY)


def compute(engine: Engine, name: str, *, sources: Mapping[str, Source] | None = None,
            ready: Collection[str] = (), as_of: pd.Timestamp | str | None = None,
            values: Mapping[str, int] | None = None) -> pd.DataFrame:
    """Run the view ``name`` on ``engine`` and return it as a pandas frame with canonical dtypes.

    Parameters
    ----------
    engine
        Any engine (:mod:`crmlib.data.engine`).
    name
        A registered view.
    sources
        Relations to register first, by name: a frame, an Arrow table, a Parquet file or a folder of them.
        A view given here (e.g. a saved ``orders``) is used as is instead of being recomputed.
    ready
        Relations already on ``engine`` (registered or materialised by the caller).
    as_of
        The analysis date; required when the view depends on it.
    values
        The view's :attr:`View.parameters`, each a whole number (registered as ``view_params``).

    Raises
    ------
    KeyError
        When an input the view needs is neither given nor ready.
    ValueError
        When the view depends on the analysis date and ``as_of`` is missing.
    """
    view = get(name)
    sources = dict(sources or {})
    have = set(ready)
    if depends_on_as_of(name):
        if as_of is None:
            raise ValueError(f"view {name!r} depends on the analysis date: pass as_of")
        engine.set_as_of(as_of)
    settings = parameter_values(name, values)
    if settings:
        engine.register("view_params", pd.DataFrame({k: [v] for k, v in settings.items()}, dtype="int64"))
    _prepare(engine, view, sources, have)
    return canonical(view, engine.fetch(view.sql))


def parameter_values(name: str, values: Mapping[str, int] | None) -> dict[str, int]:
    """The values of the view's parameters, checked: each one given, a whole number, nothing else."""
    view = get(name)
    values = dict(values or {})
    missing = [k for k in view.parameters if k not in values]
    extra = [k for k in values if k not in view.parameters]
    if missing or extra:
        raise ValueError(f"view {name!r} takes the parameters {list(view.parameters)}; "
                         f"missing {missing}, unknown {extra}")
    out = {}
    for key in view.parameters:
        value = values[key]
        if isinstance(value, bool) or int(value) != value:
            raise ValueError(f"view {name!r}: parameter {key} must be a whole number, got {value!r}")
        out[key] = int(value)
    return out


def line_schema(present: Collection[str]) -> pa.Schema | None:
    """The Arrow schema that completes an order-line file with columns ``present``: its own columns as they
    are plus the optional ones it lacks (read as nulls); ``None`` when nothing is missing."""
    missing = [c for c in OPTIONAL_LINE_COLUMNS if c not in present]
    return pa.schema([(c, LINE_COLUMNS[c]) for c in missing]) if missing else None


def line_source(path: Path) -> Path | pads.Dataset:
    """An order-line Parquet file as a view source: the file itself when it has every optional column, else
    an Arrow dataset over it that reads the missing ones as nulls (scanned by the engine, never loaded)."""
    schema = pq.read_schema(path)
    extra = line_schema(schema.names)
    return path if extra is None else pads.dataset(path, schema=pa.unify_schemas([schema, extra]))


def parquet_blank_counts(path: Path) -> pd.Series:
    """Blank (null) cells per column of a Parquet file written from pandas (NaN is stored as null), from its
    row groups' statistics: no row is read unless a row group lacks them. ``attrs["rows"]``: the rows."""
    file = pq.ParquetFile(path)
    meta = file.metadata
    out: dict[str, int] = {}
    for i, name in enumerate(file.schema_arrow.names):
        stats = [meta.row_group(g).column(i).statistics for g in range(meta.num_row_groups)]
        if all(st is not None and st.has_null_count for st in stats):
            out[name] = int(sum(st.null_count for st in stats))
        else:
            out[name] = int(file.read(columns=[name]).column(0).null_count)
    counts = pd.Series(out, dtype="int64")
    counts.attrs["rows"] = int(meta.num_rows)
    return counts


def with_line_columns(lines: pd.DataFrame) -> pd.DataFrame:
    """``lines`` with the optional order-line columns it lacks added as nulls (nothing copied when complete)."""
    missing = [c for c in OPTIONAL_LINE_COLUMNS if c not in lines.columns]
    if not missing:
        return lines
    add = {c: (pd.Series(pd.NA, index=lines.index, dtype="string") if c == "product_id"
               else pd.Series(np.nan, index=lines.index)) for c in missing}
    return lines.assign(**add)


def _prepare(engine: Engine, view: View, sources: dict[str, Source], have: set[str]) -> None:
    for dep in view.reads:
        if dep in have:
            continue
        if dep in sources:
            engine.register(dep, sources[dep])
        elif dep in _REGISTRY:
            _prepare(engine, _REGISTRY[dep], sources, have)
            engine.materialise(dep, _REGISTRY[dep].sql)
        else:
            raise KeyError(f"view {view.name!r} needs the relation {dep!r}, which was not given")
        have.add(dep)


def canonical(view: View | str, frame: pd.DataFrame) -> pd.DataFrame:
    """The view's canonical dtypes: its own ``types``, else date columns (``datetime.date``) as ``datetime64[ns]``."""
    view = get(view) if isinstance(view, str) else view
    frame = frame.reset_index(drop=True)
    if view.types is not None:
        return view.types(frame)
    for col in frame.columns:
        series = frame[col]
        if series.dtype == object:
            sample = series.dropna()
            if len(sample) and isinstance(sample.iloc[0], dt.date):
                frame[col] = pd.to_datetime(series).astype("datetime64[ns]")
        elif pd.api.types.is_integer_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
            if series.dtype != "int64":
                frame[col] = series.astype("int64")
        elif pd.api.types.is_datetime64_any_dtype(series.dtype) and series.dtype != "datetime64[ns]":
            frame[col] = series.dt.tz_localize(None).astype("datetime64[ns]") if getattr(
                series.dt, "tz", None) is not None else series.astype("datetime64[ns]")
    return frame


def viewer(sources: Mapping[str, Source], *, as_of: pd.Timestamp | str) -> Callable[..., pd.DataFrame]:
    """A ``view(name, *, as_of=None, keep=True, **values)`` function over ``sources`` (frames or Parquet files
    by relation name), like a context's ``ctx.view`` without its cache (``keep`` is accepted and has no
    effect): each call runs on a new DuckDB engine.
    ``as_of`` is the default analysis date; order lines lacking optional columns get them as nulls."""
    from crmlib.data.engine import DuckDBEngine

    sources = dict(sources)
    lines = sources.get("order_lines")
    if isinstance(lines, pd.DataFrame):
        sources["order_lines"] = with_line_columns(lines)
    elif isinstance(lines, (str, Path)) and Path(lines).is_file():
        sources["order_lines"] = line_source(Path(lines))

    def view(name: str, *, as_of: pd.Timestamp | str | None = None, keep: bool = True, **values: int) -> pd.DataFrame:
        with DuckDBEngine() as eng:
            return compute(eng, name, sources=sources, as_of=default_as_of if as_of is None else as_of,
                           values=values)

    default_as_of = as_of
    return view


def has_line_values(view: Callable[..., pd.DataFrame], *columns: str) -> bool:
    """Whether the order lines have a value in each of ``columns`` (some line each), from ``line_counts``."""
    counts = view("line_counts").iloc[0]
    return bool(counts["n_lines"] > 0) and all(int(counts[c]) > 0 for c in columns)


def run_views(params: Mapping[str, object], as_of: pd.Timestamp | str) -> list[tuple[str, pd.Timestamp | None,
                                                                                  dict[str, int]]]:
    """The views a run's notebooks read, as (name, date, parameter values): ``date`` ``None`` is the run's
    ``as_of``, other dates are earlier snapshots (the churn backtest and calibration, the cross-sell
    validation cut). ``params`` are normalized (every practice's section complete). An engine can compute
    them ahead (:func:`compute_run_views`) and the context saves them with itself (``views/`` folder)."""
    as_of = pd.Timestamp(as_of).normalize()

    def section(name: str) -> Mapping[str, object]:
        value = params.get(name)
        return value if isinstance(value, Mapping) else {}

    xs, churn = section("cross_sell"), section("churn")
    loyalty, service = section("loyalty"), section("service")
    out: list[tuple[str, pd.Timestamp | None, dict[str, int]]] = [
        ("line_counts", None, {}), ("customer_months", None, {}), ("product_rhythm", None, {}),
        ("customer_products", None, {}), ("order_products", None, {}), ("product_first_sales", None, {})]
    if xs.get("validation_cut_days") is not None:
        out.append(("customer_products", as_of - pd.Timedelta(days=int(xs["validation_cut_days"])), {}))
    if xs.get("preseason_lead_weeks") is not None:
        out.append(("preseason_items", None, {"lead_days": 7 * int(xs["preseason_lead_weeks"])}))
    if loyalty.get("early_buyer_days") is not None:
        out.append(("early_buyers", None, {"early_days": int(loyalty["early_buyer_days"])}))
    if service.get("recurring_lookback_days") is not None:
        out.append(("product_orders", None, {"lookback_days": int(service["recurring_lookback_days"])}))
    if churn.get("horizon_days") is not None:
        h = pd.Timedelta(days=int(churn["horizon_days"]))
        out += [("customer_summary", as_of - h, {}), ("customer_summary", as_of - 2 * h, {})]
    out.append(("customer_summary", as_of - pd.Timedelta(days=30), {}))  # the P(order in 30 days) calibration
    return out


def compute_run_views(engine: Engine, params: Mapping[str, object], *, as_of: pd.Timestamp | str,
                      sources: Mapping[str, Source] | None = None,
                      ready: Collection[str] = ()) -> dict[str, pd.DataFrame]:
    """Every view of :func:`run_views` computed on ``engine``, by cache key (:func:`cache_key`): e.g. on
    Spark, ``ready=("order_lines", "orders")``; put them in the context (``ctx.keep_views``) so that
    :meth:`Context.save` writes them where the notebooks' ``ctx.view`` finds them."""
    out: dict[str, pd.DataFrame] = {}
    for name, at, values in run_views(params, as_of):
        key = cache_key(name, at, values)
        if key not in out:
            out[key] = compute(engine, name, sources=sources, ready=ready,
                               as_of=as_of if at is None else at, values=values)
    return out


# -- the cache under a run's context folder -------------------------------------------------------------
def cache_key(name: str, as_of: pd.Timestamp | str | None = None, values: Mapping[str, int] | None = None) -> str:
    """File stem of a cached view: ``name``, then ``.as_of-YYYY-MM-DD`` at another analysis date than the
    run's (``as_of=None``), then ``.key-value`` per parameter."""
    key = name
    if as_of is not None and depends_on_as_of(name):
        key += f".as_of-{pd.Timestamp(as_of):%Y-%m-%d}"
    for param, value in parameter_values(name, values).items():
        key += f".{param}-{value}"
    return key


def cache_path(folder: Path, name: str, as_of: pd.Timestamp | str | None = None,
               values: Mapping[str, int] | None = None) -> Path:
    """``<folder>/views/<cache_key>.parquet``: where a context keeps the view."""
    return Path(folder) / "views" / f"{cache_key(name, as_of, values)}.parquet"


def write_atomic(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` as Parquet through a temporary file and a rename (readers never see half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".parquet.tmp", dir=path.parent)
    os.close(fd)
    try:
        clean = frame.reset_index(drop=True)
        clean.attrs = {}
        clean.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read_cached(path: Path, view: View | str) -> pd.DataFrame:
    """Read a cached view back with its canonical dtypes."""
    return canonical(view, pd.read_parquet(path))


# -- the registered views (a view after those it reads) ---------------------------------------------------
def _register_defaults() -> None:
    register(View("orders", "orders", ("order_lines",), False,
                  "one row per order: amount, cost, margin, lines, quantity, returns, is_purchase",
                  types=tables.orders_types))
    register(View("customer_summary", "customer_summary", ("orders",), True,
                  "one row per customer with a purchase up to as_of: RFM, gaps, frequency/recency/T",
                  types=tables.summary_types))
    register(View("product_rhythm", "product_rhythm", ("order_lines",), True,
                  "one row per customer and product bought on two or more days: usual gap, days since, spend"))
    register(View("customer_products", "customer_products", ("order_lines",), True,
                  "one row per customer and product bought: orders, days, first/last date, amount, quantity"))
    register(View("order_products", "order_products", ("order_lines",), True,
                  "the baskets: one row per purchase order and product in it"))
    register(View("preseason_items", "preseason_items", ("order_lines",), True,
                  "one row per customer and product bought in last year's coming lead_days, with the "
                  "product's orders in that window and in the year", parameters=("lead_days",)))
    register(View("product_first_sales", "product_first_sales", ("order_lines",), True,
                  "one row per product sold: first sale, and the first sale of any product (data_start)"))
    register(View("early_buyers", "early_buyers", ("order_lines", "product_first_sales"), True,
                  "one row per customer and product bought within early_days of its first sale: amount",
                  parameters=("early_days",)))
    register(View("product_orders", "product_orders", ("order_lines",), True,
                  "one row per product: distinct orders with it over the last lookback_days",
                  parameters=("lookback_days",)))
    register(View("line_counts", "line_counts", ("order_lines",), False,
                  "one row: the number of order lines and of lines with a value in each column the views read"))
    register(View("customer_months", "customer_months", ("orders",), True,
                  "one row per customer and month with an order: purchases, revenue, first purchase month"))


_register_defaults()
