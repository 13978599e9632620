"""OCR accuracy: character error rate per kind of page, and how often the clinical fields come out right.

The test set is generated (tests/veterinaria/samples.py): Spanish veterinary documents of every
type printed on A4 with DejaVu Sans, then clean at 300 and 150 dpi, turned 90/180/270°, skewed
1–3°, blurred and speckled, JPEG-compressed, and as PDFs with a text layer. Each goes through
`extract_document` + `extract_fields`, exactly as the worker runs them.

    .venv/bin/python bench/ocr_accuracy.py              # 10 documents per category
    .venv/bin/python bench/ocr_accuracy.py --docs 30
    .venv/bin/python bench/ocr_accuracy.py --docs 0     # only the lab-number formats

Then the lab-number formats of tests/veterinaria/lab_formats.py (thousands points, decimal
commas, powers of ten, open cases) printed on lab sheets, as text-layer PDFs and as scans: how
many values come back as the laboratory meant them (value, or the ambiguity flag) with their
printed text.

CER = Levenshtein distance / reference length, whitespace runs collapsed on both sides.
Targets (issue 4): CER < 3 % on clean and skewed pages; all fields right on ≥ 95 % of documents.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.veterinaria import pages  # noqa: E402
from tests.veterinaria.lab_formats import FORMATS, OPEN  # noqa: E402
from tests.veterinaria.samples import SampleDocument, sample_document  # noqa: E402
from veterinaria.app.documents.read import DocumentError, extract_document, extract_fields, get_engine  # noqa: E402

try:
    from rapidfuzz.distance import Levenshtein

    def edit_distance(a: str, b: str) -> int:
        return Levenshtein.distance(a, b)
except ImportError:  # a small DP is enough for page-sized texts

    def edit_distance(a: str, b: str) -> int:
        previous = list(range(len(b) + 1))
        for i, char_a in enumerate(a, 1):
            current = [i]
            for j, char_b in enumerate(b, 1):
                current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
            previous = current
        return previous[-1]


CATEGORIES = ["clean-300dpi", "clean-150dpi", "rotated-90-180-270", "skewed-1-3deg", "blurred-noisy",
              "jpeg-q30", "text-layer-pdf"]


def squash(text: str) -> str:
    return " ".join(text.split())


def cer(reference: str, hypothesis: str) -> tuple[int, int]:
    reference, hypothesis = squash(reference), squash(hypothesis)
    return edit_distance(reference, hypothesis), len(reference)


def make_file(category: str, doc: SampleDocument, index: int, folder: Path, rng: random.Random) -> Path:
    if category == "text-layer-pdf":
        return pages.write_pdf(folder / f"{index}.pdf", [doc.lines])
    dpi = 150 if category == "clean-150dpi" else 300
    image = pages.render_page(doc.lines, dpi=dpi)
    if category == "rotated-90-180-270":
        image = pages.rotate(image, [90, 180, 270][index % 3])
    elif category == "skewed-1-3deg":
        image = pages.skew(image, rng.choice([-1, 1]) * rng.uniform(1.0, 3.0))
    elif category == "blurred-noisy":
        image = pages.add_noise(pages.blur(image, 1.2), sigma=50, opacity=0.3)
    if category == "jpeg-q30":
        return pages.write_image(folder / f"{index}.jpg", image, dpi=dpi, quality=30)
    return pages.write_image(folder / f"{index}.png", image, dpi=dpi)


def fold(text: str | None) -> str | None:
    if text is None:
        return None
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


def field_checks(doc: SampleDocument, text: str) -> dict[str, bool]:
    fields = extract_fields(text)
    labs = [(fold(v.name), v.value) for v in fields.lab_values]
    return {
        "type": fields.document_type == doc.document_type,
        # names as the document spells them, accents included (fold() is for matching, not for fields)
        "patient": fields.patient_name == doc.patient,
        "species": fields.species == doc.species,
        "owner": fields.owner_name == doc.owner,
        "date": fields.date == doc.date,
        "vet": fields.vet_name == doc.vet,
        "lab values": labs == [(fold(v.name), v.value) for v in doc.lab_values],
    }


LAB_KINDS = {"text-layer-pdf": None, "scan-300dpi": 300, "scan-200dpi": 200}
LAB_LINES_PER_PAGE = 20


def lab_format_checks(folder: Path) -> dict[str, tuple[int, int, list[str]]]:
    """Per kind of file: (values read as meant, values printed, the lines that came out wrong)."""
    sheets = [FORMATS[i:i + LAB_LINES_PER_PAGE] for i in range(0, len(FORMATS), LAB_LINES_PER_PAGE)]
    results = {}
    for kind, dpi in LAB_KINDS.items():
        right, wrong = 0, []
        for number, sheet in enumerate(sheets):
            lines = ["RESULTADOS DE LABORATORIO - HEMOGRAMA Y BIOQUÍMICA", ""] + [line for line, *_ in sheet]
            contents = [lines] if dpi is None else [pages.render_page(lines, dpi=dpi)]
            path = pages.write_pdf(folder / f"lab-{kind}-{number}.pdf", contents)
            found = extract_fields(extract_document(path, dpi=dpi or 300).text).lab_values
            cursor = 0
            for line, name, value, _unit, raw in sheet:  # in order: a sheet names an analyte several times
                at = next((i for i in range(cursor, len(found)) if found[i].name == name), None)
                got = found[at] if at is not None else None
                cursor = at + 1 if at is not None else cursor
                meant = got is not None and got.raw == raw and (
                    got.ambiguous and got.value is None if value is OPEN
                    else not got.ambiguous and got.value is not None and abs(got.value - value) <= 1e-9 * max(1, value))
                right += meant
                if not meant:
                    wrong.append(f"{line!r} -> {got}")
        results[kind] = (right, len(FORMATS), wrong)
    return results


def print_lab_formats(folder: Path, show_errors: bool) -> None:
    print(f"\nlab-number formats ({len(FORMATS)} lines, tests/veterinaria/lab_formats.py) read as the laboratory meant them:")
    for kind, (right, total, wrong) in lab_format_checks(folder).items():
        print(f"  {kind:<16} {right:>3}/{total} ({right / total:.0%})")
        if show_errors:
            for line in wrong:
                print(f"      {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=10, help="documents per category")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--show-errors", action="store_true", help="print the fields that came out wrong")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    get_engine()
    errors: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    field_right: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    all_right: dict[str, int] = defaultdict(int)
    seconds: dict[str, float] = defaultdict(float)
    with tempfile.TemporaryDirectory(prefix="ocr-accuracy-") as tmp:
        folder = Path(tmp)
        if args.docs == 0:
            print_lab_formats(folder, args.show_errors)
            return
        for category in CATEGORIES:
            for index in range(args.docs):
                doc = sample_document(index, seed=args.seed)
                path = make_file(category, doc, index, folder, rng)
                started = time.perf_counter()
                try:
                    text = extract_document(path).text
                except DocumentError as error:  # counts as reading nothing
                    text = ""
                    print(f"  {category} #{index}: {error.message}")
                seconds[category] += time.perf_counter() - started
                distance, length = cer(doc.text, text)
                errors[category][0] += distance
                errors[category][1] += length
                checks = field_checks(doc, text)
                for name, right in checks.items():
                    field_right[category][name] += right
                all_right[category] += all(checks.values())
                if args.show_errors and not all(checks.values()):
                    wrong = [name for name, right in checks.items() if not right]
                    print(f"  {category} #{index}: wrong {wrong}\n{text}\n")

    names = list(field_checks(sample_document(0), sample_document(0).text))
    header = f"{'category':<20} {'CER':>7} {'s/page':>7}  " + " ".join(f"{n:>10}" for n in names)
    header += f" {'all fields':>11}"
    print(f"OCR accuracy on {args.docs} generated documents per category (seed {args.seed})\n")
    print(header)
    print("-" * len(header))
    total_docs = total_right = 0
    for category in CATEGORIES:
        distance, length = errors[category]
        row = f"{category:<20} {distance / length:>7.2%} {seconds[category] / args.docs:>7.2f}  "
        row += " ".join(f"{field_right[category][n] / args.docs:>10.0%}" for n in names)
        row += f" {all_right[category] / args.docs:>11.0%}"
        print(row)
        total_docs += args.docs
        total_right += all_right[category]
    print(f"\nall fields right on {total_right}/{total_docs} documents ({total_right / total_docs:.1%}); target ≥ 95 %")
    for category in ("clean-300dpi", "skewed-1-3deg"):
        distance, length = errors[category]
        verdict = "OK" if distance / length < 0.03 else "MISSED"
        print(f"CER {category}: {distance / length:.2%} (target < 3 %) {verdict}")
    with tempfile.TemporaryDirectory(prefix="ocr-accuracy-") as tmp:
        print_lab_formats(Path(tmp), args.show_errors)


if __name__ == "__main__":
    main()
