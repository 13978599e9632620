"""The one get-or-404: a row by primary key, or a NotFound that names what is missing, in Spanish."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from common.errors import NotFound

Row = TypeVar("Row")


def not_found(noun: str, item_id: object, *, code: str) -> NotFound:
    """`noun` with its article, as a person says it: "la tienda", "el producto"."""
    return NotFound(f"No existe {noun} con id {item_id}.", code=code)


def get_or_404(session: Session, model: type[Row], item_id: object, *, noun: str, code: str) -> Row:
    """`session.get(model, item_id)`, or NotFound("No existe <noun> con id <id>.") with `code`."""
    row = session.get(model, item_id)
    if row is None:
        raise not_found(noun, item_id, code=code)
    return row
