"""What kind of document is this, by its first bytes (never by its name): pdf, jpeg, png or tiff.

The upload endpoint can call `sniff_document` on the first `HEAD_SIZE` bytes and answer 4xx at
once; `extract_document` calls it again on the stored file.
"""

from __future__ import annotations

from veterinaria.app.documents.read.errors import DocumentError

#: Bytes to read for `sniff_document`. PDF readers accept a header anywhere in the first KiB.
HEAD_SIZE = 1024

_UPLOAD_HINT = "Sube el documento como PDF o como imagen JPEG, PNG o TIFF."

_SUPPORTED: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)

_OTHER_FILES: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "una imagen GIF"),
    (b"GIF89a", "una imagen GIF"),
    (b"BM", "una imagen BMP"),
    (b"II+\x00", "una imagen BigTIFF"),
    (b"MM\x00+", "una imagen BigTIFF"),
    (b"\x00\x00\x00\x0cjP  ", "una imagen JPEG 2000"),
    (b"PK\x03\x04", "un archivo ZIP o un documento de Office"),
    (b"PK\x05\x06", "un archivo ZIP vacío"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "un documento de Office antiguo (.doc o .xls)"),
    (b"\x1f\x8b", "un archivo comprimido (gzip)"),
    (b"Rar!\x1a\x07", "un archivo comprimido RAR"),
    (b"7z\xbc\xaf\x27\x1c", "un archivo comprimido 7z"),
    (b"{\\rtf", "un documento RTF"),
    (b"DICM", "una imagen DICOM"),
)


def _is_heic(head: bytes) -> bool:
    return head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc", b"avif")


def _is_webp(head: bytes) -> bool:
    return head.startswith(b"RIFF") and head[8:12] == b"WEBP"


def _looks_like_text(head: bytes) -> bool:
    sample = head[:HEAD_SIZE]
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(sample) - 4:  # a multi-byte character cut at the end is still text
            return False
    return True


def sniff_document(head: bytes) -> str:
    """"pdf", "jpeg", "png" or "tiff" from the file's first bytes; DocumentError for anything else."""
    if not head:
        raise DocumentError(
            "El archivo está vacío (0 bytes). Vuelve a escanear o exportar el documento y súbelo de nuevo.",
            code="empty_file",
        )
    for magic, kind in _SUPPORTED:
        if head.startswith(magic):
            return kind
    if b"%PDF-" in head[:HEAD_SIZE]:
        return "pdf"
    if _is_heic(head):
        raise DocumentError(
            "Es una foto HEIC (formato de iPhone), que no podemos leer. Envíala como JPEG: en el iPhone, "
            "Ajustes › Cámara › Formatos › «Más compatible», o compártela como JPEG.",
            code="unsupported_image_format",
        )
    if _is_webp(head):
        raise DocumentError(f"El archivo es una imagen WebP, que no podemos leer. {_UPLOAD_HINT}", code="unsupported_image_format")
    if head[128:132] == b"DICM":
        raise DocumentError(
            "Es una imagen DICOM del equipo de radiología. Sube el informe en PDF o exporta la imagen a JPEG o PNG.",
            code="unsupported_image_format",
        )
    for magic, what in _OTHER_FILES:
        if head.startswith(magic):
            raise DocumentError(f"El archivo es {what}, no un documento escaneado. {_UPLOAD_HINT}", code="not_a_document")
    if _looks_like_text(head):
        start = head.lstrip()[:64].lower()
        what = "una página web (HTML)" if start.startswith((b"<!doctype html", b"<html")) else "un archivo de texto"
        raise DocumentError(
            f"El archivo es {what}, no un PDF ni una imagen, aunque su nombre diga otra cosa. {_UPLOAD_HINT}",
            code="not_a_document",
        )
    raise DocumentError(
        f"No reconozco el tipo de archivo: no es un PDF ni una imagen JPEG, PNG o TIFF. {_UPLOAD_HINT}",
        code="unknown_file_type",
    )
