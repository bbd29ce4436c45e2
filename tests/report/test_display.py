"""Report helpers: every customer-supplied string escaped, numbers formatted, masking."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from crmlib.report import display as rp


def _ctx(lang="tr"):
    return SimpleNamespace(lang=lang, currency="TRY", params={"report": {"max_rows": 2}})


def test_table_escapes_customer_strings_and_formats_money():
    frame = pd.DataFrame({"customer_id": ["<script>alert(1)</script>", "A&B \"Ltd\""],
                          "revenue": [1234567.0, 10.0], "order_date": pd.to_datetime(["2026-01-02", "2026-03-04"])})
    out = rp.table_html(_ctx(), frame, money=["revenue"], dates=["order_date"])
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "A&amp;B &quot;Ltd&quot;" in out
    assert "1.234.567 TL" in out and "02.01.2026" in out


def test_table_truncates_and_says_so():
    frame = pd.DataFrame({"x": range(5)})
    out = rp.table_html(_ctx("en"), frame)
    assert out.count("<tr>") == 3  # header + 2 rows
    assert "Showing 2 of 5 rows" in out


def test_masking():
    assert rp.mask_email("ali.veli@firma.com.tr") == "a***@f****.com.tr"
    assert rp.mask_phone("+90 532 123 45 67") == "+90 5** *** ** 67"
    assert rp.mask_name("Yıldız Tekstil Ltd.") == "Y***** T****** L***"
    frame = pd.DataFrame({"name": ["Öz Ambalaj"], "email": ["x@y.com"], "phone": [None]})
    masked = rp.mask_contacts(frame, enabled=True)
    assert masked.loc[0, "name"] == "Ö* A******" and masked.loc[0, "email"] == "x***@y*.com"
    assert rp.mask_contacts(frame, enabled=False) is frame


def test_phone_read_as_a_number_is_masked_too():
    assert rp.mask_phone(905321234567.0) == "905*******67"


def test_html_tables_mask_contacts_unless_mask_pii_in_html_is_false():
    frame = pd.DataFrame({"customer_id": ["C1"], "name": ["Yıldız Tekstil"], "phone": ["+90 532 123 45 67"],
                          "email": ["ali@yildiz.com.tr"]})
    masked = rp.table_html(_ctx("en"), frame)  # the default: report.mask_pii_in_html true
    assert "Yıldız" not in masked and "123 45" not in masked and "ali@" not in masked
    assert "Y***** T******" in masked and "+90 5** *** ** 67" in masked and "C1" in masked
    ctx = _ctx("en")
    ctx.params["report"].update(mask_pii_in_html=False)
    plain = rp.table_html(ctx, frame)
    assert "Yıldız Tekstil" in plain and "+90 532 123 45 67" in plain
    ctx.params["report"].update(mask_pii=True)  # mask_pii masks everywhere, HTML included
    assert "Yıldız" not in rp.table_html(ctx, frame)
    interactive = rp.interactive_table_html(_ctx("en"), frame)  # sortable tables mask the same way
    assert "Yıldız" not in interactive and "123 45" not in interactive and "Y***** T******" in interactive


def test_practice_namespace_and_units_replace_labels_and_format_lists(capsys):
    from crmlib.report import i18n

    frame = pd.DataFrame({"name": ["Öz Ambalaj"], "rank": [1], "city": ["İzmir"], "revenue": [1234.5],
                          "share": [0.25], "score": [0.123456]})
    labels, formats = rp.column_spec(frame, ns="xsell", units={"revenue": "money", "share": "pct",
                                                                "score": "number:3", "absent": "money"})
    # <ns>.col.<column> first, then the shared col.<column> (no xsell.col.city: the shared one is used)
    assert labels == {"name": "xsell.col.name", "rank": "xsell.col.rank", "score": "xsell.col.score"}
    assert formats == {"money": ["revenue"], "pct": ["share"], "decimals": {"score": 3}}
    out = rp.table_html(_ctx("en"), frame, labels=labels, max_rows=5, **formats)
    assert f">{i18n.t('xsell.col.rank', 'en')}<" in out and f">{i18n.t('col.city', 'en')}<" in out
    assert ">TRY 1,234<" in out and ">25.0%<" in out and ">0.123<" in out
    # explicit formats win over the unit map; an unknown unit is refused
    assert rp.column_spec(frame, units={"share": "pct"}, ints=["share"])[1] == {"ints": ["share"]}
    import pytest

    with pytest.raises(ValueError, match="unknown column unit 'euro'"):
        rp.column_spec(frame, units={"revenue": "euro"})


def test_header_values_fill_the_placeholders_of_a_namespace_header(monkeypatch):
    shown = []
    monkeypatch.setattr(rp, "_show", shown.append)
    frame = pd.DataFrame({"method": ["Ours"], "hit_rate": [0.5]})
    rp.table(_ctx("en"), frame, ns="xsell", units={"hit_rate": "pct"}, header_values={"k": 5})
    assert ">Customers with a hit (top 5)<" in shown[0] and ">50.0%<" in shown[0] and "{k}" not in shown[0]


def test_paragraphs_show_each_sentence_escaped_and_skip_empty_ones(monkeypatch):
    shown = []
    monkeypatch.setattr(rp, "_show", shown.append)
    rp.paragraphs(["A & B", "", None, "C"], note=True)
    assert shown == ["<p class='crm-note'>A &amp; B</p>", "<p class='crm-note'>C</p>"]


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "<b>Orders:</b> 2 (and 1 with no net purchase: returns or cancellations)"),
    ("tr", "<b>Siparişler:</b> 2 (ve net satışı olmayan 1: iade ya da iptal)"),
])
def test_header_counts_purchases_and_names_the_other_orders(monkeypatch, lang, expected):
    shown: list[str] = []
    monkeypatch.setattr(rp, "_show", shown.append)
    orders = pd.DataFrame({"is_purchase": [True, True, False]})
    ctx = SimpleNamespace(lang=lang, orders_columns=lambda cols: orders[cols], customer_summary=pd.DataFrame({"x": [1, 2]}),
                                as_of=pd.Timestamp("2026-06-30"),
                                data_window=(pd.Timestamp("2026-06-01"), pd.Timestamp("2026-06-30")),
                                params={"report": {}})
    rp.header(ctx, "clv.title")
    assert expected in shown[0]
    every = orders.assign(is_purchase=True)  # every order a purchase: the count alone, as the validate line says
    rp.header(SimpleNamespace(**{**vars(ctx), "orders_columns": lambda cols: every[cols]}), "clv.title")
    assert "<b>Orders:</b> 3</span>" in shown[1] or "<b>Siparişler:</b> 3</span>" in shown[1]
