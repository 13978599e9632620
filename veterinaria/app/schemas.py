"""Request and response bodies of the clinic: owners, pets, histories, consultations, documents, search."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    computed_field,
)

from common.jobs import JobStatus
from common.types import ApiDate, ApiDateTime, DbId, RequestBody
from common.validation_messages import InvalidValue
from veterinaria.app.documents.read.fields import type_label
from veterinaria.app.search import SearchKind, search_text

#: spellings of the same species, folded with search_text(), to the one word we store
SPECIES_SYNONYMS = {
    **dict.fromkeys(("perro", "perra", "can", "canino", "canina", "dog"), "canino"),
    **dict.fromkeys(("gato", "gata", "felino", "felina", "cat"), "felino"),
    **dict.fromkeys(("conejo", "coneja", "rabbit"), "conejo"),
    **dict.fromkeys(("huron", "hurona", "ferret"), "huron"),
    **dict.fromkeys(("ave", "pajaro", "bird"), "ave"),
}
_SEX_SYNONYMS = {
    **dict.fromkeys(("macho", "m", "male"), "macho"),
    **dict.fromkeys(("hembra", "h", "f", "female"), "hembra"),
}
#: a date "today" in the clinic may already be tomorrow on a UTC server, and the other way round
_CLOCK_SLACK = dt.timedelta(days=1)


def normalise_species(value: str) -> str:
    """Free text, folded; common spellings become one word: "Perro" → "canino", "gata" → "felino"."""
    key = search_text(value)
    species = SPECIES_SYNONYMS.get(key, key)
    if not species or len(species) > 40:
        raise InvalidValue("la especie debe tener de 1 a 40 caracteres, p. ej. «canino», «felino», «conejo»")
    return species


def _normalise_sex(value: Any) -> Any:
    return _SEX_SYNONYMS.get(search_text(value), search_text(value)) if isinstance(value, str) else value


def _not_future_date(value: dt.date | None) -> dt.date | None:
    if value is not None and value > dt.date.today() + _CLOCK_SLACK:
        raise InvalidValue("no puede ser una fecha futura")
    return value


def _aware_not_future(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    if aware > dt.datetime.now(dt.UTC) + _CLOCK_SLACK:
        raise InvalidValue("no puede ser una fecha futura")
    return aware.astimezone(dt.UTC)


PetName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Species = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), AfterValidator(normalise_species)
]
Sex = Annotated[Literal["macho", "hembra", ""], BeforeValidator(_normalise_sex)]
Breed = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40, pattern=r"^[0-9+()./ -]*$")]
BirthDate = Annotated[ApiDate | None, AfterValidator(_not_future_date)]
ConsultationDate = Annotated[ApiDateTime | None, AfterValidator(_aware_not_future)]
ClinicalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
Weight = Annotated[Decimal, Field(gt=0, lt=1000, max_digits=6, decimal_places=2, examples=["12.40"])]


class Strict(RequestBody):
    """A request body: unknown fields and NUL characters refused (common/types.py)."""


# --- owners ---------------------------------------------------------------------------------


class OwnerCreate(Strict):
    full_name: PersonName = Field(examples=["María García López"])
    phone: Phone = Field(default="", examples=["+34 600 123 456"])
    email: EmailStr | None = Field(default=None, examples=["maria.garcia@example.com"])
    user_id: DbId | None = Field(
        default=None, examples=[42], description="The owner's auth account (role `cliente`): they then see their pets"
    )


class OwnerUpdate(Strict):
    full_name: PersonName | None = Field(default=None, examples=["María García López"])
    phone: Phone | None = Field(default=None, examples=["+34 600 123 456"])
    email: EmailStr | None = None
    user_id: DbId | None = Field(default=None, description="Link (or, with null, unlink) an auth account")


class OwnerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    full_name: str
    phone: str
    email: str | None
    user_id: int | None
    created_at: dt.datetime


class OwnerBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    full_name: str


# --- pets -----------------------------------------------------------------------------------


class PetCreate(Strict):
    name: PetName = Field(examples=["Luna"])
    species: Species = Field(examples=["canino"], description="Free text; 'perro' is stored as 'canino', 'gato' as 'felino'")
    breed: Breed = Field(default="", examples=["Labrador"])
    sex: Sex = Field(default="", examples=["hembra"], description="'macho', 'hembra' or empty")
    birth_date: BirthDate = Field(default=None, examples=["2020-03-15"])
    owner_id: DbId = Field(examples=[1])


class PetUpdate(Strict):
    name: PetName | None = Field(default=None, examples=["Luna"])
    species: Species | None = Field(default=None, examples=["felino"])
    breed: Breed | None = None
    sex: Sex | None = None
    birth_date: BirthDate = Field(default=None, description="null clears it")
    owner_id: DbId | None = Field(default=None, description="Move the pet to another owner")


class PetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    species: str
    breed: str
    sex: str
    birth_date: dt.date | None
    owner_id: int
    owner: OwnerBrief
    created_at: dt.datetime


# --- consultations --------------------------------------------------------------------------


class ConsultationCreate(Strict):
    date: ConsultationDate = Field(
        default=None, examples=["2024-01-15T10:30:00+01:00"], description="Defaults to now; without an offset it is UTC"
    )
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)] = Field(
        examples=["Cojera en la pata trasera izquierda"]
    )
    diagnosis: ClinicalText = Field(default="", examples=["Esguince leve"])
    treatment: ClinicalText = Field(default="", examples=["Meloxicam 0,1 mg/kg durante 5 días y reposo"])
    weight_kg: Weight | None = None


class ConsultationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    pet_id: int
    date: dt.datetime
    reason: str
    diagnosis: str
    treatment: str
    weight_kg: Decimal | None
    vet_id: int
    vet_name: str
    created_at: dt.datetime


# --- documents ------------------------------------------------------------------------------


class DocumentSummary(BaseModel):
    """A document as lists show it: what it is, not what it says."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    pet_id: int | None
    document_type: str = Field(examples=["analisis"], description="Identifier: radiografia, analisis, historial, receta, vacunacion, otro")
    document_date: dt.date | None
    pages: int
    confidence: float = Field(description="OCR confidence 0–1 (1 for a text layer)")
    status: str = Field(examples=["processed"], description="pending, processed or failed")
    file_name: str
    created_at: dt.datetime

    @computed_field(description="The type as people write it", examples=["análisis"])
    @property
    def document_type_label(self) -> str:
        return type_label(self.document_type)


