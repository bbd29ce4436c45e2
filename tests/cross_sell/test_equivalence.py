"""Faster implementations against the ones they replace, on small random frames (with ties and edge cases).

The exact item-set count must give mlxtend ``fpgrowth``'s item sets and supports, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from mlxtend.frequent_patterns import fpgrowth

from crmlib.cross_sell.rules import count_itemsets, isin


def _as_dict(found: pd.DataFrame) -> dict[frozenset, float]:
    return dict(zip(found["itemsets"], found["support"], strict=True))


@pytest.mark.parametrize("seed", range(6))
def test_count_itemsets_equals_fpgrowth(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(40):
        n, k = int(rng.integers(1, 50)), int(rng.integers(1, 7))
        dense = rng.random((n, k)) < rng.random(k) * 0.9  # some items in every order, some in none
        if rng.random() < 0.3:
            dense[: n // 2] = dense[0]  # many identical baskets: ties in every count
        min_support = float(rng.choice([0.01, 0.05, 0.1, 0.2, 0.25, 1 / 3, 0.5, 0.7, 1.0]))
        max_len = [None, 1, 2, 3][int(rng.integers(4))]
        cols = [f"p{i}" for i in range(k)]
        expected = fpgrowth(pd.DataFrame(dense, columns=cols), min_support=min_support, use_colnames=True,
                            max_len=max_len)
        got = count_itemsets(sp.csr_matrix(dense), pd.Index(cols), min_support=min_support, max_len=max_len)
        assert _as_dict(got) == _as_dict(expected)
        assert got["support"].dtype == float


def test_count_itemsets_boundary_support() -> None:
    # 0.07 × 100 = 7.000000000000001 in floats: 7 orders are not enough (the rule of the pre-filter that ran
    # before fpgrowth: count ≥ min_support × orders), although 7 / 100 ≥ 0.07
    dense = np.zeros((100, 3), dtype=bool)
    dense[:7, 0] = dense[:7, 1] = True
    dense[:9, 2] = True
    got = count_itemsets(sp.csr_matrix(dense), pd.Index(["a", "b", "c"]), min_support=0.07)
    assert _as_dict(got) == {frozenset({"c"}): 0.09}
    assert count_itemsets(sp.csr_matrix((0, 2), dtype=bool), pd.Index(["a", "b"]), min_support=0.1).empty


def test_isin_equals_pandas() -> None:
    rng = np.random.default_rng(1)
    values = pd.Series(rng.choice(["a", "b", "c", "d"], 200), dtype="str")
    for allowed in ([], ["a"], {"b", "c", "x"}, pd.Series(["d", "d", "a"], dtype="str"), pd.Index(["c"])):
        np.testing.assert_array_equal(isin(values, allowed), values.isin(list(allowed)).to_numpy())


def test_top_k_with_sparse_blocked_pairs_and_allowed_items_equals_the_dense_mask() -> None:
    from crmlib.cross_sell.rules import _ranking_order, _top_k

    rng = np.random.default_rng(5)
    for trial in range(120):
        n_rows, n_items = int(rng.integers(1, 40)), int(rng.integers(1, 25))
        held = sp.random(n_rows, n_items, density=float(rng.uniform(0.02, 0.5)), format="csr", random_state=trial)
        held.data[:] = 1
        sim = rng.integers(0, 4, size=(n_items, n_items)) / 4.0  # few levels: many ties
        np.fill_diagonal(sim, 0)
        sim = None if trial % 5 == 0 else sim
        pairs = rng.random((n_rows, n_items)) < rng.uniform(0, 0.7)
        allowed = rng.random(n_items) < rng.uniform(0.3, 1.0)
        popularity = rng.integers(0, 4, n_items) / 4.0
        k = int(rng.integers(1, 8))
        expected = _top_k(held, sim, pairs | ~allowed[None, :], popularity, k)
        got = _top_k(held, sim, sp.csr_matrix(pairs), popularity, k, allowed=allowed,
                     order=_ranking_order(sim, popularity))
        for want, have in zip(expected, got, strict=True):
            np.testing.assert_array_equal(have, want)


def test_sorted_by_equals_a_stable_sort_of_the_strings() -> None:
    from crmlib.cross_sell.rules import _sorted_by

    rng = np.random.default_rng(2)
    for dtype in ("str", object):
        for _ in range(30):
            n = int(rng.integers(0, 60))
            frame = pd.DataFrame({
                "a": pd.Series(rng.choice(["b", "a", "ç", "B", "a1", None], n), dtype=dtype),
                "b": pd.Series(rng.choice(["x", "y", "10", "9", None], n), dtype=dtype),
                "row": np.arange(n),
            })
            expected = frame.sort_values(["a", "b"], kind="mergesort")["row"].to_numpy()
            np.testing.assert_array_equal(frame["row"].to_numpy()[_sorted_by(frame["a"], frame["b"])], expected)

