"""Text folding shared by every service: how names, headers and searchable text compare.

Four contracts, one per need; each drops accents the same way (Unicode NFKD, combining marks removed):

- `strip_accents`: accents only; case and spacing kept ("Stock mín." → "Stock min.").
- `fold`: lower case (casefold), no accents, single spaces — how names and search text are stored.
- `fold_with_origins`: `fold` without collapsing spaces, plus where each folded character came
  from — to cut a snippet out of the original around a match found in the folded text.
- `fold_keeping_length`: lower case, no accents, one character for one character — so a match
  found in the folded text sits at the same place in the original (OCR field extraction).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


def strip_accents(value: str) -> str:
    """Accents (and other combining marks) removed, all else as is: "Radiografía TÓRAX" → "Radiografia TORAX"."""
    return "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))


def fold(value: str) -> str:
    """Lower case, accents removed, single spaces: "Radiografía  TÓRAX" → "radiografia torax". Idempotent."""
    return " ".join(strip_accents(value.casefold()).split())


def fold_with_origins(source: str) -> tuple[str, list[int]]:
    """`source` folded like `fold` (without collapsing spaces), and for each folded character its index in `source`."""
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(source):
        for piece in unicodedata.normalize("NFKD", char.casefold()):
            if not unicodedata.combining(piece):
                folded.append(piece)
                origin.append(index)
    return "".join(folded), origin


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    base = strip_accents(char)
    return base.lower() if len(base) == 1 else char.lower()[:1] or char


def fold_keeping_length(text: str) -> str:
    """Lower case without accents ("Propietaria" and "propietaría" → "propietaria"), same length,
    so a match found in the folded text can be cut out of the original."""
    return "".join(_fold_char(char) for char in text)
