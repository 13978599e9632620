"""What the outage stories share: a store to import into, inventory files, and looks at the records
(the store's stock, the files left in local storage, the messages waiting in Redis).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import redis

from tests.servers import RedisServer, Stack, wait_until


def new_store(admin) -> int:
    response = admin.post("petshop", "/tiendas/", json={"name": f"Tienda {secrets.token_hex(4)}"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def inventory_csv(rows: int) -> tuple[bytes, set[str]]:
    """A valid inventory file of `rows` products with fresh SKUs, and those SKUs."""
    prefix = secrets.token_hex(3).upper()
    skus = [f"{prefix}-{n:04d}" for n in range(rows)]
    lines = ["SKU;Nombre;Stock;Precio", *(f"{sku};Pienso {sku};{n + 1};{n + 1},50" for n, sku in enumerate(skus))]
    return ("\n".join(lines) + "\n").encode(), set(skus)


def upload_inventory(client, store_id: int, content: bytes) -> httpx.Response:
    return client.post("petshop", "/upload-inventario/", files={"file": ("inventario.csv", content)},
                       data={"store_id": str(store_id)})


def stock_skus(client, store_id: int) -> dict[str, int]:
    """Every SKU in the store's stock with its units, as the API lists them."""
    found: dict[str, int] = {}
    after = None
    while True:
        params = {"limit": 200, **({"after_sku": after} if after else {})}
        page = client.get("petshop", f"/tiendas/{store_id}/stock/", params=params)
        assert page.status_code == 200, page.text
        rows = page.json()
        found.update({row["product"]["sku"]: row["quantity"] for row in rows})
        if len(rows) < 200:
            return found
        after = rows[-1]["product"]["sku"]


def local_files(stack: Stack, prefix: str = "imports") -> list[Path]:
    """Files (temporary ones included) left under `prefix` of the stack's local storage folder."""
    base = Path(stack.env.get("STORAGE_DIR") or Path(stack.env["VAR_DIR"]) / "files") / prefix
    return sorted(path for path in base.rglob("*") if path.is_file()) if base.exists() else []


def queued_messages(server: RedisServer, queue: str = "petshop") -> int:
    """Messages waiting in `queue` (Celery's Redis transport keeps one list per priority)."""
    broker = redis.Redis(port=server.port)
    return sum(broker.llen(key) for key in broker.scan_iter(f"{queue}*") if broker.type(key) == b"list")


def restart_redis(server: RedisServer) -> None:
    """Start the stopped (or killed) server again on its port and data: it reloads its append-only file."""
    server.process.start()
    wait_until(lambda: redis.Redis(port=server.port).ping(), timeout=20, what="redis back")


def cut_the_jobs_next_statement(database_url: str, job_id: str, *, timeout: float = 60) -> str:
    """Terminate the connection of the next statement the system runs on this job (PostgreSQL); its SQL.

    The job's row is locked from outside, the statement that comes to wait for it is found and its
    connection terminated, as a database failover or a proxy restart does, and the lock let go
    (the server ends a backend waiting for a lock once that lock is released). The server itself
    stays reachable throughout.
    """
    import psycopg

    with psycopg.connect(database_url) as connection:
        connection.execute("SELECT id FROM jobs WHERE id = %s FOR UPDATE", (job_id,))
        # pg_stat_activity is read once per transaction unless its snapshot is cleared
        waiting = "FROM pg_stat_activity, pg_stat_clear_snapshot() WHERE %s = ANY(pg_blocking_pids(pid))"
        holder = (connection.info.backend_pid,)
        wait_until(lambda: connection.execute(f"SELECT count(*) {waiting}", holder).fetchone()[0], timeout=timeout,
                   what=f"a statement on job {job_id}")
        query = connection.execute(f"SELECT query, pg_terminate_backend(pid) {waiting}", holder).fetchone()[0]
        connection.rollback()
    return query
