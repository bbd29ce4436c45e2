"""Vectorised operations on text columns held by Arrow (pandas' ``str`` dtype), for 10M-row tables.

pandas 3's ``Series.isin`` on Arrow-backed text turns every candidate into a Python object first (seconds for
a few hundred thousand ids), and ``Series.map`` of a Python function boxes every value. These helpers hand
the same work to pyarrow's compute kernels and fall back to pandas for anything that is not Arrow text, so
results are the same either way (tested against the pandas forms).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def arrow_text(values: Any) -> pa.ChunkedArray | None:
    """``values`` (Series, Index, extension array) as an Arrow string array when Arrow already holds them as
    text; ``None`` otherwise (object columns, numbers, Python lists)."""
    array = values.array if isinstance(values, (pd.Series, pd.Index)) else values
    if not isinstance(getattr(array, "dtype", None), pd.StringDtype) or not hasattr(array, "__arrow_array__"):
        return None
    out = array.__arrow_array__()
    if isinstance(out, pa.Array):
        out = pa.chunked_array([out])
    if not (pa.types.is_string(out.type) or pa.types.is_large_string(out.type)):
        return None
    return out


def isin(values: Any, candidates: Any) -> np.ndarray:
    """``pd.Series(values).isin(candidates)`` as a numpy bool array (a missing value matches a missing one)."""
    left = arrow_text(values)
    right = _candidates(candidates) if left is not None else None
    if left is None or right is None:
        series = values if isinstance(values, pd.Series) else pd.Series(values)
        return series.isin(candidates).to_numpy(dtype=bool)
    # the value set may repeat values: Arrow builds one hash table of it either way (a pc.unique first was a
    # second hash table over the same values)
    return pc.is_in(left, value_set=right.cast(left.type), skip_nulls=False).fill_null(False).to_numpy(
        zero_copy_only=False)


def map_or(values: Any, mapping: pd.Series, default: Any) -> np.ndarray:
    """``values.map(mapping).fillna(default).to_numpy()`` (``mapping`` indexed by distinct text keys): one
    Arrow hash lookup instead of pandas' boxing of every value (seconds at a million customers)."""
    left, right = arrow_text(values), arrow_text(mapping.index)
    if left is None or right is None or len(mapping) == 0:
        series = values if isinstance(values, pd.Series) else pd.Series(values)
        return series.map(mapping).fillna(default).to_numpy()
    keys = right.cast(left.type).combine_chunks()
    pos = pc.index_in(left, value_set=keys).fill_null(-1).to_numpy(zero_copy_only=False)
    data = mapping.to_numpy()
    return np.where(pos >= 0, data[np.maximum(pos, 0)], default)


def _candidates(candidates: Any) -> pa.ChunkedArray | None:
    if isinstance(candidates, (set, frozenset, list, tuple)):
        try:
            array = pa.array(list(candidates))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
        if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
            return None
        return pa.chunked_array([array])
    return arrow_text(candidates)


def strip_leading_zeros(values: Any) -> pa.ChunkedArray | None:
    """``crmlib.data.rules.strip_zeros`` of every value (``"00012"`` → ``"12"``, ``"000"`` → ``"0"``) as an Arrow
    array; ``None`` when ``values`` are not Arrow text."""
    text = arrow_text(values)
    if text is None:
        return None
    stripped = pc.utf8_ltrim(text, characters="0")
    return pc.if_else(pc.equal(stripped, ""), pa.scalar("0", stripped.type), stripped)


# ------------------------------------------------------------------------------ byte-level prefilters
#
# The checks of the loader look for rare things (a blank written as ``NULL``, a padded id, a totals row, an id
# with leading zeros). On a Parquet file with 10M clean ids, a look at the raw bytes of Arrow's string buffers
# names the few rows where such a thing is possible; the exact check then runs on those rows only (or, when it
# finds something, on the whole column as before), so the result is the same either way.

#: Set to False to run every check on every row (the exact path; the tests compare both).
FAST = True
#: Longest null token of ``crmlib.data.coerce.NULL_TOKENS`` in bytes (``#n/a``, ``null``, ``none``).
SHORT = 4


def _chunks(text: pa.ChunkedArray) -> Any:
    """Yield (offsets relative to the chunk's first value, data bytes, valid mask) of each chunk."""
    for chunk in text.chunks:
        n = len(chunk)
        buffers = chunk.buffers()
        kind = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(buffers[1], dtype=kind)[chunk.offset:chunk.offset + n + 1].astype(np.int64)
        data = (np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None and n
                else np.zeros(0, dtype=np.uint8))
        data = data[offsets[0]:offsets[-1]] if n else data[:0]
        valid = (np.ones(n, dtype=bool) if chunk.null_count == 0
                 else chunk.is_valid().to_numpy(zero_copy_only=False))
        yield offsets - offsets[0], data, valid


