"""The Celery app: built from settings when Celery first needs them, never at import."""

from __future__ import annotations

import subprocess
import sys

from common.celery_app import create_celery_app
from common.config import Settings
from tests.servers import ROOT


def test_importing_the_app_and_the_tasks_reads_no_setting():
    # a bad variable would stop the import if settings were read then; the worker reads them at start
    code = (
        "import os, common.celery_app as c, petshop.app.tasks, veterinaria.app.tasks\n"
        "from common.config import get_settings\n"
        "assert get_settings.cache_info().currsize == 0, 'settings read at import'\n"
        "os.environ.pop('MAX_UPLOAD_MB')\n"
        "print(c.app.conf.broker_url, c.app.conf.result_backend, c.app.conf.worker_soft_shutdown_timeout)\n"
        "assert get_settings.cache_info().currsize == 1\n"
    )
    env = {"PATH": "/usr/bin:/bin", "MAX_UPLOAD_MB": "-3", "REDIS_URL": "redis://broker.example:6380/2",
           "WORKER_SOFT_SHUTDOWN_TIMEOUT": "7"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["redis://broker.example:6380/2", "redis://broker.example:6380/2", "7.0"]


def test_a_service_builds_its_app_from_the_settings_it_was_given():
    settings = Settings(_env_file=None, redis_url="redis://queue.example:6379/5", task_time_limit=120)
    app = create_celery_app(settings)
    assert app.conf.broker_url == "redis://queue.example:6379/5"
    assert app.conf.task_time_limit == 120
    assert set(app.conf.beat_schedule) == {"reconcile-veterinaria-jobs", "reconcile-petshop-jobs",
                                           "fire-veterinaria-schedules", "fire-petshop-schedules",
                                           "send-owed-veterinaria-notifications", "send-owed-petshop-notifications"}