class LabValueRead(BaseModel):
    """One lab value of a document as the clinic uses it, with the reading's own once a vet corrected it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    document_id: int
    name: str = Field(examples=["Hemoglobina"])
    value: float | None = Field(description="null when the printing left the number open (ambiguous)")
    raw_value: str = Field(description="The number as printed, or as the vet wrote it")
    ambiguous: bool
    unit: str = Field(examples=["g/dL"])
    reference: str = Field(examples=["12-18"])
    ocr_name: str | None = Field(description="The name as read, kept once a vet corrected it (null: never corrected)")
    ocr_value: float | None
    ocr_raw_value: str | None
    ocr_unit: str | None
    corrected_at: dt.datetime | None
    corrected_by: int | None = Field(description="The auth user who last corrected it")


LabNumber = Annotated[float, Field(ge=-1e12, le=1e12, allow_inf_nan=False)]


class LabValueUpdate(Strict):
    """A vet's correction of one lab value: only the fields sent change; search, the pet's series and reports use it."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    value: LabNumber | None = None
    unit: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] | None = None


class MedicalReportRead(BaseModel):
    """A finished medical report about a pet, whoever asked for it."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="The report job's id")
    pet_id: int
    pages: int
    requested_by: str = Field(description="The username of whoever asked for it")
    created_at: dt.datetime

    @computed_field(description="Where to download the PDF")
    @property
    def pdf_url(self) -> str:
        return f"/mascotas/{self.pet_id}/reportes/{self.id}/pdf"


class DocumentRead(DocumentSummary):
    """A document with everything read from it."""

    file_kind: str = Field(examples=["pdf"])
    size: int = Field(description="Bytes")
    extracted_text: str
    fields: dict[str, Any] = Field(
        description="Patient, owner, date, vet (spelled as in the document), lab values… as read from the text. "
        "Each lab value: name, value (null when ambiguous), raw (the number as printed), ambiguous, unit, reference"
    )
    page_texts: list[dict[str, Any]] = Field(description="Per page: number, text, confidence")
    processing_time: float = Field(description="Seconds the reading took")
    ocr_text: str | None = Field(description="The text as read, kept once a vet corrected it (null: never corrected)")
    ocr_fields: dict[str, Any] | None = Field(description="The fields as read, kept once a vet corrected them")
    corrected_at: dt.datetime | None
    corrected_by: int | None = Field(description="The auth user who last corrected it")
    lab_values: list[LabValueRead] = Field(description="The lab values filed from it (corrected ones as corrected)")


DocumentType = Literal["radiografia", "analisis", "historial", "receta", "vacunacion", "otro"]
DocumentText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500_000)]


class DocumentUpdate(Strict):
    """A vet's correction: only the fields sent change; search and reports use them from then on."""

    pet_id: DbId | None = Field(default=None, description="Attach the document (and its lab values) to this pet")
    document_type: DocumentType | None = None
    document_date: Annotated[ApiDate | None, AfterValidator(_not_future_date)] = None
    patient_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    vet_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    extracted_text: DocumentText | None = Field(default=None, description="The whole text, corrected")


