"""Customer-supplied text that would be code elsewhere stays text in every file a run writes.

Customers and products named like formulas (OWASP "CSV injection") and like markup: no formula cell in any
XLSX, no CSV field from input text that a spreadsheet would evaluate, and in headless Chromium no dialog, no
injected element and no outside request on any report page. One full run: slow (``make test-slow``); the
fast unit checks are in ``tests/report/test_inert.py``.
"""

from __future__ import annotations

import csv
import shutil

import openpyxl
import pandas as pd
import pytest

from crmlib.core.run import run
from tests.conftest import write_sample_params
from tests.report import headless

pytestmark = pytest.mark.slow

HOSTILE = ['=HYPERLINK("http://example.invalid/x","Tıkla")', "=1+1", "@SUM(1+1)", "-2+3",
           "<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]


@pytest.fixture(scope="module")
def hostile_run(sample_dir, tmp_path_factory):
    """One run of every notebook on the sample with every customer and product named from :data:`HOSTILE`."""
    tmp = tmp_path_factory.mktemp("hostile")
    folder = tmp / "data"
    shutil.copytree(sample_dir, folder)
    customers = pd.read_csv(folder / "customers.csv", sep=";", encoding="cp1254", dtype=str,
                            keep_default_na=False)
    customers["name"] = [HOSTILE[i % len(HOSTILE)] for i in range(len(customers))]
    customers.loc[::7, "city"] = "=1+1"
    customers.to_csv(folder / "customers.csv", sep=";", encoding="cp1254", index=False)
    products = pd.read_excel(folder / "products.xlsx", sheet_name="Urunler", dtype={"product_id": str},
                             engine="openpyxl")
    products["name"] = [HOSTILE[(i + 3) % len(HOSTILE)] for i in range(len(products))]
    with pd.ExcelWriter(folder / "products.xlsx") as writer:
        products.to_excel(writer, sheet_name="Urunler", index=False)
    params = write_sample_params(folder, tmp / "hostile.yaml", report={"mask_pii_in_html": False})
    out = tmp / "reports" / "hostile"
    assert run(params, out=out, progress=False) == 0
    return out


def test_no_formula_cell_in_any_workbook(hostile_run):
    books = list(hostile_run.rglob("*.xlsx"))
    assert books
    hostile_cells = 0
    for path in books:
        for sheet in openpyxl.load_workbook(path).worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, sheet.title, cell.coordinate, cell.value)
                    hostile_cells += cell.value in HOSTILE
    assert hostile_cells > 10, "the hostile names should be in the action lists, as text"


def test_no_csv_field_from_text_starts_a_formula(hostile_run):
    files = list((hostile_run / "exports").glob("*.csv"))
    named = 0
    for path in files:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                for column, value in row.items():
                    assert not (value or "").startswith(("=", "@", "\t", "\r")), (path.name, column, value)
                    if column in ("name", "product_name", "city", "phone"):
                        assert not (value or "").startswith(("+", "-")), (path.name, column, value)
                    named += (value or "").lstrip("'") in HOSTILE
    assert named > 10, "the hostile names should be in the CSV exports, neutralised"


@pytest.mark.skipif(headless.CHROMIUM is None, reason="needs chromium (apt-get install chromium)")
def test_no_dialog_or_injected_element_on_any_report_page(hostile_run):
    pages = sorted(hostile_run.glob("*.html")) + [hostile_run.parent / "index.html"]
    assert len(pages) >= 7
    with headless.Browser() as browser:
        seen = {page.name: browser.visit(page) for page in pages}
    for name, result in seen.items():
        assert result["loaded"], name
        assert result["dialogs"] == [], (name, result)
        assert result["injected_img"] == result["onerror_attrs"] == result["alert_scripts"] == 0, (name, result)
        assert result["outside_requests"] == [], (name, result)
