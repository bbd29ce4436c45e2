"""A notebook run on its own: JupyterLab / nbconvert with the parameters cell's defaults, papermill with a
params file anywhere (``-f`` or ``-p params_file``); paths in a params file are relative to that file."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from crmlib.core import params as params_mod
from crmlib.core import run as run_mod
from crmlib.core import standalone
from crmlib.core.context import open_context
from crmlib.errors import ParamsError
from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project's layout (notebooks/, params/) with a 400-customer sample in data/sample/."""
    from crmlib.data.sample import generate

    root = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "params", root / "params")
    generate(root / "data" / "sample", customers=400, seed=11)
    return root


def _html(nb_path: Path) -> str:
    nb = nbformat.read(nb_path, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, [f"{e['ename']}: {e['evalue']}" for e in errors]
    return "\n".join(o["data"]["text/html"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
                     if "text/html" in o.get("data", {}))


# -- the parameters cell ----------------------------------------------------------------------------------
def test_every_notebook_has_the_same_short_parameters_cell_and_the_project_kernel():
    cells = []
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert "parameters" in code[0].metadata.get("tags", []), path.name
        names = [t.id for node in ast.parse(code[0].source).body for t in node.targets]
        assert names == list(standalone.NOTEBOOK_PARAMETERS), path.name
        assert 'params_file = "../params/default.yaml"' in code[0].source
        assert "open_context(namespace=globals())" in code[1].source, path.name
        assert nb.metadata["kernelspec"]["name"] == run_mod.KERNEL, path.name
        cells.append(code[0].source)
    assert len(set(cells)) == 1
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert makefile.count(f"--name {run_mod.KERNEL} ") == 2  # .venv (sys-prefix) and `make kernel` (user)


def test_notebook_bodies_do_not_reuse_params_key_names():
    """papermill -f injects the params file's top-level keys as variables: a body variable of that name would
    be taken for a params section."""
    keys = set(params_mod.TOP_LEVEL) | set(standalone.NOTEBOOK_PARAMETERS)
    for path in NOTEBOOKS:
        code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        for index, cell in enumerate(code[1:], start=1):
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    assert node.id not in keys, (path.name, index, node.id)
                if isinstance(node, ast.alias):
                    assert (node.asname or node.name.split(".")[0]) not in keys, (path.name, index, node.name)


# -- open_context(namespace=globals()) ----------------------------------------------------------------------
def _cell_defaults() -> dict:
    namespace: dict = {}
    code = [c for c in nbformat.read(NOTEBOOKS[0], as_version=4).cells if c.cell_type == "code"]
    exec(compile(code[0].source, "parameters", "exec"), namespace)  # noqa: S102
    return namespace


def test_defaults_open_the_params_file_beside_the_notebooks_folder(project, monkeypatch):
    monkeypatch.chdir(project / "notebooks")
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    ctx = open_context(namespace=_cell_defaults())
    assert ctx.lang == "en" and len(ctx.customer_summary) > 300
    assert ctx.meta["files"]["orders"] == str((project / "data" / "sample" / "orders.csv").resolve())


def test_parameters_cell_overrides_apply_over_the_params_file(project, monkeypatch):
    monkeypatch.chdir(project / "notebooks")
    namespace = _cell_defaults() | {"as_of": "2026-03-31", "language": "tr",
                                    "overrides": {"churn": {"horizon_days": 45}, "currency": "EUR"}}
    ctx = open_context(namespace=namespace)
    assert (ctx.lang, f"{ctx.as_of:%Y-%m-%d}", ctx.currency) == ("tr", "2026-03-31", "EUR")
    assert ctx.params["churn"]["horizon_days"] == 45
    assert ctx.order_lines["order_date"].max() <= ctx.as_of
    with pytest.raises(ParamsError, match="Did you mean 'horizon_days'"):
        open_context(namespace=_cell_defaults() | {"overrides": {"churn": {"horizon_dys": 45}}})


def test_a_missing_params_file_names_the_path_and_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    with pytest.raises(ParamsError) as err:
        open_context(namespace=_cell_defaults())
    message = str(err.value)
    assert str((tmp_path / ".." / "params" / "default.yaml").resolve()) in message
    assert "params_file" in message and "-p params_file" in message


def test_the_notebook_folder_comes_from_jupyterlab_session_name(project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JPY_SESSION_NAME", str(project / "notebooks" / "00_overview.ipynb"))
    assert standalone.notebook_folder({}) == (project / "notebooks").resolve()
    assert standalone.resolve_params_file("../params/default.yaml") == (project / "params" / "default.yaml")


def test_injected_params_are_the_params_and_modules_are_not(project):
    raw = yaml.safe_load((project / "params" / "default.yaml").read_text(encoding="utf-8"))
    import crmlib.churn

    namespace = _cell_defaults() | raw | {"churn": crmlib.churn}
    injected = standalone.injected_params(namespace, tuple(params_mod.TOP_LEVEL))
    assert injected is not None and "churn" not in injected and injected["data"] == raw["data"]
    assert standalone.injected_params(_cell_defaults(), tuple(params_mod.TOP_LEVEL)) is None


def test_command_line_values():
    cmd = ["papermill", "a.ipynb", "b.ipynb", "-f", "x.yaml", "--parameters_file=y.yaml", "-p", "k", "v"]
    assert standalone._cli_values(cmd, "-f", "--parameters_file") == ["x.yaml", "y.yaml"]


# -- executed for real -----------------------------------------------------------------------------------
def _nbconvert(notebook: Path, out: Path, *, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                           notebook.name, "--output", str(out)], cwd=cwd, capture_output=True, text=True,
                          timeout=900)


def test_nbconvert_executes_a_notebook_with_its_defaults(project, tmp_path):
    out = tmp_path / "00_overview.out.ipynb"
    result = _nbconvert(project / "notebooks" / "00_overview.ipynb", out, cwd=project / "notebooks")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "crm-header" in _html(out)


@pytest.mark.slow
@pytest.mark.parametrize("notebook", [p.name for p in NOTEBOOKS])
def test_nbconvert_executes_every_notebook_with_its_defaults(project, tmp_path, notebook):
    out = tmp_path / notebook
    result = _nbconvert(project / "notebooks" / notebook, out, cwd=project / "notebooks")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "crm-header" in _html(out)


def _elsewhere(project: Path, tmp_path: Path) -> Path:
    """A params file in another folder, its data beside it under a relative path, analysed as of a date."""
    folder = tmp_path / "elsewhere"
    shutil.copytree(project / "data" / "sample", folder / "exports")
    text = (project / "params" / "default.yaml").read_text(encoding="utf-8")
    text = text.replace("../data/sample/", "exports/").replace("as_of: null", "as_of: 2026-03-31")
    text = text.replace("language: en", "language: tr")
    (folder / "my.yaml").write_text(text, encoding="utf-8")
    return folder / "my.yaml"


def _papermill(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "papermill", *args, "--no-progress-bar"], cwd="/",
                          capture_output=True, text=True, timeout=900)


def test_papermill_with_a_params_file_in_another_folder_from_anywhere(project, tmp_path):
    params = _elsewhere(project, tmp_path)
    out = tmp_path / "out.ipynb"
    result = _papermill(str(project / "notebooks" / "01_segmentation.ipynb"), str(out), "-f", str(params))
    assert result.returncode == 0, result.stderr[-3000:]
    html = _html(out)
    assert '<html lang="tr">' in html or "Segment" in html
    assert re.search(r"31\.03\.2026|31 Mart 2026", html), "the params file's as_of (in Turkish)"


@pytest.mark.slow
def test_papermill_with_params_file_parameter(project, tmp_path):
    params = _elsewhere(project, tmp_path)
    out = tmp_path / "out.ipynb"
    result = _papermill(str(project / "notebooks" / "00_overview.ipynb"), str(out), "-p", "params_file",
                        str(params), "-p", "language", "en")
    assert result.returncode == 0, result.stderr[-3000:]
    html = _html(out)
    assert re.search(r"31 Mar 2026|Mar 31, 2026|2026-03-31", html), "the params file's as_of, in English"
    injected = [c for c in nbformat.read(out, as_version=4).cells if "injected-parameters" in
                c.metadata.get("tags", [])]
    assert json.dumps(str(params)) in injected[0].source
