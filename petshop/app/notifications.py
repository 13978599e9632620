"""How the shop's jobs read in a notification (common/notify): one sentence and a console page per kind."""

from __future__ import annotations

from common.notify.messages import JobFacts, Summarize, Summary, number, plural


def import_summary(job: JobFacts) -> Summary:
    result = job.result or {}
    dry_run = bool(result.get("dry_run") or job.params.get("dry_run"))
    label = "Tu prueba de importación de inventario" if dry_run else "Tu importación de inventario"
    details = []
    if result:
        details.append(f"Nuevos: {number(result.get('created', 0))} · actualizados: {number(result.get('updated', 0))} · "
                       f"sin cambios: {number(result.get('unchanged', 0))}.")
        if result.get("errors_csv_url"):
            details.append("Las filas con errores se pueden descargar en la consola (errores.csv).")
    return Summary(
        label=label,
        headline=f"{plural(result.get('total_processed', 0), 'fila', 'filas')}, "
                 f"{number(result.get('failed_updates', 0))} con errores",
        details=tuple(details),
        path=f"/tienda/importar/{job.id}",
    )


def price_summary(job: JobFacts) -> Summary:
    result = job.result or {}
    return Summary(
        label="Tu cambio de precios",
        headline=f"{plural(result.get('changed', 0), 'precio cambiado', 'precios cambiados')}, "
                 f"{number(result.get('failed_updates', 0))} con errores",
    )


def report_summary(job: JobFacts) -> Summary:
    result = job.result or {}
    title = result.get("title") or "el informe"
    return Summary(
        label="Tu informe de inventario",
        headline=f"«{title}» está listo ({plural(result.get('rows_total', 0), 'fila', 'filas')})",
        details=("Descárgalo en CSV o Excel desde la consola.",),
    )


SUMMARIES: dict[str, Summarize] = {
    "inventory_import": import_summary,
    "price_update": price_summary,
    "inventory_report": report_summary,
}
