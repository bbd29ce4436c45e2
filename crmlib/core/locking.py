"""Runs that cannot collide and end cleanly: one lock per reports folder, SIGTERM/SIGINT as exceptions.

Two runs into the same reports folder (the English and Turkish reports from one crontab line, a manual run
during the scheduled one) take turns: the second waits for the first's lock (``filelock``, released by the
operating system even when a run is killed), or with ``--no-wait`` stops at once with exit code 75.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from crmlib.errors import CrmError

LOCK_NAME = ".crmlib.lock"
EXIT_LOCKED = 75  # EX_TEMPFAIL: try again later


class RunLocked(CrmError):
    """Another run holds the reports folder and the caller chose not to wait."""


class RunStopped(BaseException):
    """SIGTERM or SIGINT arrived: the run ends without publishing (a BaseException, like KeyboardInterrupt,
    so that no ``except Exception`` inside a run swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports a process ended by that signal."""
        return 128 + self.signum


_state = threading.local()


def _handler(signum: int, frame: object) -> None:
    if getattr(_state, "deferred", 0):
        _state.pending = signum
        return
    raise RunStopped(signum)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGINT into :class:`RunStopped` inside the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = [signal.SIGINT, signal.SIGTERM]
    previous = {signum: signal.getsignal(signum) for signum in names}
    for signum in names:
        signal.signal(signum, _handler)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGTERM/SIGINT until the block is done (publishing is all or nothing), then stop."""
    _state.deferred = getattr(_state, "deferred", 0) + 1
    try:
        yield
    finally:
        _state.deferred -= 1
        pending = getattr(_state, "pending", None)
        if pending is not None and not _state.deferred:
            _state.pending = None
            raise RunStopped(pending)


@contextlib.contextmanager
def reports_lock(root: Path, *, wait: bool = True, file_mode: int = 0o600) -> Iterator[FileLock]:
    """Hold the lock of the reports folder ``root``; wait for it (with a message) or raise :class:`RunLocked`.

    The lock file gets ``file_mode`` (owner-only unless ``report.share_with_group``)."""
    lock = FileLock(str(Path(root) / LOCK_NAME), mode=file_mode)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if not wait:
            raise RunLocked(f"Another run is writing into {str(root)!r} (lock {LOCK_NAME}). Nothing was done; "
                            "run again later, or without --no-wait to wait for it.") from None
        print(f"waiting: another run is writing into {root}", file=sys.stderr, flush=True)
        lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
