"""Files built to make a reader use too much memory, written by streaming (the writer stays small).

Shared by the tests (which check that each is refused with a code) and bench/memory_bound.py (which
measures the peak memory of reading each). Every file stays under the default upload limit (20 MB).
"""

from __future__ import annotations

import itertools
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from PIL import Image

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b"</Types>"
)
_ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    b'Target="xl/workbook.xml"/></Relationships>'
)
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
HEADER_ROW = b'<row r="1"><c r="A1" t="inlineStr"><is><t>SKU</t></is></c><c r="B1" t="inlineStr"><is><t>Nombre</t></is></c>' \
    b'<c r="C1" t="inlineStr"><is><t>Stock</t></is></c><c r="D1" t="inlineStr"><is><t>Precio</t></is></c></row>'

Chunks = Callable[[], Iterable[bytes]]


def _workbook(defined_names: Chunks | None = None) -> Iterator[bytes]:
    yield b'<?xml version="1.0" encoding="UTF-8"?><workbook ' + _MAIN + b' xmlns:r="' + _REL.encode() + b'">'
    yield b'<sheets><sheet name="Inventario" sheetId="1" r:id="rId1"/></sheets>'
    if defined_names:
        yield b"<definedNames>"
        yield from defined_names()
        yield b"</definedNames>"
    yield b"</workbook>"


def _workbook_rels(shared: bool, styles: bool) -> bytes:
    parts = [f'<Relationship Id="rId1" Type="{_REL}worksheet" Target="worksheets/sheet1.xml"/>']
    if shared:
        parts.append(f'<Relationship Id="rId2" Type="{_REL}sharedStrings" Target="sharedStrings.xml"/>')
    if styles:
        parts.append(f'<Relationship Id="rId3" Type="{_REL}styles" Target="styles.xml"/>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships '
        'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' + "".join(parts) + "</Relationships>"
    ).encode()


def _write_member(archive: zipfile.ZipFile, name: str, chunks: Iterable[bytes], level: int | None = None) -> None:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    if level is not None:
        info._compresslevel = level  # ZipFile.open(info, "w") takes the level from the ZipInfo, else zlib's default
    with archive.open(info, "w", force_zip64=True) as member:
        buffer: list[bytes] = []
        size = 0
        for chunk in chunks:
            buffer.append(chunk)
            size += len(chunk)
            if size > 1 << 20:
                member.write(b"".join(buffer))
                buffer, size = [], 0
        member.write(b"".join(buffer))


def write_xlsx(
    path: Path, *, rows: Chunks, shared: Chunks | None = None, styles: Chunks | None = None,
    defined_names: Chunks | None = None, level: int | None = None,
) -> Path:
    """An XLSX whose sheet rows (after a header row), shared strings and styles come from generators;
    `level` is the sheet's deflate level (default: zlib's)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        _write_member(archive, "xl/workbook.xml", _workbook(defined_names))
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(shared is not None, styles is not None))
        if shared is not None:
            _write_member(archive, "xl/sharedStrings.xml", (
                b'<?xml version="1.0" encoding="UTF-8"?><sst ' + _MAIN + b">", *shared(), b"</sst>"))
        if styles is not None:
            _write_member(archive, "xl/styles.xml", (
                b'<?xml version="1.0" encoding="UTF-8"?><styleSheet ' + _MAIN + b">", *styles(), b"</styleSheet>"))
        _write_member(archive, "xl/worksheets/sheet1.xml", level=level, chunks=(
            b'<?xml version="1.0" encoding="UTF-8"?><worksheet ' + _MAIN + b"><sheetData>", HEADER_ROW,
            *rows(), b"</sheetData></worksheet>"))
    return path


def _product_row(line: int, name_cell: bytes) -> bytes:
    return (b'<row r="%d"><c r="A%d"><v>%d</v></c>' % (line, line, line) + name_cell
            + b'<c r="C%d"><v>5</v></c><c r="D%d"><v>1.5</v></c></row>' % (line, line))


# --- XLSX families ---------------------------------------------------------------------------


def xlsx_many_shared_strings(path: Path, count: int) -> Path:
    """`count` tiny unique shared strings (a table calamine loads whole when it opens the file)."""
    return write_xlsx(
        path, rows=lambda: [_product_row(2, b'<c r="B2" t="s"><v>0</v></c>')],
        shared=lambda: (b"<si><t>%x</t></si>" % i for i in range(count)),
    )


def xlsx_long_shared_string(path: Path, mib: int) -> Path:
    """One shared string of `mib` MiB of text."""
    return write_xlsx(
        path, rows=lambda: [_product_row(2, b'<c r="B2" t="s"><v>0</v></c>')],
        shared=lambda: itertools.chain([b"<si><t>"], (b"a" * (1 << 20) for _ in range(mib)), [b"</t></si>"]),
    )


def xlsx_cloned_shared_string(path: Path, *, kib: int, cells: int) -> Path:
    """One shared string of `kib` KiB that `cells` cells refer to (calamine copies it into each)."""
    return write_xlsx(
        path, rows=lambda: (_product_row(line, b'<c r="B%d" t="s"><v>0</v></c>' % line) for line in range(2, cells + 2)),
        shared=lambda: [b"<si><t>", b"x" * (kib << 10), b"</t></si>"],
    )


def xlsx_inline_text(path: Path, *, kib: int, rows: int, level: int | None = None) -> Path:
    """`rows` rows each with an inline string of `kib` KiB: the sheet's XML inflates to rows × kib.
    The sheet is deflated at zlib's default level, or `level` (1 writes it several times faster)."""
    text = b"p" * (kib << 10)
    return write_xlsx(
        path, rows=lambda: (_product_row(line, b'<c r="B%d" t="inlineStr"><is><t>%s</t></is></c>' % (line, text))
                            for line in range(2, rows + 2)), level=level,
    )


