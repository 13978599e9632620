"""Full-text search over clinical records: documents and consultations, accent-insensitive and ranked.

Every searchable record has one SearchEntry whose body is `search_text()` of its words. The
migration indexes that body per dialect: an FTS5 table on SQLite (`vet_search_fts`, kept in step by
triggers), a GIN index over `to_tsvector('spanish', body)` on PostgreSQL, whose Spanish stemmer
also finds "vacuna" in "vacunas". Queries are normalised the same way, so "radiografia torax"
finds "Radiografía TÓRAX" on both.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import column, func, literal_column, select, table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from common.text import fold, fold_with_origins
from veterinaria.app.models import Consultation, Document, LabValue, Owner, Pet, SearchEntry

MAX_TERMS = 12
MAX_TERM_LENGTH = 64
SNIPPET_BEFORE, SNIPPET_AFTER = 60, 140

# letters and digits: what both FTS5's unicode61 tokenizer and PostgreSQL's parser keep as words
_WORD = re.compile(r"[^\W_]+")
_SPANISH = literal_column("'spanish'")  # a literal, not a bind parameter, so PostgreSQL uses the GIN index
_FTS = table("vet_search_fts", column("rowid"), column("rank"))


class SearchKind(StrEnum):
    DOCUMENT = "document"
    CONSULTATION = "consultation"


def search_text(value: str) -> str:
    """How searchable text is stored and queried: lower case, no accents, single spaces.

    "Radiografía  TÓRAX" → "radiografia torax". Idempotent, so normalising twice is harmless.
    """
    return fold(value)


def index_entry(*, session: Session, kind: SearchKind | str, ref_id: int, pet_id: int | None, body: str) -> None:
    """Make `body` the searchable text of one document or consultation (insert or replace).

    `body` may be raw text: it is normalised with `search_text()` here. Calling it again for the
    same (kind, ref_id) replaces the entry, so a re-run task leaves one entry, not two.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(SearchEntry).values(
        kind=SearchKind(kind).value, ref_id=ref_id, pet_id=pet_id, body=search_text(body)
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[SearchEntry.kind, SearchEntry.ref_id],
            set_={"pet_id": statement.excluded.pet_id, "body": statement.excluded.body},
        )
    )


def query_terms(q: str) -> list[str]:
    """The words of a user's query, normalised; punctuation and search syntax are dropped."""
    return [term[:MAX_TERM_LENGTH] for term in _WORD.findall(search_text(q))][:MAX_TERMS]


def fts5_match(terms: list[str]) -> str:
    """An FTS5 MATCH expression that ANDs the terms, each quoted as a string, never as syntax."""
    return " AND ".join('"' + term.replace('"', '""') + '"' for term in terms)


@dataclass(frozen=True)
class Hit:
    kind: SearchKind
    ref_id: int
    pet_id: int | None
    pet_name: str | None
    date: dt.date | None
    snippet: str


def search(
    *, session: Session, q: str, owner_user_id: int | None = None, pet_id: int | None = None,
    kind: SearchKind | None = None, limit: int = 20, offset: int = 0,
) -> list[Hit]:
    """Documents and consultations matching every word of `q`, best first.

    With `owner_user_id`, only records of the pets whose owner is linked to that auth user
    (records of no pet never); who may see what is decided by the caller (`service.search_records`).
    """
    terms = query_terms(q)
    if not terms:
        return []
    query = select(SearchEntry.kind, SearchEntry.ref_id, SearchEntry.pet_id, Pet.name)
    if session.get_bind().dialect.name == "postgresql":
        vector = func.to_tsvector(_SPANISH, SearchEntry.body)
        wanted = func.plainto_tsquery(_SPANISH, " ".join(terms))
        query = (
            query.select_from(SearchEntry)
            .where(vector.bool_op("@@")(wanted))
            .order_by(func.ts_rank(vector, wanted).desc(), SearchEntry.id)
        )
    else:
        query = (
            query.select_from(_FTS)
            .join(SearchEntry, SearchEntry.id == _FTS.c.rowid)
            .where(text("vet_search_fts MATCH :match").bindparams(match=fts5_match(terms)))
            .order_by(_FTS.c.rank, SearchEntry.id)
        )
    query = query.outerjoin(Pet, Pet.id == SearchEntry.pet_id).limit(limit).offset(offset)
    if owner_user_id is not None:
        query = query.join(Owner, Owner.id == Pet.owner_id).where(Owner.user_id == owner_user_id)
    if pet_id is not None:
        query = query.where(SearchEntry.pet_id == pet_id)
    if kind is not None:
        query = query.where(SearchEntry.kind == kind.value)
    rows = session.execute(query).all()
    sources = _sources(session, rows)
    hits = []
    for row in rows:
        date, original = sources.get((row.kind, row.ref_id), (None, ""))
        hits.append(Hit(kind=SearchKind(row.kind), ref_id=row.ref_id, pet_id=row.pet_id, pet_name=row.name, date=date,
                        snippet=snippet(original, terms)))
    return hits


