"""How the clinic's jobs read in a notification (common/notify): one sentence and a console page per kind."""

from __future__ import annotations

from common.notify.messages import JobFacts, Summarize, Summary, plural


def document_summary(job: JobFacts) -> Summary:
    result = job.result or {}
    kind = result.get("document_type_label") or result.get("document_type") or "documento"
    pet = result.get("mascota_id") or job.params.get("mascota_id") or job.params.get("pet_id")
    headline = f"{kind}" + (f", de la mascota n.º {pet}" if pet else ", sin mascota asignada")
    details = []
    if result.get("duplicate"):
        details.append("Ese archivo ya se había leído antes: se reutilizó la lectura anterior.")
    if result.get("confidence") is not None:
        details.append(f"Confianza de la lectura: {round(float(result['confidence']) * 100)} %.")
    return Summary(label="La lectura de tu documento clínico", headline=headline, details=tuple(details),
                   path=f"/mascotas/{pet}" if pet else "/mascotas")


def report_summary(job: JobFacts) -> Summary:
    result = job.result or {}
    pet = result.get("mascota_id") or job.params.get("pet_id")
    name = result.get("pet_name") or "la mascota"
    return Summary(
        label="Tu informe médico",
        headline=f"el PDF de {name} está listo ({plural(result.get('pages', 0), 'página', 'páginas')})",
        path=f"/mascotas/{pet}" if pet else "/mascotas",
    )


SUMMARIES: dict[str, Summarize] = {
    "medical_document": document_summary,
    "medical_report": report_summary,
}
