"""One notebook in its own process: ``python -m crmlib.core.worker JOB.json``.

The runner starts one worker per notebook (in a new session, so a Ctrl-C in the terminal reaches only the
runner) and ends it, with its kernel and anything the kernel started, by :func:`kill_tree` when the notebook
runs too long or the run is stopped. A worker whose runner disappeared (killed with SIGKILL) ends its own
tree within a second, so nothing is left behind.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from crmlib.core.startup import skip_slow_imports

log = logging.getLogger(__name__)


def kill_tree(pid: int, *, timeout: float = 3.0, include_self: bool = True) -> None:
    """Terminate a process and every process below it (kernels, their workers); kill what is left."""
    try:
        root = psutil.Process(pid)
        procs = root.children(recursive=True) + ([root] if include_self else [])
    except psutil.NoSuchProcess:
        return
    for proc in procs:
        try:
            proc.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=timeout)


def _watch_parent(parent_pid: int) -> None:
    """End this worker's tree when the runner that started it is gone."""
    try:
        parent = psutil.Process(parent_pid)
    except psutil.NoSuchProcess:
        parent = None
    while parent is not None and parent.is_running() and parent.status() != psutil.STATUS_ZOMBIE:
        time.sleep(0.5)
    kill_tree(os.getpid(), timeout=2.0, include_self=False)
    os._exit(143)


#: jupyter_client's error when a kernel process ends before answering its first request (seen on a loaded
#: machine when two kernels start at once); nothing of the notebook has run then
KERNEL_START_FAILED = "Kernel died before replying to kernel_info"
#: how many times such a kernel is started again
START_RETRIES = 1


def execute(job: dict[str, Any]) -> dict[str, Any]:
    """Execute one notebook with papermill; never raises (a failure is a result)."""
    import papermill as pm

    started = time.perf_counter()
    try:
        for attempt in range(1 + START_RETRIES):
            try:
                pm.execute_notebook(job["source"], job["target"], parameters=job["parameters"], progress_bar=False,
                                    log_output=False, cwd=job["cwd"], kernel_name=job["kernel"],
                                    start_timeout=300,  # a busy machine starts kernels slowly
                                    # the kernel listens on loopback only; its start-up chatter is not for readers
                                    extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
                break
            except RuntimeError as err:  # the kernel died while starting: no cell ran, so starting again is safe
                if KERNEL_START_FAILED not in str(err) or attempt == START_RETRIES:
                    raise
                log.warning("%s: the kernel died while starting; starting it again", Path(job["source"]).stem)
        return {"status": "ok", "seconds": time.perf_counter() - started, "error": ""}
    except pm.PapermillExecutionError as err:
        return {"status": "failed", "seconds": time.perf_counter() - started,
                "error": f"{err.ename}: {err.evalue}"}
    except Exception as err:  # a kernel that died, a notebook that cannot be read: still a failure page
        return {"status": "failed", "seconds": time.perf_counter() - started,
                "error": f"{type(err).__name__}: {err}"}


def kernel_peak_mb() -> float:
    """The largest resident memory (MB) any ended child of this process reached: the notebook's kernel.

    Recorded per notebook in ``run.json``, to see which notebooks should not run together on a small machine.
    """
    import resource

    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)  # Linux reports KiB


def main(argv: list[str]) -> int:
    """Run the job described by ``argv[0]`` and write its result beside it (``.result.json``)."""
    skip_slow_imports()  # before papermill (see crmlib.core.startup)
    job_path = Path(argv[0])
    job = json.loads(job_path.read_text(encoding="utf-8"))
    threading.Thread(target=_watch_parent, args=(int(job["parent_pid"]),), daemon=True).start()
    result = execute(job)
    result["kernel_peak_mb"] = kernel_peak_mb()
    tmp = job_path.with_suffix(".result.tmp")
    tmp.write_text(json.dumps(result), encoding="utf-8")
    os.replace(tmp, job_path.with_suffix(".result.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
