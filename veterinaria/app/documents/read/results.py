"""What the document pipeline hands back: text per page, with where it came from and how sure we are."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PageText:
    number: int  # 1-based
    text: str
    confidence: float  # 0–1; 1.0 for a PDF text layer
    source: str = "ocr"  # "text-layer" | "ocr" | "text-layer+ocr" (a text layer and a pasted scan)
    rotated: int = 0  # degrees turned counter-clockwise to make the page upright
    deskew: float = 0.0  # degrees turned counter-clockwise to level the text lines


@dataclass
class DocumentText:
    kind: str  # "pdf" | "image"
    pages: list[PageText] = field(default_factory=list)
    text: str = ""  # all pages, separated by a blank line
    confidence: float = 0.0  # mean page confidence weighted by characters (blank pages weigh nothing)

    @classmethod
    def from_pages(cls, kind: str, pages: list[PageText]) -> DocumentText:
        text = "\n\n".join(page.text.strip("\n") for page in pages)
        weights = [len(page.text.strip()) for page in pages]
        total = sum(weights)
        confidence = sum(p.confidence * w for p, w in zip(pages, weights, strict=True)) / total if total else 0.0
        return cls(kind=kind, pages=pages, text=text, confidence=round(confidence, 4))
