"""The params file: YAML in, a complete params dict out.

Top-level keys are the notebooks' papermill parameters (see the contract). Each practice section
(``segmentation``, ``churn``, ``clv``, ``cross_sell``, ``loyalty``, ``service``) takes its defaults from the
``DEFAULTS`` dict of the practice's ``params`` module; user values are merged over them
(:func:`merge_over_defaults`) and the module's ``check`` runs on the result, so a bad value stops the run
here (exit 2, one message) instead of inside a notebook. Unknown keys, at any level we know, are errors
with a did-you-mean, because a typo that silently falls back to a default is worse than a failed run.
:class:`Check` words every value error the same way: key, value, what is allowed, an example.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from crmlib.core import privacy, registry
from crmlib.errors import ParamsError, did_you_mean

TABLES: tuple[str, ...] = ("orders", "customers", "products", "payments", "tickets", "surveys", "contacts",
                           "marketing")
READ_KEYS: dict[str, Any] = {"sep": None, "decimal": None, "thousands": None, "encoding": None,
                             "date_format": None, "sheet": None, "header_row": None, "timezone": None}
TABLE_KEYS: tuple[str, ...] = ("path", "columns", "read", "rates", "drop_when", "return_when", "duplicates")

#: section -> module whose ``DEFAULTS`` define the section's keys and whose ``check`` runs at load (from the
#: practice registry)
SECTION_MODULES: dict[str, str] = registry.params_sections()

REPORT_DEFAULTS: dict[str, Any] = {
    "mask_pii": False,      # mask names, e-mails and phones in reports and action lists
    "company": None,        # shown in every report header when set
    "max_rows": 25,         # rows shown per table in the HTML (exports always have all rows)
    # long tables (more than max_rows) become sortable, searchable and filterable in the browser, offline
    # (DataTables from itables' bundle, about 1 MB per page); at most interactive_max_rows rows each
    "interactive_tables": True,
    "interactive_max_rows": 500,
    "max_list_rows": 5000,  # rows per sheet of action_lists.xlsx, highest priority first (the CSVs have all)
    "open_browser": False,  # reserved for interactive use; scheduled runs never open anything
    "share_with_group": False,  # files 0600 / folders 0700 (owner only); true: 0640 / 0750 for a team share
    "mask_pii_in_html": True,   # managers' HTML shows masked contacts; the sales lists (XLSX/CSV) keep them
    "keep_days": None,      # delete runs created more than N days ago, with their history rows; null = keep
    "dir": None,            # where runs are published, relative to the params file; None = reports/ beside it
    "timeout_minutes": 60,  # a notebook running longer is stopped and gets its failure page
    "keep_runs": None,      # keep only the newest N runs in report.dir (older ones are pruned); None = all
    "csv_dialect": None,    # excel-tr (';', decimal comma, dd.mm.yyyy; default for language tr) | standard
}

TOP_LEVEL: dict[str, Any] = {
    "as_of": None,
    "language": "tr",
    "currency": "TRY",
    "data": None,
    **{section: {} for section in SECTION_MODULES},
    "report": {},
    "engine": "duckdb",  # where the heavy SQL runs: duckdb (embedded) | spark (docs/SCALING.md)
    "spark": {},         # the Spark session (engine: spark): master, conf; defaults in crmlib.data.spark_engine
}

ENGINES: tuple[str, ...] = ("duckdb", "spark")
SPARK_DEFAULTS: dict[str, Any] = {
    "master": "local[2]",  # local[N]: N cores of this machine; a cluster: spark://host:7077, yarn, k8s://...
    "conf": {},            # Spark configuration over the workbook's own (crmlib.data.spark_engine.BASE_CONF)
}


def section_defaults(section: str) -> dict[str, Any]:
    """Return a deep copy of the defaults of a practice section (``{}`` if its module is not installed)."""
    if section == "report":
        return copy.deepcopy(REPORT_DEFAULTS)
    module = _section_module(section)
    return copy.deepcopy(getattr(module, "DEFAULTS", {})) if module is not None else {}


def _section_module(section: str) -> Any:
    try:
        return importlib.import_module(SECTION_MODULES[section])
    except ModuleNotFoundError as err:  # a practice not present in this build
        if err.name != SECTION_MODULES[section]:
            raise
        return None


def _section_check(section: str) -> Any:
    """The practice's ``check(section_dict)`` (values checked at load time), or ``None``."""
    module = _section_module(section)
    return getattr(module, "check", None) if module is not None else None


