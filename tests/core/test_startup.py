"""The runner's processes skip jsonschema's IRI grammar and still validate and execute notebooks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


#: what the runner must not import before the notebooks run (the kernels do)
PLOTTING_STACK = ("seaborn", "matplotlib", "scipy.stats", "sklearn", "statsmodels", "IPython", "nbconvert")

RUNNER_START = """
import json, sys
from pathlib import Path

import pytest
import crmlib.core.run
from crmlib.core import params, registry
params.load(Path(sys.argv[1]))
crmlib.core.run.kernel_name()
for practice in registry.PRACTICES:  # every practice's params module, as the params loader reads them
    __import__(practice.params_module)
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(code: str, *args: str) -> set[str]:
    import json

    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(json.loads(done.stdout))


def _stack(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == s or m.startswith(s + ".") for s in PLOTTING_STACK))


def test_the_runner_imports_and_reads_params_without_the_plotting_stack() -> None:
    loaded = _modules_after(RUNNER_START, str(ROOT / "params" / "default.yaml"))
    assert "crmlib.core.run" in loaded and "crmlib.clv.params" in loaded
    assert _stack(loaded) == []
    assert not {"crmlib.clv.report", "crmlib.clv.plots", "crmlib.churn.backtesting", "crmlib.report.charts",
                "crmlib.report.display", "nbformat"} & loaded


def test_the_kernel_name_is_the_one_jupyter_client_finds_without_importing_it() -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    from crmlib.core import run

    try:
        KernelSpecManager().get_kernel_spec(run.KERNEL)
        expected = run.KERNEL
    except NoSuchKernel:
        expected = "python3"
    assert run.kernel_name() == expected
    if expected == run.KERNEL:  # registered: found in Jupyter's folders, jupyter_client and IPython left out
        code = "import json, sys\nfrom crmlib.core import run\nrun.kernel_name()\nprint(json.dumps(sorted(sys.modules)))"
        assert not {"jupyter_client", "IPython"} & _modules_after(code)


def test_the_providers_the_runner_calls_need_no_plotting_stack() -> None:
    code = ("import json, sys\nfrom crmlib.core import registry\n"
            "for p in registry.providers().values():\n    registry.load(p.build)\n"
            "print(json.dumps(sorted(sys.modules)))")
    assert _stack(_modules_after(code)) == []


def test_a_package_name_imports_its_module_on_first_use() -> None:
    code = ("import json, sys\nfrom crmlib import clv\nbefore = 'crmlib.clv.report' in sys.modules\n"
            "clv.analyse\nprint(json.dumps([before, 'crmlib.clv.report' in sys.modules, 'seaborn' in sys.modules]))")
    import json

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(done.stdout) == [False, True, False]  # the report module, not yet the plots


def test_every_public_name_of_every_practice_resolves() -> None:
    import importlib

    from crmlib.core import registry

    for package in [p.package for p in registry.PRACTICES] + ["crmlib.report"]:
        module = importlib.import_module(package)
        for name in module.__all__:
            value = getattr(module, name)
            assert value is not None, (package, name)
            if name in module.EXPORTS:  # a submodule
                assert value is importlib.import_module(f"{package}.{name}")
            else:
                owner = importlib.import_module(f"{package}.{next(s for s, n in module.EXPORTS.items() if name in n)}")
                assert value is getattr(owner, name)
        assert set(module.__all__) <= set(dir(module))
    from crmlib import clv, report

    assert clv.analyse is importlib.import_module("crmlib.clv.report").analyse
    assert report.heading is importlib.import_module("crmlib.report.display").heading


PANDERA_WITHOUT_PANDAS_ON_SPARK = """
import importlib.util, sys
from crmlib.core.startup import skip_slow_imports
skip_slow_imports()
import pandas as pd
import pandera.pandas as pa
schema = pa.DataFrameSchema({"x": pa.Column(int, pa.Check.ge(0))})
schema.validate(pd.DataFrame({"x": [1, 2]}))
try:
    schema.validate(pd.DataFrame({"x": [-1]}))
except pa.errors.SchemaError:
    print("refused")
if importlib.util.find_spec("pyspark") is not None:  # the Spark engine's modules still import
    import pyspark.sql  # noqa: F401
print(sorted(m for m in sys.modules if m.startswith("pyspark.pandas") and sys.modules[m] is not None))
"""


def test_pandera_validates_without_pandas_on_spark() -> None:
    done = subprocess.run([sys.executable, "-c", PANDERA_WITHOUT_PANDAS_ON_SPARK], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    assert done.stdout.split("\n")[:2] == ["refused", "[]"]


# lifetimes for the model two notebooks share; not for a lone notebook, whose kernel fits its own model
@pytest.mark.parametrize(("stems", "imported"), [(["03_lifetime_value", "02_churn_early_warning"], True),
                                                 (["03_lifetime_value"], False), (["00_overview"], False)])
def test_the_runner_imports_the_needed_products_modules_on_a_thread(stems, imported):
    code = ("import sys; from crmlib.core.run import _warm_up_providers; "
            f"_warm_up_providers({stems!r}).join(); print('lifetimes' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.strip() == str(imported)
