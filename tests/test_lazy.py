"""Packages that import their submodules on first use (crmlib.lazy)."""

from __future__ import annotations

import sys
import types

import pytest

from crmlib.lazy import attach


def _package(name: str, exports: dict[str, tuple[str, ...]], public: list[str]) -> types.ModuleType:
    package = types.ModuleType(name)
    package.__path__ = []
    package.__getattr__, package.__dir__ = attach(name, exports, public)
    return package


def test_a_name_comes_from_its_submodule_once_and_is_kept(monkeypatch):
    calls = []
    sub = types.ModuleType("lazypkg.sub")
    sub.value = 42
    package = _package("lazypkg", {"sub": ("value",)}, ["sub", "value"])
    monkeypatch.setitem(sys.modules, "lazypkg", package)
    monkeypatch.setitem(sys.modules, "lazypkg.sub", sub)
    monkeypatch.setattr("importlib.import_module", lambda n: calls.append(n) or sys.modules[n])
    assert package.value == 42 and package.value == 42
    assert calls == ["lazypkg.sub"]  # the second look-up found the attribute set on the package
    assert package.sub is sub
    assert set(dir(package)) >= {"sub", "value"}
    with pytest.raises(AttributeError, match="no attribute 'other'"):
        package.other  # noqa: B018


@pytest.mark.parametrize(("exports", "public", "message"), [
    ({"sub": ("a",)}, ["sub"], "not listed \\['a'\\]"),
    ({"sub": ("a",)}, ["sub", "a", "b"], "listed but not given by a submodule \\['b'\\]"),
    ({"sub": ("a",)}, ["sub", "a", "a"], "listed twice \\['a'\\]"),
    ({"one": ("a",), "two": ("a",)}, ["one", "two", "a"], "more than one submodule"),
])
def test_a_public_list_that_does_not_match_fails_at_import(exports, public, message):
    with pytest.raises(ValueError, match=message):
        attach("lazypkg", exports, public)
