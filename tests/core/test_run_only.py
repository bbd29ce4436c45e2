"""``run --only``: a run of some notebooks reads only the tables they use (the registry says which), and each
notebook run alone shows the same text and writes the same exports as in a full run (so a table missing from
the registry fails here)."""

from __future__ import annotations

import difflib
import json
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from crmlib.core import registry
from crmlib.core.run import NOTEBOOKS

#: run facts that legitimately differ between two runs: the run id (its creation time) and durations
VOLATILE = re.compile(r"\d{8}-\d{6}|seconds|saniye")


class _Text(HTMLParser):
    """The visible text of a page (no scripts, no styles), one whitespace-normalised string per text node."""

    def __init__(self) -> None:
        super().__init__()
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip and data.strip():
            self.out.append(" ".join(data.split()))


def page_text(path: Path) -> list[str]:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.out


def assert_same_export(expected: Path, got: Path) -> None:
    """The same file, or (a CSV) the same table with floats equal to 1e-9 relative: sums the SQL engine adds
    on several threads may differ in their last bit from one run to the next."""
    if got.read_bytes() == expected.read_bytes():
        return
    if expected.suffix == ".json":  # the fits' timings aside
        assert (_untimed(json.loads(got.read_text(encoding="utf-8")))
                == _untimed(json.loads(expected.read_text(encoding="utf-8")))), got.name
        return
    assert expected.suffix == ".csv", got
    pd.testing.assert_frame_equal(pd.read_csv(got, encoding="utf-8-sig", dtype={"customer_id": str}),
                                  pd.read_csv(expected, encoding="utf-8-sig", dtype={"customer_id": str}),
                                  check_exact=False, rtol=1e-9, obj=got.name)


