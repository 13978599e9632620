"""Which inventory files we read, by their first bytes (never by their name): csv, xlsx or ods.

`common.sniff.file_kind` names the kind; this module decides what an import accepts, looks inside
ZIP and OLE2 containers, and tells the user how to fix a file it refuses.

`sniff_format` looks only at the head, so the upload endpoint can answer 4xx at once;
`sniff_file` also reads a ZIP's table of contents, which is where a truncated file shows.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

from common.sniff import BOMS, file_kind, looks_utf16
from petshop.app.imports.parse.errors import InventoryFileError

#: Bytes to read for `sniff_format`: enough for a ZIP's first entry names and an OLE2 directory.
HEAD_SIZE = 64 * 1024
#: How much of an OLE2 (old Office) file to search for the names of its streams.
OLE2_SCAN_SIZE = 32 * 1024 * 1024

_UPLOAD_HINT = "Sube el inventario como CSV, Excel (.xlsx) u OpenDocument (.ods)."
_ODS_MIMES = (b"application/vnd.oasis.opendocument.spreadsheet",)

#: Kinds (common.sniff.file_kind) refused at once, and how the message names them.
_REFUSED_KINDS = {
    "png": "una imagen PNG",
    "jpeg": "una imagen JPEG",
    "gif": "una imagen GIF",
    "tiff": "una imagen TIFF",
    "pdf": "un PDF",
    "gzip": "un archivo comprimido (gzip)",
    "rar": "un archivo comprimido RAR",
    "7z": "un archivo comprimido 7z",
    "rtf": "un documento RTF",
    "empty_zip": "un archivo ZIP vacío",
    "webp": "una imagen WebP",
    "heic": "una foto o un vídeo",
    "iso_media": "una foto o un vídeo",
}


def _not_a_spreadsheet(what: str) -> InventoryFileError:
    return InventoryFileError(f"El archivo es {what}, no una hoja de cálculo. {_UPLOAD_HINT}", code="not_a_spreadsheet")


def _marker(data: bytes, name: str) -> bool:
    """OLE2 directory entries hold their names in UTF-16LE; hand-made files may use ASCII."""
    return name.encode("utf-16-le") in data or name.encode("ascii") in data


def _ole2_error(data: bytes) -> InventoryFileError:
    if _marker(data, "EncryptionInfo") or _marker(data, "EncryptedPackage"):
        return InventoryFileError(
            "El archivo está protegido con contraseña y no se puede leer. Ábrelo en Excel, quita la "
            "contraseña (Archivo › Información › Proteger libro › Cifrar con contraseña, dejándola "
            "en blanco), guárdalo y vuelve a subirlo; o guárdalo como CSV.",
            code="spreadsheet_password",
        )
    if _marker(data, "WordDocument"):
        return _not_a_spreadsheet("un documento de Word (.doc)")
    if _marker(data, "Workbook") or "Book".encode("utf-16-le") in data:
        return InventoryFileError(
            "Es un archivo de Excel antiguo (.xls). Ábrelo en Excel o LibreOffice y guárdalo como "
            "Excel (.xlsx) o CSV antes de subirlo.",
            code="old_excel_format",
        )
    return InventoryFileError(
        "Es un archivo de Office en formato antiguo o protegido con contraseña. Ábrelo en Excel, "
        "quita la contraseña si la tiene y guárdalo como Excel (.xlsx) o CSV.",
        code="old_office_format",
    )


def _zip_first_entry(head: bytes) -> tuple[str, bytes]:
    """The first entry's name and the stored bytes after its header (for ODS's `mimetype`)."""
    if len(head) < 30:
        return "", b""
    name_length, extra_length = struct.unpack_from("<HH", head, 26)
    name = head[30 : 30 + name_length].decode("utf-8", "replace")
    return name, head[30 + name_length + extra_length :][:80]


def _sniff_zip(head: bytes) -> str:
    name, data = _zip_first_entry(head)
    if name == "mimetype":
        if data.startswith(_ODS_MIMES):
            return "ods"
        if data.startswith(b"application/vnd.oasis.opendocument.text"):
            raise _not_a_spreadsheet("un documento de texto de OpenDocument (.odt)")
        raise _not_a_spreadsheet("un documento de OpenDocument que no es de hoja de cálculo")
    has_sheets = b"xl/" in head
    if not has_sheets and b"word/" in head:
        raise _not_a_spreadsheet("un documento de Word (.docx)")
    if not has_sheets and b"ppt/" in head:
        raise _not_a_spreadsheet("una presentación de PowerPoint (.pptx)")
    ooxml_parts = ("[Content_Types].xml", "_rels/", "docProps/", "xl/", "customXml/")
    if has_sheets or not name or name.startswith(ooxml_parts):
        return "xlsx"  # `sniff_file` confirms with the ZIP's table of contents
    raise _not_a_spreadsheet("un archivo ZIP con otros archivos dentro")


def _sniff_text(head: bytes) -> str:
    if b"\x00" in head and not looks_utf16(head):
        raise InventoryFileError(
            f"No reconozco el tipo de archivo: no es CSV, Excel ni OpenDocument. {_UPLOAD_HINT}", code="unknown_file_type"
        )
    start = head[:512].lstrip().lower()
    if start.startswith((b"<!doctype html", b"<html")):
        raise InventoryFileError(
            "El archivo es una página web (HTML), aunque tenga extensión de hoja de cálculo. "
            "Ábrelo en Excel o LibreOffice y guárdalo como Excel (.xlsx) o CSV.",
            code="not_a_spreadsheet",
        )
    if start.startswith(b"<?xml"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in head:
            raise InventoryFileError(
                "Es una hoja en formato XML de Excel 2003. Ábrela en Excel o LibreOffice y guárdala "
                "como Excel (.xlsx) o CSV.",
                code="old_excel_format",
            )
        raise _not_a_spreadsheet("un archivo XML")
    return "csv"


def sniff_format(head: bytes) -> str:
    """"csv", "xlsx" or "ods" from the file's first bytes; InventoryFileError for anything else."""
    if not head:
        raise InventoryFileError("El archivo no tiene filas de inventario: está vacío (0 bytes).", code="empty_file")
    if head.startswith(BOMS):
        return "csv"  # a BOM: UTF-8 or UTF-16 text
    kind = file_kind(head)
    if kind == "zip":
        return _sniff_zip(head)
    if kind == "ole2":
        raise _ole2_error(head)
    if kind in _REFUSED_KINDS:
        raise _not_a_spreadsheet(_REFUSED_KINDS[kind])
    return _sniff_text(head)  # text, or a kind we have no words for: judged by its bytes


