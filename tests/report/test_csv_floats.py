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
