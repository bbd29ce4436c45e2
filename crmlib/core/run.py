"""One run of the workbook: validate once, build the shared context once, execute the notebooks with
papermill (two at a time), render offline HTML, write the exports and publish atomically.

The run is built in a hidden folder beside its destination and moved into place only when it is complete,
so an interrupted run never damages the last good report; the run history is updated the same way.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import platform
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from crmlib.core import catalog, history, privacy, registry, retention, suppression
from crmlib.core import context as context_mod
from crmlib.core import forget as forget_mod
from crmlib.core import params as params_mod
from crmlib.core.registry import select_notebooks
from crmlib.core.warm import KERNEL, WarmPool, kernel_name  # noqa: F401 - KERNEL: this module's API too
from crmlib.errors import ParamsError
from crmlib.report import exports, formatting, i18n, render

log = logging.getLogger(__name__)

#: notebook stems in run order (from the practice registry)
NOTEBOOKS: tuple[str, ...] = registry.notebooks()
NOTEBOOKS_DIR = registry.NOTEBOOKS_DIR
PACKAGES = ("pandas", "numpy", "pyarrow", "duckdb", "lifetimes", "mlxtend", "pandera", "papermill", "nbconvert",
            "matplotlib", "seaborn", "scikit-learn", "crmlib")


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def execute_notebook(source: str, target: str, parameters: dict[str, Any], cwd: str) -> dict[str, Any]:
    """Execute one notebook with papermill in this process; never raises."""
    from crmlib.core import worker

    return worker.execute({"source": source, "target": target, "parameters": parameters, "cwd": cwd,
                           "kernel": kernel_name()})


def cell_times(executed: Path) -> list[dict[str, Any]]:
    """Seconds of each code cell of an executed notebook (papermill's per-cell ``duration``), named by the
    first line of the cell's code; ``[]`` when the notebook cannot be read."""
    import nbformat

    try:
        nb = nbformat.read(executed, as_version=4)
    except Exception:  # a notebook that never got written: no timings, the failure is reported elsewhere
        return []
    out = []
    for index, cell in enumerate(nb.cells):
        seconds = (cell.get("metadata", {}).get("papermill") or {}).get("duration")
        if cell.cell_type != "code" or seconds is None:
            continue
        first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
        out.append({"cell": index, "name": first[:80], "seconds": round(float(seconds), 3)})
    return out


def _publish(build: Path, out: Path) -> None:
    """Move the finished run into place; an existing folder at ``out`` is replaced as a whole."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        old = out.with_name(f".replaced-{out.name}-{os.getpid()}")
        os.replace(out, old)
        os.replace(build, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(build, out)


def _remove_stale_builds(root: Path) -> None:
    """Remove half-built runs left by a process that was killed (called holding the folder's lock, so no
    other run is building there)."""
    for folder in [*root.glob(".building-*"), *root.glob(".replaced-*")]:
        shutil.rmtree(folder, ignore_errors=True)
    for tmp in root.glob("history.duckdb.tmp*"):
        tmp.unlink(missing_ok=True)


def prepare(params_path: Path, *, as_of: str | None = None,
            engine: str | None = None) -> tuple[dict[str, Any], context_mod.Context]:
    """Load the params and build the validated context (raises ParamsError or DataError); ``engine``
    (``--engine``) overrides the params key."""
    params = load_params(params_path, engine=engine)
    return params, load_context(params, params_path, as_of=as_of)


def load_params(params_path: Path, *, engine: str | None = None) -> dict[str, Any]:
    """The params file, checked, with ``--engine`` over its ``engine`` key."""
    params = params_mod.load(params_path)
    return {**params, "engine": engine} if engine is not None else params


def load_context(params: dict[str, Any], params_path: Path, *, as_of: str | None = None,
                 only_tables: set[str] | None = None, only_columns: dict[str, set[str]] | None = None,
                 defer_summary: bool = False) -> context_mod.Context:
    """The validated context of loaded ``params`` (DuckDB, or Spark with ``engine: spark``); ``only_tables``:
    the optional tables to read (``None``: every one; Spark reads every one); ``only_columns``: per table, the
    columns to read (``None``: every one; Spark reads every one); ``defer_summary``: DuckDB returns once the
    orders are built, the per-customer table still being computed (:func:`crmlib.core.context.build_context`;
    Spark computes it before returning)."""
    if params["engine"] == "spark":  # the order lines read, checked and aggregated on Spark
        from crmlib.core import spark_context

        return spark_context.build_context(params, params_dir=params_path.resolve().parent, as_of=as_of)
    return context_mod.build_context(params, params_dir=params_path.resolve().parent, as_of=as_of,
                                     only_tables=only_tables, only_columns=only_columns,
                                     defer_summary=defer_summary)


def report_dir(params: dict[str, Any], params_path: Path) -> Path:
    """Where runs are published: ``report.dir`` relative to the params file, else ``reports/`` beside it."""
    folder = params["report"].get("dir")
    if folder is not None and (not isinstance(folder, str) or not folder.strip()):
        raise ParamsError(f"Params key 'report.dir' must be a folder path (relative to the params file), got "
                          f"{folder!r}.")
    base = params_path.resolve().parent
    return (base / Path(folder).expanduser()).resolve() if folder else base / "reports"


def timeout_minutes(params: dict[str, Any], given: float | None = None) -> float:
    """The per-notebook time limit: ``--timeout``, else ``report.timeout_minutes`` (60)."""
    value = given if given is not None else params["report"].get("timeout_minutes")
    where = "--timeout" if given is not None else "Params key 'report.timeout_minutes'"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ParamsError(f"{where} must be a number of minutes above 0, got {value!r}.")
    return float(value)


def _new_run_id(root: Path, as_of: pd.Timestamp, created: pd.Timestamp, taken: set[str]) -> str:
    """``<as_of>_<created>``; a counter is added when that name is already a run (called under the lock)."""
    base = f"{as_of:%Y-%m-%d}_{created:%Y%m%d-%H%M%S}"
    run_id, n = base, 1
    while run_id in taken or (root / run_id).exists():
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def run(params_path: str | Path, *, out: str | Path | None = None, only: list[str] | None = None,
        as_of: str | None = None, workers: int = 2, notebooks_dir: Path | None = None,
        progress: bool | None = None, timeout: float | None = None, wait: bool = True,
        command: list[str] | None = None, engine: str | None = None, warm: WarmPool | None = None) -> int:
    """Run the workbook; return 0 when every notebook ran, 1 when one failed.

    Parameters
    ----------
    progress
        A progress bar (``True``), one line per notebook (``False``); ``None``: a bar only on a terminal.
    timeout
        Minutes a notebook may run (``--timeout``); default ``report.timeout_minutes``.
    wait
        When another run holds the reports folder: wait for it (``True``) or raise :class:`RunLocked`.
    engine
        ``--engine``: ``duckdb`` or ``spark``, over the params key ``engine`` (docs/SCALING.md).
    warm
        Kernels started ahead for the notebooks that start first (the CLI starts a lone ``--only`` notebook's
        before it imports this module); the run ends those nobody took, whatever happens. ``None``: the run
        starts them once it knows which notebooks start first.

    Raises
    ------
    ParamsError, DataError
        Before anything is written (the CLI turns them into exit code 2).
    RunLocked
        With ``wait=False`` when another run is publishing into the same folder (exit code 75).
    RunStopped
        On SIGTERM or SIGINT: the notebooks and their kernels are ended, nothing is published.
    """
    from crmlib.core import locking

    timings: dict[str, float] = {}
    started = time.perf_counter()
    params_path = Path(params_path)
    notebooks_dir = Path(notebooks_dir) if notebooks_dir else NOTEBOOKS_DIR
    available = registry.notebooks_in(notebooks_dir)
    given = warm
    try:
        stems = select_notebooks(only, available=available)
        with locking.stop_on_signals():
            return _run_loaded(params_path, out, stems, as_of, workers, notebooks_dir, progress, timeout, wait,
                               command, engine, warm, timings, started)
    finally:
        if given is not None:  # ended here too when the run stopped before taking them over (bad params)
            with locking.signals_deferred():
                given.close()


def _run_loaded(params_path: Path, out: str | Path | None, stems: list[str], as_of: str | None, workers: int,
                notebooks_dir: Path, progress: bool | None, timeout: float | None, wait: bool,
                command: list[str] | None, engine: str | None, warm: WarmPool | None, timings: dict[str, float],
                started: float) -> int:
    """The run from reading its params (:func:`run`, its signals handled)."""
    from crmlib.core import locking

    params = load_params(params_path, engine=engine)
    limit = timeout_minutes(params, timeout)
    keep_runs(params)
    root = Path(out).resolve().parent if out else report_dir(params, params_path)
    # the notebooks that will start first get their kernels now, while the data is loaded (crmlib.core.warm)
    if warm is None:
        warm = WarmPool(first_notebooks(schedule(stems, catalog.list_runs(root), workers=workers), workers),
                        kernel=kernel_name(), cwd=notebooks_dir)
    _warm_up_providers(stems)  # their modules (lifetimes, ~1 s) imported while the data load
    try:
        # only the tables the chosen notebooks read (``run --only``); ``validate`` checks every table
        # and of the customers master only the columns they read (``validate`` and a full run: every column)
        # the per-customer table is computed while the other tables are saved and the notebooks start (those
        # reading it wait for its file)
        ctx = load_context(params, params_path, as_of=as_of, only_tables=registry.tables_read(stems),
                           only_columns=registry.columns_read(stems), defer_summary=True)
        timings["load_and_validate"] = time.perf_counter() - started
        mode = privacy.modes(params["report"])  # owner-only unless report.share_with_group
        privacy.make_dir(root, mode)
        with locking.reports_lock(root, wait=wait, file_mode=mode[1]):
            return _run_locked(params, ctx, params_path, root, out, stems, notebooks_dir, workers,
                               progress, limit, command, timings, started, warm)
    finally:
        with locking.signals_deferred():
            warm.close()


def _warm_up_providers(stems: list[str]) -> threading.Thread:
    """Import, on a daemon thread, the modules of the shared products the notebooks ``stems`` need.

    A failure here is left for the product's own computation to report (it imports the same modules).
    """
    providers = registry.providers()

    def warm_up() -> None:
        for name in products_by_need(stems):
            provider = providers[name]
            try:
                registry.load(provider.build)
                if provider.warm_up:
                    registry.load(provider.warm_up)()
            except Exception as err:  # noqa: BLE001 - reported where the product is computed
                log.debug("warming up %s failed: %s", name, err)

    thread = threading.Thread(target=warm_up, name="providers-warm-up", daemon=True)
    thread.start()
    return thread


def _run_locked(params: dict[str, Any], ctx: context_mod.Context, params_path: Path, root: Path,
                out: str | Path | None, stems: list[str], notebooks_dir: Path, workers: int,
                progress: bool | None, limit: float, command: list[str] | None, timings: dict[str, float],
                started: float, warm: WarmPool | None = None) -> int:
    """The run, holding the reports folder's lock."""
    from crmlib.core import locking

    lang = params["language"]
    mode = privacy.modes(params["report"])  # owner-only unless report.share_with_group
    _remove_stale_builds(root)
    forget_mod.recover(root)  # an erasure interrupted after its commit is finished first
    suppression.apply(ctx, suppression.load(root))  # customers erased on request stay out (counted, not named)
    created = pd.Timestamp.now()
    run_id = _new_run_id(root, ctx.as_of, created, history.run_ids(root / "history.duckdb"))
    out = Path(out).resolve() if out else root / run_id
    build = root / f".building-{run_id}-{os.getpid()}"
    privacy.make_dir(build, mode)
    work = build / "_work"
    export_dir = build / "exports"
    exiting: list[subprocess.Popen] = []  # workers whose notebook ended, still exiting (_execute_all)
    try:
        step = time.perf_counter()
        order = schedule(stems, catalog.list_runs(root), workers=workers)
        # the customers are counted once their table is written (it may still be computed now)
        facts = {"orders": int(len(ctx.orders)), "window": [f"{d:%Y-%m-%d}" for d in ctx.data_window]}

        def snapshot(folder: Path) -> None:  # the earlier runs' records the notebooks compare with
            history.snapshot(root / "history.duckdb", as_of=ctx.as_of, out_dir=folder)

        # the notebooks start now: the shared products are computed (once, reused by every notebook that needs
        # them) and the tables saved meanwhile, what the first notebooks need first; a notebook reading what is
        # not saved yet waits for it. The runner lets go of its tables once the last one is saved. The order lines
        # are saved only when a chosen notebook reads them (run --only; the registry says which): not in run.json,
        # the context folder is the run's scratch, removed before the run is published
        saving = ctx.start_save(work / "context", products=products_by_need(order), folders={"history": snapshot},
                                release=True, order_lines=registry.reads_order_lines(stems))
        timings["prepare"] = time.perf_counter() - step

        step = time.perf_counter()
        footer = i18n.t("run.footer", lang, as_of=formatting.date(ctx.as_of, lang), run_id=run_id,
                        fingerprint=ctx.meta.get("fingerprint", ""))
        rendering = [0.0]

        def page(stem: str, result: dict) -> None:  # each page is rendered while the other notebooks still run
            began = time.perf_counter()
            _render_page(build, stem, result, lang=lang, footer=footer, limit=limit)
            rendering[0] += time.perf_counter() - began

        render.warm_up(lang, after=saving.result)  # nbconvert ready when the first notebook ends
        try:
            results = _execute_all(order, notebooks_dir, build, work, export_dir, params, params_path, workers,
                                   progress, limit=limit, finished=page, warm=warm, saving=saving,
                                   exiting=exiting)
            saving.result()  # done long before, unless no notebook waited for the last file
        finally:
            saving.cancel()  # a run stopped meanwhile: nothing more is computed or written
        timings["notebooks"] = time.perf_counter() - step - rendering[0]
        timings["context_save_alongside"] = saving.seconds.get("total", 0.0)
        facts = {"customers": saving.rows["customer_summary.parquet"], **facts}

        step = time.perf_counter()
        export_failures = _assemble_exports(work / "context" / "staging", export_dir, lang=lang, currency=ctx.currency,
                                            max_rows=params["report"].get("max_list_rows"))
        timings["render_and_exports"] = time.perf_counter() - step + rendering[0]

        staged = _staged_history(work / "context" / "staging" / "history", export_failures)
        shutil.rmtree(work)
        timings["total"] = time.perf_counter() - started
        status = 0 if all(results[s]["status"] == "ok" for s in stems) and not export_failures else 1
        record = {
            "run_id": run_id,
            "created": created.floor("s").isoformat(),
            "created_display": created.strftime("%Y-%m-%d %H:%M"),
            "as_of": f"{ctx.as_of:%Y-%m-%d}",
            "as_of_display": f"{ctx.as_of:%Y-%m-%d}",
            "language": lang,
            "customers_display": f"{facts['customers']:,}",
            "params_file": str(params_path.resolve()),
            "host": socket.gethostname(),
            "command": list(command) if command is not None else [sys.executable, *sys.argv],
            "params": params,
            "data": {"fingerprint": ctx.meta.get("fingerprint"), "files": ctx.meta.get("files"),
                     "rows": ctx.meta.get("rows"), "detected": ctx.meta.get("detected"),
                     **facts},
            "quality": ctx.quality,
            "tables_not_read": tables_not_read(ctx.meta.get("not_read") or [], stems, lang,
                                               columns=ctx.meta.get("columns_not_read")),
            "versions": _versions(),
            "timeout_minutes": limit,
            "timings_seconds": {k: round(v, 2) for k, v in timings.items()},
            "notebooks": [{"name": s, **results[s]} for s in stems],
            "exports": sorted(p.name for p in export_dir.glob("*") if p.is_file()),
            "export_failures": export_failures,
            "exit_status": status,
            "file_modes": privacy.describe(mode),
        }
        (build / "run.json").write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str),
                                        encoding="utf-8")
        render.render_run_index(record, build / "index.html", lang=lang,
                                descriptions=registry.export_descriptions(lang))
        privacy.restrict(build, mode)
        with locking.signals_deferred():  # publish, history and list of runs: all or nothing
            _publish(build, out)
            history.record(root / "history.duckdb", run_id=run_id, as_of=ctx.as_of, created=created,
                           fingerprint=str(ctx.meta.get("fingerprint")), staged=staged, file_mode=mode[1])
            retention.apply(root, params["report"], keep=out)  # report.keep_days: old runs and their history go
            keep = keep_runs(params)
            if keep:
                catalog.prune_runs(root, keep=keep, protect={out.name})
            render.render_reports_index(root, lang=lang, file_mode=mode[1])
    finally:
        with locking.signals_deferred():
            end_workers(exiting)  # their notebooks ended: the workers exited while the run was published
            if build.exists():
                shutil.rmtree(build, ignore_errors=True)
    print(f"report: {out / 'index.html'}", flush=True)
    for stem in stems:
        if results[stem]["status"] != "ok":
            print(f"FAILED {stem}: {results[stem]['error']} (see {out / (stem + '.html')})", file=sys.stderr)
    for failure in export_failures:
        print(f"FAILED export {failure['file']}: {failure['error']} (see {out / 'index.html'})", file=sys.stderr)
    return status


