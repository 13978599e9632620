"""The formats people send, read like any scan: iPhone HEIC, WebP, BMP, GIF, CMYK JPEGs, multi-page
CCITT faxes at fax resolutions, JBIG2 PDFs; and a damaged JPEG called damaged, not blank.

Each file is written the way the device writes it (tests/veterinaria/format_files.py), then goes
through `extract_document` as the worker calls it. The real scans of these kinds (OCRmyPDF's and
pikepdf's test files) are read by bench/ocr_real.py.
"""

from __future__ import annotations

import pytest
from PIL import Image

from tests.veterinaria import pages
from tests.veterinaria.conftest import TEST_DPI
from tests.veterinaria.format_files import (
    FAX_FINE,
    FAX_STANDARD,
    as_fax,
    write_cmyk_jpeg,
    write_fax_tiff,
    write_heic,
    write_jbig2_pdf,
    write_overwritten_jpeg,
)
from veterinaria.app.documents.read import DocumentError, OcrEngine, extract_document, get_engine, sniff_document
from veterinaria.app.documents.read.images import MAX_OCR_SIDE, open_image, read_frame


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    return get_engine()


def words(text: str) -> str:
    return " ".join(text.split())


# --- accepted at upload, by content ---------------------------------------------------------------

@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heic"),
        (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1heic", "heic"),  # Samsung and others
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "webp"),
        (b"BM\x36\x00\x0c\x00\x00\x00", "bmp"),
        (b"GIF89a\x01\x00\x01\x00", "gif"),
        (b"GIF87a\x01\x00\x01\x00", "gif"),
    ],
)
def test_phone_and_web_image_formats_are_accepted_by_their_first_bytes(head, kind):
    assert sniff_document(head) == kind


def test_a_phone_video_is_refused_as_a_video():
    with pytest.raises(DocumentError) as error:
        sniff_document(b"\x00\x00\x00\x18ftypqt  \x00\x00\x02\x00qt  ")

    assert error.value.code == "not_a_document"
    assert "vídeo" in error.value.message and "HEIC" in error.value.message


# --- read like any scan ---------------------------------------------------------------------------

def test_iphone_heic_photo_is_read(document, page_image, tmp_path, engine):
    sample = document(3)
    path = write_heic(tmp_path / "IMG_0042.HEIC", page_image(sample.lines))
    assert path.read_bytes()[4:12] == b"ftypheic"

    result = extract_document(path, engine=engine)

    assert result.kind == "image" and len(result.pages) == 1
    assert sample.patient in result.text and sample.owner in result.text


@pytest.mark.parametrize(("name", "options"), [("foto.webp", {"quality": 80}), ("escaneo.bmp", {}), ("captura.gif", {})])
def test_webp_bmp_and_gif_are_read(name, options, document, page_image, tmp_path, engine):
    sample = document(4)
    page = page_image(sample.lines)
    path = tmp_path / name
    (page.convert("P") if name.endswith(".gif") else page.convert("RGB")).save(path, **options)

    result = extract_document(path, engine=engine)

    assert sample.patient in result.text and sample.owner in result.text


def test_cmyk_jpeg_without_icc_profile_is_read(document, page_image, tmp_path, engine):
    sample = document(5)
    path = write_cmyk_jpeg(tmp_path / "imprenta.jpg", page_image(sample.lines), dpi=TEST_DPI)
    with Image.open(path) as image:
        assert image.mode == "CMYK" and "icc_profile" not in image.info

    result = extract_document(path, engine=engine)

    assert sample.patient in result.text and result.confidence > 0.8


# --- faxes ----------------------------------------------------------------------------------------

def test_standard_fax_pixels_are_made_square_before_ocr(document, page_image, tmp_path):
    page = page_image(document(6).lines)
    fax = as_fax(page, FAX_STANDARD, TEST_DPI)  # half as many rows as columns per inch
    path = write_fax_tiff(tmp_path / "fax.tif", [fax], FAX_STANDARD)

    with open_image(path, max_pages=10) as opened:
        grey, dpi = read_frame(opened, 0)

    assert dpi == 204
    assert grey.width == fax.width and abs(grey.height - round(fax.height * 204 / 98)) <= 1
    assert abs(grey.width / grey.height - page.width / page.height) < 0.01  # the page's own shape again


