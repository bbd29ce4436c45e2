"""Money, numbers, percentages, dates, plurals and Turkish suffixes in Turkish and English conventions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlib.report import formatting as fmt
from crmlib.report import i18n


@pytest.mark.parametrize("value, lang, expected", [
    (1234567.891, "tr", "1.234.568 TL"),
    (1234567.891, "en", "TRY 1,234,568"),
    (-250.0, "tr", "-250 TL"),
    (0.4, "tr", "0 TL"),
    (-0.4, "tr", "0 TL"),
    (np.nan, "en", "–"),
])
def test_money(value, lang, expected):
    assert fmt.money(value, lang, "TRY") == expected


def test_money_other_currency_and_decimals():
    assert fmt.money(1234.5, "en", "EUR", digits=2) == "€1,234.50"
    assert fmt.money(1234.5, "tr", "EUR", digits=2) == "1.234,50 €"


def test_pct_number_date():
    assert fmt.pct(0.125, "tr") == "%12,5" and fmt.pct(0.125, "en") == "12.5%"
    assert fmt.pct(0.5, "tr", 0) == "%50" and fmt.pct(0.272, "en", 0) == "27%"
    assert fmt.number(1234.5, "tr", 1) == "1.234,5"
    assert fmt.date(pd.Timestamp("2026-02-03"), "tr") == "03.02.2026"
    assert fmt.date("2026-02-03", "en") == "3 Feb 2026"
    assert fmt.month("2026-08-01", "tr", short=True) == "Ağu 2026"
    assert fmt.month("2026-06-01", "tr") == "Haziran 2026" and fmt.month("2026-06-01", "en") == "June 2026"
    assert fmt.date(None, "tr") == "–" and fmt.date(pd.NaT, "en") == "–"


@pytest.mark.parametrize("value, expected", [
    ("1", "1 order"), ("2", "2 orders"), ("0", "0 orders"), ("1,953", "1,953 orders"), ("1.0", "1.0 orders"),
    (1, "1 order"),
])
def test_english_plurals_follow_cldr(value, expected):
    assert fmt.plural(value, "en", "# order|# orders") == expected
    assert i18n._Formatter("en").format("{n:plural:# order|# orders}", n=value) == expected


# The word a Turkish reader says last for a number, and that word's suffixes (acc, dat, loc, abl, gen),
# written out by hand (TDK spelling rules), independently of num2words.
_LAST_WORD = {1: "bir", 2: "iki", 3: "üç", 4: "dört", 5: "beş", 6: "altı", 7: "yedi", 8: "sekiz", 9: "dokuz",
              10: "on", 20: "yirmi", 30: "otuz", 40: "kırk", 50: "elli", 60: "altmış", 70: "yetmiş",
              80: "seksen", 90: "doksan"}
_KNOWN = {
    "bir": ("i", "e", "de", "den", "in"), "iki": ("yi", "ye", "de", "den", "nin"),
    "üç": ("ü", "e", "te", "ten", "ün"), "dört": ("ü", "e", "te", "ten", "ün"),
    "beş": ("i", "e", "te", "ten", "in"), "altı": ("yı", "ya", "da", "dan", "nın"),
    "yedi": ("yi", "ye", "de", "den", "nin"), "sekiz": ("i", "e", "de", "den", "in"),
    "dokuz": ("u", "a", "da", "dan", "un"), "on": ("u", "a", "da", "dan", "un"),
    "yirmi": ("yi", "ye", "de", "den", "nin"), "otuz": ("u", "a", "da", "dan", "un"),
    "kırk": ("ı", "a", "ta", "tan", "ın"), "elli": ("yi", "ye", "de", "den", "nin"),
    "altmış": ("ı", "a", "ta", "tan", "ın"), "yetmiş": ("i", "e", "te", "ten", "in"),
    "seksen": ("i", "e", "de", "den", "in"), "doksan": ("ı", "a", "da", "dan", "ın"),
    "yüz": ("ü", "e", "de", "den", "ün"), "bin": ("i", "e", "de", "den", "in"),
    "milyon": ("u", "a", "da", "dan", "un"), "sıfır": ("ı", "a", "da", "dan", "ın"),
}
_CASES = ("acc", "dat", "loc", "abl", "gen")


def _last_word(n: int) -> str:
    if n == 0:
        return "sıfır"
    if n % 10:
        return _LAST_WORD[n % 10]
    if n % 100:
        return _LAST_WORD[n % 100]
    if n % 1000:
        return "yüz"
    if n % 1_000_000:
        return "bin"
    return "milyon"


def _sample() -> list[int]:
    rng = np.random.default_rng(20)
    return sorted(set(range(0, 1001)) | set(rng.integers(1001, 1_000_000, 3000).tolist()) | {1_000_000, 1953})


def test_suffix_of_every_sampled_number_up_to_a_million_matches_the_spoken_form():
    wrong = []
    for n in _sample():
        text = fmt.number(n, "tr")
        for case, ending in zip(_CASES, _KNOWN[_last_word(n)], strict=True):
            got = fmt.suffix(text, case)
            if got != f"{text}'{ending}":
                wrong.append(f"{text} {case}: {got}")
    assert not wrong, wrong[:20]


def test_suffix_of_percentages_follows_the_last_spoken_digits():
    rng = np.random.default_rng(7)
    for share in rng.uniform(0, 1, 500).tolist() + [0.0, 0.5, 1.0, 0.272, 0.63]:
        text = fmt.pct(share, "tr")  # "%27,2": "yüzde yirmi yedi virgül iki"
        decimals = int(text.split(",")[1])
        ending = _KNOWN[_last_word(decimals)]
        assert fmt.suffix(text, "acc") == f"{text}'{ending[0]}"
        assert fmt.suffix(text, "loc") == f"{text}'{ending[2]}"
    assert fmt.suffix("%27,2", "poss") == "%27,2'si"
    assert fmt.suffix("%63,0", "poss+acc") == "%63,0'ını"
    assert fmt.suffix("%5", "poss+loc") == "%5'inde"
    assert fmt.suffix("%10", "lik") == "%10'luk"


def test_suffix_of_money_and_dates():
    for amount in (0, 1, 8644, 12_500_000):
        text = fmt.money(amount, "tr")
        assert fmt.suffix(text, "gen") == f"{text}'nin"  # "TL" is read "te le"
        assert fmt.suffix(text, "abl") == f"{text}'den"
    assert fmt.suffix(fmt.month("2026-06-01", "tr"), "loc") == "Haziran 2026'da"
    assert fmt.suffix(fmt.date("2025-03-01", "tr"), "loc") == "01.03.2025'te"
    assert fmt.suffix("1.953", "poss") == "1.953'ü"
    assert fmt.suffix("–", "loc") == "–" and fmt.suffix("8.644 TL", "gen", "en") == "8.644 TL"
    with pytest.raises(ValueError, match="unknown Turkish suffix 'xyz'"):
        fmt._morpheme("bir", "xyz", False)


def test_turkish_sentences_render_with_suffixes():
    tr = i18n._Formatter("tr")
    assert tr.format("{amount:gen} altında", amount=fmt.money(8644, "tr")) == "8.644 TL'nin altında"
    assert tr.format("müşterilerin {share:poss}", share=fmt.pct(0.272, "tr")) == "müşterilerin %27,2'si"
    assert tr.format("aktif müşterilerin {n:poss}", n=fmt.number(1953, "tr")) == "aktif müşterilerin 1.953'ü"
    assert tr.format("{m:loc} başladı", m=fmt.month("2026-06-01", "tr")) == "Haziran 2026'da başladı"
    assert tr.format("cironun {s:poss+acc} getiriyor", s="%79,4") == "cironun %79,4'ünü getiriyor"


def test_every_catalogue_spec_is_a_known_suffix_or_plural():
    import string

    bad = []
    for key, texts in i18n.catalogue().items():
        for lang, text in texts.items():
            for _, name, spec, _ in string.Formatter().parse(text):
                if name is None or not spec:
                    continue
                ok = spec.startswith("plural:") or (lang == "tr" and fmt.is_suffix_spec(spec))
                if not ok:
                    bad.append(f"{key} ({lang}): {{{name}:{spec}}}")
    assert not bad, bad


def test_compact_money_for_chart_ticks():
    def cm(*args):
        return fmt.compact_money(*args).replace("\xa0", " ")  # CLDR puts a no-break space before "Mn"

    assert cm(5_000_000, "tr") == "5 Mn TL" and cm(5_000_000, "en") == "TRY 5M"
    assert cm(2_760_000_000, "tr") == "2,8 Mr TL" and cm(-1_250_000, "en") == "-TRY 1.2M"
    assert cm(12_345, "tr") == "12.345 TL" and cm(3e6, "en", "EUR") == "€3M"
