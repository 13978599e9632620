"""The Celery app (seed): `celery -A common.celery_app worker --queues=veterinaria,petshop`.

Redis is broker and result backend. The settings below are what make a job survive a worker
crash: late acks, a killed child's task sent again (capped), prefetch 1, and a visibility
timeout longer than the longest queue wait plus the hard time limit. Celery delivers at least
once, never exactly once: every task is idempotent.

Importing this module reads no setting: `app` is configured from `get_settings()` the first time
Celery needs its configuration (the worker, beat or Flower starting), through Celery's lazy
`add_defaults`. A service builds its own app from the settings it was created with.

Stopping a worker: SIGTERM must be remapped to Celery's cold shutdown (REMAP_SIGTERM=SIGQUIT, set by
the image, compose and `make up`), which first waits `worker_soft_shutdown_timeout` for running
jobs, then hands the unfinished ones back to Redis at once for another worker. Celery's default
SIGTERM (warm shutdown) waits for every job to end, up to its 10-minute limit, and the container
is SIGKILLed long before that, leaving the job to the visibility timeout.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu import Queue

from common import kombu_fixes
from common.config import Settings, get_settings
from common.unacked_lease import RenewUnackedLeases

kombu_fixes.apply()  # a worker survives Redis going away while it holds an unacked message

QUEUES = ("veterinaria", "petshop")
TASK_MODULES = ("veterinaria.app.tasks", "petshop.app.tasks")


def celery_config(settings: Settings) -> dict[str, Any]:
    """Every Celery setting, derived from our settings."""
    # Redis: how long an unacked message waits before it is handed to another worker
    transport = {
        "visibility_timeout": settings.visibility_timeout,
        # how often a worker looks for messages whose consumer died (an index scan, cheap)
        "unacked_restore_interval": max(1, min(60, settings.visibility_timeout // 4)),
        "unacked_restore_throttle": 1,
        "socket_connect_timeout": 5,
        "socket_timeout": 30,
        "socket_keepalive": True,
        "health_check_interval": 25,
        "retry_on_timeout": True,
        # one Redis list per priority 0–9 (kombu's default is 0, 3, 6, 9, which would put a user's
        # second and third jobs level with everyone's first); workers read priority 0 of every
        # queue first. jobs.submit sets a job's priority from its owner's unfinished jobs.
        # queue_order_strategy stays round_robin: "priority" would always read veterinaria before
        # petshop, and that is an order between queues, not between messages
        "priority_steps": list(range(10)),
    }
    return dict(
        broker_url=settings.redis_url,
        result_backend=settings.redis_url,
        task_serializer=settings.celery_task_serializer,
        result_serializer=settings.celery_result_serializer,
        accept_content=["json"],
        result_accept_content=["json"],
        timezone="UTC",
        enable_utc=True,
        # routes and queues (seed)
        task_queues=[Queue(name) for name in QUEUES],
        task_default_queue="petshop",
        task_routes={
            "veterinaria.app.tasks.*": {"queue": "veterinaria"},
            "petshop.app.tasks.*": {"queue": "petshop"},
        },
        # delivery guarantees
        task_track_started=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_retry_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        broker_transport_options=transport,
        result_backend_transport_options=transport,
        visibility_timeout=settings.visibility_timeout,
        # time limits: the soft one raises in the task so it can fail cleanly; the hard one kills
        task_soft_time_limit=settings.task_soft_time_limit or None,
        task_time_limit=settings.task_time_limit,
        # retries of transient errors (JobTask.autoretry_for): exponential, jittered, capped;
        # a task whose worker process died is sent again after default_retry_delay, under the same cap
        task_annotations={
            "*": {
                "max_retries": settings.task_max_retries,
                "retry_backoff_max": settings.task_retry_backoff_max,
                "default_retry_delay": settings.task_retry_delay_seconds,
            }
        },
        # worker lifecycle: on SIGTERM (remapped to cold shutdown, see above) running jobs get this
        # long to finish, then go back to Redis; "on idle" also covers a worker holding only
        # delayed retries (a job waiting out a database outage)
        worker_soft_shutdown_timeout=settings.worker_soft_shutdown_timeout,
        worker_enable_soft_shutdown_on_idle=True,
        worker_max_memory_per_child=settings.worker_max_memory_per_child_mb * 1024,  # KiB
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_send_task_events=True,  # Flower
        task_send_sent_event=True,
        # the broker comes and goes: keep trying, at start-up and forever after
        broker_connection_retry_on_startup=True,
        broker_connection_retry=True,
        broker_connection_max_retries=None,
        broker_connection_timeout=5,
        broker_heartbeat=0,
        result_backend_always_retry=True,
        result_backend_max_retries=10,
        result_expires=settings.result_expires_seconds,
        redis_socket_connect_timeout=5,
        redis_socket_timeout=30,
        redis_retry_on_timeout=True,
        # the reconciler, one per service's queue (celery beat)
        beat_schedule={
            f"reconcile-{queue}-jobs": {
                "task": f"{queue}.app.tasks.reconcile_jobs",
                "schedule": settings.reconcile_every_seconds,
                "options": {"expires": settings.reconcile_every_seconds},
            }
            for queue in QUEUES
        } | {
            # the schedules in the database (common/schedules): each service fires its due ones
            f"fire-{queue}-schedules": {
                "task": f"{queue}.app.tasks.fire_schedules",
                "schedule": settings.schedule_check_seconds,
                "options": {"expires": settings.schedule_check_seconds, "priority": 0},
            }
            for queue in QUEUES
        },
    )


def create_celery_app(settings: Settings | None = None) -> Celery:
    """The Celery app, configured from `settings`, or from the process's settings when first needed."""
    app = Celery("timon", include=list(TASK_MODULES))
    # a promise: Celery calls it once, when something first reads app.conf
    app.add_defaults(lambda: celery_config(settings or get_settings()))
    # a job running longer than the visibility timeout is not handed to a second worker
    app.steps["consumer"].add(RenewUnackedLeases)
    return app


# `celery -A common.celery_app ...` (seed) finds this; the task modules register on it
app = create_celery_app()

# every celery process (worker, beat, Flower): our logging instead of Celery's, job log context, worker metrics
from common.telemetry import worker as _telemetry  # noqa: E402, F401
