"""The console's boundaries, without a browser: it imports no service's code, and its assets are the pinned ones."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from console import vendor

ROOT = Path(__file__).resolve().parent.parent
CONSOLE = ROOT / "console"


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_the_console_reaches_the_services_only_over_http():
    files = sorted(CONSOLE.rglob("*.py"))
    assert files
    for path in files:
        for module in _imported_modules(path):
            assert module.split(".")[0] not in ("auth", "petshop", "veterinaria"), f"{path.relative_to(ROOT)} imports {module}"


def test_the_vendored_assets_are_the_pinned_npm_files():
    assert vendor.committed_mismatches() == []
    names = {package["name"] for package in vendor.load_manifest()}
    assert {"htmx.org", "axe-core", "uplot"} <= names
    for package in vendor.load_manifest():
        assert re.fullmatch(r"\d+\.\d+\.\d+", package["version"]), package  # exact versions, no ranges
        assert package["integrity"].startswith("sha512-")


def test_a_changed_vendored_file_is_caught(tmp_path, monkeypatch):
    copy = tmp_path / "vendor"
    copy.mkdir()
    for path in vendor.VENDOR_DIR.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    (copy / "htmx.min.js").write_bytes(b"alert('not htmx')")
    monkeypatch.setattr(vendor, "VENDOR_DIR", copy)
    monkeypatch.setattr(vendor, "MANIFEST", copy / "manifest.json")
    assert vendor.committed_mismatches() == ["htmx.min.js: sha256 differs from the manifest"]


def test_no_page_loads_anything_from_another_origin():
    for path in [*CONSOLE.rglob("*.html"), CONSOLE / "static" / "console.css"]:
        text = path.read_text()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), path
        assert "@import" not in text and "url(http" not in text, path


def test_times_show_in_the_shops_zone_and_numbers_with_a_decimal_comma():
    from zoneinfo import ZoneInfo

    from console.app.rendering import money, number, when

    madrid = ZoneInfo("Europe/Madrid")
    assert when("2026-12-02T00:52:10Z", madrid) == "02/12/2026 01:52"  # winter: UTC+1
    assert when("2026-07-01T23:30:00+00:00", madrid) == "02/07/2026 01:30"  # summer: UTC+2
    assert number("12.40") == "12,4" and number("3") == "3"
    assert money("1234.5") == "1.234,50 €" and money("0.99") == "0,99 €"


def test_after_login_the_console_goes_only_to_its_own_pages():
    from console.app.pages.home import _safe_next

    assert _safe_next("/tienda/productos?q=a") == "/tienda/productos?q=a"
    for elsewhere in ("//evil.example/", "/\\evil.example", "https://evil.example/", "", None, "javascript:alert(1)"):
        assert _safe_next(elsewhere) == "/", elsewhere


def test_a_kept_upload_is_only_its_uploaders_and_bounded(tmp_path):
    import io

    import pytest

    from console.app.pending import PendingUploads, TooLarge

    uploads = PendingUploads(tmp_path, max_bytes=10)
    saved = uploads.save(io.BytesIO(b"sku,nombre"), file_name="a.csv", content_type="text/csv", store_id=3, user_id=7)
    assert uploads.get(saved.key, user_id=7).path.read_bytes() == b"sku,nombre"
    assert uploads.get(saved.key, user_id=8) is None
    assert uploads.get("../" + saved.key, user_id=7) is None
    uploads.discard(saved.key)
    assert uploads.get(saved.key, user_id=7) is None
    with pytest.raises(TooLarge):
        uploads.save(io.BytesIO(b"x" * 11), file_name="b.csv", content_type="text/csv", store_id=3, user_id=7)
    assert list(tmp_path.iterdir()) == []  # nothing left of the refused one
