"""The views a run's notebooks read (crmlib.data.views.run_views), computed on Spark when the context is built,
equal the ones DuckDB computes from the DuckDB context; the saved context keeps them for the notebooks."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlib.data import views

pytestmark = pytest.mark.spark


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns), ignore_index=True)  # a view's rows have no order


def test_the_run_views_computed_on_spark_are_duckdbs(spark_ctx, sample_ctx):
    wanted = views.run_views(sample_ctx.params, sample_ctx.as_of)
    assert sorted(spark_ctx.meta["views_on_spark"]) == sorted({views.cache_key(n, a, v) for n, a, v in wanted})
    for name, at, values in wanted:
        spark = spark_ctx.view(name, as_of=at, **values)
        duck = sample_ctx.view(name, as_of=at, **values)
        assert len(duck) > 0, name
        # rtol: a mean rounded to 6 decimals at a half may round either way (1e-6 absolute)
        pd.testing.assert_frame_equal(_sorted(spark), _sorted(duck), check_exact=False, rtol=1e-9,
                                      obj=views.cache_key(name, at, values))


def test_the_saved_context_keeps_them_for_the_notebooks(spark_ctx, tmp_path):
    import dataclasses

    from crmlib.core.context import load_saved

    copy = dataclasses.replace(spark_ctx)
    copy.keep_views(spark_ctx._views)
    copy.save(tmp_path / "ctx")
    assert sorted(p.stem for p in (tmp_path / "ctx" / "views").glob("*.parquet")) == sorted(
        spark_ctx.meta["views_on_spark"])
    reopened = load_saved(tmp_path / "ctx")
    pd.testing.assert_frame_equal(reopened.view("customer_products"), spark_ctx.view("customer_products"))
