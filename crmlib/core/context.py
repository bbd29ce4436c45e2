"""Everything a run shares: validated tables, orders, the per-customer table and the fitted CLV model.

The runner builds the context once (:func:`build_context`), saves it to a folder (:meth:`Context.save`) and
hands that folder to every notebook, which reopens it (:func:`open_context`) instead of reloading and
recomputing. A notebook run straight from papermill (no ``context_dir``) builds its own context from the
params.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Collection, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pandas as pd

from crmlib.core import params as params_mod
from crmlib.core import registry
from crmlib.errors import DataError
from crmlib.report.exports import csv_dialect, write_csv

log = logging.getLogger(__name__)

OPTIONAL_TABLES: tuple[str, ...] = tuple(t for t in params_mod.TABLES if t != "orders")
#: dated columns of the optional tables: rows dated after as_of are dropped, later events are blanked
_ROW_DATE = {"payments": None, "tickets": "opened_at", "surveys": "date", "contacts": "date", "marketing": "month"}
_EVENT_DATES = {"payments": ("paid_date",), "tickets": ("acknowledged_at", "resolved_at")}
REPO_ROOT = Path(__file__).resolve().parents[2]


def resolve_data_path(path: str, params_dir: Path | None) -> Path:
    """Resolve a data path: relative to the params file's folder when known.

    Without ``params_dir`` (papermill run straight from a params file) try the working directory, then the
    repository's ``params/`` folder (where the shipped params files live), so both ways of running agree.
    """
    candidate = Path(path).expanduser()
    if candidate.is_absolute():
        return candidate
    if params_dir is not None:
        return (Path(params_dir) / candidate).resolve()
    for base in (Path.cwd(), REPO_ROOT / "params", REPO_ROOT):
        if (base / candidate).exists():
            return (base / candidate).resolve()
    return (Path.cwd() / candidate).resolve()


def _fingerprint(paths: list[Path]) -> str:
    """The first 16 hex digits of the SHA-256 of the files' names and bytes (a configured file that a run of some
    notebooks does not read, and that is missing, counts by its name and the word ``missing``)."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        if not Path(path).is_file():
            digest.update(b"\0missing")
            continue
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def _fingerprint_ahead(paths: list[Path]) -> Later:
    """:func:`_fingerprint` computed on a thread of its own while the tables load (reading a file and hashing its
    blocks release the GIL: at 10M order lines, 0.3 s off the load); ``.result()`` gives it."""
    return Later(lambda: _fingerprint(list(paths)), name="fingerprint")


