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
    ("service", {"week_days": 0}, r"'service.week_days' must be a whole number >= 1, got 0"),
    ("segmentation", {"bins": 1}, r"'segmentation.bins' must be a whole number from 2 to 10"),
])
def test_practice_values_are_checked_when_params_load(section, value, message):
    with pytest.raises(ParamsError, match=message):
        params.normalize({**MINIMAL, section: value})


@pytest.mark.parametrize("yaml_text, expected", [
    ("churn:\n  levels: {medium: .9, high: .5, critical: .75}\n",
     ["'churn.levels' must be three lower bounds of the risk score in the order medium <= high <= critical",
      "got {'medium': 0.9, 'high': 0.5, 'critical': 0.75}",
      "For example: churn: {levels: {medium: 0.3, high: 0.5, critical: 0.75}}."]),
    ("cross_sell:\n  min_support: 2.0\n",
     ["'cross_sell.min_support' must be a share in (0, 1], got 2.0.",
      "For example: cross_sell: {min_support: 0.005}."]),
    ("clv:\n  horizon_days: -5\n",
     ["'clv.horizon_days' must be a positive number of days, got -5.", "For example: clv: {horizon_days: 365}."]),
    ("clv:\n  value: profit\n",
     ["'clv.value' must be 'revenue' or 'margin', got 'profit'.", "For example: clv: {value: revenue}."]),
])
def test_validate_exits_2_with_one_message_for_a_bad_practice_value(tmp_path, capsys, yaml_text, expected):
    from crmlib.__main__ import main

    path = tmp_path / "p.yaml"
    # the data file does not exist: the value is refused when the params load, before any data is read
    path.write_text("data:\n  orders: missing.csv\n" + yaml_text, encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: Params key ") and "Traceback" not in err
    for part in expected:
        assert part in err, err
    assert "missing.csv" not in err


@pytest.mark.parametrize("section, value, message", [
    ("churn", {"list_levels": ["urgent"]}, r"'churn.list_levels' must be a non-empty list of risk levels"),
    ("churn", {"weights": {"overdue": 1.5}}, r"'churn.weights.overdue' must be a number in \[0, 1\], got 1.5"),
    ("clv", {"time_unit": "M"}, r"'clv.time_unit' must be 'W' or 'D', got 'M'"),
    ("clv", {"margin_rate": 25}, r"'clv.margin_rate' must be a share in \(0, 1\] or null, got 25"),
    ("cross_sell", {"min_confidence": 0}, r"'cross_sell.min_confidence' must be a share in \(0, 1\], got 0"),
    ("cross_sell", {"premium_max_price_ratio": 1.05}, r"'cross_sell.premium_max_price_ratio' must be a price "
                                                      r"multiple >= premium_min_price_ratio \(1.1\), got 1.05"),
    ("segmentation", {"method": "fixed"}, r"'segmentation.monetary_edges' is required with method: fixed"),
    ("segmentation", {"method": "kmeans"}, r"'segmentation.method' must be 'quantile' or 'fixed', got 'kmeans'"),
    ("segmentation", {"abc": {"window_days": 0}}, r"'segmentation.abc.window_days' must be a number of days > 0"),
    ("loyalty", {"near_tier_share": 0}, r"'loyalty.near_tier_share' must be a share in \(0, 1\], got 0"),
    ("service", {"checkin_days": [30, 15]}, r"'service.checkin_days' must be increasing days"),
])
def test_more_practice_values_are_checked_at_load(section, value, message):
    with pytest.raises(ParamsError, match=message):
        params.normalize({**MINIMAL, section: value})


def test_check_names_a_close_choice():
    with pytest.raises(ParamsError, match=r"'clv.value' must be 'revenue' or 'margin', got 'margn' "
                                          r"\(did you mean 'margin'\?\)\. For example: clv: \{value: revenue\}"):
        params.normalize({**MINIMAL, "clv": {"value": "margn"}})


def test_one_did_you_mean_folds_case_accents_and_punctuation():
    from crmlib.errors import did_you_mean

    assert did_you_mean("Sipariş Tarihi", ["siparis_tarihi", "tutar"]) == ["siparis_tarihi"]
    assert did_you_mean("min_suport", ["min_support", "min_lift"])[0] == "min_support"
    assert did_you_mean("zzz", ["min_support"]) == []


def test_csv_dialect_is_checked_when_the_params_load():
    from crmlib.core import params as params_mod
    from crmlib.errors import ParamsError

    assert params_mod.normalize({"data": {"orders": "o.csv"}})["report"]["csv_dialect"] is None
    ok = params_mod.normalize({"data": {"orders": "o.csv"}, "report": {"csv_dialect": "excel-tr"}})
    assert ok["report"]["csv_dialect"] == "excel-tr"
    with pytest.raises(ParamsError, match="report.csv_dialect' must be excel-tr"):
        params_mod.normalize({"data": {"orders": "o.csv"}, "report": {"csv_dialect": "excel"}})
