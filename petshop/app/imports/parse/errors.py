"""The one exception of the import pipeline: a problem with the whole file."""

from __future__ import annotations


class InventoryFileError(Exception):
    """The file cannot be imported at all; `message` says why, in Spanish, for the shop employee.

    `code` is the stable name of the reason (the job's BadInput carries it), e.g. "sheet_too_large".
    """

    def __init__(self, message: str, *, code: str = "inventory_file_unreadable") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
