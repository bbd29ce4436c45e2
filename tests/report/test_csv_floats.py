"""The CSV writer's float text is byte for byte what pandas' own per-value formatting writes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlib.report import exports, inert


def _frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 500
    values = rng.normal(0, 1, n) * 10.0 ** rng.integers(-20, 20, n)
    values[rng.random(n) < 0.1] = np.nan
    values[:8] = [1e16, 1e-5, -0.0, np.inf, -np.inf, 123456789.125, 5e-324, 0.1 + 0.2]
    return pd.DataFrame({
        "customer_id": [f"C{i}" for i in range(n)],
        "clv": values,
        "share": rng.random(n).astype(np.float32),
        "n": rng.integers(0, 9, n),
        "note": pd.Series(rng.choice(["a;b", "1,5", "=cmd", None], n), dtype="str"),
        "day": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
        "flag": rng.random(n) < 0.5,
        "money": pd.array(np.where(rng.random(n) < 0.2, None, rng.random(n)), dtype="Float64"),
        # object columns of text go to to_csv as strings: the same fields (quotes, line breaks, blanks)
        "reasons": pd.Series(rng.choice(np.array(['a "b"', "x\ny", "ç;ş", "-1", "", None], dtype=object), n),
                             dtype=object),
        "when": pd.Series(rng.choice(np.array([pd.Timestamp("2024-02-03"), None, "soon"], dtype=object), n),
                          dtype=object),
    })


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("dialect", list(exports.CSV_DIALECTS))
def test_csv_text_equals_pandas_formatting(tmp_path, seed, dialect):
    frame = _frame(seed)
    written = exports.write_csv(frame, tmp_path / "fast.csv", dialect=dialect)
    inert.neutralise_frame(frame).to_csv(tmp_path / "plain.csv", index=False, encoding="utf-8-sig",
                                         lineterminator="\r\n", **exports.CSV_DIALECTS[dialect])
    assert written.read_bytes() == (tmp_path / "plain.csv").read_bytes()


@pytest.mark.parametrize("dialect", list(exports.CSV_DIALECTS))
def test_an_empty_export_is_written_as_pandas_writes_it(tmp_path, dialect):
    frame = _frame(0).iloc[:0]
    written = exports.write_csv(frame, tmp_path / "fast.csv", dialect=dialect)
    frame.to_csv(tmp_path / "plain.csv", index=False, encoding="utf-8-sig", lineterminator="\r\n",
                 **exports.CSV_DIALECTS[dialect])
    assert written.read_bytes() == (tmp_path / "plain.csv").read_bytes()


def _numpy_text(values: np.ndarray, decimal: str) -> np.ndarray:
    """The previous float text (numpy's ``str`` per value, the first ``.`` made ``decimal``, NaN blank): the
    oracle of :func:`crmlib.report.exports.float_text`."""
    text = np.strings.replace(values.astype(str), ".", decimal, 1).astype(object)
    text[np.isnan(values)] = ""
    return text


@pytest.mark.parametrize("decimal", [".", ","])
def test_float_text_equals_numpys_text_on_any_bit_pattern(decimal):
    """Random bit patterns (every exponent, subnormals, NaN payloads, infinities, both zeros), repeated values
    and everyday money and shares: the same text as numpy's ``str``, value for value."""
    rng = np.random.default_rng(7)
    bits = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, 100_000, dtype=np.int64,
                        endpoint=True).view(np.float64)
    scale = 10.0 ** rng.integers(0, 6, 50_000)
    money = np.round(rng.lognormal(5, 3, 50_000) * scale) / scale * rng.choice([-1, 1], 50_000)
    shares = rng.random(50_000)
    special = np.array([0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 1e16, 9999999999999998.0, 1e-4, 9.999e-5,
                        5e-324, 1.7976931348623157e308, 0.1 + 0.2, 1.0, -1.0, 123456789.125, 1e22, 1e-7])
    values = np.concatenate([bits, money, shares, special, rng.choice(shares[:100], 20_000)])
    rng.shuffle(values)
    new = exports.float_text(values, decimal)
    assert new.dtype == object
    assert np.array_equal(new, _numpy_text(values, decimal))
    assert len(exports.float_text(values[:0], decimal)) == 0


def test_float_text_keeps_the_sign_of_zero():
    assert list(exports.float_text(np.array([0.0, -0.0, 0.0]), ",")) == ["0,0", "-0,0", "0,0"]


