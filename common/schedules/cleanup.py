"""The storage cleanup job: files older than N days that no live job or document still needs.

Each queue service cleans its own top folders (petshop: `imports`, veterinaria: `documents`; both
write `reports/<job id>/`). A file is kept when it is younger than the cutoff, or when:

- it sits in a job's folder (`imports/<job id>/errores.csv`, `reports/<job id>/informe.pdf`)
  and that job is still queued, running or retrying — or the job belongs to the other service;
- any unfinished job of this service names its key in its params (an import's upload waiting to run);
- the service says a record of its own needs it (a clinical document's file).

Everything else older than the cutoff goes: the uploads of failed jobs (kept for a retry), old
errores.csv and report files, leftovers of crashed uploads. The result lists what was deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.enqueue import Enqueuer
from common.jobs import ACTIVE, Job
from common.schedules.kinds import ScheduledKind
from common.security import Principal
from common.storage import FileEntry, Storage

KIND = "storage_cleanup"
TASK = "clean_storage"
LISTED_IN_RESULT = 200


class CleanupParams(BaseModel):
    """What a cleanup run deletes: files older than `older_than_days`."""

    model_config = ConfigDict(extra="forbid")

    older_than_days: int = Field(ge=1, le=3650, description="Delete files last changed more than this many days ago")


@dataclass(frozen=True)
class CleanupScope:
    """The part of storage one service cleans, and what its own records still need."""

    service: str
    prefixes: tuple[str, ...]  # top folders: uploads by date, and files in folders named by job id
    needed_by_records: Callable[[Session], Iterable[str]] = lambda session: ()


def clean_storage(
    *, session: Session, storage: Storage, scope: CleanupScope, older_than_days: int, now: datetime,
) -> dict[str, Any]:
    """Delete the scope's files older than `older_than_days` that nothing live needs; the job result."""
    cutoff = now - timedelta(days=older_than_days)
    needed = _keys_in_params(session, scope.service) | set(scope.needed_by_records(session))
    deleted: list[FileEntry] = []
    kept_needed = kept_young = 0
    for entry in _entries(storage, scope.prefixes):
        if entry.modified_at >= cutoff:
            kept_young += 1
            continue
        if entry.key in needed or not _job_folder_expendable(session, scope.service, entry.key):
            kept_needed += 1
            continue
        storage.delete(entry.key)
        deleted.append(entry)
    deleted.sort(key=lambda entry: entry.key)
    return {
        "older_than_days": older_than_days,
        "cutoff": cutoff.isoformat(),
        "deleted_total": len(deleted),
        "deleted_bytes": sum(entry.size for entry in deleted),
        "deleted": [{"key": entry.key, "size": entry.size, "modified_at": entry.modified_at.isoformat()}
                    for entry in deleted[:LISTED_IN_RESULT]],
        "deleted_truncated": len(deleted) > LISTED_IN_RESULT,
        "kept_needed": kept_needed,
        "kept_recent": kept_young,
        "summary": f"Se borraron {len(deleted)} archivos de más de {older_than_days} días "
                   f"({_megabytes(sum(entry.size for entry in deleted))}); se conservaron {kept_needed} "
                   f"que aún necesita un trabajo o un registro y {kept_young} más recientes.",
    }


def _entries(storage: Storage, prefixes: tuple[str, ...]) -> Iterator[FileEntry]:
    for prefix in prefixes:
        yield from storage.list_files(prefix)


def _keys_in_params(session: Session, service: str) -> set[str]:
    """Every text in the params of this service's unfinished jobs: the storage keys they will read."""
    found: set[str] = set()
    for params in session.scalars(select(Job.params).where(Job.service == service, Job.status.in_(ACTIVE))):
        _collect_strings(params, found)
    return found


def _collect_strings(value: Any, into: set[str]) -> None:
    if isinstance(value, str):
        into.add(value)
    elif isinstance(value, dict):
        for item in value.values():
            _collect_strings(item, into)
    elif isinstance(value, list):
        for item in value:
            _collect_strings(item, into)


def _job_folder_expendable(session: Session, service: str, key: str) -> bool:
    """False for a file in the folder of an unfinished job, or of another service's job."""
    parts = key.split("/")
    try:
        job_id = str(uuid.UUID(parts[1])) if len(parts) > 2 else None
    except ValueError:
        job_id = None  # a dated upload folder (imports/2026/11/…)
    if job_id is None:
        return True
    job = session.get(Job, job_id)
    if job is None:
        return True  # nobody can reach it: downloads go through the job
    return job.service == service and job.status not in ACTIVE


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")


def cleanup_kind() -> ScheduledKind:
    """The storage cleanup as a schedulable kind (the same on every queue service)."""

    def submit(*, session: Session, enqueuer: Enqueuer, owner: Principal, params: CleanupParams) -> Job:
        return enqueuer.submit(session=session, kind=KIND, task=TASK, owner=owner, params=params.model_dump())

    return ScheduledKind(
        name=KIND,
        description="Borra los archivos de más de N días que ya no necesita ningún trabajo en curso ni ningún "
                    "registro: subidas de trabajos fallidos, errores.csv e informes antiguos.",
        params=CleanupParams, submit=submit,
    )
