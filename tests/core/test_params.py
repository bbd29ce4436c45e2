"""Params: defaults, unknown keys with a did-you-mean, bad values, YAML errors."""

from __future__ import annotations

import pytest

from crmlib.core import params
from crmlib.errors import ParamsError

MINIMAL = {"data": {"orders": {"path": "orders.csv"}}}


def test_normalize_fills_defaults():
    out = params.normalize(MINIMAL)
    assert out["language"] == "tr" and out["currency"] == "TRY" and out["as_of"] is None
    assert out["data"]["orders"]["read"]["sep"] is None
    assert out["report"]["mask_pii"] is False
    assert set(out) == set(params.TOP_LEVEL)


def test_table_shorthand_is_a_path():
    out = params.normalize({"data": {"orders": "o.csv", "customers": "c.csv"}})
    assert out["data"]["customers"] == {"path": "c.csv", "columns": None, "read": params.READ_KEYS}


def test_unknown_top_level_key_suggests_the_right_one():
    with pytest.raises(ParamsError, match=r"Unknown params key 'langauge'\. Did you mean 'language'\?"):
        params.normalize({**MINIMAL, "langauge": "en"})


def test_unknown_table_and_read_keys():
    with pytest.raises(ParamsError, match=r"'data\.custmers'.*Did you mean 'customers'"):
        params.normalize({"data": {"orders": "o.csv", "custmers": "c.csv"}})
    with pytest.raises(ParamsError, match=r"'data\.orders\.read\.seperator'.*Did you mean 'sep'|seperator"):
        params.normalize({"data": {"orders": {"path": "o.csv", "read": {"seperator": ";"}}}})


def test_unknown_report_key():
    with pytest.raises(ParamsError, match=r"'report\.mask_pi'.*Did you mean 'mask_pii'"):
        params.normalize({**MINIMAL, "report": {"mask_pi": True}})


def test_orders_required():
    with pytest.raises(ParamsError, match=r"'data\.orders' is required"):
        params.normalize({"data": {"customers": "c.csv"}})


@pytest.mark.parametrize("value, message", [
    ({"language": "de"}, r"'language' must be 'tr' or 'en', got 'de'"),
    ({"as_of": "31/31/2024"}, r"'as_of' must be a date like 2026-06-30 or null, got '31/31/2024'"),
])
def test_bad_values(value, message):
    with pytest.raises(ParamsError, match=message):
        params.normalize({**MINIMAL, **value})


def test_as_of_accepts_yaml_dates(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("as_of: 2025-03-31\ndata:\n  orders: o.csv\n", encoding="utf-8")
    assert params.load(path)["as_of"] == "2025-03-31"


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("data:\n  orders: [o.csv\nlanguage: en\n", encoding="utf-8")
    with pytest.raises(ParamsError, match=r"not valid YAML at line \d+"):
        params.load(path)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(ParamsError, match="not found"):
        params.load(tmp_path / "nope.yaml")
    (tmp_path / "empty.yaml").write_text("", encoding="utf-8")
    with pytest.raises(ParamsError, match="is empty"):
        params.load(tmp_path / "empty.yaml")


def test_section_defaults_merge_and_reject_unknown(monkeypatch):
    monkeypatch.setattr(params, "section_defaults", lambda s: {"horizon_days": 365, "nested": {"a": 1, "b": 2}}
                        if s == "clv" else ({} if s != "report" else dict(params.REPORT_DEFAULTS)))
    monkeypatch.setattr(params, "_section_check", lambda s: None)
    out = params.normalize({**MINIMAL, "clv": {"horizon_days": 90, "nested": {"b": 5}}})
    assert out["clv"] == {"horizon_days": 90, "nested": {"a": 1, "b": 5}}
    with pytest.raises(ParamsError, match=r"'clv\.horizon_day'.*Did you mean 'horizon_days'"):
        params.normalize({**MINIMAL, "clv": {"horizon_day": 90}})
    with pytest.raises(ParamsError, match=r"'clv\.nested\.c'"):
        params.normalize({**MINIMAL, "clv": {"nested": {"c": 1}}})


def test_shipped_params_files_are_valid():
    from crmlib.core.context import REPO_ROOT

    for name in ("default.yaml", "sample_tr.yaml"):
        out = params.load(REPO_ROOT / "params" / name)
        assert out["data"]["orders"]["columns"]["customer_id"] == "Cari Kodu"
    assert params.load(REPO_ROOT / "params" / "default.yaml")["language"] == "en"
    assert params.load(REPO_ROOT / "params" / "sample_tr.yaml")["language"] == "tr"


@pytest.mark.parametrize("section, value, message", [
    ("loyalty", {"tier_discounts": [0, 0.03]}, r"tier_discounts needs one entry more"),
    ("service", {"week_days": 0}, r"service.week_days must be at least 1"),
    ("segmentation", {"bins": 1}, r"'segmentation.bins' must be a whole number from 2 to 10"),
])
def test_practice_values_are_checked_when_params_load(section, value, message):
    with pytest.raises(ParamsError, match=message):
        params.normalize({**MINIMAL, section: value})
