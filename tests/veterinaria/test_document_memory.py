"""Images and PDFs whose decoding would exhaust a worker's memory are refused before it, with a code.

The memory each would take is measured by bench/memory_bound.py; here we check the refusal.
"""

from __future__ import annotations

import pytest

from tests.security import hostile_files as hf
from veterinaria.app.documents.read import DocumentError, extract_document
from veterinaria.app.documents.read.images import MEMORY_BUDGET, to_grey


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda p: hf.png_blank(p, width=10000, height=9999, color_type=6, bit_depth=8), "image_too_large"),
        (lambda p: hf.png_blank(p, width=10000, height=9999, color_type=2, bit_depth=8), "image_too_large"),
        (lambda p: hf.pdf_big_image(p, width=20000, height=20000), "pdf_image_too_large"),
    ],
    ids=["rgba png under the pixel cap", "rgb png under the pixel cap", "pdf with a huge picture"],
)
def test_a_file_that_would_exhaust_memory_is_refused_with_a_code(tmp_path, make, code):
    with pytest.raises(DocumentError) as caught:
        extract_document(make(tmp_path / "bomba.bin"), memory_budget=MEMORY_BUDGET)
    assert caught.value.code == code
    assert "MB" in caught.value.message


def test_transparent_and_16_bit_pixels_become_paper_and_their_high_byte():
    from PIL import Image

    assert to_grey(Image.new("RGBA", (8, 8), (0, 0, 0, 0))).getpixel((0, 0)) == 255
    assert to_grey(Image.new("RGBA", (8, 8), (0, 0, 0, 255))).getpixel((0, 0)) == 0
    assert to_grey(Image.new("I;16", (8, 8), 0x8000)).getpixel((0, 0)) == 0x80


def test_a_pdf_page_whose_content_inflates_to_millions_of_objects_is_refused_before_pdfium_loads_it(tmp_path):
    bomb = hf.pdf_content_bomb(tmp_path / "bomba.pdf", operators=30_000_000)  # 0.7 MB; PDFium took 10 GB

    with pytest.raises(DocumentError) as caught:
        extract_document(bomb, memory_budget=MEMORY_BUDGET)

    assert caught.value.code == "pdf_page_too_complex"
    assert "página 1" in caught.value.message


def test_a_pdf_with_a_text_layer_on_every_page_is_still_read(tmp_path):
    text = extract_document(hf.pdf_pages(tmp_path / "informe.pdf", pages=20, text=True))
    assert len(text.pages) == 20 and "Luna" in text.text


@pytest.mark.parametrize("damage", ["no_xref", "bad_encrypt"])
def test_a_pdf_whose_structure_pypdf_cannot_read_is_refused_before_pdfium_repairs_and_loads_it(tmp_path, damage):
    # PDFium repairs both and would load the page (13 MB of drawing operators: 0.4 GB; 30M took 10 GB)
    bomb = hf.pdf_damaged_structure(tmp_path / "bomba.pdf", operators=1_000_000, damage=damage)

    with pytest.raises(DocumentError) as caught:
        extract_document(bomb, memory_budget=MEMORY_BUDGET)

    assert caught.value.code == "pdf_structure_damaged"
    assert "Guardar como PDF" in caught.value.message


def test_a_pdf_with_only_an_owner_password_is_measured_and_read(tmp_path):
    from fpdf.enums import EncryptionMethod

    from tests.veterinaria import pages

    path = tmp_path / "protegido.pdf"
    pdf = pages._pdf()
    pages._add_text_page(pdf, ["Analítica de Luna", "Hemoglobina 12.5 g/dL (12-18)", "Propietaria: Ana Ruiz"])
    pdf.set_encryption(owner_password="solo-propietario", user_password="", encryption_method=EncryptionMethod.AES_256)
    pdf.output(str(path))

    text = extract_document(path)

    assert "Hemoglobina" in text.text
