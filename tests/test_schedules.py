"""Scheduled jobs with real beat and worker processes: a schedule fires, pauses, stops; two beats fire once;
downtime ends in one catch-up run. The clock is the test's: intervals of seconds, beat ticking twice a second.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from common.config import Settings
from common.db import make_engine, utcnow
from common.jobs import Job
from tests.conftest import Client, login
from tests.jobs_helpers import wait_for_job
from tests.servers import RedisServer, Stack, wait_until

INTERVAL = 2
TICK = "fire-petshop-schedules"  # what beat logs when it sends the petshop dispatcher's tick


@pytest.fixture(scope="module")
def schedule_redis(work_dir):
    server = RedisServer(work_dir / "schedules-redis", work_dir / "logs").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def schedule_stack(work_dir, new_database_url, schedule_redis):
    running = Stack(
        base_dir=work_dir / "schedules",
        database_url=new_database_url("timon_schedules"),
        redis_url=schedule_redis.url,
        extra_env={"SCHEDULE_CHECK_SECONDS": "0.5", "SCHEDULE_MIN_INTERVAL_SECONDS": "1",
                   "RECONCILE_EVERY_SECONDS": "3600",
                   "WORKER_SOFT_SHUTDOWN_TIMEOUT": "1"},
    )
    running.start(workers=1)
    running.start_beats()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def admin(schedule_stack) -> Client:
    return Client(schedule_stack, login(schedule_stack, "admin", schedule_stack.admin_password))


@pytest.fixture(scope="module")
def engine(schedule_stack):
    engine = make_engine(Settings(_env_file=None, database_url=schedule_stack.env["DATABASE_URL"]))
    yield engine
    engine.dispose()


def new_store(admin) -> int:
    response = admin.post("petshop", "/tiendas/", json={"name": f"Tienda {secrets.token_hex(3)}"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def create(admin, service: str = "petshop", **body) -> dict:
    response = admin.post(service, "/schedules/", json={"name": "Programación de prueba", **body})
    assert response.status_code == 201, response.text
    return response.json()


def report_every(admin, seconds: int = INTERVAL, report_type: str = "stock_low") -> dict:
    return create(admin, kind="inventory_report", interval_seconds=seconds,
                  params={"store_id": new_store(admin), "report_type": report_type})


def read(admin, schedule: dict) -> dict:
    response = admin.get(schedule["service"], f"/schedules/{schedule['id']}")
    assert response.status_code == 200, response.text
    return response.json()


def runs_of(engine, schedule: dict) -> list[Job]:
    """The jobs a report schedule made: its store is its own."""
    with engine.connect() as connection:
        rows = connection.execute(select(Job.id, Job.params, Job.created_at).where(Job.kind == "inventory_report"))
        return sorted((row for row in rows if row.params.get("store_id") == schedule["params"]["store_id"]),
                      key=lambda row: row.created_at)


def wait_for_runs(admin, schedule: dict, count: int, timeout: float = 60) -> dict:
    return wait_until(lambda: (s := read(admin, schedule))["run_count"] >= count and s, timeout=timeout,
                      what=f"schedule {schedule['id']} to have run {count} times")


def fired_runs(stack: Stack, schedule: dict) -> dict[str, datetime]:
    """job id → the due time it was made for, from the workers' logs."""
    pattern = re.compile(rf"schedule {schedule['id']} \(\w+\): the run due at (\S+ \S+) made job ([0-9a-f-]{{36}})")
    return {job_id: datetime.fromisoformat(moment)
            for worker in stack.workers for moment, job_id in pattern.findall(worker.log())}


