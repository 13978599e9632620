"""Tables owned by the veterinaria service."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.db import Base, UTCDateTime, utcnow


class Owner(Base):
    """A pet owner; `user_id` links them to their auth account (role `cliente`) so they see their pets."""

    __tablename__ = "vet_owners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), index=True)  # lower case, no accents: for matching
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    user_id: Mapped[int | None] = mapped_column(Integer, unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Pet(Base):
    __tablename__ = "vet_pets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100), index=True)
    species: Mapped[str] = mapped_column(String(40))  # canino, felino, ave, …
    breed: Mapped[str] = mapped_column(String(100), default="")
    sex: Mapped[str] = mapped_column(String(10), default="")  # macho / hembra / ""
    birth_date: Mapped[date | None] = mapped_column(Date, default=None)
    owner_id: Mapped[int] = mapped_column(ForeignKey("vet_owners.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[Owner] = relationship(lazy="joined", innerjoin=True)


class ClinicalHistory(Base):
    """One per pet: opened with the pet, it holds its consultations and documents."""

    __tablename__ = "vet_histories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pet_id: Mapped[int] = mapped_column(ForeignKey("vet_pets.id"), unique=True)
    notes: Mapped[str] = mapped_column(Text, default="")  # allergies, chronic conditions
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Consultation(Base):
    __tablename__ = "vet_consultations"
    __table_args__ = (Index("ix_vet_consultations_pet_id_date", "pet_id", "date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pet_id: Mapped[int] = mapped_column(ForeignKey("vet_pets.id"))
    date: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    diagnosis: Mapped[str] = mapped_column(Text, default="")
    treatment: Mapped[str] = mapped_column(Text, default="")
    weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(6, 2), default=None)
    vet_id: Mapped[int] = mapped_column(Integer)  # the auth user who recorded it
    vet_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Document(Base):
    """A stored file (scan, photo, PDF) and what was read from it."""

    __tablename__ = "vet_documents"
    __table_args__ = (Index("ix_vet_documents_pet_id_document_date", "pet_id", "document_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pet_id: Mapped[int | None] = mapped_column(ForeignKey("vet_pets.id"), default=None)
    file_key: Mapped[str] = mapped_column(String(300))
    file_name: Mapped[str] = mapped_column(String(300), default="")
    file_kind: Mapped[str] = mapped_column(String(10))  # pdf, jpeg, png, tiff
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    document_type: Mapped[str] = mapped_column(String(20), default="otro")
    document_date: Mapped[date | None] = mapped_column(Date, default=None)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    page_texts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    extracted_text: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    processing_time: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, processed, failed
    uploaded_by: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # what the reading found, kept when a vet first corrects it; `extracted_text` and `fields` are then the correction
    ocr_text: Mapped[str | None] = mapped_column(Text, default=None)
    ocr_fields: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    corrected_by: Mapped[int | None] = mapped_column(Integer, default=None)

    lab_values: Mapped[list[LabValue]] = relationship(order_by="LabValue.id", viewonly=True)


class LabValue(Base):
    """One lab result read from an analysis: name, number and unit, on the document's date.

    `raw_value` is the number as printed ("9.400"); `value` is what it means (9400), None when the
    printing leaves that open (`ambiguous`, e.g. "1.200 U/L" with no range to settle it).
    """

    __tablename__ = "vet_lab_values"
    __table_args__ = (Index("ix_vet_lab_values_pet_id_name", "pet_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("vet_documents.id", ondelete="CASCADE"), index=True)
    pet_id: Mapped[int | None] = mapped_column(ForeignKey("vet_pets.id"), default=None)
    name: Mapped[str] = mapped_column(String(100))
    value: Mapped[float | None] = mapped_column(Float, default=None)
    raw_value: Mapped[str] = mapped_column(String(40), default="", server_default="")
    ambiguous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    unit: Mapped[str] = mapped_column(String(30), default="")
    reference: Mapped[str] = mapped_column(String(60), default="")
    measured_on: Mapped[date | None] = mapped_column(Date, default=None)
    # what the reading found, kept when a vet first corrects the value; name/value/unit are then the correction
    ocr_name: Mapped[str | None] = mapped_column(String(100), default=None)
    ocr_value: Mapped[float | None] = mapped_column(Float, default=None)
    ocr_raw_value: Mapped[str | None] = mapped_column(String(40), default=None)
    ocr_unit: Mapped[str | None] = mapped_column(String(30), default=None)
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    corrected_by: Mapped[int | None] = mapped_column(Integer, default=None)


class MedicalReport(Base):
    """A finished medical report (its PDF) about a pet, whoever asked for it: the pet's owner lists and opens it.

    Written in the transaction that completes the report's job; `id` is the job's id.
    """

    __tablename__ = "vet_medical_reports"
    __table_args__ = (Index("ix_vet_medical_reports_pet_id_created_at", "pet_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    pet_id: Mapped[int] = mapped_column(ForeignKey("vet_pets.id", ondelete="CASCADE"))
    pdf_key: Mapped[str] = mapped_column(String(300))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    requested_by: Mapped[str] = mapped_column(String(150), default="")  # the username, as the report's page shows it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchEntry(Base):
    """The searchable text of a document or a consultation, lower-cased and without accents.

    Indexed per dialect by the migration: an FTS5 table on SQLite, a GIN index over
    to_tsvector('spanish', body) on PostgreSQL.
    """

    __tablename__ = "vet_search_entries"
    __table_args__ = (UniqueConstraint("kind", "ref_id", name="uq_vet_search_entries_kind_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # document, consultation
    ref_id: Mapped[int] = mapped_column(Integer)
    pet_id: Mapped[int | None] = mapped_column(ForeignKey("vet_pets.id"), default=None, index=True)
    body: Mapped[str] = mapped_column(Text)


class PageRead(Base):
    """One page of a long scan as its page task read it, kept until the whole document is filed.

    Page tasks run on any worker host; this row is how their readings meet (see
    `documents/page_tasks.py`). The join deletes a job's rows in the transaction that files the document.
    """

    __tablename__ = "vet_page_reads"

    job_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1-based
    text: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))
    rotated: Mapped[int] = mapped_column(Integer)
    deskew: Mapped[float] = mapped_column(Float)
    worker: Mapped[str] = mapped_column(String(200))  # the Celery worker that read it
    seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
