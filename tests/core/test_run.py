"""The whole workbook on the sample: exit codes, offline HTML without code, exports, failure pages and the
atomic publish."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from crmlib.core import run as run_mod
from crmlib.core.run import NOTEBOOKS, run
from tests.conftest import ROOT, context_from, write_sample_params

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:|//|ftp:)""", re.IGNORECASE)
CONTRACT_EXPORTS = {
    "segments.csv": ["customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
                     "rfm_segment", "abc_tier"],
    "churn_risk.csv": ["customer_id", "risk_score", "risk_level", "reasons", "days_since_last_order",
                       "usual_gap_days"],
    "clv.csv": ["customer_id", "p_alive", "expected_orders", "expected_order_value", "clv"],
    "cross_sell.csv": ["customer_id", "rank", "product_id", "score", "reason"],
    "association_rules.csv": ["antecedents", "consequents", "support", "confidence", "lift"],
}


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small_params(small_dir, tmp_path_factory) -> Path:
    """An English params file pointing at the 400-customer sample."""
    return write_sample_params(small_dir, tmp_path_factory.mktemp("small_params") / "sample.yaml")


def test_full_sample_run_succeeds_in_both_languages(published):
    _, results = published
    for lang, (code, out) in results.items():
        assert code == 0, (lang, json.loads((out / "run.json").read_text())["notebooks"])
        for stem in NOTEBOOKS:
            assert (out / f"{stem}.html").exists() and (out / f"{stem}.ipynb").exists()


def test_html_has_no_code_no_errors_and_no_external_requests(published):
    _, results = published
    for _lang, (_code, out) in results.items():
        for page in [out / "index.html", out.parent / "index.html", *[out / f"{s}.html" for s in NOTEBOOKS]]:
            text = page.read_text(encoding="utf-8")
            assert not EXTERNAL.findall(text), (page.name, EXTERNAL.findall(text)[:3])
            # no code cell reaches the page (the lab CSS names these classes, so look for elements)
            assert not re.search(r"<div[^>]+class=\"[^\"]*jp-InputArea", text), page.name
            body = text.split("</style>")[-1]
            assert "highlight-ipynb" not in body and "jp-CodeMirrorEditor" not in body, page.name
            assert "Traceback" not in text
            assert "<script src" not in text
        for stem in NOTEBOOKS:
            nb = nbformat.read(out / f"{stem}.ipynb", as_version=4)
            errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
            assert not errors, stem


def test_reports_have_the_same_structure_in_turkish_and_english(published):
    _, results = published
    def shape(path: Path) -> list[tuple[int, int, int]]:
        text = path.read_text(encoding="utf-8")
        return [len(re.findall(r"<h[1-4][ >]", text)), text.count("<table"), text.count("<img")]
    for stem in NOTEBOOKS:
        assert shape(results["en"][1] / f"{stem}.html") == shape(results["tr"][1] / f"{stem}.html"), stem


def test_exports_follow_the_contract(published):
    _, results = published
    out = results["en"][1]
    for name, columns in CONTRACT_EXPORTS.items():
        path = out / "exports" / name
        assert path.read_bytes().startswith(b"\xef\xbb\xbf"), name
        frame = pd.read_csv(path, encoding="utf-8-sig")
        assert list(frame.columns[: len(columns)]) == columns, name
        assert len(frame) > 0, name
    model = json.loads((out / "exports" / "clv_model.json").read_text(encoding="utf-8"))
    assert set(model["bgnbd"]) >= {"r", "alpha", "a", "b", "log_likelihood"}
    assert set(model["gamma_gamma"]) >= {"p", "q", "v"}
    assert (out / "exports" / "action_lists.xlsx").exists()


def test_run_json_and_index(published):
    root, results = published
    out = results["en"][1]
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["exit_status"] == 0 and record["data"]["fingerprint"]
    assert {"pandas", "lifetimes", "papermill"} <= set(record["versions"])
    assert [nb["status"] for nb in record["notebooks"]] == ["ok"] * len(NOTEBOOKS)
    index = (root / "index.html").read_text(encoding="utf-8")
    assert "run-en/index.html" in index and "run-tr/index.html" in index
    assert index.index("run-tr/index.html") < index.index("run-en/index.html")  # newest first


def _notebooks_with_a_failure(tmp_path: Path) -> Path:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(ROOT / "notebooks" / "00_overview.ipynb", folder)
    nb = nbformat.read(ROOT / "notebooks" / "00_overview.ipynb", as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell("raise ValueError('kaboom: column Tutar is all blank')"))
    nbformat.write(nb, folder / "01_segmentation.ipynb")
    return folder


