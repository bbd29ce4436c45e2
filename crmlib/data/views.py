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

import pandas as pd

from crmlib.data import tables
from crmlib.data.engine import Engine, Source

#: input relations a view may read (the context's tables, registered by name)
INPUTS: tuple[str, ...] = ("order_lines", "products", "customers")


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
    """

    name: str
    sql: str
    reads: tuple[str, ...]
    as_of: bool
    description: str
    types: Callable[[pd.DataFrame], pd.DataFrame] | None = None


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


def requires(name: str) -> tuple[str, ...]:
    """Every relation ``name`` reads, directly or through the views it reads (inputs and views)."""
    out: list[str] = []

    def walk(rel: str) -> None:
        for dep in get(rel).reads:
            if dep in _REGISTRY:
                walk(dep)
            if dep not in out:
                out.append(dep)

    walk(name)
    return tuple(out)


def depends_on_as_of(name: str) -> bool:
    """Whether ``name`` (or a view it reads) depends on the analysis date."""
    return get(name).as_of or any(_REGISTRY[d].as_of for d in requires(name) if d in _REGISTRY)


def compute(engine: Engine, name: str, *, sources: Mapping[str, Source] | None = None,
            ready: Collection[str] = (), as_of: pd.Timestamp | str | None = None) -> pd.DataFrame:
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
    _prepare(engine, view, sources, have)
    return canonical(view, engine.fetch(view.sql))


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
        elif pd.api.types.is_datetime64_any_dtype(series.dtype) and series.dtype != "datetime64[ns]":
            frame[col] = series.dt.tz_localize(None).astype("datetime64[ns]") if getattr(
                series.dt, "tz", None) is not None else series.astype("datetime64[ns]")
    return frame


# -- the cache under a run's context folder -------------------------------------------------------------
def cache_key(name: str, as_of: pd.Timestamp | str | None = None) -> str:
    """File stem of a cached view: ``name``, or ``name.as_of-YYYY-MM-DD`` at another analysis date."""
    if as_of is None or not depends_on_as_of(name):
        return name
    return f"{name}.as_of-{pd.Timestamp(as_of):%Y-%m-%d}"


def cache_path(folder: Path, name: str, as_of: pd.Timestamp | str | None = None) -> Path:
    """``<folder>/views/<cache_key>.parquet``: where a context keeps the view."""
    return Path(folder) / "views" / f"{cache_key(name, as_of)}.parquet"


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


_register_defaults()
