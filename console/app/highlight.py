"""The words a search found, marked in its snippet: escaped first, then marked, so a snippet cannot inject HTML.

The veterinaria API finds words with accents and case folded (and, on PostgreSQL, by their Spanish
stem), so the marking folds the snippet the same way (`common.text`) and marks each word that
starts with a query term, or with the term's stem as the API's own snippet cut looks for it.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from common.text import fold, fold_with_origins

_WORD = re.compile(r"[^\W_]+")
MAX_TERMS = 12


def terms_of(q: str) -> list[str]:
    return _WORD.findall(fold(q))[:MAX_TERMS]


def _stem(term: str) -> str:
    return term[: max(4, len(term) - 3)]


def highlight(snippet: str, q: str) -> Markup:
    """`snippet` as safe HTML, each word matching a term of `q` inside <mark>."""
    terms = terms_of(q)
    folded, origin = fold_with_origins(snippet)
    spans: list[tuple[int, int]] = []
    for word in _WORD.finditer(folded):
        text = word.group()
        if any(text.startswith(term) or (len(term) > 4 and text.startswith(_stem(term))) for term in terms):
            spans.append((origin[word.start()], origin[word.end() - 1] + 1))
    out, last = [], 0
    for start, end in spans:
        if start < last:
            continue
        out.append(escape(snippet[last:start]))
        out.append(Markup("<mark>") + escape(snippet[start:end]) + Markup("</mark>"))
        last = end
    out.append(escape(snippet[last:]))
    return Markup("").join(out)