def _sources(session: Session, rows) -> dict[tuple[str, int], tuple[dt.date | None, str]]:
    """The date and original text (accents and case intact) of each hit, for its snippet."""
    wanted: dict[str, list[int]] = {kind.value: [] for kind in SearchKind}
    for row in rows:
        wanted[row.kind].append(row.ref_id)
    sources: dict[tuple[str, int], tuple[dt.date | None, str]] = {}
    if wanted[SearchKind.CONSULTATION]:
        for consultation in session.scalars(
            select(Consultation).where(Consultation.id.in_(wanted[SearchKind.CONSULTATION]))
        ):
            parts = (consultation.reason, consultation.diagnosis, consultation.treatment)
            sources[(SearchKind.CONSULTATION.value, consultation.id)] = (
                consultation.date.date(), " — ".join(part for part in parts if part)
            )
    if wanted[SearchKind.DOCUMENT]:
        for ref_id, document_date, extracted_text in session.execute(
            select(Document.id, Document.document_date, Document.extracted_text)
            .where(Document.id.in_(wanted[SearchKind.DOCUMENT]))
        ):
            sources[(SearchKind.DOCUMENT.value, ref_id)] = (document_date, extracted_text)
        # a corrected lab value is not in the text as printed: its line follows the text, for the snippet
        for lab in session.scalars(
            select(LabValue).where(LabValue.document_id.in_(wanted[SearchKind.DOCUMENT]), LabValue.corrected_at.is_not(None))
            .order_by(LabValue.id)
        ):
            key = (SearchKind.DOCUMENT.value, lab.document_id)
            sources[key] = (sources[key][0], f"{sources[key][1]}\n{lab.name} {lab.raw_value} {lab.unit}".rstrip())
    return sources


def snippet(source: str, terms: list[str]) -> str:
    """About 200 characters of `source` around the first place a term (or its stem) appears."""
    folded, origin = fold_with_origins(source)
    start = _first_match(folded, terms)
    if start is None:
        start = 0
    begin = origin[start] if folded else 0
    cut_from = max(0, begin - SNIPPET_BEFORE)
    cut_to = min(len(source), begin + SNIPPET_AFTER)
    # widen to whole words
    while cut_from > 0 and not source[cut_from - 1].isspace():
        cut_from -= 1
    while cut_to < len(source) and not source[cut_to].isspace():
        cut_to += 1
    excerpt = " ".join(source[cut_from:cut_to].split())
    return ("…" if cut_from > 0 else "") + excerpt + ("…" if cut_to < len(source) else "")


def _first_match(folded: str, terms: list[str]) -> int | None:
    """Where a term starts a word in `folded`; failing that, its stem (PostgreSQL matched "vacunas" to "vacuna")."""
    for candidates in (terms, [term[: max(4, len(term) - 3)] for term in terms]):
        positions = [
            match.start()
            for term in candidates
            if (match := re.search(rf"(?<![^\W_]){re.escape(term)}", folded))
        ]
        if positions:
            return min(positions)
    return None