def tables_not_read(names: list[str], stems: list[str], lang: str,
                    columns: dict[str, list[str]] | None = None) -> dict[str, Any] | None:
    """The configured tables this run left unread (its notebooks never read them) and, per table read, the mapped
    columns it left unread (``columns``), with the sentences saying so in the run index; ``None`` when every
    table and column was read."""
    columns = {table: list(found) for table, found in (columns or {}).items() if found}
    if not names and not columns:
        return None
    titles = ", ".join(i18n.t(f"nb.{stem}", lang) if i18n.has(f"nb.{stem}") else stem for stem in stems)
    sentences = []
    if names:
        sentences.append(i18n.t("run.tables_not_read", lang, tables=", ".join(names), notebooks=titles))
    if columns:
        listed = "; ".join(f"{table}: {', '.join(found)}" for table, found in columns.items())
        sentences.append(i18n.t("run.columns_not_read", lang, columns=listed, notebooks=titles))
    return {"tables": list(names), "columns": columns, "notebooks": list(stems), "message": " ".join(sentences)}


def _one_line(err: BaseException) -> str:
    text = " ".join(f"{type(err).__name__}: {err}".split())
    return text if len(text) <= 300 else text[:297] + "..."


def _assemble_exports(staging: Path, export_dir: Path, *, lang: str, max_rows: int | None,
                      currency: str = "TRY") -> list[dict[str, str]]:
    """Write the action-list workbook from the staged lists; a failure is returned, never raised.

    Whatever goes wrong here (a list too large, a full disk, a value Excel refuses) must not cost the run its
    reports: the failure is named in the run index and run.json, and the run exits with 1.
    """
    target = export_dir / "action_lists.xlsx"
    try:
        lists = {p.stem: pd.read_parquet(p) for p in sorted((staging / "action_lists").glob("*.parquet"))}
        exports.write_action_lists(lists, target, lang=lang, currency=currency, max_rows=max_rows)
        return []
    except Exception as err:  # reported in the run index, run.json and one line on stderr
        log.debug("action-list workbook failed", exc_info=True)
        for leftover in export_dir.glob("action_lists*.xlsx"):
            leftover.unlink(missing_ok=True)
        return [{"file": target.name, "error": _one_line(err)}]


