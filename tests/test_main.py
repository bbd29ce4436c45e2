"""The command's end of process (crmlib/__main__.py ``cli``): exit code, threads and exit handlers kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import atexit, sys, threading, time
from pathlib import Path
import crmlib.__main__ as cli_module

folder = Path(sys.argv[1])

def main():
    def late():
        time.sleep(0.3)
        (folder / "thread.txt").write_text("done")
    threading.Thread(target=late).start()  # not a daemon: the process waits for it
    atexit.register(lambda: (folder / "atexit.txt").write_text("ran"))
    print("printed before the end", end="")  # no newline: flushed by cli, not by the interpreter
    return 3

cli_module.main = main
cli_module.cli()
"""


def test_cli_ends_with_main_code_after_threads_and_exit_handlers(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 3, done.stderr
    assert done.stdout == "printed before the end"
    assert (tmp_path / "thread.txt").read_text() == "done"
    assert (tmp_path / "atexit.txt").read_text() == "ran"


def test_cli_bad_arguments_exit_2_with_usage(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "crmlib", "no-such-command"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "usage" in done.stderr and "Traceback" not in done.stderr


LONE = """
import sys
import crmlib.__main__ as cli_module
pool = cli_module._lone_kernel(sys.argv[1:])
print(pool is not None and [w.stem for w in pool.free], "crmlib.core.run" in sys.modules)
if pool:
    pool.close()
"""


def _lone(*names: str) -> str:
    return subprocess.run([sys.executable, "-c", LONE, *names], capture_output=True, text=True, timeout=120,
                          check=True).stdout.strip()


def test_lone_notebook_gets_its_kernel_before_the_runner_is_imported() -> None:
    assert _lone("lifetime_value") == "['03_lifetime_value'] False"
    assert _lone("lifetime_value", "churn_early_warning") == "False False"  # the runner decides which first
    assert _lone("no_such_notebook") == "False False"  # the runner reports the name


def test_run_with_bad_params_ends_the_kernel_started_ahead(tmp_path: Path) -> None:
    import tempfile
    import time

    import psutil

    proc = subprocess.Popen([sys.executable, "-m", "crmlib", "run", str(tmp_path / "missing.yaml"), "--only",
                             "lifetime_value"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "Traceback" not in err, err
    assert "missing.yaml" in err
    deadline = time.monotonic() + 10
    while True:  # the worker started ahead (its command line names the runner's pid) is gone, and its folder
        left = [p for p in psutil.process_iter(["cmdline"])
                if {"--warm", str(proc.pid)} <= set(p.info["cmdline"] or [])]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not left, "a worker started ahead outlived its run"
    assert not list(Path(tempfile.gettempdir()).glob(f"crmlib-warm-{proc.pid}-*"))
