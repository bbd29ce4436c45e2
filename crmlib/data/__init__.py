"""Data layer: read files (sniffing encoding, separator, decimals, dates), coerce and validate them, and build the
order and per-customer tables with engine-neutral SQL (``sql/``); the synthetic sample lives in ``sample/``."""

from crmlib.data import coerce, frames, read, readers, sniff, tables, validate

__all__ = ["coerce", "frames", "read", "readers", "sniff", "tables", "validate"]
