"""What each channel says about a finished job: Spanish text built from the job and its service's summary.

A service describes its own job kinds (`Summary`: "Tu importación de inventario", "1.234 filas, 3 con
errores", the console page to open); this module turns that into an e-mail (plain text and HTML),
an SMS of at most 160 characters and a webhook body. Pure functions: tested without any server.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from common.notify.models import Channel, Event

SMS_MAX_CHARS = 160


@dataclass(frozen=True)
class JobFacts:
    """What a message may say about a job (read from its row when the job finished)."""

    id: str
    service: str
    kind: str
    status: str
    owner_username: str
    finished_at: datetime
    result: Mapping[str, Any] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_code: str | None = None


@dataclass(frozen=True)
class Summary:
    """A service's description of one finished job, in Spanish."""

    label: str  # the subject of the sentence: "Tu importación de inventario"
    headline: str = ""  # what a completed job achieved: "1.234 filas, 3 con errores"
    details: tuple[str, ...] = ()  # further lines for the e-mail
    path: str = "/trabajos"  # the console page about it


Summarize = Callable[[JobFacts], Summary]


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    sms: str
    webhook: dict[str, Any]

    def payload(self, channel: Channel) -> dict[str, Any]:
        """What the delivery log keeps for one channel, sent as is on every attempt."""
        if channel is Channel.EMAIL:
            return {"subject": self.subject, "text": self.text, "html": self.html}
        if channel is Channel.SMS:
            return {"body": self.sms}
        return {"body": self.webhook}


def number(value: Any) -> str:
    """An integer the Spanish way: 1.234 (a thousands dot, as in the messages people read)."""
    try:
        return f"{int(value):,}".replace(",", ".")
    except (TypeError, ValueError):
        return "?"


def plural(count: Any, one: str, many: str) -> str:
    return f"{number(count)} {one if count == 1 else many}"


def diagnostic_summary(job: JobFacts) -> Summary:
    result = job.result or {}
    return Summary(label="Tu diagnóstico", headline=f"{plural(result.get('steps', 0), 'paso', 'pasos')} sin problemas")


def default_summary(job: JobFacts) -> Summary:
    if job.kind == "diagnostic":
        return diagnostic_summary(job)
    return Summary(label=f"Tu trabajo «{job.kind}»")


def sentence(job: JobFacts, summary: Summary) -> str:
    """The one line every channel leads with: "Tu importación de inventario ha terminado: 1.234 filas"."""
    if job.status == Event.COMPLETED:
        return f"{summary.label} ha terminado" + (f": {summary.headline}" if summary.headline else "")
    if job.status == Event.CANCELLED:
        return f"{summary.label} se ha cancelado"
    return f"{summary.label} ha fallado"


def compose(job: JobFacts, summary: Summary, *, console_url: str, timezone: str) -> Message:
    """The message about `job` for every channel."""
    line = sentence(job, summary)
    link = f"{console_url.rstrip('/')}{summary.path}"
    when = job.finished_at.astimezone(ZoneInfo(timezone)).strftime("%d/%m/%Y %H:%M")
    body = [f"{line}."]
    if job.status == Event.COMPLETED:
        body += list(summary.details)
    elif job.error:
        body.append(f"Motivo: {job.error}")
    facts = [f"Trabajo: {job.id}", f"Terminado: {when} ({timezone})"]
    text = "\n".join([
        f"Hola, {job.owner_username}:", "", *body, "", *facts, f"Ver en la consola: {link}", "",
        "— Timón Pet Store",
        "Recibes este correo porque lo elegiste en tus preferencias de notificación.",
    ]) + "\n"
    paragraphs = "".join(f"<p>{html.escape(part)}</p>" for part in body)
    facts_html = "".join(f"<li>{html.escape(part)}</li>" for part in facts)
    page = (
        '<!doctype html><html lang="es"><body>'
        f"<p>Hola, {html.escape(job.owner_username)}:</p>{paragraphs}<ul>{facts_html}</ul>"
        f'<p><a href="{html.escape(link, quote=True)}">Ver en la consola</a></p>'
        "<p>— Timón Pet Store<br><small>Recibes este correo porque lo elegiste en tus preferencias de "
        "notificación.</small></p></body></html>"
    )
    return Message(
        subject=line,
        text=text,
        html=page,
        sms=sms_text(line, link),
        webhook={
            "event": f"job.{job.status}",
            "job_id": job.id,
            "service": job.service,
            "kind": job.kind,
            "status": job.status,
            "error_code": job.error_code,
            "error": job.error,
            "summary": line,
            "finished_at": job.finished_at.isoformat(),
            "console_url": link,
        },
    )


def sms_text(line: str, link: str) -> str:
    """"Timón: <line>. <link>", the line shortened (with …) so the whole fits in 160 characters."""
    prefix, tail = "Timón: ", f". {link}"
    room = SMS_MAX_CHARS - len(prefix) - len(tail)
    if room < 20:  # a link too long to carry: the sentence alone
        tail, room = ".", SMS_MAX_CHARS - len(prefix) - 1
    if len(line) > room:
        line = line[: room - 1].rstrip() + "…"
    return f"{prefix}{line}{tail}"
