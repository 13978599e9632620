"""Documents as a vet's scanner or phone would hand them to us: page images, PDFs, and bad files.

Pure file factories (no database): the tests' conftest and `bench/` both use them.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
A4_MM = (210, 297)


def render_page(lines: Sequence[str], *, dpi: int = 200, font_pt: float = 10.5, size_mm=A4_MM) -> Image.Image:
    """Lines of text printed on a white page, as a greyscale image at `dpi`."""
    width, height = (round(mm / 25.4 * dpi) for mm in size_mm)
    page = Image.new("L", (width, height), 255)
    font = ImageFont.truetype(FONT_PATH, round(font_pt / 72 * dpi))
    draw = ImageDraw.Draw(page)
    margin, step = round(20 / 25.4 * dpi), round(font_pt * 1.6 / 72 * dpi)
    for row, line in enumerate(lines):
        draw.text((margin, margin + row * step), line, fill=0, font=font)
    return page


def rotate(page: Image.Image, degrees: int) -> Image.Image:
    """The page turned counter-clockwise by a multiple of 90 degrees (a sideways or upside-down scan)."""
    return page.rotate(degrees, expand=True) if degrees % 360 else page


def skew(page: Image.Image, degrees: float) -> Image.Image:
    """A slightly crooked scan: turned by a few degrees, the corners filled with white paper."""
    return page.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)


def blur(page: Image.Image, radius: float = 1.0) -> Image.Image:
    return page.filter(ImageFilter.GaussianBlur(radius))


def add_noise(page: Image.Image, sigma: float = 40, opacity: float = 0.25) -> Image.Image:
    """Speckle like a cheap scanner's: Gaussian noise blended over the page."""
    noise = Image.effect_noise(page.size, sigma).point(lambda v: min(255, v + 64))
    return Image.blend(page, noise, opacity)


def jpeg_roundtrip(page: Image.Image, quality: int = 35) -> Image.Image:
    """The page after lossy JPEG compression at `quality`."""
    buffer = io.BytesIO()
    page.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("L")


def write_image(path: Path, page: Image.Image, *, dpi: int = 200, exif_orientation: int | None = None,
                quality: int = 85) -> Path:
    """Save as PNG/JPEG/TIFF by the suffix; `exif_orientation` tags a JPEG like a phone does (6 = 90° CW)."""
    kwargs: dict = {"dpi": (dpi, dpi)}
    if path.suffix.lower() in (".jpg", ".jpeg"):
        kwargs["quality"] = quality
        if exif_orientation:
            exif = Image.Exif()
            exif[0x0112] = exif_orientation
            kwargs["exif"] = exif
    page.save(path, **kwargs)
    return path


def write_tiff(path: Path, pages: Sequence[Image.Image], *, dpi: int = 200) -> Path:
    """A multi-page TIFF (one frame per page), compressed like a fax scanner's."""
    pages[0].save(path, save_all=True, append_images=list(pages[1:]), dpi=(dpi, dpi), compression="tiff_deflate")
    return path


def _pdf() -> FPDF:
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_font("DejaVu", fname=FONT_PATH)
    return pdf


def _add_text_page(pdf: FPDF, lines: Sequence[str], font_pt: float = 10.5) -> None:
    pdf.add_page()
    pdf.set_font("DejaVu", size=font_pt)
    for row, line in enumerate(lines):
        pdf.text(20, 20 + (row + 0.8) * font_pt * 1.6 * 25.4 / 72, line)


def _add_image_page(pdf: FPDF, page: Image.Image) -> None:
    pdf.add_page()
    pdf.image(page, x=0, y=0, w=A4_MM[0], h=A4_MM[1])


def write_pdf(path: Path, pages: Sequence[Sequence[str] | Image.Image], *, password: str | None = None,
              stamp: str | None = None) -> Path:
    """A PDF whose pages are text (a list of lines: a real text layer) or images (a scan), in order.

    `stamp` prints a line of real text on every scanned page, as phone scanner apps do.
    """
    pdf = _pdf()
    for page in pages:
        if isinstance(page, Image.Image):
            _add_image_page(pdf, page)
            if stamp:
                pdf.set_font("DejaVu", size=7)
                pdf.text(10, A4_MM[1] - 6, stamp)
        else:
            _add_text_page(pdf, page)
    if password:
        pdf.set_encryption(owner_password=password + "-owner", user_password=password)
    pdf.output(str(path))
    return path


def write_many_page_pdf(path: Path, pages: int) -> Path:
    """A cheap PDF with many short text pages (for page caps and text-layer speed)."""
    pdf = _pdf()
    for number in range(1, pages + 1):
        _add_text_page(pdf, [f"Página {number}", "Paciente: Luna    Especie: Canino", "Hemoglobina 12.5 g/dL (12-18)"])
    pdf.output(str(path))
    return path


def write_truncated_pdf(path: Path, source: Path) -> Path:
    """The first half of a good PDF: an interrupted upload or a half-copied file."""
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_bomb_png(path: Path, width: int = 60_000, height: int = 60_000) -> Path:
    """A valid, all-white 1-bit PNG of width × height that is tiny on disk (a decompression bomb).

    Written by hand so that making it never holds the pixels: a run of identical rows is deflated
    once (a full flush makes the compressed piece independent) and the piece is repeated.
    """
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    rows_per_piece = max(1, (1 << 20) // len(row))
    pieces, checksum, left = [], 1, height
    while left:
        take = min(left, rows_per_piece)
        raw = row * take
        deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
        piece = deflater.compress(raw) + deflater.flush(zlib.Z_FULL_FLUSH)
        repeat = left // take
        pieces.append(piece * repeat)
        for _ in range(repeat):
            checksum = zlib.adler32(raw, checksum)
        left -= take * repeat
    stream = b"\x78\xda" + b"".join(pieces) + b"\x03\x00" + struct.pack(">I", checksum)
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", stream)
                     + _png_chunk(b"IEND", b""))
    return path


def write_pdf_with_picture(path: Path, lines: Sequence[str], picture: Image.Image, *, text_over_picture: bool = False,
                           width_mm: float = 110) -> Path:
    """One A4 page: typed lines (a real text layer) at the top and a pasted scan below them.

    `text_over_picture` prints the lines over the picture instead (a scan with its own OCR layer).
    """
    pdf = _pdf()
    _add_text_page(pdf, lines)
    top = 20 if text_over_picture else 30 + len(lines) * 10.5 * 1.6 * 25.4 / 72
    pdf.image(picture, x=20, y=top, w=width_mm)
    if text_over_picture:
        _add_text_over(pdf, lines)
    pdf.output(str(path))
    return path


def _add_text_over(pdf: FPDF, lines: Sequence[str]) -> None:
    pdf.set_font("DejaVu", size=10.5)
    for row, line in enumerate(lines):
        pdf.text(20, 20 + (row + 0.8) * 10.5 * 1.6 * 25.4 / 72, line)
