"""The loader's fast paths (byte-level prefilters, Arrow filters, sorted hashes) give what the exact paths give:
the same frames, dtypes, notes, line numbers and errors, on small crafted Parquet files and random text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from crmlib.data import coerce, rules, tables, textops, validate
from crmlib.data.frames import keep_rows
from crmlib.data.tables import build_customer_summary, build_orders
from crmlib.data.validate import _duplicates, load_tables
from crmlib.errors import DataError

POOL = ["C1", "C2", "C003", "  C4", "C5 ", "NULL", "", "nan", "TOPLAM", "Genel Toplam", "ſum", "Şirket", "müşteri",
        "0012", "12", "x", "Total:", "M1", "l-7", "C\u00a0", "\tC9", "#N/A", "None", "1001.0", "C10"]


def _random_text(rng: np.random.Generator, n: int) -> pd.Series:
    values = rng.choice(np.array(POOL, dtype=object), size=n).astype(object)
    values[rng.random(n) < 0.1] = None
    return pd.Series(values, dtype="str")


def _sliced_chunks(series: pd.Series, rng: np.random.Generator) -> pd.Series:
    """The same values as an Arrow array of several chunks, some of them slices (offset != 0)."""
    full = pa.array(list(series) + ["pad"] * 3, type=pa.string(), from_pandas=True)
    cut = int(rng.integers(0, len(series) + 1))
    chunks = [full.slice(0, cut), full.slice(cut, len(series) - cut)]
    return pa.chunked_array(chunks).to_pandas()


@pytest.mark.parametrize("seed", range(15))
def test_byte_prefilters_match_the_per_value_forms(seed: int) -> None:
    rng = np.random.default_rng(seed)
    series = _sliced_chunks(_random_text(rng, 200), rng)
    values = [v if isinstance(v, str) else None for v in series.tolist()]
    filled = np.array([isinstance(v, str) for v in values])
    holds = np.array([isinstance(v, str) and any(c in v for c in "lLmM") for v in values])
    np.testing.assert_array_equal(textops.rows_with_bytes(series, b"lLmM"), holds)
    zeros = np.array([isinstance(v, str) and v.startswith("0") for v in values])
    np.testing.assert_array_equal(textops.first_byte_is(series, b"0"), zeros)
    cleaned = coerce.blank_to_null(pa.chunked_array([pa.array(values, type=pa.string())])).to_pylist()
    changed = np.array([isinstance(v, str) and v != c for v, c in zip(values, cleaned, strict=True)])
    suspects = textops.untrimmed_rows(series)
    assert not (changed & ~suspects).any()  # every value the trim changes is a suspect
    assert not (suspects & ~filled).any()


@pytest.mark.parametrize("seed", range(15))
def test_ids_and_text_equal_with_and_without_the_fast_path(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(seed)
    series = _random_text(rng, int(rng.integers(1, 300)))
    if seed % 3 == 0:  # clean columns take the fast path whole
        series = series.where(~series.isin(["NULL", "", "nan", "  C4", "C5 ", "C\u00a0", "\tC9", "#N/A", "None"]))
    if seed % 5 == 0:
        series = pd.Series(rng.choice(["1001.0", "12.0", "7.00"], size=len(series)), dtype="str")
    fast_ids, fast_text = coerce.to_ids(series), coerce.to_text(series)
    monkeypatch.setattr(textops, "FAST", False)
    slow_ids, slow_text = coerce.to_ids(series), coerce.to_text(series)
    pd.testing.assert_series_equal(fast_ids.values, slow_ids.values)
    pd.testing.assert_series_equal(fast_text.values, slow_text.values)


@pytest.mark.parametrize("seed", range(10))
def test_duplicates_and_keep_rows_match_pandas(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    frame = pd.DataFrame({
        "customer_id": pd.Series(rng.choice(["a", "b", "c", None], size=n), dtype="str"),
        "order_date": pd.to_datetime(rng.choice(["2024-01-01", "2024-01-02"], size=n)).astype("datetime64[ns]"),
        "amount": rng.choice([1.0, -0.0, 0.0, np.nan, 2.5], size=n),
    }, index=rng.permutation(n) + 10)
    np.testing.assert_array_equal(_duplicates(frame), frame.duplicated(keep="first").to_numpy())
    keep = rng.random(n) < 0.7
    pd.testing.assert_frame_equal(keep_rows(frame, keep), frame.loc[keep])


def _lines() -> pd.DataFrame:
    """Order lines with duplicates, returns, blanks, future dates, padded ids and other ids to clean."""
    rows = [
        ("C1", "F1", "2024-01-05", "P1", 2.0, 100.0, 60.0),
        ("C1", "F1", "2024-01-05", "P1", 2.0, 100.0, 60.0),  # exact duplicate
        ("C1", "F1", "2024-01-05", "P2", 1.0, 50.5, None),  # blank cost
        ("C2", "F2", "2024-02-10", "P1", -1.0, 30.0, 20.0),  # negative quantity, positive amount: a return
        ("C2", "F3", "2024-03-01", "P3", 1.0, -40.0, -25.0),  # negative amount: a return
        ("Şirket", "F4", "2024-03-02", "P1", 1.0, 10.0, 5.0),  # non-ASCII id
        ("0042", "F5", "2024-03-03", None, None, 12.0, 6.0),  # a leading zero, no product or quantity
        ("  C7 ", "F6", "2024-03-04", "P2", 3.0, 9.0, 4.0),  # padded id
        ("C8", None, "2024-03-05", "P2", 1.0, 8.0, 3.0),  # no order id
        ("C9", "F8", "2025-12-31", "P1", 1.0, 99.0, 50.0),  # after as_of
        ("M10", "F9", "2024-04-01", "P3", 1.0, 7.0, 2.0),  # holds an M (totals prefilter)
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "order_id", "order_date", "product_id", "quantity",
                                        "amount", "cost"])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    return frame


def _load(folder: Path, frame: pd.DataFrame, *, as_of: str | None = "2024-12-31") -> dict[str, object]:
    frame.to_parquet(folder / "orders.parquet", index=False)
    columns = {c: c for c in frame.columns}
    try:
        table = load_tables({"orders": {"path": "orders.parquet", "columns": columns}}, base_dir=folder,
                            as_of=as_of)["orders"]
    except DataError as err:
        return {"error": str(err)}
    lines = table.frame
    orders = build_orders(lines)
    return {"lines": lines, "notes": [vars(n) for n in table.notes], "positions": table.positions.tolist(),
            "orders": orders, "summary": build_customer_summary(orders, as_of or lines["order_date"].max())}


@pytest.fixture(autouse=True)
def _hashes_on_small_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hashed codes and DuckDB's matching on the small tables here too (they start at 50,000 values)."""
    monkeypatch.setattr(textops, "HASH_MIN", 0)


