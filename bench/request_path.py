"""The cost of one request on a quiet stack: a status poll and an upload, one after another, beside a refused one.

bench/load.py measures what 50 clients see together; this measures what a single request costs
the service when nothing else runs, so a change to the request path (middleware, dependencies,
the server's event loop and HTTP parser) shows in its own figure. Starts a real stack on
127.0.0.1 (tests/servers.py: Redis, PostgreSQL by default or SQLite, the three services; no
Celery worker, so the uploads stay queued and nothing else competes for the cores), then times,
sequentially over one keep-alive connection:

- `GET /inventario/task/{id}` without a token (refused with 401 by the outer middleware before
  any route work: the floor of the server and the middleware),
- `GET /inventario/task/{id}` (token check, one job read: the poll every client repeats),
- `POST /upload-inventario/` of a 20-row CSV (token check, store read, quota count, file stored,
  job row committed, message published to Redis).

Printed: median and p99 of each, and each route's median over the floor's. Absolute times drift
with the machine's load (±30 %); compare runs by the ratios.

    .venv/bin/python bench/request_path.py                    # PostgreSQL, 1,000 of each
    .venv/bin/python bench/request_path.py --database sqlite --requests 300
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.bench_stack import bench_stack  # noqa: E402
from tests.conftest import Client, login  # noqa: E402
from tests.servers import Stack  # noqa: E402

HEADER = "Código;Descripción;Existencias;PVP;Stock mínimo;Categoría;Proveedor\n"
ROWS = "".join(f"R{row:04d};Pienso {row};{row % 40};{1 + row % 90},95;2;Alimentación;Mascotas SL\n" for row in range(20))


def timed(send, count: int, gap: float) -> list[float]:
    """Milliseconds of each of `count` calls of `send`, after 20 calls to warm up, `gap` seconds apart."""
    for _ in range(20):
        send()
    times = []
    for _ in range(count):
        if gap:
            time.sleep(gap)
        started = time.perf_counter()
        send()
        times.append((time.perf_counter() - started) * 1000)
    return times


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def measure(stack: Stack, count: int, gap: float) -> dict[str, list[float]]:
    token = login(stack, "admin", stack.admin_password)
    store = Client(stack, token).post("petshop", "/tiendas/", json={"name": "Tienda de medida", "address": "Calle Mayor 1"}).json()
    headers = {"Authorization": f"Bearer {token}"}
    files = {"file": ("inventario.csv", (HEADER + ROWS).encode(), "text/csv")}
    with httpx.Client(base_url=stack.url("petshop"), headers=headers, timeout=30) as http:
        accepted = http.post("/upload-inventario/", files=files, data={"store_id": str(store["id"])})
        assert accepted.status_code == 202, accepted.text
        job_path = f"/inventario/task/{accepted.json()['task_id']}"

        def refused() -> None:
            assert http.get(job_path, headers={"Authorization": ""}).status_code == 401

        def status() -> None:
            assert http.get(job_path).status_code == 200

        def upload() -> None:
            response = http.post("/upload-inventario/", files=files, data={"store_id": str(store["id"])})
            assert response.status_code == 202, response.text

        return {"refused (401)": timed(refused, count, gap), "GET status": timed(status, count, gap),
                "POST upload": timed(upload, count, gap)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--requests", type=int, default=1000, help="of each kind, after 20 to warm up")
    parser.add_argument("--gap", type=float, default=0.0,
                        help="seconds of idle before each timed request (a poll every 0.25 s finds the stack idle)")
    args = parser.parse_args()

    # the uploads stay queued: no worker competes for the cores, and no quota stops them
    with bench_stack("request-path", args.database, workers=0,
                     extra_env={"JOB_MAX_ACTIVE_PER_USER": str(args.requests + 100)}) as (stack, _, _):
        results = measure(stack, args.requests, args.gap)

    floor = statistics.median(results["refused (401)"])
    print(f"\n{args.requests} sequential requests of each, {args.gap:g} s apart, one keep-alive connection,"
          f" {args.database}, no worker")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:13}  median {median:6.2f} ms  p99 {p99(values):6.2f} ms  {median / floor:5.2f}× the floor")


if __name__ == "__main__":
    main()
