"""The practice registry is the one list of practices: every notebook, params section, message catalogue,
shared result and export of the package has its entry, and every entry points at something real."""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path

import pytest

from crmlib.core import params, registry
from crmlib.core.context import Context
from tests.conftest import ROOT

PACKAGE = ROOT / "crmlib"
SHARED = {"core", "data", "report"}
EXTENSION = {"csv": ".csv", "action_list": ".csv", "json": ".json"}


def _exports_in(source: str) -> set[str]:
    found = set()
    for match in re.finditer(r"""export_(csv|json|action_list)\(\s*["']([A-Za-z0-9_]+)["']""", source):
        found.add(match.group(2) + EXTENSION[match.group(1)])
    return found


def _notebook_exports(path: Path) -> set[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return _exports_in("\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"))


def _written_exports() -> dict[str, str]:
    """``{export file: notebook}``: what each practice's modules (its ``analyse``) and each notebook write."""
    written = {name: path.stem for path in (ROOT / "notebooks").glob("*.ipynb") for name in _notebook_exports(path)}
    for practice in registry.PRACTICES:
        folder = PACKAGE / practice.package.split(".")[-1]
        for path in sorted(folder.glob("*.py")):
            written.update(dict.fromkeys(_exports_in(path.read_text(encoding="utf-8")), practice.notebook))
    return written


def test_every_practice_subpackage_has_an_entry_and_every_entry_a_subpackage():
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()} - SHARED
    assert folders == {p.name for p in registry.PRACTICES}
    for practice in registry.PRACTICES:
        assert importlib.import_module(practice.package).__all__


