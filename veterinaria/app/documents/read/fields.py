"""Structured fields from a Spanish veterinary document's text (OCR output or a PDF text layer).

Each field is a small, separately tested step: document type by keywords (the title counts
most), labelled values (`Paciente:`, `Propietario:`…, several per line allowed), species
normalised, the document's own date (a `Fecha:` line before any other date), lab values.
Matching is done on accent-folded text, so OCR that drops accents still reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from difflib import get_close_matches

from common.text import fold_keeping_length
from veterinaria.app.documents.read.dates import find_dates
from veterinaria.app.documents.read.lab_values import LabValue, extract_lab_values

#: stored and API identifiers (plain ASCII, stable), and how a person writes each
DOCUMENT_TYPES = ("radiografia", "analisis", "historial", "receta", "vacunacion", "otro")
TYPE_LABELS = {"radiografia": "radiografía", "analisis": "análisis", "historial": "historial", "receta": "receta",
               "vacunacion": "vacunación", "otro": "otro"}

_TYPE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "radiografia": (r"radiograf", r"\brx\b", r"proyecci[oó]n", r"radiolog", r"diagnostico por imagen"),
    "analisis": (r"hemograma", r"bioquimic", r"analisis", r"analitica", r"laboratorio", r"urianalisis",
                 r"serologi", r"coprolog"),
    "receta": (r"\breceta\b", r"prescripci", r"posologia", r"dispensar"),
    "vacunacion": (r"vacuna", r"cartilla", r"pasaporte", r"antirrabic"),
    "historial": (r"historia clinica", r"historial", r"anamnesis", r"motivo de consulta", r"exploracion",
                  r"evolucion"),
}
#: the first lines (letterhead and title) say what a document is more than a passing mention does
_TITLE_LINES = 8
_TITLE_WEIGHT = 3

_SPECIES: dict[str, tuple[str, ...]] = {
    "canino": ("canino", "canina", "perro", "perra", "can", "cachorro", "canis"),
    "felino": ("felino", "felina", "gato", "gata", "felis", "gatito"),
    "conejo": ("conejo", "coneja", "lagomorfo"),
    "huron": ("huron", "hurona"),
    "ave": ("ave", "loro", "periquito", "canario", "agapornis", "cacatua", "ninfa"),
    "reptil": ("reptil", "tortuga", "iguana", "serpiente", "gecko", "camaleon"),
    "roedor": ("roedor", "hamster", "cobaya", "rata", "raton", "chinchilla", "jerbo", "degu"),
    "equino": ("equino", "caballo", "yegua", "potro", "poni"),
}
_SPECIES_WORD = {word: species for species, words in _SPECIES.items() for word in words}
_SPECIES_FUZZY = [word for word in _SPECIES_WORD if len(word) > 3]

#: a label and the field it fills, tried in order on the folded label text
_LABELS: tuple[tuple[str, str], ...] = (
    (r"clinica|hospital|centro|laboratorio", "ignore"),
    (r"propiet|due[nñ][oa]|tutor|cliente|responsable", "owner"),
    (r"especie", "species"),
    (r"raza", "breed"),
    (r"veterinari|medic|doctor|firmad|facultativ|\bdra?\b", "vet"),
    (r"paciente|mascota|animal|nombre", "patient"),
    (r"fecha", "date"),
)
#: words that make up labels ("Nombre del propietario:"); a label is the word before a colon plus
#: the label words just before it, so "Luna Especie: Perro" (OCR lost the spacing) is still split
_LABEL_WORDS = frozenset(
    "nombre del de la el paciente mascota animal propietario propietaria dueno duena tutor tutora cliente "
    "responsable especie raza sexo edad peso fecha nacimiento medico medica veterinario veterinaria "
    "veterinario/a dr dr. dra dra. firmado por doctor doctora n nº no numero chip microchip historia "
    "clinica telefono direccion emision informe analisis consulta visita estudio muestra".split()
)
_COLON = re.compile(r"([a-zº/.]*[a-z])\s?[:;]")
_TITLE = re.compile(r"^(?:dra?|dr/a|doctora?)\s*\.?\s+", re.IGNORECASE)
#: where a person's name ends: "Nº colegiado" (OCR: "N2", "N*"), "DNI", a phone, a comma, a digit
_NAME_END = re.compile(
    r"\s+(?:n\s?[º°o2*]\s|n\S{0,2}\s+col|col\.|colegiad|dni|tel|tlf|m[oó]vil|,|\(|\d)|,|;|\s{3,}", re.IGNORECASE
)
_CAPITALISED = r"[A-ZÁÉÍÓÚÑ][^\W\d_]+"
_VET_SIGNATURE = re.compile(rf"\b(?i:dra?|doctora?)\s*\.?\s+({_CAPITALISED}(?:\s+(?:del?\s+)?{_CAPITALISED}){{0,3}})")


@dataclass
class DocumentFields:
    document_type: str = "otro"
    patient_name: str | None = None
    species: str | None = None
    breed: str | None = None
    owner_name: str | None = None
    date: date | None = None
    vet_name: str | None = None
    lab_values: list[LabValue] = field(default_factory=list)


def type_label(document_type: str) -> str:
    """The type as people write it: "vacunacion" → "vacunación"."""
    return TYPE_LABELS.get(document_type, document_type)


def classify(text: str) -> str:
    """The document type from its keywords; "otro" when none is present."""
    lines = fold_keeping_length(text).splitlines()
    title, body = "\n".join(lines[:_TITLE_LINES]), "\n".join(lines[_TITLE_LINES:])
    scores = {}
    for kind, patterns in _TYPE_KEYWORDS.items():
        scores[kind] = sum(
            _TITLE_WEIGHT * min(3, len(re.findall(p, title))) + min(3, len(re.findall(p, body))) for p in patterns
        )
    best = max(scores, key=scores.get)
    return best if scores[best] > 0 else "otro"


def _labels(folded: str) -> list[tuple[int, int, str]]:
    """(start, end, label text) of each `Label:` in a folded line."""
    labels = []
    for colon in _COLON.finditer(folded):
        start = colon.start()
        for _ in range(3):
            previous = re.search(r"([a-zº/.]+)\s+$", folded[:start])
            if not previous or previous.group(1) not in _LABEL_WORDS:
                break
            start = previous.start()
        labels.append((start, colon.end(), folded[start:colon.end() - 1].strip()))
    return labels


def labelled_values(text: str) -> dict[str, list[str]]:
    """Values after known labels, per field, in order: "Paciente: Luna   Especie: Canino" gives both."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        labels = _labels(fold_keeping_length(line))
        for index, (_, value_start, label) in enumerate(labels):
            value_end = labels[index + 1][0] if index + 1 < len(labels) else len(line)
            value = line[value_start:value_end].strip(" \t.-_|")
            target = next((name for pattern, name in _LABELS if re.search(pattern, label)), None)
            if target and target != "ignore" and value:
                found.setdefault(target, []).append(value)
    return found


