"""What the console's browser stories share: who logs in, how a page is checked, a crafted session cookie."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from itsdangerous import TimestampSigner
from playwright.sync_api import expect

from tests.conftest import Client, login
from tests.servers import Stack

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "console" / "static" / "vendor" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "screenshots"
# how long an expectation waits for the page to get there (Playwright's default is 5 s): the two test
# passes run side by side on two cores, and a round trip through console, service and database can
# take seconds then; a story that is wrong still fails, only later
expect.set_options(timeout=20_000)
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}
MENUS = {
    "admin": ["Inicio", "Productos y stock", "Importar inventario", "Ventas", "Precios", "Informes", "Mascotas",
              "Subir documentos", "Buscar en historias", "Trabajos", "Usuarios"],
    "empleado": ["Inicio", "Productos y stock", "Importar inventario", "Ventas", "Precios", "Informes", "Trabajos"],
    "veterinario": ["Inicio", "Mascotas", "Subir documentos", "Buscar en historias", "Trabajos"],
    "cliente": ["Inicio", "Mis mascotas", "Trabajos"],
}


class Person:
    def __init__(self, stack: Stack, user: dict, password: str):
        self.user, self.password = user, password
        self.username, self.role = user["username"], user["role"]
        self.api = Client(stack, login(stack, self.username, password))


def check_page(page, name: str) -> None:
    """Screenshots at desktop and phone size; no serious/critical axe violation and no sideways scroll on either."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for size_name, size in (("escritorio", DESKTOP), ("movil", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{size_name}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {size['width']}px"
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)""")
        assert violations == [], f"{name} at {size['width']}px: " + "; ".join(violations)
    page.set_viewport_size(DESKTOP)


def log_in(page, who: Person, *, path: str = "/") -> None:
    page.goto(path)
    page.get_by_label("Usuario").fill(who.username)
    page.get_by_label("Contraseña").fill(who.password)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("button", name="Cerrar sesión")).to_be_visible()


def menu(page) -> list[str]:
    return page.get_by_role("navigation", name="Menú principal").get_by_role("link").all_inner_texts()


def open_from_menu(page, label: str) -> None:
    page.get_by_role("navigation", name="Menú principal").get_by_role("link", name=label).click()


def console_stack_for(base_dir: Path, *, database_url: str, redis_url: str) -> Stack:
    """The stack the browser stories run against: the three services and the console (started by the caller)."""
    return Stack(base_dir=base_dir, database_url=database_url, redis_url=redis_url, console=True)


def ensure_worker(stack: Stack) -> None:
    if not stack.workers:
        stack.start_worker()


def session_cookie(stack: Stack, *, token: str, expires_at: float, user: dict) -> dict:
    """The console's session cookie as starlette's SessionMiddleware writes it, signed with the stack's secret."""
    data = {"token": token, "expires_at": int(expires_at), "csrf": "x" * 43,
            "user": {k: user.get(k, "") for k in ("id", "username", "full_name", "role")}}
    value = TimestampSigner(stack.env["CONSOLE_SESSION_SECRET"]).sign(base64.b64encode(json.dumps(data).encode()))
    return {"name": "timon_console", "value": value.decode(), "url": stack.url("console")}
