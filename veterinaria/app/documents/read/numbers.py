"""Numbers on Spanish lab sheets, read as the laboratory meant them.

Spanish labs write a decimal comma and a thousands point (`9,4`, `310.000`, `1.250,5`), but many
analysers print a decimal point (`9.4`, `1.025`), and a few print English thousands (`250,000`).
Most numbers say which they are: two different separators, several of the same one, a leading
zero (`0,950`) or not exactly three digits after the only separator (`9,4`, `12.50`). Only a single
separator followed by exactly three digits (`9.400`, `1,025`) could be either, and then the line
settles it, in this order:

1. what the analyte can measure in that unit (leucocytes in x10^3/µL are never 9 400; urine
   density is never 1 025);
2. the printed reference range: the reading more than ten times closer to the range wins
   (`1.200 mg/dL (0,5-1,8)` is 1.2; `1.100 U/L (100-750)` is 1100);
3. a count per µL or mm³ is a whole number printed without decimals (`9.400 /µL` is 9400).

What is still open after that is `ambiguous`: the reading is kept as printed and no number is
made up for it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

#: the reading must beat the other by more than this many orders of magnitude to be chosen by the range
_RANGE_MARGIN = 1.0
#: units whose values are counts per volume, printed as whole numbers
_COUNT_UNITS = frozenset({"/µL", "/mm³"})

#: (analyte, unit) -> (lowest, highest) value any patient could have: a sanity bound, not a reference
_PLAUSIBLE: dict[tuple[str, str], tuple[float, float]] = {}
for _name, _per_ul in {  # cells per µL
    "Leucocitos": (100, 500_000), "Eritrocitos": (100_000, 20_000_000), "Plaquetas": (1_000, 3_000_000),
    "Neutrófilos": (1, 400_000), "Linfocitos": (1, 400_000), "Monocitos": (1, 100_000),
    "Eosinófilos": (1, 100_000), "Basófilos": (1, 50_000), "Reticulocitos": (100, 2_000_000),
}.items():
    low, high = _per_ul
    for _unit, _scale in (("/µL", 1), ("/mm³", 1), ("x10^3/µL", 1e3), ("x10^9/L", 1e3), ("x10^6/µL", 1e6),
                          ("x10^12/L", 1e6)):
        _PLAUSIBLE[(_name, _unit)] = (low / _scale, high / _scale)
_PLAUSIBLE |= {
    ("Hemoglobina", "g/dL"): (1, 30), ("Hemoglobina", "g/L"): (10, 300), ("Hematocrito", "%"): (3, 90),
    ("Glucosa", "mg/dL"): (5, 2000), ("Glucosa", "mmol/L"): (0.3, 110), ("Glucosa", "g/L"): (0.05, 20),
    ("Urea", "mg/dL"): (1, 1000), ("Urea", "mmol/L"): (0.3, 170), ("BUN", "mg/dL"): (1, 500),
    ("Creatinina", "mg/dL"): (0.05, 40), ("Creatinina", "µmol/L"): (5, 3500),
    ("Proteínas totales", "g/dL"): (1, 20), ("Proteínas totales", "g/L"): (10, 200),
    ("Albúmina", "g/dL"): (0.3, 8), ("Albúmina", "g/L"): (3, 80), ("Globulinas", "g/dL"): (0.3, 15),
    ("Colesterol", "mg/dL"): (20, 2000), ("Triglicéridos", "mg/dL"): (5, 10_000),
    ("Sodio", "mmol/L"): (80, 250), ("Sodio", "mEq/L"): (80, 250), ("Potasio", "mmol/L"): (0.5, 15),
    ("Potasio", "mEq/L"): (0.5, 15), ("Cloro", "mmol/L"): (50, 200), ("Cloro", "mEq/L"): (50, 200),
    ("Calcio", "mg/dL"): (1, 30), ("Calcio", "mmol/L"): (0.3, 7.5), ("Fósforo", "mg/dL"): (0.3, 30),
    ("Magnesio", "mg/dL"): (0.3, 10), ("Bilirrubina total", "mg/dL"): (0, 60),
    ("T4 total", "µg/dL"): (0, 30), ("VCM", "fL"): (20, 200), ("HCM", "pg"): (5, 80), ("CHCM", "g/dL"): (10, 60),
    ("Densidad urinaria", ""): (1.0, 1.1), ("pH", ""): (3, 10),
}


@dataclass(frozen=True)
class Reading:
    """A number as printed and what it is: `value` is None when the printing leaves it open."""

    raw: str
    value: float | None
    ambiguous: bool = False


def readings(text: str) -> tuple[float, ...]:
    """Every value `text` can mean: one, two when a lone separator has three digits after it, none if malformed."""
    text = text.strip()
    if not re.fullmatch(r"\d+(?:[.,]\d+)*", text):
        return ()
    separators = set(re.findall(r"[.,]", text))
    if not separators:
        return (float(text),)
    if len(separators) == 2:  # the last one is the decimal mark, the other groups thousands
        decimal = text[max(text.rfind("."), text.rfind(","))]
        whole, _, fraction = text.rpartition(decimal)
        return (float(f"{_ungroup(whole)}.{fraction}"),) if _grouped(whole) else ()
    (separator,) = separators
    groups = text.split(separator)
    if len(groups) > 2:  # 1.250.000
        return (float("".join(groups)),) if _grouped(text) else ()
    whole, fraction = groups
    as_decimal = float(f"{whole}.{fraction}")
    if len(fraction) != 3 or whole.startswith("0") or len(whole) > 3:
        return (as_decimal,)
    return (as_decimal, float(whole + fraction))


def _grouped(text: str) -> bool:
    """1.250.000 or 1,250: a first group of 1–3 digits (no leading zero), then groups of exactly 3."""
    return re.fullmatch(r"[1-9]\d{0,2}(?:([.,])\d{3})?(?:\1\d{3})*", text) is not None


def _ungroup(text: str) -> str:
    return text.replace(".", "").replace(",", "")


def parse_number(text: str) -> float | None:
    """The number when the printing alone says which it is; None when malformed or open."""
    found = readings(text)
    return found[0] if len(found) == 1 else None


def reference_bounds(reference: str | None) -> list[tuple[float, ...]]:
    """The readings of each bound of a reference range like `5.500-19.500` or `<0,1`."""
    if not reference:
        return []
    return [readings(bound) for bound in re.findall(r"\d+(?:[.,]\d+)*", reference)]


def read_value(raw: str, *, analyte: str | None, unit: str | None, reference: str | None) -> Reading:
    """`raw` (digits and separators as printed) read with what the rest of the line says."""
    candidates = readings(raw)
    if len(candidates) < 2:
        return Reading(raw=raw, value=candidates[0] if candidates else None)  # none: not a number at all
    plausible = _PLAUSIBLE.get((analyte or "", unit or ""))
    if plausible:
        candidates = tuple(v for v in candidates if plausible[0] <= v <= plausible[1]) or candidates
    if len(candidates) == 2:
        candidates = _by_reference(candidates, raw, reference)
    if len(candidates) == 2 and unit in _COUNT_UNITS:
        candidates = (candidates[1],)
    if len(candidates) == 2:
        return Reading(raw=raw, value=None, ambiguous=True)
    return Reading(raw=raw, value=candidates[0])


def _by_reference(candidates: tuple[float, ...], raw: str, reference: str | None) -> tuple[float, ...]:
    """The candidate the reference range points to, if it points clearly; both otherwise."""
    bounds = reference_bounds(reference)
    if len(bounds) not in (1, 2):
        return candidates
    separator = re.search(r"[.,]", raw).group()
    distances = []
    for index, value in enumerate(candidates):  # 0: the separator is a decimal mark, 1: it groups thousands
        limits = []
        for bound_text, bound in zip(re.findall(r"\d+(?:[.,]\d+)*", reference), bounds, strict=True):
            if not bound:
                return candidates
            if len(bound) == 2 and separator not in bound_text:
                return candidates  # "9.400 (5,500-19,500)": two open numbers in two conventions
            limits.append(bound[index] if len(bound) == 2 else bound[0])  # printed like the value, read like it
        if len(limits) == 2 and limits[0] > limits[1]:
            distances.append(math.inf)  # "300-1.500" read with a decimal point is no range
            continue
        low, high = (limits[0], limits[-1]) if len(limits) == 2 else _one_sided(reference, limits[0])
        distances.append(_orders_outside(value, low, high))
    if distances[0] + _RANGE_MARGIN < distances[1]:
        return candidates[:1]
    if distances[1] + _RANGE_MARGIN < distances[0]:
        return candidates[1:]
    return candidates


def _one_sided(reference: str, bound: float) -> tuple[float, float]:
    return (0.0, bound) if "<" in reference or "≤" in reference else (bound, math.inf)


def _orders_outside(value: float, low: float, high: float) -> float:
    """How many orders of magnitude `value` lies outside [low, high] (0 inside)."""
    if value <= 0:
        return 0.0 if low <= 0 else math.inf
    below = math.log10(low / value) if low > 0 and value < low else 0.0
    above = math.log10(value / high) if value > high else 0.0
    return max(below, above)
