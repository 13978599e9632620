"""A pet's consolidated medical report as a PDF: who, consultations, documents, lab values, weight."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from fpdf import FPDF

from common.db import utcnow
from veterinaria.app.documents.read.fields import type_label
from veterinaria.app.models import Consultation, Document, LabValue, Pet

EXCERPT_CHARS = 300
LAB_DATES = 6
AMBIGUOUS_MARK = "(?)"
_TYPOGRAPHY = str.maketrans({"—": "-", "–": "-", "“": '"', "”": '"', "‘": "'", "’": "'", "…": "...", "•": "-", "\u00a0": " "})


def draw_report(
    *, pet: Pet, consultations: list[Consultation], documents: list[Document], lab_values: list[LabValue],
    weights: list[tuple[date, float]],
) -> ReportPdf:
    """The report's pages, in the order a vet reads them; `weights` are (day, kg) in date order."""
    pdf = ReportPdf(title=f"Informe clínico - {pet.name}")
    pdf.add_page()
    _pet_section(pdf, pet)
    if not (consultations or documents or lab_values):
        pdf.paragraph("Sin registros clínicos todavía: no hay consultas, documentos ni análisis de esta mascota.")
    _consultations_section(pdf, consultations)
    _documents_section(pdf, documents)
    _lab_section(pdf, lab_values)
    _weight_section(pdf, weights)
    return pdf