@pytest.mark.parametrize("compression", ["group3", "group4"])
def test_multi_page_ccitt_fax_is_read_page_by_page(compression, document, page_image, tmp_path, engine):
    first, second = document(7), document(8)
    frames = [as_fax(page_image(first.lines), FAX_FINE, TEST_DPI), as_fax(page_image(second.lines), FAX_STANDARD, TEST_DPI)]
    path = write_fax_tiff(tmp_path / "fax.tif", frames, FAX_FINE, compression=compression)
    with Image.open(path) as tiff:
        assert (tiff.n_frames, tiff.info["compression"]) == (2, compression)

    result = extract_document(path, engine=engine)

    assert [page.number for page in result.pages] == [1, 2]
    assert first.patient in result.pages[0].text
    assert second.patient in result.pages[1].text


def test_a_bilevel_scan_larger_than_we_read_is_reduced_not_called_damaged(document, tmp_path, engine):
    # a G4 scan of 9 lottery tickets from a real scanner was 0/27 read: Pillow's reduce() refuses
    # 1-bit images ("image has wrong mode"), and the page was answered as a damaged image
    sample = document(9)
    page = pages.render_page(sample.lines, dpi=2 * TEST_DPI, font_pt=9, size_mm=(200, 330)).convert("1")
    assert max(page.size) > MAX_OCR_SIDE
    path = tmp_path / "scan.tif"
    page.save(path, compression="group4", dpi=(2 * TEST_DPI, 2 * TEST_DPI))

    with open_image(path, max_pages=10) as opened:
        grey, dpi = read_frame(opened, 0)
    result = extract_document(path, engine=engine)

    assert max(grey.size) <= MAX_OCR_SIDE and dpi == TEST_DPI
    assert sample.patient in result.text and sample.owner in result.text


# --- PDFs -----------------------------------------------------------------------------------------

def test_jbig2_pdf_is_rendered_and_read(document, page_image, tmp_path, engine):
    sample = document(9)
    path = write_jbig2_pdf(tmp_path / "escaner.pdf", page_image(sample.lines), dpi=TEST_DPI)
    assert b"/JBIG2Decode" in path.read_bytes()

    result = extract_document(path, dpi=TEST_DPI, engine=engine)

    assert result.pages[0].source == "ocr"
    assert sample.patient in result.text and sample.owner in result.text


# --- damaged files --------------------------------------------------------------------------------

def test_jpeg_with_overwritten_data_is_called_damaged_not_blank(document, page_image, tmp_path, engine):
    path = write_overwritten_jpeg(tmp_path / "foto.jpg", page_image(document(0).lines), dpi=TEST_DPI)
    with Image.open(path) as image:
        image.load()  # Pillow decodes it without a word: only its structure gives it away

    with pytest.raises(DocumentError) as error:
        extract_document(path, engine=engine)

    assert error.value.code == "image_damaged"
    assert "dañada" in error.value.message and "blanco" not in error.value.message


def test_cut_jpeg_is_called_damaged(document, page_image, tmp_path, engine):
    path = tmp_path / "cortada.jpg"
    page_image(document(0).lines).convert("RGB").save(path, quality=85)
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])

    with pytest.raises(DocumentError) as error:
        extract_document(path, engine=engine)

    assert error.value.code == "image_damaged" and "dañada o incompleta" in error.value.message


def test_damaged_heic_is_called_damaged(document, page_image, tmp_path, engine):
    path = write_heic(tmp_path / "IMG_0043.HEIC", page_image(document(1).lines))
    path.write_bytes(path.read_bytes()[:2000])

    with pytest.raises(DocumentError) as error:
        extract_document(path, engine=engine)

    assert error.value.code == "image_damaged"
