"""The console's server push of a job's status block (console/app/live.py): what goes down the stream.

The render function here stands for the page's own one (a fragment and whether the job is final);
the browser side, over the real stack, is tests/test_console_shop_browser.py's live-progress story.
"""

from __future__ import annotations

import asyncio

from console.app.backend import BackendUnavailable, SessionExpired
from console.app.live import fragment_events, sse


class Client:
    """The request as the stream sees it: only whether the browser is still there."""

    def __init__(self, leaves_after: int | None = None):
        self.checks = 0
        self.leaves_after = leaves_after

    async def is_disconnected(self) -> bool:
        self.checks += 1
        return self.leaves_after is not None and self.checks > self.leaves_after


def events(request, render) -> list[str]:
    async def collect():
        return [event async for event in fragment_events(request, render, page="/tienda/importar/abc", interval=0)]
    return asyncio.run(collect())


def statuses(*blocks):
    """A render that returns these (html, final) pairs in turn, raising any exception among them."""
    pending = list(blocks)

    def render():
        block = pending.pop(0)
        if isinstance(block, Exception):
            raise block
        return block
    return render


def test_an_event_carries_each_line_of_the_fragment_in_its_own_data_field():
    assert sse("fragment", '<div id="x">\n  <p>40 %</p>\n</div>') == (
        'event: fragment\ndata: <div id="x">\ndata:   <p>40 %</p>\ndata: </div>\n\n')


def test_only_a_changed_fragment_is_sent_and_the_final_one_ends_the_stream():
    sent = events(Client(), statuses(("<p>10 %</p>", False), ("<p>10 %</p>", False), ("<p>40 %</p>", False),
                                     ("<p>Terminada</p>", True)))
    assert sent == [sse("fragment", "<p>10 %</p>"), sse("fragment", "<p>40 %</p>"), sse("done", "<p>Terminada</p>")]


def test_an_expired_session_tells_the_page_to_reload_itself_into_the_login():
    sent = events(Client(), statuses(("<p>10 %</p>", False), SessionExpired("Tu sesión ha caducado.")))
    assert sent == [sse("fragment", "<p>10 %</p>"), sse("login", "/tienda/importar/abc")]


def test_a_service_failure_ends_the_stream_quietly_so_the_page_falls_back_to_polling():
    sent = events(Client(), statuses(("<p>10 %</p>", False), BackendUnavailable("La tienda no responde.")))
    assert sent == [sse("fragment", "<p>10 %</p>")]


def test_a_browser_that_left_stops_the_reading():
    render = statuses(*[(f"<p>{n} %</p>", False) for n in range(10)])
    sent = events(Client(leaves_after=3), render)
    assert sent == [sse("fragment", f"<p>{n} %</p>") for n in range(3)]