def _note_dict(note: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(note):
        return {k: (v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else str(v))
                for k, v in dataclasses.asdict(note).items()}
    if isinstance(note, dict):
        return note
    return {"message": str(note)}


def cut_tables(frames: dict[str, pd.DataFrame | None], as_of: pd.Timestamp) -> dict[str, pd.DataFrame | None]:
    """Return the optional tables as they were known at ``as_of``.

    Rows dated after ``as_of`` are dropped (tickets opened, surveys, contacts, marketing months), and events
    after it are blanked (a payment made later was unpaid at ``as_of``; a later resolution was still open).
    """
    out: dict[str, pd.DataFrame | None] = {}
    for name, frame in frames.items():
        if frame is None:
            out[name] = None
            continue
        row_col = _ROW_DATE.get(name)
        if row_col not in frame.columns and not set(_EVENT_DATES.get(name, ())) & set(frame.columns):
            out[name] = frame  # nothing dated to cut (customers, products): the frame as loaded, not a copy
            continue
        frame = frame.copy()
        if row_col and row_col in frame.columns:
            frame = frame.loc[~(pd.to_datetime(frame[row_col]) > as_of)].reset_index(drop=True)
        for col in _EVENT_DATES.get(name, ()):
            if col in frame.columns:
                frame.loc[pd.to_datetime(frame[col]) > as_of, col] = pd.NaT
        out[name] = frame
    return out


#: context.json's key naming the files the runner was still writing when it wrote context.json (:class:`Pending`)
PENDING = "pending"
#: written beside a product's file instead of it when the runner could not compute the product
ERROR_SUFFIX = ".error"
#: written into the folder when the runner's save failed: no file still pending will come
SAVE_FAILED = "_save.failed"
#: the products the runner saves as files of the context folder, by name
PRODUCT_FILES = {"segments": "segments.parquet", "rfm_segments": "rfm_segments.parquet",
                 "clv_model": "clv_model.json"}
#: context.json's key naming the tables the runner left out of the folder (``run --only``: no notebook reads them)
NOT_SAVED = "not_saved"


class SaveFailed(RuntimeError):
    """The run that writes a context folder failed or ended before writing a file a notebook waits for."""


class NotSaved(RuntimeError):
    """A notebook read a table its run did not save: the registry does not say that the notebook reads it."""


def not_saved_message(name: str) -> str:
    """Why the context folder has no file ``name`` (``order_lines.parquet``, ``table_<table>.parquet``) and
    which registry field to fix, in one line."""
    if name == "order_lines.parquet":
        return ("The order lines were not saved for this run: run --only saves them only when the registry says "
                "that a chosen notebook reads them, and this one does. Set order_lines=True on its Practice (or on "
                "the Provider of the product that reads them) in crmlib/core/registry.py.")
    table = name.removeprefix("table_").removesuffix(".parquet")
    return (f"The table {table!r} was not read for this run: run --only reads only the tables the registry says "
            f"the chosen notebooks read, and this one reads {table!r}. Add it to the tables of its Practice (or of "
            f"the Provider of the product that reads it) in crmlib/core/registry.py.")


class Pending:
    """The files of a context folder its runner is still writing (:meth:`Context.start_save`).

    The runner writes ``context.json`` first, naming them, and starts the notebooks; it then computes the shared
    products and writes the tables, each through a temporary file and a rename. A notebook that reads one of
    them before it is there waits (:meth:`wait`): until the file appears, its product's error mark appears (the
    caller then computes it itself, as without the runner), the save fails, or the runner ends. The runner ends
    a notebook that runs past its time limit, so a wait is never longer than that.

    ``missing``: the files the runner does not write at all (``run --only`` leaves out the tables its notebooks
    do not read), with the message a read of one of them fails with at once.
    """

    def __init__(self, folder: Path, files: list[str], pid: int | None, *, poll: float = 0.02,
                 missing: dict[str, str] | None = None) -> None:
        self.folder, self.files, self.pid, self.poll = Path(folder), set(files), pid, poll
        self.missing = dict(missing or {})

    def wait(self, path: Path) -> None:
        """Return once ``path`` is written or will not be (its product failed); at once if it is not pending.

        Raises
        ------
        NotSaved
            ``path`` is one of the files the runner leaves out (:attr:`missing`).
        SaveFailed
            The runner's save failed, or the runner ended before writing ``path``.
        """
        try:
            name = Path(path).relative_to(self.folder).as_posix()
        except ValueError:
            return
        if name in self.missing:
            raise NotSaved(self.missing[name])
        if name not in self.files:
            return
        path, error = self.folder / name, self.folder / f"{name}{ERROR_SUFFIX}"
        checked = time.monotonic()
        while not (path.exists() or error.exists()):
            failed = self.folder / SAVE_FAILED
            if failed.exists():
                raise SaveFailed(f"{name} was not saved: {failed.read_text(encoding='utf-8').strip()}")
            if self.pid is not None and time.monotonic() - checked > 0.5:
                checked = time.monotonic()
                if not _alive(self.pid):
                    if path.exists() or error.exists():
                        break
                    raise SaveFailed(f"{name} was not saved: the run writing {self.folder} has ended")
            time.sleep(self.poll)
        self.files.discard(name)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, killed but not yet collected, does not)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class Saved:
    """A table of a saved context: its Parquet file, read into pandas on first use (see :class:`Context`).

    ``pending``: the folder's :class:`Pending` files when the runner may still be writing this one (each use
    waits for it)."""

    def __init__(self, path: Path, pending: Pending | None = None) -> None:
        self.path = Path(path)
        self.pending = pending

    def _ready(self) -> None:
        if self.pending is not None:
            self.pending.wait(self.path)
            self.pending = None

    def read(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The table (or only ``columns``) as pandas."""
        self._ready()
        return pd.read_parquet(self.path, columns=columns)

    def columns(self) -> list[str]:
        """The table's column names, from the file's schema (nothing read)."""
        import pyarrow.parquet as pq

        self._ready()
        schema = pq.read_schema(self.path)
        index = set((schema.pandas_metadata or {}).get("index_columns", []) if schema.metadata else [])
        return [name for name in schema.names if name not in index]

    def has_values(self, columns: tuple[str, ...]) -> bool:
        """Whether every column in ``columns`` exists and holds at least one value (not NA).

        Read from the file's null counts where they say so; a floating column (whose NaN the counts miss)
        or a file without statistics reads that one column.
        """
        import pyarrow.parquet as pq

        names = self.columns()  # waits for a pending file
        if not all(col in names for col in columns):
            return False
        if not columns:
            return True
        meta = pq.ParquetFile(self.path).metadata
        if meta.num_rows == 0:
            return False
        schema = meta.schema
        where = {schema.column(i).path: i for i in range(meta.num_columns)}
        for col in columns:
            index = where.get(col)
            known = index is not None and schema.column(index).physical_type not in ("FLOAT", "DOUBLE")
            nulls = 0
            for group in range(meta.num_row_groups) if known else ():
                stats = meta.row_group(group).column(index).statistics
                if stats is None or not stats.has_null_count:
                    known = False
                    break
                nulls += stats.null_count
            if known:
                if nulls >= meta.num_rows:
                    return False
            elif not self.read([col])[col].notna().any():
                return False
        return True


class Later:
    """A value still being computed on a thread of its own: the files' fingerprint while the tables load, the
    runner's per-customer table while the tables before it are saved and the notebooks start
    (:func:`build_context` with ``defer_summary``). :meth:`result` waits for it and raises its error; a
    :class:`Context` field holding one (:class:`_Lazy`) then holds the table."""

    def __init__(self, compute: Callable[[], Any], *, name: str) -> None:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        try:
            self._future = pool.submit(compute)
        finally:
            pool.shutdown(wait=False)

    def result(self) -> Any:
        """The value, once computed (raises what its computation raised)."""
        return self._future.result()


class _Lazy:
    """A :class:`Context` field that may hold a :class:`Saved` table, read the first time it is used, or a
    :class:`Later` one, waited for the first time it is used."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_saved_{name}"

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:  # no class-level default: the dataclass field stays required
            raise AttributeError(self.slot)
        value = obj.__dict__[self.slot]
        if isinstance(value, Saved):
            value = obj.__dict__[self.slot] = value.read()
        elif isinstance(value, Later):
            value = obj.__dict__[self.slot] = value.result()
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.slot] = value


class Tables(MutableMapping):
    """The optional tables by name (``None`` when absent); a saved one is read on first access."""

    def __init__(self, items: Any = ()) -> None:
        self._items: dict[str, Any] = dict(items)

    def __getitem__(self, name: str) -> pd.DataFrame | None:
        value = self._items[name]
        if isinstance(value, Saved):
            value = self._items[name] = value.read()
        return value

    def __setitem__(self, name: str, value: Any) -> None:
        self._items[name] = value

    def __delitem__(self, name: str) -> None:
        del self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return "Tables({" + ", ".join(f"{k!r}: {'None' if v is None else type(v).__name__}"
                                      for k, v in self._items.items()) + "})"

    def stored(self, name: str) -> Any:
        """What is held for ``name`` without reading it: a frame, a :class:`Saved` table or ``None``."""
        return self._items.get(name)


