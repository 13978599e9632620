"""Flower's configuration, read from the working directory by `celery -A common.celery_app flower`.

Flower is never open: it asks for basic auth, user FLOWER_USER (default `admin`), password
FLOWER_PASSWORD or the one generated into var/secrets/flower_password. That covers every page,
including `/metrics` and `/healthcheck`, which Flower 2.2 serves without auth whatever its options
say (their handlers lack `@tornado.web.authenticated`, and no option adds it); they get it here.
Tornado executes this file before Flower builds its routes, so the wrapped handlers are the ones served.
"""

from flower.views import monitor
from tornado import web

from common.config import get_settings
from common.secrets import read_or_create

_settings = get_settings()
_password, _ = read_or_create(_settings.secrets_dir, "flower_password", _settings.flower_password)

basic_auth = [f"{_settings.flower_user}:{_password}"]
purge_offline_workers = 300

for _handler in (monitor.Metrics, monitor.Healthcheck):
    if not getattr(_handler.get, "__wrapped__", None):
        _handler.get = web.authenticated(_handler.get)
