"""Mascotas: vets search every pet (accent-insensitive, by the veterinaria API); a cliente sees only their own.

A pet's page is its history as one timeline (consultations, documents with their lab values,
newest first, 25 items a page) and charts of its weight and of each lab value over time (uPlot,
`pet-charts.js`, fed by a JSON block of the page: no inline script). Its medical report is generated,
followed and opened from here, and every finished report about it is listed (a cliente sees the
ones their vet made too).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from console.app.backend import Backend, BackendError
from console.app.rendering import render
from console.app.session import BackendDep, CsrfChecked, User, require_page

router = APIRouter()
PAGE_SIZE = 25
PetsUser = Annotated[User, Depends(require_page("mascotas"))]
PetId = Annotated[int, Path(ge=1, le=2**31 - 1)]
JobId = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{8,64}$")]
ACTIVE = {"queued", "processing", "retrying"}
TYPE_NAMES = {"radiografia": "Radiografía", "analisis": "Análisis", "historial": "Historial", "receta": "Receta",
              "vacunacion": "Vacunación", "otro": "Otro documento"}


@router.get("/mascotas")
def pets(
    request: Request, user: PetsUser, backend: BackendDep, q: Annotated[str, Query(max_length=100)] = "",
    pagina: Annotated[int, Query(ge=1, le=100_000)] = 1,
):
    q = q.strip()
    rows = backend.get("veterinaria", "/mascotas/", token=user.token,
                       params={"q": q, "limit": PAGE_SIZE + 1, "offset": (pagina - 1) * PAGE_SIZE})

    def page_url(page: int) -> str:
        return "/mascotas?" + urlencode({**({"q": q} if q else {}), "pagina": page})

    return render(
        request, "pets.html", user=user, pets=rows[:PAGE_SIZE], q=q, page=pagina,
        previous_url=page_url(pagina - 1) if pagina > 1 else None,
        next_url=page_url(pagina + 1) if len(rows) > PAGE_SIZE else None,
    )


def timeline(
    *, consultations: list[dict], documents: list[dict], series: list[dict], limit: int | None = None,
) -> list[dict[str, Any]]:
    """Consultations and documents (each with the lab values read from it) as one list, newest first.

    Both lists come oldest first, as the API gives them; they are merged keeping each one's own order,
    so the first `limit` items hold the newest of each kind and a page's cursor is two counts.
    """
    labs: dict[int, list[dict]] = {}
    for one in series:
        for point in one["points"]:
            labs.setdefault(point["document_id"], []).append(
                {"name": one["name"], "value": point["value"], "raw": point["raw"], "unit": one["unit"]}
                | ({"corrected": True} if point.get("corrected") else {}))
    visits = [{"kind": "consulta", "when": c["date"], "consultation": c} for c in reversed(consultations)]
    papers = [{"kind": "documento", "when": d["document_date"] or d["created_at"], "dated": bool(d["document_date"]),
               "document": d, "labs": labs.get(d["id"], [])} for d in reversed(documents)]
    items: list[dict[str, Any]] = []
    v = p = 0
    while (v < len(visits) or p < len(papers)) and (limit is None or len(items) < limit):
        if p == len(papers) or (v < len(visits) and visits[v]["when"][:10] >= papers[p]["when"][:10]):
            items.append(visits[v])
            v += 1
        else:
            items.append(papers[p])
            p += 1
    return items


def charts(*, consultations: list[dict], series: list[dict]) -> list[dict[str, Any]]:
    """What pet-charts.js draws: weight, then each lab value with a number on two dates or more... or one."""
    weight = [{"date": c["date"][:10], "value": float(c["weight_kg"])} for c in consultations if c.get("weight_kg")]
    found = []
    if weight:
        found.append({"id": "peso", "title": "Peso", "unit": "kg", "points": weight})
    for n, one in enumerate(series):
        points = [{"date": p["date"], "value": p["value"]} for p in one["points"] if p["date"] and p["value"] is not None]
        if points:
            found.append({"id": f"lab-{n}", "title": one["name"], "unit": one["unit"], "reference": one["reference"],
                          "points": points})
    return found


TIMELINE_PAGE = 25
CHART_WEIGHTS = 100
REPORTS_SHOWN = 10
Skip = Annotated[int, Query(ge=0, le=2**31 - 1)]


def _newest(backend: Backend, user: User, path: str, *, total: int, skip: int, count: int = TIMELINE_PAGE) -> list[dict]:
    """The `count` items after the newest `skip` of a list the API gives oldest first (oldest first too)."""
    end = total - skip
    if end <= 0:
        return []
    start = max(0, end - count)
    return backend.get("veterinaria", path, token=user.token, params={"limit": end - start, "offset": start})


@router.get("/mascotas/{pet_id}")
def pet(request: Request, user: PetsUser, backend: BackendDep, pet_id: PetId, consultas: Skip = 0, documentos: Skip = 0):
    """One pet; the API answers 404 for a pet that is not the cliente's, and so does this page.

    Its timeline comes a page at a time: `consultas` and `documentos` say how many of the newest of
    each the earlier pages showed, so a page reads 25 of each off the pet's index however long the history.
    """
    first = not consultas and not documentos
    history = backend.get("veterinaria", f"/mascotas/{pet_id}/historia", token=user.token,
                          params={"items": TIMELINE_PAGE if first else 0})
    totals = {"consultations": history["consultations_total"], "documents": history["documents_total"]}
    drawn: list[dict[str, Any]] = []
    if first:
        consultations, documents = history["consultations"], history["documents"]
        # the charts are on the first page only: the weights of the latest 100 consultations, every lab value
        weighed = consultations if totals["consultations"] <= TIMELINE_PAGE else _newest(
            backend, user, f"/mascotas/{pet_id}/consultas/", total=totals["consultations"], skip=0, count=CHART_WEIGHTS)
        series = backend.get("veterinaria", f"/mascotas/{pet_id}/analiticas/", token=user.token)
        drawn = charts(consultations=weighed, series=series)
        reports = backend.get("veterinaria", f"/mascotas/{pet_id}/reportes/", token=user.token, params={"limit": REPORTS_SHOWN})
    else:
        consultations = _newest(backend, user, f"/mascotas/{pet_id}/consultas/", total=totals["consultations"], skip=consultas)
        documents = _newest(backend, user, f"/mascotas/{pet_id}/documentos/", total=totals["documents"], skip=documentos)
        # the lab values beside each document on this page
        series, reports = backend.get("veterinaria", f"/mascotas/{pet_id}/analiticas/", token=user.token), []
    items = timeline(consultations=consultations, documents=documents, series=series, limit=TIMELINE_PAGE)
    shown = {"consultations": consultas + sum(i["kind"] == "consulta" for i in items),
             "documents": documentos + sum(i["kind"] == "documento" for i in items)}
    more = shown["consultations"] < totals["consultations"] or shown["documents"] < totals["documents"]
    return render(
        request, "pet.html", user=user, pet=history["pet"], notes=history["notes"], type_names=TYPE_NAMES,
        timeline=items, reports=reports, first_page=first, shown=shown, totals=totals, charts=drawn,
        more_url=(f"/mascotas/{pet_id}?" + urlencode({"consultas": shown["consultations"], "documentos": shown["documents"]})
                  + "#historia-titulo") if more else None,
    )


# --- the medical report ------------------------------------------------------------------------


@router.post("/mascotas/{pet_id}/informes", dependencies=[CsrfChecked])
def request_report(user: PetsUser, backend: BackendDep, pet_id: PetId):
    """Queue the pet's medical report; its page follows the job."""
    job = backend.request("veterinaria", "POST", f"/mascotas/{pet_id}/reportes/", token=user.token)
    return RedirectResponse(f"/mascotas/{pet_id}/informes/{job['task_id']}", status_code=303)


