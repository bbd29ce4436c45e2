"""The runner's processes skip jsonschema's IRI grammar and still validate and execute notebooks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import sys
from crmlib.core.startup import skip_slow_imports
skip_slow_imports()
import jsonschema, nbformat, papermill  # noqa: F401
from nbformat.validator import ValidationError
nb = nbformat.read(sys.argv[1], as_version=4)
nbformat.validate(nb)  # a real notebook still validates
broken = nbformat.v4.new_notebook()
broken.cells.append({"cell_type": "code", "source": "1"})  # no outputs, no metadata: invalid
try:
    nbformat.validate(broken)
except ValidationError:
    print("invalid notebook refused")
print("loaded" if sys.modules.get("rfc3987_syntax") is not None else "skipped")
"""


def test_skipped_module_is_not_loaded_and_notebooks_still_validate() -> None:
    notebook = ROOT / "notebooks" / "03_lifetime_value.ipynb"
    done = subprocess.run([sys.executable, "-c", CHECK, str(notebook)], capture_output=True, text=True, check=True,
                          cwd=ROOT)
    assert done.stdout.split() == ["invalid", "notebook", "refused", "skipped"]


def test_without_the_call_nothing_is_skipped() -> None:
    done = subprocess.run([sys.executable, "-c", "import sys, crmlib.core.startup; "
                           "print('rfc3987_syntax' in sys.modules)"], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