@pytest.mark.parametrize("dialect", list(exports.CSV_DIALECTS))
def test_a_clv_like_export_is_written_as_pandas_writes_it(tmp_path, dialect):
    """Many repeated values (one-time buyers share P(alive) 1.0 and the population's order value), a column
    of zeros with a few negatives, an all-blank column, large and tiny values: pandas' own bytes."""
    rng = np.random.default_rng(3)
    n = 20_000
    one_time = rng.random(n) < 0.55
    frame = pd.DataFrame({
        "customer_id": pd.Series([f"C{i:06d}" for i in range(n)], dtype="str"),
        "p_alive": np.where(one_time, 1.0, rng.random(n)),
        "expected_order_value": np.where(one_time, 2184.5146807137417, rng.lognormal(7, 1, n)),
        "clv": rng.lognormal(5, 2, n) * 10.0 ** rng.integers(-6, 12, n),
        "clv_p10": np.where(rng.random(n) < 0.95, 0.0, -rng.random(n)),
        "blank": np.full(n, np.nan),
    })
    written = exports.write_csv(frame, tmp_path / "fast.csv", dialect=dialect)
    frame.to_csv(tmp_path / "plain.csv", index=False, encoding="utf-8-sig", lineterminator="\r\n",
                 **exports.CSV_DIALECTS[dialect])
    assert written.read_bytes() == (tmp_path / "plain.csv").read_bytes()
    none = exports.write_csv(pd.DataFrame(), tmp_path / "none.csv", dialect=dialect)
    pd.DataFrame().to_csv(tmp_path / "none_plain.csv", index=False, encoding="utf-8-sig", lineterminator="\r\n",
                          **exports.CSV_DIALECTS[dialect])
    assert none.read_bytes() == (tmp_path / "none_plain.csv").read_bytes()


@pytest.mark.parametrize("dialect", list(exports.CSV_DIALECTS))
@pytest.mark.parametrize("case", ["plain", "blank", "separator", "quote", "newline", "one_column", "dtype_string",
                                  "header"])
def test_text_only_exports_are_written_as_pandas_writes_them(tmp_path, dialect, case):
    """Frames of text (and float) columns, joined in one pass when no field needs quoting, else by pandas: the
    same bytes either way (Turkish letters, blanks, apostrophes, a separator, quote or line break in a field or
    a header, one column, the ``string`` dtype)."""
    rng = np.random.default_rng(5)
    n = 300
    ids = [f"ÇŞ-{i:04d} 'x" for i in range(n)]
    sep = exports.CSV_DIALECTS[dialect]["sep"]
    extra = {"plain": "a b", "blank": None, "separator": f"a{sep}b", "quote": 'a"b', "newline": "a\r\nb",
             "one_column": "a", "dtype_string": None, "header": "a"}[case]
    note = pd.Series(rng.choice(np.array(["ok", "", extra], dtype=object), n), dtype="str")
    frame = pd.DataFrame({"customer_id": pd.Series(ids, dtype="str"), "note": note, "clv": rng.normal(0, 1e3, n)})
    if case == "one_column":
        frame = frame[["customer_id"]]
    if case == "dtype_string":
        frame["note"] = frame["note"].astype("string")
    if case == "header":
        frame = frame.rename(columns={"note": f"no{sep}te"})
    written = exports.write_csv(frame, tmp_path / "fast.csv", dialect=dialect)
    inert.neutralise_frame(frame).to_csv(tmp_path / "plain.csv", index=False, encoding="utf-8-sig",
                                         lineterminator="\r\n", **exports.CSV_DIALECTS[dialect])
    assert written.read_bytes() == (tmp_path / "plain.csv").read_bytes()
    ready = exports._floats_as_text(inert.neutralise_frame(frame), exports.CSV_DIALECTS[dialect]["decimal"])
    assert (exports._plain_text(ready, sep) is None) == (
        case in ("separator", "quote", "newline", "one_column", "header"))