def _report_context(backend: Backend, user: User, pet_id: int, job_id: str) -> dict[str, Any]:
    found = backend.get("veterinaria", f"/mascotas/{pet_id}", token=user.token)
    job = backend.get("veterinaria", f"/mascotas/{pet_id}/reportes/{job_id}", token=user.token)
    return {"user": user, "pet": found, "job": job, "job_id": job_id, "active": job["status"] in ACTIVE}


@router.get("/mascotas/{pet_id}/informes/{job_id}")
def report_page(request: Request, user: PetsUser, backend: BackendDep, pet_id: PetId, job_id: JobId):
    return render(request, "medical_report.html", **_report_context(backend, user, pet_id, job_id))


@router.get("/mascotas/{pet_id}/informes/{job_id}/estado")
def report_status(request: Request, user: PetsUser, backend: BackendDep, pet_id: PetId, job_id: JobId):
    """The status block alone, for htmx's refresh (every second while the report is being made)."""
    return render(request, "_medical_report_status.html", **_report_context(backend, user, pet_id, job_id))


@router.get("/mascotas/{pet_id}/informes/{job_id}/pdf")
def report_pdf(user: PetsUser, backend: BackendDep, pet_id: PetId, job_id: JobId):
    """The finished report, passed through from the veterinaria API and opened in the browser."""
    upstream = backend.request("veterinaria", "GET", f"/mascotas/{pet_id}/reportes/{job_id}/pdf", token=user.token, raw=True)
    if not upstream.content.startswith(b"%PDF"):
        raise BackendError("El informe no se ha podido abrir. Genera uno nuevo.", status_code=404)
    return Response(upstream.content, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="informe-{pet_id}.pdf"'})
