"""The notebooks read like a report outline (docs/ARCHITECTURE.md, "Notebooks"): the shared parameters cell,
one cell that opens the context and calls each shown practice's ``analyse(ctx)``, then per section a heading,
a chart or table and a sentence. Checked on the committed ``.ipynb`` by parsing each code cell."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from crmlib.core import registry

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
#: every notebook of the registry is in the thin form
CONVERTED: tuple[str, ...] = tuple(registry.notebooks())
MAX_LINES = 12
FORMAT_LISTS = {"labels", "ints", "money", "pct", "dates", "decimals", "months"}
TABLES = {"table", "table_html", "format_frame", "interactive_table_html"}
LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def code_cells(stem: str) -> list[tuple[int, nbformat.NotebookNode]]:
    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def parameter_names(stem: str) -> set[str]:
    _, cell = code_cells(stem)[0]
    return {t.id for node in ast.walk(ast.parse(cell.source)) if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name)}


def shadowed() -> set[str]:
    """Names a notebook must not rebind: params sections, shared results and crmlib's packages."""
    packages = {p.name for p in (Path(registry.__file__).parents[1]).iterdir() if (p / "__init__.py").exists()}
    return set(registry.params_sections()) | set(registry.providers()) | packages | {"report"}


def test_every_notebook_of_the_registry_is_checked():
    assert len(CONVERTED) == 6 and {p.stem for p in NOTEBOOKS.glob("*.ipynb")} == set(CONVERTED)


def test_the_parameters_cell_is_the_same_in_every_notebook():
    cells = {stem: code_cells(stem)[0][1] for stem in registry.notebooks()}
    assert all("parameters" in c.metadata.get("tags", []) for c in cells.values())
    assert len({c.source for c in cells.values()}) == 1, "the parameters cells differ"


@pytest.mark.parametrize("stem", CONVERTED)
def test_code_cells_are_short_and_hold_no_logic(stem):
    params = parameter_names(stem)
    forbidden_names = (shadowed() | params) - {"rp"}
    problems = []
    for index, cell in code_cells(stem)[1:]:
        where = f"{stem} cell {index}"
        lines = [line for line in cell.source.splitlines() if line.strip()]
        if len(lines) > MAX_LINES:
            problems.append(f"{where}: {len(lines)} lines (at most {MAX_LINES})")
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            if isinstance(node, DEFINITIONS):
                problems.append(f"{where}: defines {type(node).__name__} (move it into crmlib/<practice>/report.py)")
            if isinstance(node, LOOPS):
                problems.append(f"{where}: a loop ({type(node).__name__}); precompute it in analyse()")
            if isinstance(node, ast.Call) and (ast.unparse(node.func).split(".")[-1] in TABLES
                                               or any(k.arg == "labels" for k in node.keywords)):
                problems += [f"{where}: {k.arg}=...; headers and units come from <ns>.col.* and UNITS"
                             for k in node.keywords if k.arg in FORMAT_LISTS]
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id in forbidden_names:
                problems.append(f"{where}: rebinds {node.id!r} (a parameter, params section or module)")
            if isinstance(node, ast.alias) and (node.asname or node.name.split(".")[0]) in forbidden_names:
                problems.append(f"{where}: imports as {(node.asname or node.name)!r}, which shadows a name")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("stem", CONVERTED)
def test_one_cell_opens_the_context_and_analyses_each_practice_once(stem):
    cells = code_cells(stem)[1:]
    opens = [i for i, c in cells if "open_context(namespace=globals())" in c.source]
    assert len(opens) == 1, f"{stem}: open_context(namespace=globals()) in cells {opens}"
    aliases: dict[str, str] = {}
    called: list[str] = []
    for _, cell in cells:
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("crmlib."):
                for alias in node.names:
                    if alias.name == "report" and node.module != "crmlib":
                        aliases[alias.asname or alias.name] = node.module.split(".")[1]
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "analyse"
                    and isinstance(node.func.value, ast.Name)):
                assert [a.id for a in node.args if isinstance(a, ast.Name)] == ["ctx"], ast.unparse(node)
                called.append(aliases.get(node.func.value.id, node.func.value.id))
    shown = sorted(p.package.split(".")[-1] for p in registry.PRACTICES if p.notebook == stem)
    assert sorted(called) == shown, f"{stem}: analyse(ctx) called for {called}, shows {shown}"


@pytest.mark.parametrize("stem", CONVERTED)
def test_the_analyst_notes_name_modules_that_exist(stem):
    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    notes = nb.cells[0]
    assert notes.cell_type == "markdown"
    root = NOTEBOOKS.parent
    named = re.findall(r"`(crmlib/[\w/]+\.(?:py|yaml))`", notes.source)
    assert named, f"{stem}: the first cell names no module"
    assert [n for n in named if not (root / n).exists()] == []
