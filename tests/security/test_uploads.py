"""Hostile uploads, over HTTP, to both upload routes: each ends as a 4xx with a Spanish message and a
stable code, or as a job that ends `failed` (or `completed`, rows refused one by one) with the same —
never a 5xx, never a hung job. Throughout, every process of the worker is sampled and held to
WORKER_PEAK_MEMORY_MB, and at the end nothing is found outside storage.
"""

from __future__ import annotations

import io
import os
import secrets
import socket
import threading
import zipfile
from pathlib import Path

import httpx
import psutil
import pytest

from tests.jobs_helpers import wait_for_job
from tests.security import hostile_files as hf
from tests.security.conftest import MAX_UPLOAD_MB, WORKER_PEAK_MEMORY_MB
from tests.security.test_xml_entities import EXTERNAL, LAUGHS, with_prolog

MB = 1_000_000
TOKEN = secrets.token_hex(4)  # in every traversal name, to look for afterwards
CSV = b"SKU,Nombre,Stock,Precio\nSEC-2,Pienso,3,12.5\n"


class MemorySampler(threading.Thread):
    """Peak RSS of each process under the given roots (the worker and its pool children and page helpers)."""

    def __init__(self, roots: list[int]):
        super().__init__(daemon=True)
        self.roots, self.peaks, self.stopping = roots, {}, threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.05):
            for root in self.roots:
                try:
                    tree = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
                except psutil.Error:
                    continue
                for process in tree:
                    try:
                        key = (process.pid, " ".join(process.cmdline()[:3])[-60:])
                        self.peaks[key] = max(self.peaks.get(key, 0), process.memory_info().rss)
                    except psutil.Error:
                        pass


@pytest.fixture(scope="module")
def worker_memory(hostile_stack):
    sampler = MemorySampler([worker.pid for worker in hostile_stack.workers])
    sampler.start()
    yield sampler
    sampler.stopping.set()
    sampler.join()


def outcome(client, service: str, response) -> tuple:
    """("refused", status, code) for a 4xx, or (final status, error_code) once the job has ended."""
    assert response.status_code < 500, response.text
    if response.status_code != 202:
        body = response.json()
        assert body["detail"] and body["code"], body
        print("OUTCOME refused", response.status_code, body["code"], body["detail"][:160])
        return ("refused", response.status_code, body["code"])
    job = wait_for_job(client, service, response.json()["task_id"], timeout=240)
    if job["status"] == "failed":
        assert job["error"] and job["error_code"], job
    print("OUTCOME", job["kind"], job["status"], job["error_code"], (job["error"] or "")[:160])
    return (job["status"], job["error_code"])


def import_file(world, name: str, data: bytes | Path):
    clerk = world.clients["empleado"]
    payload = data.read_bytes() if isinstance(data, Path) else data
    response = clerk.post("petshop", "/upload-inventario/", data={"store_id": world.ids["store"]},
                          files={"file": (name, payload, "application/octet-stream")})
    return outcome(clerk, "petshop", response)


def upload_document(world, name: str, data: bytes | Path):
    vet = world.clients["veterinario"]
    payload = data.read_bytes() if isinstance(data, Path) else data
    response = vet.post("veterinaria", "/historias-clinicas/", files={"file": (name, payload, "application/octet-stream")})
    return outcome(vet, "veterinaria", response)


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [f"../../../../tmp/timon-pwned-{TOKEN}.csv", f"..\\..\\timon-pwned-{TOKEN}.csv",
                                  f"/etc/timon-pwned-{TOKEN}.csv"])
def test_a_path_in_the_file_name_is_only_a_name(world, worker_memory, name):
    clerk = world.clients["empleado"]
    response = clerk.post("petshop", "/upload-inventario/", data={"store_id": world.ids["store"]},
                          files={"file": (name, CSV, "text/csv")})

    job = wait_for_job(clerk, "petshop", response.json()["task_id"])
    assert job["status"] == "completed" and job["result"]["file_name"] == f"timon-pwned-{TOKEN}.csv"


def test_a_path_in_a_document_name_is_only_a_name(world, worker_memory, tmp_path):
    pdf = hf.pdf_pages(tmp_path / "a.pdf", pages=1, text=True)
    vet = world.clients["veterinario"]
    response = vet.post("veterinaria", "/historias-clinicas/", data={"mascota_id": world.ids["pet_b"]},
                        files={"file": (f"../../timon-pwned-{TOKEN}.pdf", pdf.read_bytes() + b"%unique", "application/pdf")})

    job = wait_for_job(vet, "veterinaria", response.json()["task_id"])
    document = vet.get("veterinaria", f"/documentos/{job['result']['document_id']}").json()
    assert document["file_name"] == f"timon-pwned-{TOKEN}.pdf"


def raw_multipart(fields: dict[str, str], filename: bytes, payload: bytes) -> tuple[bytes, str]:
    """A multipart body written by hand: httpx (like browsers) would send a NUL in a name as `%00`."""
    boundary = secrets.token_hex(8)
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode() + filename
                 + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + payload + f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(("service", "path", "role"), [("petshop", "/upload-inventario/", "empleado"),
                                                       ("veterinaria", "/historias-clinicas/", "veterinario")])