@dataclasses.dataclass(repr=False, eq=False)
class Context:
    """The shared state of one run. See ``docs/ARCHITECTURE.md`` for the frames' columns.

    A context reopened from its folder (:func:`load_saved`) reads each table from its Parquet file the first
    time it is used: a notebook that never touches the order lines never reads them.
    """

    params: dict[str, Any]
    as_of: pd.Timestamp
    order_lines: pd.DataFrame = _Lazy()  # type: ignore[assignment]
    orders: pd.DataFrame = _Lazy()  # type: ignore[assignment]
    customer_summary: pd.DataFrame = _Lazy()  # type: ignore[assignment]
    tables: Tables = _Lazy()  # type: ignore[assignment]
    quality: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    context_dir: Path | None = None
    export_dir: Path | None = None
    _clv: Any = None
    _segments: pd.DataFrame | None = None
    _history: dict[str, pd.DataFrame] = dataclasses.field(default_factory=dict)
    # views computed so far, and the folder whose Parquet files hold this context's frames (set when reopened
    # from it): not copied by dataclasses.replace, whose frames may differ from the files
    _views: dict[str, pd.DataFrame] = dataclasses.field(default_factory=dict, init=False, repr=False)
    _view_folder: Path | None = dataclasses.field(default=None, init=False, repr=False)
    # the files of the folder its runner was still writing when it was reopened (reads of them wait)
    _pending: Pending | None = dataclasses.field(default=None, init=False, repr=False)
    # the RFM part of the segment table (rfm_segments()), computed from this context's per-customer table: not
    # copied by dataclasses.replace either, which may be given another table
    _rfm_segments: pd.DataFrame | None = dataclasses.field(default=None, init=False, repr=False)

    # -- conveniences ---------------------------------------------------------------------------------
    @property
    def lang(self) -> str:
        """Report language, ``tr`` or ``en``."""
        return self.params["language"]

    @property
    def currency(self) -> str:
        """Currency code of the amounts (``TRY`` by default)."""
        return self.params["currency"]

    @property
    def mask_pii(self) -> bool:
        """Whether names, e-mails and phones are masked in reports and action lists."""
        return bool(self.params["report"].get("mask_pii"))

    @property
    def data_window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last order date used (after the as-of cut)."""
        dates = self.orders_columns(["order_date"])["order_date"]
        return dates.min(), dates.max()

    def orders_columns(self, columns: list[str]) -> pd.DataFrame:
        """Only ``columns`` of the orders table: from memory when it is loaded, else read alone from the runner's
        file (the rest of a saved table is not read, nor kept)."""
        held = self.__dict__["_saved_orders"]
        if isinstance(held, Saved):
            return held.read(list(columns))
        return held[list(columns)]

    def required_columns(self, table: str) -> tuple[str, ...]:
        """The columns ``table`` cannot do without (the contract's bold ones)."""
        from crmlib.data.read import REQUIRED

        return REQUIRED.get(table, ("customer_id",))

    def __post_init__(self) -> None:
        if not isinstance(self.__dict__["_saved_tables"], Tables):
            self.tables = Tables(self.__dict__["_saved_tables"])

    def stored(self, table: str) -> Any:
        """What the context holds for ``table`` (``orders`` = the order lines) without reading it."""
        if table == "orders":
            return self.__dict__["_saved_order_lines"]
        return self.tables.stored(table)

    def read(self, table: str, columns: list[str] | tuple[str, ...]) -> pd.DataFrame | None:
        """Only ``columns`` of ``table`` (``orders`` = the order lines), without reading the rest of a saved
        table; ``None`` when the table is absent. Columns the table lacks are left out."""
        source = self.stored(table)
        if source is None:
            return None
        if isinstance(source, Saved):
            present = source.columns()
            return source.read([c for c in columns if c in present])
        return source[[c for c in columns if c in source.columns]]

    def has(self, table: str, *columns: str) -> bool:
        """Whether an optional table is present (and has every column named); a saved table is not read."""
        if table == "orders":
            from crmlib.data import views

            if all(col in views.LINE_COLUMNS for col in columns):  # counted by SQL: the lines stay on disk
                return views.has_line_values(self.view, *columns)
        source = self.stored(table)
        if source is None:
            return False
        if isinstance(source, Saved):
            return source.has_values(columns)
        return all(col in source.columns and source[col].notna().any() for col in columns)

    def column_units(self, ns: str) -> dict[str, str]:
        """The column-unit map of practice ``ns`` (``UNITS`` in its ``report.py``), for ``rp.table(ns=...)``."""
        return registry.column_units(ns)

    # -- results shared between practices, computed once per run (providers named in the registry) ------
    def product(self, name: str) -> Any:
        """A result one practice provides to the others (``segments``, ``clv_model``), computed once."""
        if name not in registry.providers():
            raise KeyError(f"no practice provides {name!r}; provided: {', '.join(registry.providers())}")
        return getattr(self, name)()

    def clv_model(self) -> Any:
        """The lifetime-value model (BG/NBD + Gamma-Gamma) fitted on the per-customer table, once per run.

        Built by the registry's ``clv_model`` provider; a saved context restores it from its JSON form.
        """
        if self._clv is None:
            provider = registry.provider("clv_model")
            stored = self.meta.get("clv_model") or self._saved_product("clv_model")
            if stored and provider.restore:
                self._clv = registry.load(provider.restore)(stored)
            else:
                self._clv = registry.load(provider.build)(self)
                self.meta["clv_model"] = self._clv.to_dict()
        return self._clv

    def segments(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The per-customer segment table (the registry's ``segments`` provider), computed once, then reused;
        with ``columns``, only those (read alone from the runner's file when the table is not loaded yet)."""
        return self._table_product("segments", columns)

    def rfm_segments(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Each customer's RFM scores and segment (the registry's ``rfm_segments`` provider: the part of
        :meth:`segments` that the segment table starts from), computed once, then reused (the segment table
        reuses it too); with ``columns``, only those."""
        return self._table_product("rfm_segments", columns)

    def _table_product(self, name: str, columns: list[str] | None) -> pd.DataFrame:
        """Product ``name``, a per-customer table held as ``_<name>``: from memory, else the runner's file,
        else computed by its provider (see :meth:`segments`)."""
        slot = f"_{name}"
        if columns is not None:
            if getattr(self, slot) is None and self.context_dir is not None:
                path = self.context_dir / PRODUCT_FILES[name]
                self._await(path)
                if path.exists():
                    return pd.read_parquet(path, columns=list(columns))
            return self._table_product(name, None)[list(columns)]
        if getattr(self, slot) is None:
            saved = self._saved_product(name)
            setattr(self, slot, saved if saved is not None else registry.load(registry.provider(name).build)(self))
        return getattr(self, slot)

    def _saved_product(self, name: str) -> Any:
        """Product ``name`` as the runner saved it in the context folder (a frame, or the JSON form of an
        object), waiting for it while the runner still computes it; ``None`` when there is no such file (the
        runner could not compute it, or there is no runner): the caller then computes it, as the runner
        would have, and meets the same error or degradation."""
        if self.context_dir is None:
            return None
        path = self.context_dir / PRODUCT_FILES[name]
        self._await(path)
        if not path.exists():
            return None
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return json.loads(path.read_text(encoding="utf-8"))

    def _await(self, *paths: Path) -> None:
        """Wait for ``paths`` while the runner still writes them (:class:`Pending`); at once otherwise."""
        if self._pending is not None:
            for path in paths:
                self._pending.wait(path)

    # -- engine-neutral SQL views of the order lines (crmlib.data.views) --------------------------------
    def view(self, name: str, *, as_of: Any = None, keep: bool = True, **values: int) -> pd.DataFrame:
        """The registered SQL view ``name`` (:mod:`crmlib.data.views`) at ``as_of`` (default: the run's),
        with its parameters' ``values`` (e.g. ``lead_days=56``).

        With ``keep=False`` the frame is not held in this context's memory after it is returned (a large view
        used once, such as every order's products at 10M order lines: about a gigabyte); the file cache is
        still written and read.

        A context reopened from its folder (:func:`load_saved`) reads ``<context_dir>/views/`` when a notebook
        of the run computed the view already; otherwise DuckDB computes it over the folder's Parquet files (the
        order lines are never loaded into pandas for it) and it is cached there (written atomically: several
        notebooks run at once). Other contexts compute it over their frames in memory. A view at another
        analysis date reads the orders, never the run's summary.
        """
        from crmlib.data import views
        from crmlib.data.engine import DuckDBEngine

        at = self.as_of if as_of is None else pd.Timestamp(as_of).normalize()
        other = None if at == self.as_of else at
        key = views.cache_key(name, other, values)
        if key in self._views:
            return self._views[key] if keep else self._views.pop(key)
        folder = self._view_folder
        path = views.cache_path(folder, name, other, values) if folder is not None else None
        if path is not None:
            self._await(path)  # a view the runner computed ahead (Spark) and still writes
        if path is not None and path.exists():
            frame = views.read_cached(path, name)
        else:
            sources = self._view_sources()
            if other is not None:  # the saved as_of-dependent views hold the run's date, not this one
                sources = {n: s for n, s in sources.items() if n in views.INPUTS or not views.depends_on_as_of(n)}
            if folder is not None:  # an input the run did not save (run --only): NotSaved, naming the registry field
                needed = (r for r in views.requires(name, given=sources) if r not in sources and r in _INPUT_FILES)
                self._await(*(folder / _INPUT_FILES[r] for r in needed))
            with DuckDBEngine() as eng:
                frame = views.compute(eng, name, sources=sources, as_of=at, values=values)
            if path is not None:
                views.write_atomic(frame, path)
        if keep:
            self._views[key] = frame
        return frame

    def keep_views(self, computed: dict[str, pd.DataFrame]) -> None:
        """Keep views computed elsewhere (``crmlib.data.views.compute_run_views``, e.g. on Spark), by cache
        key; :meth:`save` writes them to the context folder, where the notebooks' :meth:`view` reads them."""
        self._views.update(computed)

    def blank_counts(self, table: str = "orders") -> pd.Series:
        """Blank cells per column of the order lines (``attrs["rows"]``: the number of lines); for a context
        reopened from its folder, read from the Parquet file's statistics (no line is loaded)."""
        if table != "orders":
            raise ValueError(f"blank counts are kept for the orders table only, not {table!r}")
        if self._view_folder is not None:
            self._await(self._view_folder / "order_lines.parquet")
        if self._view_folder is not None and (self._view_folder / "order_lines.parquet").exists():
            from crmlib.data import views

            return views.parquet_blank_counts(self._view_folder / "order_lines.parquet")
        counts = self.order_lines.isna().sum()
        counts.attrs["rows"] = len(self.order_lines)
        return counts

    def summary_at(self, as_of: Any) -> pd.DataFrame:
        """The per-customer table at another date (the ``customer_summary`` view): a backtest's snapshot."""
        return self.view("customer_summary", as_of=as_of)

    def _view_sources(self) -> dict[str, Any]:
        """The relations views read: the saved Parquet files when there are, else the frames in memory."""
        from crmlib.data import views

        folder = self._view_folder
        # files the run left out (run --only: order lines or tables its notebooks never read) are not sources: a
        # view of them fails in :meth:`view`, naming the registry field to fix; views of the orders still run
        missing = self._pending.missing if self._pending is not None else {}
        lines = None if folder is None else folder / "order_lines.parquet"
        if lines is not None and lines.name not in missing:
            self._await(lines)
        if lines is not None and (lines.name in missing or lines.exists()):
            files: dict[str, Any] = {"order_lines": lines, "orders": folder / "orders.parquet",
                                     "customer_summary": folder / "customer_summary.parquet",
                                     **{n: folder / f"table_{n}.parquet" for n in ("products", "customers")}}
            files = {n: p for n, p in files.items() if p.name not in missing}
            self._await(*files.values())
            files = {n: p for n, p in files.items() if p.exists()}
            if "order_lines" in files:
                files["order_lines"] = views.line_source(files["order_lines"])
            return files
        frames = {"order_lines": views.with_line_columns(self.order_lines), "orders": self.orders,
                  "customer_summary": self.customer_summary}
        frames.update({n: self.tables.get(n) for n in ("products", "customers")})
        return {n: f for n, f in frames.items() if f is not None}

    # -- run history (snapshotted by the runner; read-only here) ---------------------------------------
    def history(self, name: str) -> pd.DataFrame | None:
        """All rows recorded under ``name`` by earlier runs (as_of before this one), or ``None``."""
        if name in self._history:
            return self._history[name]
        if self.context_dir is None:
            return None
        self._await(self.context_dir / "history")  # the runner's snapshot, written as a whole folder
        path = self.context_dir / "history" / f"{name}.parquet"
        frame = pd.read_parquet(path) if path.exists() else None
        if frame is not None and frame.empty:
            frame = None
        self._history[name] = frame
        return frame

    def previous_history(self, name: str) -> pd.DataFrame | None:
        """Rows recorded under ``name`` by the latest earlier run, or ``None`` on a first run."""
        frame = self.history(name)
        if frame is None:
            return None
        latest = frame.sort_values(["as_of", "run_id"]).iloc[-1]["run_id"]
        return frame.loc[frame["run_id"] == latest].reset_index(drop=True)

    def stage_history(self, name: str, frame: pd.DataFrame) -> None:
        """Record ``frame`` under ``name`` for this run; the runner stores it when it publishes the run."""
        if self.context_dir is None:
            return
        folder = self.context_dir / "staging" / "history"
        folder.mkdir(parents=True, exist_ok=True)
        staged = frame.reset_index(drop=True)
        staged.attrs = {}
        staged.to_parquet(folder / f"{name}.parquet", index=False)

    # -- exports ------------------------------------------------------------------------------------
    def export_csv(self, name: str, frame: pd.DataFrame) -> Path | None:
        """Write ``exports/<name>.csv`` (UTF-8 with BOM, ``report.csv_dialect``); nothing without an export folder."""
        if self.export_dir is None:
            return None
        dialect = csv_dialect(self.params["report"].get("csv_dialect"), self.lang)
        return write_csv(frame, Path(self.export_dir) / f"{name}.csv", dialect=dialect)

    def export_json(self, name: str, obj: Any) -> Path | None:
        """Write ``exports/<name>.json``; nothing without an export folder."""
        if self.export_dir is None:
            return None
        path = Path(self.export_dir) / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        return path

    def export_action_list(self, name: str, frame: pd.DataFrame) -> Path | None:
        """Write ``exports/<name>.csv`` and register it as a sheet of the action-list workbook."""
        path = self.export_csv(name, frame)
        if self.context_dir is not None:
            folder = self.context_dir / "staging" / "action_lists"
            folder.mkdir(parents=True, exist_ok=True)
            staged = frame.reset_index(drop=True)
            staged.attrs = {}  # analysis metadata (model readiness, methods) is not part of the list
            staged.to_parquet(folder / f"{name}.parquet", index=False)
        return path

    # -- persistence ----------------------------------------------------------------------------------
    def save(self, folder: Path, *, release: bool = False) -> None:
        """Save the context for the notebooks of this run, and return once it is saved.

        With ``release`` the order lines, orders, per-customer table and optional tables are then dropped from
        memory and each is read back from its file if used again (the runner holds the context while the
        notebooks run; they read the tables from the files).
        """
        self.start_save(folder, release=release).result()

    def start_save(self, folder: Path, *, products: list[str] | tuple[str, ...] = (),
                   folders: dict[str, Callable[[Path], Any]] | None = None, release: bool = False,
                   order_lines: bool = True) -> Saving:
        """Start saving the context into ``folder`` and return as soon as the notebooks may start.

        ``context.json`` is written first; it names the files still to come, which a notebook reading them waits
        for (:class:`Pending`). They are written in the background: the tables on two threads (the per-customer
        table and the orders first, then the order lines, the optional tables and the computed views), and on a
        third thread the shared ``products``, computed and saved in the order given (the runner puts first what
        the first notebooks need first), then ``folders`` (``{name: function writing the folder's files into
        the path it is given}``, such as the run history's snapshot). With ``release`` the frames are let go
        once the last file is written (as :meth:`save`).

        ``order_lines=False`` leaves the order lines out (``run --only`` of notebooks that never read them,
        :func:`crmlib.core.registry.reads_order_lines`): ``context.json`` names them under :data:`NOT_SAVED`,
        and a notebook reading them anyway fails at once (:class:`NotSaved`) instead of waiting. The optional
        tables the run did not read (``meta["not_read"]``) are not saved either, and fail the same way.

        A tolerant product that cannot be computed gets an error mark instead of its file: the notebooks that
        need it compute it themselves and explain what is missing, as without the runner. Any other failure
        stops the save and is marked in the folder, so a notebook waiting for a file stops with it;
        :meth:`Saving.error` gives it as soon as it happens and :meth:`Saving.result` raises it.
        """
        saving = Saving(self, Path(folder), products=products, folders=folders or {}, release=release,
                        order_lines=order_lines)
        saving.start()
        return saving


#: a table's write: its frame and file
_Job = tuple[Any, Path]
#: threads writing the tables (Arrow's conversion and writing release the GIL; a third thread would compete with
#: the products' computation and the notebooks for the machine's two cores)
WRITE_THREADS = 2


class Saving:
    """A context being saved in the background (:meth:`Context.start_save`)."""

    def __init__(self, ctx: Context, folder: Path, *, products: list[str] | tuple[str, ...],
                 folders: dict[str, Callable[[Path], Any]], release: bool, order_lines: bool = True) -> None:
        self.ctx, self.folder, self.products, self.folders = ctx, folder, list(products), dict(folders)
        self.release = release
        #: the files left out (no notebook of the run reads them), named in context.json
        self.not_saved: list[str] = [] if order_lines else ["order_lines.parquet"]
        #: seconds of each part (the tables' writes, each product, each folder, the whole save), for run.json
        self.seconds: dict[str, float] = {}
        #: rows of each table written, by file name (``customer_summary.parquet``: the run's customers)
        self.rows: dict[str, int] = {}
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="context-save", daemon=True)

    # -- the runner's side --------------------------------------------------------------------------
    def start(self) -> None:
        """Write ``context.json`` naming every file still to come, then write them in the background."""
        ctx, folder = self.ctx, self.folder
        self._began = time.perf_counter()
        (folder / "views").mkdir(parents=True, exist_ok=True)
        # the per-customer table may still be computed (a Later): its writer waits for it, the orders' does not
        self._jobs: list[_Job] = [(ctx.__dict__["_saved_customer_summary"], folder / "customer_summary.parquet"),
                                  (ctx.orders, folder / "orders.parquet")]
        if "order_lines.parquet" not in self.not_saved:
            self._jobs.append((ctx.order_lines, folder / "order_lines.parquet"))
        for name in ("rfm_segments", "segments"):  # computed already
            if getattr(ctx, f"_{name}") is not None and name not in self.products:
                self._jobs.append((getattr(ctx, f"_{name}"), folder / PRODUCT_FILES[name]))
        self._jobs += [(frame, folder / f"table_{name}.parquet") for name, frame in ctx.tables.items()
                       if frame is not None]
        self._views = [(frame, folder / "views" / f"{key}.parquet") for key, frame in ctx._views.items()]
        pending = [*(path for _, path in self._jobs + self._views), *(folder / PRODUCT_FILES[n] for n in self.products),
                   *(folder / name for name in self.folders)]
        self._write_meta(pending=[path.relative_to(folder).as_posix() for path in pending])
        ctx.context_dir = folder
        self._thread.start()

    def error(self) -> BaseException | None:
        """The failure that stopped the save, once there is one (``None`` while it goes well)."""
        return self._error

    def done(self) -> bool:
        """Whether the save has ended (every file written, or a failure)."""
        return not self._thread.is_alive()

    def result(self) -> None:
        """Wait for the save to end; raise its failure."""
        self._thread.join()
        if self._error is not None:
            raise self._error

    def cancel(self) -> None:
        """Stop the save (after the step under way) and wait for it; nothing is raised. Files not yet written
        are marked as not coming (:data:`SAVE_FAILED`); a save that ended is left as it is."""
        self._stop.set()
        self._thread.join()

    # -- the background thread ----------------------------------------------------------------------
    def _run(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=WRITE_THREADS, thread_name_prefix="context-write")
        try:
            futures = [pool.submit(self._write_table, frame, path) for frame, path in self._jobs]
            futures += [pool.submit(self._write_view, frame, path) for frame, path in self._views]
            for name in self.products:
                self._step(name, self._product, name)
            for name, write in self.folders.items():
                self._step(name, self._folder, name, write)
            began = time.perf_counter()
            for future in futures:
                future.result()
            self.seconds["tables_waited"] = time.perf_counter() - began
            self._stopped()
            self._write_meta()  # nothing pending any more (a view cache removed later is not waited for)
            del self._jobs, self._views, futures  # the frames are let go below (``release``)
            if self.release:
                self._release()
        except BaseException as err:  # noqa: BLE001 - handed to the runner by error() and result()
            self._error = err
            pool.shutdown(wait=True, cancel_futures=True)
            if not isinstance(err, _Cancelled):
                log.debug("context save failed", exc_info=True)
            try:
                _write_text(self.folder / SAVE_FAILED, f"{type(err).__name__}: {err}")
            except OSError:  # the folder is gone (the run was stopped): nobody waits
                pass
            if isinstance(err, _Cancelled):
                self._error = None
        finally:
            pool.shutdown(wait=True)
            self.seconds["total"] = time.perf_counter() - self._began

    def _stopped(self) -> None:
        if self._stop.is_set():
            raise _Cancelled("the run was stopped")

    def _step(self, name: str, function: Callable[..., None], *args: Any) -> None:
        self._stopped()
        began = time.perf_counter()
        function(*args)
        self.seconds[name] = time.perf_counter() - began

    def _product(self, name: str) -> None:
        """Compute product ``name`` and save it, or mark it as failed when its provider is tolerant."""
        path = self.folder / PRODUCT_FILES[name]
        try:  # computed once here, reused by every notebook that needs it
            value = self.ctx.product(name)
        except Exception as err:
            if not registry.provider(name).tolerant:
                raise
            # the notebooks that need it explain what is missing
            log.warning("%s could not be computed: %s", name, err)
            self.ctx.meta[f"{name}_error"] = f"{type(err).__name__}: {err}"
            _write_text(path.with_name(path.name + ERROR_SUFFIX), self.ctx.meta[f"{name}_error"])
            return
        if isinstance(value, pd.DataFrame):
            self._write_table(value, path)
        else:
            _write_text(path, json.dumps(value.to_dict(), ensure_ascii=False, default=str))

    def _folder(self, name: str, write: Callable[[Path], Any]) -> None:
        """Let ``write`` fill a temporary folder, then rename it into place (readers see all of it or none)."""
        import shutil

        tmp = self.folder / f".{name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        write(tmp)
        os.replace(tmp, self.folder / name)

    def _write_table(self, frame: pd.DataFrame | Later, path: Path) -> None:
        """One table as Parquet through a temporary file and a rename. Arrow's conversion and writing release
        the GIL, so two such writes run at once in about half the time."""
        self._stopped()
        if isinstance(frame, Later):  # the per-customer table, computed meanwhile
            frame = frame.result()
        began = time.perf_counter()
        tmp = path.with_name(f".{path.name}.tmp")
        # files of this run only (removed with its work folder): neither compressed nor dictionary-encoded,
        # which writes them in about 60 % of the time (ids, names and dates are mostly distinct anyway)
        frame.to_parquet(tmp, index=False, compression=None, use_dictionary=False)
        os.replace(tmp, path)
        self.seconds[f"write {path.name}"] = time.perf_counter() - began
        self.rows[path.name] = len(frame)

    def _write_view(self, frame: pd.DataFrame, path: Path) -> None:
        from crmlib.data import views as views_mod

        self._stopped()
        views_mod.write_atomic(frame, path)

    def _write_meta(self, *, pending: list[str] | None = None) -> None:
        ctx = self.ctx
        meta = {**ctx.meta, "params": ctx.params, "as_of": ctx.as_of.strftime("%Y-%m-%d"), "quality": ctx.quality,
                "tables": sorted(n for n, f in ctx.tables.items() if f is not None)}
        if self.not_saved:
            meta[NOT_SAVED] = list(self.not_saved)
        if pending:
            meta[PENDING] = {"pid": os.getpid(), "files": pending}
        _write_text(self.folder / "context.json", json.dumps(meta, indent=2, ensure_ascii=False, default=str))

    def _release(self) -> None:
        """Hand the tables over to their files and give their memory back."""
        ctx, folder = self.ctx, self.folder
        missing = {name: not_saved_message(name) for name in self.not_saved}
        ctx.order_lines = Saved(folder / "order_lines.parquet", Pending(folder, [], None, missing=missing)
                                if missing else None)
        ctx.orders = Saved(folder / "orders.parquet")
        ctx.customer_summary = Saved(folder / "customer_summary.parquet")
        for name, frame in list(ctx.tables.items()):
            if frame is not None:
                ctx.tables[name] = Saved(folder / f"table_{name}.parquet")
        _release_memory()


#: the files of a context folder holding the views' input relations
_INPUT_FILES = {"order_lines": "order_lines.parquet", "products": "table_products.parquet",
                "customers": "table_customers.parquet"}


class _Cancelled(Exception):
    """The runner stopped the save (:meth:`Saving.cancel`)."""


def _write_text(path: Path, text: str) -> None:
    """Write ``text`` through a temporary file and a rename (a reader never sees half of it)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _release_memory() -> None:
    """Hand the memory of freed Arrow buffers (text columns), and the heap glibc keeps after freed Python and
    numpy objects, back to the system (10M lines: the runner holds 0.6 GB instead of 1.7 GB while the
    notebooks run)."""
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()
    try:  # glibc's malloc_trim (Linux); elsewhere there is nothing to call and nothing to do
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def load_saved(folder: Path, *, export_dir: Path | None = None) -> Context:
    """Reopen a context saved by :meth:`Context.save`."""
    folder = Path(folder)
    meta = json.loads((folder / "context.json").read_text(encoding="utf-8"))
    writing = meta.pop(PENDING, None)  # files the runner still writes: their reads wait for them
    # files the runner left out (run --only: tables its notebooks do not read): their reads fail at once
    unread = [f"table_{name}.parquet" for name in meta.get("not_read", []) if name in OPTIONAL_TABLES]
    missing = {name: not_saved_message(name) for name in [*meta.pop(NOT_SAVED, []), *unread]}
    pending = (Pending(folder, writing["files"] if writing else [], writing.get("pid") if writing else None,
                       missing=missing) if writing or missing else None)
    frames: dict[str, Saved | None] = {name: None for name in OPTIONAL_TABLES}
    for name in meta.pop("tables", []):
        frames[name] = Saved(folder / f"table_{name}.parquet", pending)
    for name in unread:  # None would read as an absent table: a notebook would silently show less
        frames[name.removeprefix("table_").removesuffix(".parquet")] = Saved(folder / name, pending)
    ctx = Context(  # every table is read from its file the first time it is used
        params=meta.pop("params"),
        as_of=pd.Timestamp(meta.pop("as_of")),
        order_lines=Saved(folder / "order_lines.parquet", pending),
        orders=Saved(folder / "orders.parquet", pending),
        customer_summary=Saved(folder / "customer_summary.parquet", pending),
        tables=Tables(frames),
        quality=meta.pop("quality", []),
        meta=meta,
        context_dir=folder,
        export_dir=Path(export_dir) if export_dir else None,
    )
    ctx._view_folder, ctx._pending = folder, pending
    return ctx


def load_lines(params: dict[str, Any], *, params_dir: Path | None = None,
               as_of: str | None = None, only_tables: Collection[str] | None = None,
               only_columns: dict[str, Collection[str]] | None = None) -> dict[str, Any]:
    """Load and validate every table with the usual loader and cut the order lines at the analysis date.

    The first half of :func:`build_context` (the Spark context calls it too for CSV and Excel order files).
    Returns ``params`` (with ``as_of`` set to the analysis date), ``spec`` (the tables' resolved specs),
    ``loaded`` (the validated tables: the orders and, with ``only_tables``, only the optional tables it names;
    with ``only_columns``, those tables in only the columns it names that the loader may read in part:
    :func:`crmlib.data.validate.columns_to_read`),
    ``quality`` (the notes), ``lines`` (the order lines on or before the
    analysis date, ``order_id`` synthesised when absent), ``as_of`` (that date) and ``later_only`` (customers
    whose every line is after it), ``fingerprint`` (the files' fingerprint, being computed: ``.result()``).

    Raises
    ------
    DataError
        When a table cannot be read or fails a check.
    """
    # the loader (pandera, DuckDB, the readers) is imported here: a notebook's kernel that reopens a saved
    # context (load_saved) never imports it
    from crmlib.data import validate as validation
    from crmlib.data.frames import keep_rows

    params = dict(params)
    if as_of is not None:
        params["as_of"] = params_mod.normalize({**params, "as_of": as_of})["as_of"]
    spec = {}
    for name, table_spec in params["data"].items():
        spec[name] = {**table_spec, "path": str(resolve_data_path(table_spec["path"], params_dir))}
    base_dir = Path(params_dir) if params_dir else Path.cwd()
    wanted = spec if only_tables is None else {n: s for n, s in spec.items() if n == "orders" or n in only_tables}
    fingerprint = _fingerprint_ahead([Path(s["path"]) for s in spec.values()])
    loaded = validation.load_tables(wanted, base_dir=base_dir, currency=params.get("currency") or "TRY",
                                    columns=only_columns)
    quality = [_note_dict(note) | {"table": name} for name, table in loaded.items() for note in table.notes]

    lines = loaded["orders"].frame
    if "order_id" not in lines.columns or lines["order_id"].isna().all():
        lines = lines.assign(order_id=lines["customer_id"] + "|" + lines["order_date"].dt.strftime("%Y-%m-%d"))
        quality.append({"table": "orders", "column": "order_id", "kind": "order_id_synthesised",
                        "count": int(len(lines)), "values": {},
                        "message": "no order_id column: one order per customer and day"})
    if lines.empty:
        raise DataError(f"The orders file {spec['orders']['path']!r} has no usable order lines. "
                        "Check the file and its column mapping under data.orders.columns.")
    cut_date, future = validation.analysis_date(loaded["orders"], lines["order_date"], as_of=params["as_of"])
    if future is not None:  # as_of unset: lines after today (typos such as 2052) are named and left out
        quality.append(_note_dict(future) | {"table": "orders"})
    after = lines["order_date"] > cut_date
    later_only: set[str] = set()  # customers whose every line is after as_of (the overview accounts for them)
    if after.any():
        later_only = (set(lines.loc[after, "customer_id"].unique())  # distinct ids first: no 10M-item set
                      - set(lines.loc[~after, "customer_id"].unique()))
    if after.any() and future is None:
        quality.append({"table": "orders", "column": "order_date", "kind": "lines_after_as_of",
                        "count": int(after.sum()), "values": {"as_of": f"{cut_date:%Y-%m-%d}"},
                        "message": f"{int(after.sum())} order lines after the as-of date {cut_date:%Y-%m-%d} "
                                   "were left out"})
    if after.any():
        lines = keep_rows(lines, ~after.to_numpy()).reset_index(drop=True)
    if lines.empty:
        raise DataError(f"No order lines on or before the as-of date {cut_date:%Y-%m-%d} in "
                        f"{spec['orders']['path']!r}. Choose a later as_of (params or --as-of).")
    params["as_of"] = cut_date.strftime("%Y-%m-%d")
    return {"params": params, "spec": spec, "loaded": loaded, "quality": quality, "lines": lines,
            "as_of": cut_date, "later_only": later_only, "fingerprint": fingerprint}


def build_context(params: dict[str, Any], *, params_dir: Path | None = None, as_of: str | None = None,
                  export_dir: Path | None = None, only_tables: Collection[str] | None = None,
                  only_columns: dict[str, Collection[str]] | None = None, defer_summary: bool = False) -> Context:
    """Load and validate every table, cut at ``as_of`` and build the orders and per-customer tables.

    Parameters
    ----------
    params
        Normalized params (:func:`crmlib.core.params.normalize`).
    params_dir
        Folder of the params file; data paths are relative to it.
    as_of
        Overrides ``params["as_of"]`` (the CLI's ``--as-of``).
    only_tables
        The optional tables to read (the orders always are); ``None``: every configured table. The others
        are left absent and named in ``meta["not_read"]`` (``run --only``: the tables its notebooks never read).
    only_columns
        Per optional table, the columns to read (``run --only``: those its notebooks read; the loader reads
        in part only a table whose rows kept cannot depend on the others); ``None``: every column. The mapped
        columns left unread are named in ``meta["columns_not_read"]``.
    defer_summary
        Return once the orders are built; the per-customer table is computed meanwhile on a thread of its own
        (a :class:`Later`, waited for where it is first used: the runner saves the other tables and starts the
        notebooks in the meantime). Whether any customer has a purchase is checked on the orders first, so
        the same :class:`DataError` is raised before returning.

    Raises
    ------
    DataError
        When a table cannot be read or fails a check.
    """
    from crmlib.data import tables

    found = load_lines(params, params_dir=params_dir, as_of=as_of, only_tables=only_tables,
                       only_columns=only_columns)
    params, spec, loaded, quality = found["params"], found["spec"], found["loaded"], found["quality"]
    lines, cut_date = found["lines"], found["as_of"]
    orders = tables.build_orders(lines)
    # the per-customer table has a row for each customer with a purchase order on or before the date (the
    # orders are cut already): it is empty exactly when no order is a purchase
    if not orders["is_purchase"].any():
        raise DataError(f"No customer has a purchase (an order with a positive net amount) on or before "
                        f"{cut_date:%Y-%m-%d} in {spec['orders']['path']!r}. Check the amount column mapping.")
    summary: pd.DataFrame | Later = (
        Later(lambda: tables.build_customer_summary(orders, cut_date), name="customer-summary")
        if defer_summary else tables.build_customer_summary(orders, cut_date))
    optional = cut_tables({name: (loaded[name].frame if name in loaded else None) for name in OPTIONAL_TABLES},
                          cut_date)
    return Context(params=params, as_of=cut_date, order_lines=lines, orders=orders, customer_summary=summary,
                   tables=optional, quality=quality, meta=loaded_meta(spec, loaded, found["later_only"], found["fingerprint"]),
                   export_dir=Path(export_dir) if export_dir else None)


def loaded_meta(spec: dict[str, Any], loaded: dict[str, Any], later_only: set[str],
                fingerprint: Any = None) -> dict[str, Any]:
    """The context's ``meta`` for tables read by the usual loader: fingerprint (``fingerprint.result()`` when
    given, as :func:`load_lines` returns it), files, formats, row counts, the tables and the columns not read."""
    files = [Path(s["path"]) for s in spec.values()]  # every configured file, read or not: the data's identity
    found = fingerprint.result() if fingerprint is not None else _fingerprint(files)
    return {"fingerprint": found, "files": {n: s["path"] for n, s in spec.items()},
            "detected": {n: getattr(t, "detected", {}) for n, t in loaded.items()},
            "rows": {n: int(len(t.frame)) for n, t in loaded.items()},
            "not_read": [n for n in spec if n not in loaded],
            "columns_not_read": {n: list(t.unread) for n, t in loaded.items() if getattr(t, "unread", None)},
            "customers_after_as_of": sorted(map(str, later_only))}


def open_context(raw_params: dict[str, Any] | None = None, *, namespace: dict[str, Any] | None = None,
                 context_dir: str | Path | None = None, params_dir: str | Path | None = None,
                 export_dir: str | Path | None = None) -> Context:
    """Open the run's context from a notebook: ``ctx = open_context(namespace=globals())``.

    With ``context_dir`` (set by ``python -m crmlib run``) reopen what the runner built. Otherwise build the
    context here: from the params papermill injected (``-f my.yaml``), or from the notebook's
    ``params_file`` with its ``as_of``, ``language`` and ``overrides`` (see :mod:`crmlib.core.standalone`).
    ``raw_params`` (a params dict) with ``params_dir`` is the programmatic form.
    """
    from crmlib.core import standalone

    if namespace is not None:
        context_dir = namespace.get("context_dir") or context_dir
        export_dir = namespace.get("export_dir") or export_dir
    if context_dir:
        return load_saved(Path(context_dir), export_dir=Path(export_dir) if export_dir else None)
    if namespace is not None:
        changes = standalone.notebook_overrides(namespace)
        injected = standalone.injected_params(namespace, tuple(params_mod.TOP_LEVEL))
        if injected is not None:  # papermill -f my.yaml: the file's keys are the params
            found = standalone.papermill_params_file()
            params_dir = found.parent if found is not None else params_dir
            raw_params = standalone.merge(injected, changes)
        else:
            path = standalone.resolve_params_file(namespace.get("params_file") or standalone.DEFAULT_PARAMS_FILE,
                                                  namespace)
            raw_params = standalone.merge(params_mod.load(path), changes)
            params_dir = path.parent
    params = params_mod.normalize(raw_params or {})
    return build_context(params, params_dir=Path(params_dir) if params_dir else None,
                         export_dir=Path(export_dir) if export_dir else None)