def _staged_history(folder: Path, failures: list[dict[str, str]]) -> dict[str, pd.DataFrame]:
    """The frames the notebooks staged for the run history; an unreadable one is a failure, not a crash."""
    staged = {}
    for path in sorted(folder.glob("*.parquet")):
        try:
            staged[path.stem] = pd.read_parquet(path)
        except Exception as err:  # the reports still publish
            failures.append({"file": f"history/{path.name}", "error": _one_line(err)})
    return staged


def _worker_job(stem: str, notebooks_dir: Path, build: Path, work: Path, parameters: dict[str, Any]) -> Path:
    job = work / "jobs" / f"{stem}.json"
    job.parent.mkdir(parents=True, exist_ok=True)
    job.write_text(json.dumps({"source": str(notebooks_dir / f"{stem}.ipynb"), "target": str(build / f"{stem}.ipynb"),
                               "parameters": parameters, "cwd": str(notebooks_dir), "kernel": kernel_name(),
                               "parent_pid": os.getpid()}), encoding="utf-8")
    return job


def products_by_need(order: list[str]) -> list[str]:
    """The shared products the notebooks of ``order`` need, in the order the runner computes them: those of
    the notebook that starts first first, and a notebook's in the order its practices name them in
    ``needs`` (the one its analysis uses first, first).

    None for a lone notebook (``run --only lifetime_value``): nothing is shared, so its kernel computes what
    it needs itself, as in JupyterLab, and the runner does not import the practice's libraries while it loads
    the data (lifetimes: 2 s of CPU when both cores are busy; benchmarks/README.md).
    """
    if len(order) < 2:
        return []
    provided = registry.providers()
    found: list[str] = []
    for stem in order:
        for practice in registry.PRACTICES:
            if practice.notebook == stem:
                found += [name for name in practice.needs if name in provided and name not in found]
    return found


