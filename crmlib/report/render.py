"""Executed notebooks → self-contained HTML for readers who never see code.

The ``crm_report`` template extends nbconvert's lab template and drops every script it would fetch from
another host (require.js, MathJax, Mermaid, widgets). Code, prompts, analyst markdown and stream output are
removed; only what the notebook displayed on purpose remains.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import logging
import os
import re
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmlib.report import i18n

if TYPE_CHECKING:  # imported where used: the runner needs it only when a notebook has run
    import nbformat

log = logging.getLogger(__name__)

TEMPLATE = "crm_report"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _template_dir() -> str:
    return str(resources.files("crmlib.report") / "templates")


def report_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return a copy of ``nb`` holding only what a reader should see.

    Markdown cells (analyst notes), stream output (prints, warnings) and the parameters cells go; code
    cells keep their rich outputs (HTML, images).
    """
    import nbformat

    out = nbformat.from_dict(json.loads(json.dumps(nb)))
    cells = []
    for cell in out.cells:
        if cell.cell_type != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"parameters", "injected-parameters", "remove-cell"}:
            continue
        cell.outputs = [o for o in cell.get("outputs", []) if o.get("output_type") != "stream"]
        cells.append(cell)
    out.cells = cells
    return out


def run_links(lang: str) -> list[tuple[str, str]]:
    """The links every report page carries: its run's index and the list of runs (relative, offline)."""
    return [("index.html", i18n.t("run.this_run", lang)), ("../index.html", i18n.t("run.all_runs", lang))]


def _links_html(links: list[tuple[str, str]] | None) -> str:
    return " · ".join(f"<a href='{html.escape(href)}'>{html.escape(text)}</a>" for href, text in links or [])


def _exporter_class() -> type:
    """nbconvert's HTML exporter without its last pass.

    ``HTMLExporter.from_notebook_node`` parses the page it just rendered with BeautifulSoup's pure-Python
    parser to give images without alt text a placeholder and make code cells and outputs focusable, then
    writes the page out again: 70 % of a page's rendering time (3 s for a page with interactive tables).
    These pages have no code cells, and the ``crm_report`` template gives every image an ``alt`` of its own,
    so the pass would change nothing a reader needs; the exporter renders the template and stops there.
    """
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        def from_notebook_node(self, nb: Any, resources: dict[str, Any] | None = None,
                               **kw: Any) -> tuple[str, dict[str, Any]]:
            # HTMLExporter's own set-up (the two filters it registers), then the template alone
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return ReportExporter


@functools.lru_cache(maxsize=4)
def _exporter(lang: str) -> Any:
    """One HTML exporter per language and process: its templates are compiled once, not per report."""
    exporter = _exporter_class()(template_name=TEMPLATE, extra_template_basedirs=[_template_dir()])
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    exporter.language_code = lang
    return exporter


def warm_up(lang: str, *, after: Callable[[], Any] | None = None) -> threading.Thread:
    """Import nbconvert and render a one-cell page in ``lang`` on a daemon thread, and return the thread.

    The runner calls it while the notebooks run, so the first page rendered when a notebook ends does not
    wait for nbconvert's import, its templates' compilation and the first use of its filters (about 0.5 s of
    CPU). ``after`` (the context's save, whose threads need the cores first) is waited for first; then the
    page is rendered by ``lang``'s exporter, never at the same time as a real page, and thrown away. Anything
    failing here fails again, reported, in the real render.
    """

    def run() -> None:
        try:
            if after is not None:
                after()
            import nbformat

            nb = nbformat.v4.new_notebook()
            nb.cells.append(nbformat.v4.new_code_cell("", outputs=[nbformat.v4.new_output(
                "display_data", data={"text/html": "<p>-</p>", "text/plain": "-"})]))
            nb.metadata["title"] = "-"
            with _exporting:
                _exporter(lang).from_notebook_node(
                    report_notebook(nb), resources={"language_code": lang, "crm_footer": "", "crm_links": []})
        except Exception as err:  # noqa: BLE001 - the real render reports it
            log.debug("render warm-up: %s", err)

    thread = threading.Thread(target=run, name="render-warm-up", daemon=True)
    thread.start()
    return thread


#: held while an exporter renders: the warm-up's page and a real one never use an exporter at once
_exporting = threading.Lock()


def render_html(nb_path: Path, html_path: Path, *, title: str, lang: str, footer: str = "",
                links: list[tuple[str, str]] | None = None) -> Path:
    """Render an executed notebook to self-contained HTML without code (``links``: shown with the footer)."""
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    nb = report_notebook(nb)
    nb.metadata["title"] = title
    with _exporting:
        body, _ = _exporter(lang).from_notebook_node(nb, resources={"language_code": lang, "crm_footer": footer,
                                                                       "crm_links": list(links or [])})
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    return html_path


