"""Long tables a manager can sort, search and filter in the browser, offline.

The DataTables library comes from itables' offline bundle (``itables/html/dt_bundle.js`` and ``.css``, the
same files ``itables.init_notebook_mode(connected=False)`` embeds): it is written once into the page, base64
encoded and loaded as a module from a ``blob:`` URL, so the HTML needs no other host. The table itself is
ordinary escaped HTML (the same formatted cells as the static tables); each sortable cell carries its raw
value in ``data-order`` so that money, dates and percentages sort as numbers, not as text. Interface texts
(search, paging, filter panes) come from the message catalogue (``dt.*``), in the report's language.

Size limits, set explicitly: at most ``report.interactive_max_rows`` rows per table (default 500; a sentence
points to the CSV/XLSX for the rest); the bundle adds about 1 MB to a page.
"""

from __future__ import annotations

import base64
import html
import json
import uuid
from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd

from crmlib.report import formatting as fmt
from crmlib.report import i18n

#: text columns with at most this many distinct values get a filter pane (segment, risk level, city, ...)
PANE_MAX_VALUES = 25

#: DataTables interface texts (catalogue keys ``dt.<name>``)
_TEXTS = ("search", "lengthMenu", "info", "infoEmpty", "infoFiltered", "zeroRecords", "emptyTable", "first",
          "last", "next", "previous", "panes_title", "panes_clear", "panes_collapse", "panes_empty",
          "panes_count", "panes_collapse_all", "panes_show_all")


@lru_cache(maxsize=1)
def _bundle() -> tuple[str, str]:
    folder = resources.files("itables") / "html"
    js = (folder / "dt_bundle.js").read_bytes()
    css = (folder / "dt_bundle.css").read_bytes()
    return base64.b64encode(js).decode("ascii"), base64.b64encode(css).decode("ascii")


def loader_html() -> str:
    """The script that loads DataTables once per page (no request to any host)."""
    js, css = _bundle()
    return (
        "<script>(function(){if(window._crmDataTables){return;}"
        "var s=document.createElement('style');s.textContent=atob('" + css + "');document.head.appendChild(s);"
        "var u=URL.createObjectURL(new Blob([atob('" + js + "')],{type:'application/javascript'}));"
        "window._crmDataTables=import(u).then(function(m){URL.revokeObjectURL(u);return m;});})();</script>"
    )


def _language(lang: str) -> dict[str, Any]:
    t = {name: i18n.t(f"dt.{name}", lang) for name in _TEXTS}
    return {
        "search": t["search"], "lengthMenu": t["lengthMenu"], "info": t["info"], "infoEmpty": t["infoEmpty"],
        "infoFiltered": t["infoFiltered"], "zeroRecords": t["zeroRecords"], "emptyTable": t["emptyTable"],
        "paginate": {"first": t["first"], "last": t["last"], "next": t["next"], "previous": t["previous"]},
        "decimal": "," if lang == "tr" else ".", "thousands": "." if lang == "tr" else ",",
        "searchPanes": {"title": {"_": t["panes_title"], "0": t["panes_title"]}, "clearMessage": t["panes_clear"],
                        "collapseMessage": t["panes_collapse_all"], "showMessage": t["panes_show_all"],
                        "collapse": {"_": t["panes_collapse"], "0": t["panes_collapse"]},
                        "emptyPanes": t["panes_empty"], "count": t["panes_count"], "countFiltered": t["panes_count"]},
    }


def _order_key(value: Any) -> str:
    """The raw value a cell sorts by: numbers as numbers, dates as ISO text, else empty (sort by the text)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp | pd.Period):
        return value.strftime("%Y-%m-%d") if isinstance(value, pd.Timestamp) else str(value)
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float):
        return repr(float(value))
    return ""


def table_html(frame: pd.DataFrame, shown: pd.DataFrame, *, headers: list[str], css: dict[str, str],
               lang: str, total: int, note: str) -> str:
    """An interactive table: ``frame`` holds the raw values (for sorting), ``shown`` the same rows formatted as
    text (what the reader sees), ``headers`` the translated column names."""
    table_id = "crm-dt-" + uuid.uuid4().hex[:12]
    head = "".join(f"<th class='{css.get(c, '')}'>{html.escape(h)}</th>" for c, h in zip(shown.columns, headers,
                                                                                          strict=True))
    rows = []
    raw = frame.reset_index(drop=True)
    for i, record in enumerate(shown.itertuples(index=False)):
        cells = []
        for col, value in zip(shown.columns, record, strict=True):
            key = _order_key(raw.at[i, col]) if col in raw.columns else ""
            order = f" data-order='{html.escape(key, quote=True)}'" if key else ""
            text = html.escape(str(value), quote=True)
            if css.get(col) in ("name", "long"):  # a block with a minimum width, as in the static tables
                text = f"<div class='cw-{css[col]}'>{text}</div>"
            cells.append(f"<td class='{css.get(col, '')}'{order}>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    panes = [j for j, col in enumerate(shown.columns)
             if col in raw.columns and not pd.api.types.is_numeric_dtype(raw[col])
             and not pd.api.types.is_datetime64_any_dtype(raw[col]) and 1 < raw[col].nunique() <= PANE_MAX_VALUES]
    options = {
        "language": _language(lang), "order": [], "pageLength": 25, "lengthMenu": [10, 25, 50, 100],
        # the browser's own table layout, so that names and long texts keep the minimum width of their blocks
        "autoWidth": False,
        "columnDefs": [{"searchPanes": {"show": True}, "targets": panes},
                       {"searchPanes": {"show": False}, "targets": "_all"}],
        "searchPanes": {"initCollapsed": True, "cascadePanes": True, "layout": "columns-3"},
    }
    if panes:
        options["layout"] = {"top1": "searchPanes"}
    init = (
        "<script type='module'>(async function(){var m=await window._crmDataTables;var DT=m.default;"
        f"var el=document.getElementById('{table_id}');if(el&&!el.classList.contains('dataTable'))"
        f"{{new DT(el,{json.dumps(options, ensure_ascii=False)});}}}})();</script>"
    )
    more = f"<div class='crm-more'>{html.escape(note)}</div>" if note else ""
    return (f"<div style='overflow-x:auto;max-width:100%'>"
            f"<table id='{table_id}' class='crm-table crm-dt display compact' style='width:auto'>"
            f"<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>{more}{init}")


def cap_note(lang: str, *, shown: int, total: int) -> str:
    """The sentence under a capped interactive table (the exports hold every row)."""
    if total <= shown:
        return ""
    return i18n.t("dt.capped", lang, shown=fmt.number(shown, lang), total=fmt.number(total, lang))
