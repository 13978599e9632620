"""Lab values from the lines of an analysis sheet: `Hemoglobina 12.5 g/dL (12-18)`, `Glucosa ..... 95 mg/dL`.

A line is a lab value when its name is a known analyte, or when a lab unit follows the number
(so "Amoxicilina 250 mg" in a prescription is not one). Works on OCR output: accents may be
lost, `dL` may read `dl` or `dI`, `µL` may read `uL`. The number is read by `numbers.read_value`
with the analyte, unit and reference range of its line (`9.400 /µL` is 9400, `9.4 x10^3/µL` is
9.4); the printed number is kept beside it, and one the line cannot settle is flagged ambiguous.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import get_close_matches

from common.text import fold_keeping_length
from veterinaria.app.documents.read.numbers import read_value


@dataclass
class LabValue:
    name: str
    value: float | None  # None when `ambiguous`
    unit: str | None = None
    reference: str | None = None  # the printed reference range, e.g. "12-18"
    raw: str = ""  # the value as printed, comparator included: "9.400", "< 0,1"
    ambiguous: bool = False  # the printing leaves open what the number is ("1.200 U/L", no range)


#: canonical spelling -> other spellings (folded)
_ANALYTES: dict[str, tuple[str, ...]] = {
    "Hemoglobina": ("hgb", "hb"), "Hematocrito": ("hto", "hct"),
    "Eritrocitos": ("hematies", "globulos rojos", "rbc"), "Leucocitos": ("globulos blancos", "wbc"),
    "Plaquetas": ("plt",), "VCM": ("mcv",), "HCM": ("mch",), "CHCM": ("mchc",),
    "Neutrófilos": (), "Linfocitos": (), "Monocitos": (), "Eosinófilos": (), "Basófilos": (),
    "Reticulocitos": (), "Glucosa": ("glu",), "Urea": (), "BUN": (), "Creatinina": ("crea",),
    "ALT": ("alt (gpt)", "gpt", "alt/gpt"), "AST": ("ast (got)", "got", "ast/got"),
    "Fosfatasa alcalina": ("fa", "fal", "alp"), "GGT": (), "Bilirrubina total": ("bilirrubina",),
    "Proteínas totales": ("proteinas", "pt"), "Albúmina": ("alb",), "Globulinas": ("glob",),
    "Colesterol": ("col",), "Triglicéridos": ("tg",), "Sodio": ("na",), "Potasio": ("k",),
    "Cloro": ("cloruro", "cl"), "Calcio": ("ca",), "Fósforo": ("p",), "Magnesio": (),
    "Amilasa": (), "Lipasa": (), "SDMA": (), "T4 total": ("t4",), "Fructosamina": (), "CK": ("cpk",),
    "Ácidos biliares": (), "Hierro": (), "Lactato": (), "Densidad urinaria": ("densidad",), "pH": (),
}
_CANONICAL = {fold_keeping_length(name): name for name in _ANALYTES} | {
    alias: name for name, aliases in _ANALYTES.items() for alias in aliases
}
#: what a run of leader dots turns into when OCR reads it as letters
_DOTS_AS_LETTERS = frozenset("cenosuwmrvt.,·:;'`-_")
_FUZZY_KEYS = [key for key in _CANONICAL if len(key) > 3]
_NOT_ANALYTES = ("fecha", "edad", "peso", "tel", "lote", "chip", "paciente", "especie", "raza", "propiet",
                 "historia", "colegiad", "temperatura", "cp", "dni", "n ", "no ", "mayor", "calle")

#: canonical unit -> pattern on folded text (OCR reads l as I or 1, µ as u or p)
_POWER = r"x?\s*10\s*(?:[\^*”“\"'’7%]\s*){0,2}"  # OCR reads the caret of 10^3 as *, ”, % or 7, or two of them
_UNITS: tuple[tuple[str, str], ...] = (
    ("x10^3/µL", _POWER + r"[3³]\s*/\s*[µμuph]{0,2}\s*[li1]"),
    ("x10^6/µL", _POWER + r"[6⁶]\s*/\s*[µμuph]{0,2}\s*[li1]"),
    ("x10^9/L", _POWER + r"9\s*/\s*[li1]"),
    ("x10^12/L", _POWER + r"12\s*/\s*[li1]"),
    ("µmol/L", r"[µμu]mol\s*/\s*[li1]"),
    ("mmol/L", r"mmol\s*/\s*[li1]"),
    ("mEq/L", r"meq\s*/\s*[li1]"),
    ("µg/dL", r"[µμu]g\s*/\s*d[li1]"),
    ("mg/dL", r"mg\s*/\s*d[li1]"),
    ("g/dL", r"g\s*/\s*d[li1]"),
    ("ng/mL", r"ng\s*/\s*m[li1]"),
    ("mg/L", r"mg\s*/\s*[li1]"),
    ("g/L", r"g\s*/\s*[li1]"),
    ("UI/L", r"u[i1l]\s*/\s*[li1]"),
    ("U/L", r"u\s*/\s*[li1]"),
    ("/µL", r"/\s*[µμu]\s*[li1]"),
    ("/mm³", r"/\s*mm\s*[3³?*]"),  # OCR reads the superscript as ? or *
    ("mOsm/kg", r"mosm\s*/\s*kg"),
    ("mm/h", r"mm\s*/\s*h"),
    ("fL", r"f[li1]"),
    ("pg", r"pg"),
    ("%", r"%"),
)
_UNIT_RES = [(unit, re.compile(pattern + r"(?![a-z])")) for unit, pattern in _UNITS]
_NUMBER = r"\d+(?:[.,]\d+)*"
_VALUE = re.compile(rf"(?<![\w,])(?<!\d[.,])([<>≤≥]?)\s*({_NUMBER})(?=x\s*10|[^\w]|$)")
_REFERENCE = re.compile(rf"[(\[]?\s*({_NUMBER})\s*[-–—]\s*({_NUMBER})\s*[)\]]?|([<>≤≥])\s*({_NUMBER})")
#: the name ends at leader dots or a colon, even when OCR turned some dots into digits ("..00655")
_NAME_STOP = re.compile(r"\s*(?:[.…·_]{2,}|[:=|¿])")
_LEADERS = re.compile(r"[\s:;=._…·|¿?,'-]+$")


def _unit_at(rest: str) -> tuple[str | None, int]:
    for unit, pattern in _UNIT_RES:
        match = pattern.match(rest)
        if match:
            return unit, match.end()
    return None, 0


def _analyte(name: str) -> str | None:
    """The canonical analyte for a (folded) name, forgiving OCR typos and leader dots read as letters."""
    words = name.split()
    while len(words) > 1 and set(words[-1]) <= _DOTS_AS_LETTERS:  # "urea cooccccnnnns", "hemoglobina . wee"
        words.pop()
    key = _LEADERS.sub("", " ".join(words)).strip(" .:-")
    if key in _CANONICAL:
        return _CANONICAL[key]
    close = get_close_matches(key, _FUZZY_KEYS, n=1, cutoff=0.84)
    return _CANONICAL[close[0]] if close else None


def _value_match(folded: str) -> tuple[re.Match[str], str | None, int] | None:
    """The line's value: the first number followed by a lab unit, else the first number.

    (OCR turns leader dots into digits: in "Potasio ....00655 6.0 mmol/L" the value is 6.0.)
    """
    first = None
    for match in _VALUE.finditer(folded):
        if match.start() == 0:
            continue
        rest = folded[match.end():].lstrip(" *hl↑↓")
        unit, used = _unit_at(rest)
        if unit:
            return match, unit, len(folded) - len(rest) + used
        first = first or (match, None, match.end())
    return first


def parse_lab_line(line: str) -> LabValue | None:
    """One line as a lab value, or None when it is not one."""
    folded = fold_keeping_length(line)
    found = _value_match(folded)
    if found is None:
        return None
    match, unit, unit_end = found
    stop = _NAME_STOP.search(folded, 1, match.start())
    name_end = stop.start() if stop else match.start()
    raw_name = _LEADERS.sub("", line[:name_end]).strip()
    name_key = _LEADERS.sub("", folded[:name_end]).strip()
    if not raw_name or len(raw_name) > 40 or len(raw_name.split()) > 5 or not re.match(r"[a-z]", name_key):
        return None
    if name_key.startswith(_NOT_ANALYTES) or re.search(r"\d", name_key.replace("t4", "")):
        return None
    analyte = _analyte(name_key)
    if analyte is None and unit is None:
        return None
    reference = None
    ref = _REFERENCE.search(folded[unit_end:])
    if ref:
        reference = f"{ref.group(1)}-{ref.group(2)}" if ref.group(1) else f"{ref.group(3)}{ref.group(4)}"
    reading = read_value(match.group(2), analyte=analyte, unit=unit, reference=reference)
    if reading.value is None and not reading.ambiguous:
        return None
    raw = line[match.start(1) if match.group(1) else match.start(2):match.end(2)]
    return LabValue(name=analyte or raw_name, value=reading.value, unit=unit, reference=reference, raw=raw,
                    ambiguous=reading.ambiguous)


def extract_lab_values(text: str) -> list[LabValue]:
    values = []
    for line in text.splitlines():
        found = parse_lab_line(line)
        if found is not None:
            values.append(found)
    return values
