"""The document pipeline, one step at a time: sniffing, PDF text layers, rendering, OCR with
orientation and skew correction, multi-page images, and every bad input (helper processes:
test_ocr_helpers.py)."""

from __future__ import annotations

import resource

import pytest
from PIL import Image, ImageFilter
from tesserocr import PyTessBaseAPI

from tests.veterinaria.pages import add_noise, blur, render_page, rotate, skew, write_bomb_png, write_pdf_with_picture
from veterinaria.app.documents.read import (
    DocumentError,
    OcrEngine,
    extract_document,
    extract_fields,
    get_engine,
    page_ocr,
    pdf,
    preprocess,
    sniff_document,
)
from veterinaria.app.documents.read.document import _pdf_pages
from veterinaria.app.documents.read.engine import PageLayout, Reading, ensure_osd_mode, find_tessdata
from veterinaria.app.documents.read.images import MAX_IMAGE_PIXELS, MEMORY_BUDGET
from veterinaria.app.documents.read.page_ocr import read_page


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    return get_engine()


def squash(text: str) -> str:
    return " ".join(text.split())


class NoOcr:
    """An engine that fails the test if a page is sent to OCR."""

    def __getattr__(self, name):
        raise AssertionError(f"OCR was used ({name}) for a page that has a text layer")


# --- sniffing -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n%\xe2\xe3", "pdf"),
        (b"\r\n%PDF-1.4 after some junk", "pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"\xff\xd8\xff\xe1\x00\x40Exif comment: %PDF-1.4", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
        (b"II*\x00\x08\x00\x00\x00", "tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "tiff"),
    ],
)
def test_sniff_knows_documents_by_their_first_bytes(head, kind):
    assert sniff_document(head) == kind


@pytest.mark.parametrize(
    ("head", "says"),
    [
        (b"", "vacío (0 bytes)"),
        (b"Paciente: Luna\nEspecie: canino\n", "archivo de texto"),
        (b"<!DOCTYPE html><html><body>informe</body></html>", "página web"),
        (b"PK\x03\x04\x14\x00\x06\x00word/document.xml", "ZIP o un documento de Office"),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
        (b"\x00\x01\x02\x03\x04\x05binary", "No reconozco"),
    ],
)
def test_sniff_refuses_other_files_saying_what_they_are(head, says):
    with pytest.raises(DocumentError) as error:
        sniff_document(head)
    assert says in error.value.message


# --- PDFs -----------------------------------------------------------------------------------------

def test_text_layer_pdf_is_read_without_ocr(document, pdf_file):
    first, second = document(0, "analisis"), document(1, "receta")
    path = pdf_file([first.lines, second.lines])

    result = extract_document(path, engine=NoOcr())

    assert result.kind == "pdf"
    assert [page.source for page in result.pages] == ["text-layer", "text-layer"]
    assert result.confidence == 1.0
    assert squash(result.pages[0].text) == squash(first.text)  # PDFs keep no runs of spaces
    assert second.patient in result.pages[1].text
    assert result.text == f"{result.pages[0].text}\n\n{result.pages[1].text}"


def test_scanned_pdf_is_rendered_and_read(document, page_image, pdf_file, engine):
    sample = document(0, "analisis")
    path = pdf_file([page_image(sample.lines)])

    result = extract_document(path, dpi=200, engine=engine)

    page = result.pages[0]
    assert (page.source, page.rotated) == ("ocr", 0)
    assert page.confidence > 0.85
    fields = extract_fields(result.text)
    assert fields.patient_name == sample.patient
    assert fields.date == sample.date
    assert [(v.name, v.value, v.unit) for v in fields.lab_values] == [
        (v.name, v.value, v.unit) for v in sample.lab_values
    ]


def test_a_scanned_page_renders_at_its_scans_own_resolution(document, page_image, pdf_file, tmp_path):
    # an A4 page covered by a 1240 x 1754 px picture: 150 dpi, whatever dpi the caller asks for
    scan = page_image(document(0).lines).resize((1240, 1754))
    text_only = pdf_file([document(1).lines], name="typed.pdf")
    small_picture = write_pdf_with_picture(tmp_path / "logo.pdf", document(2).lines, scan.resize((300, 424)), width_mm=40)

    with pdf.open_pdf(pdf_file([scan]), max_pages=5) as scanned:
        assert pdf.scan_resolution(pdf.load_page(scanned, 0)) == 150
    with _pdf_pages(pdf_file([scan], name="scan.pdf"), max_pages=5, dpi=300, memory_budget=MEMORY_BUDGET) as opened:
        _, pages, _ = opened
        rendered = next(pages)
        assert rendered.dpi == 150  # the scan's pixels, none invented (PDFium rounds the page up a pixel)
        assert abs(rendered.image.width - 1240) <= 1 and abs(rendered.image.height - 1754) <= 1
    for path in (text_only, small_picture):
        with pdf.open_pdf(path, max_pages=5) as other:
            assert pdf.scan_resolution(pdf.load_page(other, 0)) is None


