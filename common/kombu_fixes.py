"""One correction to kombu 5.7.0 that keeps a worker alive when Redis goes away under it.

The defect: a worker holding an unacked message (a running job with late acks, a notification
task) loses its Redis connection. Celery 5.7's `Consumer.on_connection_error_after_connected`
first calls `connection.collect()`, then `connection.close()`:

1. `collect()` runs `Connection._do_close_self()`, which closes the default channel. Its close
   starts restoring the unacked messages to Redis, which is down: the `ConnectionError` is
   swallowed by `maybe_close_channel`, and the channel is left half-closed (`closed` is still
   false). `collect()` then detaches the transport (`transport.client = None`).
2. `close()` runs `_do_close_self()` again. `_default_channel` still points at that channel,
   because `_do_close_self` never forgets it, so its close runs again, tries the restore again, and
   needs the connection's parameters from `transport.client`, now None:
   `AttributeError: 'NoneType' object has no attribute 'hostname'` (kombu/transport/redis.py,
   `Channel._connparams`). It is not a connection error, `ignore_errors` lets it through, and the
   worker ends with "Unrecoverable error".

The fix is the smallest one at the cause: once `_do_close_self` has run, the connection forgets its
default channel (kombu's `default_channel` makes a new one on next use, as after any close). The
message it held is not lost: it stays in Redis's unacked hash and comes back after the visibility
timeout, or is acked when its job ends; a finished job is skipped by `begin_attempt` if it is
delivered again. Test: tests/faults/test_broker_lost_under_worker.py. Remove this module when a
kombu release clears `_default_channel` on close (check `Connection._do_close_self`).
"""

from __future__ import annotations

import functools

from kombu import Connection

_PATCHED = "_timon_forgets_default_channel"


def apply() -> None:
    """Make `Connection._do_close_self` forget the default channel, even when closing it failed."""
    original = Connection._do_close_self
    if getattr(original, _PATCHED, False):
        return

    @functools.wraps(original)
    def _do_close_self(self: Connection) -> None:
        try:
            original(self)
        finally:
            self._default_channel = None

    setattr(_do_close_self, _PATCHED, True)
    Connection._do_close_self = _do_close_self
