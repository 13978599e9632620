"""The shop pages' own rules, without a browser: price forms, cursor pages, live import rate, report chart data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console.app.pages.imports import live_rate
from console.app.pages.shop import PAGE_SIZE, _window
from console.app.pages.shop_prices import PriceFormError, parse_percentage, parse_price_list, price_body
from console.app.pages.shop_reports import _chart


def test_a_percentage_is_written_the_way_the_shop_writes_it():
    assert [str(parse_percentage(t)) for t in ("5", "+5", "-10", "2,5", " 2,5 % ")] == ["5", "5", "-10", "2.5", "2.5"]
    for bad in ("", "cinco", "0", "NaN"):
        with pytest.raises(PriceFormError):
            parse_percentage(bad)


def test_a_price_list_takes_one_sku_and_price_a_line():
    text = "PIENSO-001;12,50\n\nPELOTA 2\t3.95\nHUESO-3 1.234,00 €\n"
    assert parse_price_list(text) == [{"sku": "PIENSO-001", "new_price": "12.50"}, {"sku": "PELOTA 2", "new_price": "3.95"},
                                      {"sku": "HUESO-3", "new_price": "1234.00"}]
    with pytest.raises(PriceFormError, match="Línea 2: «doce» no es un precio"):
        parse_price_list("A;1\nB;doce")
    with pytest.raises(PriceFormError, match="Línea 1"):
        parse_price_list("SOLO-SKU")
    with pytest.raises(PriceFormError, match="mayor que 0"):
        parse_price_list("A;0")


def test_a_percentage_needs_exactly_one_category_or_supplier():
    assert price_body(store_id=1, mode="porcentaje", percentage="-10", category="3", supplier="", lines="") == \
        {"store_id": 1, "percentage": "-10", "category_id": 3}
    assert price_body(store_id=1, mode="porcentaje", percentage="5", category="", supplier="4", lines="x") == \
        {"store_id": 1, "percentage": "5", "supplier_id": 4}
    for category, supplier in (("", ""), ("3", "4")):
        with pytest.raises(PriceFormError, match="una categoría o un proveedor"):
            price_body(store_id=1, mode="porcentaje", percentage="5", category=category, supplier=supplier, lines="")
    assert price_body(store_id=2, mode="lista", percentage="", category="3", supplier="", lines="A;1") == \
        {"store_id": 2, "items": [{"sku": "A", "new_price": "1"}]}


def test_a_cursor_page_knows_what_lies_before_and_after_it():
    rows = [{"n": n} for n in range(PAGE_SIZE + 1)]
    assert _window(rows, backwards=False, after=False, last=False) == (rows[:PAGE_SIZE], False, True)  # first page
    assert _window(rows[:3], backwards=False, after=True, last=False) == (rows[:3], True, False)  # the end, going forwards
    assert _window(rows, backwards=True, after=False, last=False) == (rows[1:], True, True)  # going back, more before
    assert _window(rows[:3], backwards=True, after=False, last=False) == (rows[:3], False, True)  # back at the start
    assert _window(rows, backwards=True, after=False, last=True) == (rows[1:], True, False)  # the last page


def test_a_running_imports_rate_comes_from_its_percentage_of_the_previews_rows():
    started = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    assert live_rate(progress=50, total_rows=10_000, started_at=started, now=started + timedelta(seconds=2)) == \
        {"done": 5_000, "total": 10_000, "rate": 2_500}
    assert live_rate(progress=0, total_rows=10_000, started_at=started, now=started)["rate"] is None
    assert live_rate(progress=40, total_rows=100, started_at=None, now=started) == {"done": 40, "total": 100, "rate": None}
    naive = started.replace(tzinfo=None)  # a timestamp without its zone is UTC
    assert live_rate(progress=10, total_rows=1_000, started_at=naive, now=started + timedelta(seconds=1))["rate"] == 100


def test_the_sales_chart_gets_every_day_as_unix_seconds_and_euros():
    days = [{"date": "2026-12-01", "revenue": "12.50", "units": 3}, {"date": "2026-12-02", "revenue": "0.00", "units": 0}]
    first = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    assert _chart({"revenue_per_day": days}) == f"[[{first}, {first + 86400}], [12.5, 0.0]]"
    assert _chart({"revenue_per_day": days[:1]}) is None and _chart({}) is None


def test_a_refusal_names_the_fields_as_the_form_does():
    from console.app.backend import BackendError
    from console.app.forms import in_form_words

    labels = {"percentage": "Porcentaje", "new_price": "precio nuevo"}
    bad = BackendError("Datos no válidos", status_code=422, field_errors=[
        {"field": "percentage", "message": "«percentage» debe ser menor o igual que 1000"},
        {"field": "items.0.new_price", "message": "«items.0.new_price» debe ser mayor que 0"}])
    assert in_form_words(bad, labels) == "«Porcentaje» debe ser menor o igual que 1000 «precio nuevo» debe ser mayor que 0"
    assert in_form_words(BackendError("«percentage» no vale"), labels) == "«Porcentaje» no vale"