def test_mixed_pdf_is_read_page_by_page_with_progress(document, page_image, pdf_file, engine):
    text_page, scanned, last = document(0), document(1, "historial"), document(2)
    path = pdf_file([text_page.lines, page_image(scanned.lines), last.lines])
    progress = []

    result = extract_document(path, dpi=200, engine=engine, on_page=lambda done, total: progress.append((done, total)))

    assert [page.source for page in result.pages] == ["text-layer", "ocr", "text-layer"]
    assert [page.number for page in result.pages] == [1, 2, 3]
    assert progress == [(1, 3), (2, 3), (3, 3)]
    assert scanned.owner in result.pages[1].text
    assert 0.85 < result.confidence < 1.0


def test_scan_with_a_scanner_app_watermark_is_still_ocred(document, page_image, pdf_file, engine):
    sample = document(3)
    path = pdf_file([page_image(sample.lines)], stamp="Escaneado con CamScanner - www.camscanner.com")

    result = extract_document(path, dpi=200, engine=engine)

    assert result.pages[0].source == "ocr"
    assert sample.patient in result.text


# --- images ---------------------------------------------------------------------------------------

def test_clean_png_reads_with_high_confidence(document, page_image, image_file, engine):
    sample = document(4, "historial")

    result = extract_document(image_file(page_image(sample.lines)), engine=engine)

    page = result.pages[0]
    assert result.kind == "image"
    assert (page.number, page.source, page.rotated, page.deskew) == (1, "ocr", 0, 0.0)
    assert page.confidence > 0.9
    assert sample.owner in page.text
    assert "Diagnóstico: gastroenteritis aguda." in page.text


@pytest.mark.parametrize("turned", [180, 90, 270])
def test_pages_upside_down_or_sideways_are_turned_right(turned, document, page_image, image_file, engine):
    sample = document(5, "radiografia")
    upside = rotate(page_image(sample.lines), turned)

    page = extract_document(image_file(upside, "turned.png"), engine=engine).pages[0]

    assert (page.rotated + turned) % 360 == 0
    assert page.confidence > 0.85
    assert sample.patient in page.text and "radiografía" in page.text


def test_slightly_skewed_scan_is_levelled(document, page_image, image_file, engine):
    sample = document(0, "analisis")

    result = extract_document(image_file(skew(page_image(sample.lines), 2.0)), engine=engine)

    assert result.pages[0].deskew == pytest.approx(-2.0, abs=0.4)
    fields = extract_fields(result.text)
    assert [(v.name, v.value) for v in fields.lab_values] == [(v.name, v.value) for v in sample.lab_values]


def test_jpeg_compressed_photo_reads(document, page_image, image_file, engine):
    sample = document(6)

    result = extract_document(image_file(page_image(sample.lines), "photo.jpg", quality=30), engine=engine)

    assert sample.patient in result.text and sample.owner in result.text


def test_phone_photo_exif_orientation_is_honoured_before_ocr(document, page_image, image_file, engine):
    sample = document(7)
    # the camera stored the pixels sideways and tagged them "rotate 90° clockwise to view" (6)
    stored = page_image(sample.lines).transpose(Image.Transpose.ROTATE_90)

    page = extract_document(image_file(stored, "phone.jpg", exif_orientation=6), engine=engine).pages[0]

    assert page.rotated == 0  # upright straight from EXIF: no orientation detection needed
    assert sample.patient in page.text


def test_phone_jpeg_with_a_preview_frame_is_one_page(document, page_image, tmp_path, engine):
    sample = document(9)
    page = page_image(sample.lines).convert("RGB")
    path = tmp_path / "phone.jpg"
    page.save(path, "MPO", save_all=True, append_images=[page.reduce(4)])  # as some phones store photos

    result = extract_document(path, engine=engine)

    assert len(result.pages) == 1 and sample.patient in result.text


