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
import subprocess
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


def spawn(args: list[str], log: Path) -> subprocess.Popen:
    """Start ``python -m crmlib.core.worker ARGS`` (a job, or ``--warm ...``), its output going to ``log``.

    The worker runs in a new session, so a Ctrl-C in the terminal reaches only the runner, which ends the
    worker's tree itself (:func:`kill_tree`).
    """
    with open(log, "wb") as log_file:
        return subprocess.Popen([sys.executable, "-m", "crmlib.core.worker", *args], stdin=subprocess.DEVNULL,
                                stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)


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


#: the kernel's command-line options: it listens on loopback only; its start-up chatter is not for readers
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]


def execute(job: dict[str, Any], *, km: Any = None) -> dict[str, Any]:
    """Execute one notebook with papermill; never raises (a failure is a result).

    ``km``: a kernel manager whose kernel is started already (:func:`warm_kernel`); papermill then runs the
    notebook in that kernel, and this function shuts it down at the end.
    """
    import papermill as pm

    started = time.perf_counter()
    try:
        for attempt in range(1 + START_RETRIES):
            try:
                pm.execute_notebook(job["source"], job["target"], parameters=job["parameters"], progress_bar=False,
                                    log_output=False, cwd=job["cwd"], kernel_name=job["kernel"],
                                    start_timeout=300,  # a busy machine starts kernels slowly
                                    extra_arguments=KERNEL_ARGUMENTS, **({"km": km} if km is not None else {}))
                break
            except RuntimeError as err:  # the kernel died while starting: no cell ran, so starting again is safe
                if KERNEL_START_FAILED not in str(err) or attempt == START_RETRIES:
                    raise
                log.warning("%s: the kernel died while starting; starting it again", Path(job["source"]).stem)
                _shutdown(km)  # a kernel started ahead that died: papermill starts a new one
                km = None
        return {"status": "ok", "seconds": time.perf_counter() - started, "error": ""}
    except pm.PapermillExecutionError as err:
        return {"status": "failed", "seconds": time.perf_counter() - started,
                "error": f"{err.ename}: {err.evalue}"}
    except Exception as err:  # a kernel that died, a notebook that cannot be read: still a failure page
        return {"status": "failed", "seconds": time.perf_counter() - started,
                "error": f"{type(err).__name__}: {err}"}
    finally:
        _shutdown(km)


def _shutdown(km: Any) -> None:
    """Shut down a kernel this worker started ahead (:func:`warm_kernel`); ``None`` stays ``None``."""
    if km is not None:
        try:
            km.shutdown_kernel(now=True)
        except Exception as err:  # already gone: nothing to end
            log.debug("kernel shutdown: %s", err)


def warm_kernel(kernel: str, cwd: str, modules: list[str]) -> Any:
    """Start a notebook kernel ahead and import ``modules`` in it (what the notebook's first cell imports);
    ``None`` when it cannot be started (the notebook then starts its own, as before).

    The runner starts one such worker per notebook that will run first while it still loads and checks the
    data, so the kernel's start and its imports (several seconds) overlap that work. The imports are the ones
    the notebook does itself, so the notebook runs as it would in a new kernel.
    """
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=kernel)
    try:
        km.start_kernel(cwd=cwd, extra_arguments=KERNEL_ARGUMENTS)
        client = km.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=300)
            code = "\n".join(f"import {name}" for name in modules)
            reply = client.execute_interactive(code, timeout=300, store_history=False, output_hook=lambda _: None)
            if reply["content"].get("status") != "ok":  # the notebook's own import will show the error
                log.warning("warm-up imports failed in the kernel: %s", reply["content"].get("evalue"))
        finally:
            client.stop_channels()
        return km
    except Exception as err:
        log.warning("the kernel could not be started ahead (%s); the notebook starts its own", err)
        _shutdown(km)
        return None


def wait_for_job(pointer: Path, *, poll: float = 0.05) -> Path:
    """Wait until the runner writes the path of this worker's job into ``pointer``; return that path."""
    while True:
        if pointer.exists():
            text = pointer.read_text(encoding="utf-8").strip()
            if text:
                return Path(text)
        time.sleep(poll)


def kernel_peak_mb() -> float:
    """The largest resident memory (MB) any ended child of this process reached: the notebook's kernel.

    Recorded per notebook in ``run.json``, to see which notebooks should not run together on a small machine.
    """
    import resource

    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)  # Linux reports KiB


def main(argv: list[str]) -> int:
    """Run the job described by ``argv[0]`` and write its result beside it (``.result.json``).

    ``--warm POINTER PARENT_PID KERNEL CWD [MODULE ...]``: start the kernel and import the modules first,
    then wait for the runner to write the job's path into ``POINTER`` (see :func:`warm_kernel`).
    """
    skip_slow_imports()  # before papermill (see crmlib.core.startup)
    km = None
    if argv[0] == "--warm":
        pointer, parent, kernel, cwd, *modules = argv[1:]
        threading.Thread(target=_watch_parent, args=(int(parent),), daemon=True).start()
        import papermill  # noqa: F401  (imported while the runner still loads the data)

        km = warm_kernel(kernel, cwd, modules)
        job_path = wait_for_job(Path(pointer))
        job = json.loads(job_path.read_text(encoding="utf-8"))
    else:
        job_path = Path(argv[0])
        job = json.loads(job_path.read_text(encoding="utf-8"))
        threading.Thread(target=_watch_parent, args=(int(job["parent_pid"]),), daemon=True).start()
    result = execute(job, km=km)
    result["kernel_peak_mb"] = kernel_peak_mb()
    tmp = job_path.with_suffix(".result.tmp")
    tmp.write_text(json.dumps(result), encoding="utf-8")
    os.replace(tmp, job_path.with_suffix(".result.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
