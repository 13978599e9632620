"""The auth service over HTTP: login, the caller's profile, admin-only user management."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Client, login


def test_login_returns_a_bearer_token_that_expires(stack):
    response = httpx.post(f"{stack.url('auth')}/token", data={"username": "admin", "password": stack.admin_password})

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0 and body["access_token"].count(".") == 2


def test_login_is_case_insensitive_on_the_username(stack):
    assert login(stack, "ADMIN", stack.admin_password)


@pytest.mark.parametrize(("username", "password"), [("admin", "wrong-password"), ("nobody", "whatever-else")])
def test_wrong_credentials_are_401_with_one_message(stack, username, password):
    response = httpx.post(f"{stack.url('auth')}/token", data={"username": username, "password": password})

    assert response.status_code == 401
    assert response.json() == {"detail": "Usuario o contraseña incorrectos.", "code": "wrong_credentials"}


def test_login_without_a_password_names_the_missing_field(stack):
    response = httpx.post(f"{stack.url('auth')}/token", data={"username": "admin"})

    assert response.status_code == 422
    assert ["body", "password"] in [error["loc"] for error in response.json()["errors"]]


def test_me_is_the_logged_in_user(make_user):
    clerk = make_user("empleado")

    me = clerk.get("auth", "/users/me").json()

    assert me["username"] == clerk.user["username"] and me["role"] == "empleado" and "password_hash" not in me


@pytest.mark.parametrize("role", ["veterinario", "empleado", "cliente"])
def test_only_admins_manage_users(make_user, role):
    someone = make_user(role)

    assert someone.get("auth", "/users/").status_code == 403
    created = someone.post("auth", "/users/", json={"username": "intruder", "password": "p" * 12, "role": "admin"})
    assert created.status_code == 403
    assert created.json()["code"] == "role_not_allowed" and "admin" in created.json()["detail"]
    assert someone.patch("auth", "/users/1", json={"role": "cliente"}).status_code == 403


def test_admin_lists_users_by_role(admin, make_user):
    vet = make_user("veterinario")

    vets = admin.get("auth", "/users/", params={"role": "veterinario"}).json()

    assert vet.user["id"] in [user["id"] for user in vets]
    assert {user["role"] for user in vets} == {"veterinario"}


def test_a_taken_username_is_409(admin, make_user):
    clerk = make_user("empleado")
    response = admin.post(
        "auth", "/users/", json={"username": clerk.user["username"].upper(), "password": "p" * 12, "role": "empleado"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "username_taken" and "ya está en uso" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "ok-name", "password": "short", "role": "empleado"}, "password"),
        ({"username": "ok-name", "password": "p" * 12, "role": "jefe"}, "role"),
        ({"username": "a b", "password": "p" * 12, "role": "empleado"}, "username"),
        ({"username": "ok-name", "password": "p" * 12, "role": "empleado", "salary": 1}, "salary"),
        ({"username": "ok-name", "password": "p" * 12, "role": "empleado", "email": "not-an-email"}, "email"),
    ],
)
def test_invalid_user_data_is_422_naming_the_field(admin, body, field):
    response = admin.post("auth", "/users/", json=body)

    assert response.status_code == 422
    assert field in [error["loc"][-1] for error in response.json()["errors"]]


def test_a_password_change_takes_effect_at_the_next_login(admin, make_user, stack):
    clerk = make_user("empleado")
    new_password = "a-brand-new-password"

    assert admin.patch("auth", f"/users/{clerk.user['id']}", json={"password": new_password}).status_code == 200

    assert Client(stack, login(stack, clerk.user["username"], new_password)).get("auth", "/users/me").status_code == 200


def test_an_admin_cannot_lock_themselves_out(admin):
    me = admin.get("auth", "/users/me").json()

    response = admin.patch("auth", f"/users/{me['id']}", json={"is_active": False})

    assert response.status_code == 409


def test_an_unknown_user_is_404(admin):
    assert admin.get("auth", "/users/999999").status_code == 404
    assert admin.get("auth", "/users/not-a-number").status_code == 422


def test_the_password_flow_is_declared_for_the_docs_authorize_button(anonymous):
    spec = anonymous.get("auth", "/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("flows", {}).get("password", {}).get("tokenUrl") == "/token" for s in schemes.values())


def test_the_other_services_docs_pages_may_call_the_login_from_the_browser(stack):
    response = httpx.options(
        f"{stack.url('auth')}/token",
        headers={"Origin": "http://127.0.0.1:8004", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://127.0.0.1:8004"
