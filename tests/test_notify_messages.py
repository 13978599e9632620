"""Notification messages, signatures and channels, without the stack: pure functions, then each
channel against a real local server (aiosmtpd, an HTTP receiver speaking webhooks and Twilio's API),
then planning on the database under test."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from common.config import Settings
from common.db import session_scope
from common.jobs import Job
from common.notify import channels, deliveries, messages, signing
from common.notify.models import Channel, Delivery, Preference, WebhookEndpoint
from petshop.app.notifications import SUMMARIES as SHOP
from tests.notify_servers import HttpReceiver, SmtpServer
from veterinaria.app.notifications import SUMMARIES as CLINIC

# the test SMTP server takes AUTH without TLS: on loopback, on purpose
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

FINISHED = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
IMPORT_RESULT = {"total_processed": 1234, "failed_updates": 3, "created": 1000, "updated": 200, "unchanged": 31,
                 "errors_csv_url": "/inventario/task/x/errores.csv"}


def facts(**overrides) -> messages.JobFacts:
    values = dict(id="0b7e4c52-8f0e-4a4e-9d7a-3f1c2b9e6d10", service="petshop", kind="inventory_import",
                  status="completed", owner_username="lucia", finished_at=FINISHED, result=IMPORT_RESULT)
    return messages.JobFacts(**{**values, **overrides})


def compose(job: messages.JobFacts, summaries=SHOP, url="http://127.0.0.1:8000") -> messages.Message:
    summarize = summaries.get(job.kind, messages.default_summary)
    return messages.compose(job, summarize(job), console_url=url, timezone="Europe/Madrid")


def test_a_completed_import_reads_as_one_spanish_sentence_with_its_counts_and_link():
    message = compose(facts())

    assert message.subject == "Tu importación de inventario ha terminado: 1.234 filas, 3 con errores"
    assert "Nuevos: 1.000 · actualizados: 200 · sin cambios: 31." in message.text
    assert "Ver en la consola: http://127.0.0.1:8000/tienda/importar/0b7e4c52-8f0e-4a4e-9d7a-3f1c2b9e6d10" in message.text
    assert "Terminado: 02/12/2026 10:30 (Europe/Madrid)" in message.text
    assert '<a href="http://127.0.0.1:8000/tienda/importar/0b7e4c52' in message.html
    assert message.webhook["summary"] == message.subject and message.webhook["status"] == "completed"


def test_a_failure_gives_its_reason_and_the_html_escapes_what_the_user_wrote():
    message = compose(facts(status="failed", result=None, error="Falta la columna <Precio> & más", error_code="x"))

    assert message.subject == "Tu importación de inventario ha fallado"
    assert "Motivo: Falta la columna <Precio> & más" in message.text
    assert "&lt;Precio&gt; &amp; más" in message.html and "<Precio>" not in message.html
    assert message.webhook["error_code"] == "x"


def test_each_kind_of_job_has_its_own_summary():
    document = compose(facts(service="veterinaria", kind="medical_document",
                             result={"document_type_label": "Análisis de sangre", "mascota_id": 7}), CLINIC)
    report = compose(facts(service="veterinaria", kind="medical_report",
                           result={"pet_name": "Luna", "pages": 1, "mascota_id": 7}), CLINIC)
    shop_report = compose(facts(kind="inventory_report", result={"title": "Stock bajo", "rows_total": 12}))
    cancelled = compose(facts(status="cancelled"))
    unknown = compose(facts(kind="cleanup", result={}))

    assert document.subject == "La lectura de tu documento clínico ha terminado: Análisis de sangre, de la mascota n.º 7"
    assert report.subject == "Tu informe médico ha terminado: el PDF de Luna está listo (1 página)"
    assert "/mascotas/7" in report.text
    assert shop_report.subject == "Tu informe de inventario ha terminado: «Stock bajo» está listo (12 filas)"
    assert cancelled.subject == "Tu importación de inventario se ha cancelado"
    assert unknown.subject == "Tu trabajo «cleanup» ha terminado"


def test_an_sms_never_passes_160_characters_and_keeps_its_link_when_it_fits():
    short = compose(facts()).sms
    long_link = compose(facts(), url="https://consola." + "x" * 150 + ".example").sms
    long_sentence = messages.sms_text("Tu " + "importación muy larga " * 10, "http://c.example/t")

    assert short.startswith("Timón: Tu importación de inventario ha terminado") and len(short) <= 160
    assert short.endswith("http://127.0.0.1:8000/tienda/importar/0b7e4c52-8f0e-4a4e-9d7a-3f1c2b9e6d10")
    assert len(long_link) <= 160 and "https://" not in long_link
    assert len(long_sentence) <= 160 and "…" in long_sentence and long_sentence.endswith("http://c.example/t")


def test_a_signature_verifies_only_for_its_secret_body_and_a_recent_timestamp():
    secret, body = signing.new_secret(), b'{"job_id":"x"}'
    signature = signing.sign(secret, 1_700_000_000, body)

    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert signing.verify(secret, timestamp="1700000000", signature=signature, body=body, now=1_700_000_100)
    assert not signing.verify(secret, timestamp="1700000000", signature=signature, body=body + b" ", now=1_700_000_100)
    assert not signing.verify(signing.new_secret(), timestamp="1700000000", signature=signature, body=body,
                              now=1_700_000_100)
    assert not signing.verify(secret, timestamp="1700000000", signature=signature, body=body, now=1_700_000_301)
    assert not signing.verify(secret, timestamp="ayer", signature=signature, body=body)


def test_addresses_are_masked_in_the_log():
    assert deliveries.mask(Channel.EMAIL, "lucia@timon.example") == "l***@timon.example"
    assert deliveries.mask(Channel.SMS, "+34600111222") == "+34******222"
    assert deliveries.mask(Channel.WEBHOOK, "https://hooks.example/t/abc?token=s3cret") == "https://hooks.example/…"


# --- each channel against a real server ------------------------------------------------------


@pytest.fixture(scope="module")
def smtp():
    server = SmtpServer(user="timon", password=secrets.token_urlsafe(8)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def receiver():
    server = HttpReceiver(account_sid="AC" + "1" * 32, auth_token="token-" + secrets.token_hex(4)).start()
    yield server
    server.stop()


def settings_for(smtp: SmtpServer, receiver: HttpReceiver, **overrides) -> Settings:
    values = dict(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False, smtp_user=smtp.user,
                  smtp_password=smtp.password, sms_api_url=receiver.url, sms_account_sid=receiver.account_sid,
                  sms_auth_token=receiver.auth_token, sms_from="+15005550006", notify_webhook_allow_private=True)
    return Settings(_env_file=None, **{**values, **overrides})


def test_the_email_goes_through_smtp_with_login_as_text_and_html(smtp, receiver):
    message = compose(facts())
    channels.send_email(settings=settings_for(smtp, receiver), to="lucia@tienda.example",
                        payload=message.payload(Channel.EMAIL))

    received = smtp.to("lucia@tienda.example")[-1]
    assert received["Subject"] == message.subject
    assert received.get_body(("plain",)).get_content().replace("\r\n", "\n") == message.text
    assert received.get_body(("html",)).get_content().strip() == message.html

    with pytest.raises(channels.DeliveryError) as wrong_password:
        channels.send_email(settings=settings_for(smtp, receiver, smtp_password="otra"), to="x@y.example",
                            payload=message.payload(Channel.EMAIL))
    assert not wrong_password.value.retry and "535" in wrong_password.value.message


def test_an_unreachable_smtp_server_is_worth_a_retry_and_a_missing_one_is_not(smtp, receiver):
    payload = compose(facts()).payload(Channel.EMAIL)
    with pytest.raises(channels.DeliveryError) as down:
        channels.send_email(settings=settings_for(smtp, receiver, smtp_port=1), to="a@b.example", payload=payload)
    with pytest.raises(channels.DeliveryError) as unset:
        channels.send_email(settings=settings_for(smtp, receiver, smtp_host=""), to="a@b.example", payload=payload)

    assert down.value.retry and "servidor de correo" in down.value.message
    assert not unset.value.retry and "SMTP_HOST" in unset.value.message


def test_webhook_answers_decide_between_delivered_retry_and_give_up(smtp, receiver):
    settings = settings_for(smtp, receiver)
    receiver.secrets.update(ok="whsec_ok", busy="whsec_busy", gone="whsec_gone", slow="whsec_slow")
    receiver.scripts["busy"].extend([503, 429])
    receiver.scripts["gone"].extend([410])

    channels.post_webhook(settings=settings, url=f"{receiver.url}/hooks/ok", secret="whsec_ok", body={"a": "ñ"},
                          delivery_id=5)
    outcomes = []
    for name in ("busy", "busy", "gone"):
        with pytest.raises(channels.DeliveryError) as failed:
            channels.post_webhook(settings=settings, url=f"{receiver.url}/hooks/{name}", secret=f"whsec_{name}",
                                  body={}, delivery_id=6)
        outcomes.append(failed.value.retry)
    with pytest.raises(channels.DeliveryError) as bad_signature:  # the receiver answers 400 to a wrong signature
        channels.post_webhook(settings=settings, url=f"{receiver.url}/hooks/ok", secret="whsec_other", body={},
                              delivery_id=7)

    hit = receiver.hooks["ok"][0]
    assert hit.valid_signature and json.loads(hit.body) == {"a": "ñ"} and hit.headers["X-Timon-Delivery"] == "5"
    assert outcomes == [True, True, False]
    assert not bad_signature.value.retry


def test_webhooks_to_internal_addresses_are_refused_unless_allowed(smtp, receiver):
    with pytest.raises(channels.DeliveryError) as refused:
        channels.post_webhook(settings=settings_for(smtp, receiver, notify_webhook_allow_private=False),
                              url=f"{receiver.url}/hooks/ok", secret="whsec_ok", body={}, delivery_id=1)
    assert not refused.value.retry and "127.0.0.1" in refused.value.message


def test_the_sms_goes_to_twilios_messages_api_with_basic_auth(smtp, receiver):
    channels.send_sms(settings=settings_for(smtp, receiver), to="+34600111222", body="Timón: hola")
    with pytest.raises(channels.DeliveryError) as wrong_token:
        channels.send_sms(settings=settings_for(smtp, receiver, sms_auth_token="otro"), to="+34600111222", body="x")

    assert receiver.sms[-1].form == {"To": "+34600111222", "From": "+15005550006", "Body": "Timón: hola"}
    assert not wrong_token.value.retry and "401" in wrong_token.value.message and "Authenticate" in wrong_token.value.message


# --- planning, on the database under test ------------------------------------------------------


def finished_job(sessions, *, owner_id: int, status: str = "completed") -> str:
    job_id = f"{secrets.token_hex(4)}-0000-4000-8000-{secrets.token_hex(6)}"
    with session_scope(sessions) as session:
        session.add(Job(id=job_id, service="petshop", kind="inventory_import", task_name="t", owner_id=owner_id,
                        owner_username="lucia", status=status, params={}, result=IMPORT_RESULT, finished_at=FINISHED))
    return job_id


def plan(sessions, job_id: str, status: str = "completed") -> list[int]:
    with session_scope(sessions) as session:
        return deliveries.plan(session=session, job_id=job_id, status=status, summarize=SHOP["inventory_import"],
                               console_url="http://c.example", timezone="UTC")


def test_planning_follows_the_owners_choices_once_however_often_it_runs(sessions):
    with session_scope(sessions) as session:
        session.add(Preference(user_id=501, email_enabled=True, email_address="l@t.example", email_events=["failed"],
                               sms_enabled=True, sms_phone="+34600111222", sms_events=["completed"]))
        session.add(WebhookEndpoint(user_id=501, url="http://h.example/a", secret="whsec_a", events=["completed"]))
        session.add(WebhookEndpoint(user_id=501, url="http://h.example/b", secret="whsec_b", events=["completed"],
                                    enabled=False))
    job_id = finished_job(sessions, owner_id=501)

    first, again = plan(sessions, job_id), plan(sessions, job_id)
    with session_scope(sessions) as session:
        rows = list(session.scalars(select(Delivery).where(Delivery.job_id == job_id).order_by(Delivery.id)))

    assert first == again == [row.id for row in rows]
    assert [(row.channel, row.target, row.status) for row in rows] == [
        ("sms", "+34******222", "queued"), ("webhook", "http://h.example/…", "queued")]
    assert rows[0].payload["body"].startswith("Timón: Tu importación de inventario ha terminado")
    assert plan(sessions, finished_job(sessions, owner_id=502)) == []  # no preferences: nothing
    assert plan(sessions, job_id, status="failed") == []  # not how this job ended


def test_an_attempt_counts_itself_and_a_deleted_webhook_ends_its_delivery(sessions):
    with session_scope(sessions) as session:
        endpoint = WebhookEndpoint(user_id=503, url="http://h.example/c", secret="whsec_c", events=["completed"])
        session.add(endpoint)
    job_id = finished_job(sessions, owner_id=503)
    (delivery_id,) = plan(sessions, job_id)

    with session_scope(sessions) as session:
        attempt = deliveries.begin(session=session, delivery_id=delivery_id)
        deliveries.record_error(session=session, delivery_id=delivery_id, error="El webhook respondió 500.")
    with session_scope(sessions) as session:
        session.delete(session.get(WebhookEndpoint, endpoint.id))
    with session_scope(sessions) as session:
        assert deliveries.begin(session=session, delivery_id=delivery_id) is None
        row = session.get(Delivery, delivery_id)

    assert attempt.number == 1 and attempt.secret == "whsec_c"
    assert row.status == "failed" and row.attempts == 1 and "se borró" in row.last_error
