"""Notifications through the running system: a real worker, a real SMTP server (aiosmtpd), and one
local HTTP server that receives webhooks (checking their signatures) and speaks Twilio's Messages API.

One stack for the module, with short retry backoff: the stories share it and its receivers.
"""

from __future__ import annotations

import json
import secrets

import pytest

from tests.conftest import Client, login
from tests.jobs_helpers import wait_for_status
from tests.notify_servers import HttpReceiver, SmtpServer
from tests.servers import Stack, wait_until

# the test SMTP server takes AUTH without TLS: on loopback, on purpose
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

CONSOLE = "http://consola.timon.example"
SID, TOKEN = "AC" + "0" * 32, secrets.token_hex(16)
RETRIES = 2  # NOTIFY_MAX_RETRIES: three attempts in all


@pytest.fixture(scope="module")
def smtp():
    server = SmtpServer(user="timon", password=secrets.token_urlsafe(12)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def receiver():
    server = HttpReceiver(account_sid=SID, auth_token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def notify_stack(work_dir, new_database_url, redis_server, smtp, receiver):
    secrets_dir = work_dir / "notify_secrets"
    secrets_dir.mkdir(exist_ok=True)
    (secrets_dir / "smtp_password").write_text(smtp.password + "\n")
    (secrets_dir / "sms_token").write_text(TOKEN + "\n")
    running = Stack(
        base_dir=work_dir / "notify", database_url=new_database_url("timon_notify"),
        redis_url=f"redis://127.0.0.1:{redis_server.port}/12",  # no other stack's worker takes these tasks
        extra_env={
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port), "SMTP_STARTTLS": "false",
            "SMTP_USER": smtp.user, "SMTP_PASSWORD_FILE": str(secrets_dir / "smtp_password"),
            "SMTP_FROM": "Timón Pet Store <avisos@timon.example>",
            "SMS_API_URL": receiver.url, "SMS_ACCOUNT_SID": SID, "SMS_AUTH_TOKEN_FILE": str(secrets_dir / "sms_token"),
            "SMS_FROM": "+15005550006",
            "NOTIFY_WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver listens on 127.0.0.1
            "NOTIFY_MAX_RETRIES": str(RETRIES), "NOTIFY_RETRY_BACKOFF_SECONDS": "1", "NOTIFY_RETRY_BACKOFF_MAX": "1",
            "CONSOLE_PUBLIC_URL": CONSOLE,
        },
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def admin(notify_stack):
    return Client(notify_stack, login(notify_stack, "admin", notify_stack.admin_password))


@pytest.fixture(scope="module")
def employee(notify_stack, admin):
    """A shop employee with an e-mail on their account, and a store of their own to import into."""
    name, password = f"empleada-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    created = admin.post("auth", "/users/", json={"username": name, "password": password, "role": "empleado",
                                                  "email": f"{name}@tienda.example"})
    assert created.status_code == 201, created.text
    client = Client(notify_stack, login(notify_stack, name, password))
    client.user = created.json()
    store = admin.post("petshop", "/tiendas/", json={"name": f"Tienda {name}"})
    assert store.status_code == 201, store.text
    client.store_id = store.json()["id"]
    return client


@pytest.fixture
def clerk(employee):
    """The employee, with no notification chosen yet (each story starts from nothing)."""
    assert employee.request("PUT", "auth", "/users/me/notificaciones", json={}).status_code == 200
    for webhook in employee.get("auth", "/users/me/notificaciones/webhooks").json():
        employee.request("DELETE", "auth", f"/users/me/notificaciones/webhooks/{webhook['id']}")
    return employee


def import_file(client: Client, content: bytes) -> dict:
    response = client.post("petshop", "/upload-inventario/", files={"file": ("inventario.csv", content)},
                           data={"store_id": str(client.store_id)})
    assert response.status_code == 202, response.text
    return wait_for_status(client, "petshop", f"/jobs/{response.json()['task_id']}")


def deliveries(client: Client, job_id: str) -> dict[str, dict]:
    """The job's delivery log as its owner reads it: by channel ("email", "sms", "webhook:<delivery id>")."""
    response = client.get("auth", "/users/me/notificaciones/entregas", params={"job_id": job_id})
    assert response.status_code == 200, response.text
    return {row["channel"] if row["channel"] != "webhook" else f"webhook:{row['id']}": row for row in response.json()}


