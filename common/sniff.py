"""What kind of file this is, by its first bytes (never by its name): one shared table of signatures.

`file_kind(head)` names the kind; each service decides what it accepts and how it explains a
refusal (petshop: `imports/parse/sniff.py`, veterinaria: `documents/read/sniff.py`).

A head that matches two signatures (a polyglot) is named by the first that matches:
signatures at the start of the file, then `webp`, `heic`/`iso_media` (`ftyp` at byte 4), then
`dicom` (its marker after a 128-byte preamble); no signature gives `text` or `binary`.
"""

from __future__ import annotations

#: Byte order marks: UTF-8, UTF-16 LE, UTF-16 BE.
BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")

_AT_START: tuple[tuple[bytes, str], ...] = (
    *((bom, "text") for bom in BOMS),
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "bigtiff"),
    (b"MM\x00+", "bigtiff"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"\x00\x00\x00\x0cjP  ", "jpeg2000"),
    (b"PK\x03\x04", "zip"),  # also XLSX, DOCX, ODS, ODT...: see inside
    (b"PK\x05\x06", "empty_zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole2"),  # old Office: .xls, .doc, encrypted OOXML
    (b"\x1f\x8b", "gzip"),
    (b"Rar!\x1a\x07", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"{\\rtf", "rtf"),
    (b"DICM", "dicom_no_preamble"),
)
_HEIC_BRANDS = (b"heic", b"heix", b"mif1", b"msf1", b"hevc", b"avif")


def file_kind(head: bytes) -> str:
    """The kind of a file from its first bytes.

    One of: empty, text, binary, pdf, png, jpeg, tiff, bigtiff, gif, bmp, jpeg2000, webp, heic
    (an iPhone photo), iso_media (another `ftyp` file: a video, a camera photo), dicom,
    dicom_no_preamble, zip, empty_zip, ole2, gzip, rar, 7z, rtf. `text` is a BOM, or a head
    without NUL bytes, or UTF-16 without a BOM; it says nothing of the encoding.
    """
    if not head:
        return "empty"
    for magic, kind in _AT_START:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        return "heic" if head[8:12] in _HEIC_BRANDS else "iso_media"
    if has_dicom_preamble(head):
        return "dicom"
    return "text" if b"\x00" not in head or looks_utf16(head) else "binary"


def has_dicom_preamble(head: bytes) -> bool:
    """DICOM's marker after its 128-byte preamble, which may hold another format's header (TIFF/DICOM files)."""
    return head[128:132] == b"DICM"


def looks_utf16(head: bytes) -> bool:
    """UTF-16 text without a BOM: every other byte of ASCII text is zero."""
    sample = head[:4096]
    if len(sample) < 8:
        return False
    even, odd = sample[0::2], sample[1::2]
    return (even.count(0) > 0.4 * len(even) and odd.count(0) == 0) or (
        odd.count(0) > 0.4 * len(odd) and even.count(0) == 0
    )


def looks_like_utf8_text(head: bytes) -> bool:
    """No NUL byte and valid UTF-8 (a multi-byte character cut at the end of `head` still counts)."""
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:
            return False
    return True

