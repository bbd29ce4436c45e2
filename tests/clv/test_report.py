"""``crmlib.clv.report.analyse``: the lifetime-value notebook's one call, on the sample and without a model."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from crmlib.clv import report as clv_report
from crmlib.report import formatting as fmt
from crmlib.report import i18n
from tests.conftest import context_from, write_sample_params
from tests.thin.cuts import make_cut


@pytest.fixture(scope="module")
def analysed(sample_params, tmp_path_factory):
    exports = tmp_path_factory.mktemp("clv_exports")
    ctx = context_from(sample_params, exports)
    return ctx, clv_report.analyse(ctx), exports


def test_analyse_returns_every_section_and_agrees_with_the_exports(analysed):
    ctx, res, exports = analysed
    assert isinstance(res, clv_report.ClvAnalysis) and res.has_model and res.problem == []
    table = pd.read_csv(exports / "clv.csv", dtype={"customer_id": str})
    assert len(table) == len(res.clv) == len(ctx.customer_summary)
    assert json.loads((exports / "clv_model.json").read_text(encoding="utf-8"))["bgnbd"]
    # the segment table shares out all of the value; the top list is the export's largest values
    assert res.by_segment["clv_share"].sum() == pytest.approx(1.0, abs=1e-9)
    assert res.by_segment["n_customers"].sum() == len(table)
    assert res.top["clv"].tolist() == table["clv"].nlargest(len(res.top)).tolist()
    # every repeat buyer is in one activity band
    assert res.bands_table["n_customers"].sum() == int((ctx.customer_summary["frequency"] > 0).sum())
    assert res.has_validation and len(res.validation_lines) == 2 and res.has_comparison
    assert set(res.comparison.columns) >= {"model", "status", "total_error"} and "seconds" not in res.comparison
    assert len(res.summary) >= 4 and all(isinstance(line, str) and line for line in res.summary)
    assert not res.parameters["meaning"].str.startswith("clv.").any()
    assert res.has_cac and res.cac_missing == [] and len(res.cac_table) == len(res.cac_chart) > 0


def test_the_comparison_sentence_names_the_models_that_could_not_be_computed(analysed):
    ctx, res, _ = analysed
    shown = res.comparison.set_index("model")["status"]
    failed = [name for name, status in shown.items() if status != i18n.t("clv.modelstatus.ok", ctx.lang)]
    assert failed, "the sample's Pareto/NBD is not computable: the case this test is about"
    assert not res.comparison_text.startswith("Three") and all(name in res.comparison_text for name in failed)


def test_every_table_column_has_a_unit_or_text(analysed):
    _, res, _ = analysed
    for frame in (res.parameters, res.comparison, res.by_segment, res.top, res.bands_table, res.cac_table):
        for col in frame.columns:
            if pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col]):
                assert col in clv_report.UNITS, col
            assert i18n.has(f"clv.col.{col}"), col


def test_without_repeat_purchases_the_result_says_why_and_shows_value_to_date(sample_dir, tmp_path):
    cut = make_cut(sample_dir, tmp_path / "data", "one_time")
    ctx = context_from(write_sample_params(cut, tmp_path / "thin.yaml"), None)
    res = clv_report.analyse(ctx)
    assert not res.has_model and len(res.problem) == 1 and res.summary == []
    assert 0 < len(res.value_to_date) <= res.top_n
    assert res.value_to_date["revenue"].is_monotonic_decreasing
    for frame in (res.parameters, res.comparison, res.by_segment, res.top, res.bands_table, res.cac_table):
        assert isinstance(frame, pd.DataFrame) and frame.empty
    assert res.validation_lines == [] and not res.has_cac and res.cac_missing == []


def test_a_month_of_history_says_first_purchases_are_the_first_in_the_data(sample_dir, tmp_path):
    cut = make_cut(sample_dir, tmp_path / "data", "days_30")
    ctx = context_from(write_sample_params(cut, tmp_path / "thin.yaml"), None)
    res = clv_report.analyse(ctx)
    assert not res.has_model
    start = fmt.date(ctx.data_window[0], "en")
    assert res.value_to_date_text.endswith(i18n.t("clv.txt.first_in_data", "en", date=start))
    assert res.value_to_date["first_order_date"].min() >= ctx.data_window[0]


@pytest.mark.parametrize("failing", ["csv", "page"])
def test_a_failing_export_or_page_step_raises_its_own_error_and_exports_nothing_after_it(
        sample_params, tmp_path, monkeypatch, failing):
    """clv.csv is written alongside the rest of the page: its error still comes out of ``analyse`` (and
    clv_model.json, written after it, is not written); an error of the page's own steps comes out as it is;
    no thread is left behind either way."""
    import threading

    ctx = context_from(sample_params, tmp_path / "exports")
    if failing == "csv":
        def export_csv(name, frame):
            raise OSError(f"no space left writing {name}.csv")

        monkeypatch.setattr(ctx, "export_csv", export_csv)
        with pytest.raises(OSError, match="no space left writing clv.csv"):
            clv_report.analyse(ctx)
    else:
        def top_customers(*args, **kwargs):
            raise ValueError("top list failed")

        monkeypatch.setattr(clv_report, "top_customers", top_customers)
        with pytest.raises(ValueError, match="top list failed"):
            clv_report.analyse(ctx)
    assert not (tmp_path / "exports" / "clv_model.json").exists()
    assert not [t for t in threading.enumerate() if t.name.startswith("export")]


def test_a_model_chosen_after_the_figures_were_computed_with_another_computes_them_again(
        analysed, sample_params, tmp_path, monkeypatch):
    """The page computes every customer's value with the better of BG/NBD and MBG/NBD while Pareto/NBD's
    optimisation still runs; when the whole comparison chooses another model, the values are computed again:
    the exports are those of a run that knew the choice from the start. And the Pareto/NBD process is never
    left running, whichever way the page ends."""
    from crmlib.clv import choice, pareto

    _, res, exports = analysed
    chosen = json.loads((exports / "clv_model.json").read_text(encoding="utf-8"))["purchase_model"]["kind"]
    other = "mbgnbd" if chosen == "bgnbd" else "bgnbd"
    guesses, started = [], []

    def choose(comparison, *, setting):  # the guess on the first two rows is the other model
        guesses.append(other if not guesses else choice_of(comparison, setting=setting))
        return guesses[-1]

    choice_of = choice.choose
    monkeypatch.setattr(choice, "choose", choose)
    stock_start = pareto.FitProcess.__init__

    def start(self, call):
        stock_start(self, call)
        started.append(self)

    monkeypatch.setattr(pareto.FitProcess, "__init__", start)
    ctx = context_from(sample_params, tmp_path / "exports")
    again = clv_report.analyse(ctx)
    assert guesses[0] == other and guesses[-1] == chosen
    assert (tmp_path / "exports" / "clv.csv").read_bytes() == (exports / "clv.csv").read_bytes()
    assert again.summary == res.summary and again.comparison_text == res.comparison_text
    assert started and all(p.proc is None for p in started)


KERNEL_IMPORTS = """
import json, sys
import crmlib.report.display, crmlib.report.charts, crmlib.core.context, crmlib.clv.report, crmlib.clv.plots
print(json.dumps(sorted(sys.modules)))
"""


def test_the_notebook_kernel_does_not_import_the_loader():
    """The lifetime-value kernel reopens a saved context: the data layer's loader (pandera, the readers) is
    not imported with its modules."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", KERNEL_IMPORTS], capture_output=True, text=True, check=True,
                          cwd=root)
    loaded = set(json.loads(done.stdout))
    # the data package itself is light (its submodules are imported on first use); the loader is not
    assert not {"pandera", "crmlib.data.validate", "crmlib.data.read", "crmlib.data.readers"} & loaded
