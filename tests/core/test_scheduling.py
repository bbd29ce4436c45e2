"""Scheduled runs: reports under report.dir from any folder, per-notebook time limit, clean SIGTERM, one lock
per reports folder, re-runs of an as-of date, plain logs, list and prune runs.

Most tests use two tiny notebooks (the real parameters and context cells, one heading, one history record)
so that they measure the runner, not the analyses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import nbformat
import psutil
import pytest
from filelock import FileLock

from crmlib.core import catalog, locking
from crmlib.core.run import run
from tests.conftest import ROOT, write_sample_params

PROBE = textwrap.dedent("""\
    import pandas as pd
    from IPython.display import HTML, display
    display(HTML(f"<h1>probe {ctx.as_of:%Y-%m-%d}</h1>"))
    ctx.stage_history("probe", pd.DataFrame({"customer_id": ctx.customer_summary["customer_id"].head(7)}))
""")


def _tiny_notebooks(folder: Path, *, hang: bool = False) -> Path:
    """``00_overview`` and ``01_segmentation`` (which sleeps for an hour when ``hang``) with the real first cells."""
    real = nbformat.read(ROOT / "notebooks" / "00_overview.ipynb", as_version=4)
    code = [c for c in real.cells if c.cell_type == "code"]
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in (("00_overview", PROBE), ("01_segmentation",
                                              "import time\ntime.sleep(3600)" if hang else PROBE)):
        nb = nbformat.v4.new_notebook(metadata=real.metadata)
        nb.cells = [nbformat.v4.new_code_cell(code[0].source, metadata={"tags": ["parameters"]}),
                    nbformat.v4.new_code_cell("from crmlib.core.context import open_context\n"
                                              "ctx = open_context(namespace=globals())"),
                    nbformat.v4.new_code_cell(body)]
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def _params(small: Path, folder: Path, *, report: dict | None = None, **extra) -> Path:
    """A params file in ``folder`` whose runs go to ``folder/reports`` unless ``report`` says otherwise."""
    folder.mkdir(parents=True, exist_ok=True)
    report = {"mask_pii": False, "dir": "reports", **(report or {})}
    return write_sample_params(small, folder / "weekly.yaml", report=report, **extra)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != locking.LOCK_NAME}


def _strays(marker: Path) -> list[psutil.Process]:
    """Processes (other than this one) working in or naming ``marker``: workers, kernels, their children."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "cwd"]):
        if proc.pid == os.getpid():
            continue
        try:
            text = " ".join(proc.info["cmdline"] or []) + " " + (proc.info["cwd"] or "")
        except psutil.Error:
            continue
        if str(marker) in text:
            found.append(proc)
    return found


def _no_strays(marker: Path, timeout: float = 20.0) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while (left := _strays(marker)) and time.monotonic() < deadline:
        time.sleep(0.3)
    return left


def _run_script(params: Path, notebooks: Path, *only: str) -> list[str]:
    """``python -m crmlib run PARAMS [--only ONLY...]`` on the notebooks of ``notebooks``."""
    args = ["run", str(params), *(["--only", *only] if only else [])]
    code = ("import sys, pathlib; import crmlib.core.run as r; from crmlib.__main__ import main; "
            f"r.NOTEBOOKS_DIR = pathlib.Path({str(notebooks)!r}); sys.exit(main({args!r}))")
    return [sys.executable, "-c", code]


