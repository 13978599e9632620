"""A service's refusal in the words of the console's form: the API names a field by its JSON key, the form by its label."""

from __future__ import annotations

from console.app.backend import BackendError


def in_form_words(exc: BackendError, labels: dict[str, str]) -> str:
    """«percentage» debe ser… → «Porcentaje» debe ser…, for each bad field; the API's message when it names none."""
    if not exc.field_errors:
        text = exc.message
        for key, label in labels.items():
            text = text.replace(f"«{key}»", f"«{label}»")
        return text
    words = []
    for error in exc.field_errors:
        field = error["field"].split(".")[-1]
        words.append(error["message"].replace(f"«{error['field']}»", f"«{labels.get(field, field)}»")
                     .replace(f"«{field}»", f"«{labels.get(field, field)}»"))
    return " ".join(words)
