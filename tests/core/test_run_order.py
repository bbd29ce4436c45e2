"""The order the runner starts notebooks in (longest first) and pages rendered as notebooks finish."""

from __future__ import annotations

import json

from crmlib.core import registry
from crmlib.core.run import schedule

STEMS = list(registry.notebooks())


def _run(seconds: dict[str, float], created: str) -> dict:
    return {"created": created, "notebooks": [{"name": k, "seconds": v} for k, v in seconds.items()]}


def test_first_run_starts_the_registry_s_costliest_notebooks_first():
    costs = registry.notebook_costs()
    order = schedule(STEMS, [])
    assert sorted(order) == sorted(STEMS)
    assert [costs[s] for s in order] == sorted((costs[s] for s in STEMS), reverse=True)
    assert order[0] == "04_cross_sell"  # the longest on large data


def test_the_newest_earlier_run_s_times_decide():
    newest = _run({s: float(i) for i, s in enumerate(STEMS)}, "2026-11-30T10:00:00")
    older = _run({s: float(100 - i) for i, s in enumerate(STEMS)}, "2026-11-29T10:00:00")
    assert schedule(STEMS, [newest, older]) == list(reversed(STEMS))


def test_a_notebook_missing_from_earlier_runs_falls_back_to_the_registry():
    partial = _run({"02_churn_early_warning": 500.0}, "2026-11-30T10:00:00")  # a --only run
    assert schedule(STEMS, [partial]) == schedule(STEMS, [])


def test_times_are_taken_per_notebook_from_the_newest_run_that_has_it():
    only_churn = _run({"02_churn_early_warning": 1.0}, "2026-11-30T10:00:00")
    full = _run({s: 10.0 + i for i, s in enumerate(STEMS)}, "2026-11-29T10:00:00")
    order = schedule(STEMS, [only_churn, full])
    assert order[-1] == "02_churn_early_warning"
    assert order[0] == STEMS[-1]


def test_one_worker_or_one_notebook_keeps_the_order():
    assert schedule(STEMS, [], workers=1) == STEMS
    assert schedule(["01_segmentation"], []) == ["01_segmentation"]


def test_a_run_renders_each_page_and_keeps_the_registry_order_in_the_record(sample_params, tmp_path):
    from crmlib.core.run import run

    out = tmp_path / "reports" / "first"
    only = ["overview", "segmentation"]
    assert run(sample_params, out=out, only=only, progress=False, workers=2) == 0
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    names = [n["name"] for n in record["notebooks"]]
    assert names == ["00_overview", "01_segmentation"]  # the report keeps the registry's order
    assert all((out / f"{n}.html").stat().st_size > 10_000 for n in names)
    assert record["timings_seconds"]["render_and_exports"] > 0


def test_notebooks_too_large_together_wait_for_each_other():
    from crmlib.core.run import MEMORY_BUDGET_GB, next_notebook

    memory = {"big": 4.4, "large": 2.9, "small": 1.1}  # cross-sell, churn and segmentation before cross-sell
    assert memory["big"] + memory["large"] > MEMORY_BUDGET_GB  # read its views one at a time
    assert next_notebook(["big", "small"], ["large"], memory=memory) == "small"  # the one that fits starts
    assert next_notebook(["big"], ["large"], memory=memory) is None  # waits
    assert next_notebook(["big"], [], memory=memory) == "big"  # alone, anything starts
    assert next_notebook([], []) is None
    assert next_notebook(["a", "b"], ["c"], memory={"a": 3, "b": 1, "c": 3}, budget=4.5) == "b"


def test_every_pair_of_notebooks_fits_the_budget_on_the_benchmark():
    """The registry's measured peaks (10M lines): cross-sell (2.8 GB) and churn (3.0 GB), the largest, may run
    together, so no core waits idle for memory; the whole tree then peaked at 6.97 GB, within the 8 GB goal."""
    from crmlib.core.run import MEMORY_BUDGET_GB, first_notebooks

    memory = registry.notebook_memory()
    big = sorted(memory, key=memory.get)[-2:]
    assert sorted(big) == ["02_churn_early_warning", "04_cross_sell"]
    assert sum(memory[s] for s in big) <= MEMORY_BUDGET_GB
    assert sorted(first_notebooks(schedule(STEMS, []), 2)) == sorted(big)  # the two longest start at once


def test_the_first_run_s_order_keeps_two_too_large_together_apart_on_two_workers():
    from crmlib.core.run import next_notebook

    memory = {**registry.notebook_memory(), "04_cross_sell": 4.4}  # cross-sell's peak before its views went
    order, running, pairs = schedule(STEMS, []), [], []
    pending = list(order)
    while pending:  # start as the runner does, ending the oldest running notebook when none may start
        stem = next_notebook(pending, running, memory=memory)
        if stem is None or len(running) == 2:
            running.pop(0)
            continue
        pending.remove(stem)
        running.append(stem)
        pairs.append(tuple(sorted(running)))
    assert ("02_churn_early_warning", "04_cross_sell") not in pairs
    assert any(len(p) == 2 for p in pairs)
