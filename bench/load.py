"""Load held: many clients uploading small inventory files and clinical documents while they poll.

Starts a real stack on 127.0.0.1 only (tests/servers.py: Redis, PostgreSQL by default or SQLite
with --database sqlite, the three services, --workers Celery workers of two children each), then
runs --clients concurrent clients (aiohttp on uvloop, one user each) for --seconds. Each client loops:
upload (a --rows-row CSV into one of the stores, or a one-page text-layer PDF for a pet, one in
--document-every), then poll the job's status every --poll-interval s until it ends. Bounded in
count (each client has one job in flight) and in time (the run, then the drain).

Printed: accepted/s; p50/p99 of submit latency, of time to completion (client's submit to the
job's `finished_at`) and of a status poll; every status code seen, 5xx counted apart; and the
checks: every accepted job completed, and every row landed (stock rows and quantities, document
rows, counted in the database and compared with what was uploaded). Targets beside the figures:
submit p99 < 50 ms, status p50 < 5 ms, 0 lost, 0 × 5xx.

    .venv/bin/python bench/load.py                              # 50 clients, 60 s, PostgreSQL
    .venv/bin/python bench/load.py --database sqlite
    .venv/bin/python bench/load.py --clients 10 --seconds 15 --workers 2
    .venv/bin/python bench/load.py --think 5        # each client pauses ~5 s (exponential) between jobs

Without --think the clients upload back to back: a capacity test, whose latency is the queue of a
full machine. With it they behave like people, and the latency is the service's.

The load generator runs on the same machine as the stack (2 cores, usually shared): the figures
are what a loaded laptop does, not a server's capacity; absolute times drift with the load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import httpx  # noqa: E402
import psutil  # noqa: E402
import uvloop  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from bench.bench_stack import bench_stack  # noqa: E402
from tests.conftest import Client, login  # noqa: E402
from tests.servers import PostgresServer, Stack  # noqa: E402

HEADER = "Código;Descripción;Existencias;PVP;Stock mínimo;Categoría;Proveedor\n"
TARGETS = {"submit_p99_ms": 50.0, "status_p50_ms": 5.0}
#: the slowest submits listed with when they happened
SLOWEST = 6


class TransportError(Exception):
    """A request that got no HTTP answer (refused, reset, timed out), whichever client library sent it."""


class AiohttpClient:
    """The clients' HTTP: aiohttp, whose C parser costs the generator ~0.5 ms a request.

    httpx (what the console and the tests use) costs about 2 ms more a request in this process: a cold
    status poll timed 6.4 ms through httpx, 4.5 ms through aiohttp and 4.1 ms through a bare asyncio
    socket (back to back 4.6, 2.9 and 2.4 ms), same server, same run. In a load test that time is the instrument's, not the service's.
    """

    def __init__(self, clients: int) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=clients * 2), timeout=aiohttp.ClientTimeout(total=60))

    async def post_file(self, url: str, *, name: str, body: bytes, content_type: str, data: dict[str, str],
                        headers: dict[str, str]) -> tuple[int, dict]:
        form = aiohttp.FormData()
        for key, value in data.items():
            form.add_field(key, value)
        form.add_field("file", body, filename=name, content_type=content_type)
        return await self._send("POST", url, data=form, headers=headers)

    async def get(self, url: str, *, headers: dict[str, str]) -> tuple[int, dict]:
        return await self._send("GET", url, headers=headers)

    async def _send(self, method: str, url: str, **kwargs) -> tuple[int, dict]:
        try:
            async with self._session.request(method, url, **kwargs) as response:
                return response.status, _json_or_empty(await response.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransportError(type(exc).__name__) from exc

    async def close(self) -> None:
        await self._session.close()


class HttpxClient:
    """The same requests through httpx, to compare the instruments (--client httpx)."""

    def __init__(self, clients: int) -> None:
        limits = httpx.Limits(max_connections=clients * 2, max_keepalive_connections=clients * 2)
        self._client = httpx.AsyncClient(timeout=60, limits=limits)

    async def post_file(self, url: str, *, name: str, body: bytes, content_type: str, data: dict[str, str],
                        headers: dict[str, str]) -> tuple[int, dict]:
        return await self._send("POST", url, files={"file": (name, body, content_type)}, data=data, headers=headers)

    async def get(self, url: str, *, headers: dict[str, str]) -> tuple[int, dict]:
        return await self._send("GET", url, headers=headers)

    async def _send(self, method: str, url: str, **kwargs) -> tuple[int, dict]:
        try:
            response = await self._client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise TransportError(type(exc).__name__) from exc
        return response.status_code, _json_or_empty(response.content)

    async def close(self) -> None:
        await self._client.aclose()


CLIENTS = {"aiohttp": AiohttpClient, "httpx": HttpxClient}


def _json_or_empty(body: bytes) -> dict:
    """The answer's JSON object; {} for any other body (a proxy's HTML 502 is counted by its code, not a crash)."""
    try:
        answer = json.loads(body)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


@dataclass
class Tally:
    """What every client saw, merged (one event loop: no locks needed)."""

    submit_ms: list[float] = field(default_factory=list)
    submit_ms_by_kind: dict[str, list[float]] = field(default_factory=lambda: {"import": [], "document": []})
    status_ms: list[float] = field(default_factory=list)
    completion_s: list[float] = field(default_factory=list)
    codes: Counter = field(default_factory=Counter)  # ("submit" | "status", status code)
    accepted: dict[str, str] = field(default_factory=dict)  # job id -> "import" | "document"
    submitted: dict[str, float] = field(default_factory=dict)  # job id -> time.time() when its upload began
    slow_submits: list[tuple[float, float, str]] = field(default_factory=list)  # (ms, wall time, kind), the slowest
    rows_sent: int = 0
    quantity_sent: int = 0
    errors: Counter = field(default_factory=Counter)  # transport errors by type
    documents_made_during_run: int = 0


def inventory_csv(client: int, seq: int, rows: int) -> tuple[bytes, int]:
    """A small CSV whose SKUs are this upload's own, so every row must land as a new stock row."""
    lines, quantity = [HEADER], 0
    for row in range(rows):
        stock = (client * 7 + seq * 3 + row) % 500
        quantity += stock
        lines.append(f"L{client:03d}{seq:05d}{row:03d};Pienso {client}-{seq}-{row};{stock};{1 + row % 90},95;2;"
                     f"Alimentación;Mascotas SL\n")
    return "".join(lines).encode(), quantity


