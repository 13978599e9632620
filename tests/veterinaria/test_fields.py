"""Reading clinical fields from Spanish veterinary text: dates, document type, labelled values,
species, lab values, on clean text and on text as OCR returns it (accents lost, spacing collapsed)."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from tests.veterinaria.samples import TYPES, sample_documents
from veterinaria.app.documents.read import LabValue, extract_fields, parse_date
from veterinaria.app.documents.read.fields import classify, document_date, labelled_values, normalise_species
from veterinaria.app.documents.read.lab_values import parse_lab_line
from veterinaria.app.documents.read.numbers import parse_number


def ocr_like(text: str) -> str:
    """Text as a tired OCR engine returns it: accents dropped, runs of spaces collapsed."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return "\n".join(" ".join(line.split()) for line in plain.splitlines())


def plain(text: str | None) -> str | None:
    return ocr_like(text).lower() if text is not None else None


# --- dates ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15/01/2024", date(2024, 1, 15)),
        ("15-01-24", date(2024, 1, 15)),
        ("15.01.2024", date(2024, 1, 15)),
        ("2024-01-15", date(2024, 1, 15)),
        ("2024/1/5", date(2024, 1, 5)),
        ("5/1/2024", date(2024, 1, 5)),
        ("15 / 01 / 2024", date(2024, 1, 15)),
        ("15 de enero de 2024", date(2024, 1, 15)),
        ("15 de Enero del 2024", date(2024, 1, 15)),
        ("1º de marzo de 2023", date(2023, 3, 1)),
        ("15 ene 2024", date(2024, 1, 15)),
        ("15-ene-24", date(2024, 1, 15)),
        ("3 sept. 2022", date(2022, 9, 3)),
        ("3 setiembre 2022", date(2022, 9, 3)),
        ("28 FEBRERO 2021", date(2021, 2, 28)),
        ("Madrid, a 7 de diciembre de 2023", date(2023, 12, 7)),
        ("15 Jan 2024", date(2024, 1, 15)),
        ("Fecha: 01/02/99", date(1999, 2, 1)),
    ],
)
def test_parse_date_reads_every_spanish_spelling(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    ["31/02/2024", "15/13/2024", "Tel. 91 941 78 90", "Hemoglobina 12.5 g/dL", "durante 7 días", "", "lote 4521A"],
)
def test_parse_date_finds_nothing_where_there_is_no_date(text):
    assert parse_date(text) is None


def test_document_date_prefers_the_fecha_line_over_birth_and_next_dose_dates():
    text = "Fecha de nacimiento: 02/03/2019\nPróxima vacunación: 15/01/2025\nFecha: 15/01/2024\n"
    assert document_date(text) == date(2024, 1, 15)


def test_document_date_falls_back_to_the_first_unlabelled_date():
    assert document_date("Madrid, 3 de mayo de 2022\nRevacunación: 03/05/2023") == date(2022, 5, 3)


# --- document type --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("INFORME RADIOLÓGICO\nEstudio: Rx de tórax, proyección lateral", "radiografia"),
        ("RADIOGRAFIA DE CADERA\nProyeccion ventrodorsal", "radiografia"),
        ("HEMOGRAMA\nHemoglobina 12.5 g/dL", "analisis"),
        ("Resultados de laboratorio\nBioquímica sanguínea", "analisis"),
        ("RECETA VETERINARIA\nPosología: 1 comprimido cada 12 horas", "receta"),
        ("Prescripción: meloxicam", "receta"),
        ("CARTILLA DE VACUNACIÓN\nVacuna: rabia", "vacunacion"),
        ("HISTORIA CLINICA\nAnamnesis: vómitos", "historial"),
        ("Presupuesto de peluquería canina", "otro"),
        ("", "otro"),
    ],
)
def test_classify_by_keywords(text, kind):
    assert classify(text) == kind


