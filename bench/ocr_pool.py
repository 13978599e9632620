"""OCR helpers: a thread pool with one engine per thread against the helper processes, same pages.

tesserocr releases the GIL while Tesseract works, so threads could keep two cores busy without
the subprocesses, pipes and pixel copies of `ocr/pool.py`. This prints both wall times, serial
as the baseline, the ratio threads ÷ processes, and how much parallelism the machine gives now.
Run it with OMP_THREAD_LIMIT=1 (as the helpers run), so OpenMP threads do not blur the comparison.

    .venv/bin/python bench/ocr_pool.py                 # 6 dense pages, 2 workers, best of 2 rounds
    .venv/bin/python bench/ocr_pool.py --pages 8 --rounds 3
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ocr_speed import dense_lines, parallel_capacity  # noqa: E402
from tests.veterinaria import pages  # noqa: E402
from veterinaria.app.documents.read import OcrEngine, get_engine  # noqa: E402
from veterinaria.app.documents.read.page_ocr import read_page  # noqa: E402
from veterinaria.app.documents.read.pool import OcrPool, PageScan  # noqa: E402


class ThreadPool:
    """`size` threads, each with its own engine (an engine is not thread-safe)."""

    def __init__(self, size: int) -> None:
        self._local = threading.local()
        self._executor = ThreadPoolExecutor(size, initializer=self._open)
        list(self._executor.map(lambda _: None, range(size)))  # engines loaded before the clock starts

    def _open(self) -> None:
        self._local.engine = OcrEngine()

    def run(self, scans: list[PageScan]) -> list[str]:
        read = lambda scan: read_page(scan.image, number=scan.number, engine=self._local.engine, dpi=scan.dpi).text  # noqa: E731
        return list(self._executor.map(read, scans))

    def close(self) -> None:
        self._executor.shutdown()


def best(run, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    scans = [PageScan(number=n + 1, image=pages.render_page(dense_lines(n), dpi=300, font_pt=9), dpi=300)
             for n in range(args.pages)]
    engine = get_engine()

    serial = best(lambda: [read_page(s.image, number=s.number, engine=engine, dpi=s.dpi) for s in scans], args.rounds)
    processes = OcrPool(args.workers)
    try:
        texts_p: list[str] = []
        process_time = best(lambda: (texts_p.clear(), processes.run(scans, lambda page: texts_p.append(page.text))),
                            args.rounds)
    finally:
        processes.close()
    threads = ThreadPool(args.workers)
    try:
        texts_t: list[str] = []
        thread_time = best(lambda: texts_t.__init__(threads.run(scans)), args.rounds)
    finally:
        threads.close()
    capacity = parallel_capacity()

    print(f"{args.pages} dense A4 pages at 300 dpi, {args.workers} workers, best of {args.rounds}")
    print(f"  serial, one engine:               {serial:6.2f} s")
    print(f"  {args.workers} helper processes:               {process_time:6.2f} s  ({serial / process_time:.2f}× serial)")
    print(f"  {args.workers} threads, one engine each:       {thread_time:6.2f} s  ({serial / thread_time:.2f}× serial)")
    print(f"  threads ÷ processes (wall time):  {thread_time / process_time:6.2f}")
    print(f"  same text from both: {sorted(texts_t) == sorted(texts_p)}")
    print(f"  parallel capacity of this machine now: {capacity:.2f} cores' worth from 2 busy processes")
    if capacity < 1.5:
        print("  (under 1.5 cores free neither can run two pages at once: the ratio says little; rerun when idle)")


if __name__ == "__main__":
    main()
