"""What the runner's processes (the command line and each notebook's worker) do before their first import.

``jsonschema``, which nbformat, nbconvert and papermill import, loads ``rfc3987_syntax`` when it is installed
(jupyter-events requires it) to check the ``iri`` string format, and that module compiles a Lark grammar at
import: 1.5-2 s of CPU per process (python-jsonschema/jsonschema#1428). Neither nbformat, nbconvert nor
papermill checks string formats (they validate notebooks without a format checker), so these processes tell
Python the module is absent: jsonschema then registers no ``iri`` check, and nothing else changes. Notebook
kernels and JupyterLab are not affected (they never call this).
"""

from __future__ import annotations

import sys

#: modules these processes never need and whose import costs seconds
SKIPPED: tuple[str, ...] = ("rfc3987_syntax",)


def skip_slow_imports() -> None:
    """Mark :data:`SKIPPED` as absent (an ``import`` of one raises ``ImportError``) unless already imported."""
    for name in SKIPPED:
        sys.modules.setdefault(name, None)