def xlsx_many_cells(path: Path, *, rows: int, columns: int) -> Path:
    """A dense block of small numbers: `rows` × `columns` cells (each one a grid slot in calamine)."""
    from petshop.app.imports.parse.cells import column_letter

    letters = [column_letter(c).encode() for c in range(columns)]

    def sheet() -> Iterator[bytes]:
        for line in range(2, rows + 2):
            yield b'<row r="%d">' % line + b"".join(b'<c r="%s%d"><v>1</v></c>' % (letter, line) for letter in letters) + b"</row>"

    return write_xlsx(path, rows=sheet)


def xlsx_styles_bomb(path: Path, count: int) -> Path:
    """A styles part with `count` cell formats (calamine reads them all when it opens the file)."""

    def styles() -> Iterator[bytes]:
        yield b'<numFmts count="1"><numFmt numFmtId="164" formatCode="0.00"/></numFmts>'
        yield b'<cellXfs count="%d">' % count
        yield from (b'<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0"/>' for _ in range(count))
        yield b"</cellXfs>"

    return write_xlsx(path, rows=lambda: [_product_row(2, b'<c r="B2"><v>1</v></c>')], styles=styles)


def xlsx_defined_names(path: Path, count: int) -> Path:
    """A workbook part with `count` defined names."""
    return write_xlsx(
        path, rows=lambda: [_product_row(2, b'<c r="B2"><v>1</v></c>')],
        defined_names=lambda: (b'<definedName name="n%d">Inventario!$A$1</definedName>' % i for i in range(count)),
    )


# --- images ----------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_blank(path: Path, *, width: int, height: int, color_type: int, bit_depth: int) -> Path:
    """A PNG of the given size and pixel format, all zeros, compressed by streaming (no big buffer).

    color_type: 0 grey, 2 RGB, 4 grey + alpha, 6 RGBA; bit_depth 8 or 16.
    """
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    line = b"\x00" * (1 + width * channels * bit_depth // 8)
    compressor = zlib.compressobj(9)
    with open(path, "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n")
        handle.write(_png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)))
        handle.write(_png_chunk(b"pHYs", struct.pack(">IIB", 11811, 11811, 1)))  # 300 dpi
        pending = b""
        for _ in range(height):
            pending += compressor.compress(line)
            if len(pending) > 1 << 20:
                handle.write(_png_chunk(b"IDAT", pending))
                pending = b""
        handle.write(_png_chunk(b"IDAT", pending + compressor.flush()))
        handle.write(_png_chunk(b"IEND", b""))
    return path