def rows_with_bytes(values: Any, chars: bytes) -> np.ndarray | None:
    """Mask of the values holding any of the ASCII bytes ``chars``; ``None`` when ``values`` are not Arrow text
    (or :data:`FAST` is off)."""
    text = arrow_text(values) if FAST else None
    if text is None:
        return None
    table = np.zeros(256, dtype=bool)
    table[list(chars)] = True
    parts = []
    for offsets, data, valid in _chunks(text):
        mask = np.zeros(len(valid), dtype=bool)
        raw = data.tobytes()
        if not any(bytes([c]) in raw for c in chars):  # a memchr per byte: most chunks hold none
            parts.append(mask)
            continue
        hits = np.flatnonzero(table[data])
        if len(hits):
            mask[np.searchsorted(offsets, hits, side="right") - 1] = True
        parts.append(mask & valid)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def first_byte_is(values: Any, char: bytes) -> np.ndarray | None:
    """Mask of the values starting with the ASCII byte ``char``; ``None`` as :func:`rows_with_bytes`."""
    text = arrow_text(values) if FAST else None
    if text is None:
        return None
    parts = []
    for offsets, data, valid in _chunks(text):
        filled = (offsets[1:] > offsets[:-1]) & valid
        first = np.zeros(len(valid), dtype=np.uint8)
        first[filled] = data[offsets[:-1][filled]]
        parts.append(filled & (first == char[0]))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def untrimmed_rows(values: Any) -> np.ndarray | None:
    """Mask of the values that trimming or the null tokens could change: at most :data:`SHORT` bytes long, or
    starting or ending with a byte that is not printable ASCII (spaces, tabs, any non-ASCII character).

    ``None`` as :func:`rows_with_bytes`. Every other value is left as it is by
    :func:`crmlib.data.coerce.blank_to_null`.
    """
    text = arrow_text(values) if FAST else None
    if text is None:
        return None
    parts = []
    for offsets, data, valid in _chunks(text):
        length = offsets[1:] - offsets[:-1]
        long = (length > SHORT) & valid
        first = np.zeros(len(valid), dtype=np.uint8)
        last = np.zeros(len(valid), dtype=np.uint8)
        first[long] = data[offsets[:-1][long]]
        last[long] = data[offsets[1:][long] - 1]
        odd = (first < 0x21) | (first > 0x7E) | (last < 0x21) | (last > 0x7E)
        parts.append(valid & (~long | odd))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


# ------------------------------------------------------------------------ codes and membership by hashes
#
# A hash table of millions of distinct ids (pandas' factorize, Arrow's is_in) costs its random memory accesses,
# not the hashing: DuckDB hashes 2.6M ids in a few hundredths of a second on two threads, and numpy sorts the
# 64-bit hashes in as little. The forms below work on those hashes (sorted, or joined by DuckDB) and check
# every pair of values a hash puts together, so collisions cannot change a result (they fall back to the exact
# forms, which the tests compare with these).

#: Set to False to code and match text with pandas' and Arrow's hash tables only (the tests compare both).
FAST_HASH = True
#: Fewer values than this take the exact forms (nothing to gain from DuckDB below).
HASH_MIN = 50_000


def _duck(sql: str, column: str, **tables: pa.Table) -> np.ndarray:
    """Column ``column`` of DuckDB's result of ``sql`` over the Arrow ``tables`` (by name), on two threads."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET threads TO 2")
        for name, table in tables.items():
            con.register(name, table)
        return con.execute(sql).fetchnumpy()[column]
    finally:
        con.close()


def _duck_hashes(text: pa.ChunkedArray) -> np.ndarray:
    """DuckDB's 64-bit hash of every value (nulls included, in order) as int64, on two threads."""
    return _duck("SELECT hash(v) AS h FROM values_", "h", values_=pa.table({"v": text})).view(np.int64)


def key_codes(values: Any) -> np.ndarray:
    """Per value a whole number, equal for equal values and different for different ones, -1 for a missing
    value: what ``pd.factorize(values)[0]`` is used for (repeats, hashing rows), not its numbering."""
    text = arrow_text(values) if FAST_HASH else None
    if text is None or len(text) < HASH_MIN:
        return pd.factorize(values, use_na_sentinel=True)[0].astype(np.int64)
    codes = _duck_hashes(text) & np.int64(0x7FFFFFFFFFFFFFFF)  # non-negative: -1 stays for a missing value
    missing = text.is_null().to_numpy(zero_copy_only=False) if text.null_count else None
    if missing is not None:
        codes[missing] = -1
    repeated = repeated_values(codes[codes >= 0] if missing is not None else codes)
    if len(repeated):  # equal codes must be equal values: check the (few) rows that share one
        rows = np.flatnonzero(pd.Series(codes, copy=False).isin(repeated).to_numpy())
        shared = pd.DataFrame({"code": codes[rows], "value": text.take(pa.array(rows)).to_pandas()})
        if (shared.groupby("code")["value"].nunique() > 1).any():  # a collision: the exact form
            return pd.factorize(values, use_na_sentinel=True)[0].astype(np.int64)
    return codes