def _unknown(where: str, key: str, known: list[str]) -> ParamsError:
    close = did_you_mean(key, known)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ParamsError(
        f"Unknown params key '{where}{key}'.{hint} "
        f"Known keys here: {', '.join(sorted(known))}. Fix or remove it in the params file."
    )


def merge_over_defaults(defaults: Mapping[str, Any], user: Any, *, where: str) -> dict[str, Any]:
    """Merge ``user`` over ``defaults`` recursively; unknown keys raise :class:`ParamsError`.

    The one merge of the workbook: the params loader and every practice's ``resolve`` use it. ``where`` is
    the dotted prefix of the keys in messages (``"churn."``). A default that is ``None`` or an empty dict
    accepts any value (free-form, e.g. rule tables); ``None`` for a nested mapping keeps its defaults.
    """
    if user is None:
        return copy.deepcopy(dict(defaults))
    if not isinstance(user, Mapping):
        raise ParamsError(f"Params key {where.rstrip('.')!r} must be a mapping, got {type(user).__name__} "
                          f"{user!r}. Write it as 'key: value' lines under {where.rstrip('.')}.")
    out = copy.deepcopy(dict(defaults))
    for key, value in user.items():
        if defaults and key not in defaults:
            raise _unknown(where, str(key), list(defaults))
        default = defaults.get(key)
        if isinstance(default, Mapping) and default:
            out[key] = merge_over_defaults(default, value, where=f"{where}{key}.")
        else:
            out[key] = copy.deepcopy(value)
    return out


def _flow(value: Any) -> str:
    """``value`` as one line of YAML, as a user would write it."""
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, allow_unicode=True, width=10**6)
    return text.strip().removesuffix("...").strip()


