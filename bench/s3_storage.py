"""S3 storage: memory and time of an upload into a bucket, against reading the whole file first.

Starts moto's S3 server (a subprocess, as a real endpoint would be) and stores one random file of
`--mb` MiB with `S3Storage.save_stream` (multipart, 8 MiB parts) and with the naive baseline (read
it all, one `put_object`), then takes it back with `local_copy`. Prints each one's seconds and
Python peak memory (tracemalloc), and the ratio ours / baseline; LocalStorage's time for scale.

    .venv/bin/python bench/s3_storage.py            # 64 MiB
    .venv/bin/python bench/s3_storage.py --mb 200
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from common.config import Settings  # noqa: E402
from common.storage import LocalStorage, build_storage  # noqa: E402
from tests.s3_server import ACCESS_KEY, REGION, SECRET_KEY  # noqa: E402
from tests.servers import free_port, wait_until  # noqa: E402

MiB = 1024 * 1024


def measured(action):
    tracemalloc.start()
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=64)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _answers(port), timeout=30, what="moto_server")
        with tempfile.TemporaryDirectory() as work:
            source = Path(work) / "upload.bin"
            with open(source, "wb") as out:
                for _ in range(args.mb):
                    out.write(os.urandom(MiB))
            run(source, Path(work), port, args.mb)
    finally:
        server.terminate()
        server.wait(10)


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code < 500
    except httpx.TransportError:
        return False


def run(source: Path, work: Path, port: int, mb: int) -> None:
    settings = Settings(_env_file=None, storage_url="s3://bench", s3_endpoint_url=f"http://127.0.0.1:{port}",
                        s3_region=REGION, s3_access_key_id=ACCESS_KEY, s3_secret_access_key=SECRET_KEY)
    storage = build_storage(settings)
    storage.ensure_bucket()
    cap = (mb + 1) * MiB

    def ours():
        with open(source, "rb") as stream:
            return storage.save_stream(stream, key="bench/ours.bin", max_bytes=cap)

    def baseline():
        with open(source, "rb") as stream:
            data = stream.read()
        storage.client.put_object(Bucket="bench", Key="bench/baseline.bin", Body=data)
        return hashlib.sha256(data).hexdigest()

    def local():
        with open(source, "rb") as stream:
            return LocalStorage(work / "files").save_stream(stream, key="bench/local.bin", max_bytes=cap)

    def copy_back():
        with storage.local_copy("bench/ours.bin") as path:
            return path.stat().st_size

    stored, ours_s, ours_peak = measured(ours)
    digest, base_s, base_peak = measured(baseline)
    assert stored.sha256 == digest
    _, local_s, _ = measured(local)
    size, copy_s, copy_peak = measured(copy_back)
    assert size == stored.size
    print(f"upload {mb} MiB into the bucket (moto_server, 8 MiB parts)")
    print(f"  S3Storage.save_stream : {ours_s:6.2f} s  peak {ours_peak / MiB:7.1f} MiB")
    print(f"  read all + put_object : {base_s:6.2f} s  peak {base_peak / MiB:7.1f} MiB   (baseline)")
    print(f"  ratio ours/baseline   : time {ours_s / base_s:5.2f}  memory {ours_peak / base_peak:5.2f}")
    print(f"  LocalStorage (scale)  : {local_s:6.2f} s")
    print(f"local_copy back         : {copy_s:6.2f} s  peak {copy_peak / MiB:7.1f} MiB")


if __name__ == "__main__":
    main()
