"""Login load: what a burst of wrong passwords does to the auth service, ours against the baseline.

Two auth processes on SQLite and one Redis, side by side in one run:
- ours: the defaults (one Argon2 check at a time per process, waiting without a thread; failures
  throttled per account and per address);
- bounded: ours with throttling off, to see the Argon2 bound alone;
- baseline: a check per request in the thread pool with no throttling (LOGIN_MAX_CONCURRENT_VERIFIES=40,
  the pool's size, and limits no one reaches). What we shipped before was worse than this baseline:
  it also held the request's transaction (on SQLite the write lock) during the check; measured with
  that code, /health p50 under the same load was 330-360 ms.

Each is hit by --clients parallel clients sending wrong passwords for --seconds while one client
polls /health. Printed: /health p50 idle and under load, wrong logins answered 401 (checked) and
429 (throttled), and the ratio of the p50s. Also printed: the auth process's memory before and
after a --body-mb JSON body with no token (refused before it is read).

    .venv/bin/python bench/login_load.py
    .venv/bin/python bench/login_load.py --clients 16 --seconds 10

Machines here are shared and noisy: read the ratios, not the absolute milliseconds.
"""

from __future__ import annotations

import argparse
import secrets
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402

from tests.servers import Process, RedisServer, Stack, free_port, wait_until  # noqa: E402


def start_auth(base: Path, redis_url: str, name: str, env: dict[str, str]) -> tuple[Process, str]:
    stack = Stack(base_dir=base / name, database_url=f"sqlite:///{base / name}.db", redis_url=redis_url, extra_env=env)
    stack.run("-m", "common.migrate")
    stack.run("-m", "auth.app.bootstrap")
    port = free_port()
    process = Process(name, [sys.executable, "-m", "uvicorn", "--factory", "auth.app.main:create_app", "--host",
                             "127.0.0.1", "--port", str(port), "--log-level", "warning"], env=stack.env,
                      log_dir=stack.log_dir).start()
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: httpx.get(f"{url}/health", timeout=2).status_code == 200, timeout=30, what=name)
    return process, url


def health_p50(url: str, seconds: float) -> float:
    samples = []
    deadline = time.monotonic() + seconds
    with httpx.Client(timeout=30) as client:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            client.get(f"{url}/health")
            samples.append((time.perf_counter() - started) * 1000)
            time.sleep(0.02)
    return statistics.median(samples)


def under_load(url: str, clients: int, seconds: float) -> tuple[float, dict[int, int]]:
    stop = threading.Event()
    counts: dict[int, int] = {}
    lock = threading.Lock()

    def attacker(n: int) -> None:
        with httpx.Client(timeout=60) as client:
            while not stop.is_set():
                status = client.post(f"{url}/token", data={"username": "admin", "password": f"wrong-{n}-{secrets.token_hex(4)}"}).status_code
                with lock:
                    counts[status] = counts.get(status, 0) + 1

    threads = [threading.Thread(target=attacker, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    p50 = health_p50(url, seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return p50, counts


def body_without_token(url: str, megabytes: int, pid: int) -> tuple[float, float]:
    """RSS (MB) of the process before and after a JSON body of `megabytes` sent with no token."""
    before = psutil.Process(pid).memory_info().rss / 2**20
    host, port = url.removeprefix("http://").split(":")
    chunk = b"a" * 2**20
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"POST /users/ HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {megabytes * 2**20}\r\n\r\n".encode())
        try:
            for _ in range(megabytes):
                sock.sendall(chunk)
        except OSError:
            pass  # refused and closed: the rest is never read
    time.sleep(0.5)
    return before, psutil.Process(pid).memory_info().rss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--body-mb", type=int, default=300)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="timon-login-bench-"))
    redis = RedisServer(base / "redis", base / "logs").start()
    unthrottled = {"LOGIN_MAX_FAILURES_PER_ACCOUNT": "1000000000", "LOGIN_MAX_FAILURES_PER_ADDRESS": "1000000000"}
    variants = {
        "ours": {"LOGIN_MAX_FAILURES_PER_ACCOUNT": "10", "LOGIN_MAX_FAILURES_PER_ADDRESS": "50"},
        "bounded": unthrottled,  # ours without throttling: the Argon2 bound alone
        "baseline": {"LOGIN_MAX_CONCURRENT_VERIFIES": "40", "LOGIN_MAX_FAILURES_PER_ACCOUNT": "1000000000",
                     "LOGIN_MAX_FAILURES_PER_ADDRESS": "1000000000"},
    }
    results = {}
    try:
        for name, env in variants.items():
            process, url = start_auth(base, redis.url, name, env)
            try:
                idle = health_p50(url, 3)
                loaded, counts = under_load(url, args.clients, args.seconds)
                memory = body_without_token(url, args.body_mb, process.pid)
            finally:
                process.stop()
            results[name] = (idle, loaded, counts, memory)
            print(f"{name:9} /health p50 idle {idle:6.1f} ms, under {args.clients} wrong-password clients {loaded:7.1f} ms;"
                  f" 401: {counts.get(401, 0)}, 429: {counts.get(429, 0)};"
                  f" RSS around a {args.body_mb} MB body without token: {memory[0]:.0f} -> {memory[1]:.0f} MB")
    finally:
        redis.stop()
    ours, baseline = results["ours"], results["baseline"]
    bounded = results["bounded"]
    print(f"/health p50 under load, baseline / bounded checks alone: {baseline[1] / bounded[1]:.1f}x")
    print(f"/health p50 under load, baseline / ours (throttled: the 429s are cheap but still requests): {baseline[1] / ours[1]:.1f}x")
    print(f"password checks run, baseline / ours: {baseline[2].get(401, 0)} / {ours[2].get(401, 0)}")


if __name__ == "__main__":
    main()
