"""The notification outbox: finished jobs whose notifications were never planned, found and sent again.

A finish commits `notified_at = NULL` with the job's new status (common/jobs.py `_finish`); planning
its deliveries sets it (`deliveries.plan`). In between, the finish hook publishes the "notify" task
on a thread after the commit: if Redis was down at that moment the message is lost, and the row
still says so. `<service>.app.tasks.send_owed_notifications`, run by beat, publishes those again.
Planning is idempotent, so a message that was merely slow costs one more look, never a second e-mail.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from common.db import utcnow
from common.jobs import Job

# refused at submission with a 503: the person already had their answer, no e-mail follows it
ANSWERED_AT_ONCE = ("queue_unavailable",)


def send_owed(
    *, session: Session, service: str, older_than: timedelta, publish: Callable[[str, str], None], limit: int = 500,
) -> int:
    """Publish `notify_job_finished` again for each finished job of `service` still owed (finished over
    `older_than` ago, oldest first, at most `limit`); returns how many were published."""
    owed = session.execute(
        select(Job.id, Job.status, Job.error_code)
        .where(Job.service == service, Job.notified_at.is_(None), Job.finished_at.is_not(None),
               Job.finished_at < utcnow() - older_than)
        .order_by(Job.finished_at)
        .limit(limit)
    ).all()
    answered = [row.id for row in owed if row.error_code in ANSWERED_AT_ONCE]
    if answered:
        session.execute(update(Job).where(Job.id.in_(answered)).values(notified_at=utcnow()))
    published = 0
    for row in owed:
        if row.id not in answered:
            publish(row.id, str(row.status))
            published += 1
    return published