def repeated_values(codes: np.ndarray) -> np.ndarray:
    """The distinct values of the integer array ``codes`` that occur more than once (sorted, not hashed)."""
    ordered = np.sort(codes)
    return np.unique(ordered[1:][ordered[1:] == ordered[:-1]])


def repeats_of_earlier(codes: np.ndarray) -> np.ndarray:
    """``pd.Series(codes).duplicated(keep="first")`` of an integer array: the repeated values are found by
    sorting, and only their rows go through pandas' hash table."""
    out = np.zeros(len(codes), dtype=bool)
    repeated = repeated_values(codes) if len(codes) > 1 else codes[:0]
    if len(repeated):
        rows = np.flatnonzero(pd.Series(codes, copy=False).isin(repeated).to_numpy())
        out[rows] = pd.Series(codes[rows]).duplicated(keep="first").to_numpy()
    return out


def isin_large(values: Any, candidates: Any) -> np.ndarray:
    """:func:`isin` for large text sets (a million ids against several millions): DuckDB joins them on its
    two threads (the exact comparison of the values, not their hashes)."""
    left = arrow_text(values) if FAST_HASH else None
    right = arrow_text(candidates) if left is not None else None
    if left is None or right is None or max(len(left), len(right)) < HASH_MIN:
        return isin(values, candidates)
    found = _duck("SELECT i FROM left_ SEMI JOIN right_ USING (v)", "i",
                  left_=pa.table({"i": pa.array(np.arange(len(left), dtype=np.int64)), "v": left}),
                  right_=pa.table({"v": right}))
    out = np.zeros(len(left), dtype=bool)
    out[np.asarray(found, dtype=np.int64)] = True
    if left.null_count and right.null_count:  # a missing value matches a missing one (as isin)
        out |= left.is_null().to_numpy(zero_copy_only=False)
    return out


def distinct(values: pd.Series) -> pd.Series:
    """``pd.Series(values.unique())`` of a column without blanks: its distinct values in the order they first
    appear. Large text is grouped by DuckDB on its two threads (the first row of each value, sorted): the same
    values in the same order, in less than half the time of Arrow's hash table at a million ids."""
    text = arrow_text(values) if FAST_HASH else None
    if text is None or len(text) < HASH_MIN or text.null_count:
        return pd.Series(values.unique())
    first = np.sort(_duck("SELECT min(i) AS i FROM values_ GROUP BY v", "i",
                          values_=pa.table({"i": pa.array(np.arange(len(text), dtype=np.int64)), "v": text})))
    return values.iloc[first].reset_index(drop=True)


def _whole_text(values: Any) -> pa.Array | None:
    """:func:`arrow_text` as one array, when it has no blank; ``None`` otherwise."""
    text = arrow_text(values)
    if text is None or text.null_count:
        return None
    return text.combine_chunks()


def in_order(first: Any, second: Any) -> bool:
    """Whether the rows are already in ascending (``first``, ``second``) order, text compared as Python
    compares ``str`` (code points, i.e. UTF-8 bytes), in one vectorised pass instead of a sort. ``False`` when
    either is not blank-free Arrow text (the caller sorts)."""
    a, b = _whole_text(first), _whole_text(second)
    if a is None or b is None:
        return False
    if len(a) < 2:
        return True
    a0, a1, b0, b1 = a[:-1], a[1:], b[:-1], b[1:]
    return bool(pc.all(pc.or_(pc.less(a0, a1), pc.and_(pc.equal(a0, a1), pc.less_equal(b0, b1)))).as_py())


def factorize_sorted(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(values, sort=True)`` as (codes, uniques Index). For blank-free Arrow text already in
    ascending order (a view returned ``ORDER BY`` it), the codes come from where the value changes instead of
    a hash and a sort of every value (seconds on millions of ids)."""
    text = _whole_text(values)
    if text is not None and len(text) > 1 and pc.all(pc.less_equal(text[:-1], text[1:])).as_py():
        change = pc.not_equal(text[1:], text[:-1]).to_numpy(zero_copy_only=False)
        starts = np.concatenate([[0], np.flatnonzero(change) + 1])
        return np.concatenate([[0], np.cumsum(change, dtype=np.int64)]), pd.Index(values.array.take(starts))
    codes, uniques = pd.factorize(values, sort=True)
    return codes, pd.Index(uniques)