def test_a_nul_in_the_file_name_is_refused(world, tmp_path, service, path, role):
    client = world.clients[role]
    payload = CSV if service == "petshop" else hf.pdf_pages(tmp_path / "a.pdf", pages=1).read_bytes()
    body, content_type = raw_multipart({"store_id": world.ids["store"]} if service == "petshop" else {},
                                       b"inventario\x00.csv", payload)

    response = client.post(service, path, content=body, headers={"Content-Type": content_type})

    assert outcome(client, service, response) == ("refused", 422, "nul_character")
    assert "nombre del archivo" in response.json()["detail"]


def test_a_file_name_of_500_characters_is_kept_to_255_with_its_extension(world, worker_memory, tmp_path):
    vet = world.clients["veterinario"]
    pdf = hf.pdf_pages(tmp_path / "a.pdf", pages=1, text=True).read_bytes() + b"%long-name"
    response = vet.post("veterinaria", "/historias-clinicas/", data={"mascota_id": world.ids["pet_b"]},
                        files={"file": ("n" * 500 + ".pdf", pdf, "application/pdf")})

    job = wait_for_job(vet, "veterinaria", response.json()["task_id"])
    document = vet.get("veterinaria", f"/documentos/{job['result']['document_id']}").json()
    assert len(document["file_name"]) == 255 and document["file_name"].endswith("n.pdf")


# --- size ----------------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_cut_off_while_it_streams_and_the_service_memory_stays_flat(hostile_stack, world):
    """A chunked upload (no Content-Length) twice the limit: 413 when the cap is reached, and the
    service process holds chunks, not the body."""
    service = psutil.Process(hostile_stack.services["petshop"].pid)
    before = service.memory_info().rss
    sampler = MemorySampler([service.pid])
    sampler.start()
    boundary = "limite"

    def body():
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"store_id\"\r\n\r\n{world.ids['store']}\r\n"
               f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"grande.csv\"\r\n"
               "Content-Type: text/csv\r\n\r\n").encode()
        yield b"SKU,Nombre,Stock,Precio\n"
        line = b"X" * 1023 + b"\n"
        for _ in range(2 * MAX_UPLOAD_MB * 1024):
            yield line  # 1 KiB at a time: many small chunks, as a slow client sends them
    try:
        response = httpx.post(f"{hostile_stack.url('petshop')}/upload-inventario/", content=body(), timeout=120,
                              headers={**world.clients["empleado"].headers,
                                       "Content-Type": f"multipart/form-data; boundary={boundary}"})
    except httpx.HTTPError:  # the server may close the connection once it has answered
        response = None
    finally:
        sampler.stopping.set()
        sampler.join()

    if response is not None:
        assert response.status_code == 413 and response.json()["code"] == "upload_too_large"
    peak = max(sampler.peaks.values())
    assert peak - before < 40 * MB, f"service RSS grew {(peak - before) / MB:.0f} MB for a {2 * MAX_UPLOAD_MB} MB body"