def document_pdf(client: int, seq: int) -> bytes:
    """A one-page PDF with a text layer (no OCR), unique so it is filed, not matched to an earlier one."""
    from tests.veterinaria.pages import write_pdf

    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        write_pdf(Path(handle.name), [[
            "ANALÍTICA DE SANGRE", f"Paciente: Luna   Especie: Canino   Muestra {client}-{seq}-{secrets.token_hex(4)}",
            "Fecha: 03/02/2026", "Hemoglobina 13.1 g/dL (12-18)", "Leucocitos 9.8 10^3/uL (6-17)",
        ]])
        return Path(handle.name).read_bytes()


#: (client, seq) -> the PDF that client uploads as its seq-th job, made before the run (see make_documents)
DOCUMENTS: dict[tuple[int, int], bytes] = {}


def make_documents(args) -> None:
    """The documents the clients will upload, made before the clock starts, on both cores.

    One PDF costs the generator ~80 ms of CPU (fpdf2 embeds a font): made during the run, in the
    same process as the clients, it delayed their requests and was timed as the service's latency.
    A person's file exists before they upload it.
    """
    if not args.document_every:
        return
    jobs_per_client = math.ceil(1.3 * args.seconds / max(args.think, 1.5)) + 2  # back to back a job takes ~2 s here
    wanted = [(n, seq) for n in range(args.clients) for seq in range(1, jobs_per_client + 1)
              if seq % args.document_every == n % args.document_every]
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        for key, body in zip(wanted, pool.map(document_pdf, *zip(*wanted), chunksize=8), strict=True):
            DOCUMENTS[key] = body


