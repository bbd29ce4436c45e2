"""Each practice gives the same figures from the Spark-built context as from the DuckDB one, on the sample:
the notebooks' own calls, on the two contexts (tests/spark/conftest.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.spark


def test_segments(spark_ctx, sample_ctx):
    pd.testing.assert_frame_equal(spark_ctx.segments(), sample_ctx.segments())
    assert spark_ctx.segments()["rfm_segment"].nunique() > 3


def test_clv_parameters_to_optimiser_precision(spark_ctx, sample_ctx):
    spark, duck = spark_ctx.clv_model().to_dict(), sample_ctx.clv_model().to_dict()
    for model in ("bgnbd", "gamma_gamma"):
        assert spark[model].keys() == duck[model].keys()
        for key, value in duck[model].items():
            if isinstance(value, float):
                assert spark[model][key] == pytest.approx(value, rel=1e-6, abs=1e-9), (model, key)
    assert spark["n_customers"] == duck["n_customers"] > 1000


def test_churn_scores(spark_ctx, sample_ctx):
    from crmlib import churn as ch
    from crmlib.churn import report as crep

    scores = []
    for ctx in (spark_ctx, sample_ctx):
        p = ctx.params["churn"]
        clv_model, expected = crep.clv_inputs(ctx, horizon_days=p["horizon_days"])
        signals = ch.compute_signals(ctx.customer_summary, ctx.orders, as_of=ctx.as_of, tables=ctx.tables,
                                     expected_orders=expected, params=p)
        model = ch.fit_risk_model(ctx.orders, as_of=ctx.as_of, tables=ctx.tables, params=p,
                                  clv_params=ctx.params["clv"] if clv_model is not None else None)
        scores.append(ch.risk_scores(signals, params=p, model=model))
    spark, duck = scores
    assert list(spark.columns) == list(duck.columns)
    numeric = duck.select_dtypes("number").columns
    np.testing.assert_allclose(spark[numeric].to_numpy(float), duck[numeric].to_numpy(float), rtol=1e-9,
                               equal_nan=True)
    others = [c for c in duck.columns if c not in numeric]
    pd.testing.assert_frame_equal(spark[others], duck[others])
    assert len(duck) > 1000


def test_kpi_tables(spark_ctx, sample_ctx):
    from crmlib.overview import kpis

    opts = kpis.KPI_DEFAULTS
    for ctx_pair in [(spark_ctx, sample_ctx)]:
        spark, duck = ctx_pair
        pd.testing.assert_frame_equal(kpis.monthly_kpis(spark.orders, as_of=spark.as_of, months=opts["months"]),
                                      kpis.monthly_kpis(duck.orders, as_of=duck.as_of, months=opts["months"]))
        pd.testing.assert_frame_equal(
            kpis.cohort_retention(spark.orders, as_of=spark.as_of, cohorts=opts["cohort_months"]),
            kpis.cohort_retention(duck.orders, as_of=duck.as_of, cohorts=opts["cohort_months"]))
        for days in opts["windows_days"]:
            pd.testing.assert_frame_equal(kpis.window_kpis(spark.orders, as_of=spark.as_of, days=days),
                                          kpis.window_kpis(duck.orders, as_of=duck.as_of, days=days))


def test_association_rules_and_bundles_from_spark_fpgrowth(spark_ctx, sample_ctx):
    """Spark ML's FP-growth mines the item sets on Spark; mlxtend's rules over them equal mlxtend's own."""
    from crmlib.cross_sell import rules

    p = rules.merged_params(sample_ctx.params["cross_sell"])
    stored = rules.stored_itemsets(spark_ctx.meta, params=p)
    assert stored is not None
    mined = rules.frequent_itemsets(sample_ctx.order_lines, params=p)
    assert stored[1] == mined[1]  # the same number of purchase orders
    as_sets = {s: v for s, v in zip(mined[0]["itemsets"], mined[0]["support"], strict=True)}
    assert {s: v for s, v in zip(stored[0]["itemsets"], stored[0]["support"], strict=True)} == as_sets
    products = sample_ctx.tables["products"]
    spark_rules = rules.association_rules(spark_ctx.order_lines, params=p, products=products, itemsets=stored)
    duck_rules = rules.association_rules(sample_ctx.order_lines, params=p, products=products)
    pd.testing.assert_frame_equal(spark_rules, duck_rules)
    assert len(duck_rules) > 5
    pd.testing.assert_frame_equal(rules.bundles(spark_ctx.order_lines, params=p, products=products, itemsets=stored),
                                  rules.bundles(sample_ctx.order_lines, params=p, products=products))


def test_stored_itemsets_are_ignored_when_the_thresholds_differ(spark_ctx):
    from crmlib.cross_sell import rules

    p = rules.merged_params(spark_ctx.params["cross_sell"])
    assert rules.stored_itemsets(spark_ctx.meta, params={**p, "min_support": p["min_support"] * 2}) is None
    assert rules.stored_itemsets({}, params=p) is None
