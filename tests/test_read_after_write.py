"""A 2xx means committed: what a POST created can be read back at once, on every service.

Several clients write and read at the same time, each reading on its own connection, as two
browser tabs or two API processes would; before the commit ran ahead of the response, a few
reads in every hundred were 404 on PostgreSQL.
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

import httpx

CLIENTS = 4
TRIES_EACH = 25


def create_then_read(headers, create_url: str, body, read_url) -> list[int]:
    """Each client: POST, then at once GET what it created; the statuses of the reads that were not 200."""

    def one_client(_n: int) -> list[int]:
        with httpx.Client(headers=headers, timeout=30) as writer, httpx.Client(headers=headers, timeout=30) as reader:
            misses = []
            for _ in range(TRIES_EACH):
                created = writer.post(create_url, json=body())
                assert created.status_code == 201, created.text
                read = reader.get(read_url(created.json()["id"]))
                if read.status_code != 200:
                    misses.append(read.status_code)
            return misses

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [status for misses in pool.map(one_client, range(CLIENTS)) for status in misses]


def test_a_store_is_readable_as_soon_as_its_creation_is_answered(stack, admin):
    base = f"{stack.url('petshop')}/tiendas/"

    misses = create_then_read(admin.headers, base, lambda: {"name": f"Tienda {secrets.token_hex(3)}"}, lambda i: f"{base}{i}")

    assert misses == []


def test_a_user_is_readable_as_soon_as_its_creation_is_answered(stack, admin):
    base = f"{stack.url('auth')}/users/"

    def body():
        return {"username": f"rw-{secrets.token_hex(4)}", "password": "p" * 12, "role": "cliente"}

    assert create_then_read(admin.headers, base, body, lambda i: f"{base}{i}") == []


def test_a_pet_is_readable_as_soon_as_its_creation_is_answered(stack, admin):
    owner = admin.post("veterinaria", "/propietarios/", json={"full_name": "Ana Lectura"})
    assert owner.status_code == 201, owner.text
    base = f"{stack.url('veterinaria')}/mascotas/"

    def body():
        return {"name": f"Pet{secrets.token_hex(2)}", "species": "gato", "owner_id": owner.json()["id"]}

    assert create_then_read(admin.headers, base, body, lambda i: f"{base}{i}") == []
