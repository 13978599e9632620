"""Text helpers for reading OCR output: accent-folding that keeps every character's position."""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return base.lower() if len(base) == 1 else char.lower()[:1] or char


def fold(text: str) -> str:
    """Lower case without accents ("Propietaria" and "propietaría" → "propietaria"), same length,
    so a match found in the folded text can be cut out of the original."""
    return "".join(_fold_char(char) for char in text)