def _person(value: str) -> str | None:
    value = _TITLE.sub("", value.strip())
    value = _NAME_END.split(value, maxsplit=1)[0].strip(" .:-")
    words = value.split()
    if not words or not any(char.isalpha() for char in value):
        return None
    return " ".join(words[:5])


def _pet_name(value: str) -> str | None:
    value = re.split(r"\s+(?:especie|raza|sexo|edad|peso|chip|n[º°o]\b)|\(|,|;|\s{3,}", value, maxsplit=1,
                     flags=re.IGNORECASE)[0]
    words = value.strip(" .:-").split()
    return " ".join(words[:3]) if words and any(char.isalpha() for char in words[0]) else None


def normalise_species(value: str) -> str | None:
    """"Perro", "canina", "CANINO" → "canino"; "gato" → "felino"; "Hurén" (OCR) → "huron"; None when unknown."""
    words = re.findall(r"[a-z]+", fold_keeping_length(value))
    for word in words:
        if word in _SPECIES_WORD:
            return _SPECIES_WORD[word]
    for word in words:
        close = get_close_matches(word, _SPECIES_FUZZY, n=1, cutoff=0.8) if len(word) > 3 else []
        if close:
            return _SPECIES_WORD[close[0]]
    return None


def _species_in_text(text: str) -> str | None:
    for word in re.findall(r"[a-z]+", fold_keeping_length(text)):
        if word in _SPECIES_WORD and len(word) > 3:
            return _SPECIES_WORD[word]
    return None


def document_date(text: str) -> date | None:
    """The date on a `Fecha…:` line, else the first date not on a birth, expiry or next-dose line."""
    fallback = None
    for line in text.splitlines():
        folded = fold_keeping_length(line)
        dates = find_dates(line)
        if not dates:
            continue
        if re.search(r"nacim|f\.?\s*nac|proxim|caduc|revacun|validez|vence", folded):
            continue
        if "fecha" in folded:
            return dates[0][1]
        fallback = fallback or dates[0][1]
    return fallback


def vet_name(text: str, labelled: list[str]) -> str | None:
    for value in labelled:
        if name := _person(value):
            return name
    match = _VET_SIGNATURE.search(text)
    return _person(match.group(1)) if match else None


def extract_fields(text: str) -> DocumentFields:
    """Document type, patient, species, breed, owner, date, vet and lab values found in `text`."""
    labelled = labelled_values(text)
    first = {name: values[0] for name, values in labelled.items()}
    species = next((s for v in labelled.get("species", []) if (s := normalise_species(v))), None)
    document_type = classify(text)
    return DocumentFields(
        document_type=document_type,
        patient_name=next((n for v in labelled.get("patient", []) if (n := _pet_name(v))), None),
        species=species or _species_in_text(text),
        breed=_pet_name(first["breed"]) if "breed" in first else None,
        owner_name=next((n for v in labelled.get("owner", []) if (n := _person(v))), None),
        date=document_date(text),
        vet_name=vet_name(text, labelled.get("vet", [])),
        lab_values=extract_lab_values(text),
    )
