"""A long scan on one worker host, then on three, against OCRmyPDF `-j N` on one host.

    .venv/bin/python bench/ocr_cluster.py [--pages 60] [--small 2,4,8]   (root: it builds network namespaces)

The hosts are network namespaces on this machine (tests/cluster.py): Redis, PostgreSQL and an S3
server on one, the APIs on another, worker hosts of one Celery process each (a one-core machine:
OCR_PAGE_WORKERS=1, one Tesseract thread). The scan's pages are OCR'd as one task a page, read from
the bucket by whichever host is free. Timed from the job's creation to its completion, as the jobs
table records them. OCRmyPDF (Tesseract too, same languages) is the baseline on one host with all
the machine's cores.

Three one-core hosts on a machine with C cores can be at most min(3, C) times one host: the script
prints that ceiling and the speed-up per core used beside the raw ratio. The small documents show
where splitting starts to pay (OCR_FANOUT_MIN_PAGES): each read once as one task, once as page tasks,
on three hosts. The machine is shared and loaded: absolute times drift, the ratios hold better.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from tests.cluster import Cluster, netns_unavailable  # noqa: E402
from tests.conftest import Client, login  # noqa: E402
from tests.jobs_helpers import wait_for_job  # noqa: E402
from tests.veterinaria.pages import render_page, write_pdf  # noqa: E402
from tests.veterinaria.samples import sample_document  # noqa: E402

HOST_ENV = {"OCR_PAGE_WORKERS": "1", "OMP_THREAD_LIMIT": "1", "MAX_UPLOAD_MB": "64", "OCR_FANOUT_MIN_PAGES": "2",
            "TASK_SOFT_TIME_LIMIT": "1800", "TASK_TIME_LIMIT": "1900"}


def make_scan(folder: Path, pages: int, tag: str) -> Path:
    """A scanned PDF: clinical documents' text printed on 200 dpi page images, no text layer.

    `tag` is printed on every page: the same file uploaded twice would be a duplicate, not read again.
    """
    images = [render_page([f"Página {n} de {pages} ({tag})", *sample_document(n).text.splitlines()])
              for n in range(1, pages + 1)]
    return write_pdf(folder / f"{tag}-{pages}.pdf", images)


def submit(client: Client, path: Path) -> str:
    with open(path, "rb") as handle:
        response = client.post("veterinaria", "/historias-clinicas/", files={"file": (path.name, handle)})
    response.raise_for_status()
    return response.json()["task_id"]


def finished(client: Client, job_id: str) -> dict:
    job = wait_for_job(client, "veterinaria", job_id, timeout=3600)
    if job["status"] != "completed":
        raise SystemExit(f"job {job_id} {job['status']}: {job.get('error')}")
    return job


def worker_cpu_seconds(cluster: Cluster) -> float:
    """CPU time used so far by every process on the worker hosts (the pool children live as long as their worker)."""
    total = 0.0
    for host in cluster.worker_hosts:
        for pid in host.pids():
            try:
                times = psutil.Process(pid).cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
    return total


def read_on_cluster(client: Client, cluster: Cluster, path: Path) -> tuple[float, float, dict]:
    """(seconds from the job's creation to its completion, worker CPU seconds spent, the job)."""
    cpu = worker_cpu_seconds(cluster)
    job = finished(client, submit(client, path))
    seconds = (datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["created_at"])).total_seconds()
    return seconds, worker_cpu_seconds(cluster) - cpu, job


def warm_up(client: Client, cluster: Cluster, folder: Path) -> None:
    """One single-page document per host at once, so every worker has its engine loaded before the clock runs."""
    ids = [submit(client, make_scan(folder, 1, f"calentar-{time.monotonic_ns()}")) for _ in cluster.worker_hosts]
    for job_id in ids:
        finished(client, job_id)