def schedule(stems: list[str], runs: list[dict[str, Any]], *, workers: int = 2) -> list[str]:
    """The order to start the notebooks in: the longest first, so that the last to finish starts early.

    A notebook's expected time is its time in the newest earlier run of the reports folder (``runs``, newest
    first, as :func:`crmlib.core.catalog.list_runs` gives them) that ran it; without one, its practices' share
    in the registry (measured on large data). Ties keep the registry's order. With one worker the order
    does not change the run's length, and the registry's order is kept.
    """
    if workers <= 1 or len(stems) <= 1:
        return list(stems)
    costs = registry.notebook_costs()
    last: dict[str, float] = {}
    for record in runs:
        for entry in record.get("notebooks") or []:
            name, seconds = entry.get("name"), entry.get("seconds")
            if name in stems and name not in last and isinstance(seconds, int | float) and seconds >= 0:
                last[name] = float(seconds)
    if all(stem in last for stem in stems):  # seconds of one folder's runs compare with each other
        expected = last
    else:
        expected = {stem: costs.get(stem, 1.0) for stem in stems}
    return sorted(stems, key=lambda stem: (-expected[stem], stems.index(stem)))


#: notebooks whose kernels' peaks on the 10M-line benchmark (``registry.notebook_memory``) add up to more
#: than this many GB do not run at the same time. There, cross-sell at 4.4 GB and churn (2.9 GB) together took
#: the run's whole process tree to 8.6 GB, when the runner and its two workers held about 1.5 GB more (0.8 GB
#: since the runner trims its memory after saving the context), so they ran one after the other, one core
#: idle. Since cross-sell reads its views one at a time (2.8 GB), the two run together: 6.97 GB for the tree.
#: The peaks grow with the data alike, so the pairs kept apart are the same at any size.
MEMORY_BUDGET_GB = 6.0


