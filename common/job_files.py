"""The files a job reads: kept while it may be retried, deleted after the commit that completes it.

A submission lists the storage keys its job reads in its params: under `DISCARD_WHEN_FINISHED`
the files nobody needs once the job has completed (an inventory upload: its rows are then in the
database), under `INPUT_FILES` the ones that stay (a clinical document's file is the record).
A failed or cancelled job keeps its files, so an admin's retry (common/job_controls.py) reads the
same file; old ones are removed by the clean-up schedule. Files a job produces for the user
(errores.csv, reports) are not listed and stay.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from common import jobs
from common.jobs import JobStatus
from common.storage import Storage

log = logging.getLogger(__name__)

# the key's name predates retries: these files are discarded when the job *completes*
DISCARD_WHEN_FINISHED = "discard_when_finished"
INPUT_FILES = "input_files"
_installed: set[int] = set()


def input_keys(params: dict[str, Any] | None) -> list[str]:
    """Every storage key a job with these params reads: a retry needs each of them."""
    params = params or {}
    return list(dict.fromkeys([*(params.get(DISCARD_WHEN_FINISHED) or []), *(params.get(INPUT_FILES) or [])]))


def install(storage: Callable[[], Storage]) -> None:
    """Register, once per process, the finish hook that deletes a completed job's discardable files."""
    if _installed:
        return
    _installed.add(1)

    @jobs.on_job_finished
    def discard_inputs(job: jobs.FinishedJob) -> None:
        # finish hooks run after the commit only: a finish that rolls back (an import whose
        # transaction fails) is retried, and the retry needs the file; so does an admin's retry
        # of a failed or cancelled job
        if job.status != JobStatus.COMPLETED:
            return
        for key in list((job.params or {}).get(DISCARD_WHEN_FINISHED) or []):
            try:
                storage().delete(key)
            except Exception:  # a file left behind must not undo the job's outcome
                log.exception("job %s: could not delete %s", job.id, key)