def add_webhook(client: Client, receiver: HttpReceiver, name: str, **body) -> dict:
    response = client.post("auth", "/users/me/notificaciones/webhooks", json={"url": f"{receiver.url}/hooks/{name}", **body})
    assert response.status_code == 201, response.text
    receiver.secrets[name] = response.json()["secret"]
    return response.json()


GOOD_CSV = "SKU;Nombre;Stock;Precio\n{p}1;Pienso;5;10,00\n{p}2;Arena;3;4,50\n{p}3;Collar;-2;abc\n"


def test_a_finished_import_is_told_by_email_sms_and_a_signed_webhook(clerk, admin, smtp, receiver):
    saved = clerk.request("PUT", "auth", "/users/me/notificaciones",
                      json={"email": {"enabled": True}, "sms": {"enabled": True, "phone": "+34600111222"}})
    assert saved.status_code == 200, saved.text
    assert saved.json()["email"] == {"enabled": True, "address": clerk.user["email"], "events": ["completed", "failed"]}
    hook = add_webhook(clerk, receiver, clerk.user["username"])
    assert hook["secret"].startswith("whsec_")
    listed = clerk.get("auth", "/users/me/notificaciones/webhooks").json()
    assert [item["id"] for item in listed] == [hook["id"]] and "secret" not in listed[0]
    someone_else = admin.request("DELETE", "auth", f"/users/me/notificaciones/webhooks/{hook['id']}")
    assert someone_else.status_code == 404  # another user's webhook looks absent, even to an admin

    job = import_file(clerk, GOOD_CSV.format(p=secrets.token_hex(3)).encode())
    assert job["status"] == "completed"

    mail = wait_until(lambda: smtp.to(clerk.user["email"]), timeout=30, what="the e-mail")[0]
    assert mail["Subject"] == "Tu importación de inventario ha terminado: 3 filas, 1 con errores"
    assert mail["From"] == "Timón Pet Store <avisos@timon.example>"
    text = mail.get_body(("plain",)).get_content()
    page = mail.get_body(("html",)).get_content()
    link = f"{CONSOLE}/tienda/importar/{job['id']}"
    assert link in text and f'href="{link}"' in page
    assert "Nuevos: 2" in text and job["id"] in text

    posted = wait_until(lambda: receiver.hooks[clerk.user["username"]], timeout=30, what="the webhook")[0]
    assert posted.valid_signature
    body = json.loads(posted.body)
    assert body["job_id"] == job["id"] and body["status"] == "completed" and body["service"] == "petshop"
    assert body["kind"] == "inventory_import" and body["summary"].startswith("Tu importación de inventario ha terminado")
    assert posted.headers["X-Timon-Delivery"] == str(body["delivery_id"])

    sms = wait_until(lambda: [m for m in receiver.sms if m.form["To"] == "+34600111222"], timeout=30, what="the SMS")[0]
    assert sms.form["From"] == "+15005550006" and sms.form["Body"].startswith("Timón: Tu importación de inventario")
    assert len(sms.form["Body"]) <= 160 and link in sms.form["Body"]

    log = wait_until(lambda: (rows := deliveries(clerk, job["id"])) and all(r["status"] == "sent" for r in rows.values())
                     and len(rows) == 3 and rows, timeout=30, what="three sent deliveries")
    assert log["email"]["target"] == f"{clerk.user['username'][0]}***@tienda.example"
    assert log["sms"]["target"] == "+34******222" and all(row["attempts"] == 1 for row in log.values())
    everyone = admin.get("auth", "/notificaciones/entregas", params={"job_id": job["id"], "status": "sent"})
    assert everyone.status_code == 200 and len(everyone.json()) == 3
    assert clerk.get("auth", "/notificaciones/entregas").json()["code"] == "role_not_allowed"


