"""Minimum-data rules: what a model needs before its output is shown as a prediction.

Each practice declares its rules as :class:`Requirement` values (the params key that sets the bound, the
bound, and what the data have) and gets a :class:`Readiness`. When a rule is not met the report shows the
simpler rule-based view, labelled as such, and one sentence naming every unmet rule and what the data have
(:func:`describe`). The bounds are params keys (``clv.min_*``, ``churn.min_*``, ``cross_sell.min_*``) with
defaults chosen from ``benchmarks/bench_thresholds.py`` (evidence in ``docs/THRESHOLDS.md``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import pandas as pd

from crmlib.errors import DataError
from crmlib.report import formatting as fmt
from crmlib.report import i18n


@dataclasses.dataclass(frozen=True)
class Requirement:
    """One rule: ``have >= need``. ``key`` is the params key of the bound (``"clv.min_customers"``); its
    words are the catalogue entry ``need.<key>`` (placeholders ``{need}`` and ``{have}``)."""

    key: str
    need: float
    have: float

    @property
    def met(self) -> bool:
        """Whether the data reach the bound."""
        return self.have >= self.need


@dataclasses.dataclass(frozen=True)
class Readiness:
    """The rules of one model and whether the data meet them."""

    model: str
    requirements: tuple[Requirement, ...]

    @property
    def ready(self) -> bool:
        """True when every rule is met (the model's output may be shown as a prediction)."""
        return all(r.met for r in self.requirements)

    @property
    def unmet(self) -> tuple[Requirement, ...]:
        """The rules the data do not meet, in declaration order."""
        return tuple(r for r in self.requirements if not r.met)


def history_days(customer_summary: pd.DataFrame) -> float:
    """Days of order history the per-customer table covers: its largest ``T`` (days from a customer's first
    purchase to the as-of date) plus one day; 0 for no customer. What every ``*.min_history_days`` rule
    compares with."""
    return float(customer_summary["T"].max()) + 1 if len(customer_summary) else 0.0


def readiness(model: str, rules: Iterable[tuple[str, float, float]]) -> Readiness:
    """Build a :class:`Readiness` from ``(params key, need, have)`` triples."""
    return Readiness(model, tuple(Requirement(k, float(n), float(h)) for k, n, h in rules))


class NotEnoughData(DataError):
    """The data do not meet a model's minimum-data rules; ``readiness`` says which."""

    def __init__(self, readiness: Readiness) -> None:
        self.readiness = readiness
        unmet = "; ".join(f"{r.key} needs {r.need:g}, the data have {r.have:g}" for r in readiness.unmet)
        super().__init__(f"Not enough data for the {readiness.model} model: {unmet}. Add history or customers, "
                         f"or lower the thresholds in the params file.")


def needs_text(requirements: Iterable[Requirement], lang: str) -> str:
    """The rules in words, joined as a list ("at least 200 customers (here 3) and at least ...")."""
    parts = [i18n.t(f"need.{r.key}", lang, need=fmt.number(r.need, lang), have=fmt.number(r.have, lang))
             for r in requirements]
    if len(parts) <= 1:
        return "".join(parts)
    return i18n.t("need.join", lang, first=", ".join(parts[:-1]), last=parts[-1])


def describe(readiness: Readiness, lang: str, *, key: str, **values: object) -> str:
    """The report's sentence for an unmet readiness: catalogue ``key`` with ``{needs}`` (the unmet rules)
    and any other ``values`` it names."""
    return i18n.t(key, lang, needs=needs_text(readiness.unmet, lang), **values)