def _error_of(nb_path: Path | None) -> tuple[str, str, int | None]:
    if nb_path is None or not nb_path.exists():
        return "", "", None
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                trace = _ANSI.sub("", "\n".join(output.get("traceback", [])))
                return f"{output.get('ename', '')}: {output.get('evalue', '')}", trace, index
    return "", "", None


PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:sans-serif;max-width:1100px;margin:0 auto;padding:1em 2em 3em 2em;color:#222}}
h1{{color:#1f4e79}} table{{border-collapse:collapse}} td,th{{padding:.35em .8em;border-bottom:1px solid #e3e8ee;text-align:left}}
th{{background:#1f4e79;color:#fff}} td.num{{text-align:right}} .ok{{color:#1b7f3b;font-weight:bold}} .failed{{color:#b00020;font-weight:bold}}
.crm-failure{{background:#fff4f4;border-left:5px solid #b00020;padding:.8em 1.2em;margin:1em 0}}
pre{{background:#f6f6f6;padding:1em;overflow:auto;font-size:.85em}} .muted{{color:#666;font-size:.9em}}
</style></head><body>
{body}
</body></html>
"""


def render_failure(nb_path: Path | None, html_path: Path, *, title: str, lang: str, error: str = "",
                   links: list[tuple[str, str]] | None = None) -> Path:
    """Write a readable failure page for a notebook that raised: what failed, where, and what to do."""
    summary, trace, cell_index = _error_of(nb_path)
    summary = summary or error
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        "<div class='crm-failure'>",
        f"<p><b>{html.escape(i18n.t('run.failed_heading', lang))}</b></p>",
        f"<p>{html.escape(i18n.t('run.failed_explain', lang))}</p>",
        f"<p><code>{html.escape(summary)}</code></p>",
    ]
    if cell_index is not None:
        parts.append(f"<p class='muted'>{html.escape(i18n.t('run.failed_cell', lang, cell=cell_index))}</p>")
    parts.append("</div>")
    if trace:
        parts.append(f"<details><summary>{html.escape(i18n.t('run.failed_details', lang))}</summary>"
                     f"<pre>{html.escape(trace)}</pre></details>")
    if links:
        parts.append(f"<p class='muted'>{_links_html(links)}</p>")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(PAGE.format(lang=lang, title=html.escape(title), body="\n".join(parts)),
                         encoding="utf-8")
    return html_path


def _when(value: str, lang: str, *, time: bool = False) -> str:
    """An ISO date or timestamp from ``run.json`` in the reader's conventions (the text itself if unreadable)."""
    from crmlib.report import formatting

    try:
        stamp = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value or ""
    return formatting.date(stamp, lang) + (f" {stamp:%H:%M}" if time else "")


def _export_row(name: str, about: str) -> str:
    return (f"<tr><td><a href='exports/{html.escape(name)}'>{html.escape(name)}</a></td>"
            f"<td>{html.escape(about)}</td></tr>")


def _modes_line(run: dict[str, Any], lang: str) -> str:
    """Who may read the run's files (``run.json``'s ``file_modes``), one line for the run index."""
    modes = run.get("file_modes")
    if not modes:
        return ""
    key = "run.file_modes_group" if modes.get("shared_with_group") else "run.file_modes_owner"
    text = i18n.t(key, lang, folders=modes.get("folders", ""), files=modes.get("files", ""))
    return f"<p class='muted'>{html.escape(text)}</p>"


def _not_read_line(run: dict[str, Any]) -> str:
    """The sentences naming the configured tables and the columns this run did not read (``run.json``'s
    ``tables_not_read``)."""
    found = run.get("tables_not_read")
    return f"<p class='muted'>{html.escape(found['message'])}</p>" if found else ""


def _dialect(run: dict[str, Any], lang: str) -> str:
    from crmlib.report.exports import csv_dialect

    setting = ((run.get("params") or {}).get("report") or {}).get("csv_dialect")
    return csv_dialect(setting if setting in ("excel-tr", "standard") else None, lang)


def render_run_index(run: dict[str, Any], html_path: Path, *, lang: str,
                     descriptions: dict[str, str] | None = None) -> Path:
    """Write the run's ``index.html``: one link per notebook report, its status, and the exports with their
    ``descriptions`` (file name -> text in ``lang``; the runner takes them from the practice registry)."""
    from crmlib.report import formatting

    t = lambda key, **kw: html.escape(i18n.t(key, lang, **kw))  # noqa: E731
    rows = []
    for nb in run["notebooks"]:
        status = "ok" if nb["status"] == "ok" else "failed"
        rows.append(f"<tr><td><a href='{html.escape(nb['html'])}'>{html.escape(nb['title'])}</a></td>"
                    f"<td class='{status}'>{t('run.status_' + status)}</td>"
                    f"<td class='num'>{html.escape(formatting.number(nb.get('seconds', 0), lang))} s</td></tr>")
    names = sorted(run.get("exports", []), key=lambda n: (not n.endswith(".xlsx"), n.endswith(".json"), n))
    exports = "".join(_export_row(name, (descriptions or {}).get(name, "")) for name in names)
    exports += "".join(f"<tr><td class='failed'>{html.escape(f['file'])}</td>"
                       f"<td class='failed'>{t('run.export_failed', error=f['error'])}</td></tr>"
                       for f in run.get("export_failures", []))
    customers = (run.get("data") or {}).get("customers")
    customers_shown = (formatting.number(customers, lang) if isinstance(customers, int)
                       else run.get("customers_display", ""))
    body = (f"<h1>{t('run.index_title')}</h1>"
            f"<p>{t('common.as_of')}: <b>{html.escape(_when(run['as_of'], lang))}</b> · "
            f"{t('run.created')}: {html.escape(_when(run['created'], lang, time=True))} · "
            f"{t('common.customers')}: {html.escape(customers_shown)}</p>"
            f"<table><tr><th>{t('run.report')}</th><th>{t('run.status')}</th><th>{t('run.time')}</th></tr>"
            f"{''.join(rows)}</table>"
            f"<h2>{t('run.exports')}</h2>"
            f"<table><tr><th>{t('run.file')}</th><th>{t('run.contents')}</th></tr>{exports}</table>"
            f"{_not_read_line(run)}"
            f"{_modes_line(run, lang)}"
            f"<p>{t('run.csv_dialect.' + _dialect(run, lang))}</p>"
            f"<p class='muted'><a href='../index.html'>{t('run.all_runs')}</a></p>")
    html_path.write_text(PAGE.format(lang=lang, title=t("run.index_title"), body=body), encoding="utf-8")
    return html_path


def _language_name(run: dict[str, Any], lang: str) -> str:
    """The run's report language, named in ``lang``."""
    code = run.get("language") or (run.get("params") or {}).get("language") or ""
    key = f"run.language_{code}"
    return i18n.t(key, lang) if i18n.has(key) else code


def render_reports_index(root: Path, *, lang: str, file_mode: int = 0o600) -> Path:
    """Write ``<root>/index.html`` listing every published run, newest first (the file gets ``file_mode``)."""
    runs = []
    for run_json in root.glob("*/run.json"):
        try:
            runs.append((run_json.parent.name, json.loads(run_json.read_text(encoding="utf-8"))))
        except (OSError, json.JSONDecodeError):
            continue
    runs.sort(key=lambda item: (item[1].get("created", ""), item[0]), reverse=True)
    t = lambda key, **kw: html.escape(i18n.t(key, lang, **kw))  # noqa: E731
    rows = []
    for folder, run in runs:
        ok = sum(nb["status"] == "ok" for nb in run.get("notebooks", []))
        total = len(run.get("notebooks", []))
        status = "ok" if ok == total else "failed"
        rows.append(f"<tr><td><a href='{html.escape(folder)}/index.html'>{html.escape(folder)}</a></td>"
                    f"<td>{html.escape(_when(run.get('as_of', ''), lang))}</td>"
                    f"<td>{html.escape(_when(run.get('created', ''), lang, time=True))}</td>"
                    f"<td class='{status}'>{ok}/{total}</td>"
                    f"<td>{html.escape(_language_name(run, lang))}</td>"
                    f"<td class='muted'>{html.escape(str(run.get('params_file', '')))}</td></tr>")
    body = (f"<h1>{t('run.all_runs')}</h1><table><tr><th>{t('run.run')}</th><th>{t('common.as_of')}</th>"
            f"<th>{t('run.created')}</th><th>{t('run.status')}</th><th>{t('run.language')}</th>"
            f"<th>{t('run.params_file')}</th></tr>{''.join(rows)}</table>"
            f"<p class='muted'>{t('run.index_updated', when=_when(dt.datetime.now().isoformat(), lang, time=True))}</p>")
    path = root / "index.html"
    tmp = root / ".index.html.tmp"
    tmp.write_text(PAGE.format(lang=lang, title=t("run.all_runs"), body=body), encoding="utf-8")
    os.chmod(tmp, file_mode)
    tmp.replace(path)
    return path