async def run_client(n: int, *, http: AiohttpClient | HttpxClient, urls: dict[str, str], token: str, store_id: int, pet_id: int,
                     args, tally: Tally, stop_at: float, finished: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    seq = 0
    if args.think:
        await asyncio.sleep(random.uniform(0, args.think))  # people do not all press "upload" in the same instant
    while time.monotonic() < stop_at:
        seq += 1
        is_document = args.document_every and seq % args.document_every == n % args.document_every
        if is_document:
            body = DOCUMENTS.pop((n, seq), None)
            if body is None:  # more jobs than foreseen: made now, on the generator's CPU (counted in the report)
                tally.documents_made_during_run += 1
                body = await asyncio.to_thread(document_pdf, n, seq)
            url, status_path = f"{urls['veterinaria']}/historias-clinicas/", "/historias-clinicas/task/"
            name, content_type, data, base = f"analitica-{n}-{seq}.pdf", "application/pdf", {"mascota_id": str(pet_id)}, urls["veterinaria"]
        else:
            body, quantity = inventory_csv(n, seq, args.rows)
            url, status_path = f"{urls['petshop']}/upload-inventario/", "/inventario/task/"
            name, content_type, data, base = f"inventario-{n}-{seq}.csv", "text/csv", {"store_id": str(store_id)}, urls["petshop"]
        submitted_wall = time.time()
        started = time.perf_counter()
        try:
            code, answer = await http.post_file(url, name=name, body=body, content_type=content_type, data=data,
                                                headers=headers)
        except TransportError as exc:
            tally.errors[str(exc)] += 1
            continue
        tally.submit_ms.append((time.perf_counter() - started) * 1000)
        tally.submit_ms_by_kind["document" if is_document else "import"].append(tally.submit_ms[-1])
        tally.slow_submits = sorted([*tally.slow_submits, (tally.submit_ms[-1], submitted_wall,
                                                          "document" if is_document else "import")], reverse=True)[:SLOWEST]
        tally.codes[("submit", code)] += 1
        if code != 202:
            await asyncio.sleep(0.5)
            continue
        job_id = answer["task_id"]
        tally.accepted[job_id] = "document" if is_document else "import"
        tally.submitted[job_id] = submitted_wall
        if not is_document:
            tally.rows_sent += args.rows
            tally.quantity_sent += quantity
        await follow(job_id, f"{base}{status_path}{job_id}", headers, http, tally, finished, deadline=stop_at + args.drain)
        if args.think:
            # a person between two uploads: exponential pauses, so the arrivals of 50 people are Poisson
            await asyncio.sleep(random.expovariate(1 / args.think))


async def follow(job_id: str, url: str, headers: dict, http: AiohttpClient | HttpxClient, tally: Tally,
                 finished: dict[str, str], *, deadline: float) -> None:
    """Poll one job's status until it ends (or the drain deadline passes)."""
    while time.monotonic() < deadline:
        await asyncio.sleep(ARGS.poll_interval)
        started = time.perf_counter()
        try:
            code, answer = await http.get(url, headers=headers)
        except TransportError as exc:
            tally.errors[str(exc)] += 1
            continue
        tally.status_ms.append((time.perf_counter() - started) * 1000)
        tally.codes[("status", code)] += 1
        if code != 200:
            continue
        status = answer["status"]
        if status in ("completed", "failed", "cancelled"):
            finished[job_id] = status
            return


#: (service, method, route template): the two requests whose latency has a target
TIMED_ROUTES = {"status": ("petshop", "GET", "/inventario/task/{task_id}"), "submit": ("petshop", "POST", "/upload-inventario/")}


def server_buckets(stack: Stack) -> dict[str, dict[float, float]]:
    """Cumulative counts by upper bound (seconds) of the petshop API's own latency histogram, per timed route.

    The service times a request from its outermost middleware to the response's last byte
    (common/telemetry/http.py): what it costs inside the process, without the client, the network
    stack or the wait for a core before uvicorn reads the request.
    """
    from prometheus_client.parser import text_string_to_metric_families

    text_ = httpx.get(f"{stack.url('petshop')}/metrics", timeout=10).text
    found: dict[str, dict[float, float]] = {name: {} for name in TIMED_ROUTES}
    for family in text_string_to_metric_families(text_):
        if family.name != "http_request_duration_seconds":
            continue
        for sample in family.samples:
            if not sample.name.endswith("_bucket") or sample.labels.get("status") not in ("200", "202"):
                continue
            for name, (_, method, route) in TIMED_ROUTES.items():
                if sample.labels["method"] == method and sample.labels["route"] == route:
                    bound = float(sample.labels["le"])
                    found[name][bound] = found[name].get(bound, 0.0) + sample.value
    return found


def share_within(before: dict[float, float], after: dict[float, float], bound: float) -> tuple[float, int]:
    """Share of the requests of the run answered by the service within `bound` seconds, and their count."""
    total = after.get(float("inf"), 0.0) - before.get(float("inf"), 0.0)
    within = after.get(bound, 0.0) - before.get(bound, 0.0)
    return (within / total if total else float("nan")), int(total)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def run_load(stack: Stack, users: list[tuple[str, int]], pet_id: int, args) -> tuple[Tally, dict[str, str], float]:
    tally, finished = Tally(), {}
    urls = {name: stack.url(name) for name in ("petshop", "veterinaria")}
    http = CLIENTS[args.client](args.clients)
    try:
        started = time.monotonic()
        stop_at = started + args.seconds
        await asyncio.gather(*(
            run_client(n, http=http, urls=urls, token=token, store_id=store_id, pet_id=pet_id, args=args,
                       tally=tally, stop_at=stop_at, finished=finished)
            for n, (token, store_id) in enumerate(users)
        ))
    finally:
        await http.close()
    return tally, finished, time.monotonic() - started


def set_up(stack: Stack, args) -> tuple[list[tuple[str, int]], int]:
    """Stores, one pet, and a user per client (empleado or veterinario by turn: each its own job quota)."""
    admin = Client(stack, login(stack, "admin", stack.admin_password))
    stores = []
    for index in range(args.stores):
        response = admin.post("petshop", "/tiendas/", json={"name": f"Tienda de carga {index}", "address": "Calle Mayor 1"})
        assert response.status_code == 201, response.text
        stores.append(response.json()["id"])
    owner = admin.post("veterinaria", "/propietarios/", json={"full_name": "María García López"}).json()
    pet = admin.post("veterinaria", "/mascotas/", json={"name": "Luna", "species": "canino", "owner_id": owner["id"]})
    assert pet.status_code == 201, pet.text
    users = []
    for n in range(args.clients):
        # a document client needs a clinic role and an import client a shop role: admin has both
        username, password = f"carga-{n}-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
        response = admin.post("auth", "/users/", json={"username": username, "password": password, "role": "admin"})
        assert response.status_code == 201, response.text
        users.append((login(stack, username, password), stores[n % len(stores)]))
    return users, pet.json()["id"]


def check_database(database_url: str, tally: Tally) -> dict[str, object]:
    """What landed, counted in the database: job outcomes, stock rows and quantities, documents."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    ids = list(tally.accepted)
    with engine.connect() as connection:
        statuses: Counter = Counter()
        started_twice = 0
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join(f":id{i}" for i in range(len(chunk)))
            params = {f"id{i}": job_id for i, job_id in enumerate(chunk)}
            for status, attempts in connection.execute(text(f"SELECT status, attempts FROM jobs WHERE id IN ({marks})"), params):
                statuses[status] += 1
                started_twice += attempts > 1
        stock_rows, quantity = connection.execute(
            text("SELECT count(*), coalesce(sum(quantity), 0) FROM petshop_stock k JOIN petshop_products p ON p.id = k.product_id"
                 " WHERE p.sku LIKE 'L%'")).one()
        documents = connection.execute(text("SELECT count(*) FROM vet_documents")).scalar()
    engine.dispose()
    return {"statuses": statuses, "started_twice": started_twice, "stock_rows": stock_rows, "quantity": int(quantity),
            "documents": documents}


def report(tally: Tally, finished: dict[str, str], landed: dict[str, object], elapsed: float, args) -> None:
    imports = sum(kind == "import" for kind in tally.accepted.values())
    documents = len(tally.accepted) - imports
    completion = tally.completion_s
    five = sum(count for (_, code), count in tally.codes.items() if code >= 500)
    submit_p99, status_p50 = percentile(tally.submit_ms, 99), percentile(tally.status_ms, 50)
    statuses = landed["statuses"]
    lost = len(tally.accepted) - statuses.get("completed", 0)
    rows_ok = landed["stock_rows"] == tally.rows_sent and landed["quantity"] == tally.quantity_sent
    docs_ok = landed["documents"] == documents

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    print(f"\n{args.clients} clients ({args.client}), {args.seconds:.0f} s (+ drain), {args.database}, {args.workers} worker(s) × 2 children;"
          f" think {args.think:g} s between a client's jobs; load generator on the same 2-core shared machine")
    print(f"accepted          {len(tally.accepted)} jobs ({imports} imports of {args.rows} rows, {documents} documents)"
          f" = {len(tally.accepted) / args.seconds:.1f}/s")
    print(f"submit latency    p50 {percentile(tally.submit_ms, 50):7.1f} ms  p99 {submit_p99:7.1f} ms"
          f"   target p99 < {TARGETS['submit_p99_ms']:.0f} ms: {verdict(submit_p99 < TARGETS['submit_p99_ms'])}")
    for kind, values in tally.submit_ms_by_kind.items():
        print(f"  {kind + 's':16}p50 {percentile(values, 50):7.1f} ms  p99 {percentile(values, 99):7.1f} ms")
    # bunched in one second, the tail was a stall of the machine or the stack; spread out, it is the path's own
    first = min(tally.submitted.values(), default=0.0)
    print(f"  slowest {SLOWEST}         " + ", ".join(f"{ms:.0f} ms ({kind}, at {at - first:.1f} s)"
                                                    for ms, at, kind in tally.slow_submits))
    print(f"status poll       p50 {status_p50:7.1f} ms  p99 {percentile(tally.status_ms, 99):7.1f} ms"
          f"   target p50 < {TARGETS['status_p50_ms']:.0f} ms: {verdict(status_p50 < TARGETS['status_p50_ms'])}"
          f"   ({len(tally.status_ms)} polls)")
    print(f"time to complete  p50 {percentile(completion, 50):7.2f} s   p99 {percentile(completion, 99):7.2f} s"
          f"   (submit to the job's finished_at)")
    print(f"responses         {dict(sorted((f'{kind} {code}', n) for (kind, code), n in tally.codes.items()))};"
          f" transport errors {dict(tally.errors) or 0}")
    print(f"documents         {documents - tally.documents_made_during_run} made before the run,"
          f" {tally.documents_made_during_run} during it (on the generator's CPU)")
    print(f"5xx               {five}   target 0: {verdict(five == 0)}")
    print(f"jobs in database  {dict(statuses)}; started more than once: {landed['started_twice']};"
          f" lost (accepted, not completed): {lost}   target 0: {verdict(lost == 0)}")
    print(f"rows landed       stock rows {landed['stock_rows']} of {tally.rows_sent} sent, units {landed['quantity']} of"
          f" {tally.quantity_sent}: {verdict(rows_ok)}; documents filed {landed['documents']} of {documents}: {verdict(docs_ok)}")


def completion_times(database_url: str, tally: Tally) -> None:
    """Seconds from the client's submit to the job's `finished_at` (same machine, same clock)."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, finished_at FROM jobs WHERE finished_at IS NOT NULL")).all()
    engine.dispose()
    for job_id, finished in rows:
        if job_id in tally.submitted:
            finished = datetime.fromisoformat(finished) if isinstance(finished, str) else finished  # SQLite: text
            finished = finished if finished.tzinfo else finished.replace(tzinfo=UTC)
            tally.completion_s.append(finished.timestamp() - tally.submitted[job_id])