def test_the_title_outweighs_a_passing_mention():
    text = "HISTORIA CLÍNICA\nAnamnesis: cojera\n\n\n\n\n\n\nPlan: análisis de sangre y radiografía si no mejora"
    assert classify(text) == "historial"


# --- labelled values ------------------------------------------------------------------------------

def test_several_labels_on_one_line_even_when_ocr_collapsed_the_spacing():
    for line in ("Paciente: Luna    Especie: Canino    Raza: Beagle", "Paciente: Luna Especie: Canino Raza: Beagle"):
        values = labelled_values(line)
        assert (values["patient"], values["species"], values["breed"]) == (["Luna"], ["Canino"], ["Beagle"])


def test_label_spellings_for_patient_owner_and_vet():
    text = (
        "Mascota: Rocky\nNombre del propietario: José Martínez Ruiz, DNI 12345678Z\n"
        "Médico veterinario: Dra. Ana Martín Vidal  Nº colegiado 2441"
    )
    fields = extract_fields(text)
    assert fields.patient_name == "Rocky"
    assert fields.owner_name == "José Martínez Ruiz"
    assert fields.vet_name == "Ana Martín Vidal"


@pytest.mark.parametrize("label", ["Propietario", "Propietaria", "Dueño", "Dueña", "Tutor", "Tutora", "DUENO"])
def test_owner_labels(label):
    assert extract_fields(f"Paciente: Kira\n{label}: Carmen Núñez Ortega").owner_name == "Carmen Núñez Ortega"


def test_vet_from_a_signature_without_a_label():
    fields = extract_fields("Conclusión: sin hallazgos.\n\nDr. Luis Herrera Campos\nColegiado 2441")
    assert fields.vet_name == "Luis Herrera Campos"


def test_colon_read_as_semicolon_still_labels():
    assert extract_fields("Paciente; Toby\nPropietario; Pablo Iglesias Soto").patient_name == "Toby"


@pytest.mark.parametrize(
    ("written", "species"),
    [("Perro", "canino"), ("CANINA", "canino"), ("Gato", "felino"), ("felina", "felino"), ("Hurón", "huron"),
     ("huron", "huron"), ("Conejo enano", "conejo"), ("Cobaya", "roedor"), ("Yegua", "equino"), ("Tiburón", None)],
)
def test_species_are_normalised(written, species):
    assert normalise_species(written) == species


def test_species_without_a_label_comes_from_the_text():
    assert extract_fields("Control de peso del perro Bruno").species == "canino"


