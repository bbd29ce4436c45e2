"""Command line: ``python -m crmlib run|validate|init|sample|forget|runs`` (also installed as ``crm``).

The CLI only parses options, calls one function and maps failures to exit codes: 0 success, 1 a notebook
failed or ran over its time limit (its failure page is written), 2 bad params or bad data (one message, no
traceback, nothing written), 75 another run holds the reports folder and ``--no-wait`` was given, 130/143
stopped by SIGINT/SIGTERM (nothing published). See docs/SCHEDULING.md.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from crmlib.core.startup import skip_slow_imports
from crmlib.errors import CrmError

skip_slow_imports()  # before nbformat, papermill and nbconvert are imported (see crmlib.core.startup)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m crmlib", description="Customer-analytics workbook.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="validate the data, run the notebooks, publish the HTML report and exports")
    run.add_argument("params", type=Path, help="params YAML file")
    run.add_argument("--out", type=Path, default=None, help="output folder (default reports/<run-id>/)")
    run.add_argument("--only", nargs="+", metavar="NAME", help="run only these notebooks (names without number)")
    run.add_argument("--as-of", dest="as_of", default=None, metavar="YYYY-MM-DD", help="analysis date")
    run.add_argument("--workers", type=int, default=2, help="notebooks run at once (default 2)")
    run.add_argument("--no-progress", action="store_true",
                     help="one line per notebook instead of a progress bar (the default off a terminal)")
    run.add_argument("--timeout", type=float, default=None, metavar="MINUTES",
                     help="stop a notebook running longer (default report.timeout_minutes, 60)")
    run.add_argument("--engine", choices=("duckdb", "spark"), default=None,
                     help="where the heavy SQL runs (default params key engine, else duckdb; docs/SCALING.md)")
    run.add_argument("--no-wait", dest="wait", action="store_false",
                     help="when another run is writing into the same reports folder, exit 75 instead of waiting")
    val = sub.add_parser("validate", help="load and check the data, print what was found")
    val.add_argument("params", type=Path)
    val.add_argument("--as-of", dest="as_of", default=None, metavar="YYYY-MM-DD")
    val.add_argument("--json", action="store_true", help="print one JSON object (for schedulers and pipelines)")
    forget = sub.add_parser("forget", help="erase customers from stored runs and history; later runs leave them out")
    forget.add_argument("ids", nargs="+", metavar="CUSTOMER_ID")
    forget.add_argument("--reports", type=Path, default=None,
                        help="the reports folder (runs and history.duckdb)")
    forget.add_argument("--params", type=Path, default=None,
                        help="or a params file: its report.dir is the reports folder")
    init = sub.add_parser("init", help="write a commented params file from your exports")
    init.add_argument("exports", type=Path, nargs="+", metavar="EXPORT", help="the exports (.csv .xlsx .parquet)")
    init.add_argument("--out", type=Path, default=Path("params/mine.yaml"), help="params file to write")
    init.add_argument("--language", choices=("tr", "en"), default="tr", help="reports and comments language")
    init.add_argument("--synonyms", type=Path, action="append", default=[],
                      help="a YAML file of your own header names (laid out like crmlib/data/synonyms.yaml)")
    init.add_argument("--force", action="store_true", help="overwrite an existing params file")
    runs = sub.add_parser("runs", help="list the runs of a reports folder, newest first; --keep N prunes")
    runs.add_argument("params", type=Path, nargs="?", help="params YAML file (its report.dir)")
    runs.add_argument("--reports", type=Path, default=None, help="the reports folder (instead of PARAMS)")
    runs.add_argument("--keep", type=int, default=None, metavar="N",
                      help="keep the newest N runs, delete the others (default report.keep_runs; none if unset)")
    sample = sub.add_parser("sample", help="write a synthetic wholesale dataset with truth.csv")
    sample.add_argument("--out", type=Path, required=True)
    sample.add_argument("--customers", type=int, default=5000)
    sample.add_argument("--seed", type=int, default=42)
    return parser


def _validate(args: argparse.Namespace) -> int:
    """``validate``: 0 usable, 2 not (one message); never a traceback, whatever the input."""
    from crmlib.core import check

    try:
        figures = check.summary(args.params, as_of=args.as_of)
    except CrmError:
        raise
    except Exception as err:  # noqa: BLE001 - validate must answer with a message, never a traceback
        logging.getLogger("crmlib").debug("validate failed", exc_info=True)
        raise CrmError(f"the data could not be checked: {type(err).__name__}: {err}. What to do: check the "
                       "files named in the params file; if they open in Excel, report this message with the "
                       "file.") from err
    print(check.as_json(figures) if args.json else check.as_text(figures))
    return 0


def _init(args: argparse.Namespace) -> int:
    """``init``: write the params file, then validate it; 0 when it validates, 2 with the line to edit."""
    from crmlib.core import check
    from crmlib.data.init import line_to_edit, propose_params

    out: Path = args.out
    if out.exists() and not args.force:
        raise CrmError(f"{str(out)!r} already exists. What to do: choose another --out, or add --force to "
                       "overwrite it.")
    try:
        written = propose_params(args.exports, out, language=args.language, synonyms=args.synonyms)
    except CrmError:
        raise
    except Exception as err:  # noqa: BLE001 - init must answer with a message, never a traceback
        raise CrmError(f"the exports could not be read: {type(err).__name__}: {err}. What to do: check that "
                       "each file opens in Excel; export it again as CSV if it does not.") from err
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(written.text, encoding="utf-8")
    print(f"wrote {out}")
    for proposal in written.proposals:
        chosen = ", ".join(f"{role}: {c.header!r}" for role, c in proposal.choices.items())
        print(f"  {proposal.profile.path.name} -> {proposal.table} ({chosen})")
    for message in written.messages:
        print(f"  note: {message}")
    try:
        figures = check.summary(out)
    except CrmError as err:
        line = line_to_edit(str(err), written)
        where = f"edit line {line} of {out}" if line else f"edit {out}"
        print(f"{where}: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - never a traceback
        print(f"edit {out}: the data could not be checked ({type(err).__name__}: {err}).", file=sys.stderr)
        return 2
    print(f"validate: ok: {figures['customers']:,} customers, {figures['orders']:,} orders, net revenue "
          f"{figures['revenue']:,.2f} {figures['currency']}, {figures['first_date']} .. {figures['last_date']}. "
          f"Next: python -m crmlib validate {out}, then python -m crmlib run {out}")
    return 0


def _reports_folder(params_path: Path | None, reports: Path | None) -> Path:
    """The reports folder of ``forget``: ``--reports``, else the params file's ``report.dir``; never the
    current directory by default."""
    from crmlib.core import params as params_mod
    from crmlib.core.run import report_dir
    from crmlib.errors import ParamsError

    if reports is not None:
        return reports
    if params_path is None:
        raise ParamsError("Say which reports folder to erase from: --reports DIR, or --params PARAMS.yaml "
                          "(its report.dir).")
    return report_dir(params_mod.load(params_path), params_path)


def _lone_kernel(only: list[str] | None) -> Any:
    """The kernel of the one notebook ``--only`` names, started before the runner's modules are imported.

    Importing them (pandas, the loader and the report layer: about 1.5 s on one core) comes before the runner
    can read the params; a kernel started now spends its own start-up on the other core meanwhile. With
    several notebooks the runner starts the kernels itself, once the earlier runs' timings say which start
    first. ``None`` too when the runner's modules are imported already (nothing to gain) or the name is
    not a notebook (the runner reports it).
    """
    if not only or "crmlib.core.run" in sys.modules:
        return None
    from crmlib.core import registry, warm

    try:
        stems = registry.select_notebooks(only, available=registry.notebooks_in())
    except CrmError:
        return None
    return warm.WarmPool(stems, kernel=warm.kernel_name(), cwd=registry.NOTEBOOKS_DIR) if len(stems) == 1 else None


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    from crmlib.core.locking import EXIT_LOCKED, RunLocked, RunStopped

    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "run":
            warm = _lone_kernel(args.only)
            from crmlib.core.run import run

            return run(args.params, out=args.out, only=args.only, as_of=args.as_of, workers=args.workers,
                       progress=False if args.no_progress else None, timeout=args.timeout, wait=args.wait,
                       engine=args.engine, command=[sys.executable, "-m", "crmlib", *argv], warm=warm)
        if args.command == "runs":
            from crmlib.core.run import runs_command

            print(runs_command(args.params, reports=args.reports, keep=args.keep))
            return 0
        if args.command == "validate":
            return _validate(args)
        if args.command == "forget":
            from crmlib.core.forget import forget

            print(forget(args.ids, reports=_reports_folder(args.params, args.reports)).text())
            return 0
        if args.command == "init":
            return _init(args)
        if args.command == "sample":
            from crmlib.data.sample import generate

            if args.customers < 1:
                raise CrmError(f"--customers must be at least 1, got {args.customers}.")
            written = generate(args.out, customers=args.customers, seed=args.seed)
            print(f"sample written to {args.out} ({len(written)} files)")
            return 0
    except RunLocked as err:
        print(f"busy: {err}", file=sys.stderr)
        return EXIT_LOCKED
    except CrmError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except RunStopped as stop:
        print(f"stopped ({signal.Signals(stop.signum).name}): nothing was published", file=sys.stderr)
        return stop.exit_code
    except KeyboardInterrupt:
        print("interrupted: nothing was published", file=sys.stderr)
        return 130
    return 2


def cli() -> None:
    """The command (``python -m crmlib``, ``crm``): :func:`main`, then the end of the process.

    The process ends as Python would end it, without the last step: once the other threads have finished
    (:func:`threading._shutdown`, which also waits for the thread pools) and the exit handlers have run
    (logging flushed, file locks released), ``os._exit`` skips tearing down the modules and freeing the run's
    objects one by one, which took about a second after a run at 850,000 customers with nothing left to write.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    threading._shutdown()  # noqa: SLF001 - what the interpreter calls at exit, before the exit handlers
    atexit._run_exitfuncs()  # noqa: SLF001
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)


if __name__ == "__main__":
    cli()
