"""A worker keeps the messages it holds from being handed to another worker while it is alive.

With late acks on Redis, a message a worker has reserved sits in kombu's `unacked_index` sorted set,
scored by the time it was delivered. Any worker's restore scan gives back to the queue every entry
older than the visibility timeout, whether or not its worker is still running the job, so a job that
runs longer than the visibility timeout starts a second time on another worker.

This consumer step renews the lease: every quarter of the visibility timeout it sets the score of
each message this worker still holds (reserved or running, not yet acked) to now. `ZADD XX` only
updates entries that are there, so a message already acked or handed back is not brought back. A
worker that dies stops renewing, and its messages come back after the visibility timeout as before.
Test: tests/faults/test_worker_lifecycle.py (a job longer than the visibility timeout runs once).
"""

from __future__ import annotations

import logging
import time

from celery import bootsteps
from celery.worker import state

log = logging.getLogger(__name__)


class RenewUnackedLeases(bootsteps.StartStopStep):
    """Consumer step: refresh the unacked-index score of every message this worker holds."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, c, **kwargs):
        self.timer_entry = None
        super().__init__(c, **kwargs)

    def start(self, c) -> None:
        interval = max(1.0, float(c.app.conf.visibility_timeout or 3600) / 4)
        self.timer_entry = c.timer.call_repeatedly(interval, self.renew, (c,), priority=10)

    def stop(self, c) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None

    shutdown = stop

    def renew(self, c) -> None:
        """One renewal; never raises (a failed renewal only shortens the lease)."""
        consumer = getattr(c, "task_consumer", None)
        channel = getattr(consumer, "channel", None)
        index = getattr(getattr(channel, "qos", None), "unacked_index_key", None)  # the Redis transport only
        if index is None:
            return
        tags = [request.message.delivery_tag for request in list(state.reserved_requests) if not request.acknowledged]
        if not tags:
            return
        try:
            with channel.conn_or_acquire() as client:
                client.zadd(index, dict.fromkeys(tags, time.time()), xx=True)
        except Exception:  # broker away: the restore scan cannot run either; the next renewal tries again
            log.warning("could not renew the lease of %d unacked message(s)", len(tags), exc_info=True)
