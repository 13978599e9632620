"""Spanish veterinary documents with their ground truth, for the OCR tests and benchmarks.

`sample_documents(n)` yields reproducible documents of every type (analysis, X-ray report,
prescription, vaccination card, clinical history); each knows the lines it prints and the
fields a reader should get back from it. `pages.py` turns them into images and files.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

PATIENTS = ["Luna", "Rocky", "Nala", "Toby", "Kira", "Simba", "Coco", "Lola", "Bruno", "Canela",
            "Thor", "Mía", "Chispa", "Pelusa", "Zeus", "Greta", "Ónix", "Brisa", "Trufa", "Lúa"]
SPECIES = {  # printed word -> normalised species, breeds
    "Canino": ("canino", ["Labrador retriever", "Pastor alemán", "Beagle", "Mestizo", "Yorkshire terrier"]),
    "Perro": ("canino", ["Bulldog francés", "Golden retriever", "Podenco", "Caniche"]),
    "Felino": ("felino", ["Europeo común", "Siamés", "Persa", "Maine coon"]),
    "Gato": ("felino", ["Común europeo", "Bengalí", "Sphynx"]),
    "Conejo": ("conejo", ["Belier", "Cabeza de león"]),
    "Hurón": ("huron", ["Angora"]),
}
OWNERS = ["María García López", "José Martínez Ruiz", "Lucía Fernández Gil", "Antonio Sánchez Peña",
          "Carmen Núñez Ortega", "Javier Romero Díaz", "Elena Muñoz Castro", "Pablo Iglesias Soto"]
VETS = {"Ana Martín Vidal": "Dra.", "Luis Herrera Campos": "Dr.", "Sofía Ramírez León": "Dra.",
        "Diego Torres Ibáñez": "Dr."}  # name -> title
CLINICS = ["San Francisco", "Los Álamos", "Timón", "Huellas", "El Parque"]
MONTHS = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
          "octubre", "noviembre", "diciembre"]

#: (name, unit, low, high, decimals) of the analytes a lab sheet prints
ANALYTES = [
    ("Hemoglobina", "g/dL", 12, 18, 1),
    ("Hematocrito", "%", 37, 55, 1),
    ("Eritrocitos", "x10^6/µL", 5.5, 8.5, 2),
    ("Leucocitos", "x10^3/µL", 6, 17, 1),
    ("Plaquetas", "x10^3/µL", 200, 500, 0),
    ("Glucosa", "mg/dL", 70, 120, 0),
    ("Urea", "mg/dL", 20, 50, 0),
    ("Creatinina", "mg/dL", 0.5, 1.8, 2),
    ("ALT", "U/L", 10, 100, 0),
    ("Fosfatasa alcalina", "U/L", 20, 150, 0),
    ("Proteínas totales", "g/dL", 5.5, 7.5, 1),
    ("Albúmina", "g/dL", 2.6, 4.0, 1),
    ("Colesterol", "mg/dL", 110, 320, 0),
    ("Potasio", "mmol/L", 3.5, 5.8, 1),
]


@dataclass(frozen=True)
class LabTruth:
    name: str
    value: float
    unit: str


@dataclass
class SampleDocument:
    """A document's printed lines and the fields that can be read back from them."""

    document_type: str
    patient: str
    species: str  # normalised
    breed: str
    owner: str
    vet: str
    date: date
    lines: list[str]
    lab_values: list[LabTruth] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def spell_date(day: date, rng: random.Random) -> str:
    """The document date in one of the spellings Spanish clinics use."""
    style = rng.randrange(6)
    if style == 0:
        return day.strftime("%d/%m/%Y")
    if style == 1:
        return day.strftime("%d-%m-%y")
    if style == 2:
        return day.strftime("%d.%m.%Y")
    if style == 3:
        return day.isoformat()
    if style == 4:
        return f"{day.day} de {MONTHS[day.month - 1]} de {day.year}"
    return f"{day.day} {MONTHS[day.month - 1][:3]} {day.year}"


def _titled(doc: dict) -> str:
    return f"{VETS[doc['vet']]} {doc['vet']}"


def _number(value: float, decimals: int, comma: bool) -> str:
    text = f"{value:.{decimals}f}"
    return text.replace(".", ",") if comma else text


def _lab_line(name: str, value: float, unit: str, low: float, high: float, decimals: int, style: int) -> str:
    shown = _number(value, decimals, comma=style % 2 == 1)
    reference = f"{_number(low, decimals, style % 2 == 1)}-{_number(high, decimals, style % 2 == 1)}"
    if style == 0:
        return f"{name} {shown} {unit} ({reference})"
    if style == 1:
        return f"{name}: {shown} {unit}"
    if style == 2:
        return f"{name} {'.' * max(3, 22 - len(name))} {shown} {unit}"
    return f"{name}   {shown}   {unit}   {reference}"


def _header(doc_title: str, clinic: str, rng: random.Random) -> list[str]:
    kind = rng.choice(["CLÍNICA VETERINARIA", "HOSPITAL VETERINARIO", "CENTRO VETERINARIO"])
    phone = f"91 {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    return [f"{kind} {clinic.upper()}", f"C/ Mayor {rng.randint(1, 99)}, Madrid - Tel. {phone}", "", doc_title]


