"""The auth matrix: every route of every service's OpenAPI (read from the running service) and every
console page, called with no token, a forged or stale one, each role, and a client guessing ids.

The routes come from the running system, the rules from `rules.py`: a new route without a rule fails
here until someone writes down who may call it.
"""

from __future__ import annotations

import re
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import jwt
import pytest

from tests.browser_helpers import session_cookie
from tests.security.rules import CONSOLE_RULES, CONSOLE_SESSION_ONLY, PUBLIC, SERVICE_RULES

MISSING_ID = 2_147_480_000  # a valid id that names nothing: a role is refused before any lookup
CSRF = "x" * 43  # the CSRF token session_cookie() writes into the session


def operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [(method.upper(), path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def filled(path: str) -> str:
    """The path with each parameter set to something well formed that names no record."""
    values = {"sku": "NOPE", "number": "1", "service": "petshop"}

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        return str(uuid.uuid4()) if name.endswith(("task_id", "job_id")) else str(MISSING_ID)

    return re.sub(r"\{(\w+)\}", value, path)


def forged_tokens(stack, user: dict) -> dict[str, str]:
    """Tokens for `user` that no service may accept, each wrong in one way."""
    secret = stack.env["JWT_SECRET"]
    now = int(time.time())
    claims = {"sub": str(user["id"]), "username": user["username"], "role": "admin", "iss": "timon-auth",
              "iat": now, "exp": now + 600}
    return {
        "expired": jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, secret, algorithm="HS256"),
        "wrong_key": jwt.encode(claims, "otra-clave-" + secret, algorithm="HS256"),
        "alg_none": jwt.encode(claims, None, algorithm="none"),
        "wrong_issuer": jwt.encode({**claims, "iss": "otro-emisor"}, secret, algorithm="HS256"),
        "unknown_role": jwt.encode({**claims, "role": "superusuario"}, secret, algorithm="HS256"),
        "garbage": "no-es-un-token",
    }


def call(stack, service: str, method: str, path: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, f"{stack.url(service)}{path}", headers=headers, timeout=30)


@pytest.fixture(scope="module")
def specs(hostile_stack) -> dict[str, dict]:
    return {service: httpx.get(f"{hostile_stack.url(service)}/openapi.json", timeout=30).json() for service in SERVICE_RULES}


@pytest.mark.parametrize("service", list(SERVICE_RULES))
def test_every_route_has_a_rule_and_every_rule_a_route(specs, service):
    routes = {(method, path) for method, path, _ in operations(specs[service])}
    rules = set(SERVICE_RULES[service])

    assert sorted(routes - rules) == [], "routes without a rule in tests/security/rules.py"
    assert sorted(rules - routes) == [], "rules for routes that no longer exist"


@pytest.mark.parametrize("service", list(SERVICE_RULES))
def test_without_a_valid_token_every_protected_route_is_401(hostile_stack, world, specs, service):
    wrong = []
    tokens = {"none": None, **forged_tokens(hostile_stack, world.users["admin"])}
    for method, path, _ in operations(specs[service]):
        if SERVICE_RULES[service][(method, path)] == PUBLIC:
            continue
        for kind, token in tokens.items():
            response = call(hostile_stack, service, method, filled(path), token)
            body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
            expected_code = "session_expired" if kind == "expired" else None
            if (response.status_code != 401 or response.headers.get("www-authenticate") != "Bearer"
                    or not body.get("code") or "sesión" not in body.get("detail", "")
                    or (expected_code and body["code"] != expected_code)):
                wrong.append((kind, method, path, response.status_code, response.text[:120]))

    assert wrong == []


@pytest.mark.parametrize("service", list(SERVICE_RULES))
def test_each_role_is_refused_where_it_does_not_belong_and_let_through_where_it_does(world, specs, service):
    wrong = []
    for method, path, _ in operations(specs[service]):
        allowed = SERVICE_RULES[service][(method, path)]
        for role in ("admin", "veterinario", "empleado", "cliente"):
            response = world.clients[role].request(method, service, filled(path))
            if allowed and role not in allowed:
                if response.status_code != 403 or response.json().get("code") != "role_not_allowed":
                    wrong.append((role, method, path, "expected 403", response.status_code, response.text[:120]))
            elif response.status_code in (401, 403) or response.status_code >= 500:
                wrong.append((role, method, path, "expected to pass", response.status_code, response.text[:120]))

    assert wrong == []


def test_a_client_guessing_another_owners_ids_finds_nothing(world):
    """Owner B knows (or guesses) the ids of owner A's pet, document, page, report, its PDF and the jobs."""
    guesser, ids = world.clients["otro_cliente"], world.ids
    pet_a, pet_b, report = ids["pet_a"], ids["pet_b"], ids["report_job_a"]
    guesses = [
        ("veterinaria", f"/mascotas/{pet_a}"), ("veterinaria", f"/mascotas/{pet_a}/historia"),
        ("veterinaria", f"/mascotas/{pet_a}/consultas/"), ("veterinaria", f"/mascotas/{pet_a}/documentos/"),
        ("veterinaria", f"/mascotas/{pet_a}/analiticas/"), ("veterinaria", f"/propietarios/{ids['owner_a']}"),
        ("veterinaria", f"/propietarios/{ids['owner_a']}/mascotas/"),
        ("veterinaria", f"/documentos/{ids['document_a']}"), ("veterinaria", f"/documentos/{ids['document_a']}/paginas/1"),
        ("veterinaria", f"/historias-clinicas/task/{ids['document_job']}"),
        ("veterinaria", f"/mascotas/{pet_a}/reportes/{report}"), ("veterinaria", f"/mascotas/{pet_a}/reportes/{report}/pdf"),
        # through their own pet, with A's report id
        ("veterinaria", f"/mascotas/{pet_b}/reportes/{report}"), ("veterinaria", f"/mascotas/{pet_b}/reportes/{report}/pdf"),
        ("veterinaria", f"/jobs/{report}"), ("veterinaria", f"/jobs/{ids['document_job']}"),
        ("petshop", f"/jobs/{ids['import_job']}"),
    ]
    found = {(service, path): guesser.get(service, path) for service, path in guesses}
    posted = guesser.post("veterinaria", f"/mascotas/{pet_a}/reportes/")
    cancelled = guesser.post("veterinaria", f"/jobs/{report}/cancel")

    assert {key: r.status_code for key, r in found.items() if r.status_code != 404} == {}
    assert all("No existe" in r.json()["detail"] or "no existe" in r.json()["detail"] for r in found.values())
    assert (posted.status_code, cancelled.status_code) == (404, 404)
    # and the owner still reads what is theirs: the 404s above are about ownership, not broken ids
    owner = world.clients["cliente"]
    assert owner.get("veterinaria", f"/documentos/{ids['document_a']}").status_code == 200
    assert owner.get("veterinaria", f"/mascotas/{pet_a}/reportes/{report}/pdf").status_code == 200
    assert [job["id"] for job in guesser.get("veterinaria", "/jobs/").json()] == []


# --- the console ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def console_routes() -> list[tuple[str, str]]:
    """The console's routes, as its FastAPI app lists them (it publishes no OpenAPI)."""
    from common.config import Settings
    from console.app.main import create_app

    app = create_app(Settings(_env_file=None, var_dir=Path(tempfile.mkdtemp(prefix="timon-console-routes-"))))
    return [(method, path) for method, path, _ in operations(app.openapi())] + [("GET", "/health")]


def console(stack, method: str, path: str, cookie: dict | None) -> httpx.Response:
    cookies = {cookie["name"]: cookie["value"]} if cookie else {}
    data = {"csrf_token": CSRF} if method == "POST" else None
    with httpx.Client(base_url=stack.url("console"), cookies=cookies, timeout=30) as client:
        return client.request(method, filled(path), data=data)


def test_every_console_route_has_a_rule_and_every_rule_a_route(console_routes):
    assert sorted(set(console_routes) - set(CONSOLE_RULES)) == []
    assert sorted(set(CONSOLE_RULES) - set(console_routes)) == []


def test_without_a_session_every_console_page_sends_to_the_login(hostile_stack, console_routes):
    wrong = []
    for method, path in console_routes:
        if CONSOLE_RULES[(method, path)] == PUBLIC:
            continue
        response = console(hostile_stack, method, path, None)
        if method == "GET":
            ok = response.status_code == 303 and response.headers["location"].startswith("/login")
        else:  # a form with no session is no form of this session: refused before anything is read
            ok = response.status_code == 403 and "Formulario caducado" in response.text
        if not ok:
            wrong.append((method, path, response.status_code))

    assert wrong == []


def test_a_session_whose_token_the_services_refuse_ends_at_the_login_with_a_message(hostile_stack, world,
                                                                                      console_routes):
    user, wrong = world.users["admin"], []
    stale_session = session_cookie(hostile_stack, token="x", expires_at=time.time() - 1, user=user)
    sessions = {"expired_session": stale_session} | {
        kind: session_cookie(hostile_stack, token=token, expires_at=time.time() + 600, user=user)
        for kind, token in forged_tokens(hostile_stack, user).items()}
    for kind, cookie in sessions.items():
        for method, path in console_routes:
            if CONSOLE_RULES[(method, path)] == PUBLIC or ((method, path) in CONSOLE_SESSION_ONLY and kind != "expired_session"):
                continue
            response = console(hostile_stack, method, path, cookie)
            to_login = response.status_code == 303 and response.headers["location"].startswith("/login")
            # refused by the console itself before any service is asked (a form or address missing its
            # fields, a kept upload that is not there): nothing is shown either
            if not (to_login or response.status_code in (404, 409, 422)):
                wrong.append((kind, method, path, response.status_code))

    assert wrong == []
    with httpx.Client(base_url=hostile_stack.url("console"), timeout=30, follow_redirects=True,
                      cookies={stale_session["name"]: stale_session["value"]}) as browser:
        page = browser.get("/trabajos")
    assert page.url.path == "/login" and "Tu sesión ha caducado" in page.text


def test_each_role_sees_a_spanish_403_on_the_console_pages_that_are_not_theirs(hostile_stack, world, console_routes):
    wrong = []
    for role in ("veterinario", "empleado", "cliente"):
        token = world.clients[role].headers["Authorization"].removeprefix("Bearer ")
        cookie = session_cookie(hostile_stack, token=token, expires_at=time.time() + 600, user=world.users[role])
        for method, path in console_routes:
            allowed = CONSOLE_RULES[(method, path)]
            if allowed == PUBLIC:
                continue
            response = console(hostile_stack, method, path, cookie)
            if role not in allowed:
                if response.status_code != 403 or "Acceso no permitido" not in response.text:
                    wrong.append((role, method, path, "expected 403", response.status_code))
            elif response.status_code in (401, 403) or response.status_code >= 500 or (
                    path != "/logout" and response.status_code == 303 and response.headers["location"].startswith("/login")):
                wrong.append((role, method, path, "expected to pass", response.status_code))

    assert wrong == []


def test_a_client_guessing_ids_in_the_console_gets_the_spanish_404(hostile_stack, world):
    guesser, ids = world.users["otro_cliente"], world.ids
    token = world.clients["otro_cliente"].headers["Authorization"].removeprefix("Bearer ")
    cookie = session_cookie(hostile_stack, token=token, expires_at=time.time() + 600, user=guesser)
    report = ids["report_job_a"]
    paths = [f"/mascotas/{ids['pet_a']}", f"/documentos/{ids['document_a']}", f"/documentos/{ids['document_a']}/paginas/1",
             f"/mascotas/{ids['pet_a']}/informes/{report}", f"/mascotas/{ids['pet_a']}/informes/{report}/pdf",
             f"/mascotas/{ids['pet_b']}/informes/{report}/pdf"]

    answers = {path: console(hostile_stack, "GET", path, cookie) for path in paths}

    assert {path: r.status_code for path, r in answers.items() if r.status_code != 404} == {}
    assert all("No encontrado" in r.text for r in answers.values())
