"""The Arrow fast paths give what the pandas forms give, on random ids with blanks, zeros and ties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlib.data import rules, textops


def _ids(rng: np.random.Generator, n: int) -> pd.Series:
    pool = np.array(["0012", "12", "000", "0", "a0", "A-1", "", " 7", "TOPLAM", "Genel Toplam", "ſum", "x"]
                    + [f"{rng.integers(0, 50):0{rng.integers(1, 5)}d}" for _ in range(40)], dtype=object)
    values = rng.choice(pool, size=n).astype(object)
    values[rng.random(n) < 0.1] = None
    return pd.Series(values, dtype="str")


@pytest.mark.parametrize("seed", range(20))
def test_isin_matches_pandas(seed):
    rng = np.random.default_rng(seed)
    left, right = _ids(rng, 300), _ids(rng, int(rng.integers(0, 30)))
    expected = left.isin(right).to_numpy(dtype=bool)
    np.testing.assert_array_equal(textops.isin(left, right), expected)
    np.testing.assert_array_equal(textops.isin(left, list(right)), left.isin(list(right)).to_numpy(dtype=bool))
    np.testing.assert_array_equal(textops.isin(left, set(right.dropna())),
                                  left.isin(set(right.dropna())).to_numpy(dtype=bool))
    objects = left.astype(object)
    np.testing.assert_array_equal(textops.isin(objects, right), objects.isin(right).to_numpy(dtype=bool))


@pytest.mark.parametrize("seed", range(10))
def test_leading_zeros_and_totals_match_the_per_value_forms(seed):
    ids = _ids(np.random.default_rng(seed), 200).dropna()
    assert rules.strip_zeros_series(ids).tolist() == [rules.strip_zeros(v) for v in ids]
    distinct = ids.unique()
    slow = [v for v in distinct if rules.TOTAL_WORDS.match(v.strip().replace("İ", "i"))]
    fast = [v for v in rules._total_candidates(distinct) if rules.TOTAL_WORDS.match(v.strip().replace("İ", "i"))]
    assert fast == slow


def test_match_leading_zeros_still_pairs_spellings():
    orders = pd.Series(["00012", "00013", "00014"], dtype="str")
    other = pd.Series(["12", "13", None], dtype="str")
    remap = rules.match_leading_zeros(orders, other)
    assert remap is not None and remap(other).tolist()[:2] == ["00012", "00013"]
    assert rules.match_leading_zeros(orders, pd.Series(["00012"], dtype="str")) is None
    assert rules.match_leading_zeros(pd.Series(["012", "12"], dtype="str"), other) is None


@pytest.mark.parametrize("seed", range(6))
def test_isin_on_short_id_columns_matches_pandas(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pool = ["C1", "C2", "C3", "C10", "nan", "", None]
    values = pd.Series(rng.choice(pool, 40), dtype="str")
    for wanted in (pd.Series(rng.choice(pool, 6), dtype="str"), pd.Series(["C2", "C3"], dtype="str"),
                   pd.Series([], dtype="str"), pd.Series(rng.choice(pool, 5), dtype=object)):
        np.testing.assert_array_equal(textops.isin(values, wanted), values.isin(wanted).to_numpy())
        empty = values.head(0)
        np.testing.assert_array_equal(textops.isin(empty, wanted), empty.isin(wanted).to_numpy())
        assert textops.isin(values, wanted).dtype == bool


@pytest.mark.parametrize("seed", range(5))
def test_map_or_matches_pandas_map_then_fillna(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = [f"C{k:03d}" for k in rng.integers(0, 60, 400)]
    values = pd.Series(ids, dtype="str")
    values[rng.random(400) < 0.05] = None  # missing ids map to the default
    keys = pd.Index(sorted({f"C{k:03d}" for k in rng.integers(0, 80, 30)}), dtype="str")
    counts = pd.Series(rng.integers(1, 9, len(keys)), index=keys)
    amounts = pd.Series(rng.normal(size=len(keys)), index=keys)
    for mapping, default in ((counts, 0), (amounts, 0.0)):
        expected = values.map(mapping).fillna(default).to_numpy()
        got = textops.map_or(values, mapping, default)
        np.testing.assert_array_equal(got.astype(float), expected.astype(float))
    objects = values.astype(object)  # not Arrow text: pandas' own map
    np.testing.assert_array_equal(textops.map_or(objects, counts, 0).astype(float),
                                  objects.map(counts).fillna(0).to_numpy().astype(float))
    assert (textops.map_or(values, counts.iloc[:0], 0) == 0).all()


def test_in_order_and_factorize_sorted_equal_a_sort_and_factorize() -> None:
    """The fast paths for rows already in (customer, product) order: the order check agrees with a stable
    sort, and the codes taken from where the value changes are ``pd.factorize(sort=True)``'s (Turkish
    letters, upper before lower case, digits as text; blanks and object columns take the general path)."""
    rng = np.random.default_rng(5)
    letters = ["b", "a", "ç", "ı", "İ", "B", "a1", "a10", "a9", "ğ", "z"]
    for dtype in ("str", object):
        for trial in range(60):
            n = int(rng.integers(0, 40))
            a = pd.Series(rng.choice(letters, n), dtype=dtype)
            b = pd.Series(rng.choice(["x", "y", "10", "9", "Ş"], n), dtype=dtype)
            if trial % 3 == 0 and n:  # blanks
                a[int(rng.integers(n))] = None
            if trial % 2 == 0:  # half the frames in order, as the view gives them
                order = pd.DataFrame({"a": a, "b": b}).sort_values(["a", "b"], kind="mergesort").index
                a, b = a.take(order).reset_index(drop=True), b.take(order).reset_index(drop=True)
            order = pd.DataFrame({"a": a, "b": b}).sort_values(["a", "b"], kind="mergesort").index
            expected = bool((order == np.arange(n)).all())
            assert textops.in_order(a, b) == (expected and dtype == "str" and not a.hasnans and not b.hasnans)
            codes, uniques = textops.factorize_sorted(a)
            want_codes, want_uniques = pd.factorize(a, sort=True)
            np.testing.assert_array_equal(codes, want_codes)
            pd.testing.assert_index_equal(uniques, pd.Index(want_uniques))
