"""Text folding shared by every service: how names and searchable text compare."""

from __future__ import annotations

import unicodedata


def fold(value: str) -> str:
    """Lower case, accents removed, single spaces: "Radiografía  TÓRAX" → "radiografia torax". Idempotent."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())
