"""Pydantic's validation errors, rewritten in Spanish and naming the field a person got wrong."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class InvalidValue(ValueError):
    """Raise from a Pydantic validator with a Spanish reason; the 422 shows it as written."""


_LOCATIONS = ("body", "query", "path", "header", "cookie", "form")

# pydantic-core error type → Spanish text; {name} placeholders are filled from the error's ctx
_MESSAGES: dict[str, str] = {
    "missing": "es obligatorio",
    "extra_forbidden": "no es un campo admitido aquí",
    "string_type": "debe ser un texto",
    "string_too_short": "debe tener al menos {min_length} caracteres",
    "string_too_long": "puede tener como mucho {max_length} caracteres",
    "string_pattern_mismatch": "tiene caracteres o un formato no admitidos",
    "string_unicode": "debe ser un texto válido (UTF-8)",
    "int_type": "debe ser un número entero",
    "int_parsing": "debe ser un número entero",
    "int_from_float": "debe ser un número entero, sin decimales",
    "int_parsing_size": "es un número demasiado grande",
    "float_type": "debe ser un número",
    "float_parsing": "debe ser un número",
    "decimal_type": "debe ser un número",
    "decimal_parsing": "debe ser un número",
    "decimal_max_digits": "tiene demasiadas cifras (como mucho {max_digits})",
    "decimal_max_places": "tiene demasiados decimales (como mucho {decimal_places})",
    "decimal_whole_digits": "tiene demasiadas cifras antes de la coma (como mucho {whole_digits})",
    "finite_number": "debe ser un número finito",
    "bool_type": "debe ser verdadero o falso",
    "bool_parsing": "debe ser verdadero o falso (true/false)",
    "greater_than": "debe ser mayor que {gt}",
    "greater_than_equal": "debe ser mayor o igual que {ge}",
    "less_than": "debe ser menor que {lt}",
    "less_than_equal": "debe ser menor o igual que {le}",
    "multiple_of": "debe ser múltiplo de {multiple_of}",
    "too_short": "debe tener al menos {min_length} elementos",
    "too_long": "puede tener como mucho {max_length} elementos",
    "list_type": "debe ser una lista",
    "dict_type": "debe ser un objeto",
    "model_type": "debe ser un objeto",
    "model_attributes_type": "debe ser un objeto",
    "enum": "debe ser uno de: {expected}",
    "literal_error": "debe ser uno de: {expected}",
    "date_type": "debe ser una fecha (AAAA-MM-DD)",
    "date_parsing": "debe ser una fecha válida (AAAA-MM-DD)",
    "date_from_datetime_parsing": "debe ser una fecha válida (AAAA-MM-DD)",
    "date_from_datetime_inexact": "debe ser una fecha sin hora (AAAA-MM-DD)",
    "datetime_type": "debe ser una fecha y hora (AAAA-MM-DDTHH:MM)",
    "datetime_parsing": "debe ser una fecha y hora válida (AAAA-MM-DDTHH:MM)",
    "datetime_from_date_parsing": "debe ser una fecha y hora válida (AAAA-MM-DDTHH:MM)",
    "time_parsing": "debe ser una hora válida (HH:MM)",
    "uuid_type": "debe ser un identificador UUID",
    "uuid_parsing": "debe ser un identificador UUID válido",
    "json_invalid": "no es un JSON válido",
    "json_type": "debe ser JSON",
    "value_error": "no es válido",
    "assertion_error": "no es válido",
    "none_required": "debe estar vacío",
    "url_parsing": "debe ser una dirección web válida",
    "url_type": "debe ser una dirección web",
}


def describe_validation_errors(errors: Sequence[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """A one-line Spanish summary and one entry per error: {field, loc, code, message}."""
    items = [_describe(error) for error in errors]
    if not items:
        return "Los datos enviados no son válidos.", []
    if len(items) == 1:
        summary = f"Dato no válido: {items[0]['message']}."
    else:
        summary = "Datos no válidos: " + "; ".join(item["message"] for item in items[:5])
        summary += "…" if len(items) > 5 else "."
    return summary, items


def _describe(error: dict[str, Any]) -> dict[str, Any]:
    loc = [part if isinstance(part, int) else str(part) for part in error.get("loc", ())]
    field = _field_name(loc)
    kind = str(error.get("type", "value_error"))
    template = _MESSAGES.get(kind, "no es válido")
    raw_ctx = error.get("ctx") or {}
    ctx = {key: _ctx_value(value) for key, value in raw_ctx.items()}
    try:
        text = template.format(**ctx)
    except (KeyError, IndexError):
        text = template.split("{")[0].rstrip(" (:")
    if isinstance(raw_ctx.get("error"), InvalidValue):
        reason = str(raw_ctx["error"])
        return {"field": field, "loc": loc, "code": kind, "message": f"«{field}»: {reason}" if field else reason}
    if field == "":
        if kind == "missing":
            return {"field": "", "loc": loc, "code": kind, "message": "falta el cuerpo de la petición"}
        return {"field": "", "loc": loc, "code": kind, "message": f"el cuerpo de la petición {text}"}
    return {"field": field, "loc": loc, "code": kind, "message": f"«{field}» {text}"}


def _field_name(loc: Sequence[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in _LOCATIONS:
        parts.pop(0)
    return ".".join(str(part) for part in parts)


def _ctx_value(value: Any) -> str:
    if isinstance(value, float):
        # a person reads "0" and "0,5", not "0.0" and "0.5"
        return str(int(value)) if value.is_integer() else str(value).replace(".", ",")
    text = str(value)
    # pydantic writes "'a', 'b' or 'c'"; Spanish reads "'a', 'b' o 'c'"
    return text.replace("' or '", "' o '")