def test_a_failing_notebook_gives_exit_1_and_a_failure_page(small_params, tmp_path):
    out = tmp_path / "reports" / "r"
    code = run(small_params, out=out, notebooks_dir=_notebooks_with_a_failure(tmp_path), progress=False)
    assert code == 1
    page = (out / "01_segmentation.html").read_text(encoding="utf-8")
    assert "could not be produced" in page and "kaboom: column Tutar is all blank" in page
    assert "<h1" in (out / "00_overview.html").read_text(encoding="utf-8")
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert {nb["name"]: nb["status"] for nb in record["notebooks"]} == {"00_overview": "ok",
                                                                        "01_segmentation": "failed"}


def _previous_reports(published, tmp_path: Path) -> Path:
    """A copy of the module's published reports folder (two runs and their history): the previous report."""
    root, _ = published
    copy = tmp_path / "reports"
    shutil.copytree(root, copy)
    return copy


def test_interrupted_run_leaves_previous_report_byte_identical(published, small_params, tmp_path, monkeypatch):
    reports = _previous_reports(published, tmp_path)
    out = reports / "run-en"
    before = _tree(reports)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_mod, "_execute_all", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(small_params, out=out, only=["overview"], progress=False)
    assert _tree(reports) == before  # the report, its run list and the history
    assert not list(reports.glob(".building-*"))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crmlib", *args], capture_output=True, text=True, timeout=600)


def test_bad_data_exits_2_with_one_message_and_touches_nothing(small_dir, tmp_path):
    bad_dir = tmp_path / "bad"
    shutil.copytree(small_dir, bad_dir)
    orders = bad_dir / "orders.csv"
    text = orders.read_text(encoding="utf-8-sig").splitlines()
    fields = text[5].split(";")
    fields[5] = "on iki lira"
    text[5] = ";".join(fields)
    orders.write_text("\ufeff" + "\n".join(text) + "\n", encoding="utf-8")
    params = write_sample_params(bad_dir, tmp_path / "bad.yaml")
    out = tmp_path / "reports" / "r"
    out.mkdir(parents=True)
    (out / "keep.txt").write_text("previous report", encoding="utf-8")
    for command in (["validate", str(params)], ["run", str(params), "--out", str(out)]):
        result = _cli(*command)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert "on iki lira" in result.stderr and "orders.csv" in result.stderr and "line 6" in result.stderr
    assert _tree(out) == {"keep.txt": b"previous report"}


def test_bad_params_and_unknown_notebook_exit_2(small_params, tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text(small_params.read_text(encoding="utf-8") + "\nlangauge: en\n", encoding="utf-8")
    result = _cli("validate", str(bad))
    assert result.returncode == 2 and "Did you mean 'language'" in result.stderr and "Traceback" not in result.stderr
    result = _cli("run", str(small_params), "--only", "segmentaton", "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "Did you mean 'segmentation'" in result.stderr
    assert not (tmp_path / "o").exists()


def test_validate_prints_what_it_found(small_params):
    result = _cli("validate", str(small_params))
    assert result.returncode == 0, result.stderr
    assert "customers:" in result.stdout
    assert "orders" in result.stdout and "data window" in result.stdout


def test_a_notebook_runs_straight_from_papermill_with_the_same_yaml(small_params, tmp_path):
    import papermill as pm

    out = tmp_path / "overview.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / "00_overview.ipynb"), str(out),
                        parameters=yaml.safe_load(small_params.read_text(encoding="utf-8")),
                        progress_bar=False, kernel_name="python3", cwd=str(tmp_path))
    nb = nbformat.read(out, as_version=4)
    html_outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "text/html" in o.get("data", {})]
    assert any("crm-header" in o["data"]["text/html"] for o in html_outputs)
    assert not list(tmp_path.glob("exports"))  # without export_dir nothing is written


def test_order_totals_only_degrade_sections_to_sentences_never_the_run(small_dir, tmp_path):
    """Only customer, date and amount (no order id, product, cost, no optional table, nothing declared):
    every notebook still runs, and the sections that need more data say which data in one sentence."""
    params = tmp_path / "minimal.yaml"
    params.write_text(yaml.safe_dump({"language": "tr", "data": {"orders": {
        "path": str(small_dir / "orders.csv"),
        "columns": {"customer_id": "Cari Kodu", "order_date": "Sipariş Tarihi", "amount": "Tutar"}}}},
        allow_unicode=True), encoding="utf-8")
    out = tmp_path / "reports" / "minimal"
    assert run(params, out=out, progress=False) == 0
    cross_sell = (out / "04_cross_sell.html").read_text(encoding="utf-8")
    assert "product_id" in cross_sell and "data.orders.columns" in cross_sell
    churn = (out / "02_churn_early_warning.html").read_text(encoding="utf-8")
    assert "payments tablosu" in churn and "contacts tablosu" in churn and "tickets tablosu" in churn
    assert "parametre dosyasında data." in (out / "05_loyalty_and_service.html").read_text(encoding="utf-8")
    assert '<html lang="tr">' in churn
    quality = json.loads((out / "run.json").read_text(encoding="utf-8"))["quality"]
    assert any(q.get("kind") == "order_id_synthesised" for q in quality)


