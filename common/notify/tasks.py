"""The Celery tasks that deliver notifications.

The finish hook (`hook.install_hook`, run after the commit that finished a job) only hands one message to a
background thread: `<service>.app.tasks.notify_job_finished(job_id, status)`. It never touches the
database and never waits for Redis, so a notification cannot fail or delay its job. In a worker,
that task plans the deliveries (`deliveries.plan`) and queues one
`<service>.app.tasks.deliver_notification(delivery_id)` each. Both tasks are named after the
service's tasks module, so the seed's routes send them to its queue and the seed's worker
command runs them.

A finish whose "notify" message never reached Redis is still owed in the jobs table:
`<service>.app.tasks.send_owed_notifications` (beat, every RECONCILE_EVERY_SECONDS) publishes it
again after NOTIFY_OUTBOX_AFTER_SECONDS (common/notify/outbox.py).

Retries of a delivery are its own (NOTIFY_MAX_RETRIES, exponential backoff from
NOTIFY_RETRY_BACKOFF_SECONDS up to NOTIFY_RETRY_BACKOFF_MAX, full jitter), not the jobs' policy:
a webhook down for an hour is worth trying for longer than a job's database hiccup.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from celery import Celery, Task, signals
from celery.utils.time import get_exponential_backoff_interval

from common.config import Settings, get_settings
from common.notify import channels, deliveries, messages, outbox
from common.notify.hook import install_hook
from common.notify.models import Channel
from common.worker import DATABASE_ERRORS, TRANSIENT_ERRORS, task_session

log = logging.getLogger(__name__)

@signals.worker_init.connect
def _install_hook_in_worker(sender=None, **_kwargs) -> None:
    # in the worker's main process before it forks its children (they inherit the hook); importing
    # a tasks module elsewhere (a test, a shell) installs nothing
    install_hook(sender.app)


class DeliveryTask(Task):
    """Base of deliver_notification: a bug or a dead database ends the delivery `failed`, never silently queued."""

    abstract = True

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        log.error("delivery %s failed: %r", args[0] if args else "?", exc)
        try:
            with task_session() as session:
                deliveries.mark_failed(session=session, delivery_id=args[0],
                                       error="Error inesperado al enviar; el registro del worker tiene los detalles.")
        except Exception:
            log.exception("delivery %s: could not record its failure", args[0] if args else "?")


def register_notification_tasks(
    app: Celery, service: str, summaries: Mapping[str, messages.Summarize] | None = None,
) -> tuple[Task, Task]:
    """The two notification tasks of `service`, describing its job kinds with `summaries`."""
    summaries = dict(summaries or {})
    deliver_name = f"{service}.app.tasks.deliver_notification"

    def summarize(job: messages.JobFacts) -> messages.Summary:
        return summaries.get(job.kind, messages.default_summary)(job)

    @app.task(name=f"{service}.app.tasks.notify_job_finished", ignore_result=True,
              autoretry_for=TRANSIENT_ERRORS, retry_backoff=True, retry_jitter=True)
    def notify_job_finished(job_id: str, status: str) -> int:
        settings = get_settings()
        with task_session() as session:
            ids = deliveries.plan(session=session, job_id=job_id, status=status, summarize=summarize,
                                  console_url=settings.console_public_url, timezone=settings.console_timezone)
        for delivery_id in ids:  # after the commit: a delivery task never looks for a row not yet visible
            app.send_task(deliver_name, args=[delivery_id], ignore_result=True)
        return len(ids)

    @app.task(name=deliver_name, base=DeliveryTask, bind=True, ignore_result=True,
              autoretry_for=DATABASE_ERRORS, retry_backoff=True, retry_jitter=True)
    def deliver_notification(self: Task, delivery_id: int) -> str:
        settings = get_settings()
        with task_session() as session:
            attempt = deliveries.begin(session=session, delivery_id=delivery_id)
        if attempt is None:
            return "skipped"
        try:
            send(attempt, settings=settings)
        except channels.DeliveryError as exc:
            final = not exc.retry or self.request.retries >= settings.notify_max_retries
            with task_session() as session:
                record = deliveries.mark_failed if final else deliveries.record_error
                record(session=session, delivery_id=delivery_id, error=exc.message)
            log.warning("delivery %s (%s) attempt %s: %s%s", delivery_id, attempt.channel, attempt.number, exc.message,
                        "" if final else "; retrying")
            if final:
                return "failed"
            countdown = get_exponential_backoff_interval(
                factor=settings.notify_retry_backoff_seconds, retries=self.request.retries,
                maximum=max(1, min(settings.notify_retry_backoff_max, settings.visibility_timeout - 60)), full_jitter=True,
            )  # a delayed message waits unacked in Redis: past the visibility timeout it would be delivered twice
            raise self.retry(countdown=countdown, max_retries=settings.notify_max_retries) from None
        with task_session() as session:
            deliveries.mark_sent(session=session, delivery_id=delivery_id)
        log.info("delivery %s (%s) sent on attempt %s", delivery_id, attempt.channel, attempt.number)
        return "sent"

    @app.task(name=f"{service}.app.tasks.send_owed_notifications", ignore_result=True, acks_late=False)
    def send_owed_notifications() -> int:
        settings = get_settings()
        with task_session() as session:
            return outbox.send_owed(
                session=session, service=service, older_than=timedelta(seconds=settings.notify_outbox_after_seconds),
                publish=lambda job_id, status: notify_job_finished.apply_async(args=[job_id, status], ignore_result=True),
            )

    return notify_job_finished, deliver_notification


def send(attempt: deliveries.Attempt, *, settings: Settings) -> None:
    """Send one attempt through its channel; raises DeliveryError."""
    if attempt.channel is Channel.EMAIL:
        channels.send_email(settings=settings, to=attempt.address, payload=attempt.payload)
    elif attempt.channel is Channel.SMS:
        channels.send_sms(settings=settings, to=attempt.address, body=attempt.payload["body"])
    else:
        channels.post_webhook(settings=settings, url=attempt.address, secret=attempt.secret or "",
                              body={"delivery_id": attempt.delivery_id, **attempt.payload["body"]},
                              delivery_id=attempt.delivery_id)