def image_file(path: Path, *, mode: str, width: int, height: int, pages: int = 1, **save) -> Path:
    """A white (or zero) image through Pillow; `pages` > 1 makes a multi-page TIFF."""
    colour = {"L": 255, "RGB": (255, 255, 255), "RGBA": (255, 255, 255, 0), "CMYK": (0, 0, 0, 0),
              "I;16": 65535, "1": 1}.get(mode, 0)
    image = Image.new(mode, (width, height), colour)
    extra = [image] * (pages - 1)
    image.save(path, save_all=pages > 1, append_images=extra, **save)
    return path


# --- PDFs -------------------------------------------------------------------------------------


def _pdf(path: Path, objects: list[bytes]) -> Path:
    """A PDF from its numbered objects (1 is the catalog), with a correct cross-reference table."""
    with open(path, "wb") as handle:
        handle.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(objects, 1):
            offsets.append(handle.tell())
            handle.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
        xref = handle.tell()
        handle.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
        handle.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
        handle.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return path


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    packed = zlib.compress(data, 9)
    return b"<< /Length %d /Filter /FlateDecode %s>>\nstream\n" % (len(packed), extra) + packed + b"\nendstream"


def _deflated_zeros(size: int) -> bytes:
    compressor = zlib.compressobj(9)
    block = b"\x00" * (1 << 20)
    parts = [compressor.compress(block) for _ in range(size >> 20)]
    parts.append(compressor.compress(b"\x00" * (size & ((1 << 20) - 1))))
    return b"".join(parts) + compressor.flush()


def pdf_pages(path: Path, *, pages: int, width: float = 595, height: float = 842, text: bool = False) -> Path:
    """`pages` pages of the given size in points (14,400 is the largest PDF allows), blank or with a line of text."""
    content = _stream(b"BT /F1 12 Tf 72 720 Td (Analitica de Luna, perro, propietario Ana Ruiz) Tj ET" if text else b"")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", content,
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for _ in range(pages):
        kids.append(b"%d 0 R" % (len(objects) + 1))
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] /Contents 3 0 R "
                       b"/Resources << /Font << /F1 4 0 R >> >> >>" % (width, height))
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % pages
    return _pdf(path, objects)


def pdf_big_image(path: Path, *, width: int, height: int, components: int = 3) -> Path:
    """One A4 page covered by a `width` × `height` image of zeros (Flate), which PDFium decodes to render it."""
    space = {1: b"/DeviceGray", 3: b"/DeviceRGB", 4: b"/DeviceCMYK"}[components]
    packed = _deflated_zeros(width * height * components)
    image = (b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent 8 "
             b"/Length %d /Filter /FlateDecode >>\nstream\n" % (width, height, space, len(packed)) + packed + b"\nendstream")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /XObject << /Im0 5 0 R >> >> >>",
        _stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q"),
        image,
    ]
    return _pdf(path, objects)


def pdf_content_bomb(path: Path, *, operators: int) -> Path:
    """One page whose content stream draws `operators` tiny rectangles (a stream that inflates a thousandfold)."""
    compressor = zlib.compressobj(9)
    op = b"1 1 1 1 re f\n"
    block = op * ((1 << 20) // len(op))
    parts = [compressor.compress(block) for _ in range(operators * len(op) >> 20)]
    packed = b"".join(parts) + compressor.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream",
    ]
    return _pdf(path, objects)


def pdf_damaged_structure(path: Path, *, operators: int, damage: str) -> Path:
    """`pdf_content_bomb`, with a structure pypdf cannot read and PDFium repairs: `damage` is
    "no_xref" (the cross-reference table and startxref gone) or "bad_encrypt" (a trailer /Encrypt
    that points at no dictionary)."""
    data = pdf_content_bomb(path, operators=operators).read_bytes()
    if damage == "no_xref":
        data = data[: data.index(b"xref\n0 ")] + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    elif damage == "bad_encrypt":
        data = data.replace(b"/Root 1 0 R", b"/Root 1 0 R /Encrypt 99 0 R")
    else:
        raise ValueError(damage)
    path.write_bytes(data)
    return path