def next_notebook(pending: list[str], running: list[str], *, memory: dict[str, float] | None = None,
                  budget: float = MEMORY_BUDGET_GB) -> str | None:
    """The first of ``pending`` that may start beside ``running``, or ``None`` to wait for one to end.

    A notebook may start when the expected peaks (``memory``, default the registry's) of the running ones and
    its own stay within ``budget``; with nothing running, the first pending always starts.
    """
    if not pending:
        return None
    if not running:
        return pending[0]
    memory = registry.notebook_memory() if memory is None else memory
    used = sum(memory.get(stem, 1.0) for stem in running)
    return next((stem for stem in pending if used + memory.get(stem, 1.0) <= budget), None)


def first_notebooks(order: list[str], workers: int) -> list[str]:
    """The notebooks of ``order`` that start at once when the run's notebooks begin (as
    :func:`next_notebook` picks them, ``workers`` at a time)."""
    first: list[str] = []
    pending = list(order)
    while pending and len(first) < max(1, workers):
        stem = next_notebook(pending, first)
        if stem is None:
            break
        first.append(stem)
        pending.remove(stem)
    return first


def _render_page(build: Path, stem: str, result: dict, *, lang: str, footer: str, limit: float) -> None:
    """Render notebook ``stem``'s page into ``build``, or its failure page; ``result`` gains title and html."""
    title = i18n.t(f"nb.{stem}", lang)
    result.update(title=title, html=f"{stem}.html")
    if result["status"] == "ok":
        try:
            render.render_html(build / f"{stem}.ipynb", build / f"{stem}.html", title=title, lang=lang,
                               footer=footer, links=render.run_links(lang))
            return
        except Exception as err:
            result.update(status="failed", error=f"rendering failed: {type(err).__name__}: {err}")
    executed = build / f"{stem}.ipynb"
    minutes = formatting.number(limit, lang, digits=0 if float(limit).is_integer() else 2)
    error = i18n.t("run.stopped_after", lang, minutes=minutes) if result.get("timed_out") else result["error"]
    render.render_failure(executed if executed.exists() and not result.get("timed_out") else None,
                          build / f"{stem}.html", title=title, lang=lang, error=error, links=render.run_links(lang))