def _exact_paths(patch: pytest.MonkeyPatch) -> None:
    patch.setattr(textops, "FAST", False)
    patch.setattr(textops, "FAST_HASH", False)
    patch.setattr(coerce, "FAST_BOOLS", False)
    patch.setattr(validate, "FAST_KEYS", False)
    patch.setattr(tables, "FAST_CODES", False)
    patch.setattr(validate, "PARALLEL_TABLES", False)
    patch.setattr(validate, "OVERLAP", False)


def _both(folder: Path, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, **kwargs: object) -> tuple[dict, dict]:
    fast = _load(folder, frame, **kwargs)
    with monkeypatch.context() as patch:
        _exact_paths(patch)
        exact = _load(folder, frame, **kwargs)
    return fast, exact


def _assert_same(fast: dict, exact: dict) -> None:
    assert fast.keys() == exact.keys()
    if "error" in exact:
        assert fast["error"] == exact["error"]
        return
    for key in ("lines", "orders", "summary"):
        pd.testing.assert_frame_equal(fast[key], exact[key], check_exact=True)
    assert fast["notes"] == exact["notes"]
    assert fast["positions"] == exact["positions"]


def test_crafted_parquet_equal_with_and_without_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, exact = _both(tmp_path, _lines(), monkeypatch)
    _assert_same(fast, exact)
    kinds = {n["kind"] for n in fast["notes"]}
    assert {"duplicates_dropped", "negative_amounts", "negative_quantity_returns", "after_as_of",
            "blank_values"} <= kinds
    assert fast["lines"]["customer_id"].tolist()[:7] == ["C1", "C1", "C2", "C2", "Şirket", "0042", "C7"]
    assert fast["lines"].dtypes.astype(str).to_dict() == {
        "customer_id": "str", "order_id": "str", "order_date": "datetime64[ns]", "product_id": "str",
        "quantity": "float64", "amount": "float64", "cost": "float64"}


