"""Interactive tables: sortable by value (not by text), searchable, translated, offline, escaped."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from crmlib.report import display

from .headless import CHROMIUM, Browser


def _ctx(lang: str, **report) -> SimpleNamespace:
    # contacts unmasked here, to see the hostile name escaped (the reports mask them by default)
    return SimpleNamespace(lang=lang, currency="TRY",
                           params={"report": {"max_rows": 3, "mask_pii_in_html": False, **report}})


FRAME = pd.DataFrame({
    "customer_id": ["C1", "C2", "C3", "C4", "C5"],
    "name": ["Zeta Ltd", "<img src=x onerror=alert(1)>", "Alfa A.Ş.", "Beta", "Gama"],
    "value_at_stake": [9.0, 100.0, 10.0, 1000.0, 55.5],
    "last_order_date": pd.to_datetime(["2026-01-02", "2025-12-30", "2026-03-01", "2026-02-10", "2025-01-01"]),
    "city": ["İstanbul", "Ankara", "İstanbul", "İzmir", "Ankara"],
})


def test_long_tables_become_interactive_and_short_ones_stay_static(monkeypatch):
    shown = []
    monkeypatch.setattr(display, "_show", shown.append)
    monkeypatch.setattr(display, "_LOADER_SHOWN", False)
    display.table(_ctx("en"), FRAME, money=["value_at_stake"], dates=["last_order_date"])
    display.table(_ctx("en"), FRAME.head(2), money=["value_at_stake"])
    display.table(_ctx("en"), FRAME, money=["value_at_stake"])
    assert "crm-dt" in shown[0] and "_crmDataTables=import" in shown[0]
    assert "crm-dt" not in shown[1]
    assert "crm-dt" in shown[2] and "_crmDataTables=import" not in shown[2]  # the library once per page
    assert "<img src=x" not in shown[0] and "&lt;img src=x onerror=alert(1)&gt;" in shown[0]
    assert "data-order='1000.0'" in shown[0] and "data-order='2026-03-01'" in shown[0]
    off = []
    monkeypatch.setattr(display, "_show", off.append)
    display.table(_ctx("en", interactive_tables=False), FRAME)
    assert "crm-dt" not in off[0]


def test_interactive_rows_are_capped_with_a_sentence():
    ctx = _ctx("tr", interactive_max_rows=2)
    html = display.interactive_table_html(ctx, FRAME)
    assert html.count("<tr>") == 1 + 2
    assert "5 satırın ilk 2 satırı" in html


def _page(tmp_path, lang: str) -> str:
    display._LOADER_SHOWN = False
    body = display.interactive_table_html(_ctx(lang), FRAME, money=["value_at_stake"], dates=["last_order_date"])
    path = tmp_path / f"t_{lang}.html"
    path.write_text(f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'></head><body>{body}</body>"
                    "</html>", encoding="utf-8")
    return path


SCRIPT = """(async () => {
  await window._crmDataTables;
  for (let i = 0; i < 100 && !document.querySelector('table.crm-dt.dataTable'); i++)
    await new Promise(r => setTimeout(r, 50));
  const rows = () => [...document.querySelectorAll('table.crm-dt tbody tr')].map(r => r.cells[0].innerText);
  const header = document.querySelectorAll('table.crm-dt thead th')[%d];
  header.click(); await new Promise(r => setTimeout(r, 300));
  const ascending = rows();
  const input = document.querySelector('.dt-search input');
  input.value = '%s'; input.dispatchEvent(new Event('input', {bubbles: true}));
  await new Promise(r => setTimeout(r, 300));
  return {ascending, searched: rows(), label: document.querySelector('.dt-search label').innerText,
          dialogs: window.__dialogs || 0};
})()"""


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
@pytest.mark.parametrize(("lang", "word", "search_label"), [("en", "İstanbul", "Search"), ("tr", "İstanbul", "Ara")])
def test_sorting_and_search_work_in_chromium_offline(tmp_path, lang, word, search_label):
    path = _page(tmp_path, lang)
    with Browser() as browser:
        visit = browser.visit(path)
        result = browser.evaluate(path, SCRIPT % (2, word))  # the value-at-stake column
    assert visit["outside_requests"] == [] and visit["dialogs"] == [] and visit["injected_img"] == 0
    assert result["ascending"] == ["C1", "C3", "C5", "C2", "C4"]  # 9 < 10 < 55.5 < 100 < 1000, not as text
    assert result["searched"] == ["C1", "C3"]
    assert result["label"].startswith(search_label)