def test_multi_page_tiff_gives_one_page_each_and_blank_pages_are_fine(document, page_image, tiff_file, engine):
    first, second = document(1), document(2)
    blank = Image.new("L", page_image(first.lines).size, 255)
    progress = []

    result = extract_document(
        tiff_file([page_image(first.lines), blank, page_image(second.lines)]), engine=engine,
        on_page=lambda done, total: progress.append((done, total)),
    )

    assert [page.number for page in result.pages] == [1, 2, 3]
    assert first.patient in result.pages[0].text and second.owner in result.pages[2].text
    assert result.pages[1].text == "" and result.pages[1].confidence == 0.0
    assert progress == [(1, 3), (2, 3), (3, 3)]


def test_image_without_text_is_refused(image_file, engine):
    blank = Image.new("L", (1200, 1600), 255)

    with pytest.raises(DocumentError) as error:
        extract_document(image_file(blank, "blank.png"), engine=engine)

    assert error.value.message.startswith("No se encontró texto")


def test_transparent_png_is_read_on_white_paper(document, page_image, image_file, engine):
    sample = document(8)
    ink = page_image(sample.lines).point(lambda v: 255 - v)  # text where the page was dark
    transparent = Image.merge("RGBA", [Image.new("L", ink.size, 0)] * 3 + [ink])  # black ink, clear paper

    result = extract_document(image_file(transparent, "clear.png"), engine=engine)

    assert sample.patient in result.text


def test_speckled_full_page_scan_is_read_with_a_local_threshold(document, image_file, engine):
    # at A4 300 dpi this speckle makes Tesseract's page-wide Otsu threshold lose every line
    sample = document(1)
    speckled = add_noise(blur(render_page(sample.lines, dpi=300), 1.2), sigma=50, opacity=0.3)

    page = extract_document(image_file(speckled, "speckled.png"), engine=engine).pages[0]

    assert page.confidence > 0.85
    assert sample.patient in page.text and sample.owner in page.text


class ScriptedEngine:
    """Confidence by (turned degrees, how it was read), to check which readings read_page tries.

    How: "otsu" or "sauvola" (Tesseract's threshold), "+median" when the page was smoothed first.
    """

    def __init__(self, confidences: dict[tuple[int, str], float], osd: int = 0):
        self.confidences, self.osd, self.calls = confidences, osd, []

    def analyse(self, image, dpi=None, *, thresholding="otsu"):
        return PageLayout(skew=0.0, vertical=False)

    def recognize(self, image, dpi=None, *, thresholding="otsu", sparse=False):
        turned, how = image.info.get("turned", 0), thresholding + ("+median" if image.info.get("median") else "")
        self.calls.append((turned, how))
        return Reading(f"{turned} {how}", self.confidences.get((turned, how), 0.1))

    def orientation(self, image):
        return self.osd


@pytest.fixture
def marked_page(monkeypatch):
    """A page whose rotations remember the angle (PIL drops `info` on rotate), for ScriptedEngine."""
    original = Image.Image.rotate

    def rotate_marking(self, angle, *args, **kwargs):
        turned = original(self, angle, *args, **kwargs)
        turned.info["turned"] = (self.info.get("turned", 0) + int(angle)) % 360
        return turned

    original_filter = Image.Image.filter

    def filter_marking(self, kind, *args, **kwargs):
        filtered = original_filter(self, kind, *args, **kwargs)
        filtered.info = {**self.info, "median": self.info.get("median") or isinstance(kind, ImageFilter.MedianFilter)}
        return filtered

    monkeypatch.setattr(Image.Image, "rotate", rotate_marking)
    monkeypatch.setattr(Image.Image, "filter", filter_marking)
    return Image.new("L", (300, 400), 255)


def test_confident_upright_page_is_read_once(marked_page):
    engine = ScriptedEngine({(0, "otsu"): 0.95})

    page = read_page(marked_page, number=3, engine=engine)

    assert engine.calls == [(0, "otsu")]
    assert (page.number, page.text, page.rotated) == (3, "0 otsu", 0)


def test_low_confidence_asks_osd_then_smooths_then_tries_a_local_threshold(marked_page):
    engine = ScriptedEngine({(180, "otsu"): 0.5, (180, "sauvola"): 0.9}, osd=180)

    page = read_page(marked_page, number=1, engine=engine)

    assert engine.calls == [(0, "otsu"), (180, "otsu"), (180, "otsu+median"), (180, "sauvola")]
    assert (page.text, page.rotated, page.confidence) == ("180 sauvola", 180, 0.9)


