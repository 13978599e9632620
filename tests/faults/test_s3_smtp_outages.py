"""The S3 endpoint and the SMTP server go away and come back: uploads are refused in Spanish, jobs
and e-mails wait and retry, and nothing is lost or done twice.

The stack keeps its files in a bucket on moto's S3 server and sends e-mail through aiosmtpd, both
real servers over TCP that a story stops and starts again on the same port.
"""

from __future__ import annotations

import secrets

import pytest

from tests.conftest import Client, login
from tests.faults.conftest import wait_until_running
from tests.faults.outage_helpers import inventory_csv, new_store, restart_redis, stock_skus, upload_inventory
from tests.jobs_helpers import submit_diagnostic, wait_for_job
from tests.notify_servers import SmtpServer
from tests.s3_server import MotoS3Server
from tests.servers import wait_until

BUCKET = "timon-outages"
RETRIES = 20  # a job's budget: more than the outages below last (backoff capped at 2 s)


@pytest.fixture(scope="module")
def s3_server():
    server = MotoS3Server().start()
    server.client().create_bucket(Bucket=BUCKET)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def smtp():
    server = SmtpServer(user="timon", password=secrets.token_urlsafe(12)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack_env(work_dir, s3_server, smtp) -> dict[str, str]:
    password_file = work_dir / "outages-smtp-password"
    password_file.write_text(smtp.password + "\n")
    return {
        **s3_server.env(BUCKET), "TASK_MAX_RETRIES": str(RETRIES),
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port), "SMTP_STARTTLS": "false", "SMTP_USER": smtp.user,
        "SMTP_PASSWORD_FILE": str(password_file), "SMTP_FROM": "Timón Pet Store <avisos@timon.example>",
        "NOTIFY_MAX_RETRIES": "20", "NOTIFY_RETRY_BACKOFF_SECONDS": "1", "NOTIFY_RETRY_BACKOFF_MAX": "1",
        "NOTIFY_OUTBOX_AFTER_SECONDS": "2",
    }


@pytest.fixture(scope="module")
def clerk(fault_stack, admin) -> Client:
    """A shop employee with an e-mail address, told by e-mail when a job finishes."""
    name, password = f"empleado-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    created = admin.post("auth", "/users/", json={"username": name, "password": password, "role": "empleado",
                                                  "email": f"{name}@tienda.example"})
    assert created.status_code == 201, created.text
    client = Client(fault_stack, login(fault_stack, name, password))
    client.email = f"{name}@tienda.example"
    assert client.request("PUT", "auth", "/users/me/notificaciones", json={"email": {"enabled": True}}).status_code == 200
    return client


def own_jobs(client: Client) -> list[dict]:
    response = client.get("petshop", "/jobs/", params={"limit": 200})
    assert response.status_code == 200, response.text
    return response.json()


def email_delivery(client: Client, job_id: str) -> dict | None:
    response = client.get("auth", "/users/me/notificaciones/entregas", params={"job_id": job_id})
    assert response.status_code == 200, response.text
    return next((row for row in response.json() if row["channel"] == "email"), None)


def test_with_the_bucket_unreachable_an_upload_gets_503_in_spanish_and_leaves_nothing(clerk, admin, s3_server):
    # fault: the S3 endpoint refuses connections while a file is uploaded
    # expected: 503 `storage_unavailable` with a Spanish message and Retry-After; no job recorded, no object left
    store = new_store(admin)
    jobs_before, objects_before = own_jobs(clerk), s3_server.keys(BUCKET)
    s3_server.stop()
    try:
        refused = upload_inventory(clerk, store, inventory_csv(5)[0])
    finally:
        s3_server.start()

    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "storage_unavailable"
    assert "almacenamiento de archivos no responde" in refused.json()["detail"]
    assert refused.headers["retry-after"]
    assert own_jobs(clerk) == jobs_before
    assert s3_server.keys(BUCKET) == objects_before and s3_server.unfinished_uploads(BUCKET) == []
    assert stock_skus(clerk, store) == {}