def test_customer_supplied_strings_are_escaped_in_every_report(small_dir, small_params, tmp_path):
    """A hostile company name and product name (as they could come from an ERP) reach the reports only as
    text: no live markup, and the escaped text is visible where the name is shown."""
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> Kötü & Oğulları'
    folder = tmp_path / "data"
    shutil.copytree(small_dir, folder)
    ctx = context_from(small_params)
    top = ctx.customer_summary.sort_values("revenue").iloc[-1]["customer_id"]
    customers = pd.read_csv(folder / "customers.csv", sep=";", encoding="cp1254", dtype=str, keep_default_na=False)
    customers.loc[customers["customer_id"] == top, "name"] = hostile
    customers.to_csv(folder / "customers.csv", sep=";", encoding="cp1254", index=False)
    best = ctx.order_lines["product_id"].value_counts().index[0]
    products = pd.read_excel(folder / "products.xlsx", sheet_name="Urunler", dtype={"product_id": str})
    products.loc[products["product_id"] == best, "name"] = hostile
    with pd.ExcelWriter(folder / "products.xlsx") as writer:
        products.to_excel(writer, sheet_name="Urunler", index=False)
    params = write_sample_params(folder, tmp_path / "hostile.yaml", report={"mask_pii_in_html": False})
    out = tmp_path / "reports" / "hostile"
    assert run(params, out=out, only=["segmentation", "churn_early_warning", "cross_sell"], progress=False) == 0
    shown = 0
    for page in out.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>alert" not in text and "<img src=x" not in text, page.name
        shown += text.count("&lt;script&gt;alert(")
    assert shown > 0, "the hostile name should appear, escaped, in at least one report"


def _running(proc) -> bool:
    import psutil

    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_run_killed_mid_way_leaves_the_previous_report_and_is_cleaned_up_later(published, small_params,
                                                                                  tmp_path, monkeypatch):
    import os
    import signal
    import time

    reports = _previous_reports(published, tmp_path)
    out = reports / "run-en"
    before = _tree(reports)
    process = subprocess.Popen([sys.executable, "-m", "crmlib", "run", str(small_params), "--out", str(out),
                                "--only", "overview", "segmentation", "--no-progress"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list(out.parent.glob(".building-*/_work/context/context.json")):
        time.sleep(0.2)
    time.sleep(2)  # notebooks are running now
    import psutil

    below = psutil.Process(process.pid).children(recursive=True)  # workers and kernels
    assert below
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 20
    while (alive := [p for p in below if _running(p)]) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert not alive, [p.pid for p in alive]  # nothing is left behind
    after = _tree(reports)
    assert {k: v for k, v in after.items() if not k.startswith(".building-")} == before
    assert list(reports.glob(".building-*"))  # the killed run's half-built folder, removed by the next run

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_mod, "_execute_all", interrupted)
    with pytest.raises(KeyboardInterrupt):  # the next run gets the lock at once and removes the half-built folder
        run(small_params, out=out, only=["overview"], progress=False, wait=False)
    assert not list(reports.glob(".building-*"))
    assert _tree(reports) == before


def test_a_shop_without_repeat_buyers_gets_sentences_not_failures(tmp_path):
    """300 customers with one order each: no lifetime-value model can be fitted, yet the notebook runs and
    says in one sentence what would enable it (every notebook on one-time buyers: tests/thin, ``make test-slow``)."""
    import numpy as np

    rng = np.random.default_rng(1)
    n = 300
    pd.DataFrame({"customer_id": [f"C{i:04d}" for i in range(n)],
                  "order_date": (pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 150, n), unit="D"))
                  .strftime("%d.%m.%Y"),
                  "amount": rng.gamma(2, 500, n).round(2)}).to_csv(tmp_path / "orders.csv", index=False)
    params = tmp_path / "p.yaml"
    params.write_text("language: en\ndata:\n  orders: orders.csv\n", encoding="utf-8")
    out = tmp_path / "reports" / "thin"
    assert run(params, out=out, only=["lifetime_value"], progress=False) == 0
    page = (out / "03_lifetime_value.html").read_text(encoding="utf-8")
    # the minimum-data rules name what is missing, and the rule-based view replaces the forecasts
    assert "Lifetime-value forecasts are shown only when the data are rich enough" in page
    assert "at least 20 customers who bought on two or more days (these data have 0)" in page
    assert "Value to date (rule-based view, not a forecast)" in page


