"""The context saved while the notebooks already run: a notebook reading a file or product the runner has not
saved yet waits for it; a product that fails reaches the notebook as the error it would meet computing it
itself; a failed or killed run never leaves a notebook waiting."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pandas as pd
import psutil
import pytest

from crmlib.core import context as context_mod
from crmlib.core.context import SAVE_FAILED, SaveFailed, load_saved
from crmlib.errors import DataError
from tests.conftest import ROOT, write_sample_params


@pytest.fixture
def ctx(sample_ctx):
    """A copy of the sample's context without its products (the session's context stays as it is)."""
    meta = {k: v for k, v in sample_ctx.meta.items() if k != "clv_model"}  # fitted by another test, maybe
    return dataclasses.replace(sample_ctx, meta=meta, _clv=None, _segments=None, context_dir=None)


def _slow(monkeypatch, target: str, seconds: float, *, error: Exception | None = None,
          until: Path | None = None) -> list[float]:
    """Make the provider function ``target`` (``module:function``) take ``seconds`` longer (or raise ``error``
    after them), and with ``until`` also wait for that file to exist (at most two minutes: a loaded machine
    starts kernels slowly); returns the list of times each call ended."""
    import importlib

    module_name, name = target.split(":")
    module = importlib.import_module(module_name)
    original, ended = getattr(module, name), []

    def slow(*args, **kwargs):
        time.sleep(seconds)
        deadline = time.monotonic() + 120
        while until is not None and not until.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        try:
            if error is not None:
                raise error
            return original(*args, **kwargs)
        finally:
            ended.append(time.time())

    monkeypatch.setattr(module, name, slow)
    return ended


def test_a_notebook_reads_the_tables_at_once_and_waits_for_a_product_still_computed(ctx, tmp_path, monkeypatch):
    ended = _slow(monkeypatch, "crmlib.segmentation.rfm:segment_table", 2.0)
    folder = tmp_path / "ctx"
    saving = ctx.start_save(folder, products=["segments"])
    reader = load_saved(folder)  # as the notebook's kernel opens it, at once
    summary = reader.customer_summary
    assert not ended and not (folder / "segments.parquet").exists()  # the tables came first
    pd.testing.assert_frame_equal(summary, ctx.customer_summary)
    segments = reader.segments()  # waits for the runner's
    assert len(ended) == 1 and time.time() >= ended[0]  # computed once, by the runner
    saving.result()
    pd.testing.assert_frame_equal(segments, ctx._segments, check_dtype=False)  # text read back as str
    meta = json.loads((folder / "context.json").read_text(encoding="utf-8"))
    assert context_mod.PENDING not in meta  # nothing is waited for once the save is done
    assert {f"write {name}" for name in ("customer_summary.parquet", "orders.parquet", "order_lines.parquet",
                                         "segments.parquet")} <= set(saving.seconds)


def test_a_table_still_being_written_is_waited_for(ctx, tmp_path, monkeypatch):
    original = context_mod.Saving._write_table

    def late(self, frame, path):
        if path.name == "orders.parquet":
            time.sleep(1.5)
        original(self, frame, path)

    monkeypatch.setattr(context_mod.Saving, "_write_table", late)
    folder = tmp_path / "ctx"
    saving = ctx.start_save(folder)
    reader = load_saved(folder)
    assert not (folder / "orders.parquet").exists()
    pd.testing.assert_frame_equal(reader.orders, ctx.orders)
    saving.result()


def test_a_tolerant_product_that_fails_reaches_the_notebook_as_its_own_error(ctx, tmp_path, monkeypatch):
    from crmlib.clv.report import fitted_model

    ended = _slow(monkeypatch, "crmlib.clv.model:fit_for_run", 1.0, error=DataError("no repeat buyers here"))
    folder = tmp_path / "ctx"
    saving = ctx.start_save(folder, products=["clv_model"])
    reader = load_saved(folder)
    with pytest.raises(DataError, match="no repeat buyers here"):  # as without the runner: computed here
        reader.clv_model()
    assert len(ended) == 2
    saving.result()  # tolerant: the run goes on
    assert (folder / "clv_model.json.error").read_text(encoding="utf-8") == "DataError: no repeat buyers here"
    model, problem = fitted_model(load_saved(folder))  # the notebook's degradation: a sentence, no model
    assert model is None and "customers" in problem


def test_a_saved_model_is_read_not_fitted_again(ctx, tmp_path, monkeypatch):
    ended = _slow(monkeypatch, "crmlib.clv.model:fit_for_run", 0.5)
    folder = tmp_path / "ctx"
    saving = ctx.start_save(folder, products=["clv_model"])
    model = load_saved(folder).clv_model()
    saving.result()
    assert len(ended) == 1 and model.to_dict() == ctx.clv_model().to_dict()


def test_a_product_the_run_cannot_do_without_stops_the_waiting_reader_and_the_run(ctx, tmp_path, monkeypatch):
    _slow(monkeypatch, "crmlib.segmentation.rfm:segment_table", 0.5, error=DataError("segments refused"))
    folder = tmp_path / "ctx"
    saving = ctx.start_save(folder, products=["segments"])
    reader = load_saved(folder)
    with pytest.raises(SaveFailed, match="segments refused"):
        reader.segments()
    assert isinstance(saving.error(), DataError)
    with pytest.raises(DataError, match="segments refused"):
        saving.result()


def test_a_cancelled_save_leaves_no_reader_waiting(ctx, tmp_path, monkeypatch):
    _slow(monkeypatch, "crmlib.segmentation.rfm:segment_table", 1.0)
    folder = tmp_path / "ctx"
    saving = ctx.start_save(folder, products=["segments", "clv_model"])
    reader = load_saved(folder)
    saving.cancel()  # the run was stopped while the segments were computed
    assert (folder / SAVE_FAILED).exists() and not (folder / "clv_model.json").exists()
    with pytest.raises(SaveFailed):
        reader.clv_model()
    saving.result()  # a cancel is not a failure


def test_a_reader_stops_waiting_when_the_writing_run_is_gone(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    folder = tmp_path / "ctx"
    folder.mkdir()
    pending = context_mod.Pending(folder, ["orders.parquet"], gone.pid)
    began = time.monotonic()
    with pytest.raises(SaveFailed, match="has ended"):
        context_mod.Saved(folder / "orders.parquet", pending).read()
    assert time.monotonic() - began < 5
    context_mod.Saved(tmp_path / "elsewhere.parquet", pending)  # a file not pending is not waited for


# -- through the runner ------------------------------------------------------------------------------------
BODY = textwrap.dedent("""\
    import os, pathlib, time
    import pandas as pd
    started = int(time.time() * 1000)
    if os.environ.get("PIPELINE_TEST_STARTED"):  # tells the test's slowed runner that the notebook runs
        pathlib.Path(os.environ["PIPELINE_TEST_STARTED"]).write_text(str(started))
    segments = ctx.segments()
    ctx.export_csv("probe", pd.DataFrame({"started": [started], "got": [int(time.time() * 1000)],
                                          "rows": [len(segments)]}))
