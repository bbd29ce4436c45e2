"""Rendering: the report exporter gives the page nbconvert's HTML exporter gives, without its BeautifulSoup pass."""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
from bs4 import BeautifulSoup

from crmlib.report import render

PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082")).decode()


def _executed(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python"}
    cells = [nbformat.v4.new_code_cell("rp.heading()"), nbformat.v4.new_code_cell("rp.table()"),
             nbformat.v4.new_code_cell("rp.figure()")]
    cells[0].outputs = [nbformat.v4.new_output("display_data", {"text/html": "<h2 class='crm-h'>Müşteriler &amp; ciro</h2>"})]
    cells[1].outputs = [nbformat.v4.new_output("display_data", {"text/html": (
        "<table class='crm-table'><thead><tr><th>Ad</th><th class='num'>Tutar</th></tr></thead>"
        "<tbody><tr><td>&lt;b&gt;Şirket&lt;/b&gt;</td><td class='num'>1.234 TL</td></tr></tbody></table>")})]
    cells[2].outputs = [nbformat.v4.new_output("display_data", {"image/png": PNG},
                                               metadata={"image/png": {"alt": "Aylık ciro"}})]
    nb.cells = cells
    path = folder / "page.ipynb"
    nbformat.write(nb, path)
    return path


def test_the_page_is_nbconverts_without_the_accessibility_pass(tmp_path: Path) -> None:
    from nbconvert import HTMLExporter

    source = _executed(tmp_path)
    ours = render.render_html(source, tmp_path / "ours.html", title="Genel bakış", lang="tr", footer="alt bilgi")
    stock = HTMLExporter(template_name=render.TEMPLATE, extra_template_basedirs=[render._template_dir()],
                         exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                         embed_images=True, language_code="tr")
    nb = render.report_notebook(nbformat.read(source, as_version=4))
    nb.metadata["title"] = "Genel bakış"
    theirs, _ = stock.from_notebook_node(nb, resources={"language_code": "tr", "crm_footer": "alt bilgi",
                                                        "crm_links": []})
    a, b = BeautifulSoup(ours.read_text(encoding="utf-8"), "html.parser"), BeautifulSoup(theirs, "html.parser")
    assert a.get_text(" ", strip=True) == b.get_text(" ", strip=True)  # every word a reader sees
    assert [i.get("alt") for i in a.find_all("img")] == [i.get("alt") for i in b.find_all("img")] == ["Aylık ciro"]
    assert len(a.find_all("table")) == len(b.find_all("table")) == 1
    assert "&lt;b&gt;Şirket&lt;/b&gt;" in ours.read_text(encoding="utf-8")  # customer text stays escaped
    for tag in b.find_all(attrs={"tabindex": "0"}):  # all the stock pass adds
        del tag["tabindex"]
    assert str(a) == str(b)


def test_a_page_after_the_warm_up_is_the_page_without_it(tmp_path: Path) -> None:
    source = _executed(tmp_path)
    render._exporter.cache_clear()
    cold = render.render_html(source, tmp_path / "cold.html", title="Genel bakış", lang="tr").read_text(encoding="utf-8")
    render._exporter.cache_clear()
    waited = []
    render.warm_up("tr", after=lambda: waited.append(True)).join()
    assert waited == [True] and render._exporter.cache_info().currsize == 1  # tr's exporter, ready
    warm = render.render_html(source, tmp_path / "warm.html", title="Genel bakış", lang="tr").read_text(encoding="utf-8")
    assert render._exporter.cache_info().hits >= 1  # the page used the warm-up's exporter
    assert warm == cold


def test_a_page_does_not_wait_for_a_warm_up_still_waiting(tmp_path: Path) -> None:
    import threading

    release = threading.Event()
    thread = render.warm_up("en", after=release.wait)  # as while the context is still being saved
    page = render.render_html(_executed(tmp_path), tmp_path / "p.html", title="Overview", lang="en")
    assert thread.is_alive() and "Overview" in page.read_text(encoding="utf-8")
    release.set()
    thread.join(timeout=60)
    assert not thread.is_alive()


def test_a_failing_warm_up_leaves_the_render_to_report(tmp_path: Path) -> None:
    def broken() -> None:
        raise RuntimeError("the context could not be saved")

    render.warm_up("en", after=broken).join()  # no exception escapes the thread
    page = render.render_html(_executed(tmp_path), tmp_path / "p.html", title="Overview", lang="en")
    assert "Overview" in page.read_text(encoding="utf-8")
