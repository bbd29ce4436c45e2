"""Work done once per run gives the figures that doing it again gave."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlib import churn
from crmlib.churn import report as actions
from crmlib.churn import weekly
from crmlib.churn.params import resolve


def test_backtest_reuses_the_training_snapshot_with_the_same_metrics(sample_ctx):
    ctx, p = sample_ctx, {"horizon_days": 90}
    model = churn.fit_risk_model(ctx.orders, as_of=ctx.as_of, tables=ctx.tables, params=p, clv_params=None)
    computed = []
    original = churn.backtesting.snapshot_signals

    def counting(*args, **kwargs):
        computed.append(kwargs["as_of"])
        return original(*args, **kwargs)

    churn.backtesting.snapshot_signals = counting
    try:
        again = churn.backtest(ctx.orders, as_of=ctx.as_of, tables=ctx.tables, params=p, population=["active", "all"])
        assert len(computed) == 1
        reused = churn.backtest(ctx.orders, as_of=ctx.as_of, tables=ctx.tables, params=p,
                                population=["active", "all"], model=model)
        assert len(computed) == 1  # the snapshot at as_of - horizon came from the model
        other = churn.backtest(ctx.orders, as_of=ctx.as_of, tables=ctx.tables, params={"horizon_days": 60},
                               population="all", model=model)  # another horizon: computed, not reused
        assert len(computed) == 2 and len(other)
    finally:
        churn.backtesting.snapshot_signals = original
    pd.testing.assert_frame_equal(reused, again)


def test_purchase_dates_of_some_customers_equal_those_of_all(sample_ctx):
    orders, as_of = sample_ctx.orders, sample_ctx.as_of
    everyone = weekly._purchase_dates(orders, as_of)
    some = list(everyone)[::7] + ["nobody"]
    few = weekly._purchase_dates(orders, as_of, pd.Series(some))
    assert set(few) == set(some[:-1])
    for cid in few:
        np.testing.assert_array_equal(few[cid], everyone[cid])


def test_reason_sentences_worded_once_equal_the_per_customer_ones(sample_ctx):
    ctx = sample_ctx
    p = resolve({})
    signals = churn.compute_signals(ctx.customer_summary, ctx.orders, as_of=ctx.as_of, tables=ctx.tables, params=p)
    risk = churn.risk_scores(signals, params=p).set_index("customer_id")
    rows = signals.set_index("customer_id").loc[risk.index].to_dict("records")
    codes = risk["reasons"].fillna("").tolist()
    for lang in ("tr", "en"):
        expected = [churn.reasons_text(c, r, lang, params=p) for c, r in zip(codes, rows, strict=True)]
        assert actions.reason_sentences_many(codes, rows, lang, params=p) == expected
    assert any(expected)


def test_a_listed_customer_without_a_reason_past_its_threshold_gets_a_sentence(sample_ctx):
    """The learned score can list a customer although no single sign fires: the "why" is never empty."""
    from crmlib.churn import report, scoring
    from crmlib.report import i18n

    summary = sample_ctx.customer_summary
    signals = scoring.compute_signals(summary, sample_ctx.orders, as_of=sample_ctx.as_of, tables=sample_ctx.tables)
    coded = scoring.at_risk_list(scoring.risk_scores(signals), signals, as_of=sample_ctx.as_of)
    assert len(coded) > 2
    coded = coded.assign(reasons=["", *coded["reasons"].iloc[1:]])  # as the learned score lists one
    for lang in ("en", "tr"):
        listed = report.worded_list(coded, signals, lang=lang, as_of=sample_ctx.as_of)
        assert listed["reasons_text"].iloc[0] == i18n.t("churn.reason.none_alone", lang)
        assert (listed["reasons_text"].iloc[1:] != i18n.t("churn.reason.none_alone", lang)).all()
        assert (listed["reasons_text"].str.len() > 0).all()
