"""The workbook's exceptions: one base class, a shallow tree."""

from __future__ import annotations


class CrmError(Exception):
    """Base class of every error the workbook raises on purpose."""


class ParamsError(CrmError, ValueError):
    """The params file is missing, malformed, or has an unknown or invalid key."""


class DataError(CrmError, ValueError):
    """An input table cannot be read or fails a check; the message says where and what to do."""


class NotebookFailed(CrmError, RuntimeError):
    """A notebook raised while it ran; its failure page was written."""