def aware(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_bad_schedules_are_refused_in_spanish_with_a_code(admin, schedule_stack):
    store = new_store(admin)
    report = {"kind": "inventory_report", "params": {"store_id": store, "report_type": "stock_low"}}
    cases = [
        ({**report, "cron": "30 7 * *"}, 422, "schedule_bad_cron"),
        ({**report, "cron": "30 7 * * *", "timezone": "Europe/Madird"}, 422, "schedule_unknown_timezone"),
        ({**report, "kind": "borrar_todo", "cron": "30 7 * * *"}, 422, "schedule_unknown_kind"),
        ({**report, "params": {"store_id": store, "report_type": "ventas"}, "cron": "0 8 * * 1"}, 422, "schedule_bad_params"),
        ({**report, "params": {"store_id": store, "report_type": "stock_low", "x": 1}, "cron": "0 8 * * 1"}, 422,
         "schedule_bad_params"),
        ({**report, "params": {"store_id": 999_999, "report_type": "stock_low"}, "cron": "0 8 * * 1"}, 404, "store_not_found"),
        (report, 422, "schedule_needs_one_timing"),
        ({**report, "cron": "0 8 * * 1", "interval_seconds": 60}, 422, "schedule_needs_one_timing"),
        ({"kind": "storage_cleanup", "params": {"older_than_days": 0}, "interval_seconds": 60}, 422, "schedule_bad_params"),
    ]
    for body, status, code in cases:
        response = admin.post("petshop", "/schedules/", json={"name": "Mal", **body})
        assert (response.status_code, response.json()["code"]) == (status, code), (body, response.text)
        assert "should" not in response.json()["detail"] and len(response.json()["detail"]) > 20, response.text
    assert admin.get("petshop", "/schedules/").json() == []  # nothing half-written
    password = secrets.token_urlsafe(12)
    made = admin.post("auth", "/users/", json={"username": f"e-{secrets.token_hex(3)}", "password": password, "role": "empleado"})
    clerk = Client(schedule_stack, login(schedule_stack, made.json()["username"], password))
    assert clerk.post("petshop", "/schedules/", json={"name": "x", **report, "cron": "0 8 * * 1"}).status_code == 403
    assert clerk.get("petshop", "/schedules/").status_code == 403


def test_a_daily_report_at_half_past_seven_in_madrid(admin):
    schedule = create(admin, kind="inventory_report", cron="30 7 * * *", timezone="Europe/Madrid",
                      params={"store_id": new_store(admin), "report_type": "inventory_value"})
    first = aware(schedule["next_run_at"])
    assert first > utcnow() and first.minute == 30 and first.hour in (5, 6)  # 07:30 in CEST or CET
    kinds = admin.get("petshop", "/schedules/kinds").json()
    assert {kind["kind"] for kind in kinds} == {"inventory_report", "storage_cleanup"}
    assert {kind["kind"] for kind in admin.get("veterinaria", "/schedules/kinds").json()} == {"medical_report", "storage_cleanup"}
    assert admin.request("DELETE", "petshop", f"/schedules/{schedule['id']}").status_code == 204


def test_an_interval_schedule_runs_a_normal_job_until_paused_and_deleted(admin, engine):
    # created while beat runs: no restart needed
    schedule = report_every(admin)
    ran = wait_for_runs(admin, schedule, 1)
    job = wait_for_job(admin, "petshop", ran["last_job_id"])
    assert job["status"] == "completed" and job["kind"] == "inventory_report"
    assert job["owner_username"] == "admin" and job["result"]["xlsx_url"]
    listed = admin.get("petshop", "/jobs/", params={"kind": "inventory_report", "limit": 200}).json()
    assert ran["last_job_id"] in {item["id"] for item in listed}

    paused = admin.post("petshop", f"/schedules/{schedule['id']}/pause").json()
    assert paused["enabled"] is False and paused["next_run_at"] is None
    made = len(runs_of(engine, schedule))
    # beat keeps ticking: another schedule runs twice meanwhile
    witness = report_every(admin, 1)
    wait_for_runs(admin, witness, 2)
    assert read(admin, schedule)["run_count"] == paused["run_count"] and len(runs_of(engine, schedule)) == made

    resumed = admin.post("petshop", f"/schedules/{schedule['id']}/resume").json()
    assert resumed["enabled"] is True and aware(resumed["next_run_at"]) > utcnow() - timedelta(seconds=1)
    wait_for_runs(admin, schedule, paused["run_count"] + 1)

    for gone in (schedule, witness):
        assert admin.request("DELETE", "petshop", f"/schedules/{gone['id']}").status_code == 204
        assert admin.get("petshop", f"/schedules/{gone['id']}").json()["code"] == "schedule_not_found"
    made = len(runs_of(engine, schedule))
    canary = report_every(admin, 1)
    wait_for_runs(admin, canary, 2)
    assert len(runs_of(engine, schedule)) == made
    admin.request("DELETE", "petshop", f"/schedules/{canary['id']}")


def test_after_downtime_one_catch_up_run_and_two_beats_fire_each_run_once(admin, schedule_stack, engine):
    schedule = report_every(admin, INTERVAL)
    wait_for_runs(admin, schedule, 1)
    schedule_stack.beats.pop().stop()
    # down for at least three periods (re-read: a tick sent just before the stop may still fire)
    wait_until(lambda: aware(read(admin, schedule)["next_run_at"]) < utcnow() - timedelta(seconds=3 * INTERVAL),
               timeout=60, interval=0.5, what="three missed periods")
    missed = read(admin, schedule)
    restarted_at = utcnow()
    # two beats, as if started by mistake on two machines
    beats = schedule_stack.start_beats(2)
    # a beat on a loaded machine may send its first tick seconds after it says it started
    wait_until(lambda: all(TICK in beat.log() for beat in beats), timeout=60, interval=0.5, what="both beats ticking")
    both_ticking = read(admin, schedule)["run_count"]
    wait_for_runs(admin, schedule, max(missed["run_count"] + 3, both_ticking + 2))
    schedule_stack.beats.pop().stop()
    paused = admin.post("petshop", f"/schedules/{schedule['id']}/pause").json()

    made = runs_of(engine, schedule)
    assert len(made) == paused["run_count"]
    # which run each job was for: the dispatcher logs it ("the run due at … made job …")
    # (the line is written just after the commit that made the job)
    due = wait_until(lambda: (found := fired_runs(schedule_stack, schedule)).keys() >= {run.id for run in made} and found,
                     timeout=30, what="the dispatcher's log lines")
    assert sorted(due) == sorted(run.id for run in made)
    assert len(set(due.values())) == len(due), "a run was fired twice"
    after_restart = [due[run.id] for run in made if run.created_at >= restarted_at]
    assert len(after_restart) >= 3
    # one catch-up, for the first missed run; the missed periods after it were not replayed
    assert [moment for moment in after_restart if moment < restarted_at] == [aware(missed["next_run_at"])]
    admin.request("DELETE", "petshop", f"/schedules/{schedule['id']}")


def test_a_scheduled_cleanup_on_veterinaria_deletes_old_orphans(admin, schedule_stack):
    files = Path(schedule_stack.env["VAR_DIR"]) / "files"
    orphan = files / "documents" / "2020" / "01" / f"{secrets.token_hex(8)}.pdf"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"%PDF-1.4 nadie lo necesita")
    old = (utcnow() - timedelta(days=40)).timestamp()
    os.utime(orphan, (old, old))
    young = orphan.with_name("reciente.pdf")
    young.write_bytes(b"%PDF-1.4 de ayer")

    schedule = create(admin, "veterinaria", kind="storage_cleanup", params={"older_than_days": 30}, interval_seconds=1)
    ran = wait_for_runs(admin, schedule, 1)
    admin.request("DELETE", "veterinaria", f"/schedules/{schedule['id']}")
    job = wait_for_job(admin, "veterinaria", ran["last_job_id"])
    assert job["status"] == "completed", job
    assert not orphan.exists() and young.exists()
    assert job["result"]["deleted_total"] >= 1 and job["kind"] == "storage_cleanup"
    assert any(item["key"].endswith(orphan.name) for item in job["result"]["deleted"])