def _execute_all(stems: list[str], notebooks_dir: Path, build: Path, work: Path, export_dir: Path,
                 params: dict[str, Any], params_path: Path, workers: int, progress: bool | None, *,
                 limit: float = 60.0, finished: Callable[[str, dict], None] | None = None,
                 warm: WarmPool | None = None, saving: context_mod.Saving | None = None,
                 exiting: list[subprocess.Popen]) -> dict[str, dict]:
    """Execute the notebooks, ``workers`` at a time, each in its own process (see :mod:`crmlib.core.worker`).

    ``stems`` are started in the order given, each by a worker of ``warm`` while one is left (its kernel
    started already), else by a new worker. ``finished(stem, result)`` is called as each notebook ends
    (the runner renders its page then). A notebook running longer than ``limit`` minutes is ended with its
    kernel (``timed_out``). When this function is left early (SIGTERM, SIGINT), every worker and kernel is
    ended before it returns, as when ``saving`` (the context still being saved alongside) fails: its error is
    raised then. A notebook is finished once its worker wrote the result (its kernel shut down); the worker's
    interpreter may still be exiting then: such workers are added to ``exiting``, for the caller to wait for
    (:func:`end_workers`) once the run is published.
    """
    from crmlib.core import locking
    from crmlib.core.worker import kill_tree, spawn

    export_dir.mkdir(parents=True, exist_ok=True)
    parameters = {"params_file": str(params_path.resolve()), "context_dir": str(work / "context"),
                  "export_dir": str(export_dir)}
    if progress is None:
        progress = sys.stderr.isatty()
    from tqdm import tqdm

    bar = tqdm(total=len(stems), desc="notebooks", unit="nb", file=sys.stderr) if progress else None
    results: dict[str, dict] = {}
    pending = list(stems)
    running: dict[str, tuple[subprocess.Popen, float, Path]] = {}
    try:
        while pending or running:
            while pending and len(running) < max(1, workers):
                stem = next_notebook(pending, list(running))
                if stem is None:  # the others would not fit beside the running ones: wait for one to end
                    break
                pending.remove(stem)
                job = _worker_job(stem, notebooks_dir, build, work, parameters)
                taken = warm.take(stem, job) if warm is not None else None
                if taken is not None:
                    proc, log_path = taken.proc, taken.log
                else:
                    log_path = job.with_suffix(".log")
                    proc = spawn([str(job)], log_path)
                running[stem] = (proc, time.monotonic(), job, log_path)
            if warm is not None and pending and len(running) < max(1, workers) and not warm.has_for(pending[0]):
                warm.add(pending[0])  # a slot waits for memory: the next notebook's kernel starts meanwhile
            time.sleep(0.1)
            if saving is not None and saving.error() is not None:  # a product the run cannot do without
                raise saving.error()
            for stem, (proc, began, job, log_path) in list(running.items()):
                seconds = time.monotonic() - began
                done = job.with_suffix(".result.json")
                # the worker writes its result (atomically) once its kernel is shut down: the notebook is
                # finished then, while the worker's interpreter still exits (waited for below)
                if proc.poll() is not None or done.exists():
                    if done.exists():
                        result = json.loads(done.read_text(encoding="utf-8"))
                        if proc.poll() is None:
                            exiting.append(proc)
                    else:
                        tail = log_path.read_text(encoding="utf-8", errors="replace")[-500:]
                        result = {"status": "failed", "seconds": seconds,
                                  "error": f"the notebook's process ended with code {proc.returncode}: {tail}"}
                elif seconds > limit * 60:
                    kill_tree(proc.pid)
                    proc.wait()
                    result = {"status": "failed", "seconds": seconds, "timed_out": True,
                              "error": f"stopped after {limit:g} minutes (report.timeout_minutes or --timeout)"}
                else:
                    continue
                del running[stem]
                result["cells"] = cell_times(build / f"{stem}.ipynb")
                results[stem] = result
                if finished is not None:
                    finished(stem, result)
                if bar is not None:
                    bar.set_postfix_str(f"{stem} {result['status']}")
                    bar.update(1)
                else:
                    print(f"{stem} {result['status']} {result['seconds']:.0f}s", flush=True)
    finally:
        with locking.signals_deferred():  # a second Ctrl-C does not interrupt the clean-up
            for proc, *_ in running.values():
                kill_tree(proc.pid)
                proc.wait()
            if bar is not None:
                bar.close()
    return results


