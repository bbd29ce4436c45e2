"""Report layer: what notebooks display (headings, summaries, formatted and escaped tables), the message
catalogue, number/date formatting, chart helpers, offline HTML rendering and the CSV/XLSX exports
(``crmlib.report.render`` and ``crmlib.report.exports`` are imported where needed: they pull in nbconvert
and openpyxl).

Notebooks use it as ``from crmlib import report as rp``: the display functions are re-exported here.
"""

from crmlib.lazy import attach

#: the public names by the submodule that defines them, imported on first use (:mod:`crmlib.lazy`): the runner
#: writes exports and formats its footer without importing matplotlib (``charts``) or IPython (``display``)
EXPORTS: dict[str, tuple[str, ...]] = {
    "charts": (),
    "display": (
        "STYLE", "bullets", "esc", "figure", "format_frame", "header", "heading", "mask_contacts", "mask_email",
        "mask_name", "mask_phone", "masks_html", "missing", "paragraph", "paragraphs", "summary", "t", "table",
        "table_html", "text", "tiles",
    ),
    "formatting": (),
    "i18n": (),
}

__all__ = ["charts", "display", "formatting", "i18n",
    "STYLE",
    "t",
    "esc",
    "header",
    "tiles",
    "summary",
    "heading",
    "text",
    "paragraph",
    "paragraphs",
    "bullets",
    "missing",
    "format_frame",
    "table_html",
    "table",
    "figure",
    "mask_name",
    "mask_email",
    "mask_phone",
    "mask_contacts",
    "masks_html",
]

__getattr__, __dir__ = attach(__name__, EXPORTS, __all__)
