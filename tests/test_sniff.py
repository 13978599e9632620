"""common/sniff.py: a file's kind from its first bytes, whatever its name says."""

from __future__ import annotations

import pytest

from common.sniff import file_kind, has_dicom_preamble, looks_like_utf8_text, looks_utf16

HEADS = [
    (b"", "empty"),
    (b"%PDF-1.7\n", "pdf"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "png"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
    (b"II*\x00\x08\x00", "tiff"),
    (b"MM\x00*\x00\x08", "tiff"),
    (b"II+\x00\x08\x00", "bigtiff"),
    (b"GIF89a\x01\x00", "gif"),
    (b"BM\x36\x00\x00\x00", "bmp"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "jpeg2000"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00", "heic"),
    (b"\x00\x00\x00\x18ftypmp42\x00\x00", "iso_media"),
    (b"\x00" * 128 + b"DICM\x02\x00", "dicom"),
    (b"DICM\x02\x00", "dicom_no_preamble"),
    (b"PK\x03\x04\x14\x00", "zip"),
    (b"PK\x05\x06" + b"\x00" * 18, "empty_zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", "ole2"),
    (b"\x1f\x8b\x08\x00", "gzip"),
    (b"Rar!\x1a\x07\x00", "rar"),
    (b"7z\xbc\xaf\x27\x1c\x00", "7z"),
    (b"{\\rtf1\\ansi", "rtf"),
    (b"\xef\xbb\xbfsku;nombre\n", "text"),
    (b"\xff\xfes\x00k\x00u\x00", "text"),
    ("sku;nombre;precio\nA1;Pienso señor;12,50\n".encode("latin-1"), "text"),
    ("sku;nombre\n".encode("utf-16-le"), "text"),
    (b"\x00\x01\x02\x03\xfe\x00\x00", "binary"),
]


@pytest.mark.parametrize(("head", "kind"), HEADS, ids=[kind for _, kind in HEADS])
def test_every_kind_is_named_by_its_signature(head, kind):
    assert file_kind(head) == kind


def test_a_signature_at_the_start_wins_over_one_further_in():
    # a TIFF/DICOM dual file: its preamble is a TIFF header; the DICOM marker is still seen
    dual = b"II*\x00" + b"\x00" * 124 + b"DICM"
    assert file_kind(dual) == "tiff"
    assert has_dicom_preamble(dual)


def test_text_heuristics():
    assert looks_utf16("sku;nombre;stock".encode("utf-16-be"))
    assert not looks_utf16(b"sku;nombre;stock")
    assert looks_like_utf8_text("Informe de vacunación".encode()[:-1] + "ó".encode()[:1])  # cut mid-character
    assert not looks_like_utf8_text("Informe de vacunación".encode("latin-1") + b" " * 10)
    assert not looks_like_utf8_text(b"a\x00b")