class ReportPdf(FPDF):
    """Core fonts (no font files to ship); text is made Latin-1 safe, which covers Spanish."""

    def __init__(self, *, title: str):
        super().__init__(format="A4")
        self.report_title = title
        self.set_auto_page_break(auto=True, margin=15)
        self.set_title(safe(title))

    def header(self) -> None:
        self.set_font("Helvetica", "B", 14)
        self.cell(0, 9, safe(self.report_title), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 8)
        self.cell(0, 5, safe(f"Timón Pet Store - generado el {utcnow():%d/%m/%Y %H:%M} UTC"), new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "", 8)
        self.cell(0, 5, f"{self.page_no()}/{{nb}}", align="C")

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font("Helvetica", "B", 12)
        self.cell(0, 7, safe(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 10)

    def paragraph(self, text: str, size: int = 10) -> None:
        self.set_font("Helvetica", "", size)
        self.multi_cell(0, 5, safe(text), new_x="LMARGIN", new_y="NEXT")


def safe(text: Any) -> str:
    return str(text).translate(_TYPOGRAPHY).encode("latin-1", "replace").decode("latin-1")


def _day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "sin fecha"


def _pet_section(pdf: ReportPdf, pet: Pet) -> None:
    pdf.heading("Paciente")
    facts = [
        ("Nombre", pet.name), ("Especie", pet.species), ("Raza", pet.breed or "-"), ("Sexo", pet.sex or "-"),
        ("Nacimiento", _day(pet.birth_date) if pet.birth_date else "-"),
        ("Propietario", pet.owner.full_name), ("Contacto", " / ".join(x for x in (pet.owner.phone, pet.owner.email or "") if x) or "-"),
    ]
    for label, value in facts:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(35, 6, safe(label))
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(0, 6, safe(value), new_x="LMARGIN", new_y="NEXT")


def _consultations_section(pdf: ReportPdf, consultations: list[Consultation]) -> None:
    pdf.heading(f"Consultas ({len(consultations)})")
    if not consultations:
        pdf.paragraph("Ninguna consulta registrada.")
    for consultation in consultations:
        weight = f" - {consultation.weight_kg} kg" if consultation.weight_kg is not None else ""
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(0, 5, safe(f"{_day(consultation.date.date())} - {consultation.vet_name}{weight}"), new_x="LMARGIN", new_y="NEXT")
        pdf.paragraph(f"Motivo: {consultation.reason}")
        if consultation.diagnosis:
            pdf.paragraph(f"Diagnóstico: {consultation.diagnosis}")
        if consultation.treatment:
            pdf.paragraph(f"Tratamiento: {consultation.treatment}")
        pdf.ln(1)


def _documents_section(pdf: ReportPdf, documents: list[Document]) -> None:
    pdf.heading(f"Documentos ({len(documents)})")
    if not documents:
        pdf.paragraph("Ningún documento archivado.")
    for document in documents:
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(0, 5, safe(f"{_day(document.document_date)} - {type_label(document.document_type)} - {document.file_name or 'documento'}"),
                       new_x="LMARGIN", new_y="NEXT")
        excerpt = " ".join(document.extracted_text.split())[:EXCERPT_CHARS]
        pdf.paragraph(excerpt + ("..." if len(document.extracted_text) > EXCERPT_CHARS else ""), size=9)
        pdf.ln(1)


def _lab_section(pdf: ReportPdf, lab_values: list[LabValue]) -> None:
    pdf.heading("Análisis: valores en el tiempo")
    if not lab_values:
        pdf.paragraph("Ningún valor de laboratorio registrado.")
        return
    dates = sorted({v.measured_on for v in lab_values}, key=lambda d: (d is None, d))[-LAB_DATES:]
    table: dict[str, dict[date | None, str]] = defaultdict(dict)
    for value in lab_values:
        if value.measured_on in dates:
            table[value.name][value.measured_on] = lab_cell(value)
    name_width = 50
    column = (pdf.w - pdf.l_margin - pdf.r_margin - name_width) / max(len(dates), 1)
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(name_width, 6, "Parámetro", border=1)
    for day in dates:
        pdf.cell(column, 6, safe(_day(day)), border=1, align="C")
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for name in sorted(table):
        pdf.cell(name_width, 6, safe(name[:30]), border=1)
        for day in dates:
            pdf.cell(column, 6, safe(table[name].get(day, "")), border=1, align="C")
        pdf.ln()
    if any(value.ambiguous for value in lab_values):
        pdf.paragraph(f"{AMBIGUOUS_MARK} Número copiado tal como lo imprimió el laboratorio: no se puede saber si "
                      "el punto o la coma separa miles o decimales. Compruébalo en el documento original.", size=8)


def lab_cell(value: LabValue) -> str:
    """A lab value for the report: "9400 /µL", "310 000 /µL", "9,4 x10^3/µL"; an ambiguous one as printed, marked."""
    if value.ambiguous or value.value is None:
        return f"{value.raw_value} {value.unit} {AMBIGUOUS_MARK}".strip()
    return f"{spanish_number(value.value)} {value.unit}".strip()


def spanish_number(number: float) -> str:
    """Decimal comma; digits grouped by a space from five digits on (the RAE's and SI's rule, unambiguous)."""
    whole, _, fraction = f"{number:.6f}".rstrip("0").rstrip(".").partition(".")
    sign, whole = ("-", whole[1:]) if whole.startswith("-") else ("", whole)
    if len(whole) > 4:
        whole = f"{int(whole):,}".replace(",", " ")
    return sign + whole + ("," + fraction if fraction else "")


def _weight_section(pdf: ReportPdf, weights: list[tuple[date, float]]) -> None:
    pdf.heading("Peso")
    if len(weights) < 2:
        pdf.paragraph("Hacen falta al menos dos pesajes para la gráfica." if not weights else f"Un pesaje: {weights[0][1]:g} kg el {_day(weights[0][0])}.")
        return
    if pdf.get_y() > pdf.h - 80:
        pdf.add_page()
    left, top, width, height = pdf.l_margin + 12, pdf.get_y() + 2, pdf.w - pdf.l_margin - pdf.r_margin - 16, 55
    low, high = min(kg for _, kg in weights), max(kg for _, kg in weights)
    span = (high - low) or 1.0
    first, last = weights[0][0].toordinal(), weights[-1][0].toordinal()
    days = (last - first) or 1

    def point(day: date, kg: float) -> tuple[float, float]:
        return left + width * (day.toordinal() - first) / days, top + height - height * (kg - low) / span

    pdf.set_draw_color(160, 160, 160)
    pdf.rect(left, top, width, height)
    pdf.set_font("Helvetica", "", 7)
    for kg in (low, high):
        pdf.text(pdf.l_margin, point(weights[0][0], kg)[1] + 1, f"{kg:g} kg")
    pdf.set_draw_color(30, 90, 160)
    pdf.set_line_width(0.6)
    points = [point(day, kg) for day, kg in weights]
    for start, end in zip(points, points[1:]):
        pdf.line(*start, *end)
    for x, y in points:
        pdf.circle(x, y, 1.2, style="F")
    pdf.text(left, top + height + 4, safe(_day(weights[0][0])))
    pdf.text(left + width - 14, top + height + 4, safe(_day(weights[-1][0])))
    pdf.set_y(top + height + 8)
