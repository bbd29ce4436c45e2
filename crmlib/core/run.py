"""One run of the workbook: validate once, build the shared context once, execute the notebooks with
papermill (two at a time), render offline HTML, write the exports and publish atomically.

The run is built in a hidden folder beside its destination and moved into place only when it is complete,
so an interrupted run never damages the last good report; the run history is updated the same way.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib.metadata
import json
import logging
import multiprocessing
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from crmlib.core import context as context_mod
from crmlib.core import forget as forget_mod
from crmlib.core import history, privacy, registry, retention, suppression
from crmlib.core import params as params_mod
from crmlib.errors import ParamsError, did_you_mean
from crmlib.report import exports, formatting, i18n, render

log = logging.getLogger(__name__)

#: notebook stems in run order (from the practice registry)
NOTEBOOKS: tuple[str, ...] = registry.notebooks()
NOTEBOOKS_DIR = context_mod.REPO_ROOT / "notebooks"
#: the kernel the project registers (``make venv`` in .venv, ``make kernel`` user-wide) and the notebooks name
KERNEL = "crmlib"
PACKAGES = ("pandas", "numpy", "pyarrow", "duckdb", "lifetimes", "mlxtend", "pandera", "papermill", "nbconvert",
            "matplotlib", "seaborn", "scikit-learn", "crmlib")


def select_notebooks(only: list[str] | None, *, available: tuple[str, ...] = NOTEBOOKS) -> list[str]:
    """Map ``--only`` names (without their number) to notebook stems; unknown names are a ParamsError."""
    if not only:
        return list(available)
    by_name = {stem.split("_", 1)[1]: stem for stem in available}
    chosen = []
    for name in only:
        key = name.removesuffix(".ipynb")
        stem = by_name.get(key) or (key if key in available else None)
        if stem is None:
            close = did_you_mean(key, list(by_name))
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ParamsError(f"--only {name!r} is not a notebook.{hint} Choose from: {', '.join(by_name)}.")
        if stem not in chosen:
            chosen.append(stem)
    return [stem for stem in available if stem in chosen]


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def kernel_name() -> str:
    """The project's kernel when registered, else the interpreter's own ``python3`` kernel."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:
        return "python3"
    return KERNEL


