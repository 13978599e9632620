"""The console's clinic pages with 10,000 documents: each page's time against the API calls it makes.

Ours: a console page (GET through the console, which calls veterinaria over HTTP and renders the
template). Baseline: the same API calls made directly, one after the other, with the same token:
what the page cannot avoid. The ratio is the console's own cost; the absolute median is printed
against the issue's 100 ms budget per page. The documents (with their search entries and lab
values) are written straight into the stack's database, as reading 10,000 files would take hours;
one pet holds 150 of them and 150 consultations: its timeline is 12 pages of 25 (the first and a later one timed).

    .venv/bin/python bench/console_clinic_pages.py                  # 10,000 documents
    .venv/bin/python bench/console_clinic_pages.py --documents 2000 --repeat 10

Machines here are shared and noisy: read the ratio, not the absolute milliseconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, insert  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.console_pages import BUDGET_MS, console_session, median_ms  # noqa: E402
from tests.conftest import Client, login  # noqa: E402
from tests.servers import RedisServer, Stack  # noqa: E402
from veterinaria.app.models import Consultation, Document, LabValue, SearchEntry  # noqa: E402
from veterinaria.app.search import search_text  # noqa: E402

FEATURED = 150  # documents and consultations of the pet whose page is timed
LABS = ("Hemoglobina", "Glucosa", "Creatinina", "ALT", "Leucocitos")


def _text(n: int, pet_name: str) -> str:
    return (f"CLÍNICA VETERINARIA TIMÓN\nANÁLISIS DE SANGRE\nPaciente: {pet_name}\nFecha: {n % 28 + 1:02d}/01/2024\n"
            f"Veterinario: Dra. Ana Martín\nHemoglobina {12 + n % 5}.5 g/dL (12-18)\nGlucosa {80 + n % 40} mg/dL (70-110)\n"
            + ("Leishmaniosis: negativo.\n" if n % 100 == 0 else "Revisión anual sin incidencias.\n"))


def fill(database_url: str, *, pets: list[dict], documents: int, vet_id: int) -> None:
    """`documents` processed documents spread over `pets` (FEATURED on the first), with entries and lab values."""
    engine = create_engine(database_url)
    start = dt.date(2015, 1, 1)
    featured = pets[0]
    consultations, rows, entries, labs = [], [], [], []
    for n in range(FEATURED):
        consultations.append({"pet_id": featured["id"], "reason": "Revisión", "weight_kg": 20 + n % 7, "vet_id": vet_id,
                              "vet_name": "vet", "date": dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=7 * n),
                              "diagnosis": "", "treatment": "", "created_at": dt.datetime.now(dt.UTC)})
    for n in range(documents):
        document_id = n + 1  # the table is empty: ids are given so the three tables go in as three bulk inserts
        pet = featured if n < FEATURED else pets[1 + n % (len(pets) - 1)]
        day = start + dt.timedelta(days=n % 3000)
        text = _text(n, pet["name"])
        rows.append({
            "id": document_id, "pet_id": pet["id"], "file_key": f"documents/bench/{n}.pdf", "file_name": f"analitica-{n}.pdf",
            "file_kind": "pdf", "size": 1000, "sha256": hashlib.sha256(str(n).encode()).hexdigest(),
            "document_type": "analisis", "document_date": day, "pages": 1,
            "page_texts": [{"number": 1, "text": text, "confidence": 1.0}], "extracted_text": text,
            "fields": {"patient_name": pet["name"], "date": day.isoformat(), "lab_values": []}, "confidence": 1.0,
            "processing_time": 0.1, "status": "processed", "uploaded_by": vet_id, "created_at": dt.datetime.now(dt.UTC),
        })
        entries.append({"kind": "document", "ref_id": document_id, "pet_id": pet["id"],
                        "body": search_text(f"analitica-{n}.pdf\nanalisis\n{text}")})
        labs += [{"document_id": document_id, "pet_id": pet["id"], "name": name, "value": 10 + n % 9,
                  "raw_value": str(10 + n % 9), "ambiguous": False, "unit": "g/dL", "reference": "",
                  "measured_on": day} for name in LABS]
    with Session(engine) as session:
        for model, values in ((Consultation, consultations), (Document, rows), (SearchEntry, entries), (LabValue, labs)):
            session.execute(insert(model), values)
        session.commit()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--pets", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="timon-bench-") as tmp:
        base = Path(tmp)
        redis_server = RedisServer(base / "redis", base / "logs").start()
        database_url = f"sqlite:///{base / 'bench.db'}"
        stack = Stack(base_dir=base / "stack", database_url=database_url, redis_url=redis_server.url, console=True)
        try:
            stack.start(workers=0)
            admin = Client(stack, login(stack, "admin", stack.admin_password))
            owner = admin.post("veterinaria", "/propietarios/", json={"full_name": "Marta Núñez"}).json()
            pets = [admin.post("veterinaria", "/mascotas/", json={"name": f"Mascota {n}", "species": "perro",
                                                                  "owner_id": owner["id"]}).json() for n in range(args.pets)]
            started = time.perf_counter()
            fill(database_url, pets=pets, documents=args.documents, vet_id=1)
            print(f"clinic: {args.pets} pets, {args.documents} documents ({FEATURED} on one pet, "
                  f"{len(LABS)} lab values each) written in {time.perf_counter() - started:.1f} s")
            pet_id = pets[0]["id"]
            document_id = admin.get("veterinaria", f"/mascotas/{pet_id}/documentos/", params={"limit": 1}).json()[0]["id"]
            browser = console_session(stack, stack.admin_password)
            pages = [
                # the first page: the newest 25 of each, the latest 100 weights, the lab series, the reports
                ("mascota (historia)", f"/mascotas/{pet_id}",
                 [("veterinaria", f"/mascotas/{pet_id}/historia", {"items": 25}),
                  ("veterinaria", f"/mascotas/{pet_id}/consultas/", {"limit": 100, "offset": FEATURED - 100}),
                  ("veterinaria", f"/mascotas/{pet_id}/analiticas/", {}),
                  ("veterinaria", f"/mascotas/{pet_id}/reportes/", {"limit": 10})]),
                # «Ver más antiguos» four times: 100 of each already shown
                ("mascota, más antiguos", f"/mascotas/{pet_id}?consultas=100&documentos=100",
                 [("veterinaria", f"/mascotas/{pet_id}/historia", {"items": 0}),
                  ("veterinaria", f"/mascotas/{pet_id}/consultas/", {"limit": 25, "offset": FEATURED - 125}),
                  ("veterinaria", f"/mascotas/{pet_id}/documentos/", {"limit": 25, "offset": FEATURED - 125}),
                  ("veterinaria", f"/mascotas/{pet_id}/analiticas/", {})]),
                ("documento", f"/documentos/{document_id}",
                 [("veterinaria", f"/documentos/{document_id}", {}), ("veterinaria", f"/mascotas/{pet_id}", {})]),
                ("buscar, palabra común", "/buscar?q=revision+anual",
                 [("veterinaria", "/historias-clinicas/buscar", {"q": "revision anual", "limit": 21})]),
                ("buscar, palabra rara", "/buscar?q=leishmaniosis",
                 [("veterinaria", "/historias-clinicas/buscar", {"q": "leishmaniosis", "limit": 21})]),
                ("mascotas, búsqueda", "/mascotas?q=mascota+99",
                 [("veterinaria", "/mascotas/", {"q": "mascota 99", "limit": 26})]),
                ("subir documentos", "/documentos/subir", []),
            ]
            api_client = httpx.Client(headers=admin.headers, timeout=60)

            def direct(calls):
                for service, api_path, params in calls:
                    assert api_client.get(f"{stack.url(service)}{api_path}", params=params).status_code == 200

            print(f"\n{'page':<26} {'console ms':>11} {'API ms':>8} {'ratio':>6}  budget {BUDGET_MS} ms")
            worst = 0.0
            for name, path, calls in pages:
                assert browser.get(path).status_code == 200, path
                ours = median_ms(lambda p=path: browser.get(p), args.repeat)
                api = median_ms(lambda c=calls: direct(c), args.repeat) if calls else 0.0
                worst = max(worst, ours)
                ratio = f"{ours / api:>6.2f}" if api else f"{'—':>6}"
                print(f"{name:<26} {ours:>11.1f} {api:>8.1f} {ratio}  {'ok' if ours < BUDGET_MS else 'OVER'}")
            print(f"\nslowest page: {worst:.1f} ms ({'within' if worst < BUDGET_MS else 'over'} the {BUDGET_MS} ms budget)")
        finally:
            stack.stop()
            redis_server.stop()


if __name__ == "__main__":
    main()