@pytest.mark.parametrize("change", ["null_token", "totals_row", "sum_row", "zeros_clash", "blank_customer", "float_ids",
                                    "all_clean", "empty_string"])
def test_crafted_variants_equal_with_and_without_the_fast_path(change: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _lines()
    if change == "null_token":
        frame.loc[3, "product_id"] = "NULL"
    elif change == "totals_row":
        frame.loc[len(frame)] = ["TOPLAM", None, pd.NaT, None, None, 425.5, None]
    elif change == "sum_row":
        frame.loc[len(frame)] = ["C1", "SUM", pd.NaT, None, None, 425.5, None]
    elif change == "zeros_clash":  # 42 and 0042: the same customer or two? refused
        frame.loc[10, "customer_id"] = "42"
    elif change == "blank_customer":  # a required value missing: refused with its line
        frame.loc[4, "customer_id"] = " "
    elif change == "float_ids":  # ids that passed through Excel as numbers
        frame["order_id"] = [f"{i}.0" for i in range(len(frame))]
    elif change == "all_clean":
        frame = frame.drop(index=[1, 5, 6, 7, 8]).reset_index(drop=True)
    elif change == "empty_string":
        frame.loc[2, "order_id"] = ""
    fast, exact = _both(tmp_path, frame, monkeypatch)
    _assert_same(fast, exact)
    if change in ("zeros_clash", "blank_customer"):
        assert "error" in fast and "orders.parquet" in fast["error"]
    else:
        assert "error" not in fast


def test_future_lines_without_as_of_equal_with_and_without_the_fast_path(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _lines()
    frame.loc[9, "order_date"] = pd.Timestamp("2099-01-01")
    fast, exact = _both(tmp_path, frame, monkeypatch, as_of=None)
    _assert_same(fast, exact)


@pytest.mark.parametrize("seed", range(10))
def test_yes_no_numbers_equal_with_and_without_the_fast_path(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 200))
    pool = [[0, 1], [0, 1, 2, -1], [0.0, 1.0, 0.5, np.nan], [1.0, np.nan]][seed % 4]
    values = rng.choice(np.array(pool), size=n)
    series = [pd.Series(values), pd.Series(values).astype("Int64") if seed % 4 < 2 else pd.Series(values),
              pd.Series(pd.array(values, dtype="float64[pyarrow]"))]
    for column in series:
        fast = coerce.to_bools(column)
        with monkeypatch.context() as patch:
            patch.setattr(coerce, "FAST_BOOLS", False)
            exact = coerce.to_bools(column)
        pd.testing.assert_series_equal(fast.values, exact.values)
        np.testing.assert_array_equal(fast.bad, exact.bad)


def _customers() -> pd.DataFrame:
    """A customers master with a repeated key, an exact duplicate row, customers who never bought and a 0/1
    consent column as numbers."""
    rows = [
        ("C1", "Ayşe", "2023-01-01", 1),
        ("C2", "Mehmet", "2023-02-01", 0),
        ("C2", "Mehmet", "2023-02-01", 0),  # exact duplicate row
        ("C2", "Mehmet B.", "2023-02-01", 1),  # repeated key, other values
        ("Şirket", "Şirket AŞ", None, 1),
        ("42", "Sıfırlı", "2023-03-01", 0),  # the orders write 0042
        ("C7", "Padded", "2023-03-02", 1),
        ("C8", "No orders", "2023-03-03", 0),
        ("C9", "No orders", "2023-03-03", 0),
        ("M10", "Emre", "2023-04-01", 1),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "name", "signup_date", "marketing_consent"])
    frame["signup_date"] = pd.to_datetime(frame["signup_date"])
    return frame


