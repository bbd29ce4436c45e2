"""Kernels started ahead: the notebook runs in the kernel that imported its modules while the data loaded;
workers nobody took end with their kernels."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from crmlib.core import run as run_mod
from crmlib.core import warm as warm_mod
from crmlib.core import worker

PROBE = "colorsys"  # a module neither ipykernel nor papermill imports


def _notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(f"import sys\nprint({PROBE!r} in sys.modules, x)")]
    nb.metadata["kernelspec"] = {"name": run_mod.kernel_name(), "language": "python", "display_name": "Python 3"}
    nb.metadata["language_info"] = {"name": "python"}
    path = folder / "probe.ipynb"
    nbformat.write(nb, path)
    return path


def _job(folder: Path, source: Path) -> Path:
    job = folder / "jobs" / "probe.json"
    job.parent.mkdir()
    job.write_text(json.dumps({"source": str(source), "target": str(folder / "out.ipynb"), "parameters": {"x": 7},
                               "cwd": str(folder), "kernel": run_mod.kernel_name(), "parent_pid": os.getpid()}),
                   encoding="utf-8")
    return job


def _printed(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for o in nb.cells[-1].outputs).strip()


def test_a_warm_worker_runs_its_job_in_the_kernel_that_imported_the_modules(tmp_path, monkeypatch):
    monkeypatch.setattr(warm_mod, "modules_for", lambda stem: [PROBE])
    pool = warm_mod.WarmPool(["probe"], kernel=run_mod.kernel_name(), cwd=tmp_path)
    try:
        job = _job(tmp_path, _notebook(tmp_path))
        taken = pool.take("probe", job)
        assert taken is not None and pool.take("probe", job) is None  # one worker, taken once
        assert taken.proc.wait(timeout=240) == 0
        result = json.loads(job.with_suffix(".result.json").read_text(encoding="utf-8"))
        assert result["status"] == "ok", result
        assert _printed(tmp_path / "out.ipynb") == "True 7"  # the warm-up import, then the injected parameter
        assert not [c for c in psutil.Process().children(recursive=True) if c.pid == taken.proc.pid]
    finally:
        pool.close()


def test_without_warm_up_the_probe_module_is_not_there(tmp_path):
    job = _job(tmp_path, _notebook(tmp_path))
    result = worker.execute(json.loads(job.read_text(encoding="utf-8")))
    assert result["status"] == "ok", result
    assert _printed(tmp_path / "out.ipynb") == "False 7"  # so the test above shows the warm kernel was used


def test_close_ends_untaken_workers_and_their_kernels(tmp_path):
    pool = warm_mod.WarmPool(["00_overview", "04_cross_sell"], kernel=run_mod.kernel_name(), cwd=tmp_path)
    procs = [w.proc for w in pool.free]
    deadline = time.monotonic() + 60
    kernels: list[psutil.Process] = []
    while time.monotonic() < deadline and len(kernels) < 2:  # wait until both kernels run
        kernels = [c for p in procs for c in psutil.Process(p.pid).children(recursive=True)]
        time.sleep(0.2)
    assert len(kernels) == 2
    folder = pool.folder
    pool.close()
    assert all(p.poll() is not None for p in procs)
    psutil.wait_procs(kernels, timeout=10)
    assert not [k for k in kernels if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]
    assert not folder.exists()


def test_the_first_notebooks_are_those_the_runner_starts_first():
    order = ["04_cross_sell", "02_churn_early_warning", "03_lifetime_value", "00_overview"]
    # cross-sell and churn fit the memory budget together (registry figures): the two start at once
    assert run_mod.first_notebooks(order, 2) == ["04_cross_sell", "02_churn_early_warning"]
    assert run_mod.first_notebooks(order[:1] + order[2:], 2) == ["04_cross_sell", "03_lifetime_value"]
    assert run_mod.first_notebooks(order, 1) == ["04_cross_sell"]
    assert run_mod.first_notebooks(["00_overview"], 2) == ["00_overview"]
    assert run_mod.first_notebooks([], 2) == []


def test_modules_for_a_notebook_are_its_practices_report_and_plots_modules():
    assert warm_mod.modules_for("03_lifetime_value") == [*warm_mod.COMMON, "crmlib.clv.report", "crmlib.clv.plots"]
    assert "crmlib.loyalty.plots" in warm_mod.modules_for("05_loyalty_and_service")
    assert "crmlib.service.report" in warm_mod.modules_for("05_loyalty_and_service")


#: after the warm-up imports, the notebook's own import lines must import nothing new of these
HEAVY = re.compile(r"^(crmlib|seaborn|matplotlib|scipy|sklearn|IPython|statsmodels)(\.|$)")
AFTER_WARM_UP = """
import ast, json, re, sys
modules, notebook = json.loads(sys.argv[1]), sys.argv[2]
for name in modules:
    __import__(name)
before = set(sys.modules)
cells = json.load(open(notebook, encoding="utf-8"))["cells"]
for cell in cells:
    if cell["cell_type"] == "code":
        for node in ast.parse("".join(cell["source"])).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                exec(compile(ast.Module([node], []), notebook, "exec"), {})
print(json.dumps(sorted(set(sys.modules) - before)))
"""


@pytest.mark.parametrize("stem", run_mod.NOTEBOOKS)
def test_the_warm_up_imports_everything_the_notebook_imports(stem):
    """The kernel started ahead imports the notebook's modules, with matplotlib and seaborn behind them, so its
    first cell imports nothing heavy (the practices' packages import their modules only when used)."""
    notebook = run_mod.NOTEBOOKS_DIR / f"{stem}.ipynb"
    done = subprocess.run([sys.executable, "-c", AFTER_WARM_UP, json.dumps(warm_mod.modules_for(stem)),
                           str(notebook)], capture_output=True, text=True, check=True, cwd=run_mod.NOTEBOOKS_DIR,
                          env={**os.environ, "PYTHONPATH": str(Path(warm_mod.__file__).parents[2])})
    assert [m for m in json.loads(done.stdout) if HEAVY.match(m)] == []


def test_a_worker_added_later_waits_for_its_notebook_and_ends_with_close(tmp_path):
    pool = warm_mod.WarmPool([], kernel=run_mod.kernel_name(), cwd=tmp_path)
    try:
        assert not pool.has_for("02_churn_early_warning")
        pool.add("02_churn_early_warning")
        assert pool.has_for("02_churn_early_warning") and not pool.has_for("00_overview")
        proc = pool.free[0].proc
        assert proc.poll() is None  # waiting for its job
    finally:
        pool.close()
    assert proc.poll() is not None and pool.free == []


def test_folders_of_killed_runners_are_removed_and_running_ones_kept(tmp_path):
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = tmp_path / f"{warm_mod.PREFIX}{gone.pid}-abc"
    alive = tmp_path / f"{warm_mod.PREFIX}{os.getpid()}-def"
    for folder in (dead, alive):
        folder.mkdir()
        (folder / "0.log").write_text("kernel log", encoding="utf-8")
    other = tmp_path / "unrelated"
    other.mkdir()
    assert warm_mod.remove_stale_folders(tmp_path) == [dead]
    assert not dead.exists() and alive.exists() and other.exists()