def execute_notebook(source: str, target: str, parameters: dict[str, Any], cwd: str) -> dict[str, Any]:
    """Execute one notebook with papermill (in a worker process); never raises."""
    import papermill as pm

    started = time.perf_counter()
    try:
        pm.execute_notebook(source, target, parameters=parameters, progress_bar=False, log_output=False,
                            cwd=cwd, kernel_name=kernel_name(), start_timeout=300,  # a busy machine starts kernels slowly
                            # the kernel listens on loopback only; its start-up chatter is not for readers
                            extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
        return {"status": "ok", "seconds": time.perf_counter() - started, "error": ""}
    except pm.PapermillExecutionError as err:
        return {"status": "failed", "seconds": time.perf_counter() - started,
                "error": f"{err.ename}: {err.evalue}"}
    except Exception as err:  # a kernel that died, a notebook that cannot be read: still a failure page
        return {"status": "failed", "seconds": time.perf_counter() - started,
                "error": f"{type(err).__name__}: {err}"}


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
    """Remove half-built runs left by a process that was killed (its pid no longer runs)."""
    for folder in root.glob(".building-*"):
        try:
            pid = int(folder.name.rsplit("-", 1)[1])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (ValueError, IndexError, PermissionError):
            continue


def prepare(params_path: Path, *, as_of: str | None = None) -> tuple[dict[str, Any], context_mod.Context]:
    """Load the params and build the validated context (raises ParamsError or DataError)."""
    params = params_mod.load(params_path)
    ctx = context_mod.build_context(params, params_dir=params_path.resolve().parent, as_of=as_of)
    return params, ctx


def run(params_path: str | Path, *, out: str | Path | None = None, only: list[str] | None = None,
        as_of: str | None = None, workers: int = 2, notebooks_dir: Path | None = None,
        progress: bool = True) -> int:
    """Run the workbook; return 0 when every notebook ran, 1 when one failed.

    Raises
    ------
    ParamsError, DataError
        Before anything is written (the CLI turns them into exit code 2).
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()
    params_path = Path(params_path)
    notebooks_dir = Path(notebooks_dir) if notebooks_dir else NOTEBOOKS_DIR
    available = tuple(p.stem for p in sorted(notebooks_dir.glob("[0-9][0-9]_*.ipynb")))
    stems = select_notebooks(only, available=available)
    params, ctx = prepare(params_path, as_of=as_of)
    timings["load_and_validate"] = time.perf_counter() - started
    lang = params["language"]

    created = pd.Timestamp.now().floor("s")
    run_id = f"{ctx.as_of:%Y-%m-%d}_{created:%Y%m%d-%H%M%S}"
    out = Path(out) if out else Path.cwd() / "reports" / run_id
    out = out.resolve()
    root = out.parent
    mode = privacy.modes(params["report"])  # owner-only unless report.share_with_group
    privacy.make_dir(root, mode)
    _remove_stale_builds(root)
    forget_mod.recover(root)  # an erasure interrupted after its commit is finished first
    suppression.apply(ctx, suppression.load(root))  # customers erased on request stay out (counted, not named)
    build = root / f".building-{out.name}-{os.getpid()}"
    if build.exists():
        shutil.rmtree(build)
    privacy.make_dir(build, mode)
    work = build / "_work"
    export_dir = build / "exports"
    try:
        step = time.perf_counter()
        for name, provider in registry.providers().items():
            if not registry.notebooks_needing(name) & set(stems):
                continue
            try:  # computed once here, reused by every notebook that needs it
                ctx.product(name)
            except Exception as err:
                if not provider.tolerant:
                    raise
                # the notebooks that need it explain what is missing
                log.warning("%s could not be computed: %s", name, err)
                ctx.meta[f"{name}_error"] = f"{type(err).__name__}: {err}"
        history.snapshot(root / "history.duckdb", as_of=ctx.as_of, out_dir=work / "context" / "history")
        ctx.save(work / "context")
        timings["prepare"] = time.perf_counter() - step

        step = time.perf_counter()
        results = _execute_all(stems, notebooks_dir, build, work, export_dir, params, params_path, workers,
                               progress)
        timings["notebooks"] = time.perf_counter() - step

        step = time.perf_counter()
        footer = i18n.t("run.footer", lang, as_of=formatting.date(ctx.as_of, lang), run_id=run_id,
                        fingerprint=ctx.meta.get("fingerprint", ""))
        for stem in stems:
            result = results[stem]
            title = i18n.t(f"nb.{stem}", lang)
            result.update(title=title, html=f"{stem}.html")
            if result["status"] == "ok":
                try:
                    render.render_html(build / f"{stem}.ipynb", build / f"{stem}.html", title=title, lang=lang,
                                       footer=footer)
                    continue
                except Exception as err:
                    result.update(status="failed", error=f"rendering failed: {type(err).__name__}: {err}")
            executed = build / f"{stem}.ipynb"
            render.render_failure(executed if executed.exists() else None, build / f"{stem}.html", title=title,
                                  lang=lang, error=result["error"])
        export_failures = _assemble_exports(work / "context" / "staging", export_dir, lang=lang, currency=ctx.currency,
                                            max_rows=params["report"].get("max_list_rows"))
        timings["render_and_exports"] = time.perf_counter() - step

        staged = _staged_history(work / "context" / "staging" / "history", export_failures)
        shutil.rmtree(work)
        timings["total"] = time.perf_counter() - started
        status = 0 if all(results[s]["status"] == "ok" for s in stems) and not export_failures else 1
        record = {
            "run_id": run_id,
            "created": created.isoformat(),
            "created_display": created.strftime("%Y-%m-%d %H:%M"),
            "as_of": f"{ctx.as_of:%Y-%m-%d}",
            "as_of_display": f"{ctx.as_of:%Y-%m-%d}",
            "customers_display": f"{len(ctx.customer_summary):,}",
            "params_file": str(params_path.resolve()),
            "params": params,
            "data": {"fingerprint": ctx.meta.get("fingerprint"), "files": ctx.meta.get("files"),
                     "rows": ctx.meta.get("rows"), "detected": ctx.meta.get("detected"),
                     "customers": int(len(ctx.customer_summary)), "orders": int(len(ctx.orders)),
                     "window": [f"{d:%Y-%m-%d}" for d in ctx.data_window]},
            "quality": ctx.quality,
            "versions": _versions(),
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
        _publish(build, out)
        history.record(root / "history.duckdb", run_id=run_id, as_of=ctx.as_of, created=created,
                       fingerprint=str(ctx.meta.get("fingerprint")), staged=staged, file_mode=mode[1])
        retention.apply(root, params["report"], keep=out)  # report.keep_days: old runs and their history go
        render.render_reports_index(root, lang=lang, file_mode=mode[1])
    finally:
        if build.exists():
            shutil.rmtree(build, ignore_errors=True)
    print(f"report: {out / 'index.html'}")
    for stem in stems:
        if results[stem]["status"] != "ok":
            print(f"FAILED {stem}: {results[stem]['error']} (see {out / (stem + '.html')})", file=sys.stderr)
    for failure in export_failures:
        print(f"FAILED export {failure['file']}: {failure['error']} (see {out / 'index.html'})", file=sys.stderr)
    return status


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


def _execute_all(stems: list[str], notebooks_dir: Path, build: Path, work: Path, export_dir: Path,
                 params: dict[str, Any], params_path: Path, workers: int, progress: bool) -> dict[str, dict]:
    export_dir.mkdir(parents=True, exist_ok=True)
    base = {"params_file": str(params_path.resolve()), "context_dir": str(work / "context"),
            "export_dir": str(export_dir)}
    results: dict[str, dict] = {}
    from tqdm import tqdm

    bar = tqdm(total=len(stems), desc="notebooks", unit="nb", disable=not progress, file=sys.stderr)
    mp = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=max(1, workers), mp_context=mp) as pool:
        futures = {pool.submit(execute_notebook, str(notebooks_dir / f"{stem}.ipynb"), str(build / f"{stem}.ipynb"),
                               base, str(notebooks_dir)): stem for stem in stems}
        for future in cf.as_completed(futures):
            stem = futures[future]
            results[stem] = future.result()
            results[stem]["cells"] = cell_times(build / f"{stem}.ipynb")
            bar.set_postfix_str(f"{stem} {results[stem]['status']}")
            bar.update(1)
    bar.close()
    return results


def validate(params_path: str | Path, *, as_of: str | None = None) -> str:
    """Load and check the data; return a plain report of what was found (raises on unusable data)."""
    from crmlib.core import check

    return check.as_text(check.summary(params_path, as_of=as_of))
