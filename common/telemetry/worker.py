"""Telemetry of the Celery processes: their logging, a job's log context, and the worker's metrics exporter.

Logging: receiving `setup_logging` keeps Celery from installing its own handlers; ours formats
Celery's lines like every other (`common.telemetry.logs`). A job task's lines carry the job's
context from `JobTask.__call__` until `task_postrun`, Celery's own "Task … succeeded" line included;
the request id travels in the message's `request_id` header (`common/enqueue.py`).

Metrics (with `WORKER_METRICS_PORT`): a prefork worker runs jobs in child processes, so their
metrics go to prometheus_client's multiprocess files under `PROMETHEUS_MULTIPROC_DIR` (set in the
environment of the worker command: prometheus_client reads it when imported). The main process
empties that directory when the worker starts (a directory per worker: two workers must not share
one), serves the sum of every child's files plus the queue depths read from Redis at scrape time
on `WORKER_METRICS_HOST:WORKER_METRICS_PORT`, and a child that exits is marked dead so its live
gauges go.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

import redis
from celery import signals
from kombu.transport.redis import Channel
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from common.config import get_settings
from common.telemetry import job_metrics  # noqa: F401  (registers the job-finished hook in every worker process)
from common.telemetry.logs import bind_job_context, clear_context, configure_logging

log = logging.getLogger(__name__)
PRIORITY_STEPS = range(10)  # common/celery_app.py broker_transport_options["priority_steps"]


def _celery_process() -> str:
    """worker, beat or flower: what this `celery` command runs, for the `service` field of its lines."""
    return next((arg for arg in sys.argv[1:] if arg in ("worker", "beat", "flower")), "celery")


@signals.setup_logging.connect
def _setup_logging(loglevel=None, **_kwargs) -> None:
    settings = get_settings()
    level = loglevel if isinstance(loglevel, str) else logging.getLevelName(loglevel or logging.INFO)
    configure_logging(process=_celery_process(), log_format=settings.log_format, level=level or settings.log_level)


@signals.task_prerun.connect
def _bind_request(task=None, **_kwargs) -> None:
    clear_context()
    bind_job_context(request_id=getattr(task.request, "request_id", None) if task is not None else None)


@signals.task_postrun.connect
def _unbind(**_kwargs) -> None:
    clear_context()


def queue_lists(queue: str) -> list[tuple[int, str]]:
    """(priority, Redis list) of a queue: kombu keeps one list per priority step, priority 0 under the bare name."""
    return [(step, f"{queue}{Channel.sep}{step}" if step else queue) for step in PRIORITY_STEPS]


class QueueDepthCollector:
    """`timon_queue_depth{queue, priority}`: messages waiting in Redis, read (LLEN) at each scrape."""

    def __init__(self, redis_url: str, queues: tuple[str, ...]):
        self.client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
        self.queues = queues

    def collect(self):
        family = GaugeMetricFamily("timon_queue_depth", "Messages waiting in a queue, by priority (0 goes first)",
                                   labels=["queue", "priority"])
        lists = [(queue, step, key) for queue in self.queues for step, key in queue_lists(queue)]
        try:
            pipe = self.client.pipeline(transaction=False)
            for _queue, _step, key in lists:
                pipe.llen(key)
            depths = pipe.execute()
        except redis.RedisError as exc:  # the scrape still answers, without depths
            log.warning("queue depth: redis unreachable: %s", exc)
            return
        for (queue, step, _key), depth in zip(lists, depths):
            family.add_metric([queue, str(step)], depth)
        yield family


def _metrics_dir() -> Path | None:
    value = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(value) if value else None


@signals.worker_init.connect
def _clean_metrics_dir(**_kwargs) -> None:
    # before the pool forks: the files of a previous run would be added to this run's counts
    directory = _metrics_dir()
    if get_settings().worker_metrics_port is None or directory is None:
        return
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)


@signals.worker_ready.connect
def _start_exporter(sender=None, **_kwargs) -> None:
    from common.celery_app import QUEUES

    settings = get_settings()
    if settings.worker_metrics_port is None:
        return
    if _metrics_dir() is None:
        log.error("WORKER_METRICS_PORT is set but PROMETHEUS_MULTIPROC_DIR is not: worker metrics are off")
        return
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(QueueDepthCollector(settings.redis_url, QUEUES))
    start_http_server(settings.worker_metrics_port, addr=settings.worker_metrics_host, registry=registry)
    log.info("worker metrics on http://%s:%s/metrics", settings.worker_metrics_host, settings.worker_metrics_port)


@signals.worker_process_shutdown.connect
def _child_exits(pid=None, **_kwargs) -> None:
    if _metrics_dir() is not None:
        mark_process_dead(pid or os.getpid())