def _identity(doc: dict, rng: random.Random, printed_species: str) -> list[str]:
    when = f"Fecha: {spell_date(doc['date'], rng)}"
    if rng.random() < 0.5:
        return [when, f"Paciente: {doc['patient']}    Especie: {printed_species}    Raza: {doc['breed']}",
                f"Propietario: {doc['owner']}"]
    return [when, f"Nombre: {doc['patient']}", f"Especie: {printed_species}", f"Raza: {doc['breed']}",
            f"{rng.choice(['Propietario', 'Tutor', 'Dueño'])}: {doc['owner']}"]


def _analysis(doc: dict, rng: random.Random) -> tuple[list[str], list[LabTruth]]:
    lines = ["", "RESULTADOS DE LABORATORIO - HEMOGRAMA Y BIOQUÍMICA", ""]
    style = rng.randrange(4)
    truths = []
    for name, unit, low, high, decimals in rng.sample(ANALYTES, rng.randint(5, 8)):
        value = round(rng.uniform(low * 0.8, high * 1.2), decimals)
        lines.append(_lab_line(name, value, unit, low, high, decimals, style))
        truths.append(LabTruth(name, value, unit))
    lines += ["", "Valores fuera de rango marcados por el laboratorio.", f"Veterinario: {_titled(doc)}"]
    return lines, truths


def _xray(doc: dict, rng: random.Random) -> list[str]:
    region = rng.choice(["tórax", "abdomen", "cadera", "columna lumbar"])
    return ["", f"Estudio: radiografía de {region}, proyecciones lateral y ventrodorsal.",
            "Hallazgos: silueta cardíaca dentro de la normalidad, sin signos de efusión.",
            "Conclusión: sin hallazgos radiológicos significativos.", "",
            f"Firmado: {_titled(doc)}, médico veterinario"]


def _prescription(doc: dict, rng: random.Random) -> list[str]:
    drug = rng.choice(["Amoxicilina y ácido clavulánico 250 mg", "Meloxicam 1,5 mg/ml suspensión oral",
                       "Prednisolona 5 mg comprimidos", "Metronidazol 250 mg"])
    return ["", f"Prescripción: {drug}",
            f"Posología: 1 comprimido cada 12 horas durante {rng.randint(5, 14)} días.",
            "Administrar con comida. No interrumpir el tratamiento sin consultar.", "",
            f"Médico veterinario: {doc['vet']}  Nº colegiado {rng.randint(1000, 9999)}"]


def _vaccination(doc: dict, rng: random.Random) -> list[str]:
    vaccine = rng.choice(["Rabia (Rabisin)", "Polivalente canina (Nobivac DHPPi)", "Trivalente felina (Purevax)"])
    return ["", f"Vacuna administrada: {vaccine}, lote {rng.randint(1000, 9999)}A",
            "Desparasitación interna: sí", f"Próxima vacunación: dentro de {rng.choice([6, 12])} meses",
            "", f"Veterinario/a: {_titled(doc)}"]


def _history(doc: dict, rng: random.Random) -> list[str]:
    return ["", "Anamnesis: vómitos intermitentes desde hace tres días, apetito disminuido.",
            f"Exploración: temperatura {rng.randint(380, 395) / 10} °C, mucosas rosadas, dolor abdominal leve.",
            "Diagnóstico: gastroenteritis aguda.", "Tratamiento: dieta blanda y protector gástrico.", "",
            f"Veterinario: {_titled(doc)}"]


TITLES = {
    "analisis": "INFORME DE ANÁLISIS CLÍNICOS",
    "radiografia": "INFORME RADIOLÓGICO",
    "receta": "RECETA VETERINARIA",
    "vacunacion": "CARTILLA DE VACUNACIÓN",
    "historial": "HISTORIA CLÍNICA",
}
TYPES = list(TITLES)


def sample_document(index: int, seed: int = 11, document_type: str | None = None) -> SampleDocument:
    """The index-th reproducible document; its type cycles through every type unless given."""
    rng = random.Random(f"{seed}:{index}")
    document_type = document_type or TYPES[index % len(TYPES)]
    printed_species = rng.choice(list(SPECIES))
    species, breeds = SPECIES[printed_species]
    doc = {"patient": rng.choice(PATIENTS), "owner": rng.choice(OWNERS), "vet": rng.choice(list(VETS)),
           "breed": rng.choice(breeds), "date": date(rng.randint(2019, 2025), rng.randint(1, 12), rng.randint(1, 28))}
    lines = _header(TITLES[document_type], rng.choice(CLINICS), rng) + _identity(doc, rng, printed_species)
    truths: list[LabTruth] = []
    if document_type == "analisis":
        body, truths = _analysis(doc, rng)
    else:
        body = {"radiografia": _xray, "receta": _prescription, "vacunacion": _vaccination,
                "historial": _history}[document_type](doc, rng)
    return SampleDocument(document_type=document_type, species=species, lines=lines + body, lab_values=truths, **doc)


def sample_documents(n: int, seed: int = 11) -> list[SampleDocument]:
    return [sample_document(i, seed) for i in range(n)]