def _notebooks_with_a_bad_action_list(tmp_path: Path) -> Path:
    """The overview notebook plus one that stages an action list Excel refuses (a control character)."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(ROOT / "notebooks" / "00_overview.ipynb", folder)
    nb = nbformat.read(ROOT / "notebooks" / "00_overview.ipynb", as_version=4)
    nb.cells = nb.cells[:3] + [nbformat.v4.new_code_cell(
        "import pandas as pd\n"
        "ctx.export_action_list('at_risk', pd.DataFrame({'customer_id': ['C1', 'C2'], 'name': ['ok', 'bad\\x01']}))")]
    nbformat.write(nb, folder / "01_segmentation.ipynb")
    return folder


def test_a_failing_export_still_publishes_the_reports_with_exit_1_and_one_line(small_params, tmp_path):
    out = tmp_path / "reports" / "r"
    cmd = [sys.executable, "-c",
           "import sys; from crmlib.core.run import run; "
           f"sys.exit(run({str(small_params)!r}, out={str(out)!r}, progress=False, "
           f"notebooks_dir=__import__('pathlib').Path({str(_notebooks_with_a_bad_action_list(tmp_path))!r})))"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    failed = [line for line in done.stderr.splitlines() if line.startswith("FAILED")]
    assert failed == [failed[0]] and "action_lists.xlsx" in failed[0] and "IllegalCharacterError" in failed[0]
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["exit_status"] == 1
    assert [f["file"] for f in record["export_failures"]] == ["action_lists.xlsx"]
    assert [nb["status"] for nb in record["notebooks"]] == ["ok", "ok"]
    cells = record["notebooks"][1]["cells"]  # per-cell times for profiling: cell index, first code line, seconds
    assert [c["name"] for c in cells][-1].startswith("import pandas") and all(c["seconds"] >= 0 for c in cells)
    assert sum(c["seconds"] for c in cells) <= record["notebooks"][1]["seconds"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Could not be written" in index and "action_lists.xlsx" in index
    assert "<h1" in (out / "00_overview.html").read_text(encoding="utf-8")
    assert (out / "exports" / "at_risk.csv").exists() and not (out / "exports" / "action_lists.xlsx").exists()
    assert not list((tmp_path / "reports").glob(".building-*"))


def test_turkish_exports_open_in_turkish_excel_and_the_workbook_is_typed(published):
    import openpyxl

    from crmlib.report import exports

    _, results = published
    out = results["tr"][1]
    for name, columns in CONTRACT_EXPORTS.items():
        text = (out / "exports" / name).read_bytes().decode("utf-8-sig")
        assert text.splitlines()[0].split(";")[: len(columns)] == columns, name
        frame = pd.read_csv(out / "exports" / name, sep=";", decimal=",", encoding="utf-8-sig")
        assert len(frame) > 0 and all(frame[c].dtype != object for c in ("support", "confidence", "lift")
                                      if c in frame), name
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "report.csv_dialect: excel-tr" in index
    assert "report.csv_dialect: standard" in (results["en"][1] / "index.html").read_text(encoding="utf-8")
    book = openpyxl.load_workbook(out / "exports" / "action_lists.xlsx")
    titles = set(book.sheetnames)
    for name in ("preseason", "cross_sell", "at_risk", "segment_contacts"):
        assert exports.sheet_title(name, "tr") in titles, name
    for sheet in book.worksheets:
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:"), sheet.title
        for cell in sheet[2] if sheet.max_row > 1 else []:
            assert not (isinstance(cell.value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d.*", cell.value)), sheet.title
            if hasattr(cell.value, "year"):
                assert cell.number_format == "dd.mm.yyyy", (sheet.title, cell.coordinate)
    at_risk = book[exports.sheet_title("at_risk", "tr")]
    header = [c.value for c in at_risk[1]]
    assert header[:2] == ["Önerilen eylem", "Mesaj"]
    level = at_risk.cell(row=2, column=header.index("Risk seviyesi") + 1).value
    assert level in {"Düşük", "Orta", "Yüksek", "Kritik", "Kopmuş"}
