"""Server push for a job's status block: a Server-Sent Events stream of the rendered fragment.

The browser opens one EventSource per job page (static/live-status.js); the console reads the job
from the service's public API every POLL_SECONDS on its own side (a LAN call) and sends the
fragment only when its HTML changed, so a progress write reaches the page within one interval
instead of within the browser's 1 s poll plus a swap. Events:

- `fragment` — the status block's new HTML (the job still runs);
- `done` — the last HTML (the job reached a final status); the stream ends;
- `login` — the token expired mid-stream: the page URL to reload, whose normal 401 handling sends
  the user to the login with the message (a stream cannot change the session cookie itself).

The block is rendered once before the stream starts, so a refused token or a job that is not there
is answered like any page (the redirect to the login, the Spanish error page) rather than with an
empty 200 stream. Any later backend error ends the stream without an event: the browser falls back
to the htmx poll, which renders the error page as every fragment does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from fastapi import Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from console.app.backend import BackendError, SessionExpired
from console.app.rendering import render

log = logging.getLogger(__name__)
POLL_SECONDS = 0.2
MAX_SECONDS = 1800  # a stuck job does not hold a stream forever; the browser then falls back to polling
KEEPALIVE_SECONDS = 10  # a comment now and then: a vanished client is noticed even while nothing changes

#: what renders the block: (html, final) — final once the job reached a status that no longer changes
Render = Callable[[], tuple[str, bool]]


def sse(event: str, data: str) -> str:
    """One Server-Sent Event; every line of `data` gets its own `data:` field (the browser rejoins them)."""
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {event}\n{lines}\n"


async def fragment_events(request: Request, render: Render, *, page: str, first: tuple[str, bool] | None = None,
                          interval: float = POLL_SECONDS, max_seconds: float = MAX_SECONDS) -> AsyncIterator[str]:
    """The stream's events: the fragment whenever it changed, until the job is final or the client left.
    `first` is a rendering already made (by `event_stream`), sent before the backend is asked again."""
    last = None
    quiet = 0.0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_seconds
    while loop.time() < deadline:
        if await request.is_disconnected():
            return
        if first is not None:
            (html, final), first = first, None
        else:
            try:
                # the backend client is synchronous (shared with the pages): one short call in a worker thread
                html, final = await run_in_threadpool(render)
            except SessionExpired:
                yield sse("login", page)
                return
            except BackendError as exc:
                log.info("status stream for %s ends: %s", page, exc.message)
                return
        if final:
            yield sse("done", html)
            return
        if html != last:
            last, quiet = html, 0.0
            yield sse("fragment", html)
        elif quiet >= KEEPALIVE_SECONDS:
            quiet = 0.0
            yield ": sigue\n\n"
        await asyncio.sleep(interval)
        quiet += interval


async def event_stream(request: Request, render: Render, *, page: str) -> StreamingResponse:
    """The SSE response for the job shown at `page`; headers ask every proxy on the way not to buffer or cache it.

    The first rendering happens here, before any byte is sent: its SessionExpired or BackendError
    reaches the console's handlers, which answer as they do for every page."""
    first = await run_in_threadpool(render)
    return StreamingResponse(fragment_events(request, render, page=page, first=first), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def status_events(request: Request, template: str, context_of: Callable[[], dict], *, page: str) -> StreamingResponse:
    """The stream of a job page's status block: `template` rendered from `context_of()` (with its
    `active` flag), the same fragment the htmx poll gets."""

    def status() -> tuple[str, bool]:
        context = context_of()
        return render(request, template, **context).body.decode(), not context["active"]

    return await event_stream(request, status, page=page)