def test_float_columns_text_is_pythons_repr_on_every_kind_of_value():
    """DuckDB's text for a DOUBLE is Python's ``repr`` (what pandas writes): random bit patterns, integers as
    floats, both zeros, subnormals, the switches to exponents (1e-4, 1e16), repeated values; NaN a null."""
    rng = np.random.default_rng(11)
    bits = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, 200_000, dtype=np.int64,
                        endpoint=True).view(np.float64)
    scale = 10.0 ** rng.integers(-8, 18, 100_000)
    money = np.round(rng.lognormal(5, 3, 100_000) * scale) / scale
    edges = np.array([0.0, -0.0, 1.0, -1.0, 1e-5, 1e-4, 9.999999999999999e-05, 0.0001234, 1e15, 1e16,
                      9999999999999998.0, 123456789012345.6, 1.2345678901234567e16, 1e21, 1e22, 5e-324,
                      2.2250738585072014e-308, 1.7976931348623157e308, np.nan, -np.nan, np.inf, -np.inf, 0.1,
                      0.1 + 0.2, 100.0, 1e-7, 2.5e-05, 9007199254740993.0, 2 ** 53 + 2.0])
    ints = np.arange(-5000, 5000) / 8.0
    first = np.concatenate([bits, money, edges, ints, rng.choice(money[:50], 10_000)])
    second = np.concatenate([edges, rng.random(1000)])
    for decimal in (".", ","):
        texts = exports.float_columns_text([first, second], decimal)
        for values, text in zip([first, second], texts, strict=True):
            expected = [None if v != v else repr(float(v)).replace(".", decimal) for v in values]
            assert text.to_pylist() == expected
    assert exports.float_columns_text([]) == []
    assert exports.float_columns_text([np.array([])])[0].to_pylist() == []


@pytest.mark.parametrize("dialect", list(exports.CSV_DIALECTS))
def test_text_and_float_exports_go_through_arrow_with_pandas_bytes(tmp_path, dialect):
    """Frames of text and float64 columns whose fields need no quoting are written by Arrow's writer (blanks
    in text and float columns, Turkish letters, formula-like text made inert, object and string dtypes): the
    bytes of pandas; other frames are not taken by that path."""
    rng = np.random.default_rng(9)
    n = 5000
    frame = pd.DataFrame({
        "customer_id": pd.Series([f"ÇŞ-{i:05d}" for i in range(n)], dtype="str"),
        "name": pd.Series(rng.choice(np.array(["Ali Veli", "=SUM(A1)", "-3", "", None, np.nan], dtype=object), n),
                          dtype=object),
        "segment": pd.Series(rng.choice(["a", "b", None], n), dtype="string"),
        "p_alive": np.where(rng.random(n) < 0.5, 1.0, rng.random(n)),
        "clv": np.where(rng.random(n) < 0.1, np.nan, rng.lognormal(5, 3, n) * 10.0 ** rng.integers(-9, 18, n)),
        "clv_p10": np.where(rng.random(n) < 0.9, 0.0, -0.0),
    })
    sep, decimal = exports.CSV_DIALECTS[dialect]["sep"], exports.CSV_DIALECTS[dialect]["decimal"]
    assert exports._arrow_text(inert.neutralise_frame(frame), sep, decimal) is not None
    written = exports.write_csv(frame, tmp_path / "fast.csv", dialect=dialect)
    inert.neutralise_frame(frame).to_csv(tmp_path / "plain.csv", index=False, encoding="utf-8-sig",
                                         lineterminator="\r\n", **exports.CSV_DIALECTS[dialect])
    assert written.read_bytes() == (tmp_path / "plain.csv").read_bytes()
    others = {"int": frame.assign(n=1), "float32": frame.assign(p_alive=frame["p_alive"].astype(np.float32)),
              "bytes": frame.assign(name=b"x"), "separator": frame.assign(name=f"a{sep}b"),
              "quote": frame.assign(name='a"b'), "newline": frame.assign(name="a\nb"),
              "one_column": frame[["customer_id"]], "header": frame.rename(columns={"name": f"na{sep}me"})}
    for case, other in others.items():
        assert exports._arrow_text(inert.neutralise_frame(other), sep, decimal) is None, case
        exports.write_csv(other, tmp_path / "other.csv", dialect=dialect)
        inert.neutralise_frame(other).to_csv(tmp_path / "other_plain.csv", index=False, encoding="utf-8-sig",
                                             lineterminator="\r\n", **exports.CSV_DIALECTS[dialect])
        assert (tmp_path / "other.csv").read_bytes() == (tmp_path / "other_plain.csv").read_bytes(), case
