"""The one exception of the import pipeline: a problem with the whole file."""

from __future__ import annotations


class InventoryFileError(Exception):
    """The file cannot be imported at all; `message` says why, in Spanish, for the shop employee."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