class Check:
    """Checks of one merged practice section; a failure is one :class:`ParamsError` that names the key, the
    value, what is allowed and an example (the default, unless another is given).

    Used by every practice's ``params.check``::

        c = Check("clv", section, DEFAULTS)
        c.number("horizon_days", low=0, low_open=True, what="a positive number of days")
        c.choice("value", ("revenue", "margin"))
    """

    def __init__(self, section: str, values: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
        self.section, self.values, self.defaults = section, values, defaults

    def get(self, key: str, *, source: Mapping[str, Any] | None = None) -> Any:
        """The value at a dotted ``key`` (``"levels.medium"``)."""
        value: Any = self.values if source is None else source
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        return value

    def fail(self, key: str, allowed: str, *, example: Any = None, value: Any = ..., note: str = "") -> ParamsError:
        """The error for ``key``: ``Params key 'sec.key' must be <allowed>, got <value>. For example: ...``."""
        shown = self.get(key) if value is ... else value
        sample = self.get(key, source=self.defaults) if example is None else example
        nested: Any = sample
        for part in reversed(key.split(".")):
            nested = {part: nested}
        hint = f" For example: {self.section}: {_flow(nested)}." if sample is not None else ""
        return ParamsError(f"Params key '{self.section}.{key}' must be {allowed}, got {shown!r}{note}.{hint} "
                           "Fix it in the params file.")

    def number(self, key: str, *, low: float | None = None, high: float | None = None, low_open: bool = False,
               high_open: bool = False, whole: bool = False, optional: bool = False, what: str = "",
               example: Any = None) -> None:
        """A number (``whole``: an integer) in the range given; ``optional`` also accepts null."""
        value = self.get(key)
        if optional and value is None:
            return
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
        if ok and whole:
            ok = float(value).is_integer()
        if ok and low is not None:
            ok = value > low if low_open else value >= low
        if ok and high is not None:
            ok = value < high if high_open else value <= high
        if not ok:
            raise self.fail(key, what or _range_text(low, high, low_open, high_open, whole, optional),
                            example=example)

    def share(self, key: str, *, optional: bool = False, example: Any = None) -> None:
        """A share in (0, 1] (0.25 = 25%)."""
        self.number(key, low=0, high=1, low_open=True, optional=optional, example=example,
                    what="a share in (0, 1]" + (" or null" if optional else ""))

    def positive(self, key: str, *, whole: bool = True, unit: str = "", example: Any = None) -> None:
        """A number > 0 (``whole``: a whole number >= 1)."""
        what = f"a whole number >= 1{f' ({unit})' if unit else ''}" if whole else \
            f"a positive number{f' of {unit}' if unit else ''}"
        self.number(key, low=1 if whole else 0, low_open=not whole, whole=whole, what=what, example=example)

    def choice(self, key: str, choices: Sequence[Any], *, example: Any = None) -> None:
        """One of ``choices``."""
        value = self.get(key)
        if value not in choices:
            close = did_you_mean(str(value), [str(c) for c in choices])
            names = [repr(c) for c in choices]
            allowed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
            raise self.fail(key, allowed, example=example,
                            note=f" (did you mean {close[0]!r}?)" if close else "")

    def increasing(self, key: str, *, low: float | None = None, length: int | None = None, optional: bool = False,
                   what: str = "", example: Any = None) -> None:
        """A list of strictly increasing numbers (each >= ``low``; ``length`` items when given)."""
        value = self.get(key)
        if optional and value is None:
            return
        ok = isinstance(value, (list, tuple)) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        ok = ok and (length is None or len(value) == length) and (length is not None or len(value) > 0)
        ok = ok and all(b > a for a, b in zip(value[:-1], value[1:], strict=True))
        ok = ok and (low is None or all(v >= low for v in value))
        if not ok:
            default = what or (f"{length} " if length else "a list of ") + "increasing numbers" + \
                (f" >= {low:g}" if low is not None else "")
            raise self.fail(key, default, example=example)


def _range_text(low: float | None, high: float | None, low_open: bool, high_open: bool, whole: bool,
                optional: bool) -> str:
    kind = "a whole number" if whole else "a number"
    if low is not None and high is not None:
        text = f"{kind} in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    elif low is not None:
        text = f"{kind} {'>' if low_open else '>='} {low:g}"
    elif high is not None:
        text = f"{kind} {'<' if high_open else '<='} {high:g}"
    else:
        text = kind
    return text + (" or null" if optional else "")


def _as_of(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    try:
        return pd.Timestamp(str(value)).strftime("%Y-%m-%d")
    except (ValueError, TypeError):
        raise ParamsError(f"Params key 'as_of' must be a date like 2026-06-30 or null, got {value!r}. "
                          "Write it as YYYY-MM-DD, or null for the date of the last order.") from None


def _table_spec(name: str, spec: Any) -> dict[str, Any]:
    if isinstance(spec, str):
        spec = {"path": spec}
    if not isinstance(spec, dict):
        raise ParamsError(f"Params key 'data.{name}' must be a mapping with 'path' (and 'columns', 'read'), "
                          f"got {spec!r}.")
    for key in spec:
        if key not in TABLE_KEYS:
            raise _unknown(f"data.{name}.", str(key), list(TABLE_KEYS))
    if not spec.get("path"):
        raise ParamsError(f"Params key 'data.{name}.path' is missing. Give the file's path, relative to the "
                          "params file.")
    columns = spec.get("columns")
    if columns is not None and (not isinstance(columns, dict)
                                or not all(isinstance(v, str) for v in columns.values())):
        raise ParamsError(f"Params key 'data.{name}.columns' must map our column names to the file's column "
                          f"names (text), got {columns!r}.")
    read = spec.get("read") or {}
    if not isinstance(read, dict):
        raise ParamsError(f"Params key 'data.{name}.read' must be a mapping, got {read!r}.")
    for key in read:
        if key not in READ_KEYS:
            raise _unknown(f"data.{name}.read.", str(key), list(READ_KEYS))
    _check_rules(name, spec)
    # columns: None means "every column of ours that the file has under the same name"
    out = {"path": str(spec["path"]),
           "columns": None if columns is None else {str(k): str(v) for k, v in columns.items()},
           "read": {**READ_KEYS, **read}}
    for key in ("rates", "drop_when", "return_when", "duplicates"):
        if spec.get(key) is not None:
            out[key] = spec[key]
    return out


def _check_rules(name: str, spec: dict[str, Any]) -> None:
    """Check data.<table>.rates, drop_when, return_when, duplicates and read.header_row / read.sheet."""
    where = f"data.{name}"
    rates = spec.get("rates")
    if rates is not None and not isinstance(rates, str):
        if not isinstance(rates, dict) or not rates:
            raise ParamsError(f"Params key '{where}.rates' must map currency codes to rates, e.g. "
                              f"{{USD: 34.0, EUR: 37.0}}, or name a rates file by date (date, currency, rate), "
                              f"got {rates!r}.")
        for code, rate in rates.items():
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0:
                raise ParamsError(f"Params key '{where}.rates.{code}' must be a positive number (report currency "
                                  f"per 1 {code}), got {rate!r}.")
    for key in ("drop_when", "return_when"):
        rule = spec.get(key)
        if rule is None:
            continue
        if not isinstance(rule, dict) or not rule or not all(
                isinstance(v, (str, int, float, list)) for v in rule.values()):
            raise ParamsError(f"Params key '{where}.{key}' must map a column of the file to its values, e.g. "
                              f"{{Durum: [İptal]}}, got {rule!r}.")
        for column, values in rule.items():
            if isinstance(values, list) and not values:
                raise ParamsError(f"Params key '{where}.{key}.{column}' lists no values. Give the values, "
                                  "e.g. [İptal], or remove it.")
    duplicates = spec.get("duplicates")
    if duplicates is not None and duplicates not in ("drop", "keep"):
        raise ParamsError(f"Params key '{where}.duplicates' must be drop or keep, got {duplicates!r}.")
    read = spec.get("read") or {}
    header_row = read.get("header_row") if isinstance(read, dict) else None
    if header_row is not None and (isinstance(header_row, bool) or not isinstance(header_row, int)
                                   or header_row < 1):
        raise ParamsError(f"Params key '{where}.read.header_row' must be the header's line number (1 = first "
                          f"line) or null, got {header_row!r}.")
    sheet = read.get("sheet") if isinstance(read, dict) else None
    if sheet is not None and not isinstance(sheet, (str, int, list)):
        raise ParamsError(f"Params key '{where}.read.sheet' must be a sheet name, a list of names, or all; got "
                          f"{sheet!r}.")


def normalize(raw: dict[str, Any]) -> dict[str, Any]:
    """Validate a raw params dict and return it complete, with every default filled in.

    Raises
    ------
    ParamsError
        On an unknown key (with a did-you-mean), a bad value, or a missing ``data.orders``.
    """
    if not isinstance(raw, dict):
        raise ParamsError(f"The params must be a mapping of keys to values, got {type(raw).__name__}.")
    for key in raw:
        if key not in TOP_LEVEL:
            raise _unknown("", str(key), list(TOP_LEVEL))
    out: dict[str, Any] = {}
    out["as_of"] = _as_of(raw.get("as_of"))
    language = raw.get("language", "tr") or "tr"
    if language not in ("tr", "en"):
        raise ParamsError(f"Params key 'language' must be 'tr' or 'en', got {language!r}.")
    out["language"] = language
    currency = raw.get("currency", "TRY") or "TRY"
    if not isinstance(currency, str) or not currency.strip():
        raise ParamsError(f"Params key 'currency' must be a currency code like TRY, got {currency!r}.")
    out["currency"] = currency.strip().upper()
    data = raw.get("data")
    if not isinstance(data, dict) or "orders" not in data or not data.get("orders"):
        raise ParamsError("Params key 'data.orders' is required: the order lines file with at least "
                          "customer_id, order_date and amount. See params/default.yaml for an example.")
    for name in data:
        if name not in TABLES:
            raise _unknown("data.", str(name), list(TABLES))
    out["data"] = {name: _table_spec(name, spec) for name, spec in data.items() if spec}
    for section in SECTION_MODULES:
        out[section] = merge_over_defaults(section_defaults(section), raw.get(section), where=f"{section}.")
        check = _section_check(section)
        if check is not None:
            check(out[section])
    out["report"] = merge_over_defaults(section_defaults("report"), raw.get("report"), where="report.")
    privacy.check_params(out["report"])
    out["engine"], out["spark"] = _engine(raw)
    dialect = out["report"].get("csv_dialect")
    if dialect not in (None, "excel-tr", "standard"):
        raise ParamsError(f"Params key 'report.csv_dialect' must be excel-tr (';' and decimal comma, for Turkish "
                          f"Excel), standard (',' and decimal point) or null (by language), got {dialect!r}.")
    return out


def _engine(raw: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The ``engine`` key (duckdb by default) and the merged, checked ``spark`` section."""
    engine = raw.get("engine") or "duckdb"
    if engine not in ENGINES:
        close = did_you_mean(str(engine), list(ENGINES))
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ParamsError(f"Params key 'engine' must be 'duckdb' or 'spark', got {engine!r}{hint}. For example: "
                          "engine: duckdb. Fix it in the params file.")
    spark = merge_over_defaults(SPARK_DEFAULTS, raw.get("spark"), where="spark.")
    c = Check("spark", spark, SPARK_DEFAULTS)
    if not isinstance(spark["master"], str) or not spark["master"].strip():
        raise c.fail("master", "local[N] or a cluster URL (spark://host:7077, yarn, k8s://...)")
    conf = spark["conf"]
    if conf is None:
        spark["conf"] = {}
    elif not isinstance(conf, Mapping) or not all(
            isinstance(k, str) and k.startswith("spark.") and isinstance(v, (str, int, float, bool))
            for k, v in conf.items()):
        raise c.fail("conf", "a mapping of Spark configuration keys (spark.*) to values",
                     example={"spark.executor.memory": "8g"})
    return str(engine), spark


def load(path: str | Path) -> dict[str, Any]:
    """Read a params YAML file and return :func:`normalize`'s result.

    Raises
    ------
    ParamsError
        If the file is missing or is not valid YAML, or its content is invalid.
    """
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"Params file {str(path)!r} not found. Pass the path of a YAML file such as "
                          "params/default.yaml.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ParamsError(f"Params file {str(path)!r} is not valid YAML{where}: "
                          f"{getattr(err, 'problem', err)}. Check indentation and quoting there.") from err
    except UnicodeDecodeError as err:
        raise ParamsError(f"Params file {str(path)!r} is not UTF-8 text ({err.reason} at byte {err.start}). "
                          "Save it as UTF-8.") from err
    if raw is None:
        raise ParamsError(f"Params file {str(path)!r} is empty. Start from params/default.yaml.")
    return normalize(raw)


def notebook_parameters(params: dict[str, Any]) -> dict[str, Any]:
    """Return the params as papermill parameters (the top-level keys, JSON-able)."""
    return {key: copy.deepcopy(params[key]) for key in TOP_LEVEL}
