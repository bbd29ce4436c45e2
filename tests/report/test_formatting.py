"""Money, numbers, percentages and dates in Turkish and English conventions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlib.report import formatting as fmt


@pytest.mark.parametrize("value, lang, expected", [
    (1234567.891, "tr", "1.234.568 TL"),
    (1234567.891, "en", "TRY 1,234,568"),
    (-250.0, "tr", "-250 TL"),
    (0.4, "tr", "0 TL"),
    (np.nan, "en", "–"),
])
def test_money(value, lang, expected):
    assert fmt.money(value, lang, "TRY") == expected


def test_money_other_currency_and_decimals():
    assert fmt.money(1234.5, "en", "EUR", digits=2) == "€1,234.50"
    assert fmt.money(1234.5, "tr", "EUR", digits=2) == "1.234,50 €"


def test_pct_number_date():
    assert fmt.pct(0.125, "tr") == "%12,5" and fmt.pct(0.125, "en") == "12.5%"
    assert fmt.number(1234.5, "tr", 1) == "1.234,5"
    assert fmt.date(pd.Timestamp("2026-02-03"), "tr") == "03.02.2026"
    assert fmt.date("2026-02-03", "en") == "3 Feb 2026"
    assert fmt.month("2026-08-01", "tr") == "Ağu 2026"
    assert fmt.date(None, "tr") == "–" and fmt.date(pd.NaT, "en") == "–"
