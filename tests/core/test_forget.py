"""Erasure on request: ``forget`` removes customers from stored runs and history, atomically, and later runs
leave them out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import nbformat
import openpyxl
import pandas as pd
import pytest

from crmlib.core import erase_files, history, suppression
from crmlib.core import forget as forget_mod
from crmlib.core.forget import forget
from crmlib.core.run import run
from crmlib.errors import CrmError
from crmlib.report import display, exports
from tests.conftest import write_sample_params

NAME, PHONE, EMAIL = "Kaya Hırdavat Ltd. Şti.", "+90 532 765 43 21", "satis@kayahirdavat.com.tr"


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file's bytes, but the (empty) lock file that runs and forget share."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != forget_mod.LOCK_NAME}


def _ctx():
    from types import SimpleNamespace

    return SimpleNamespace(lang="en", currency="TRY", params={"report": {"max_rows": 10, "mask_pii_in_html": False}})


@pytest.fixture
def reports(tmp_path) -> Path:
    """A reports folder with one stored run (CSV, XLSX, HTML, executed notebook, run.json) and a history."""
    root = tmp_path / "reports"
    run_dir = root / "2026-06-30_run"
    frame = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "name": [NAME, "Deniz Gıda", "=1+1"],
                          "phone": [PHONE, "+90 555 000 11 22", None], "email": [EMAIL, "d@deniz.com", None],
                          "referred_by": [None, "C1", None], "risk_score": [0.9, 0.5, -0.1]})
    exports.write_csv(frame, run_dir / "exports" / "at_risk.csv")
    exports.write_action_lists({"at_risk": frame}, run_dir / "exports" / "action_lists.xlsx", lang="tr")
    table = display.table_html(_ctx(), frame)
    page = f"<html><body><p>Top customer: {display.esc(NAME)} (C1).</p>{table}</body></html>"
    (run_dir / "01_segmentation.html").write_text(page, encoding="utf-8")
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("rp.table(ctx, frame)")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": table.replace("</tr>", "</tr>\n")})]
    nb.cells = [cell]
    nbformat.write(nb, run_dir / "01_segmentation.ipynb")
    (run_dir / "run.json").write_text(json.dumps({"run_id": "2026-06-30_run", "quality": [
        {"kind": "x", "message": "values like C1 were blank"}]}), encoding="utf-8")
    for i, as_of in enumerate(["2026-05-31", "2026-06-30"]):
        history.record(root / "history.duckdb", run_id=f"r{i}", as_of=pd.Timestamp(as_of),
                       created=pd.Timestamp(as_of), fingerprint="f",
                       staged={"churn_flags": pd.DataFrame({"customer_id": ["C1", "C2"], "flag": [True, False]})})
    return root


def _traces_left(root: Path, needles=("C1", NAME, PHONE, EMAIL)) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path)
            text = " ".join(str(c.value) for s in book.worksheets for r in s.iter_rows() for c in r)
        elif path.suffix == ".duckdb":
            con = duckdb.connect(str(path), read_only=True)
            text = " ".join(str(v) for (t,) in con.execute("SELECT table_name FROM information_schema.tables")
                            .fetchall() for row in con.execute(f'SELECT * FROM "{t}"').fetchall() for v in row)
            con.close()
            text += path.read_bytes().decode("latin-1")
        elif path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace")
            text += json.dumps(text)  # escaped forms too
        else:
            continue
        import html as html_mod

        for needle in needles:
            if needle in text or html_mod.escape(needle) in text:
                found.append(f"{path.relative_to(root)}: {needle}")
    return found


def test_forget_removes_every_trace_and_keeps_the_other_customers(reports):
    assert _traces_left(reports)  # the fixture holds the customer everywhere
    result = forget(["C1"], reports=reports, date=pd.Timestamp("2026-07-01").date())
    assert _traces_left(reports) == []
    run_dir = reports / "2026-06-30_run"
    csv_text = (run_dir / "exports" / "at_risk.csv").read_bytes().decode("utf-8-sig")
    assert "Deniz Gıda" in csv_text and "'=1+1" in csv_text and "C2" in csv_text
    assert csv_text.count("\r\n") == 3  # header + two customers, the file's own line endings kept
    sheet = openpyxl.load_workbook(run_dir / "exports" / "action_lists.xlsx").worksheets[0]
    assert [c.value for c in sheet["A"]][1:] == ["C2", "C3"] and sheet["B3"].data_type == "s"
    page = (run_dir / "01_segmentation.html").read_text(encoding="utf-8")
    assert "Deniz Gıda" in page and page.count("<tr>") == 3 and "Top customer: *** (***)." in page
    nb = nbformat.read(run_dir / "01_segmentation.ipynb", as_version=4)
    assert "Deniz Gıda" in nb.cells[0].outputs[0].data["text/html"]
    con = duckdb.connect(str(reports / "history.duckdb"), read_only=True)
    assert con.execute("SELECT customer_id, count(*) FROM churn_flags GROUP BY 1").fetchall() == [("C2", 2)]
    assert con.execute("SELECT count(*) FROM runs").fetchone() == (2,)
    con.close()
    listed = json.loads((reports / "suppression.json").read_text(encoding="utf-8"))
    assert [e["date"] for e in listed["entries"]] == ["2026-07-01"] and "C1" not in json.dumps(listed)
    assert oct((reports / "suppression.json").stat().st_mode & 0o777) == "0o600"
    assert result.history_rows == 2 and result.found_in_runs == 1 and result.suppressed_new == 1
    assert "C1" not in result.text() and NAME not in result.text()
    assert not list(reports.glob(".forget-*"))


def test_an_interrupted_forget_changes_nothing(reports, monkeypatch):
    before = _tree(reports)

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(erase_files, "scrub_history", boom)
    with pytest.raises(KeyboardInterrupt):
        forget(["C1"], reports=reports)
    assert _tree(reports) == before and not list(reports.glob(".forget-*"))


def test_a_forget_killed_before_its_commit_is_discarded_and_after_it_is_finished(reports, monkeypatch):
    before = _tree(reports)
    def disk_full(staging, root):
        raise OSError("disk full")

    monkeypatch.setattr(forget_mod, "_move_into_place", disk_full)
    with pytest.raises(OSError):
        forget(["C1"], reports=reports)
    published = {k: v for k, v in _tree(reports).items() if not k.startswith(".forget-")}
    assert published == before  # committed but not yet moved: still the old files...
    staged = list(reports.glob(".forget-*"))
    assert len(staged) == 1 and (staged[0] / forget_mod.COMMIT).exists()
    monkeypatch.undo()
    forget_mod.recover(reports)  # ...and the next forget or run finishes the moves
    assert _traces_left(reports) == [] and not list(reports.glob(".forget-*"))
    # a staging folder without its commit marker (killed while preparing) is removed, nothing applied
    leftover = reports / ".forget-999999999"
    (leftover / "files").mkdir(parents=True)
    (leftover / "files" / "history.duckdb").write_bytes(b"half-written")
    after = _tree(reports)
    forget_mod.recover(reports)
    assert not leftover.exists() and _tree(reports) == {k: v for k, v in after.items() if "forget-" not in k}


def test_forget_refuses_without_ids_or_reports_folder(tmp_path):
    with pytest.raises(CrmError, match="at least one customer id"):
        forget(["  "], reports=tmp_path)
    with pytest.raises(CrmError, match=r"Reports folder .*nowhere.* not found"):
        forget(["C1"], reports=tmp_path / "nowhere")
    done = subprocess.run([sys.executable, "-m", "crmlib", "forget", "C1", "--reports", str(tmp_path / "nowhere")],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    assert done.returncode == 2 and "Traceback" not in done.stderr and "not found" in done.stderr


def test_suppression_hashes_ids_with_a_salt_and_matches_them():
    listed = suppression.Suppression(salt="abc")
    assert listed.add(["C1", " C1 ", "C2"]) == 2
    assert listed.digest("C1") != suppression.Suppression(salt="xyz").digest("C1")
    assert listed.matches(pd.Series(["C2", "C3", None, "C1"])).tolist() == [True, False, False, True]


@pytest.mark.slow
def test_forget_on_three_runs_and_a_later_run_leaves_the_customer_out(sample_dir, sample_ctx, tmp_path):
    """Three weekly runs, then forget one customer of the call lists: no id, name or phone left in any file
    under the reports folder; the next run on the same export leaves the customer out and counts it."""
    params = write_sample_params(sample_dir, tmp_path / "p.yaml", report={"mask_pii_in_html": False})
    root = tmp_path / "reports"
    last = sample_ctx.as_of
    only = ["overview", "segmentation", "churn_early_warning"]
    for weeks in (2, 1, 0):
        as_of = f"{last - pd.Timedelta(weeks=weeks):%Y-%m-%d}"
        assert run(params, out=root / f"w{weeks}", only=only, as_of=as_of, progress=False) == 0
    customers = pd.read_csv(sample_dir / "customers.csv", sep=";", encoding="cp1254", dtype=str)
    unique = customers.loc[~customers["name"].duplicated(keep=False) & customers["phone"].notna()]
    at_risk = pd.read_csv(root / "w0" / "exports" / "at_risk.csv", dtype=str)
    chosen = unique.loc[unique["customer_id"].isin(at_risk["customer_id"])].iloc[0]
    needles = (chosen["customer_id"], chosen["name"], chosen["phone"])
    assert _traces_left(root, needles)
    result = forget([chosen["customer_id"]], reports=root)
    assert result.found_in_runs == 3 and result.history_rows > 0
    assert _traces_left(root, needles) == []
    assert run(params, out=root / "after", only=only, progress=False) == 0
    assert _traces_left(root, needles) == []
    record = json.loads((root / "after" / "run.json").read_text(encoding="utf-8"))
    assert [q["count"] for q in record["quality"] if q["kind"] == "erased_customers"] == [1]
    assert record["data"]["customers"] == json.loads((root / "w0" / "run.json").read_text())["data"]["customers"] - 1
    assert "1 customers erased on request were left out" in (root / "after" / "00_overview.html").read_text()


def test_forget_never_defaults_to_the_current_directory(tmp_path):
    done = subprocess.run([sys.executable, "-m", "crmlib", "forget", "C1"], cwd=tmp_path, capture_output=True,
                          text=True)
    assert done.returncode == 2 and "--reports DIR, or --params" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "reports").exists()