def damaged_file_error(fmt: str) -> InventoryFileError:
    kind = {"xlsx": "Excel (.xlsx)", "ods": "OpenDocument (.ods)"}.get(fmt, "de hoja de cálculo")
    return InventoryFileError(
        f"El archivo {kind} está dañado o incompleto (quizá la subida o la descarga se cortó). "
        "Ábrelo en Excel o LibreOffice, guárdalo de nuevo y vuelve a subirlo, o guárdalo como CSV.",
        code="spreadsheet_damaged",
    )


def _zip_kind(path: Path, guess: str) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, ValueError) as exc:
        raise damaged_file_error(guess) from exc
    if mimetype.startswith(_ODS_MIMES):
        if "content.xml" not in names:
            raise damaged_file_error("ods")
        return "ods"
    if any(name.startswith("xl/") for name in names):
        return "xlsx"
    if any(name.startswith("word/") for name in names):
        raise _not_a_spreadsheet("un documento de Word (.docx)")
    if any(name.startswith("ppt/") for name in names):
        raise _not_a_spreadsheet("una presentación de PowerPoint (.pptx)")
    if mimetype:
        raise _not_a_spreadsheet("un documento de OpenDocument que no es de hoja de cálculo")
    raise _not_a_spreadsheet("un archivo ZIP con otros archivos dentro")


def sniff_file(path: Path) -> str:
    """`sniff_format` on the file's head, then a look inside ZIP and OLE2 containers."""
    with open(path, "rb") as file:
        head = file.read(HEAD_SIZE)
        if file_kind(head) == "ole2":
            raise _ole2_error(head + file.read(OLE2_SCAN_SIZE))
    fmt = sniff_format(head)
    if fmt in ("xlsx", "ods"):
        return _zip_kind(path, fmt)
    return fmt
