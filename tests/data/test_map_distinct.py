"""The per-distinct-value label maps give what the per-row maps gave (old vs new on random frames with ties)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlib.data.frames import map_distinct
from crmlib.segmentation.report import segment_label


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("dtype", ["str", object, "category"])
def test_map_distinct_matches_series_map(seed: int, dtype: object) -> None:
    rng = np.random.default_rng(seed)
    codes = rng.choice(["champions", "loyal", "at_risk", "custom-x", None], 50)
    values = pd.Series(codes, index=rng.permutation(50) + 7, name="rfm_segment").astype(dtype)
    for lang in ("tr", "en"):
        def label(c: object, lang: str = lang) -> str:
            return segment_label(c, lang) if isinstance(c, str) else ""

        pd.testing.assert_series_equal(map_distinct(values, label), values.map(label))
        pd.testing.assert_series_equal(map_distinct(values.head(0), label), values.head(0).map(label))


def test_map_distinct_keeps_numbers_and_missing() -> None:
    values = pd.Series([3, 1, 3, np.nan, 1], name="n")
    pd.testing.assert_series_equal(map_distinct(values, lambda v: v * 2), values.map(lambda v: v * 2))
    calls: list[object] = []
    map_distinct(pd.Series(["a", "b", "a", "a"]), calls.append)
    assert calls == ["a", "b"]
