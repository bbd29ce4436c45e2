"""What notebooks show a reader: header, executive summary, headings, sentences, tables and figures.

Every string that reaches the HTML goes through :func:`html.escape` here (customer names, product names and
category labels come from the users' files), and every label comes from the message catalogue.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from IPython.display import HTML, display

from crmlib.report import formatting as fmt
from crmlib.report import i18n

STYLE = """
<style>
.crm-header{border-bottom:3px solid #1f4e79;margin:0 0 1em 0;padding:0 0 .6em 0;font-family:sans-serif}
.crm-header h1{margin:.2em 0;color:#1f4e79;font-size:1.9em}
.crm-facts{display:flex;flex-wrap:wrap;gap:.4em 1.6em;color:#333;font-size:.95em}
.crm-facts b{color:#1f4e79}
.crm-summary{background:#f3f7fb;border-left:5px solid #1f4e79;padding:.7em 1.2em;margin:1em 0 1.5em 0;
  font-family:sans-serif}
.crm-summary h2{margin:.1em 0 .4em 0;font-size:1.3em;color:#1f4e79}
.crm-summary li{margin:.25em 0;line-height:1.4}
.crm-tiles{display:flex;flex-wrap:wrap;gap:.8em;margin:.6em 0}
.crm-tile{background:#fff;border:1px solid #d5dee8;border-radius:6px;padding:.5em .9em;min-width:9em}
.crm-tile .v{font-size:1.35em;font-weight:bold;color:#1f4e79}
.crm-tile .l{font-size:.85em;color:#555}
h2.crm-h{font-family:sans-serif;color:#1f4e79;border-bottom:1px solid #d5dee8;padding-bottom:.2em;margin-top:1.4em}
h3.crm-h{font-family:sans-serif;color:#2b2b2b;margin-top:1.1em}
p.crm-p,ul.crm-p{font-family:sans-serif;line-height:1.5;max-width:60em;font-size:14px}
ul.crm-p li{margin:.2em 0}
p.crm-note{font-family:sans-serif;color:#555;font-style:italic;max-width:60em}
table.crm-table{border-collapse:collapse;font-family:sans-serif;font-size:.9em;margin:.4em 0 1em 0}
table.crm-table th{background:#1f4e79;color:#fff;padding:.35em .7em;text-align:left !important;position:sticky;top:0}
table.crm-table td{padding:.3em .7em;border-bottom:1px solid #e3e8ee;text-align:left !important}
table.crm-table td.num{text-align:right !important;white-space:nowrap}
table.crm-table th.num{text-align:right !important}
table.crm-table td.nw{white-space:nowrap}
table.crm-table div.cw-name{min-width:13em}
table.crm-table div.cw-long{min-width:20em}
table.crm-table tr:nth-child(even) td{background:#f8fafc}
.crm-more{font-family:sans-serif;color:#666;font-size:.85em}
</style>
"""


def t(ctx: Any, key: str, /, **values: Any) -> str:
    """Return catalogue message ``key`` in the report's language."""
    return i18n.t(key, ctx.lang, **values)


def esc(text: Any) -> str:
    """Escape text for HTML."""
    return html.escape("" if text is None else str(text), quote=True)


def _show(markup: str) -> None:
    display(HTML(markup))


# -- header and summary -------------------------------------------------------------------------------
def header(ctx: Any, title_key: str) -> None:
    """Show the report header: title, as-of date, data window, customers and orders."""
    first, last = ctx.data_window
    purchase = ctx.orders_columns(["is_purchase"])["is_purchase"]
    n_orders = int(purchase.sum())  # purchases; the others (net zero or negative) are named
    other = int(len(purchase)) - n_orders
    orders = (t(ctx, "common.orders_other", n=fmt.number(n_orders, ctx.lang), other=fmt.number(other, ctx.lang))
              if other else fmt.number(n_orders, ctx.lang))
    company = ctx.params["report"].get("company")
    facts = [
        (t(ctx, "common.as_of"), fmt.date(ctx.as_of, ctx.lang)),
        (t(ctx, "common.data_window"), f"{fmt.date(first, ctx.lang)} – {fmt.date(last, ctx.lang)}"),
        (t(ctx, "common.customers"), fmt.number(len(ctx.customer_summary), ctx.lang)),
        (t(ctx, "common.orders"), orders),
    ]
    facts_html = "".join(f"<span><b>{esc(k)}:</b> {esc(v)}</span>" for k, v in facts)
    company_html = f"<div class='crm-facts'><span>{esc(company)}</span></div>" if company else ""
    _show(f"{STYLE}<div class='crm-header'>{company_html}<h1>{esc(t(ctx, title_key))}</h1>"
          f"<div class='crm-facts'>{facts_html}</div></div>")


def tiles(items: Sequence[tuple[str, str]]) -> str:
    """Return the HTML of a row of headline figures ``(label, value)``."""
    cells = "".join(f"<div class='crm-tile'><div class='v'>{esc(v)}</div><div class='l'>{esc(k)}</div></div>"
                    for k, v in items)
    return f"<div class='crm-tiles'>{cells}</div>"


def summary(ctx: Any, lines: Iterable[str], *, figures: Sequence[tuple[str, str]] = ()) -> None:
    """Show the executive summary: optional headline figures, then one bullet per line."""
    items = "".join(f"<li>{esc(line)}</li>" for line in lines if line)
    _show(f"<div class='crm-summary'><h2>{esc(t(ctx, 'common.summary'))}</h2>"
          f"{tiles(figures) if figures else ''}<ul>{items}</ul></div>")


# -- text ---------------------------------------------------------------------------------------------
def heading(ctx: Any, key: str, /, *, level: int = 2, **values: Any) -> None:
    """Show a section heading from the catalogue."""
    level = min(max(level, 2), 4)
    _show(f"<h{level} class='crm-h'>{esc(t(ctx, key, **values))}</h{level}>")


def text(ctx: Any, key: str, /, **values: Any) -> None:
    """Show one paragraph from the catalogue (values are formatted by the caller)."""
    _show(f"<p class='crm-p'>{esc(t(ctx, key, **values))}</p>")


def paragraph(content: str, *, note: bool = False) -> None:
    """Show an already translated paragraph (escaped)."""
    _show(f"<p class='{'crm-note' if note else 'crm-p'}'>{esc(content)}</p>")


def paragraphs(items: Iterable[str | None], *, note: bool = False) -> None:
    """Show already translated paragraphs (escaped), one after another; empty items are skipped."""
    for content in items:
        if content:
            paragraph(content, note=note)


def bullets(items: Iterable[str]) -> None:
    """Show already translated bullet points (escaped)."""
    _show("<ul class='crm-p'>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>")


def missing(ctx: Any, table: str, columns: Sequence[str] | None = None) -> None:
    """Say in one sentence which data would enable a section (missing optional table or column).

    The table and its columns are named for readers in the report's language, each column followed by its
    params name (what to map under ``data.<table>.columns``) when the two differ.
    """
    lang = ctx.lang

    def named(column: str) -> str:
        label = i18n.field_label(table, column, lang)
        return label if label == column else f"{label} ({column})"

    shown_table = i18n.table_label(table, lang)
    if columns and (table == "orders" or ctx.tables.get(table) is not None):
        message = t(ctx, "common.missing_column", table=shown_table, key=table,
                    column=", ".join(named(c) for c in columns))
    else:
        needed = list(columns or ctx.required_columns(table))
        message = t(ctx, "common.missing_table", table=shown_table, key=table,
                    columns=", ".join(named(c) for c in needed))
    _show(f"<p class='crm-note'>{esc(message)}</p>")


# -- tables -------------------------------------------------------------------------------------------
def _label(ctx: Any, col: str, labels: dict[str, str]) -> str:
    key = labels.get(col)
    if key:
        return t(ctx, key) if i18n.has(key) else key
    if i18n.has(f"col.{col}"):
        return t(ctx, f"col.{col}")
    return col.replace("_", " ")


def format_frame(ctx: Any, frame: pd.DataFrame, *, money: Sequence[str] = (), dates: Sequence[str] = (),
                 pct: Sequence[str] = (), ints: Sequence[str] = (), decimals: dict[str, int] | None = None,
                 months: Sequence[str] = ()) -> pd.DataFrame:
    """Return a copy of ``frame`` with every listed column formatted as text in the report's language."""
    out = frame.copy()
    decimals = decimals or {}
    for col in out.columns:
        series = out[col]
        if col in money:
            out[col] = [fmt.money(v, ctx.lang, ctx.currency) for v in series]
        elif col in dates:
            out[col] = [fmt.date(v, ctx.lang) for v in series]
        elif col in months:
            out[col] = [fmt.month(v, ctx.lang, short=True) for v in series]
        elif col in pct:
            out[col] = [fmt.pct(v, ctx.lang) for v in series]
        elif col in ints:
            out[col] = [fmt.number(v, ctx.lang) for v in series]
        elif col in decimals:
            out[col] = [fmt.number(v, ctx.lang, decimals[col]) for v in series]
        elif pd.api.types.is_float_dtype(series):
            out[col] = [fmt.number(v, ctx.lang, 2) for v in series]
        elif pd.api.types.is_integer_dtype(series):
            out[col] = [fmt.number(v, ctx.lang) for v in series]
        elif pd.api.types.is_datetime64_any_dtype(series):
            out[col] = [fmt.date(v, ctx.lang) for v in series]
        else:
            out[col] = ["–" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in series]
    return out


_NOWRAP = ("phone", "customer_id", "order_id", "ticket_id")  # short codes and numbers a line break would garble
# Names keep at least two words a line (a long reason column must not squeeze them to five lines).
_NAMES = ("name", "product_name", "antecedent_names", "consequent_names", "antecedents", "consequents", "product",
          "premium", "items", "action_text", "segment_action", "group", "segment_group", "tier_group", "segment",
          "standard")
_LONG_TEXT = ("reasons_text", "message_text", "strategy", "message", "reason", "definition", "meaning")
_NUMERIC_TEXT = re.compile(r"^[-–%+]?[\d.,\s%]*(TL|TRY|[€$£])?[\d.,\s%]*$")


def cell_text(escaped: str, css: str) -> str:
    """A cell's (escaped) text; names and long texts sit in a block with a minimum width, the one way a
    browser keeps a table column from being squeezed to a word per line (min-width on a cell is ignored)."""
    return f"<div class='cw-{css}'>{escaped}</div>" if css in ("name", "long") else escaped


def _cell_classes(frame: pd.DataFrame, body: pd.DataFrame, numeric: set, formats: dict[str, Any]) -> dict[str, str]:
    """CSS class per column: numbers right-aligned, dates and codes unbroken, names and long texts wide enough
    to read (static and interactive tables alike)."""
    nowrap = (set(formats.get("dates", ())) | set(formats.get("months", ())) | set(_NOWRAP)
              | {c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])})
    return {c: "num" if c in numeric else "nw" if c in nowrap else "name" if c in _NAMES else
            "long" if c in _LONG_TEXT else "" for c in body.columns}


def table_html(ctx: Any, frame: pd.DataFrame, *, labels: dict[str, str] | None = None,
               max_rows: int | None = None, **formats: Any) -> str:
    """Return an escaped, formatted HTML table (see :func:`table`)."""
    labels = labels or {}
    frame = mask_contacts(frame, enabled=masks_html(ctx))
    limit = max_rows if max_rows is not None else int(ctx.params["report"].get("max_rows", 25))
    shown = frame.head(limit) if limit and limit > 0 else frame
    numeric = {c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])}
    numeric |= set(formats.get("money", ())) | set(formats.get("pct", ()))
    body = format_frame(ctx, shown, **formats)
    css = _cell_classes(frame, body, numeric, formats)
    head = "".join(f"<th class='{'num' if c in numeric else ''}'>{esc(_label(ctx, c, labels))}</th>"
                   for c in body.columns)
    rows = []
    for record in body.itertuples(index=False):
        cells = "".join(f"<td class='{css[col]}'>{cell_text(esc(value), css[col])}</td>"
                        for col, value in zip(body.columns, record, strict=True))
        rows.append(f"<tr>{cells}</tr>")
    more = ""
    if len(frame) > len(shown):
        note = t(ctx, "common.rows_shown", shown=fmt.number(len(shown), ctx.lang),
                 total=fmt.number(len(frame), ctx.lang))
        more = f"<div class='crm-more'>{esc(note)}</div>"
    return f"<table class='crm-table'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


#: column units a practice declares (``units={"revenue": "money"}``) -> the format list they fill
UNIT_FORMATS: dict[str, str] = {"money": "money", "pct": "pct", "int": "ints", "date": "dates", "month": "months"}


def column_spec(frame: pd.DataFrame, *, ns: str | None = None, units: dict[str, str] | None = None,
                labels: dict[str, str] | None = None, **formats: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """Labels and formats of ``frame``'s columns from a practice's namespace and column-unit map.

    A column's header is ``labels[column]`` when given, else ``<ns>.col.<column>`` when the catalogue has it
    (then ``col.<column>``, see :func:`table`). ``units`` maps columns to ``money``, ``pct``, ``int``,
    ``date``, ``month`` or ``number:<digits>`` (as ``KPI_UNITS`` of :mod:`crmlib.overview.kpis` does);
    explicit ``formats`` win.
    """
    labels = dict(labels or {})
    if ns:
        for col in frame.columns:
            if col not in labels and i18n.has(f"{ns}.col.{col}"):
                labels[col] = f"{ns}.col.{col}"
    merged: dict[str, Any] = {key: list(value) if not isinstance(value, dict) else dict(value)
                              for key, value in formats.items()}
    taken = {c for value in formats.values() for c in value}
    for col, unit in (units or {}).items():
        if col not in frame.columns or col in taken:
            continue
        if unit.startswith("number"):
            digits = int(unit.partition(":")[2] or 2)
            merged.setdefault("decimals", {})[col] = digits
        elif unit in UNIT_FORMATS:
            merged.setdefault(UNIT_FORMATS[unit], []).append(col)
        else:
            raise ValueError(f"unknown column unit {unit!r} for {col!r}; use one of "
                             f"{', '.join([*UNIT_FORMATS, 'number:<digits>'])}")
    return labels, merged


def table(ctx: Any, frame: pd.DataFrame, *, labels: dict[str, str] | None = None, max_rows: int | None = None,
          interactive: bool | None = None, ns: str | None = None, units: dict[str, str] | None = None,
          header_values: dict[str, Any] | None = None, **formats: Any) -> None:
    """Show a table with labels from the catalogue, formatted money/dates/percentages, every cell escaped.

    Parameters
    ----------
    labels
        Column → catalogue key of its header (default: ``col.<column>`` when it exists).
    max_rows
        Rows shown (default ``report.max_rows``); the exports always hold every row.
    interactive
        Sortable, searchable and filterable in the browser (:mod:`crmlib.report.interactive`). By default a
        table longer than ``max_rows`` is interactive (up to ``report.interactive_max_rows`` rows) when
        ``report.interactive_tables`` is on; shorter summaries stay static.
    ns, units
        A practice's namespace (headers ``<ns>.col.<column>``, then ``col.<column>``) and its column-unit
        map (:func:`column_spec`), so that a notebook needs neither a labels dict nor format lists. Without
        ``units``, the practice's own map is used: ``UNITS`` in ``crmlib/<ns>/report.py``.
    header_values
        Values of the headers' placeholders (``{"k": 5}`` for "Customers with a hit (top {k})").
    formats
        ``money=[...]``, ``dates=[...]``, ``months=[...]``, ``pct=[...]``, ``ints=[...]``,
        ``decimals={col: digits}``.
    """
    if units is None and ns and hasattr(ctx, "column_units"):  # the practice's UNITS (its report.py)
        units = ctx.column_units(ns)
    labels, formats = column_spec(frame, ns=ns, units=units, labels=labels, **formats)
    if header_values:
        labels = {col: t(ctx, key, **header_values) if i18n.has(key) else key for col, key in labels.items()}
    report = ctx.params.get("report", {})
    limit = max_rows if max_rows is not None else int(report.get("max_rows", 25))
    if interactive is None:
        interactive = bool(report.get("interactive_tables", True)) and bool(limit) and len(frame) > limit
    if interactive:
        _show(interactive_table_html(ctx, frame, labels=labels, **formats))
    else:
        _show(table_html(ctx, frame, labels=labels, max_rows=max_rows, **formats))


_LOADER_SHOWN = False


def interactive_table_html(ctx: Any, frame: pd.DataFrame, *, labels: dict[str, str] | None = None,
                           **formats: Any) -> str:
    """A sortable, searchable, filterable table (:mod:`crmlib.report.interactive`) of at most
    ``report.interactive_max_rows`` rows, with the DataTables loader the first time in a notebook."""
    global _LOADER_SHOWN
    from crmlib.report import interactive

    labels = labels or {}
    frame = mask_contacts(frame, enabled=masks_html(ctx))
    cap = int(ctx.params.get("report", {}).get("interactive_max_rows", 500))
    head = frame.head(cap) if cap > 0 else frame
    body = format_frame(ctx, head, **formats)
    numeric = {c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])}
    numeric |= set(formats.get("money", ())) | set(formats.get("pct", ()))
    css = _cell_classes(frame, body, numeric, formats)
    markup = interactive.table_html(head, body, headers=[_label(ctx, c, labels) for c in body.columns], css=css,
                                    lang=ctx.lang, total=len(frame),
                                    note=interactive.cap_note(ctx.lang, shown=len(head), total=len(frame)))
    if not _LOADER_SHOWN:
        markup = interactive.loader_html() + markup
        _LOADER_SHOWN = True
    return markup


def figure(fig: Any, *, alt: str | None = None) -> None:
    """Show a matplotlib figure once, as a PNG whose alternative text is its title, and close it."""
    import io

    import matplotlib.pyplot as plt
    from IPython.display import Image

    if alt is None:
        titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
        alt = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else "; ".join(titles)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    display(Image(data=buffer.getvalue(), format="png", metadata={"alt": alt or ""}))


# -- personal data ------------------------------------------------------------------------------------
def mask_name(value: Any) -> Any:
    """``Yıldız Tekstil Ltd.`` → ``Y***** T****** L***``."""
    if not isinstance(value, str) or not value:
        return value
    return " ".join(w[0] + "*" * (len(w) - 1) if len(w) > 1 else w for w in value.split())


def mask_email(value: Any) -> Any:
    """``ali.veli@firma.com.tr`` → ``a***@f****.com.tr`` (a company's own domain names the company)."""
    if not isinstance(value, str) or "@" not in value:
        return value
    local, domain = value.split("@", 1)
    head, dot, tail = domain.partition(".")
    return f"{local[:1]}***@{head[:1]}{'*' * max(len(head) - 1, 1)}{dot}{tail}"


def mask_phone(value: Any) -> Any:
    """``+90 532 123 45 67`` → ``+90 5** *** ** 67`` (keeps the country code and the last two digits)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
        value = str(int(value))  # a phone number read as a number must not escape masking
    if not isinstance(value, str) or not value:
        return value
    digits = [i for i, ch in enumerate(value) if ch.isdigit()]
    keep = set(digits[:3]) | set(digits[-2:])
    return "".join(ch if (not ch.isdigit() or i in keep) else "*" for i, ch in enumerate(value))


def masks_html(ctx: Any) -> bool:
    """Whether the HTML shows contacts masked: ``report.mask_pii`` or ``report.mask_pii_in_html`` (default true).

    Managers reading the reports do not need to call anyone; the sales team's XLSX/CSV lists keep names and
    phones unless ``report.mask_pii`` is set.
    """
    report = ctx.params["report"]
    return bool(report.get("mask_pii") or report.get("mask_pii_in_html", True))


def mask_contacts(frame: pd.DataFrame, *, enabled: bool) -> pd.DataFrame:
    """Mask the ``name``, ``contact_person``, ``email`` and ``phone`` columns of ``frame`` when ``enabled``;
    a ``message`` column addressed to one of those names gets the masked name too."""
    if not enabled:
        return frame
    out = frame.copy()
    for col, func in (("name", mask_name), ("contact_person", mask_name), ("email", mask_email),
                      ("phone", mask_phone)):
        if col in out.columns:
            raw = out[col]
            out[col] = raw.map(func)
            if "message" in out.columns and col in ("name", "contact_person"):
                out["message"] = [m.replace(r, k) if isinstance(m, str) and isinstance(r, str) and r and isinstance(
                    k, str) else m for m, r, k in zip(out["message"], raw, out[col], strict=True)]
    return out
