"""Factories for the veterinaria document tests: sample documents as images and files in tmp_path.

File and image factories only; nothing here touches a database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from PIL import Image

from tests.veterinaria import pages
from tests.veterinaria.samples import SampleDocument, sample_document

#: Tests read small pages (A5 at 200 dpi) so the suite stays fast; the benchmarks use A4 at 300 dpi.
TEST_DPI = 200
A5_MM = (148, 210)


@pytest.fixture
def document() -> Callable[..., SampleDocument]:
    """A reproducible Spanish veterinary document: document(index, type=...)."""

    def make(index: int = 0, document_type: str | None = None) -> SampleDocument:
        return sample_document(index, document_type=document_type)

    return make


@pytest.fixture
def page_image() -> Callable[..., Image.Image]:
    """A document's lines printed on a small page: page_image(lines, dpi=200)."""

    def make(lines: Sequence[str], dpi: int = TEST_DPI) -> Image.Image:
        return pages.render_page(lines, dpi=dpi, font_pt=9, size_mm=A5_MM)

    return make


@pytest.fixture
def image_file(tmp_path) -> Callable[..., Path]:
    """The image saved as a file: image_file(image, "scan.png" | "photo.jpg" | "fax.tiff", exif_orientation=6)."""

    def make(image: Image.Image, name: str = "scan.png", **options) -> Path:
        return pages.write_image(tmp_path / name, image, dpi=TEST_DPI, **options)

    return make


@pytest.fixture
def tiff_file(tmp_path) -> Callable[[Sequence[Image.Image]], Path]:
    return lambda images: pages.write_tiff(tmp_path / "fax.tiff", images, dpi=TEST_DPI)


@pytest.fixture
def pdf_file(tmp_path) -> Callable[..., Path]:
    """pdf_file([lines, image, ...], password=None, stamp=None): text pages and scanned pages in order."""

    def make(contents, name: str = "document.pdf", **options) -> Path:
        return pages.write_pdf(tmp_path / name, contents, **options)

    return make


@pytest.fixture
def bad_file(tmp_path) -> Callable[[str], Path]:
    """The hostile or broken uploads: bad_file("encrypted" | "truncated" | "empty" | "bomb" | "text_as_pdf"
    | "many_pages")."""

    def make(kind: str) -> Path:
        lines = ["Paciente: Luna", "Hemoglobina 12.5 g/dL (12-18)", "Fecha: 15/01/2024"]
        if kind == "encrypted":
            return pages.write_pdf(tmp_path / "encrypted.pdf", [lines], password="secreto")
        if kind == "truncated":
            whole = pages.write_pdf(tmp_path / "whole.pdf", [lines, lines])
            return pages.write_truncated_pdf(tmp_path / "truncated.pdf", whole)
        if kind == "empty":
            (tmp_path / "empty.pdf").write_bytes(b"")
            return tmp_path / "empty.pdf"
        if kind == "bomb":
            return pages.write_bomb_png(tmp_path / "bomb.png", 60_000, 60_000)
        if kind == "text_as_pdf":
            path = tmp_path / "informe.pdf"
            path.write_text("Paciente: Luna\nEsto es texto, no un PDF.\n", encoding="utf-8")
            return path
        if kind == "many_pages":
            return pages.write_many_page_pdf(tmp_path / "many.pdf", 5)
        raise ValueError(kind)

    return make
