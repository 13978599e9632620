"""The one exception of the import pipeline: a problem with the whole file."""

from __future__ import annotations


class InventoryFileError(Exception):
    """The file cannot be imported at all; `message` says why, in Spanish, for the shop employee.

    `code` is the stable name of the reason (the job's BadInput carries it), e.g. "sheet_too_large".
    `details` is what the failed job's result carries for a client to act on (e.g. `file_columns`
    and `missing_fields`, so the console can offer a column mapping); None when there is nothing.
    """

    def __init__(self, message: str, *, code: str = "inventory_file_unreadable", details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details
