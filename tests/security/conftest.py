"""The hostile-input stack: the three services, the console and one worker, with the people and
records an attacker would aim at.

One stack for the package's read-mostly stories (the auth matrix, hostile uploads, formula cells):
uploads up to 60 MB, so a CSV of one 50 MB line reaches the parser instead of the size limit; its
own Redis database (7) so no other stack's worker takes its jobs. The fuzzer (test_schemathesis.py)
and the throttle test keep stacks of their own, because they change users at random or on purpose.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field

import pytest

from tests.conftest import Client, login
from tests.jobs_helpers import wait_for_status
from tests.security import hostile_files as hf
from tests.servers import Stack

MAX_UPLOAD_MB = 60
WORKER_PEAK_MEMORY_MB = 400  # the default; the bound every worker process is held to in test_uploads.py
ROLES = ("admin", "veterinario", "empleado", "cliente")


@pytest.fixture(scope="package")
def hostile_stack(work_dir, new_database_url, redis_url):
    name = f"hostile_{uuid.uuid4().hex[:6]}"
    stack = Stack(
        base_dir=work_dir / name, database_url=new_database_url(name), redis_url=redis_url.rsplit("/", 1)[0] + "/7",
        console=True,
        extra_env={"MAX_UPLOAD_MB": str(MAX_UPLOAD_MB), "WORKER_PEAK_MEMORY_MB": str(WORKER_PEAK_MEMORY_MB),
                   "JOB_MAX_ACTIVE_PER_USER": "50"},
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@dataclass
class World:
    """Who is on the stack and what each owns: the targets of the matrix and of the id guessing."""

    stack: Stack
    clients: dict[str, Client] = field(default_factory=dict)  # by role; "cliente" owns pet_a, "otro_cliente" pet_b
    users: dict[str, dict] = field(default_factory=dict)
    ids: dict[str, object] = field(default_factory=dict)


def _user(stack: Stack, admin: Client, role: str) -> tuple[Client, dict]:
    username, password = f"{role}-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    response = admin.post("auth", "/users/", json={"username": username, "password": password, "role": role})
    assert response.status_code == 201, response.text
    return Client(stack, login(stack, username, password)), response.json()


def _created(response) -> dict:
    assert response.status_code in (201, 202), response.text
    return response.json()


@pytest.fixture(scope="package")
def world(hostile_stack, tmp_path_factory) -> World:
    """An admin, a vet, a shop employee and two pet owners; owner A's pet with a filed document and a
    finished medical report; a store with an import and a report by the employee."""
    stack = hostile_stack
    admin = Client(stack, login(stack, "admin", stack.admin_password))
    world = World(stack=stack, clients={"admin": admin})
    world.users["admin"] = admin.get("auth", "/users/me").json()
    for role in ("veterinario", "empleado", "cliente"):
        world.clients[role], world.users[role] = _user(stack, admin, role)
    world.clients["otro_cliente"], world.users["otro_cliente"] = _user(stack, admin, "cliente")
    vet, clerk, owner_a = world.clients["veterinario"], world.clients["empleado"], world.clients["cliente"]

    for key, who in (("a", "cliente"), ("b", "otro_cliente")):
        owner = _created(vet.post("veterinaria", "/propietarios/", json={
            "full_name": f"Propietaria {key.upper()}", "user_id": world.users[who]["id"]}))
        pet = _created(vet.post("veterinaria", "/mascotas/", json={"name": f"Luna {key}", "species": "perro",
                                                                   "owner_id": owner["id"]}))
        world.ids[f"owner_{key}"], world.ids[f"pet_{key}"] = owner["id"], pet["id"]

    pdf = hf.pdf_pages(tmp_path_factory.mktemp("world") / "analitica.pdf", pages=1, text=True)
    accepted = _created(vet.post("veterinaria", "/historias-clinicas/", data={"mascota_id": world.ids["pet_a"]},
                                 files={"file": ("analitica.pdf", pdf.read_bytes(), "application/pdf")}))
    document_job = wait_for_status(vet, "veterinaria", accepted["status_url"], timeout=120)
    assert document_job["status"] == "completed", document_job
    world.ids["document_job"] = accepted["task_id"]
    world.ids["document_a"] = document_job["result"]["document_id"]

    pet_a = world.ids["pet_a"]
    report = _created(owner_a.post("veterinaria", f"/mascotas/{pet_a}/reportes/"))
    assert wait_for_status(owner_a, "veterinaria", f"/mascotas/{pet_a}/reportes/{report['task_id']}",
                           timeout=120)["status"] == "completed"
    world.ids["report_job_a"] = report["task_id"]

    store = _created(admin.post("petshop", "/tiendas/", json={"name": "Tienda Segura"}))
    world.ids["store"] = store["id"]
    imported = _created(clerk.post("petshop", "/upload-inventario/", data={"store_id": store["id"]}, files={
        "file": ("inventario.csv", b"SKU,Nombre,Stock,Precio\nSEC-1,Pienso,3,12.5\n", "text/csv")}))
    assert wait_for_status(clerk, "petshop", imported["status_url"])["status"] == "completed"
    world.ids["import_job"] = imported["task_id"]
    return world