def _untimed(value):
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k not in ("seconds", "cpu_seconds")}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _run_alone(params: Path, root: Path, stem: str, folder: Path) -> Path:
    """``crm run PARAMS --only NAME`` of notebook ``stem`` into a copy of the reports folder ``root`` made in
    ``folder`` (so after a full run, as a weekly schedule would); the run's folder."""
    reports = folder / "reports"
    shutil.copytree(root, reports)
    out = reports / stem
    done = subprocess.run([sys.executable, "-m", "crmlib", "run", str(params), "--out", str(out), "--only",
                           stem.split("_", 1)[1], "--no-progress"], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (stem, done.stderr[-3000:])
    return out


@pytest.fixture(scope="module")
def runs(published, tmp_path_factory):
    """The session's full English run of the 400-customer sample (``published``, read only), then each notebook
    that reads fewer tables run alone on the same params file, two at a time (each into its own copy of the
    reports folder, so that they do not wait for each other's lock)."""
    root, results = published
    code, full = results["en"]
    assert code == 0
    params = Path(json.loads((full / "run.json").read_text(encoding="utf-8"))["params_file"])
    stems = [stem for stem in NOTEBOOKS if registry.tables_read([stem]) is not None]  # else the full run's load
    folders = [tmp_path_factory.mktemp(f"only_{stem}") for stem in stems]
    with ThreadPoolExecutor(max_workers=2) as pool:
        alone = dict(zip(stems, pool.map(_run_alone, [params] * len(stems), [root] * len(stems), stems, folders),
                         strict=True))
    return full, alone


def test_every_notebook_alone_shows_and_exports_what_it_does_in_a_full_run(runs):
    full, alone = runs
    assert alone, "no notebook reads fewer tables than a full run"
    exports = {e.file: p.notebook for p in registry.PRACTICES for e in p.exports}
    for stem, out in alone.items():
        a, b = page_text(full / f"{stem}.html"), page_text(out / f"{stem}.html")
        diff = [line for line in difflib.unified_diff(a, b, lineterm="", n=0)
                if not line.startswith(("---", "+++", "@@")) and not VOLATILE.search(line)]
        assert not diff, f"{stem} run alone shows other text than in the full run: {diff[:6]}"
        own = [f for f, nb in exports.items() if nb == stem and (full / "exports" / f).exists()]
        assert own, stem
        for name in own:
            assert_same_export(full / "exports" / name, out / "exports" / name)


def test_a_run_of_some_notebooks_names_the_tables_it_did_not_read(runs):
    full, alone = runs
    record = json.loads((full / "run.json").read_text(encoding="utf-8"))
    assert record["tables_not_read"] is None  # a full run reads every table
    out = alone["03_lifetime_value"]
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    skipped = record["tables_not_read"]
    # the page groups by the RFM segments alone: the tickets the rest of the segment table reads are not read
    assert set(skipped["tables"]) == {"products", "payments", "tickets", "surveys", "contacts"}
    assert set(record["data"]["rows"]) == {"orders", "customers", "marketing"}
    assert skipped["message"] in (out / "index.html").read_text(encoding="utf-8")
    assert "payments" in skipped["message"] and "validate" in skipped["message"]
    # of the customers master, only the names and channels (the page reads them; not the segment table's
    # referrers)
    assert set(skipped["columns"]) == {"customers"}
    left = set(skipped["columns"]["customers"])
    assert left and not left & {"customer_id", "name", "channel"} and "referred_by" in left
    assert {"email", "phone", "signup_date", "birth_date", "marketing_consent"} <= left
    assert "email" in skipped["message"] and "customers:" in skipped["message"]
    full_rows = json.loads((full / "run.json").read_text(encoding="utf-8"))["data"]["rows"]
    assert record["data"]["rows"]["customers"] == full_rows["customers"]  # the same customers kept
    full_record = json.loads((full / "run.json").read_text(encoding="utf-8"))
    assert record["data"]["fingerprint"] == full_record["data"]["fingerprint"]  # the same data, read or not


def test_the_registry_names_the_tables_of_a_choice_of_notebooks():
    assert registry.tables_read(NOTEBOOKS) is None  # the overview reads every table
    assert registry.tables_read(["03_lifetime_value"]) == {"customers", "marketing"}  # + the RFM segments: none
    assert registry.tables_read(["04_cross_sell"]) == {"products", "customers"}
    tables = {"customers", "products", "payments", "tickets", "surveys", "contacts", "marketing"}
    for p in registry.PRACTICES:
        assert p.tables is None or set(p.tables) <= tables, p.name


def test_the_registry_names_the_columns_of_a_choice_of_notebooks():
    from crmlib.data.read import TABLE_COLUMNS
    from crmlib.data.validate import KEYS

    assert registry.columns_read(NOTEBOOKS) == {}  # the overview reads every table whole
    assert registry.columns_read(["03_lifetime_value"]) == {"customers": {"customer_id", "name", "channel"}}
    assert registry.columns_read(["03_lifetime_value", "01_segmentation"]) == {}  # segmentation: every column
    assert registry.columns_read(["01_segmentation"]) == {}
    declared = [(p.name, p.tables, p.columns) for p in registry.PRACTICES]
    declared += [(name, prov.tables, prov.columns) for name, prov in registry.providers().items()]
    for name, tables, columns in declared:
        for table, names in columns.items():
            assert tables is not None and table in tables, (name, table)  # a table it reads
            assert table in KEYS, (name, table)  # the loader reads only a table with a key in part
            assert names is None or set(names) <= set(TABLE_COLUMNS[table]), (name, table)  # our names


def test_a_table_left_unread_may_be_missing_and_the_fingerprint_is_the_full_runs(sample_params, tmp_path):
    import yaml

    from tests.conftest import context_from

    full = context_from(sample_params)
    raw = yaml.safe_load(sample_params.read_text(encoding="utf-8"))
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw), encoding="utf-8")
    from crmlib.core import params as params_mod
    from crmlib.core.context import build_context

    some = build_context(params_mod.load(params), params_dir=params.parent, only_tables={"customers"})
    assert some.meta["fingerprint"] == full.meta["fingerprint"]
    assert set(some.meta["not_read"]) == {"products", "payments", "tickets", "surveys", "contacts", "marketing"}
    assert some.tables["payments"] is None and some.tables["customers"] is not None
    pd.testing.assert_frame_equal(some.customer_summary, full.customer_summary)
    raw["data"]["payments"] = str(tmp_path / "gone.csv")  # configured, missing, and not read: no error
    params.write_text(yaml.safe_dump(raw), encoding="utf-8")
    missing = build_context(params_mod.load(params), params_dir=params.parent, only_tables={"customers"})
    assert missing.meta["fingerprint"] != full.meta["fingerprint"] and "payments" in missing.meta["not_read"]


def test_the_customers_read_in_part_hold_the_full_reads_rows_and_values(sample_params):
    from crmlib.core import params as params_mod
    from crmlib.core.context import build_context
    from tests.conftest import context_from

    full = context_from(sample_params)
    some = build_context(params_mod.load(sample_params), params_dir=sample_params.parent,
                         only_tables={"customers"}, only_columns={"customers": {"name", "referred_by"}})
    part, whole = some.tables["customers"], full.tables["customers"]
    assert list(part.columns) == ["customer_id", "name", "referred_by"]
    pd.testing.assert_frame_equal(part, whole[list(part.columns)])
    assert some.meta["columns_not_read"] == {"customers": [c for c in whole.columns if c not in part.columns]}
    assert full.meta["columns_not_read"] == {}  # a full read: every column
    pd.testing.assert_frame_equal(some.customer_summary, full.customer_summary)
