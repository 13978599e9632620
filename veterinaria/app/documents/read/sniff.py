"""Which clinical documents we read, by their first bytes (never by their name): PDF or an image.

Images: JPEG, PNG, TIFF (scans and faxes, any number of pages), HEIC/HEIF (iPhone photos), WebP,
BMP and GIF (the first frame of an animation).

`common.sniff.file_kind` names the kind; this module decides what a document may be and tells the
vet how to send one it refuses. The upload endpoint can call `sniff_document` on the first
`HEAD_SIZE` bytes and answer 4xx at once; `extract_document` calls it again on the stored file.
"""

from __future__ import annotations

from common.sniff import file_kind, has_dicom_preamble, looks_like_utf8_text
from veterinaria.app.documents.read.errors import DocumentError

#: Bytes to read for `sniff_document`. PDF readers accept a header anywhere in the first KiB.
HEAD_SIZE = 1024

#: How the messages name what we accept (the console's upload page says the same).
ACCEPTED_FORMATS = "PDF, JPEG, PNG, TIFF, HEIC, WebP, BMP o GIF"
_UPLOAD_HINT = f"Sube el documento como PDF o como imagen ({ACCEPTED_FORMATS.removeprefix('PDF, ')})."

#: Image kinds of common.sniff.file_kind that images.py opens (HEIC through pillow-heif, AVIF too).
SUPPORTED_IMAGES = ("jpeg", "png", "tiff", "heic", "webp", "bmp", "gif")

#: Kinds (common.sniff.file_kind) refused as "not a scanned document", and how the message names them.
_OTHER_FILES = {
    "bigtiff": "una imagen BigTIFF",
    "jpeg2000": "una imagen JPEG 2000",
    "zip": "un archivo ZIP o un documento de Office",
    "empty_zip": "un archivo ZIP vacío",
    "ole2": "un documento de Office antiguo (.doc o .xls)",
    "gzip": "un archivo comprimido (gzip)",
    "rar": "un archivo comprimido RAR",
    "7z": "un archivo comprimido 7z",
    "rtf": "un documento RTF",
    "dicom_no_preamble": "una imagen DICOM",
}


def sniff_document(head: bytes) -> str:
    """"pdf" or one of SUPPORTED_IMAGES from the file's first bytes; DocumentError for anything else."""
    kind = file_kind(head)
    if kind == "empty":
        raise DocumentError(
            "El archivo está vacío (0 bytes). Vuelve a escanear o exportar el documento y súbelo de nuevo.",
            code="empty_file",
        )
    if kind in SUPPORTED_IMAGES:
        return kind
    if b"%PDF-" in head[:HEAD_SIZE]:
        return "pdf"
    if kind == "iso_media":  # `ftyp` but not a still-image brand: a phone's video, a camera's RAW photo
        raise DocumentError(
            f"El archivo parece un vídeo o una foto RAW de cámara, no una foto normal ni un documento escaneado. {_UPLOAD_HINT}",
            code="not_a_document",
        )
    if kind == "dicom" or has_dicom_preamble(head):  # also a DICOM whose preamble starts like another format
        raise DocumentError(
            "Es una imagen DICOM del equipo de radiología. Sube el informe en PDF o exporta la imagen a JPEG o PNG.",
            code="unsupported_image_format",
        )
    if kind in _OTHER_FILES:
        raise DocumentError(f"El archivo es {_OTHER_FILES[kind]}, no un documento escaneado. {_UPLOAD_HINT}", code="not_a_document")
    if looks_like_utf8_text(head[:HEAD_SIZE]):
        start = head.lstrip()[:64].lower()
        what = "una página web (HTML)" if start.startswith((b"<!doctype html", b"<html")) else "un archivo de texto"
        raise DocumentError(
            f"El archivo es {what}, no un PDF ni una imagen, aunque su nombre diga otra cosa. {_UPLOAD_HINT}",
            code="not_a_document",
        )
    raise DocumentError(
        f"No reconozco el tipo de archivo: no es un PDF ni una imagen que sepamos leer. {_UPLOAD_HINT}",
        code="unknown_file_type",
    )