def test_a_declared_length_over_the_limit_is_413_before_the_body_is_read(hostile_stack, world):
    """The headers promise 600 MB and no byte of it is sent: the answer comes anyway."""
    port = hostile_stack.ports["veterinaria"]
    request = (f"POST /historias-clinicas/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               f"{world.clients['veterinario'].headers['Authorization'].join(['Authorization: ', ''])}\r\n"
               f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {10 * MAX_UPLOAD_MB * MB}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"upload_too_large" in body and "supera el límite".encode() in body


# --- spreadsheets --------------------------------------------------------------------------------


def _xlsx(tmp_path: Path) -> Path:
    return hf.write_xlsx(tmp_path / "bueno.xlsx", rows=lambda: [b'<row r="2"><c r="A2" t="inlineStr"><is><t>SEC-3</t></is></c>'
                                                              b'<c r="B2" t="inlineStr"><is><t>Pienso</t></is></c>'
                                                              b'<c r="C2"><v>1</v></c><c r="D2"><v>2</v></c></row>'])


@pytest.mark.parametrize("insert", [EXTERNAL, LAUGHS], ids=["external_entity", "billion_laughs"])
def test_entities_and_doctypes_inside_a_spreadsheet_fail_the_import_with_their_code(world, worker_memory, tmp_path, insert):
    bad = with_prolog(_xlsx(tmp_path), tmp_path / "entidades.xlsx", "xl/worksheets/sheet1.xml", insert)

    assert import_file(world, "entidades.xlsx", bad) == ("failed", "spreadsheet_xml_entities")


def test_deeply_nested_xml_in_a_sheet_fails_cleanly(world, worker_memory, tmp_path):
    depth = 200_000
    nested = hf.write_xlsx(tmp_path / "anidado.xlsx", rows=lambda: [
        b'<row r="2"><c r="A2" t="inlineStr"><is>', b"<r>" * depth, b"</r>" * depth, b"</is></c></row>"])

    # the parser walks the nesting without recursion; the cell holds no text, so no row is left
    assert import_file(world, "anidado.xlsx", nested) == ("failed", "no_inventory_rows")


# 16, 64 and 256 MB of sheet XML from files of 0.1 to 1.7 MB: the first two fit the budget and are
# read, the third is refused before calamine is asked to load it
@pytest.mark.parametrize(("rows", "expected"), [(1_000, ("completed", None)), (4_000, ("completed", None)),
                                                (16_000, ("failed", "spreadsheet_too_large"))])
def test_a_family_of_zip_bombs_stays_within_the_memory_bound(world, worker_memory, tmp_path, rows, expected):
    bomb = hf.xlsx_inline_text(tmp_path / "bomba.xlsx", kib=16, rows=rows, level=1)

    assert import_file(world, "bomba.xlsx", bomb) == expected


def test_a_zip_inside_a_zip_is_not_a_spreadsheet(world, tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ceros.bin", b"\x00" * (20 * MB))
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(10):
            archive.writestr(f"capa{index}.zip", inner.getvalue())

    assert import_file(world, "inventario.xlsx", outer.getvalue()) == ("refused", 422, "not_a_spreadsheet")


def test_a_csv_of_one_50_mb_line_fails_cleanly_within_the_memory_bound(world, worker_memory):
    line = b"SKU,Nombre,Stock,Precio\n" + b"A" * (50 * MB)

    assert import_file(world, "una_linea.csv", line) == ("failed", "csv_malformed")


def test_svg_with_script_and_a_polyglot_are_not_spreadsheets(world):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    polyglot = b"%PDF-1.4\n" + CSV  # a PDF header over CSV rows

    assert import_file(world, "dibujo.svg", svg) == ("failed", "header_not_found")
    assert import_file(world, "inventario.csv", polyglot) == ("refused", 422, "not_a_spreadsheet")


# --- documents -----------------------------------------------------------------------------------


def test_svg_with_script_is_not_a_document(world):
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'

    assert upload_document(world, "dibujo.svg", svg) == ("refused", 422, "not_a_document")


def test_a_decompression_bomb_image_fails_the_job_within_the_memory_bound(world, worker_memory, tmp_path):
    bomb = hf.png_blank(tmp_path / "bomba.png", width=12_000, height=12_000, color_type=0, bit_depth=8)

    assert upload_document(world, "bomba.png", bomb) == ("failed", "image_too_large")


def test_a_pdf_of_10000_pages_fails_the_job_naming_the_page_limit(world, worker_memory, tmp_path):
    pdf = hf.pdf_pages(tmp_path / "largo.pdf", pages=10_000)

    assert upload_document(world, "largo.pdf", pdf) == ("failed", "too_many_pages")


def test_a_pdf_with_javascript_is_read_as_a_document_and_its_script_never_runs(world, worker_memory, tmp_path):
    marker = Path(f"/tmp/timon-pwned-{TOKEN}-js")
    script = f"app.launchURL('file://{marker}'); this.exportDataObject({{cName: 'x', nLaunch: 2}});".encode()
    data = hf.pdf_pages(tmp_path / "js.pdf", pages=1, text=True).read_bytes()
    data = data.replace(b"<< /Type /Catalog /Pages 2 0 R >>",
                        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (" + script + b") >> "
                        b"/Names << /JavaScript << /Names [(x) << /S /JavaScript /JS (" + script + b") >>] >> >> >>")

    assert upload_document(world, "con_script.pdf", data) == ("completed", None)
    assert not marker.exists()


def test_a_polyglot_pdf_that_is_also_a_zip_is_read_as_the_pdf_it_starts_with(world, worker_memory, tmp_path):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("payload.html", "<script>alert(1)</script>")
    data = hf.pdf_pages(tmp_path / "poli.pdf", pages=1, text=True).read_bytes() + archive.getvalue()

    assert upload_document(world, "poliglota.pdf", data) == ("completed", None)


# --- afterwards ----------------------------------------------------------------------------------


def test_the_worker_stayed_under_its_memory_bound_throughout(worker_memory):
    assert worker_memory.peaks, "no worker process was sampled"
    over = {key: rss // MB for key, rss in worker_memory.peaks.items() if rss > WORKER_PEAK_MEMORY_MB * MB}
    print({key: rss // MB for key, rss in sorted(worker_memory.peaks.items(), key=lambda kv: -kv[1])[:5]})
    assert over == {}


def test_nothing_was_written_outside_storage(hostile_stack):
    found = [str(path) for folder in (Path("/tmp"), Path("/etc"), Path("/")) for path in folder.glob(f"timon-pwned-{TOKEN}*")]
    for root in (hostile_stack.base_dir, Path(__file__).resolve().parents[2]):  # the stack's folder, the repository
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in (".venv", ".git", "node_modules")]
            found += [os.path.join(folder, name) for name in files + dirs if f"timon-pwned-{TOKEN}" in name]
    storage = hostile_stack.base_dir / "var" / "files"
    stored_names = [path.name for path in storage.rglob("*") if path.is_file()]

    assert found == []
    assert all(not name.startswith(".") and "pwned" not in name for name in stored_names), stored_names
