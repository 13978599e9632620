"""The one exception of the document pipeline: a problem with the uploaded file as a whole."""

from __future__ import annotations


class DocumentError(Exception):
    """The document cannot be read; `message` says why and what to do, in Spanish, for the vet.

    `code` is the stable snake_case name the API returns beside the message.
    """

    def __init__(self, message: str, *, code: str = "document_unreadable") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
