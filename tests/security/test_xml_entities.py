"""Spreadsheets whose XML declares a DTD or entities (XXE, "billion laughs") are named for what they are."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from petshop.app.imports.parse import InventoryFileError, open_inventory
from tests.petshop.conftest import build_ods, build_xlsx

ROWS = [["SKU", "Nombre", "Stock", "Precio"], ["A1", "Pienso", 3, 12.5]]
EXTERNAL = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'


def with_prolog(source: Path, target: Path, part: str, insert: bytes) -> Path:
    """A copy of `source` with `insert` after the XML declaration of `part` (or at its start)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        assert part in zin.namelist(), zin.namelist()
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == part:
                end = data.find(b"?>") + 2 if data.startswith(b"<?xml") else 0
                data = data[:end] + insert + data[end:]
            zout.writestr(item, data)
    return target


@pytest.mark.parametrize(
    ("part", "insert"),
    [
        ("xl/worksheets/sheet1.xml", EXTERNAL),
        ("xl/workbook.xml", LAUGHS),
        ("xl/styles.xml", EXTERNAL),
        ("[Content_Types].xml", EXTERNAL),
        ("xl/worksheets/sheet1.xml", b"\n<!-- hecho a mano -->\n" + EXTERNAL),
    ],
)
def test_an_xlsx_with_a_dtd_is_refused_as_such_not_as_damaged(tmp_path, part, insert):
    good = build_xlsx(tmp_path / "bueno.xlsx", {"Hoja1": ROWS})
    bad = with_prolog(good, tmp_path / "malo.xlsx", part, insert)

    with pytest.raises(InventoryFileError) as refused:
        open_inventory(bad)

    assert refused.value.code == "spreadsheet_xml_entities"
    assert "DTD o entidades" in refused.value.message


def test_an_ods_with_a_dtd_is_refused_as_such(tmp_path):
    good = build_ods(tmp_path / "bueno.ods", {"Hoja1": ROWS})
    bad = with_prolog(good, tmp_path / "malo.ods", "content.xml", LAUGHS)

    with pytest.raises(InventoryFileError) as refused:
        open_inventory(bad)

    assert refused.value.code == "spreadsheet_xml_entities"


def test_comments_before_the_root_are_fine(tmp_path):
    good = build_xlsx(tmp_path / "bueno.xlsx", {"Hoja1": ROWS})
    commented = with_prolog(good, tmp_path / "comentado.xlsx", "xl/worksheets/sheet1.xml", b"<!-- exportado -->\n")

    parsed = open_inventory(commented)

    assert [row.sku for rows, _ in parsed.chunks() for row in rows] == ["A1"]
