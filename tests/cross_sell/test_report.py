"""``crmlib.cross_sell.report.analyse``: the cross-sell notebook's one call, on the sample and without products."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from crmlib.cross_sell import report as xsell_report
from crmlib.report import i18n
from tests.conftest import context_from, write_sample_params
from tests.thin.cuts import make_cut


@pytest.fixture(scope="module")
def analysed(sample_params, tmp_path_factory):
    exports = tmp_path_factory.mktemp("xsell_exports")
    ctx = context_from(sample_params, exports)
    return ctx, xsell_report.analyse(ctx), exports


def test_analyse_returns_every_section_and_agrees_with_the_exports(analysed):
    ctx, res, exports = analysed
    assert isinstance(res, xsell_report.CrossSellAnalysis) and res.has_products and res.missing == []
    rules = pd.read_csv(exports / "association_rules.csv")
    suggestions = pd.read_csv(exports / "cross_sell.csv", dtype={"customer_id": str})
    assert len(rules) == len(res.rules) > 0
    assert 0 < len(res.top_rules) <= 10 and list(res.top_rules.columns[:2]) == ["antecedents", "consequents"]
    # the tiles count the customers with suggestions in the export
    assert res.tiles[1][1] == f"{suggestions['customer_id'].nunique():,}"
    # the next-best table: the ten largest customers' first three suggestions, all from the export
    assert res.next_best["rank"].max() <= xsell_report.NEXT_BEST_PER_CUSTOMER
    assert res.next_best["customer_id"].nunique() <= xsell_report.NEXT_BEST_CUSTOMERS
    assert set(res.next_best["customer_id"]) <= set(suggestions["customer_id"])
    assert "product" in res.next_best.columns and "reason" in res.next_best.columns
    # the sample's products table has category and price: premium alternatives are shown and exported
    assert res.premium_missing == [] and res.has_premium_table
    assert {"standard", "premium"} <= set(res.premium.columns)
    assert (exports / "premium_alternatives.csv").exists() and (exports / "preseason.csv").exists()
    assert res.has_validation and list(res.validation_table["n_customers"]) == list(res.evaluation["n_customers"])
    assert res.header_values == {"k": int(ctx.params["cross_sell"]["top_n"])}
    assert len(res.summary) >= 3 and all(isinstance(line, str) and line for line in res.summary)
    if len(res.bundles):
        assert res.bundles["discount"].between(0, 1).all()


def test_every_table_column_has_a_unit_or_text(analysed):
    _, res, _ = analysed
    for frame in (res.top_rules, res.bundles, res.next_best, res.premium, res.preseason, res.validation_table):
        for col in frame.columns:
            if pd.api.types.is_numeric_dtype(frame[col]) or pd.api.types.is_datetime64_any_dtype(frame[col]):
                assert col in xsell_report.UNITS, col
            assert i18n.has(f"xsell.col.{col}"), col


def test_without_product_ids_the_report_is_one_sentence(sample_dir, tmp_path):
    cut = make_cut(sample_dir, tmp_path / "data", "no_product")
    params = write_sample_params(cut, tmp_path / "thin.yaml")
    raw = yaml.safe_load(params.read_text(encoding="utf-8"))
    raw["data"]["orders"]["columns"].pop("product_id")
    params.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    ctx = context_from(params, tmp_path / "exports")
    res = xsell_report.analyse(ctx)
    assert not res.has_products and res.missing == ["product_id"] and res.summary == []
    for frame in (res.rules, res.top_rules, res.bundles, res.next_best, res.premium, res.preseason,
                  res.validation_table):
        assert isinstance(frame, pd.DataFrame) and frame.empty
    assert not (tmp_path / "exports" / "cross_sell.csv").exists()


def test_a_month_of_history_says_in_the_summary_why_the_check_tiles_are_dashes(sample_dir, tmp_path):
    cut = make_cut(sample_dir, tmp_path / "data", "days_30")
    ctx = context_from(write_sample_params(cut, tmp_path / "thin.yaml"), tmp_path / "exports")
    res = xsell_report.analyse(ctx)
    assert not res.has_validation and [value for _, value in res.tiles[2:]] == ["–", "–"]
    assert res.validation_lines[0] in res.summary  # the reason is in the summary, not only at the page's end