class LabPoint(BaseModel):
    date: dt.date | None
    value: float | None = Field(description="null when the printing left the number open (ambiguous)")
    raw: str = Field(description="The number as printed")
    document_id: int
    corrected: bool = Field(default=False, description="A vet corrected this value")


class LabSeries(BaseModel):
    """One lab value of a pet over time, oldest first."""

    name: str = Field(examples=["Hemoglobina"])
    unit: str = Field(examples=["g/dL"])
    reference: str = Field(examples=["12-18"])
    points: list[LabPoint]


# --- histories ------------------------------------------------------------------------------


class HistoryUpdate(Strict):
    notes: ClinicalText = Field(examples=["Alérgica a la amoxicilina. Displasia de cadera."])


class HistoryRead(BaseModel):
    """A pet's clinical history: the pet, standing notes, consultations and documents in date order."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    pet: PetRead
    notes: str = Field(description="Allergies, chronic conditions")
    created_at: dt.datetime
    consultations: list[ConsultationRead] = Field(description="The latest 100, oldest first; all of them at /consultas/")
    documents: list[DocumentSummary] = Field(description="The latest 100, oldest first; all of them at /documentos/")
    consultations_total: int
    documents_total: int


# --- search ---------------------------------------------------------------------------------


class SearchHit(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: SearchKind = Field(examples=["document"])
    ref_id: int = Field(description="The document's or consultation's id", examples=[17])
    pet_id: int | None
    pet_name: str | None = Field(examples=["Luna"])
    date: dt.date | None = Field(description="The consultation's or document's date")
    snippet: str = Field(examples=["…RADIOGRAFÍA DE TÓRAX: silueta cardiaca dentro de la normalidad…"])


class DocumentTaskRead(BaseModel):
    """A document job in the seed's shape (its result's seed fields at top level once completed)."""

    task_id: str
    status: JobStatus
    progress: int
    kind: str
    error: str | None = None
    file_path: str | None = None
    document_type: str | None = None
    document_type_label: str | None = None  # "vacunación" for "vacunacion"
    extracted_text: str | None = None
    confidence: float | None = None
    result: dict[str, Any] | None = None