def test_every_notebook_has_an_entry_and_every_entry_a_notebook():
    present = {p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert present == set(registry.notebooks())


def test_every_params_section_has_an_entry_and_its_params_module():
    practice_sections = set(params.TOP_LEVEL) - {"as_of", "language", "currency", "data", "report", "engine", "spark"}
    assert practice_sections == set(registry.params_sections())
    for practice in registry.PRACTICES:
        module = importlib.import_module(practice.params_module)
        assert isinstance(module.DEFAULTS, dict) and module.DEFAULTS
        if practice.params_section:
            module.check(params.normalize({"data": {"orders": "o.csv"}})[practice.params_section])


def test_every_catalogue_belongs_to_an_entry():
    from crmlib.report import i18n

    declared = {(p.name, name) for p in registry.PRACTICES for name in p.catalogues}
    # shared layers keep their own catalogues (report/locales, core/*_messages.yaml); practices declare theirs
    found = {(Path(str(f)).parent.name, Path(str(f)).name) for f in i18n.catalogue_files()
             if Path(str(f)).parent.name not in {"locales", *SHARED}}
    assert found == declared


def test_every_export_a_practice_writes_is_registered_with_both_descriptions():
    registered = {e.file: e for e in registry.exports()}
    assert len(registered) == len(registry.exports()), "an export is registered twice"
    written = _written_exports()
    assert written, "no export found in the practices or notebooks: the scan is broken"
    unregistered = sorted(set(written) - set(registered))
    assert not unregistered, f"exports without a registry entry: {unregistered}"
    for practice in registry.PRACTICES:
        for export in practice.exports:
            assert written.get(export.file) in (practice.notebook, None), export.file
    for export in registered.values():
        for lang in registry.LANGUAGES:
            assert export.description(lang).strip()
        assert export.tr != export.en


def test_needs_and_providers_resolve():
    provided = registry.providers()
    assert set(provided) == {"segments", "rfm_segments", "clv_model"}
    for practice in registry.PRACTICES:
        assert set(practice.needs) <= set(provided), practice.name
    for name, provider in provided.items():
        assert callable(registry.load(provider.build))
        if provider.restore:
            assert callable(registry.load(provider.restore))
        assert callable(getattr(Context, name)), f"Context has no method {name}()"
    assert registry.notebooks_needing("clv_model") == {"02_churn_early_warning", "03_lifetime_value"}
    assert registry.notebooks_needing("segments") == {"01_segmentation", "05_loyalty_and_service"}
    # the lifetime-value page groups by the RFM segments only: the rest of the segment table is not computed
    # for it (nor its tables read) in a run of that notebook alone
    assert registry.notebooks_needing("rfm_segments") == {"03_lifetime_value"}
    assert registry.tables_read(["03_lifetime_value"]) == {"customers", "marketing"}


def test_every_product_a_practice_reads_is_declared():
    """A practice calling ``ctx.segments()`` or ``ctx.clv_model()`` names it in ``needs``: the runner then
    computes it once, before or beside the notebooks, instead of each kernel on its own."""

    package = Path(registry.__file__).resolve().parents[1]
    for practice in registry.PRACTICES:
        source = "\n".join(path.read_text(encoding="utf-8") for path in (package / practice.name).glob("*.py"))
        used = set(re.findall(r"ctx\.(" + "|".join(registry.providers()) + r")\(", source))
        assert used <= set(practice.needs), (practice.name, used - set(practice.needs))


def test_unknown_names_are_refused():
    with pytest.raises(KeyError, match="no practice provides 'forecast'"):
        registry.provider("forecast")
    with pytest.raises(KeyError, match="no practice 'pricing'"):
        registry.practice("pricing")
    assert registry.practice("churn").params_module == "crmlib.churn.params"
    assert registry.load("crmlib.clv.model:ClvModel.from_dict").__name__ == "from_dict"


def test_column_units_come_from_the_practice_that_owns_the_namespace(monkeypatch):
    import types

    fake = types.ModuleType("crmlib.churn.report")
    fake.UNITS = {"value_at_stake": "money"}
    monkeypatch.setitem(sys.modules, "crmlib.churn.report", fake)
    assert registry.column_units("churn") == {"value_at_stake": "money"}
    assert registry.column_units("nobody") == {}
    namespaces = [ns for p in registry.PRACTICES for ns in p.namespaces]
    assert len(namespaces) == len(set(namespaces)) and all(p.namespaces for p in registry.PRACTICES)


#: the relations a saved context gives the views besides the order lines (its other files)
SAVED_RELATIONS = {"orders", "customer_summary", "products", "customers"}


def _view_reads_lines(name: str) -> bool:
    """Whether view ``name`` reaches the order lines through the views it reads, stopping at a saved relation."""
    from crmlib.data import views

    return any(dep == "order_lines" or (dep not in SAVED_RELATIONS and dep in views.names() and _view_reads_lines(dep))
               for dep in views.get(name).reads)


def _reads_order_lines(source: str, receiver: str = "ctx") -> list[str]:
    """The uses of the order lines in ``source`` through the context called ``receiver``: the frame, a read or
    test of the ``orders`` table (the lines), their blank counts, a view over them, or the view function
    handed on (it may compute any view)."""
    r = re.escape(receiver)
    found = re.findall(rf"\b{r}\.(?:order_lines\b|blank_counts\(|(?:read|has|stored)\(\s*[\"']orders[\"'])", source)
    found += [f"view {name}" for name in re.findall(rf"\b{r}\.view\(\s*[\"'](\w+)[\"']", source)
              if _view_reads_lines(name)]
    found += re.findall(rf"\b{r}\.view\b(?!\()", source)
    return found


def _notebook_code(stem: str) -> str:
    nb = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


def test_every_practice_says_whether_it_reads_the_order_lines():
    """``order_lines`` of each practice matches its sources (a run of some notebooks saves the lines only for
    those that read them), that of each notebook's practices its cells, that of each provider its ``build``."""
    import inspect

    package = Path(registry.__file__).resolve().parents[1]
    assert _reads_order_lines('x = ctx.view("product_rhythm"); ctx.summary_at') == ["view product_rhythm"]
    assert not _reads_order_lines('ctx.view("customer_months"); ctx.read("customers", ["name"])')
    for practice in registry.PRACTICES:
        source = "\n".join(path.read_text(encoding="utf-8") for path in (package / practice.name).glob("*.py"))
        used = _reads_order_lines(source)
        assert bool(used) == practice.order_lines, (practice.name, practice.order_lines, used)
    for stem in registry.notebooks():
        if _reads_order_lines(_notebook_code(stem)):
            assert registry.reads_order_lines([stem]), stem
    for name, provider in registry.providers().items():
        build = registry.load(provider.build)
        receiver = next(iter(inspect.signature(build).parameters))  # the context (ctx, data)
        used = _reads_order_lines(inspect.getsource(build), receiver)
        assert bool(used) == provider.order_lines, (name, provider.order_lines, used)


def test_the_registry_says_which_notebooks_read_the_order_lines():
    assert registry.reads_order_lines(registry.notebooks())
    assert not registry.reads_order_lines(["03_lifetime_value"])  # nor the providers of its clv_model, segments
    assert not registry.reads_order_lines(["01_segmentation", "03_lifetime_value"])
    assert registry.reads_order_lines(["03_lifetime_value", "04_cross_sell"])
