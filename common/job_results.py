"""How big a job's result may be: the safety net under the caps domain code puts on its own lists."""

from __future__ import annotations

import json
import logging
from typing import Any

log = logging.getLogger(__name__)

#: The largest result a job row keeps, as JSON. Domain code caps its own lists (counts, the first N,
#: a `_truncated` flag); this is the safety net for a result that still came out too big.
MAX_RESULT_BYTES = 256 * 1024
_LIST_ITEMS = 50
_TEXT_CHARS = 2000


def _trimmed(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _trimmed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_trimmed(item) for item in value[:_LIST_ITEMS]]
    if isinstance(value, str) and len(value) > _TEXT_CHARS:
        return value[:_TEXT_CHARS] + "…"
    return value


def bound_result(result: dict[str, Any], *, job_id: str = "?") -> dict[str, Any]:
    """The result as it is when its JSON fits MAX_RESULT_BYTES; else lists and texts cut, flagged."""
    size = len(json.dumps(result, default=str))
    if size <= MAX_RESULT_BYTES:
        return result
    log.warning("job %s: result of %d bytes trimmed to fit %d", job_id, size, MAX_RESULT_BYTES)
    trimmed = {**_trimmed(result), "result_truncated": True}
    if len(json.dumps(trimmed, default=str)) > MAX_RESULT_BYTES:  # many keys: keep the scalars only
        trimmed = {key: value for key, value in trimmed.items() if not isinstance(value, (dict, list))}
    return trimmed
