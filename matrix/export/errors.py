"""Export errors a user can act on: each message says what is wrong and what to do."""
from __future__ import annotations


class ExportError(Exception):
    """A bad export request (unknown table, account, format, or a filter that cannot apply)."""


class ExportPermissionError(ExportError):
    """The caller asked for identified data without the role that allows it."""


class PseudonymKeyError(ExportError):
    """The pseudonym key is missing, too short, readable by others, or kept inside the repository."""