def cpu_seconds(stack: Stack, postgres: PostgresServer | None) -> dict[str, float]:
    """CPU seconds used so far by each part of the stack (a process and its children)."""
    parts = {name: process.pid for name, process in stack.services.items()}
    parts.update({f"worker{n + 1}": worker.pid for n, worker in enumerate(stack.workers)})
    seconds = {}
    for name, pid in parts.items():
        try:
            processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
            seconds[name] = sum(sum(p.cpu_times()[:2]) for p in processes)
        except psutil.NoSuchProcess:
            seconds[name] = 0.0
    if postgres is not None:
        backends = [p for p in psutil.process_iter(["name", "cmdline"])
                    if p.info["name"] == "postgres" and f"-p {postgres.port}" in " ".join(p.info["cmdline"] or [])]
        seconds["postgresql"] = 0.0
        for p in backends:
            try:
                seconds["postgresql"] += sum(sum(c.cpu_times()[:2]) for c in [p, *p.children(recursive=True)])
            except psutil.NoSuchProcess:
                pass
    return seconds


ARGS: argparse.Namespace


def main() -> None:
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--workers", type=int, default=1, choices=(1, 2), help="Celery workers, two children each")
    parser.add_argument("--rows", type=int, default=20, help="rows per inventory file")
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--document-every", type=int, default=5, help="one upload in N is a document (0: none)")
    parser.add_argument("--poll-interval", type=float, default=0.25)
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds a client waits after its job ended before the next upload (0: at once)")
    parser.add_argument("--drain", type=float, default=180, help="seconds allowed after the run for jobs to finish")
    parser.add_argument("--client", choices=tuple(CLIENTS), default="aiohttp",
                        help="the clients' HTTP library (httpx: ~2 ms more of the generator's own time a request)")
    ARGS = args = parser.parse_args()

    with bench_stack("load", args.database, workers=args.workers) as (stack, database_url, postgres):
        users, pet_id = set_up(stack, args)
        make_documents(args)
        print(f"stack up ({args.database}); {len(users)} users; running {args.clients} clients for {args.seconds:.0f} s", flush=True)
        before, load_before = cpu_seconds(stack, postgres), os.getloadavg()[0]
        generator_before = time.process_time()
        served_before = server_buckets(stack)
        tally, finished, elapsed = uvloop.run(run_load(stack, users, pet_id, args))
        served = {name: (served_before[name], buckets) for name, buckets in server_buckets(stack).items()}
        used = {name: seconds - before.get(name, 0.0) for name, seconds in cpu_seconds(stack, postgres).items()}
        used["load generator"] = time.process_time() - generator_before
        completion_times(database_url, tally)
        report(tally, finished, check_database(database_url, tally), elapsed, args)
        status_share, polls = share_within(*served["status"], TARGETS["status_p50_ms"] / 1000)
        submit_share, uploads = share_within(*served["submit"], TARGETS["submit_p99_ms"] / 1000)
        print(f"inside the service (petshop's own histogram): {status_share:.1%} of {polls} status polls within"
              f" {TARGETS['status_p50_ms']:.0f} ms (p50 target: 50 %), {submit_share:.1%} of {uploads} uploads within"
              f" {TARGETS['submit_p99_ms']:.0f} ms (p99 target: 99 %)")
        per_job = ", ".join(f"{name} {seconds * 1000 / max(1, len(tally.accepted)):.0f} ms" for name, seconds in used.items())
        print(f"CPU per accepted job (whole run incl. polls): {per_job}; machine load average "
              f"{load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end (2 cores)")


if __name__ == "__main__":
    main()
