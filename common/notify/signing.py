"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" with the endpoint's secret.

Headers on every delivery: `X-Timon-Timestamp` (Unix seconds when this attempt was sent),
`X-Timon-Signature` (`sha256=<hex>`) and `X-Timon-Delivery` (the delivery id: the same on retries,
so a receiver can drop a message it already handled). A receiver recomputes the signature over the
raw body, compares it in constant time, and refuses a timestamp older than a few minutes
(`verify(..., tolerance=300)`) so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

TIMESTAMP_HEADER = "X-Timon-Timestamp"
SIGNATURE_HEADER = "X-Timon-Signature"
DELIVERY_HEADER = "X-Timon-Delivery"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh endpoint secret (256 random bits)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Timon-Signature` value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, *, timestamp: str, signature: str, body: bytes, tolerance: int = 300,
           now: float | None = None) -> bool:
    """True when `signature` is ours for `body` and `timestamp` is within `tolerance` seconds of now."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature or "")
