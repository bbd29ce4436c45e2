"""The loader's fast paths (byte-level prefilters, Arrow filters, sorted hashes) give what the exact paths give:
the same frames, dtypes, notes, line numbers and errors, on small crafted Parquet files and random text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from crmlib.data import coerce, textops
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


def _both(folder: Path, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, **kwargs: object) -> tuple[dict, dict]:
    fast = _load(folder, frame, **kwargs)
    with monkeypatch.context() as patch:
        patch.setattr(textops, "FAST", False)
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