def test_an_import_whose_bucket_goes_away_retries_and_completes_once_it_is_back(clerk, admin, fault_stack, s3_server):
    # fault: the bucket becomes unreachable after the upload was accepted, before the worker reads it
    # expected: the job shows `retrying`, then completes once S3 answers again: every row written once,
    # its upload deleted from the bucket afterwards
    store = new_store(admin)
    content, skus = inventory_csv(30)
    accepted = upload_inventory(clerk, store, content)  # no worker yet: the job waits in the queue
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["task_id"]
    upload_key = next(key for key in s3_server.keys(BUCKET, "imports/"))

    s3_server.stop()
    worker = fault_stack.start_worker()
    try:
        try:
            waiting = wait_for_job(clerk, "petshop", job_id, statuses=("retrying",), timeout=60)
        finally:
            s3_server.start()
        assert waiting["error_code"] == "job_retrying" and "se reintenta automáticamente" in waiting["error"]
        job = wait_for_job(clerk, "petshop", job_id, timeout=90)
    finally:
        worker.stop()

    assert job["status"] == "completed", job
    assert job["result"]["created"] == 30 and job["requeues"] == 0
    assert stock_skus(clerk, store) == {sku: int(sku[-4:]) + 1 for sku in skus}
    wait_until(lambda: upload_key not in s3_server.keys(BUCKET, "imports/"), timeout=60, what="the upload deleted")


def test_with_the_smtp_server_down_the_job_completes_and_its_email_is_sent_once_the_server_is_back(
    clerk, admin, fault_stack, smtp, worker,
):
    # fault: the SMTP server is down when a job finishes and stays down for a few attempts
    # expected: the job completes regardless; its e-mail keeps waiting (`queued`, last error in Spanish)
    # and is delivered once, when the server is back
    store = new_store(admin)
    smtp.stop()
    try:
        accepted = upload_inventory(clerk, store, inventory_csv(4)[0])
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["task_id"]
        assert wait_for_job(clerk, "petshop", job_id)["status"] == "completed"

        waiting = wait_until(lambda: (row := email_delivery(clerk, job_id)) and row["attempts"] >= 2 and row,
                             timeout=60, what="two failed attempts to send the e-mail")
        assert waiting["status"] == "queued" and "servidor de correo" in waiting["last_error"]
    finally:
        smtp.start()

    sent = wait_until(lambda: (row := email_delivery(clerk, job_id)) and row["status"] == "sent" and row,
                      timeout=90, what="the e-mail sent")
    # an attempt is counted when it begins: the one counted as we read `waiting` may be the one
    # that reached the server once it was back (7 and 7 on a loaded machine)
    assert sent["attempts"] >= waiting["attempts"] >= 2
    about_this_job = [m for m in smtp.to(clerk.email) if f"Trabajo: {job_id}" in m.get_body(("plain",)).get_content()]
    assert len(about_this_job) == 1
    assert wait_for_job(clerk, "petshop", job_id)["status"] == "completed"


def test_a_job_that_finishes_while_redis_is_down_still_gets_its_email_from_the_outbox(
    admin, fault_stack, redis_server, smtp, worker,
):
    # fault: Redis stops while a job runs, so the "notify" message its finish publishes is refused
    # expected: the job completes; its finish left it owed in the jobs table (notified_at NULL), and
    # once Redis is back beat's send_owed_notifications sends its e-mail, exactly one
    address = f"admin-{secrets.token_hex(3)}@timon.example"
    assert admin.request("PUT", "auth", "/users/me/notificaciones",
                         json={"email": {"enabled": True, "address": address}}).status_code == 200
    job_id = submit_diagnostic(admin, "petshop", steps=12, step_seconds=0.25)
    wait_until_running(admin, worker, "petshop", job_id)

    redis_server.stop()
    try:
        assert wait_for_job(admin, "petshop", job_id)["status"] == "completed"
        wait_until(lambda: f"job {job_id}: could not queue its notifications" in worker.log(), timeout=60,
                   what="the finish's notify message refused")
    finally:
        restart_redis(redis_server)
    assert smtp.to(address) == []

    # a worker that held an unacked message when Redis stopped can die of kombu's restore race ("'NoneType'
    # object has no attribute 'hostname'", the worker-fault stories' business): a second one does the sending
    sender = fault_stack.start_worker()
    beat = fault_stack.start_beats()[0]
    try:
        wait_until(lambda: email_delivery(admin, job_id) and email_delivery(admin, job_id)["status"] == "sent",
                   timeout=90, what="the owed e-mail sent")
    finally:
        beat.stop()
        sender.stop()
    assert "Task petshop.app.tasks.send_owed_notifications" in sender.log() + worker.log()
    about_this_job = [m for m in smtp.to(address) if f"Trabajo: {job_id}" in m.get_body(("plain",)).get_content()]
    assert len(about_this_job) == 1
