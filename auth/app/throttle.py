"""Login throttling: failed logins counted per account and per client address, in Redis.

Why Redis (through the `limits` library's moving window): every auth process, on every machine,
must see the same counts, or N processes would allow N times the attempts; Redis is already the
system's shared state for Celery, and a moving window has no boundary where an attacker gets two
windows' worth of tries in a row. Only failures count, so a person who logs in correctly is never
slowed down by their own logins; a success clears the account's failures.

If Redis cannot be reached, each process keeps counting on its own (in memory) and says so in its
log: logins stay possible, and throttled, while the queue is down.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

from common.config import Settings
from common.errors import TooManyRequests

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempt:
    """Who is trying to log in, and from where."""

    username: str
    address: str

    @property
    def account(self) -> str:
        return self.username.strip().lower()


class LoginThrottle:
    """`check` before verifying a password, `failed` after a wrong one, `succeeded` after a right one."""

    def __init__(self, settings: Settings):
        window = settings.login_failure_window_seconds
        self.per_account = RateLimitItemPerSecond(settings.login_max_failures_per_account, window)
        self.per_address = RateLimitItemPerSecond(settings.login_max_failures_per_address, window)
        self.shared = MovingWindowRateLimiter(
            RedisStorage(settings.redis_url, key_prefix="timon-login", socket_connect_timeout=1, socket_timeout=1)
        )
        self.local = MovingWindowRateLimiter(MemoryStorage())

    def check(self, attempt: Attempt) -> None:
        """TooManyRequests (429, Retry-After) when the account or the address has failed too often lately."""
        for item, identity in self._limits(attempt):
            if not self._call("test", item, identity):
                stats = self._call("get_window_stats", item, identity)
                retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                raise TooManyRequests(
                    "Demasiados intentos fallidos de inicio de sesión. Espera "
                    f"{_minutes(retry_after)} antes de volver a intentarlo o pide a un administrador "
                    "que revise la cuenta.",
                    retry_after=retry_after,
                    code="login_throttled",
                )

    def failed(self, attempt: Attempt) -> None:
        for item, identity in self._limits(attempt):
            self._call("hit", item, identity)

    def succeeded(self, attempt: Attempt) -> None:
        self._call("clear", self.per_account, ("account", attempt.account))

    def _limits(self, attempt: Attempt):
        yield self.per_account, ("account", attempt.account)
        yield self.per_address, ("address", attempt.address)

    def _call(self, method: str, item, identifiers: tuple[str, str]):
        try:
            return getattr(self.shared, method)(item, *identifiers)
        except Exception as exc:  # any Redis failure: fall back to this process's own counts
            log.warning("login throttle: Redis unavailable, counting in this process only: %s", exc)
            return getattr(self.local, method)(item, *identifiers)


def _minutes(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} segundos"
    minutes = math.ceil(seconds / 60)
    return "1 minuto" if minutes == 1 else f"{minutes} minutos"
