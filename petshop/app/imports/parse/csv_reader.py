"""CSV files: detect the encoding and the delimiter, then stream the rows without loading the file."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from petshop.app.imports.parse.errors import InventoryFileError
from petshop.app.imports.parse.headers import find_header

DELIMITERS = (",", ";", "\t")
#: Bytes read to choose the delimiter (the header is almost always in the first few lines).
SAMPLE_BYTES = 64 * 1024
_SAMPLE_ROWS = 200
_BLOCK = 1 << 20


def _decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes strictly: cheap (C speed, 1 MiB at a time) and exact."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open(path, "rb") as file:
            while block := file.read(_BLOCK):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """utf-8-sig / utf-16 (by BOM), utf-16-le/be (no BOM), utf-8, else cp1252, else latin-1."""
    with open(path, "rb") as file:
        head = file.read(4096)
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in head:  # sniffing let it through only if it looks like UTF-16 without a BOM
        return "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
    # the whole file, not a sample: one "ñ" in cp1252 on line 80,000 would break a utf-8 stream
    if _decodes(path, "utf-8"):
        return "utf-8"
    if _decodes(path, "cp1252"):
        return "cp1252"
    return "latin-1"  # decodes anything; cp1252 failed on one of its five unassigned bytes


def read_sample(path: Path, encoding: str) -> tuple[str, bool]:
    """The first SAMPLE_BYTES of text, cut at a line end; and whether that is the whole file."""
    with open(path, "rb") as file:
        raw = file.read(SAMPLE_BYTES + 1)
    complete = len(raw) <= SAMPLE_BYTES
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(raw[:SAMPLE_BYTES], final=complete)
    if not complete:
        cut = max(text.rfind("\n"), text.rfind("\r"))
        if cut > 0:
            text = text[:cut]
    return text, complete


def _sample_rows(sample: str, delimiter: str) -> list[list[str]]:
    try:
        return list(itertools.islice(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter), _SAMPLE_ROWS))
    except csv.Error:
        return []


def detect_delimiter(sample: str) -> str:
    """The delimiter under which a header row shows up, else the one giving the steadiest column count.

    Decimal commas in a `;` file (`0001;Pienso;12,50`) split rows under `,` too, but then the header
    (`Código;Nombre;Precio`) is a single unrecognisable cell, so the header test decides first.
    """
    best, best_score = ",", (-1, -1, -1)
    for delimiter in DELIMITERS:
        rows = _sample_rows(sample, delimiter)
        header = find_header(enumerate(rows, 1))
        widths = Counter(len(row) for row in rows if len(row) > 1)
        width, steady = widths.most_common(1)[0] if widths else (0, 0)
        score = (header.score if header else 0, steady, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _sep_line(sample: str) -> str | None:
    """Excel's `sep=;` first line names the delimiter (and Excel does not show it as a row)."""
    first = sample.split("\n", 1)[0].strip().strip('"')
    if len(first) == 5 and first.lower().startswith("sep="):
        return first[4]
    return None


@dataclass
class CsvSource:
    """A CSV file whose rows can be read again and again, streamed, with their line numbers."""

    path: Path
    encoding: str
    delimiter: str
    estimated_rows: int
    skip_first: bool = False  # the `sep=` line
    format: str = "csv"
    sheet: str | None = None
    _file: io.TextIOWrapper | None = field(default=None, repr=False)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line as the user sees it, cells) for every record; a quoted multi-line cell is one row."""
        with open(self.path, encoding=self.encoding, newline="") as file:
            if self._file is None or self._file.closed:  # a nested pass must not take over progress
                self._file = file
            reader = csv.reader(file, delimiter=self.delimiter)
            line = 0
            try:
                if self.skip_first:
                    next(reader, None)
                for line, row in enumerate(reader, 1):
                    yield line, row
            except csv.Error as exc:
                reason = "una celda es demasiado larga" if "field limit" in str(exc) else "no se puede leer"
                raise InventoryFileError(
                    f"El CSV está mal formado en la fila {line + 1}: {reason}. Ábrelo en Excel o "
                    "LibreOffice, revisa esa fila (¿unas comillas sin cerrar?) y guárdalo de nuevo.",
                    code="csv_malformed",
                ) from exc


    def fraction_read(self, line: int) -> float:
        """Share of the file's bytes read by the latest rows() (to within the 8 KiB read-ahead)."""
        file = self._file
        if file is None or file.closed:
            return 1.0
        return file.buffer.tell() / max(1, self.path.stat().st_size)


def open_csv(path: Path) -> CsvSource:
    """Detect the encoding and delimiter of a CSV file."""
    encoding = detect_encoding(path)
    sample, complete = read_sample(path, encoding)
    delimiter = _sep_line(sample)
    skip_first = delimiter is not None
    if delimiter is None:
        delimiter = detect_delimiter(sample)
    lines = max(1, sample.count("\n"))
    if complete:
        estimated = lines
    else:
        estimated = int(path.stat().st_size / (len(sample.encode(encoding, "replace")) / lines))
    return CsvSource(
        path=path, encoding=encoding, delimiter=delimiter, estimated_rows=estimated, skip_first=skip_first
    )
