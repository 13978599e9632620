"""Refuse spreadsheets whose XML declares a DTD or entities, before any XML parser sees them.

Excel and LibreOffice never write a `<!DOCTYPE …>` into an XLSX or ODS part. One that is there was
put by hand: external entities (XXE) read files from the server, nested internal ones ("billion
laughs") inflate a few bytes into gigabytes. calamine fails on them as on a damaged file; the
person who uploaded it deserves to be told what it really is.
"""

from __future__ import annotations

import re
import zipfile
import zlib

from petshop.app.imports.parse.errors import InventoryFileError
from petshop.app.imports.parse.sheet_cost import inflated

#: a real prolog (XML declaration, a comment or two) is a few hundred bytes
MAX_PROLOG_BYTES = 64 * 1024
_XML_PART = re.compile(r"\.(xml|rels|vml)$", re.IGNORECASE)
# what may come before the root element: spaces, <?…?>, <!-- … -->; a DOCTYPE is what we look for
_PROLOG_ITEM = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)


class DtdDeclared(Exception):
    """A part of the file declares a document type (and maybe entities)."""


def dtd_error() -> InventoryFileError:
    return InventoryFileError(
        "El archivo contiene declaraciones XML (DTD o entidades) que Excel y LibreOffice nunca escriben "
        "y que sirven para leer archivos del servidor o para hacer crecer el archivo sin límite. Por "
        "seguridad no lo leemos: si viene de un proveedor, ábrelo en Excel o LibreOffice, guárdalo de "
        "nuevo y vuelve a subirlo, o guárdalo como CSV.",
        code="spreadsheet_xml_entities",
    )


def check_no_dtd(archive: zipfile.ZipFile) -> None:
    """Raise DtdDeclared if an XML part of the archive has a DOCTYPE before its root element."""
    for info in archive.infolist():
        if _XML_PART.search(info.filename) and _declares_dtd(archive, info.filename):
            raise DtdDeclared(info.filename)


def _declares_dtd(archive: zipfile.ZipFile, member: str) -> bool:
    head = b""
    try:
        for block in inflated(archive, member, limit=1 << 62):
            head += block[: MAX_PROLOG_BYTES + 16 - len(head)]
            if len(head) >= MAX_PROLOG_BYTES + 16:
                break
    except (zlib.error, zipfile.BadZipFile, EOFError):
        return False  # a damaged part: calamine reports it as damaged
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head[2:].replace(b"\x00", b"")  # UTF-16: the markup we look for is ASCII
    position = 0
    while position < len(head):
        item = _PROLOG_ITEM.match(head, position)
        if item is None:
            break
        position = item.end()
    # once spaces, the XML declaration and comments are skipped, only "<!" (a DOCTYPE) may still
    # stand before the root; a prolog that never ends within the bound is no office suite's either
    return head[position:position + 2] == b"<!" or position >= MAX_PROLOG_BYTES
