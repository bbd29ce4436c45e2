"""What an order line means beyond its values: totals rows, cancelled lines, returns, currencies, id spellings.

Each function takes the table as read (:class:`~crmlib.data.read.RawTable`) and the typed frame, and returns
the frame to keep with the notes it adds, or raises one :class:`~crmlib.errors.DataError` when the lines
cannot be summed safely. The params keys are the contract's ``data.orders``: ``drop_when`` and
``return_when`` (``{file column: [values]}``), ``columns.currency``, ``rates`` (to the report currency) and
``duplicates`` (``drop`` | ``keep``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from crmlib.data import sniff, textops
from crmlib.data.coerce import CURRENCY_MARKS, cell_text
from crmlib.data.notes import Note
from crmlib.data.problems import MAX_EXAMPLES, data_error
from crmlib.data.read import RawTable
from crmlib.errors import DataError

#: A cell that labels a totals row of a report (TOPLAM, Genel Toplam, Ara Toplam, Total, Grand total).
TOTAL_WORDS = re.compile(r"^(genel|ara|grand|sub)?\s*-?\s*(toplam|toplamlar|total|totals|sum)\s*:?$", re.IGNORECASE)
#: Share of order lines dated after today (with as_of unset) that are named and left out; above it, refused.
FUTURE_TOLERANCE = 0.01
#: Most future-dated lines named and left out whatever the share (a few typos, not a shifted column).
FUTURE_MAX = 20

Notes = list  # list of crmlib.data.validate.Note (imported lazily: validate imports this module)


def _fold(value: Any) -> str:
    text = cell_text(value)
    return "" if text is None else sniff.normalise_name(str(text))


def _note(*args: Any, **kwargs: Any) -> Any:
    return Note(*args, **kwargs)


def _examples(raw: RawTable, frame: pd.DataFrame, mask: np.ndarray, values: pd.Series) -> list[tuple[int, Any]]:
    labels = frame.index[np.flatnonzero(mask)[:MAX_EXAMPLES]]
    return [(raw.line(label), cell_text(values.loc[label])) for label in labels]


# ------------------------------------------------------------------------------------------------- totals


def total_rows(raw: RawTable) -> np.ndarray:
    """Return the mask of rows that are a report's totals (TOPLAM, Genel Toplam ...) in an id or date cell."""
    frame = raw.frame
    mask = np.zeros(len(frame), dtype=bool)
    for column in [c for c in ("customer_id", "order_id", "product_id", "order_date") if c in frame]:
        series = frame[column]
        if not (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
            continue
        near = textops.rows_with_bytes(series, b"lLmM")  # every totals word holds an l or an m
        if near is not None and not near.any():
            continue
        distinct = _total_candidates((series if near is None else series[near]).dropna().unique())
        hits = [v for v in distinct if isinstance(v, str) and TOTAL_WORDS.match(v.strip().replace("İ", "i"))]
        if hits:
            mask |= textops.isin(series, hits)
    return mask


def _total_candidates(distinct: Any) -> list[Any]:
    """The distinct values that can match :data:`TOTAL_WORDS`: with Arrow text only those holding one of its
    words in any case (``ſ`` is an ``s`` to the regex's IGNORECASE), found by pyarrow; else all of them."""
    text = textops.arrow_text(distinct)
    if text is None:
        return list(distinct)
    found = pc.match_substring_regex(text, r"(?i)toplam|total|sum|ſum").fill_null(False)
    return text.filter(found).to_pylist()


def drop_total_rows(raw: RawTable, notes: Notes) -> None:
    """Leave out a report's totals rows (they would double the revenue), noted with their lines."""
    mask = total_rows(raw)
    if not mask.any():
        return
    frame = raw.frame
    shown = frame["amount"] if "amount" in frame else frame.iloc[:, 0]
    notes.append(_note(raw.name, None, "total_rows_dropped", int(mask.sum()),
                       f"{int(mask.sum())} totals rows (TOPLAM, Total) were left out",
                       _examples(raw, frame, mask, shown)))
    raw.frame = frame.loc[~mask]
    if raw.extra is not None:
        raw.extra = raw.extra.loc[~mask]


# --------------------------------------------------------------------------------------- status columns


def _rule_mask(raw: RawTable, frame: pd.DataFrame, key: str) -> tuple[np.ndarray, list[str]]:
    """Return the rows whose file column matches data.<table>.<key> (case- and accent-insensitive)."""
    mask = np.zeros(len(frame), dtype=bool)
    used = []
    for column, values in (raw.spec.get(key) or {}).items():
        wanted = {_fold(v) for v in (values if isinstance(values, (list, tuple, set)) else [values])}
        source = next(c for c in raw.extra.columns if c.strip() == str(column).strip())
        cells = raw.extra[source].loc[frame.index]
        folded = {v: _fold(v) in wanted for v in cells.dropna().unique()}
        mask |= cells.map(folded).fillna(False).to_numpy(dtype=bool)
        used.append(source)
    return mask, used


def apply_line_rules(raw: RawTable, frame: pd.DataFrame, notes: Notes) -> pd.DataFrame:
    """Apply ``drop_when`` and ``return_when``, sign returns written with a negative quantity, name status columns.

    - ``drop_when`` lines are left out (noted, with their revenue);
    - ``return_when`` lines get a negative amount (and cost, quantity), noted;
    - a line with quantity < 0 and amount > 0 is a return: its amount is made negative, noted;
    - an unmapped column holding values such as İptal, İade, Cancelled, Return is named with its values.
    """
    used: list[str] = []
    if raw.spec.get("drop_when"):
        drop, cols = _rule_mask(raw, frame, "drop_when")
        used += cols
        if drop.any():
            total = float(frame["amount"][drop].sum()) if "amount" in frame else 0.0
            notes.append(_note(raw.name, cols[0], "dropped_by_status", int(drop.sum()),
                               f"{int(drop.sum())} lines matching data.{raw.name}.drop_when were left out "
                               f"(amount {total:,.2f})", _examples(raw, frame, drop, raw.extra[cols[0]]),
                               {"total": total, "source": ", ".join(cols)}))
            frame = frame.loc[~drop]
    returns = np.zeros(len(frame), dtype=bool)
    if raw.spec.get("return_when"):
        returns, cols = _rule_mask(raw, frame, "return_when")
        used += cols
        positive = returns & (frame["amount"] > 0).to_numpy()
        if returns.any():
            frame = frame.copy()
            for col in ("amount", "cost", "quantity"):
                if col in frame:
                    frame.loc[returns, col] = -frame.loc[returns, col].abs()
            notes.append(_note(raw.name, cols[0], "returns_by_status", int(returns.sum()),
                               f"{int(returns.sum())} lines matching data.{raw.name}.return_when are returns "
                               f"({int(positive.sum())} positive amounts made negative)",
                               _examples(raw, frame, returns, raw.extra[cols[0]]),
                               {"total": float(frame["amount"][returns].sum()), "source": ", ".join(cols)}))
    if {"quantity", "amount"} <= set(frame):
        signed = ((frame["quantity"] < 0) & (frame["amount"] > 0)).to_numpy() & ~returns
        if signed.any():
            frame = frame.copy()
            frame.loc[signed, "amount"] = -frame.loc[signed, "amount"]
            if "cost" in frame:
                frame.loc[signed, "cost"] = -frame.loc[signed, "cost"].abs()
            notes.append(_note(raw.name, "quantity", "negative_quantity_returns", int(signed.sum()),
                               f"{int(signed.sum())} lines with a negative quantity and a positive amount were "
                               "read as returns (amount made negative)",
                               _examples(raw, frame, signed, frame["quantity"]),
                               {"total": float(frame["amount"][signed].sum())}))
    for column in [c for c in (raw.extra.columns if raw.extra is not None else []) if c not in used]:
        cells = raw.extra[column].loc[frame.index]
        distinct = [cell_text(v) for v in cells.dropna().unique()[:200]]
        flagged = sniff.status_values(distinct)
        if flagged:
            counts = cells.map(cell_text).value_counts()
            shown = ", ".join(f"{v} ({int(counts.get(v, 0)):,})" for v in flagged[:MAX_EXAMPLES])
            notes.append(_note(raw.name, column, "status_column_unmapped", int(cells.isin(flagged).sum()),
                               f"the column {column!r} looks like a status or document type ({shown}) but is "
                               f"not used: set data.{raw.name}.drop_when: {{{column}: [...]}} for cancelled "
                               f"lines or data.{raw.name}.return_when for returns",
                               values={"values": shown, "source": column}))
    return frame


# ------------------------------------------------------------------------------------------------ currency


def _code(value: Any) -> Any:
    text = cell_text(value)
    if text is None or not str(text).strip():
        return None
    key = str(text).strip().upper().replace("İ", "I")
    return CURRENCY_MARKS.get(key, key)


def convert_currency(raw: RawTable, frame: pd.DataFrame, notes: Notes, inline: Mapping[str, pd.Series | None],
                     *, currency: str) -> pd.DataFrame:
    """Convert money to the report ``currency`` with data.<table>.rates, or refuse listing the currencies.

    A line's currency is ``columns.currency`` when mapped, else a code written inside its amount
    (``1.234,56 USD``), else the report currency. A code in the values that contradicts the column is refused.
    """
    codes = pd.Series(None, index=frame.index, dtype=object)
    if "currency" in frame:
        codes = frame["currency"].map(_code)
    for column, found in inline.items():
        if found is None:
            continue
        found = found.reindex(frame.index)
        clash = (found.notna() & codes.notna() & (found != codes)).to_numpy()
        if clash.any():
            rows = _examples(raw, frame, clash, found.astype(str) + " / " + codes.astype(str))
            raise data_error(raw.name, raw.place, f"{int(clash.sum())} lines carry a currency in the value that "
                             "differs from the currency column (value / column).",
                             "correct the lines, or map the right column under columns.currency.",
                             column=column, source=raw.source_columns.get(column), rows=rows)
        codes = codes.where(codes.notna(), found)
    if (codes.dropna() == currency).all():
        return frame.drop(columns=["currency"], errors="ignore")
    counts = codes.fillna(currency).value_counts()
    spec_rates = raw.spec.get("rates") or {}
    table = read_rates(raw, spec_rates) if isinstance(spec_rates, str) else None
    rates = ({str(k).upper(): v for k, v in spec_rates.items()} if table is None
             else {c: float(g["rate"].iloc[-1]) for c, g in table.groupby("currency")})
    missing = [c for c in counts.index if c != currency and c not in rates]
    listed = ", ".join(f"{c} ({int(n):,} lines)" for c, n in counts.items())
    if missing:
        example = ", ".join(f"{c}: <{currency} per 1 {c}>" for c in missing)
        raise data_error(raw.name, raw.place, f"the lines are in several currencies: {listed}; the report "
                         f"currency is {currency} and there is no rate for {', '.join(missing)}, so they "
                         "cannot be summed.",
                         f"give data.{raw.name}.rates: {{{example}}} (to {currency}), or a rates file by date "
                         "(rates: kurlar.csv with columns date, currency, rate), or set the params' currency if "
                         "every line is in another currency.",
                         column="currency" if "currency" in frame else "amount",
                         source=raw.source_columns.get("currency") or raw.source_columns.get("amount"))
    line_codes = codes.fillna(currency)
    if table is None:
        factor = line_codes.map(lambda c: 1.0 if c == currency else float(rates[c])).to_numpy()
        used = ", ".join(f"{c} = {rates[c]:g} {currency}" for c in counts.index if c != currency)
    else:
        factor = _rates_by_date(raw, frame, line_codes, table, currency)
        used = f"by date from {Path(spec_rates).name}"
    frame = frame.copy()
    for col in ("amount", "cost"):
        if col in frame:
            frame[col] = frame[col] * factor
    foreign = int((codes.notna() & (codes != currency)).sum())
    blank = int(codes.isna().sum())
    used = ", ".join(f"{c} = {rates[c]:g} {currency}" for c in counts.index if c != currency)
    notes.append(_note(raw.name, "currency" if "currency" in raw.frame else "amount", "currency_converted",
                       foreign, f"{foreign} lines in other currencies were converted to {currency} ({used}); "
                       f"{blank} lines without a currency were taken as {currency}",
                       values={"currencies": listed, "rates": used, "currency": currency, "blank": blank}))
    return frame.drop(columns=["currency"], errors="ignore")


def read_rates(raw: RawTable, path: str) -> pd.DataFrame:
    """Return a rates file (CSV or XLSX: date, currency, rate; Turkish headers tarih, döviz, kur too), sorted."""
    file = Path(path)
    names = {"date": ("date", "tarih"), "currency": ("currency", "doviz", "parabirimi", "code"),
             "rate": ("rate", "kur", "doviz kuru", "dovizkuru")}
    try:
        table = (pd.read_excel(file, dtype=object, engine="calamine") if file.suffix.lower() in (".xlsx", ".xlsm")
                 else pd.read_csv(file, sep=None, engine="python", dtype=str, encoding="utf-8-sig"))
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise data_error(raw.name, str(file), f"the rates file cannot be read ({err}).",
                         f"give data.{raw.name}.rates as a CSV or XLSX file with the columns date, currency, rate "
                         "(path relative to the params file).") from err
    found = {}
    for ours, spellings in names.items():
        match = [c for c in table.columns if sniff.normalise_name(str(c)) in {sniff.normalise_name(s) for s in spellings}]
        if not match:
            raise data_error(raw.name, str(file), f"the rates file has no column {ours!r} (its headers are "
                             f"{list(table.columns)}).", "name the columns date, currency and rate.")
        found[ours] = match[0]
    out = pd.DataFrame({
        "date": pd.to_datetime(table[found["date"]], dayfirst=True, errors="coerce", format="mixed"),
        "currency": table[found["currency"]].map(_code),
        "rate": pd.to_numeric(table[found["rate"]].astype(str).str.replace(",", ".", regex=False), errors="coerce"),
    })
    bad = out.isna().any(axis=1) | ~(out["rate"] > 0)
    if bad.any():
        rows = [(int(i) + 2, str(table.iloc[int(i)].tolist())) for i in np.flatnonzero(bad.to_numpy())[:MAX_EXAMPLES]]
        raise data_error(raw.name, str(file), f"{int(bad.sum())} lines of the rates file have no readable date, "
                         "currency or positive rate.", "correct these lines.", rows=rows)
    return out.sort_values(["currency", "date"]).reset_index(drop=True)


def _rates_by_date(raw: RawTable, frame: pd.DataFrame, codes: pd.Series, table: pd.DataFrame,
                   currency: str) -> np.ndarray:
    """Return each line's rate: the latest rate of its currency dated on or before the line's date."""
    factor = np.ones(len(frame))
    dates = frame["order_date"] if "order_date" in frame else None
    for code in codes.unique():
        if code == currency:
            continue
        mask = (codes == code).to_numpy()
        rates = table[table["currency"] == code]
        if dates is None:
            factor[mask] = float(rates["rate"].iloc[-1])
            continue
        at = np.searchsorted(rates["date"].to_numpy(), dates[mask].to_numpy(), side="right") - 1
        early = at < 0
        if early.any():
            first = f"{rates['date'].iloc[0]:%Y-%m-%d}"
            raise data_error(raw.name, raw.place, f"{int(early.sum())} {code} lines are dated before the first "
                             f"{code} rate of the rates file ({first}).", f"add {code} rates from the first "
                             "order date on to the rates file.", column="order_date",
                             source=raw.source_columns.get("order_date"),
                             rows=_examples(raw, frame, _mask_at(mask, early), frame["order_date"]))
        factor[mask] = rates["rate"].to_numpy()[np.maximum(at, 0)]
    return factor


def _mask_at(mask: np.ndarray, sub: np.ndarray) -> np.ndarray:
    out = np.zeros(len(mask), dtype=bool)
    out[np.flatnonzero(mask)[sub]] = True
    return out


# ------------------------------------------------------------------------------------------------------ ids


def strip_zeros(value: str) -> str:
    stripped = value.lstrip("0")
    return stripped if stripped else "0"


def strip_zeros_series(values: pd.Series) -> pd.Series:
    """:func:`strip_zeros` of each value (vectorised for Arrow text)."""
    stripped = textops.strip_leading_zeros(values)
    if stripped is None:
        return values.map(strip_zeros)
    return pd.Series(stripped, index=values.index, dtype=values.dtype)


def leading_zero_collisions(values: pd.Series) -> list[tuple[str, ...]]:
    """Return groups of distinct ids that become equal when leading zeros are removed (``00012``, ``12``)."""
    distinct = pd.Series(values.dropna().unique())
    numeric = distinct[distinct.str.fullmatch(r"0*\d+").fillna(False).astype(bool)]
    if numeric.empty:
        return []
    key = numeric.map(strip_zeros)
    groups = numeric.groupby(key.to_numpy()).agg(list)
    return [tuple(sorted(g, key=len, reverse=True)) for g in groups if len(g) > 1]


def check_id_spellings(raw: RawTable, frame: pd.DataFrame, column: str) -> None:
    """Refuse ids that differ only by leading zeros (``00012`` and ``12``): one customer or two?"""
    zeros = textops.first_byte_is(frame[column], b"0")  # two such spellings: one of them starts with 0
    if zeros is not None and not zeros.any():
        return
    groups = leading_zero_collisions(frame[column])
    if not groups:
        return
    shown = "; ".join(" = ".join(repr(v) for v in g) for g in groups[:MAX_EXAMPLES])
    first = groups[0]
    rows = _examples(raw, frame, frame[column].isin(first[:2]).to_numpy(), frame[column])
    raise data_error(raw.name, raw.place, f"{len(groups)} codes are written both with and without leading zeros "
                     f"({shown}), so it is not clear whether they are the same; in Excel this happens when some "
                     "cells are text and others numbers.",
                     "write every code the same way in the file (in Excel: format the column as Text and retype "
                     "the codes, or give the number cells a format such as 00000 that shows the zeros).",
                     column=column, source=raw.source_columns.get(column), rows=rows)


def match_leading_zeros(ids: pd.Series, known: pd.Series, *, plain: pd.Series | None = None,
                        other: pd.Series | None = None,
                        found: np.ndarray | None = None) -> Callable[[pd.Series], pd.Series] | None:
    """Return a map of ``known`` ids onto the spelling used in ``ids`` when they differ only by leading zeros.

    None when the plain ids already match, or when removing the zeros does not pair them one to one.
    ``plain`` and ``other`` (the distinct non-blank values of ``ids`` and ``known``) and ``found`` (which of
    ``plain`` are in ``other``) may be given when the caller has them already.
    """
    plain = pd.Series(ids.dropna().unique()) if plain is None else plain
    other = pd.Series(known.dropna().unique()) if other is None else other
    if other.empty or (textops.isin(plain, other) if found is None else found).all():
        return None
    zeros = [textops.first_byte_is(values, b"0") for values in (plain, other)]
    if all(z is not None and not z.any() for z in zeros):  # no id starts with a zero: none to strip
        return None
    a, b = strip_zeros_series(plain), strip_zeros_series(other)
    if a.duplicated().any() or b.duplicated().any():
        return None
    if textops.isin(b, a).sum() <= textops.isin(other, plain).sum():  # no id gained by ignoring the zeros
        return None
    lookup = dict(zip(a, plain, strict=True))
    gained = b.map(lookup)
    table = dict(zip(other, gained.fillna(other), strict=True))
    return lambda series: series.map(table).where(series.notna())


# ------------------------------------------------------------------------------------------------- as_of


def analysis_date(dates: pd.Series, lines: Callable[[np.ndarray], list[Any]], *, as_of: Any,
                  today: pd.Timestamp | None = None, where: str = "") -> tuple[pd.Timestamp, Any]:
    """Return the analysis date and the note on later lines.

    ``as_of`` given: that date. Else the last order date not after ``today``: lines after today are typos
    (2052 for 2025) and are left out, named by line; when they are more than ``FUTURE_TOLERANCE`` of the
    lines (and more than ``FUTURE_MAX``) the dates are wrong systematically and the load is refused.
    """
    today = (pd.Timestamp.today() if today is None else pd.Timestamp(today)).normalize()
    if as_of is not None:
        return pd.Timestamp(as_of).normalize(), None
    future = (dates > today).to_numpy()
    if not future.any():
        return dates.max().normalize(), None
    count = int(future.sum())
    positions = np.flatnonzero(future)[:MAX_EXAMPLES]
    examples = [(line, f"{dates.iloc[p]:%Y-%m-%d}") for line, p in zip(lines(positions), positions, strict=True)]
    shown = "; ".join(f"line {line}: {value!r}" for line, value in examples)
    if count > FUTURE_MAX and count > FUTURE_TOLERANCE * len(dates):
        raise DataError(f"Table 'orders'{where}, column 'order_date': {count:,} of {len(dates):,} lines are dated "
                        f"after today ({today:%Y-%m-%d}), too many to be typos. First rows: {shown}. What to "
                        "do: correct the dates (or read.date_format), or set as_of to the analysis date.")
    if not (~future).any():
        raise DataError(f"Table 'orders'{where}: every line is dated after today ({today:%Y-%m-%d}). First rows: "
                        f"{shown}. What to do: correct the dates, or set as_of.")
    cut = dates[~future].max().normalize()
    note = _note("orders", "order_date", "future_lines_left_out", count,
                 f"{count} lines are dated after today ({today:%Y-%m-%d}) and were left out: {shown}",
                 examples, {"as_of": f"{cut:%Y-%m-%d}", "today": f"{today:%Y-%m-%d}",
                            "lines": shown})
    return cut, note
