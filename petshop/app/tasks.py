"""Celery tasks of the petshop service (queue `petshop`)."""

from __future__ import annotations

from common.celery_app import app
from common.worker import register_platform_tasks

reconcile_jobs, run_diagnostic = register_platform_tasks(app, "petshop")
