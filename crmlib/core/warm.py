"""Notebook kernels started while the runner still loads and checks the data.

A notebook's worker process spends its first seconds importing papermill, starting a kernel and importing
pandas, matplotlib and the practice's modules in it (about 4-6 s on this project's 2-core machine) before
the notebook's first cell does any work. The runner knows which notebooks will start first (the same rule
that orders them, :func:`crmlib.core.run.schedule` and :func:`crmlib.core.run.next_notebook`), so it starts
their workers with ``--warm`` before loading the data (:func:`crmlib.core.worker.warm_kernel`); each waits
for its job. Later, when a slot waits because the next notebook would not fit in memory beside the one
running (cross-sell and churn on large data), the next notebook's worker is started ahead the same way. A
notebook that finds no such worker starts one as before. Workers nobody took are ended with
their kernels when the run ends, whatever the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from crmlib.core import registry

#: modules every notebook's first cell imports (``from crmlib import report as rp`` and the display functions
#: behind it, ``open_context``), besides its practices' modules; the chart helpers (matplotlib) too
COMMON: tuple[str, ...] = ("crmlib.report.display", "crmlib.report.charts", "crmlib.core.context")
#: the modules of a practice its notebook imports: they import the report layer, matplotlib and seaborn (the
#: practice's package imports nothing until a name of it is used, :mod:`crmlib.lazy`)
PRACTICE_MODULES: tuple[str, ...] = ("report", "plots")


@dataclass
class Warm:
    """One worker started ahead: its process, the file it waits on, its log, and the notebook it was
    started for (it can run any)."""

    proc: subprocess.Popen
    pointer: Path
    log: Path
    stem: str


#: the kernel the project registers (``make venv`` in .venv, ``make kernel`` user-wide) and the notebooks name
KERNEL = "crmlib"


def kernel_name() -> str:
    """The project's kernel when registered, else the interpreter's own ``python3`` kernel.

    Jupyter's data folders are looked at first, as jupyter_client's KernelSpecManager does, without importing
    it (and IPython) into the runner, which starts no kernel itself; the manager decides when none has it.
    """
    from jupyter_core.paths import jupyter_path

    if any((Path(folder) / KERNEL / "kernel.json").is_file() for folder in jupyter_path("kernels")):
        return KERNEL
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:
        return "python3"
    return KERNEL


#: the temporary folders' names: ``crmlib-warm-<runner pid>-<random>``
PREFIX = "crmlib-warm-"


def remove_stale_folders(root: Path | None = None) -> list[Path]:
    """Remove the folders of runners that ended without closing their pool (killed with SIGKILL): their
    pointers and kernel logs. A folder whose runner still runs is kept. Returns what was removed."""
    import psutil

    removed = []
    for folder in Path(root or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        pid = folder.name[len(PREFIX):].split("-", 1)[0]
        if pid.isdigit() and psutil.pid_exists(int(pid)):
            continue  # its runner still runs
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def modules_for(stem: str) -> list[str]:
    """What notebook ``stem``'s first cell imports: :data:`COMMON` and its practices' report and plots modules."""
    return [*COMMON, *(f"{p.package}.{m}" for p in registry.PRACTICES if p.notebook == stem for m in PRACTICE_MODULES)]


class WarmPool:
    """Workers started ahead for ``stems`` (one each), in a temporary folder of their own.

    Use :meth:`take` to hand one a notebook and :meth:`close` (always) to end the ones nobody took.
    """

    def __init__(self, stems: list[str], *, kernel: str, cwd: Path) -> None:
        remove_stale_folders()
        self.folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
        self.free: list[Warm] = []
        self.kernel, self.cwd, self.started = kernel, cwd, 0
        for stem in stems:
            self.add(stem)

    def add(self, stem: str) -> None:
        """Start one more worker ahead, for notebook ``stem``: the runner does so when a slot waits for memory
        (the next notebook cannot run beside the one running), so that notebook's kernel is ready when it may
        start."""
        from crmlib.core.worker import spawn

        pointer, log = self.folder / f"{self.started}.job", self.folder / f"{self.started}.log"
        self.started += 1
        proc = spawn(["--warm", str(pointer), str(os.getpid()), self.kernel, str(self.cwd), *modules_for(stem)], log)
        self.free.append(Warm(proc, pointer, log, stem))

    def has_for(self, stem: str) -> bool:
        """Whether a worker started for ``stem`` is waiting."""
        return any(w.stem == stem for w in self.free)

    def take(self, stem: str, job: Path) -> Warm | None:
        """Give ``job`` (notebook ``stem``'s) to a waiting worker, the one started for ``stem`` if any;
        ``None`` when none is left (or the one left has ended)."""
        while self.free:
            found = next((w for w in self.free if w.stem == stem), self.free[0])
            self.free.remove(found)
            if found.proc.poll() is not None:  # ended before it got work (killed): start one the usual way
                continue
            tmp = found.pointer.with_suffix(".tmp")
            tmp.write_text(str(job), encoding="utf-8")
            os.replace(tmp, found.pointer)
            return found
        return None

    def close(self) -> None:
        """End the workers nobody took (and their kernels) and remove the folder."""
        from crmlib.core.worker import kill_tree

        for warm in self.free:
            kill_tree(warm.proc.pid)
            warm.proc.wait()
        self.free = []
        shutil.rmtree(self.folder, ignore_errors=True)
