"""The OCR helper processes: same text as this process, replaced when they die (idle or mid-page),
started inside Celery's daemonic children, and a page that stops them fails its job in Spanish."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import billiard
import pytest

from common.config import Settings
from common.errors import BadInput
from common.storage import LocalStorage
from veterinaria.app.documents.pipeline import read_document
from veterinaria.app.documents.read import close_pool, extract_document, get_engine, pool
from veterinaria.app.models import Document


@pytest.fixture(scope="module")
def engine():
    return get_engine()


def test_helper_processes_read_pages_like_this_process(document, page_image, pdf_file, engine):
    samples = [document(0), document(1), document(2)]
    path = pdf_file([page_image(sample.lines) for sample in samples])
    try:
        pooled = extract_document(path, dpi=200, workers=2)
        pool.get_pool(2)._helpers[0].process.kill()  # a helper dies between documents (OOM killer, say)
        again = extract_document(path, dpi=200, workers=2)
    finally:
        close_pool()

    serial = extract_document(path, dpi=200, engine=engine)
    assert [page.number for page in pooled.pages] == [1, 2, 3]
    assert pooled.text == serial.text == again.text


def _dead(helper) -> None:
    """Kill a helper and wait until it is gone, without reaping it: poll() has not seen it die yet."""
    os.kill(helper.process.pid, signal.SIGKILL)
    while Path(f"/proc/{helper.process.pid}/stat").read_text().split(") ")[1][0] != "Z":
        time.sleep(0.01)


def test_helpers_that_died_while_idle_are_replaced_not_reused(document, page_image):
    # the race of the issue: a helper dies after the pool was found alive, before a page reaches it
    scans = [pool.PageScan(number=n, image=page_image(document(n).lines), dpi=200) for n in (1, 2, 3)]
    helpers = pool.OcrPool(2)
    try:
        for helper in list(helpers._helpers):
            _dead(helper)
        read: list[int] = []
        helpers.run(scans, lambda page: read.append(page.number))
        assert sorted(read) == [1, 2, 3]
        assert helpers.alive()
    finally:
        helpers.close()


def test_a_helper_killed_mid_page_hands_the_page_to_a_fresh_one(document, page_image):
    scans = [pool.PageScan(number=n, image=page_image(document(n).lines), dpi=200) for n in (1, 2, 3, 4)]
    helpers = pool.OcrPool(2)
    read: list[int] = []

    def on_result(page) -> None:
        read.append(page.number)
        if len(read) == 1:  # kill every helper, whatever it is doing
            for helper in helpers._helpers:
                helper.process.kill()

    try:
        helpers.run(scans, on_result)
    finally:
        helpers.close()
    assert sorted(read) == [1, 2, 3, 4]


def test_a_page_that_kills_every_helper_fails_the_document(document, page_image):
    helpers = pool.OcrPool(1)
    helpers.MAX_TRIES = 1
    try:
        _dead(helpers._helpers[0])
        with pytest.raises(pool.HelperDied, match="page 1"):
            helpers.run([pool.PageScan(number=1, image=page_image(document(0).lines), dpi=200)], lambda page: None)
    finally:
        helpers.close()


def test_text_layer_pdf_starts_no_helpers(document, pdf_file):
    extract_document(pdf_file([document(0).lines, document(1).lines]), workers=2)

    assert pool._pool is None


def _read_in_a_daemon(path: str) -> str:
    try:
        return extract_document(path, dpi=200, workers=2).text
    finally:
        close_pool()


def test_helpers_start_inside_a_celery_prefork_child(document, page_image, pdf_file):
    # Celery's children are daemonic: multiprocessing refuses to start processes there, subprocess does not
    sample = document(2)
    path = pdf_file([page_image(sample.lines), page_image(document(3).lines)])
    workers = billiard.Pool(1)
    try:
        text = workers.apply(_read_in_a_daemon, (str(path),))
    finally:
        workers.terminate()

    assert sample.owner in text



def test_a_page_that_stops_the_helpers_fails_the_job_with_a_spanish_message(document, page_image, pdf_file, tmp_path):
    storage = LocalStorage(tmp_path / "files")
    stored = storage.save_file(pdf_file([page_image(document(n).lines) for n in (0, 1, 2)]), key="documents/scan.pdf")
    helpers = pool.get_pool(2)
    helpers.MAX_TRIES = 1  # the first death of a helper is a page's last

    def stop_the_helpers(done: int, total: int) -> None:
        for helper in helpers._helpers:
            helper.process.kill()

    try:
        with pytest.raises(BadInput) as error:
            read_document(storage=storage, document=Document(file_key=stored.key), settings=Settings(_env_file=None),
                          on_page=stop_the_helpers)
    finally:
        close_pool()
    assert error.value.code == "page_stopped_ocr"
    assert "No se pudo leer la página" in error.value.message
