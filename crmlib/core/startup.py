"""What the runner's processes (the command line and each notebook's worker) do before their first import.

``jsonschema``, which nbformat, nbconvert and papermill import, loads ``rfc3987_syntax`` when it is installed
(jupyter-events requires it) to check the ``iri`` string format, and that module compiles a Lark grammar at
import: 1.5-2 s of CPU per process (python-jsonschema/jsonschema#1428). Neither nbformat, nbconvert nor
papermill checks string formats (they validate notebooks without a format checker), so these processes tell
Python the module is absent: jsonschema then registers no ``iri`` check, and nothing else changes. Notebook
kernels and JupyterLab are not affected (they never call this).

``pandera`` imports ``pyspark.pandas`` whenever pyspark is installed (the ``[spark]`` extra), to type-check
pandas-on-Spark frames: about 90 pyspark modules and 0.1-0.3 s before the data starts loading. The workbook
never uses pandas-on-Spark (``crmlib.data.spark_engine`` uses Spark SQL, which does not import it), so these
processes skip it too: pandera then registers no pandas-on-Spark types.
"""

from __future__ import annotations

import sys

#: modules these processes never need and whose import costs seconds
SKIPPED: tuple[str, ...] = ("rfc3987_syntax", "pyspark.pandas")


def skip_slow_imports() -> None:
    """Mark :data:`SKIPPED` as absent (an ``import`` of one raises ``ImportError``) unless already imported."""
    for name in SKIPPED:
        sys.modules.setdefault(name, None)
