"""Keeping the committed notebooks clean: no outputs, a tagged ``parameters`` cell, no logic.

``python -m crmlib.core.notebooks strip notebooks/*.ipynb`` removes outputs in place;
``python -m crmlib.core.notebooks check notebooks/*.ipynb`` lists problems (exit 1 if any).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

_DEF = re.compile(r"^\s*(async\s+def|def|class)\s", re.MULTILINE)


def strip(path: Path) -> bool:
    """Remove outputs, execution counts and run metadata from a notebook; return whether it changed."""
    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nb.metadata.pop("papermill", None)
    after = nbformat.writes(nb)
    if after != before:
        Path(path).write_text(after, encoding="utf-8")
    return after != before


def check(path: Path) -> list[str]:
    """Return the problems of a committed notebook (empty when clean)."""
    nb = nbformat.read(path, as_version=4)
    problems = []
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or "parameters" not in code[0].metadata.get("tags", []):
        problems.append(f"{path}: the first code cell must be tagged 'parameters'")
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count):
            problems.append(f"{path}: cell {index} has outputs (run `make strip`)")
        if cell.cell_type == "code" and _DEF.search(cell.source):
            problems.append(f"{path}: cell {index} defines a function or class; move it into crmlib/")
    return problems


def main(argv: list[str]) -> int:
    """``strip`` or ``check`` the notebooks named."""
    if len(argv) < 2 or argv[0] not in ("strip", "check"):
        print("usage: python -m crmlib.core.notebooks strip|check NOTEBOOK...", file=sys.stderr)
        return 2
    if argv[0] == "strip":
        for name in argv[1:]:
            if strip(Path(name)):
                print(f"stripped {name}")
        return 0
    problems = [p for name in argv[1:] for p in check(Path(name))]
    print("\n".join(problems) or "notebooks clean")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
