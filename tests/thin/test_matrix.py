"""Every notebook runs on every history with at least one purchase (slow: it executes the whole workbook).

The generated sample (400 customers, three years) cut to the shapes of a young or small business
(:mod:`tests.thin.cuts`): 1, 7, 30 and 90 days, 1 and 3 customers, one product, one-time buyers only, no
product column. Each run must exit 0 with no error output in any executed notebook and no "nan" or "None"
on any page, and say "not enough data" in the sections whose model is skipped.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import write_sample_params
from tests.thin.cuts import CUTS, make_cut

pytestmark = pytest.mark.slow

CLV_SKIPPED = "Lifetime-value forecasts are shown only when the data are rich enough"
XSELL_SKIPPED = "Product combinations and co-bought suggestions are shown only with enough data"
CHURN_POINTS = "a rule-based view rather than a learned probability"
NO_TRAINING = "The check learns from the orders up to"
NO_PRODUCT = "product_id"

#: cut: {notebook: sentences its page must contain}
EXPECTED: dict[str, dict[str, list[str]]] = {
    "days_1": {"03_lifetime_value": [CLV_SKIPPED, "(these data have 1)"], "04_cross_sell": [XSELL_SKIPPED],
               "02_churn_early_warning": [CHURN_POINTS]},
    "days_7": {"03_lifetime_value": [CLV_SKIPPED, "days of order history (these data have 7)"],
               "04_cross_sell": [XSELL_SKIPPED, NO_TRAINING], "02_churn_early_warning": [CHURN_POINTS]},
    "days_30": {"03_lifetime_value": [CLV_SKIPPED], "04_cross_sell": [NO_TRAINING],  # 300+ orders: rules shown
                "02_churn_early_warning": [CHURN_POINTS]},
    "days_90": {"03_lifetime_value": [CLV_SKIPPED], "04_cross_sell": [NO_TRAINING],
                "02_churn_early_warning": [CHURN_POINTS]},
    "customers_1": {"03_lifetime_value": [CLV_SKIPPED, "customers with a purchase (these data have 1)"],
                    "04_cross_sell": [XSELL_SKIPPED], "02_churn_early_warning": [CHURN_POINTS]},
    "customers_3": {"03_lifetime_value": [CLV_SKIPPED, "customers with a purchase (these data have 3)"],
                    "04_cross_sell": [XSELL_SKIPPED], "02_churn_early_warning": [CHURN_POINTS]},
    "product_1": {"04_cross_sell": ["at least 2 different products (these data have 1)"]},
    "one_time": {"03_lifetime_value": [CLV_SKIPPED, "bought on two or more days (these data have 0)"]},
    "no_product": {"04_cross_sell": [NO_PRODUCT]},
}


def page_text(path: Path) -> str:
    """The visible words of a report page."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"<(style|script)\b.*?</\1>", " ", text, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text)))


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory) -> Path:
    from crmlib.data.sample import generate

    out = tmp_path_factory.mktemp("thin-sample")
    generate(out, customers=400, seed=7)
    return out


@pytest.mark.parametrize("cut", list(CUTS))
def test_every_notebook_runs_on_a_thin_history(cut, small_sample, tmp_path):
    from crmlib.core.run import run

    data = make_cut(small_sample, tmp_path / "data", cut)
    params = write_sample_params(data, tmp_path / "params.yaml")
    if cut == "no_product":
        raw = yaml.safe_load(params.read_text(encoding="utf-8"))
        raw["data"]["orders"]["columns"].pop("product_id")
        params.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = tmp_path / "report"
    assert run(params, out=out, progress=False) == 0, json.loads((out / "run.json").read_text())["notebooks"]

    for executed in sorted(out.glob("[0-9][0-9]_*.ipynb")):
        notebook = json.loads(executed.read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            for output in cell.get("outputs", []):
                assert output["output_type"] != "error", (executed.name, output.get("evalue"))
                if output["output_type"] == "stream" and output["name"] == "stderr":
                    assert "Traceback" not in output["text"] and "Error" not in output["text"], \
                        (executed.name, output["text"][:500])
        words = page_text(executed.with_suffix(".html"))
        for bad in ("nan", "NaN", "None", "NaT", "inf"):
            found = re.search(rf"(?<![\w.]){bad}(?![\w])", words)
            assert found is None, (executed.name, bad, words[max(0, found.start() - 150):found.end() + 50])
    for stem, sentences in EXPECTED[cut].items():
        words = page_text(out / f"{stem}.html")
        for sentence in sentences:
            assert sentence in words, (stem, sentence)
