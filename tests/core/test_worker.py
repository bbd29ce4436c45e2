"""The notebook worker: a kernel that dies while starting is started once more; any other failure is a result."""

from __future__ import annotations

import papermill as pm
import pytest

from crmlib.core import worker

JOB = {"source": "notebooks/01_segmentation.ipynb", "target": "out.ipynb", "parameters": {}, "cwd": ".",
       "kernel": "crmlib"}


def _flaky(failures: list[Exception]):
    calls = []

    def run(*args, **kwargs):
        calls.append(args)
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]

    return run, calls


def test_a_kernel_that_dies_while_starting_is_started_again(monkeypatch):
    run, calls = _flaky([RuntimeError(worker.KERNEL_START_FAILED)])
    monkeypatch.setattr(pm, "execute_notebook", run)
    assert worker.execute(dict(JOB))["status"] == "ok"
    assert len(calls) == 2


@pytest.mark.parametrize("failures, expected", [
    ([RuntimeError(worker.KERNEL_START_FAILED)] * 2, worker.KERNEL_START_FAILED),  # twice: a failure page
    ([RuntimeError("something else")], "RuntimeError: something else"),  # not a start failure: no retry
])
def test_other_failures_and_a_second_start_failure_are_results(monkeypatch, failures, expected):
    run, calls = _flaky(failures)
    monkeypatch.setattr(pm, "execute_notebook", run)
    result = worker.execute(dict(JOB))
    assert result["status"] == "failed" and expected in result["error"]
    assert len(calls) == len(failures)


def test_the_kernel_s_peak_memory_is_the_largest_ended_child():
    import subprocess
    import sys

    before = worker.kernel_peak_mb()
    subprocess.run([sys.executable, "-c", "b = bytearray(300 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"],
                   check=True)
    assert worker.kernel_peak_mb() >= max(before, 300)
