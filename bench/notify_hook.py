"""What the notification hook adds to finishing a job: `jobs.complete` + commit, with and without it.

The hook runs after the commit of every finished job (common/notify/hook.py). It must not delay the
job: it hands one publish to a thread and returns. Measured on a fresh SQLite database, N jobs each:
- baseline: no notification hook installed;
- ours, live Redis: the hook publishing to a local redis-server (Debian's, as the tests run it),
  back to back (each finish overlaps the thread still publishing the one before: the GIL is shared),
  and "drained" (each finish starts once the previous publish is out: a job's own cost);
- ours, Redis down: the hook pointed at a closed port (the publishes fail on their thread);
- inline publish instead: the alternative design, `send_task` inside the finish (with Redis down it
  would wait for the connection retries, so it is only measured with Redis up).
Printed: median and p95 of one finish (complete + commit + hooks), in milliseconds, and the ratio to
the baseline; and the hook's own call, as a share of the baseline finish.

    .venv/bin/python bench/notify_hook.py
    .venv/bin/python bench/notify_hook.py --jobs 500

Machines here are shared and noisy: read the ratios, not the absolute milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import jobs  # noqa: E402
from common.celery_app import create_celery_app  # noqa: E402
from common.config import Settings  # noqa: E402
from common.db import make_engine, make_session_factory, session_scope  # noqa: E402
from common.migrate import upgrade  # noqa: E402
from common.notify.hook import _publishers, _queue_notifications, install_hook  # noqa: E402
from common.security import Principal, Role  # noqa: E402
from tests.servers import RedisServer, free_port  # noqa: E402

OWNER = Principal(id=1, username="bench", role=Role.ADMIN)
QUOTA = jobs.JobQuota(max_active=10**9, retry_after_seconds=1)


def drain() -> None:
    """Wait until the hook's publishing thread (this process's) has sent everything it was given."""
    pool = _publishers.get(os.getpid())
    if pool is not None:
        pool.submit(lambda: None).result()


def finishes(sessions, count: int, *, drained: bool = False) -> list[float]:
    """Milliseconds of each `complete` + commit (the finish hooks run inside the commit's after_commit).

    `drained`: before each finish, wait for the previous publishes, so the figure is the finish's own
    and not its overlap with the thread still publishing the last one.
    """
    ids = []
    with session_scope(sessions) as session:
        for _ in range(count):
            ids.append(jobs.submit(session=session, service="petshop", kind="diagnostic", task_name="t", owner=OWNER,
                                   params={}, publish=lambda job_id, priority: None, timeout=2, quota=QUOTA).id)
    timings = []
    for job_id in ids:
        if drained:
            drain()
        started = time.perf_counter()
        with session_scope(sessions) as session:
            jobs.complete(session=session, job_id=job_id, result={"steps": 1})
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def hook_calls(count: int) -> list[float]:
    """Milliseconds of the hook alone, called as the finish path calls it."""
    now = jobs.utcnow()
    finished = jobs.FinishedJob(id="0" * 36, service="petshop", kind="diagnostic", status=jobs.JobStatus.COMPLETED,
                                owner_id=1, owner_username="bench", params={}, result={}, error=None, error_code=None,
                                attempts=1, created_at=now, started_at=now, finished_at=now)
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        _queue_notifications(finished)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def describe(name: str, timings: list[float], baseline: float | None) -> float:
    median = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[-1]
    ratio = f"{median / baseline:.2f}x" if baseline else "1.00x"
    print(f"{name:<22} median {median:7.3f} ms   p95 {p95:7.3f} ms   ratio {ratio}")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=300)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="timon-bench-notify-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    upgrade(url)
    sessions = make_session_factory(make_engine(Settings(_env_file=None, database_url=url)))
    redis = RedisServer(workdir / "redis", workdir / "logs").start()
    try:
        baseline = describe("baseline (no hook)", finishes(sessions, args.jobs), None)
        install_hook(create_celery_app(Settings(_env_file=None, redis_url=redis.url)))
        describe("ours, live Redis", finishes(sessions, args.jobs), baseline)
        describe("ours, live, drained", finishes(sessions, args.jobs, drained=True), baseline)
        describe("the hook alone", hook_calls(args.jobs), baseline)
        jobs._finished_hooks.remove(_queue_notifications)  # the bench's own business: a second baseline, later
        describe("baseline, again", finishes(sessions, args.jobs), baseline)
        live = create_celery_app(Settings(_env_file=None, redis_url=redis.url))

        def publish_inline(job: jobs.FinishedJob) -> None:  # the alternative: publish in the finish itself
            live.send_task("petshop.app.tasks.notify_job_finished", args=[job.id, str(job.status)], ignore_result=True)

        jobs.on_job_finished(publish_inline)
        describe("inline publish instead", finishes(sessions, args.jobs), baseline)
        jobs._finished_hooks.remove(publish_inline)
        jobs.on_job_finished(_queue_notifications)
        install_hook(create_celery_app(Settings(_env_file=None, redis_url=f"redis://127.0.0.1:{free_port()}/0")))
        describe("ours, Redis down", finishes(sessions, args.jobs), baseline)
    finally:
        redis.stop()
    sys.stdout.flush()
    os._exit(0)  # the publishes to the closed port are still retrying on their thread: nobody waits for them


if __name__ == "__main__":
    main()