""")


def _segments_notebook(folder: Path) -> Path:
    """``01_segmentation`` with the real first cells, then one that reads the segment table at once; beside it
    a ``05_loyalty_and_service`` of its parameters cell alone, so that two notebooks need the segments and the
    runner computes them (a lone notebook's kernel computes its products itself)."""
    real = nbformat.read(ROOT / "notebooks" / "01_segmentation.ipynb", as_version=4)
    code = [c for c in real.cells if c.cell_type == "code"]
    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook(metadata=real.metadata)
    nb.cells = [nbformat.v4.new_code_cell(code[0].source, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("from crmlib.core.context import open_context\n"
                                          "ctx = open_context(namespace=globals())"),
                nbformat.v4.new_code_cell(BODY)]
    nbformat.write(nb, folder / "01_segmentation.ipynb")
    other = nbformat.v4.new_notebook(metadata=real.metadata)
    other.cells = [nbformat.v4.new_code_cell(code[0].source, metadata={"tags": ["parameters"]})]
    nbformat.write(other, folder / "05_loyalty_and_service.ipynb")
    return folder


def test_the_notebook_starts_before_the_runner_has_its_product(small, tmp_path, monkeypatch):
    from crmlib.core.run import run

    marker = tmp_path / "notebook-started"
    monkeypatch.setenv("PIPELINE_TEST_STARTED", str(marker))
    # in this process (the runner's): the segments take 6 s and end only once the notebook has started
    ended = _slow(monkeypatch, "crmlib.segmentation.rfm:segment_table", 6.0, until=marker)
    params = write_sample_params(small, tmp_path / "p.yaml", report={"mask_pii": False})
    out = tmp_path / "reports" / "r"
    assert run(params, out=out, notebooks_dir=_segments_notebook(tmp_path / "nb"), progress=False) == 0
    probe = pd.read_csv(out / "exports" / "probe.csv", encoding="utf-8-sig", sep=None, engine="python")
    assert len(ended) == 1
    assert probe["started"].iloc[0] < ended[0] * 1000 <= probe["got"].iloc[0]  # it ran, then waited for the segments
    assert probe["rows"].iloc[0] > 0
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["timings_seconds"]["prepare"] < 6 <= record["timings_seconds"]["context_save_alongside"]


def test_the_runner_computes_the_products_only_for_two_notebooks_or_more():
    """A product is shared work: computed by the runner once for the notebooks that need it. A lone notebook's
    kernel computes its own, as in JupyterLab (tests/core/test_run_only.py checks that it shows the same)."""
    from crmlib.core.run import products_by_need

    assert products_by_need(["03_lifetime_value"]) == []
    assert products_by_need(["01_segmentation"]) == []
    assert products_by_need(["03_lifetime_value", "02_churn_early_warning"]) == ["clv_model", "rfm_segments"]
    assert products_by_need(["00_overview", "01_segmentation"]) == ["segments"]


def _below(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def test_a_killed_run_leaves_no_worker_and_no_kernel_waiting(small, tmp_path):
    params = write_sample_params(small, tmp_path / "p.yaml", report={"mask_pii": False})
    notebooks = _segments_notebook(tmp_path / "nb")
    code = ("import sys, time, pathlib; import crmlib.segmentation.rfm as m; import crmlib.core.run as r; "
            "from crmlib.__main__ import main; m.segment_table = lambda *a, **k: time.sleep(600); "
            f"r.NOTEBOOKS_DIR = pathlib.Path({str(notebooks)!r}); "
            f"sys.exit(main(['run', {str(params)!r}, '--no-progress']))")
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    context = tmp_path / "reports"
    while time.monotonic() < deadline and not (
            list(context.glob(".building-*/_work/jobs/01_segmentation.json"))
            and any("ipykernel" in " ".join(p.cmdline()) for p in _below(process.pid))):
        time.sleep(0.2)
    below = _below(process.pid)
    assert any("ipykernel" in " ".join(p.cmdline()) for p in below)
    time.sleep(3)  # the notebook waits for the segments now
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 20
    while (alive := [p for p in below if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]) \
            and time.monotonic() < deadline:
        time.sleep(0.3)
    assert not alive, [" ".join(p.cmdline()) for p in alive]


def test_the_per_customer_table_is_computed_while_the_orders_are_saved(sample_params, sample_ctx, tmp_path,
                                                                        monkeypatch):
    """The runner's context (``defer_summary``) returns once the orders are built; the per-customer table is
    computed meanwhile (``context.Later``): the orders' file does not wait for it, a notebook reading the table
    waits for its file, and it is the table computed at once. The saving counts its rows (run.json's
    customers)."""
    from crmlib.core import params as params_mod
    from crmlib.data import tables

    release = __import__("threading").Event()
    original = tables.build_customer_summary

    def held(*args, **kwargs):
        assert release.wait(120)
        return original(*args, **kwargs)

    monkeypatch.setattr(tables, "build_customer_summary", held)
    ctx = context_mod.build_context(params_mod.load(sample_params), params_dir=sample_params.parent,
                                    defer_summary=True)  # returns although the table is held back
    assert isinstance(ctx.__dict__["_saved_customer_summary"], context_mod.Later)
    folder = tmp_path / "ctx"
    saving = ctx.start_save(folder, products=[])
    reader = load_saved(folder)
    pd.testing.assert_frame_equal(reader.orders, sample_ctx.orders)  # written while the table is computed
    assert not (folder / "customer_summary.parquet").exists()
    release.set()
    pd.testing.assert_frame_equal(reader.customer_summary, sample_ctx.customer_summary)  # waited for
    saving.result()
    assert saving.rows["customer_summary.parquet"] == len(sample_ctx.customer_summary)
    pd.testing.assert_frame_equal(ctx.customer_summary, sample_ctx.customer_summary)


def test_a_deferred_per_customer_table_still_refuses_orders_without_a_purchase(sample_params, tmp_path,
                                                                              monkeypatch):
    """Whether any customer has a purchase is checked on the orders before returning: the same message as
    when the per-customer table is computed at once, before anything is written."""
    from crmlib.core import params as params_mod
    from crmlib.data import tables

    real = tables.build_orders
    monkeypatch.setattr(tables, "build_orders", lambda lines: real(lines).assign(is_purchase=False))
    for defer in (False, True):
        with pytest.raises(DataError, match="No customer has a purchase"):
            context_mod.build_context(params_mod.load(sample_params), params_dir=sample_params.parent,
                                      defer_summary=defer)