def test_an_unsure_osd_keeps_the_page_as_it_is(marked_page):
    engine = ScriptedEngine({(0, "otsu"): 0.6}, osd=0)

    page = read_page(marked_page, number=1, engine=engine)

    assert engine.calls == [(0, "otsu"), (0, "otsu+median"), (0, "sauvola")]
    assert (page.text, page.rotated) == ("0 otsu", 0)


def test_a_hopeless_page_stops_after_its_count_of_second_readings(marked_page, monkeypatch):
    # a count, not a time: the same strategies, and so the same text, however busy the machine
    monkeypatch.setattr(page_ocr, "PAGE_RETRIES", 2)
    engine = ScriptedEngine({}, osd=180)  # every reading 0.1

    read_page(marked_page, number=1, engine=engine)

    assert engine.calls == [(0, "otsu"), (180, "otsu"), (0, "otsu+median")]  # no Sauvola, no sparse


def test_a_grainy_reading_is_read_again_through_a_median_and_the_surer_one_kept(marked_page):
    # a shadow's grain under the speckle measure: Otsu reads its dots as quotes and stray letters
    engine = ScriptedEngine({(0, "otsu"): 0.7, (0, "otsu+median"): 0.88})

    page = read_page(marked_page, number=1, engine=engine)

    assert engine.calls == [(0, "otsu"), (0, "otsu+median")]  # sure enough now: no more strategies
    assert (page.text, page.confidence) == ("0 otsu+median", 0.88)


def test_a_reading_already_smoothed_is_not_smoothed_again(marked_page, monkeypatch):
    monkeypatch.setattr(preprocess, "SPECKLED", -1.0)  # every page measures speckled: the first reading is smoothed
    engine = ScriptedEngine({(0, "otsu+median"): 0.6})

    read_page(marked_page, number=1, engine=engine)

    assert engine.calls == [(0, "otsu+median"), (0, "sauvola+median")]


# --- orientation detection guard --------------------------------------------------------------------

def test_orientation_detection_refuses_a_recognition_api():
    # DetectOrientationScript() on this API would abort the process; the guard raises first
    api = PyTessBaseAPI(path=str(find_tessdata()), lang="eng")
    try:
        with pytest.raises(RuntimeError, match="lang='osd'"):
            ensure_osd_mode(api)
    finally:
        api.End()


def test_orientation_of_a_blank_page_is_left_alone(engine):
    assert engine.orientation(Image.new("L", (800, 1000), 255)) == 0


# --- bad inputs -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("encrypted", "protegido con contraseña"),
        ("truncated", "dañado o incompleto"),
        ("empty", "vacío (0 bytes)"),
        ("text_as_pdf", "es un archivo de texto"),
    ],
)
def test_bad_files_get_a_clear_message(kind, says, bad_file):
    with pytest.raises(DocumentError) as error:
        extract_document(bad_file(kind), engine=NoOcr())

    assert says in error.value.message


def test_page_cap_names_the_limit(bad_file):
    with pytest.raises(DocumentError) as error:
        extract_document(bad_file("many_pages"), max_pages=3, engine=NoOcr())

    assert "tiene 5 páginas y el máximo es 3" in error.value.message


def test_decompression_bomb_is_refused_with_little_memory(bad_file):
    path = bad_file("bomb")
    assert path.stat().st_size < 2_000_000
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB

    with pytest.raises(DocumentError) as error:
        extract_document(path, engine=NoOcr())

    # how fast it is refused is measured by bench/ocr_refusal.py; here: refused, unread, unrendered
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 100_000
    assert "demasiado grande" in error.value.message


def test_image_just_over_our_cap_is_refused_by_size(tmp_path):
    path = write_bomb_png(tmp_path / "huge.png", 12_000, MAX_IMAGE_PIXELS // 12_000 + 1)

    with pytest.raises(DocumentError) as error:
        extract_document(path, engine=NoOcr())

    assert "12.000 ×" in error.value.message and "100 megapíxeles" in error.value.message


def test_truncated_image_is_refused(document, page_image, image_file, engine):
    path = image_file(page_image(document(0).lines), "cut.png")
    path.write_bytes(path.read_bytes()[:5000])

    with pytest.raises(DocumentError) as error:
        extract_document(path, engine=engine)

    assert "dañada o incompleta" in error.value.message
