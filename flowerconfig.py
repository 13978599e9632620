"""Flower's configuration, read from the working directory by `celery -A common.celery_app flower`.

Flower is never open: it asks for basic auth, user FLOWER_USER (default `admin`), password
FLOWER_PASSWORD or the one generated into var/secrets/flower_password.
"""

from common.config import get_settings
from common.secrets import read_or_create

_settings = get_settings()
_password, _ = read_or_create(_settings.secrets_dir, "flower_password", _settings.flower_password)

basic_auth = [f"{_settings.flower_user}:{_password}"]
purge_offline_workers = 300
