"""The message catalogue: complete in both languages, same placeholders, no duplicates."""

from __future__ import annotations

import pytest

from crmlib.report import i18n


def test_every_key_has_turkish_and_english_with_the_same_placeholders():
    problems = []
    for key, texts in i18n.catalogue().items():
        missing = [lang for lang in i18n.LANGUAGES if not texts.get(lang)]
        if missing:
            problems.append(f"{key}: no {', '.join(missing)}")
            continue
        if i18n.placeholders(texts["tr"]) != i18n.placeholders(texts["en"]):
            problems.append(f"{key}: placeholders differ {texts['tr']!r} / {texts['en']!r}")
    assert not problems, "\n".join(problems)


def test_lookup_and_format():
    assert i18n.t("common.customers", "tr") == "Müşteriler"
    assert "data.customers" in i18n.t("common.missing_table", "en", table="Customers", key="customers",
                                      columns="customer_id")


def test_missing_key_and_language_fail_loudly():
    with pytest.raises(KeyError, match="no 'en' text|has no"):
        i18n.t("no.such.key", "en")
    with pytest.raises(KeyError, match="language 'de'"):
        i18n.t("common.customers", "de")


def test_notebook_titles_exist_for_every_notebook():
    from crmlib.core.run import NOTEBOOKS

    for stem in NOTEBOOKS:
        assert i18n.has(f"nb.{stem}")


def test_catalogue_reads_the_same_with_the_pure_python_loader():
    import yaml

    for entry in i18n.catalogue_files():
        text = entry.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=i18n._LOADER) == yaml.safe_load(text), entry.name


def test_turkish_numbers_take_a_suffix_not_kadari_or_tanesi():
    """"müşterilerin %27,2 kadarı", "1.953 tanesi" read as translations; Turkish says "%27,2'si", "1.953'ü"
    (the ``{share:poss}`` spec, :func:`crmlib.report.formatting.suffix`)."""
    import re

    clumsy = re.compile(r"\}\s+(kadar[ıi]|kadarın|tanes)")
    bad = [f"{key}: {texts['tr']}" for key, texts in i18n.catalogue().items() if clumsy.search(texts.get("tr", ""))]
    assert not bad, "\n".join(bad)
