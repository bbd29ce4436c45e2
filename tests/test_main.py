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
