"""``crmlib.loyalty.report.analyse``: the loyalty sections of 05_loyalty_and_service and their action lists."""

from __future__ import annotations

import dataclasses

import pandas as pd

from crmlib import loyalty
from crmlib.loyalty import report as loy_report
from crmlib.report import i18n


def own_context(ctx, tmp_path, **changes):
    """A copy of the shared context with its own export and context folders (the fixture stays untouched)."""
    changes = {"_history": {}, "meta": dict(ctx.meta), **changes}
    return dataclasses.replace(ctx, export_dir=tmp_path / "exports", context_dir=tmp_path / "ctx", **changes)


def read(tmp_path, name):
    return pd.read_csv(tmp_path / "exports" / f"{name}.csv", dtype={"customer_id": str, "referrer_id": str})


def test_analyse_returns_the_sections_and_writes_the_action_lists(sample_ctx, tmp_path):
    res = loy_report.analyse(own_context(sample_ctx, tmp_path))
    assert isinstance(res, loyalty.LoyaltyAnalysis)
    # every customer with spend in the tier months is in exactly one tier
    assert res.tier_table["customers"].sum() == len(res.tiers) > 0
    assert list(res.tier_table["tier"]) == loy_report.tier_names(list(res.thresholds), lang="en", currency="TRY")
    assert "tier_monthly_spend" in res.tier_table.columns  # its header: "Monthly spend (tier total)"
    upsell = read(tmp_path, "discount_upsell")
    assert len(upsell) == len(res.near) > 0 and set(upsell["customer_id"]) == set(res.near["customer_id"])
    terms = read(tmp_path, "payment_terms")
    assert len(terms) == len(res.terms) and (terms["terms_days"] == res.terms["terms_days"].iloc[0]).all()
    assert len(read(tmp_path, "special_days")) == len(res.special)
    assert set(res.special["occasion"]) <= {i18n.t("loy.birthday", "en"), i18n.t("loy.anniversary", "en")}
    assert len(read(tmp_path, "priority_stock")) == len(res.priority)
    referrals = read(tmp_path, "referral_rewards")
    assert len(referrals) == len(res.referrals) > 0
    assert res.summary[0].startswith(i18n.t("loy.summary.tiers", "en", n_discount="X", n_top="X", months=3,
                                             cost="X", n_near="X").split("X")[0])
    assert res.tiles[2][1] == f"{len(res.terms):,}"
    assert res.has_products and res.has_referrals and not res.payments_missing
    assert res.priority_sentence and res.referrals_sentence


def test_analyse_without_optional_tables_gives_empty_lists(sample_ctx, tmp_path):
    bare = own_context(sample_ctx, tmp_path, tables={name: None for name in sample_ctx.tables},
                       order_lines=sample_ctx.order_lines.drop(columns="product_id"))
    res = loy_report.analyse(bare)
    assert not res.has_products and res.priority.empty and res.priority_sentence is None
    assert "customer_id" in res.priority.columns and "referrer_id" in res.referrals.columns
    assert not res.has_referrals and res.referrals.empty and res.referrals_sentence is None
    assert res.payments_missing == ("customer_id", "due_date", "paid_date")
    assert res.terms.empty and res.special_people_sentence is None
    assert not (tmp_path / "exports" / "priority_stock.csv").exists()
    assert not (tmp_path / "exports" / "referral_rewards.csv").exists()
    assert res.tier_table["customers"].sum() == len(res.tiers)