def end_workers(procs: list[subprocess.Popen], *, timeout: float = 30.0) -> None:
    """Wait for workers that wrote their result to exit; end any still there after ``timeout`` seconds."""
    from crmlib.core.worker import kill_tree

    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(proc.pid)
            proc.wait()


def keep_runs(params: dict[str, Any], given: int | None = None) -> int | None:
    """How many runs to keep: ``--keep``, else ``report.keep_runs``; ``None`` keeps every run."""
    value = given if given is not None else params["report"].get("keep_runs")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        where = "--keep" if given is not None else "Params key 'report.keep_runs'"
        raise ParamsError(f"{where} must be a whole number of runs (1 or more) or null, got {value!r}.")
    return value


def runs_command(params_path: str | Path | None, *, reports: str | Path | None = None,
                 keep: int | None = None) -> str:
    """``python -m crmlib runs``: list the runs of the reports folder and prune to the newest ``keep``."""
    from crmlib.core import locking

    params = params_mod.load(Path(params_path)) if params_path else None
    if reports is None and params is None:
        raise ParamsError("Give a params file (its report.dir is the reports folder) or --reports DIR.")
    root = Path(reports).resolve() if reports else report_dir(params, Path(params_path))
    keep = keep_runs(params or {"report": {}}, keep)
    if not root.is_dir():
        raise ParamsError(f"The reports folder {str(root)!r} does not exist: nothing has been published there.")
    lines = []
    if keep:
        with locking.reports_lock(root, wait=True):
            removed = catalog.prune_runs(root, keep=keep)
            remaining = catalog.list_runs(root)
            if removed and remaining:  # the list of runs in the newest run's language and file modes
                newest = remaining[0]
                mode = privacy.modes(share_with_group=bool((newest.get("file_modes") or {}).get("shared_with_group")))
                render.render_reports_index(root, lang=newest.get("language") or "en", file_mode=mode[1])
        lines.append(f"removed {len(removed)} run(s), kept the newest {keep}" +
                     (": " + ", ".join(removed) if removed else ""))
    return "\n".join([f"reports: {root}", catalog.describe(catalog.list_runs(root)), *lines])


def validate(params_path: str | Path, *, as_of: str | None = None) -> str:
    """Load and check the data; return a plain report of what was found (raises on unusable data)."""
    from crmlib.core import check

    return check.as_text(check.summary(params_path, as_of=as_of))
