"""Files a job reads and nobody needs once it has ended: deleted after the commit that ends it.

A submission lists such storage keys in its params under `DISCARD_WHEN_FINISHED` (an inventory
upload: once imported its rows are in the database, and a failed import is submitted again with a
new upload). Files a job produces for the user (errores.csv, reports) are not listed and stay.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from common import jobs
from common.storage import Storage

log = logging.getLogger(__name__)

DISCARD_WHEN_FINISHED = "discard_when_finished"
_installed: set[int] = set()


def install(storage: Callable[[], Storage]) -> None:
    """Register, once per process, the finish hook that deletes a finished job's discardable files."""
    if _installed:
        return
    _installed.add(1)

    @jobs.on_job_finished
    def discard_inputs(job: jobs.FinishedJob) -> None:
        # finish hooks run after the commit only: a finish that rolls back (an import whose
        # transaction fails) is retried, and the retry needs the file
        for key in list((job.params or {}).get(DISCARD_WHEN_FINISHED) or []):
            try:
                storage().delete(key)
            except Exception:  # a file left behind must not undo the job's outcome
                log.exception("job %s: could not delete %s", job.id, key)
