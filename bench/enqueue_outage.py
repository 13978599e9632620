"""Submitting a job while Redis is down: how fast the 503 comes, against a normal submission.

The API must answer within ENQUEUE_TIMEOUT_SECONDS (2 s) whatever the Redis client does on a dead
broker (its connection retries alone can block for many seconds). Ours: POST /jobs/diagnostic with
Redis stopped, timed to the 503. Baseline: the same POST with Redis up, timed to the 202 (what a
submission costs anyway). The ratio says how much slower a refusal is than an acceptance; the
absolute outage time is printed against the 2 s budget it must stay under.

    .venv/bin/python bench/enqueue_outage.py              # 20 submissions each way
    .venv/bin/python bench/enqueue_outage.py --repeat 5

Machines here are shared and noisy: read the ratio, not the absolute seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from tests.conftest import Client, login  # noqa: E402
from tests.servers import RedisServer, Stack, wait_until  # noqa: E402


def timed_posts(admin: Client, repeat: int, expected_status: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = admin.post("petshop", "/jobs/diagnostic", json={"steps": 1, "step_seconds": 0})
        times.append(time.perf_counter() - started)
        assert response.status_code == expected_status, response.text
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="timon-bench-") as tmp:
        base = Path(tmp)
        redis_server = RedisServer(base / "redis", base / "logs").start()
        stack = Stack(base_dir=base / "stack", database_url=f"sqlite:///{base / 'bench.db'}", redis_url=redis_server.url)
        try:
            stack.start(workers=0)
            admin = Client(stack, login(stack, "admin", stack.admin_password))
            accepted = timed_posts(admin, args.repeat, 202)
            redis_server.stop()
            refused = timed_posts(admin, args.repeat, 503)
            redis_server.process.start()
            wait_until(lambda: redis.Redis(port=redis_server.port).ping(), timeout=10, what="redis back")
        finally:
            stack.stop()
            redis_server.stop()
    ours, baseline = statistics.median(refused), statistics.median(accepted)
    print(f"submission with Redis down (503): median {ours:.3f} s, worst {max(refused):.3f} s (budget 2 s)")
    print(f"submission with Redis up (202):   median {baseline:.3f} s")
    print(f"ratio refused/accepted: {ours / baseline:.1f}x")
    if max(refused) > 3:
        raise SystemExit("a refusal took longer than 3 s: the enqueue deadline is not holding")


if __name__ == "__main__":
    main()
