"""Reading a clinical document (its file's half, no database): a file in, pages of text and clinical fields out.

Pure functions, no database: `extract_document` (sniff → PDF text layer or render → OCR with
orientation and skew correction) and `extract_fields` (document type, patient, owner, date, vet,
lab values from Spanish text). Errors meant for the vet are `DocumentError`s.
"""

from veterinaria.app.documents.read.dates import parse_date
from veterinaria.app.documents.read.document import extract_document
from veterinaria.app.documents.read.engine import OcrEngine, get_engine
from veterinaria.app.documents.read.errors import DocumentError
from veterinaria.app.documents.read.fields import DocumentFields, LabValue, extract_fields
from veterinaria.app.documents.read.pool import close_pool
from veterinaria.app.documents.read.results import DocumentText, PageText
from veterinaria.app.documents.read.sniff import HEAD_SIZE, sniff_document

__all__ = [
    "HEAD_SIZE",
    "DocumentError",
    "DocumentFields",
    "DocumentText",
    "LabValue",
    "OcrEngine",
    "PageText",
    "close_pool",
    "extract_document",
    "extract_fields",
    "get_engine",
    "parse_date",
    "sniff_document",
]