# --- lab values -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Hemoglobina 12.5 g/dL (12-18)", LabValue("Hemoglobina", 12.5, "g/dL", "12-18")),
        ("Hematocrito: 37,2 %", LabValue("Hematocrito", 37.2, "%", None)),
        ("Glucosa ....... 95 mg/dL", LabValue("Glucosa", 95.0, "mg/dL", None)),
        ("Glucosa.......95 mg/dl", LabValue("Glucosa", 95.0, "mg/dL", None)),
        ("Creatinina 1,1 mg/dI 0,5 - 1,8", LabValue("Creatinina", 1.1, "mg/dL", "0,5-1,8")),
        ("Hemoglobína   12,5   g/dL   12,0-18,0", LabValue("Hemoglobina", 12.5, "g/dL", "12,0-18,0")),
        ("Proteinas totales 6.8 g/dL", LabValue("Proteínas totales", 6.8, "g/dL", None)),
        ("Leucocitos 10,5 x10^3/µL", LabValue("Leucocitos", 10.5, "x10^3/µL", None)),
        ("Leucocitos: 7,1 x1073/pL", LabValue("Leucocitos", 7.1, "x10^3/µL", None)),
        ("Eritrocitos 6,22 x10*6/uL 5,50-8,50", LabValue("Eritrocitos", 6.22, "x10^6/µL", "5,50-8,50")),
        ("Plaquetas 250.000 /µL", LabValue("Plaquetas", 250000.0, "/µL", None)),
        ("ALT (GPT) 45 U/L", LabValue("ALT", 45.0, "U/L", None)),
        ("Bilirrubina total < 0,1 mg/dL", LabValue("Bilirrubina total", 0.1, "mg/dL", None)),
        ("T4 total 2,4 µg/dL (1,0-4,0)", LabValue("T4 total", 2.4, "µg/dL", "1,0-4,0")),
        ("Lactato deshidrogenasa 210 U/L", LabValue("Lactato deshidrogenasa", 210.0, "U/L", None)),
        ("Potasio 4,1 mmol/L 3,5-5,8", LabValue("Potasio", 4.1, "mmol/L", "3,5-5,8")),
        # OCR noise: leader dots read as digits or letters, µ as p or up, the caret as 7 or ”
        ("Potasio ..........00655 6.0 mmol/L", LabValue("Potasio", 6.0, "mmol/L", None)),
        ("Hemoglobina . wee 17.2 g/dL", LabValue("Hemoglobina", 17.2, "g/dL", None)),
        ("Leucocitos ............ 9.7 x1073/upL", LabValue("Leucocitos", 9.7, "x10^3/µL", None)),
        ("Plaquetas ............. 371x107 3/uL", LabValue("Plaquetas", 371.0, "x10^3/µL", None)),
        ("EFITOCITOS |... 5.89 x10” 6/uL", LabValue("Eritrocitos", 5.89, "x10^6/µL", None)),
        ("Urea coocccccnnnnnnnnns 39 mg/dL", LabValue("Urea", 39.0, "mg/dL", None)),
        ("Leucocitos 13,6 x10%3/uL 6,0-17,0", LabValue("Leucocitos", 13.6, "x10^3/µL", "6,0-17,0")),
        ("Bilirrubina directa 0,1 mg/dL", LabValue("Bilirrubina directa", 0.1, "mg/dL", None)),
    ],
)
def test_lab_value_spellings(line, expected):
    found = parse_lab_line(line)
    assert (found.name, found.value, found.unit, found.reference) == (
        expected.name, expected.value, expected.unit, expected.reference)


@pytest.mark.parametrize(
    "line",
    ["Amoxicilina 250 mg", "Fecha: 15/01/2024", "Peso: 12,5 kg", "C/ Mayor 80, Madrid", "Nº colegiado 2441",
     "Exploración: temperatura 38,5 °C", "Posología: 1 comprimido cada 12 horas", "Vacuna: rabia, lote 4521A"],
)
def test_lines_that_are_not_lab_values(line):
    assert parse_lab_line(line) is None


@pytest.mark.parametrize(
    ("text", "number"),
    [("12.5", 12.5), ("12,5", 12.5), ("1.250,5", 1250.5), ("1.250.000", 1250000.0), ("0.125", 0.125), ("95", 95.0)],
)
def test_numbers_in_both_conventions(text, number):
    assert parse_number(text) == number


# --- whole documents ------------------------------------------------------------------------------

@pytest.mark.parametrize("noisy", [False, True], ids=["clean", "ocr-like"])
def test_every_field_of_generated_documents(noisy):
    documents = sample_documents(40)
    assert {doc.document_type for doc in documents} == set(TYPES)
    for doc in documents:
        fields = extract_fields(ocr_like(doc.text) if noisy else doc.text)
        read = plain if noisy else (lambda value: value)
        assert fields.document_type == doc.document_type, doc.text
        assert read(fields.patient_name) == read(doc.patient), doc.text
        assert fields.species == doc.species, doc.text
        assert read(fields.breed) == read(doc.breed), doc.text
        assert read(fields.owner_name) == read(doc.owner), doc.text
        assert read(fields.vet_name) == read(doc.vet), doc.text
        assert fields.date == doc.date, doc.text
        got = [(read(v.name), v.value, v.unit) for v in fields.lab_values]
        assert got == [(read(v.name), v.value, v.unit) for v in doc.lab_values], doc.text
