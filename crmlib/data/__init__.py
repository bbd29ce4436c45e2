"""Data layer: read files (sniffing encoding, separator, decimals, dates), coerce and validate them, and build the
order and per-customer tables with engine-neutral SQL (``sql/``); the synthetic sample lives in ``sample/``.

Importing the package imports none of its submodules (:mod:`crmlib.lazy`): a kernel that needs
``crmlib.data.frames`` does not import the loader (pandera, the readers) with it."""

from crmlib.lazy import attach

#: the public submodules; each is imported when first used
EXPORTS: dict[str, tuple[str, ...]] = {name: () for name in
                                       ("coerce", "frames", "read", "readers", "sniff", "tables", "validate")}

__all__ = ["coerce", "frames", "read", "readers", "sniff", "tables", "validate"]

__getattr__, __dir__ = attach(__name__, EXPORTS, __all__)