def _load_all(folder: Path, lines: pd.DataFrame, customers: pd.DataFrame,
              products: pd.DataFrame | None = None, *, customers_first: bool = False) -> dict[str, object]:
    lines.to_parquet(folder / "orders.parquet", index=False)
    customers.to_parquet(folder / "customers.parquet", index=False)
    spec: dict[str, object] = {"orders": {"path": "orders.parquet"}, "customers": "customers.parquet"}
    if customers_first:
        spec = {"customers": spec["customers"], "orders": spec["orders"]}
    if products is not None:
        products.to_parquet(folder / "products.parquet", index=False)
        spec["products"] = "products.parquet"
    try:
        tables = load_tables(spec, base_dir=folder, as_of="2024-12-31")
    except DataError as err:
        return {"error": str(err)}
    return {name: (table.frame, [vars(n) for n in table.notes], table.positions.tolist())
            for name, table in tables.items()}


@pytest.mark.parametrize("change", ["as_is", "unknown", "both_fail", "both_fail_customers_first", "all_known", "zeros_clash", "consent_bad", "consent_float", "products",
                                    "products_zeros", "blank_key"])
def test_crafted_tables_equal_with_and_without_the_fast_path(change: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    lines, customers, products = _lines(), _customers(), None
    if change == "all_known":  # every customer of the orders is in the master
        lines = lines[lines["customer_id"].isin(customers["customer_id"])].reset_index(drop=True)
    elif change == "zeros_clash":  # 42 and 0042 both in the orders: refused
        lines.loc[10, "customer_id"] = "42"
    elif change == "unknown":  # customers the master does not have, one of them with zeros
        lines.loc[9, "customer_id"], lines.loc[3, "customer_id"] = "Z99", "0099"
    elif change == "consent_bad":  # a 2 in a yes/no column: refused above the tolerance
        customers.loc[3, "marketing_consent"] = 2
    elif change == "consent_float":
        customers["marketing_consent"] = customers["marketing_consent"].astype(float)
        customers.loc[4, "marketing_consent"] = np.nan
    elif change == "blank_key":  # a required key missing: refused with its line
        customers.loc[6, "customer_id"] = None
    elif change.startswith("both_fail"):  # two tables refused: the first in the params' order is named
        lines.loc[10, "customer_id"] = "42"
        customers.loc[6, "customer_id"] = None
    elif change in ("products", "products_zeros"):
        products = pd.DataFrame({"product_id": ["P1", "P2", "P2", "P9", "03"] if change == "products_zeros"
                                 else ["P1", "P2", "P2", "P3", "P9"],
                                 "price": [10.0, 20.0, 20.0, 5.0, 1.0]})
        if change == "products_zeros":
            lines.loc[[4, 10], "product_id"] = "3"
    first = change == "both_fail_customers_first"
    fast = _load_all(tmp_path, lines, customers, products, customers_first=first)
    with monkeypatch.context() as patch:
        _exact_paths(patch)
        exact = _load_all(tmp_path, lines, customers, products, customers_first=first)
    assert fast.keys() == exact.keys()
    if "error" in exact:
        assert fast["error"] == exact["error"]
        assert change in ("zeros_clash", "consent_bad", "blank_key", "both_fail", "both_fail_customers_first")
        if change.startswith("both_fail"):
            assert ("customers.parquet" in fast["error"]) == first and ("orders.parquet" in fast["error"]) != first
        return
    for name in exact:
        pd.testing.assert_frame_equal(fast[name][0], exact[name][0], check_exact=True)
        assert fast[name][1:] == exact[name][1:]
    kinds = {n["kind"] for n in fast["customers"][1]}
    assert {"duplicates_dropped", "repeated_key_dropped"} <= kinds
    assert fast["customers"][0]["customer_id"].is_unique
    if change == "unknown":
        assert "unknown_customers" in {n["kind"] for n in fast["orders"][1]}


@pytest.mark.parametrize("seed", range(10))
def test_leading_zero_matching_with_given_distinct_values(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(seed)
    pools = [["C1", "C2", "C3", "D4"], ["0012", "12", "007", "7", "A1"], ["0012", "007", "A1", "B2"]]
    ids = pd.Series(rng.choice(pools[seed % 3], size=30), dtype="str")
    known = pd.Series(rng.choice(["12", "7", "A1", "C1", "X"], size=int(rng.integers(1, 6)), replace=False),
                      dtype="str")
    plain, other = pd.Series(ids.unique()), pd.Series(known.unique())
    given = rules.match_leading_zeros(ids, known, plain=plain, other=other, found=textops.isin(plain, other))
    with monkeypatch.context() as patch:
        patch.setattr(textops, "FAST", False)
        slow = rules.match_leading_zeros(ids, known)
    assert (given is None) == (slow is None)
    if given is not None:
        pd.testing.assert_series_equal(given(known), slow(known))


@pytest.mark.parametrize("seed", range(8))
def test_customer_summary_on_codes_equals_the_sql_on_ids(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(seed)
    ids = ["C1", "C10", "C2", "c1", "Z", "a", "é", "Şirket", "0042", "42", " x", "x", "ab", "a b"]
    n = int(rng.integers(1, 400))
    lines = pd.DataFrame({
        "customer_id": pd.Series(rng.choice(ids[: int(rng.integers(1, len(ids) + 1))], size=n), dtype="str"),
        "order_id": pd.Series([f"F{i}" for i in rng.integers(0, max(2, n // 2), size=n)], dtype="str"),
        "order_date": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 60, size=n), unit="D"),
        "amount": rng.choice([10.0, -5.0, 2.5, 0.0, 99.99], size=n),
        "cost": np.where(rng.random(n) < 0.2, np.nan, 1.0),
    })
    orders = build_orders(lines)
    shuffled = orders.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    as_of = "2024-02-15"
    fast = [build_customer_summary(frame, as_of) for frame in (orders, shuffled)]
    with monkeypatch.context() as patch:
        patch.setattr(tables, "FAST_CODES", False)
        exact = build_customer_summary(orders, as_of)
    for frame in fast:
        pd.testing.assert_frame_equal(frame, exact, check_exact=True)
    assert tables.customer_codes(orders) is not None


@pytest.mark.parametrize("seed", range(12))
def test_hashed_key_codes_repeats_and_matching_equal_pandas(seed: int) -> None:
    rng = np.random.default_rng(seed)
    series = _sliced_chunks(_random_text(rng, int(rng.integers(1, 400))), rng)
    codes = textops.key_codes(series)
    exact = pd.factorize(series, use_na_sentinel=True)[0]
    assert codes.dtype == np.int64 and ((codes == -1) == (exact == -1)).all()
    # equal codes exactly for equal values: the same partition of the rows as pandas' numbering
    assert (pd.Series(codes).groupby(exact).nunique() == 1).all()
    assert (pd.Series(exact).groupby(codes).nunique() == 1).all()
    np.testing.assert_array_equal(textops.repeats_of_earlier(codes), pd.Series(codes).duplicated().to_numpy())
    np.testing.assert_array_equal(textops.repeats_of_earlier(exact), pd.Series(exact).duplicated().to_numpy())
    other = _random_text(rng, int(rng.integers(0, 50)))
    np.testing.assert_array_equal(textops.isin_large(series, other), series.isin(other).to_numpy(dtype=bool))
    np.testing.assert_array_equal(textops.isin_large(series, series.dropna()), series.notna().to_numpy())
    kept = series.dropna()  # the distinct ids the loader matches: in the order they first appear
    pd.testing.assert_series_equal(textops.distinct(kept), pd.Series(kept.unique()))


def test_key_codes_fall_back_to_pandas_when_two_values_share_a_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    series = pd.Series(["a", "b", "a", None, "c"], dtype="str")
    monkeypatch.setattr(textops, "_duck_hashes", lambda text: np.array([5, 5, 5, 9, 7], dtype=np.int64))
    codes = textops.key_codes(series)  # "a" and "b" collide: the exact numbering
    np.testing.assert_array_equal(codes, pd.factorize(series, use_na_sentinel=True)[0])
    monkeypatch.setattr(textops, "_duck_hashes", lambda text: np.array([5, 6, 5, 9, 7], dtype=np.int64))
    np.testing.assert_array_equal(textops.key_codes(series), [5, 6, 5, -1, 7])
