"""Packages that import their submodules when a name of theirs is first used (PEP 562 ``__getattr__``).

A practice package (``crmlib.clv``) names its public API in ``__all__`` as before, but importing the package
imports none of its submodules: ``crmlib.clv.analyse`` imports ``crmlib.clv.report`` (and with it the report
layer) at that moment, ``from crmlib.clv import plots`` imports matplotlib and seaborn then. So the runner,
which reads each practice's ``params`` module and calls a provider or two (``crmlib.segmentation.rfm``,
``crmlib.clv.model``), never imports the plotting stack; the notebook kernels import it ahead while the data
loads (:mod:`crmlib.core.warm`).

Use in a package's ``__init__.py``::

    __all__ = ["report", "analyse"]
    __getattr__, __dir__ = attach(__name__, {"report": ("analyse",)}, __all__)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def attach(package: str, exports: Mapping[str, Iterable[str]],
           public: Iterable[str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` whose submodules are imported on first use.

    Parameters
    ----------
    package
        The package's ``__name__``.
    exports
        ``{submodule: names it gives the package}``; every submodule listed is public itself.
    public
        The package's ``__all__``.

    Raises
    ------
    ValueError
        When ``public`` is not exactly the submodules and their names, or a name is given twice (a package
        that names a function it does not reach, or loses one, fails at its import, not at first use).
    """
    owner: dict[str, str] = {}
    for submodule, names in exports.items():
        for name in names:
            if name in owner or name in exports:
                raise ValueError(f"{package}: {name!r} is given by more than one submodule")
            owner[name] = submodule
    listed = list(public)
    expected = set(exports) | set(owner)
    if set(listed) != expected or len(listed) != len(set(listed)):
        missing, extra = sorted(expected - set(listed)), sorted(set(listed) - expected)
        raise ValueError(f"{package}.__all__ does not match its submodules' names: not listed {missing}, "
                         f"listed but not given by a submodule {extra}, "
                         f"listed twice {sorted({n for n in listed if listed.count(n) > 1})}")

    def __getattr__(name: str) -> Any:
        if name in exports:  # importing a submodule sets it on the package
            return importlib.import_module(f"{package}.{name}")
        submodule = owner.get(name)
        if submodule is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{submodule}"), name)
        setattr(sys.modules[package], name, value)  # later look-ups find it without this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | expected)

    return __getattr__, __dir__
