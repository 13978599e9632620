"""A long scan read by many workers: its pages as separate tasks, joined in page order.

The document job (`process_medical_document`) splits a PDF of at least `ocr_fanout_min_pages` pages
into one-page PDFs in storage (S3 or the shared storage folder, so a worker on any host can fetch
them) and hands the job on to a Celery chord: one `read_document_page` task a page, then
`file_document_pages` once all of them are done. Each page task reads its page exactly as the
single-task path reads every page (`extract_document`) and keeps its reading in `vet_page_reads`;
the join files the whole document and completes the job in one transaction, deleting those rows.

Why the readings go through the database and not through the chord's results: a page read is
kept once it is committed, whatever happens to Redis's results or to the job's first attempt; a
job that is run again (the reconciler, a redelivered message) sends only the pages still unread.
Nothing the user sees is written before the join: a cancelled or failed job leaves only the page
rows and files, which every terminal path removes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common import jobs
from common.config import Settings
from common.errors import BadInput
from common.storage import Storage
from veterinaria.app.documents.read import HEAD_SIZE, DocumentError, DocumentText, PageText, extract_document, sniff_document
from veterinaria.app.documents.read.document import NO_TEXT
from veterinaria.app.documents.read.pdf import open_pdf
from veterinaria.app.models import Document, PageRead

PAGES_PREFIX = "pages"


@dataclass(frozen=True)
class StoredPage:
    """One page of a split scan: its 1-based number and the key of its one-page PDF in storage."""

    number: int
    key: str


def page_key(job_id: str, number: int) -> str:
    return f"{PAGES_PREFIX}/{job_id}/{number:04d}.pdf"


def split_if_long(*, storage: Storage, document: Document, job_id: str, settings: Settings,
                  already_read: set[int]) -> tuple[int, list[StoredPage]] | None:
    """(page count, the pages still to read, each stored as a one-page PDF); None for the single-task path.

    Only PDFs of at least `ocr_fanout_min_pages` pages fan out (a multi-frame TIFF keeps the single
    task; 0 turns fan-out off). Splitting copies the pages' objects and renders nothing: a 60-page
    scan splits in a fraction of a second.
    """
    if settings.ocr_fanout_min_pages == 0:
        return None
    try:
        with storage.local_copy(document.file_key) as source:
            with open(source, "rb") as handle:
                if sniff_document(handle.read(HEAD_SIZE)) != "pdf":
                    return None
            with open_pdf(Path(source), max_pages=settings.max_document_pages) as pdf:
                total = len(pdf)
                if total < settings.ocr_fanout_min_pages:
                    return None
                unread = [StoredPage(number=n, key=page_key(job_id, n)) for n in range(1, total + 1) if n not in already_read]
                for page in unread:
                    storage.save_bytes(_one_page(pdf, page.number - 1), key=page.key)
                return total, unread
    except DocumentError as exc:
        raise BadInput(exc.message, code=exc.code) from None


def _one_page(pdf: pdfium.PdfDocument, index: int) -> bytes:
    single = pdfium.PdfDocument.new()
    try:
        single.import_pages(pdf, [index])
        buffer = io.BytesIO()
        single.save(buffer)
        return buffer.getvalue()
    finally:
        single.close()


def read_stored_page(*, storage: Storage, page: StoredPage, settings: Settings) -> PageText:
    """One page's text, read the way the single-task path reads each page (text layer, or render and OCR).

    A blank page is an empty reading here; only a document blank throughout is refused (at the join).
    """
    with storage.local_copy(page.key) as source:
        try:
            text = extract_document(source, max_pages=1, workers=1, memory_budget=settings.file_memory_budget_bytes)
        except DocumentError as exc:
            if exc.code != "document_without_text":
                raise BadInput(f"Página {page.number}: {exc.message}", code=exc.code) from None
            return PageText(number=page.number, text="", confidence=0.0)
    reading = text.pages[0]
    reading.number = page.number
    return reading


def read_numbers(*, session: Session, job_id: str) -> set[int]:
    """The pages of this job already read (and committed)."""
    return set(session.scalars(select(PageRead.number).where(PageRead.job_id == job_id)))


def keep_page(*, session: Session, job_id: str, reading: PageText, worker: str, seconds: float, total: int) -> int:
    """Store a page's reading (a second reading of the same page is dropped) and the job's progress; pages read so far."""
    try:
        with session.begin_nested():
            session.add(PageRead(job_id=job_id, number=reading.number, text=reading.text, confidence=reading.confidence,
                                 source=reading.source, rotated=reading.rotated, deskew=reading.deskew, worker=worker,
                                 seconds=round(seconds, 3)))
    except IntegrityError:  # the same page read twice (a redelivered page task): the first reading stays
        pass
    done = session.scalar(select(func.count()).select_from(PageRead).where(PageRead.job_id == job_id))
    jobs.set_progress(session=session, job_id=job_id, progress=90 * done // max(total, 1))
    return done


def joined_text(*, session: Session, job_id: str, total: int) -> tuple[DocumentText, dict[str, int]]:
    """The document's text from its page rows, in page order, and how many pages each worker read.

    Raises BadInput when the whole document is blank (as the single task does), RuntimeError if a page is missing.
    """
    rows = list(session.scalars(select(PageRead).where(PageRead.job_id == job_id).order_by(PageRead.number)))
    if [row.number for row in rows] != list(range(1, total + 1)):
        raise RuntimeError(f"job {job_id}: {len(rows)} of {total} pages read at the join")
    pages = [PageText(number=r.number, text=r.text, confidence=r.confidence, source=r.source, rotated=r.rotated,
                      deskew=r.deskew) for r in rows]
    if not any(page.text.strip() for page in pages):
        raise BadInput(NO_TEXT, code="document_without_text")
    workers: dict[str, int] = {}
    for row in rows:
        workers[row.worker] = workers.get(row.worker, 0) + 1
    return DocumentText.from_pages("pdf", pages), workers


def forget_pages(*, session: Session, job_id: str) -> None:
    """Delete the job's page rows (in the caller's transaction)."""
    session.execute(delete(PageRead).where(PageRead.job_id == job_id))


def delete_page_files(*, storage: Storage, job_id: str, total: int) -> None:
    """Remove the one-page PDFs once nothing will read them (after the commit that ended the job)."""
    for number in range(1, total + 1):
        storage.delete(page_key(job_id, number))

