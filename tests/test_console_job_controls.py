"""The console's jobs page: «Cancelar», «Reintentar» (admins) and the status and kind filters, in a real
headless Chromium against the real stack. No worker runs here, so a submitted job stays queued until
someone acts on it; what a worker does with a cancelled or retried job is tests/test_job_controls.py's.

The fixtures (stack, browser, people) are test_console_browser.py's; this module gets its own stack.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser_helpers import Person, check_page, log_in, open_from_menu
from tests.test_console_browser import (  # noqa: F401 (fixtures)
    api_admin,
    browser,
    console_stack,
    page,
    person,
    sqlite_pass_only,
)

CONSOLE_REDIS_DB = 8  # console_stack gives this module a stack of its own


def test_a_clerk_cancels_a_queued_import_and_an_admin_retries_it(page, person, api_admin, console_stack):  # noqa: F811
    clerk = person("empleado", "Pablo Tienda")
    store = api_admin.post("petshop", "/tiendas/", json={"name": "Tienda Centro"}).json()
    submitted = clerk.api.post("petshop", "/upload-inventario/", data={"store_id": str(store["id"])},
                               files={"file": ("stock.csv", b"SKU,Nombre,Stock,Precio\nC-1,Arena,3,4.50\n")})
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["task_id"]

    log_in(page, clerk)
    open_from_menu(page, "Trabajos")
    row = page.locator(f"tr[data-job-id='{job_id}']")
    expect(row.locator(".badge")).to_have_text("En cola")
    check_page(page, "trabajos-cancelar")
    row.get_by_role("button", name="Cancelar importación de inventario").click()

    expect(page.locator(".flash")).to_have_text("Trabajo cancelado.")
    expect(row.locator(".badge")).to_have_text("Cancelado")
    expect(row.locator(".job-error")).to_contain_text(f"Cancelado por {clerk.username}.")
    expect(row.get_by_role("button")).to_have_count(0)  # only an admin may retry
    expect(page.locator("#trabajos")).not_to_have_attribute("hx-trigger", re.compile(".*"))

    # the filters: by status, then by a kind that has no jobs
    page.get_by_label("Estado").select_option("Cancelado")
    page.get_by_role("button", name="Filtrar").click()
    expect(page).to_have_url(re.compile(r"estado=cancelled"))
    expect(page.locator("#trabajos tbody tr")).to_have_count(1)
    page.get_by_label("Tipo").select_option("Informe médico")
    page.get_by_role("button", name="Filtrar").click()
    expect(page.locator("#trabajos .empty")).to_have_text("Ningún trabajo con esos filtros.")
    check_page(page, "trabajos-filtrados")

    page.get_by_role("button", name="Cerrar sesión").click()
    log_in(page, Person(console_stack, {"username": "admin", "role": "admin"}, console_stack.admin_password),
           path="/trabajos")
    page.locator(f"tr[data-job-id='{job_id}']").get_by_role("button", name="Reintentar importación de inventario").click()

    expect(page.locator(".flash")).to_have_text("Trabajo reintentado: el nuevo aparece el primero de la lista.")
    newest = page.locator("#trabajos tbody tr").first
    expect(newest.locator(".badge")).to_have_text("En cola")  # queued for the clerk, who owns it
    expect(newest.locator("td[data-label=Usuario]")).to_have_text(clerk.username)
    retried = clerk.api.get("petshop", f"/jobs/{newest.get_attribute('data-job-id')}").json()
    assert retried["retry_of"] == job_id and retried["status"] == "queued"
    check_page(page, "trabajos-reintentado")

    # an admin cancels anyone's job; cancelling one that has finished says why not
    newest.get_by_role("button", name="Cancelar importación de inventario").click()
    expect(page.locator(".flash")).to_have_text("Trabajo cancelado.")
    stale = page.request.post(f"{console_stack.url('console')}/trabajos/petshop/{job_id}/cancelar",
                              form={"csrf_token": page.locator("input[name=csrf_token]").first.input_value()},
                              max_redirects=0)
    assert stale.status == 303
    page.goto("/trabajos")
    expect(page.locator(".flash")).to_contain_text("ya terminó (cancelado)")
