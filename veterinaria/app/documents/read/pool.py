"""A few kept-alive OCR helper processes, so one multi-page scan can keep several cores busy.

Why subprocesses and not `multiprocessing`: Celery's prefork children are daemonic, and a daemonic
process may not start `multiprocessing` children ("daemonic processes are not allowed to have
children"). A plain subprocess has no such rule. Each helper (`python -m veterinaria.app.documents.read.helper`)
opens its own engine once and then reads page images from a pipe and answers PageTexts, until the
pipe closes: a helper never outlives the process that started it.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

from PIL import Image

from veterinaria.app.documents.read.results import PageText

_PROJECT_ROOT = Path(__file__).resolve().parents[3]


@dataclass
class PageScan:
    """A page that needs OCR: its image and the resolution it was rendered or scanned at."""

    number: int
    image: Image.Image
    dpi: int | None


class HelperDied(RuntimeError):
    """An OCR helper process died; `page` is set when one page took every try with it."""

    def __init__(self, message: str, page: int | None = None) -> None:
        super().__init__(message)
        self.page = page


class _Helper:
    def __init__(self) -> None:
        to_child_read, to_child_write = os.pipe()
        from_child_read, from_child_write = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PROJECT_ROOT), env.get("PYTHONPATH")]))
        env.setdefault("OMP_THREAD_LIMIT", "1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "veterinaria.app.documents.read.helper", str(to_child_read), str(from_child_write)],
            pass_fds=(to_child_read, from_child_write), stdin=subprocess.DEVNULL, env=env,
        )
        os.close(to_child_read)
        os.close(from_child_write)
        self.outbox = Connection(to_child_write, readable=False)
        self.inbox = Connection(from_child_read, writable=False)

    def submit(self, scan: PageScan) -> None:
        image = scan.image if scan.image.mode == "L" else scan.image.convert("L")
        self.outbox.send((scan.number, image.size, image.tobytes(), scan.dpi))

    def result(self) -> PageText:
        try:
            status, payload = self.inbox.recv()
        except (EOFError, OSError):
            raise HelperDied(f"OCR helper {self.process.pid} died (exit code {self.process.poll()})") from None
        if status != "ok":
            raise RuntimeError(f"OCR helper failed: {payload}")
        return PageText(**payload)

    def close(self, kill: bool = False) -> None:
        for connection in (self.outbox, self.inbox):
            connection.close()  # the helper reads EOF and exits
        if kill:
            self.process.kill()  # mid-page after an error or a time limit: do not wait for it
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class OcrPool:
    """`size` helper processes; `run` OCRs pages on whichever helper is free.

    A helper can die at any moment (the OOM killer, a crash in Tesseract), also between the
    check that found it alive and the page sent to it: a page whose helper died, on the way in
    (BrokenPipeError) or on the way out (HelperDied), goes to a fresh helper that takes the dead
    one's place. A page that kills `MAX_TRIES` helpers in a row fails the document.
    """

    MAX_TRIES = 2

    def __init__(self, size: int) -> None:
        self.size = size
        self._helpers = [_Helper() for _ in range(size)]

    def run(self, items: Iterable[PageText | PageScan], on_result: Callable[[PageText], None]) -> None:
        """Send every PageScan to a free helper (ready PageTexts pass straight through) until all are read."""
        idle = list(self._helpers)
        busy: dict[Connection, tuple[_Helper, PageScan, int]] = {}

        def send(helper: _Helper, scan: PageScan, tries: int) -> None:
            while True:
                try:
                    helper.submit(scan)
                except OSError:  # BrokenPipeError: it died while idle
                    helper = self._replace(helper, scan, tries)
                    tries += 1
                    continue
                busy[helper.inbox] = (helper, scan, tries)
                return

        def collect() -> None:
            for inbox in wait(list(busy)):
                helper, scan, tries = busy.pop(inbox)
                try:
                    page = helper.result()
                except HelperDied:  # it died on this page: once more on a fresh helper
                    send(self._replace(helper, scan, tries), scan, tries + 1)
                    continue
                idle.append(helper)
                on_result(page)

        for item in items:  # the next page renders while the helpers read the previous ones
            if isinstance(item, PageText):
                on_result(item)
                continue
            while not idle:
                collect()
            send(idle.pop(), item, 1)
        while busy:
            collect()

    def _replace(self, dead: _Helper, scan: PageScan, tries: int) -> _Helper:
        """A fresh helper in the dead one's place; HelperDied if this page has used up its tries."""
        dead.close(kill=True)
        if tries >= self.MAX_TRIES:
            raise HelperDied(f"page {scan.number}: {tries} OCR helpers died reading it (exit code {dead.process.poll()})",
                             page=scan.number)
        fresh = _Helper()
        self._helpers[self._helpers.index(dead)] = fresh
        return fresh

    def alive(self) -> bool:
        return all(helper.process.poll() is None for helper in self._helpers)

    def close(self, kill: bool = False) -> None:
        for helper in self._helpers:
            helper.close(kill)


_pool: OcrPool | None = None


def get_pool(size: int) -> OcrPool:
    """This process's helper pool of `size` processes, started on first use and kept alive."""
    global _pool
    if _pool is not None and (_pool.size != size or not _pool.alive()):
        close_pool()
    if _pool is None:
        _pool = OcrPool(size)
    return _pool


def close_pool(kill: bool = False) -> None:
    """Stop the helpers (they also stop by themselves when this process exits); `kill` does not wait."""
    global _pool
    if _pool is not None:
        pool, _pool = _pool, None
        pool.close(kill)


atexit.register(close_pool)