def test_a_failed_import_sends_the_failure_email_and_only_to_the_events_chosen(clerk, smtp, receiver):
    clerk.request("PUT", "auth", "/users/me/notificaciones", json={"email": {"enabled": True, "address": "otra@tienda.example"}})
    add_webhook(clerk, receiver, "completed-only", events=["completed"])

    job = import_file(clerk, b"SKU;Nombre;Stock\nA1;Pienso;1\n")
    assert job["status"] == "failed"

    mail = wait_until(lambda: smtp.to("otra@tienda.example"), timeout=30, what="the failure e-mail")[-1]
    assert mail["Subject"] == "Tu importación de inventario ha fallado"
    text = mail.get_body(("plain",)).get_content()
    assert "Motivo:" in text and "Precio" in text
    # planned once, when the job failed: an e-mail, and no webhook (it only hears of completed jobs)
    assert set(deliveries(clerk, job["id"])) == {"email"}


def test_a_webhook_answering_500_is_retried_and_one_answering_404_given_up_at_once(clerk, receiver):
    flaky, gone = "flaky", "gone"
    receiver.scripts[flaky].extend([500])
    receiver.scripts[gone].extend([404])
    add_webhook(clerk, receiver, flaky)
    add_webhook(clerk, receiver, gone)

    job = import_file(clerk, GOOD_CSV.format(p=secrets.token_hex(3)).encode())

    log = wait_until(lambda: (rows := deliveries(clerk, job["id"])) and len(rows) == 2
                     and all(r["status"] != "queued" for r in rows.values()) and rows, timeout=30, what="both webhooks")
    flaky_row, gone_row = sorted(log.values(), key=lambda row: row["id"])  # in the order they were added
    assert flaky_row["status"] == "sent" and flaky_row["attempts"] == 2
    assert gone_row["status"] == "failed" and gone_row["attempts"] == 1 and "404" in gone_row["last_error"]
    assert len(receiver.hooks[flaky]) == 2 and all(hit.valid_signature for hit in receiver.hooks[flaky])
    assert receiver.hooks[flaky][0].headers["X-Timon-Delivery"] == receiver.hooks[flaky][1].headers["X-Timon-Delivery"]
    assert len(receiver.hooks[gone]) == 1


def test_with_the_smtp_server_down_the_job_completes_and_the_email_ends_failed_after_its_retries(clerk, smtp, receiver):
    clerk.request("PUT", "auth", "/users/me/notificaciones", json={"email": {"enabled": True}})
    add_webhook(clerk, receiver, "while-smtp-is-down")
    smtp.stop()
    try:
        job = import_file(clerk, GOOD_CSV.format(p=secrets.token_hex(3)).encode())
        assert job["status"] == "completed"

        log = wait_until(lambda: (rows := deliveries(clerk, job["id"])) and rows.get("email", {}).get("status") == "failed"
                         and rows, timeout=60, what="the e-mail delivery to fail")
        email = log["email"]
        assert email["attempts"] == RETRIES + 1 and "servidor de correo" in email["last_error"]
        assert email["created_at"] >= job["finished_at"]  # planned after the job had finished: it waited for nothing
        webhook = next(row for channel, row in log.items() if channel != "email")
        assert webhook["status"] == "sent"  # one channel down holds up no other
    finally:
        smtp.start()


def test_bad_preferences_are_refused_in_spanish(clerk):
    phone = clerk.request("PUT", "auth", "/users/me/notificaciones", json={"sms": {"enabled": True, "phone": "600111222"}})
    assert phone.status_code == 422 and "E.164" in phone.json()["detail"]
    missing = clerk.request("PUT", "auth", "/users/me/notificaciones", json={"sms": {"enabled": True}})
    assert missing.status_code == 422 and missing.json()["code"] == "notify_phone_missing"
    url = clerk.post("auth", "/users/me/notificaciones/webhooks", json={"url": "ftp://ejemplo.com/x"})
    assert url.status_code == 422 and "https://" in url.json()["detail"]
    event = clerk.post("auth", "/users/me/notificaciones/webhooks", json={"url": "https://ejemplo.com/x", "events": ["started"]})
    assert event.status_code == 422
    assert clerk.request("DELETE", "auth", "/users/me/notificaciones/webhooks/999999").json()["code"] == "notify_webhook_not_found"
