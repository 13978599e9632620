"""Files in the formats vets send, written the way their devices write them (tests of documents/read).

HEIC with pillow-heif's encoder (an iPhone's default), faxes as CCITT G3/G4 TIFFs at fax resolutions,
a JBIG2 PDF (the compression of scanner-made PDFs), a CMYK JPEG without ICC profile (print workflows),
and a JPEG whose compressed data a bad copy overwrote.
"""

from __future__ import annotations

import io
import random
import struct
from collections.abc import Sequence
from pathlib import Path

import pillow_heif
from PIL import Image, ImageOps
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, NumberObject, StreamObject

#: Fax resolutions (horizontal, vertical dpi): standard and fine mode.
FAX_STANDARD = (204, 98)
FAX_FINE = (204, 196)


def write_heic(path: Path, page: Image.Image, *, quality: int = 80) -> Path:
    """An HEIC photo (HEVC-coded, `ftypheic`), as an iPhone saves one."""
    pillow_heif.from_pillow(page.convert("RGB")).save(path, quality=quality)
    return path


def as_fax(page: Image.Image, resolution: tuple[int, int], printed_dpi: int) -> Image.Image:
    """The page as a fax machine samples it: `resolution` dots per inch across and down, black and white."""
    x, y = resolution
    size = (round(page.width * x / printed_dpi), round(page.height * y / printed_dpi))
    return page.resize(size, Image.Resampling.LANCZOS).point(lambda v: 255 if v > 160 else 0).convert("1")


def write_fax_tiff(path: Path, frames: Sequence[Image.Image], resolution: tuple[int, int], *,
                   compression: str = "group4") -> Path:
    """A multi-page fax TIFF: CCITT `group3` or `group4`, tagged with the fax's two resolutions."""
    frames[0].save(path, save_all=True, append_images=list(frames[1:]), compression=compression, dpi=resolution)
    return path


def _segment(number: int, kind: int, data: bytes) -> bytes:
    """A JBIG2 segment header (no referred-to segments, page 1) and its data."""
    return struct.pack(">IBBBI", number, kind, 0, 1, len(data)) + data


def write_jbig2_pdf(path: Path, page: Image.Image, *, dpi: int) -> Path:
    """A one-page PDF whose only content is the page as a JBIG2 image (JBIG2Decode).

    JBIG2's generic region with MMR coding is CCITT G4 data, so Pillow's G4 encoder makes it: the
    page is inverted first because JBIG2 draws 1 bits black, where the TIFF here stores black as 0.
    """
    bilevel = ImageOps.invert(page.convert("L")).point(lambda v: 255 if v > 95 else 0).convert("1")
    buffer = io.BytesIO()
    bilevel.save(buffer, "TIFF", compression="group4", strip_size=2**31 - 1)
    tiff = Image.open(io.BytesIO(buffer.getvalue()))
    offset, length = tiff.tag_v2[273][0], tiff.tag_v2[279][0]  # the single strip's G4 data
    width, height = bilevel.size
    page_information = struct.pack(">IIIIBH", width, height, 0, 0, 0, 0)
    region = struct.pack(">IIIIBB", width, height, 0, 0, 0, 1) + buffer.getvalue()[offset:offset + length]  # MMR = 1
    data = _segment(0, 48, page_information) + _segment(1, 38, region) + _segment(2, 49, b"")

    writer = PdfWriter()
    points = (width * 72 / dpi, height * 72 / dpi)
    pdf_page = writer.add_blank_page(width=points[0], height=points[1])
    image = StreamObject()
    image.set_data(data)
    image.update({
        NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image"),
        NameObject("/Width"): NumberObject(width), NameObject("/Height"): NumberObject(height),
        NameObject("/ColorSpace"): NameObject("/DeviceGray"), NameObject("/BitsPerComponent"): NumberObject(1),
        NameObject("/Filter"): NameObject("/JBIG2Decode"),
    })
    resources = DictionaryObject({NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): writer._add_object(image)})})
    pdf_page[NameObject("/Resources")] = resources
    contents = DecodedStreamObject()
    contents.set_data(f"q {points[0]:.2f} 0 0 {points[1]:.2f} 0 0 cm /Im0 Do Q".encode())
    pdf_page[NameObject("/Contents")] = writer._add_object(contents)
    writer.write(path)
    return path


def write_cmyk_jpeg(path: Path, page: Image.Image, *, dpi: int) -> Path:
    """A CMYK JPEG with no ICC profile (Adobe-inverted, as Photoshop writes it)."""
    page.convert("RGB").convert("CMYK").save(path, "JPEG", quality=90, dpi=(dpi, dpi))
    return path


def write_overwritten_jpeg(path: Path, page: Image.Image, *, dpi: int) -> Path:
    """A JPEG of which a bad copy overwrote 200 bytes at the start of the picture data with noise.
    The rest is intact, end-of-image marker included: Pillow decodes it without complaint, libjpeg
    losing step and filling what it never got with grey, so the page's text is gone."""
    buffer = io.BytesIO()
    page.convert("RGB").save(buffer, "JPEG", quality=85, dpi=(dpi, dpi))
    data = buffer.getvalue()
    start = data.find(b"\xff\xda") + 20  # inside the first scan
    path.write_bytes(data[:start] + random.Random(3).randbytes(200) + data[start + 200:])
    return path