def ocrmypdf(path: Path, jobs: int) -> tuple[float, float]:
    """(seconds, CPU seconds of OCRmyPDF and its Tesseract processes)."""
    out = path.with_suffix(f".ocrmypdf-j{jobs}.pdf")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "ocrmypdf"), "-j", str(jobs), "-l", "spa+eng", "--force-ocr",
                    "--output-type", "pdf", "--optimize", "0", "--quiet", str(path), str(out)],
                   check=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    seconds, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def restart_workers(cluster: Cluster, **env: str) -> None:
    """Every worker host's worker again, with `env` changed (settings are read when a worker starts)."""
    stack = cluster.stack
    stack.env.update(env)
    alive = [(worker, host) for worker, host in zip(stack.workers, cluster.worker_hosts, strict=True)]
    stack.workers.clear()
    for worker, host in alive:
        worker.stop()
        stack.start_worker(concurrency=cluster.concurrency, name=f"worker@{host.name}", prefix=host.prefix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=60)
    parser.add_argument("--small", default="2,4,8", help="page counts of the small documents (fan-out threshold)")
    args = parser.parse_args()
    reason = netns_unavailable()
    if reason:
        print(f"skipped: {reason}")  # `make bench` goes on with the other benchmarks
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so the hosts are removed on `kill` too
    cores = os.cpu_count() or 1
    folder = Path(tempfile.mkdtemp(prefix="timon-bench-cluster-"))
    scan, scan_again = make_scan(folder, args.pages, "uno"), make_scan(folder, args.pages, "tres")
    counts = [int(n) for n in args.small.split(",") if n]
    fanned_docs = [make_scan(folder, n, "paginas") for n in counts]
    single_docs = [make_scan(folder, n, "tarea") for n in counts]
    print(f"machine: {cores} cores, load {os.getloadavg()[0]:.1f}; scan: {args.pages} generated pages, "
          f"{scan.stat().st_size / 1e6:.1f} MB")

    cluster = Cluster(folder / "cluster", workers=1, extra_env=HOST_ENV)
    try:
        cluster.start()
        client = Client(cluster.stack, login(cluster.stack, "admin", cluster.stack.admin_password))
        warm_up(client, cluster, folder)
        one_host, one_cpu, _ = read_on_cluster(client, cluster, scan)
        cluster.add_worker_host()
        cluster.add_worker_host()
        warm_up(client, cluster, folder)
        three_hosts, three_cpu, job = read_on_cluster(client, cluster, scan_again)
        spread = job["result"]["page_workers"]
        fanned = [read_on_cluster(client, cluster, path)[0] for path in fanned_docs]
        restart_workers(cluster, OCR_FANOUT_MIN_PAGES="0")
        warm_up(client, cluster, folder)
        single = [read_on_cluster(client, cluster, path)[0] for path in single_docs]
    finally:
        cluster.close()
    (j1, j1_cpu), (jn, jn_cpu) = ocrmypdf(scan, 1), ocrmypdf(scan, cores)

    pages = args.pages
    ceiling = min(3, cores)
    speedup = one_host / three_hosts
    print(f"\n{pages}-page scan, job created to job completed (load {os.getloadavg()[0]:.1f} at the end):")
    print(f"  ours, 1 worker host (1 process)        {one_host:7.1f} s  {pages / one_host:5.2f} pages/s  "
          f"{one_cpu / pages:5.2f} CPU s/page")
    print(f"  ours, 3 worker hosts (1 process each)  {three_hosts:7.1f} s  {pages / three_hosts:5.2f} pages/s  "
          f"{three_cpu / pages:5.2f} CPU s/page   pages per host: {dict(sorted(spread.items()))}")
    print(f"  OCRmyPDF -j 1, one host                {j1:7.1f} s  {pages / j1:5.2f} pages/s  {j1_cpu / pages:5.2f} CPU s/page")
    print(f"  OCRmyPDF -j {cores}, one host                {jn:7.1f} s  {pages / jn:5.2f} pages/s  "
          f"{jn_cpu / pages:5.2f} CPU s/page")
    print(f"\n  3 hosts / 1 host, wall clock: {speedup:.2f}x  (at most {ceiling}x here: the 3 hosts share {cores} cores)")
    print(f"  per core used: {speedup / ceiling:.2f}   CPU per page, 3 hosts / 1 host: {three_cpu / one_cpu:.2f} "
          "(1.00 = splitting costs nothing)")
    print(f"  ours on 3 hosts vs OCRmyPDF -j {cores} on one: {jn / three_hosts:.2f}x   "
          f"ours on 1 host vs OCRmyPDF -j 1: {j1 / one_host:.2f}x")
    print("\nsmall documents on 3 hosts: one task vs one task a page")
    for count, one_task, page_tasks in zip(counts, single, fanned, strict=True):
        print(f"  {count:>3} pages   one task {one_task:6.1f} s   page tasks {page_tasks:6.1f} s   "
              f"page tasks faster by {one_task / page_tasks:.2f}x")

if __name__ == "__main__":
    main()