def _history(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# -- where reports go; logs for schedulers -------------------------------------------------------------------
def test_a_cron_run_from_root_with_a_minimal_environment_writes_under_report_dir(small, tmp_path):
    params = _params(small, tmp_path / "conf", report={"dir": "../published"})
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(["env", "-i", *[f"{k}={v}" for k, v in env.items()], sys.executable, "-m", "crmlib",
                             "run", str(params), "--only", "overview"], cwd="/", capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    published = tmp_path / "published"
    runs = catalog.list_runs(published)
    assert len(runs) == 1 and (published / "history.duckdb").exists() and (published / "index.html").exists()
    lines = result.stdout.splitlines()
    assert "\r" not in result.stdout + result.stderr
    assert lines[0].startswith("00_overview ok ") and lines[0].endswith("s")
    assert lines[-1] == f"report: {published / runs[0]['folder'] / 'index.html'}"
    assert "Traceback" not in result.stderr and not list(Path("/").glob("reports/*" + runs[0]["folder"]))
    record = runs[0]
    assert record["params_file"] == str(params) and record["host"] == os.uname().nodename
    assert record["command"][-4:] == ["run", str(params), "--only", "overview"]
    assert record["language"] == "en"


def test_default_report_dir_is_reports_beside_the_params_file_and_default_yaml_points_at_the_project():
    import yaml

    from crmlib.core import params as params_mod
    from crmlib.core.run import report_dir

    default = ROOT / "params" / "default.yaml"
    assert report_dir(params_mod.load(default), default) == ROOT / "reports"
    assert yaml.safe_load(default.read_text(encoding="utf-8"))["report"]["dir"] == "../reports"
    raw = params_mod.load(default)
    raw["report"]["dir"] = None
    assert report_dir(raw, Path("/srv/crm/weekly.yaml")) == Path("/srv/crm/reports")


# -- time limit and clean ends -------------------------------------------------------------------------------
#: the time limit (minutes) of the run that hangs: long enough for the tiny overview notebook on a busy machine
LIMIT = 0.3


@pytest.fixture(scope="module")
def timed_out(small, tmp_path_factory) -> tuple[int, Path, Path, Path, float]:
    """One Turkish run whose second notebook hangs until the :data:`LIMIT` stops it (exit code, params file,
    reports folder, notebooks folder, seconds taken); shared by the timeout and the page-links tests."""
    base = tmp_path_factory.mktemp("timed_out")
    params = _params(small, base / "conf", language="tr")
    notebooks = _tiny_notebooks(base / "nb", hang=True)
    started = time.monotonic()
    code = run(params, notebooks_dir=notebooks, progress=False, timeout=LIMIT)
    return code, params, base / "conf" / "reports", notebooks, time.monotonic() - started


def test_a_hung_notebook_is_stopped_by_the_timeout_and_the_others_publish(timed_out):
    code, _, reports, notebooks, seconds = timed_out
    assert code == 1 and seconds < 300
    (out,) = [r for r in catalog.list_runs(reports)]
    folder = reports / out["folder"]
    page = (folder / "01_segmentation.html").read_text(encoding="utf-8")
    assert "0,30 dakika sonra durduruldu" in page  # run.stopped_after: the limit in Turkish format, two digits
    assert "<h1>probe" in (folder / "00_overview.html").read_text(encoding="utf-8")
    assert {nb["name"]: nb["status"] for nb in out["notebooks"]} == {"00_overview": "ok", "01_segmentation": "failed"}
    assert out["notebooks"][1]["timed_out"] and LIMIT * 60 <= out["notebooks"][1]["seconds"] < 300
    assert not _no_strays(notebooks)


def test_sigterm_mid_run_stops_quietly_publishes_nothing_and_leaves_no_process(small, tmp_path):
    params = _params(small, tmp_path / "conf")
    notebooks = _tiny_notebooks(tmp_path / "nb", hang=True)
    assert run(params, notebooks_dir=_tiny_notebooks(tmp_path / "ok"), only=["overview"], progress=False) == 0
    reports = tmp_path / "conf" / "reports"
    before = _tree(reports)
    process = subprocess.Popen(_run_script(params, notebooks), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not any(
            "ipykernel" in " ".join(p.cmdline()) for p in psutil.Process(process.pid).children(recursive=True)):
        time.sleep(0.3)
    time.sleep(2)  # the hung notebook is running now
    os.kill(process.pid, signal.SIGTERM)
    stopped = time.monotonic()
    out, err = process.communicate(timeout=60)
    assert time.monotonic() - stopped < 15
    assert process.returncode == 143, err
    assert err.strip() == "stopped (SIGTERM): nothing was published"
    assert _tree(reports) == before and not list(reports.glob(".building-*"))
    assert not _no_strays(notebooks)


def test_the_cli_says_one_line_on_sigterm(small, tmp_path):
    """The command line's own handling: exit 143 and one line, no traceback."""
    from crmlib.__main__ import main

    params = _params(small, tmp_path / "conf")

    def stop(*args, **kwargs):
        raise locking.RunStopped(signal.SIGTERM)

    import crmlib.core.run as run_mod

    original = run_mod.run
    run_mod.run = stop
    try:
        assert main(["run", str(params)]) == 143
    finally:
        run_mod.run = original


def test_a_killed_runner_leaves_no_process_behind(small, tmp_path):
    params = _params(small, tmp_path / "conf")
    notebooks = _tiny_notebooks(tmp_path / "nb", hang=True)
    process = subprocess.Popen(_run_script(params, notebooks), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not any(
            "ipykernel" in " ".join(p.cmdline()) for p in psutil.Process(process.pid).children(recursive=True)):
        time.sleep(0.3)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not _no_strays(notebooks)


# -- runs that cannot collide --------------------------------------------------------------------------------
def test_two_runs_started_together_are_two_runs_in_history_and_index(small, tmp_path):
    params = _params(small, tmp_path / "conf")
    notebooks = _tiny_notebooks(tmp_path / "nb")
    procs = [subprocess.Popen(_run_script(params, notebooks, "overview"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=900) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outputs]
    assert sum("waiting: another run is writing into" in err for _, err in outputs) == 1
    reports = tmp_path / "conf" / "reports"
    runs = catalog.list_runs(reports)
    assert len(runs) == 2 and runs[0]["run_id"] != runs[1]["run_id"]
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert all(f"{r['folder']}/index.html" in index for r in runs)
    assert {r[0] for r in _history(reports / "history.duckdb", "SELECT run_id FROM runs")} == \
        {r["run_id"] for r in runs}


def test_no_wait_exits_75_when_the_folder_is_busy(small, tmp_path):
    params = _params(small, tmp_path / "conf")
    reports = tmp_path / "conf" / "reports"
    reports.mkdir()
    with FileLock(str(reports / locking.LOCK_NAME)):
        result = subprocess.run([sys.executable, "-m", "crmlib", "run", str(params), "--no-wait", "--only",
                                 "overview"],
                                capture_output=True, text=True, timeout=600)
    assert result.returncode == locking.EXIT_LOCKED == 75
    assert result.stderr.startswith("busy: Another run is writing into") and "Traceback" not in result.stderr
    assert [p.name for p in reports.iterdir()] == [locking.LOCK_NAME]


# -- the same as_of twice; list and prune --------------------------------------------------------------------
def test_the_same_as_of_twice_leaves_history_as_after_one_run(small, tmp_path):
    params = _params(small, tmp_path / "conf")
    notebooks = _tiny_notebooks(tmp_path / "nb")
    db = tmp_path / "conf" / "reports" / "history.duckdb"
    assert run(params, notebooks_dir=notebooks, only=["overview"], progress=False, as_of="2026-05-31") == 0
    once = _history(db, "SELECT as_of, customer_id FROM probe ORDER BY 1, 2")
    assert len(once) == 7
    assert run(params, notebooks_dir=notebooks, only=["overview"], progress=False, as_of="2026-05-31") == 0
    assert _history(db, "SELECT as_of, customer_id FROM probe ORDER BY 1, 2") == once
    assert len(_history(db, "SELECT DISTINCT run_id FROM probe")) == 1
    latest = max(r["run_id"] for r in catalog.list_runs(db.parent))
    assert _history(db, "SELECT DISTINCT run_id FROM probe") == [(latest,)]  # the newest run wins


def test_keep_runs_prunes_folders_list_and_history_runs(small, tmp_path):
    params = _params(small, tmp_path / "conf", report={"keep_runs": 2})
    notebooks = _tiny_notebooks(tmp_path / "nb")
    for as_of in ("2026-04-30", "2026-05-31", "2026-06-15"):
        assert run(params, notebooks_dir=notebooks, only=["overview"], progress=False, as_of=as_of) == 0
    reports = tmp_path / "conf" / "reports"
    runs = catalog.list_runs(reports)
    assert [r["as_of"] for r in runs] == ["2026-06-15", "2026-05-31"]
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert "2026-04-30_" not in index and all(r["folder"] in index for r in runs)
    assert {r[0] for r in _history(reports / "history.duckdb", "SELECT run_id FROM runs")} == \
        {r["run_id"] for r in runs}
    assert len(_history(reports / "history.duckdb", "SELECT DISTINCT as_of FROM probe")) == 3
    listing = subprocess.run([sys.executable, "-m", "crmlib", "runs", str(params), "--keep", "1"],
                             capture_output=True, text=True, timeout=600)
    assert listing.returncode == 0, listing.stderr
    assert "removed 1 run(s)" in listing.stdout and str(params) in listing.stdout
    assert [r["as_of"] for r in catalog.list_runs(reports)] == ["2026-06-15"]


# -- stakeholders ---------------------------------------------------------------------------------------------
def test_every_page_links_to_its_run_and_the_list_which_shows_language_and_params(timed_out):
    _, params, reports, _, _ = timed_out
    (folder,) = [p for p in reports.iterdir() if p.is_dir()]
    for page in ("00_overview.html", "01_segmentation.html"):  # a report page and a failure page
        text = (folder / page).read_text(encoding="utf-8")
        assert "href='index.html'" in text or 'href="index.html"' in text, page
        assert "../index.html" in text and "Bu çalıştırmanın raporları" in text, page
    listing = (reports / "index.html").read_text(encoding="utf-8")
    assert "Türkçe" in listing and str(params) in listing and "Parametre dosyası" in listing
