"""Settings read from the environment (and an optional `.env` file), once, at app creation.

Every field is documented in `.env.example`. A malformed value stops the process with one line
naming the variable instead of a traceback (see `load_settings`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, SecretStr, TypeAdapter, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.types import Password

SettingsT = TypeVar("SettingsT", bound="Settings")
#: HS256 with a shorter key is open to offline guessing (RFC 7518 §3.2 asks for at least 256 bits)
MIN_JWT_SECRET_BYTES = 32

_PASSWORD = TypeAdapter(Password)
#: tokens shared with other machines (Prometheus) and cookie-signing keys: long enough not to be guessed
MIN_TOKEN_CHARS = 24
#: values people copy from examples and tutorials; compared in lower case with only letters and digits kept
PLACEHOLDER_SECRETS = frozenset({
    "changeme", "changemenow", "changethis", "changeit", "secret", "secretkey", "supersecret", "mysecret",
    "password", "password123", "admin", "admin123", "adminadmin", "test", "testing", "example", "default",
    "dev", "development", "timon", "timonpetstore", "flower", "metrics", "token", "jwtsecret", "letmein",
    "qwerty", "123456", "1234567890",
})


def _placeholder(value: str) -> bool:
    """A secret that is an example's placeholder, or a placeholder said twice or followed by digits."""
    folded = re.sub(r"[^a-z0-9]", "", value.lower())
    return folded.rstrip("0123456789") in PLACEHOLDER_SECRETS or any(
        folded == word * (len(folded) // len(word)) for word in PLACEHOLDER_SECRETS if len(folded) >= len(word) > 0)
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")

#: What a worker child holds before it reads any file (Python, Celery, SQLAlchemy, the task
#: modules, Tesseract's language data): bench/memory_bound.py prints the measured figure.
WORKER_BASELINE_MB = 150


class Settings(BaseSettings):
    """What every process (service, worker, beat, Flower) needs."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # seed settings
    redis_url: str = "redis://127.0.0.1:6379/0"
    database_url: str = ""  # default: SQLite at <var_dir>/timon.db
    celery_task_serializer: str = "json"
    celery_result_serializer: str = "json"

    # where runtime state lives: SQLite file, generated secrets, uploaded files, beat schedule
    var_dir: Path = Path("var")
    storage_dir: Path | None = None  # default: <var_dir>/files
    # where files live (common/storage.py): empty or file:///path = a local folder (STORAGE_DIR);
    # s3://bucket/prefix = an S3-compatible bucket, reached with the S3_* settings below
    storage_url: str = ""
    s3_endpoint_url: str | None = None  # default: AWS itself; MinIO, Ceph, R2... give theirs
    s3_region: str = "us-east-1"
    # credentials: given here, or in files (docker secrets, generated files), else boto3's own chain
    # (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role)
    s3_access_key_id: SecretStr | None = None
    s3_access_key_id_file: Path | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_secret_access_key_file: Path | None = None
    # uploads above one part go to the bucket as a multipart upload of parts this size (S3's minimum is 5)
    s3_part_size_mb: int = Field(default=8, ge=5, le=512)
    # a password kept out of DATABASE_URL (docker secrets, generated files)
    database_password_file: Path | None = None
    database_pool_size: int = Field(default=5, ge=1)

    # security
    # outside development a configured JWT_SECRET or ADMIN_PASSWORD that is weak stops the process
    environment: Literal["development", "production"] = "production"
    jwt_secret: SecretStr | None = None  # default: generated into <var_dir>/secrets/jwt_secret
    jwt_algorithm: str = "HS256"
    jwt_issuer: str = "timon-auth"
    access_token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    admin_username: str = "admin"
    admin_password: SecretStr | None = None  # default: generated into <var_dir>/secrets/admin_password
    flower_user: str = "admin"
    flower_password: SecretStr | None = None  # default: generated into <var_dir>/secrets/flower_password
    # login throttling (auth/app/throttle.py): failed logins per account and per client address in a
    # moving window, and how many password checks (Argon2, ~64 MiB and a core each) run at once
    login_max_failures_per_account: int = Field(default=10, ge=1)
    login_max_failures_per_address: int = Field(default=50, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    login_max_concurrent_verifies: int = Field(default=1, ge=1, le=64)
    # browser origins allowed to call the services (the other services' /docs pages log in at auth)
    cors_origins: list[str] = [f"http://{host}:{port}" for host in ("127.0.0.1", "localhost") for port in (8001, 8002, 8004)]
    # where browsers reach the auth service: the Authorize button in every service's /docs logs in there
    auth_public_url: str = "http://127.0.0.1:8001"

    # uploads
    max_upload_mb: int = Field(default=20, ge=1)
    # every other request body (JSON, forms): a bulk price list of 100,000 SKUs is about 5 MB
    max_body_mb: int = Field(default=8, ge=1)
    max_document_pages: int = Field(default=200, ge=1)  # longer PDFs are refused with a message
    # OCR helper processes per worker process for multi-page scans (1: OCR in the worker process itself)
    ocr_page_workers: int = Field(default=2, ge=1, le=16)
    # a PDF of at least this many pages is read as one Celery task a page, so workers on every host
    # share it (veterinaria/app/documents/page_tasks.py); shorter ones stay one task. 0: never.
    # bench/ocr_cluster.py measures where splitting starts to pay
    ocr_fanout_min_pages: int = Field(default=8, ge=0)
    # the peak RSS a worker child may reach reading one uploaded file: what would need more is
    # refused before it is read (bench/memory_bound.py measures it)
    worker_peak_memory_mb: int = Field(default=400, ge=WORKER_BASELINE_MB + 100)

    # jobs and Celery
    enqueue_timeout_seconds: float = Field(default=2.0, gt=0, le=10)
    task_soft_time_limit: int = Field(default=600, ge=0)  # 0: no soft limit, the hard one alone
    task_time_limit: int = Field(default=660, ge=1)
    max_queue_wait_seconds: int = Field(default=3600, ge=1)
    task_max_retries: int = Field(default=5, ge=0)
    # delay before a task whose worker process died is run again
    task_retry_delay_seconds: int = Field(default=5, ge=0)
    task_retry_backoff_max: int = Field(default=300, ge=1)
    worker_max_memory_per_child_mb: int = Field(default=1024, ge=64)
    worker_soft_shutdown_timeout: float = Field(default=30.0, ge=0)
    # how much lower than the APIs' the worker's CPU priority is (os.nice, inherited by its children
    # and OCR helpers): on a machine that runs both, a request waits for no job's CPU. 0: the same
    worker_nice: int = Field(default=10, ge=0, le=19)
    # default: max_queue_wait_seconds + task_time_limit + 60; lower it only in tests
    broker_visibility_timeout: int | None = Field(default=None, ge=1)
    result_expires_seconds: int = Field(default=24 * 3600, ge=60)
    reconcile_every_seconds: float = Field(default=60.0, gt=0)
    # how long a job may sit `queued`, or run `processing` without a sign of life, before the
    # reconciler steps in; defaults follow from the limits above
    job_stale_queued_seconds: int | None = None
    job_stale_processing_seconds: int | None = None
    job_max_requeues: int = Field(default=3, ge=0)
    # fair use: unfinished (queued, running, retrying) jobs one user may have on one service;
    # past it a submission answers 429 with Retry-After
    job_max_active_per_user: int = Field(default=10, ge=1)
    job_quota_retry_after_seconds: int = Field(default=30, ge=1)
    # scheduled jobs (common/schedules): how often beat asks each service to fire its due schedules
    # (a crontab's run starts at most this late), and the shortest interval a schedule may have
    schedule_check_seconds: float = Field(default=30.0, gt=0, le=60)
    schedule_min_interval_seconds: int = Field(default=60, ge=1)

    # the web console (console/app): where it reaches the services' public HTTP APIs, and its session cookie
    auth_url: str = "http://127.0.0.1:8001"
    veterinaria_url: str = "http://127.0.0.1:8002"
    petshop_url: str = "http://127.0.0.1:8004"
    console_backend_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    console_session_secret: SecretStr | None = None  # default: generated into <var_dir>/secrets/console_session_secret
    console_secure_cookie: bool = False  # True when the console is served over HTTPS
    console_timezone: str = "Europe/Madrid"  # the zone the console shows times in (the APIs answer in UTC)

    # notifications (common/notify): where a message's link points, and how deliveries retry
    console_public_url: str = "http://127.0.0.1:8000"  # where people reach the console (links in e-mails, SMS, webhooks)
    notify_max_retries: int = Field(default=6, ge=0, le=20)
    notify_retry_backoff_seconds: int = Field(default=30, ge=1)  # first retry within this; doubles each time
    notify_retry_backoff_max: int = Field(default=3600, ge=1)
    # a finished job whose notifications are still unplanned this long after is sent again (the outbox)
    notify_outbox_after_seconds: int = Field(default=120, ge=1)
    notify_webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    # webhooks to loopback, private and link-local addresses are refused unless this is on (tests, one-machine setups)
    notify_webhook_allow_private: bool = False
    # e-mail over SMTP; no SMTP_HOST: e-mail deliveries fail with "not configured"
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: SecretStr | None = None
    smtp_password_file: Path | None = None
    smtp_starttls: bool = True
    smtp_from: str = "Timón Pet Store <no-reply@localhost>"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # SMS through a provider speaking Twilio's Messages API; no SMS_ACCOUNT_SID: SMS deliveries fail with "not configured"
    sms_api_url: str = "https://api.twilio.com"
    sms_account_sid: str = ""
    sms_auth_token: SecretStr | None = None
    sms_auth_token_file: Path | None = None
    sms_from: str = ""
    sms_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # telemetry (common/telemetry): log lines as text for people (make up) or JSON lines (compose);
    # GET /metrics on every service answers loopback clients, and others with this bearer token;
    # a worker with WORKER_METRICS_PORT serves its children's metrics (PROMETHEUS_MULTIPROC_DIR) there
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    metrics_token: SecretStr | None = None
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    worker_metrics_host: str = "127.0.0.1"

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return value

    @model_validator(mode="after")
    def _embedded_database_under_var(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'timon.db'}"
        return self

    @field_validator("jwt_secret")
    @classmethod
    def _strong_jwt_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        secret = value.get_secret_value() if value is not None else ""
        if secret and info.data.get("environment") != "development" and len(secret.encode()) < MIN_JWT_SECRET_BYTES:
            raise ValueError(f"must be at least {MIN_JWT_SECRET_BYTES} bytes (or set ENVIRONMENT=development)")
        return value

    @field_validator("jwt_secret", "admin_password", "flower_password", "console_session_secret", "metrics_token")
    @classmethod
    def _no_placeholder_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None and info.data.get("environment") != "development" and _placeholder(value.get_secret_value()):
            raise ValueError("is a placeholder from an example, not a secret: leave it unset to have one generated "
                             "(or set ENVIRONMENT=development)")
        return value

    @field_validator("console_session_secret", "metrics_token")
    @classmethod
    def _long_token(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        secret = value.get_secret_value() if value is not None else ""
        if secret and info.data.get("environment") != "development" and len(secret) < MIN_TOKEN_CHARS:
            raise ValueError(f"must be at least {MIN_TOKEN_CHARS} characters (or set ENVIRONMENT=development)")
        return value

    @field_validator("flower_password")
    @classmethod
    def _flower_password_long_enough(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        password = value.get_secret_value() if value is not None else ""
        if password and info.data.get("environment") != "development" and len(password) < 10:
            raise ValueError("must be at least 10 characters (or set ENVIRONMENT=development)")
        return value

    @field_validator("admin_password")
    @classmethod
    def _admin_password_the_api_accepts(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        password = value.get_secret_value() if value is not None else ""
        if password and info.data.get("environment") != "development":
            try:
                _PASSWORD.validate_python(password)
            except ValidationError:
                raise ValueError(
                    "must be 10 to 256 characters with no NUL, as POST /users/ requires (or set ENVIRONMENT=development)"
                ) from None
        return value

    @field_validator("auth_url", "veterinaria_url", "petshop_url", "console_public_url", "sms_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("smtp_password_file", "sms_auth_token_file", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        # SMTP_PASSWORD_FILE= (compose passing an unset variable through) means no file, not the current folder
        return None if value == "" else value

    @field_validator("console_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as Europe/Madrid") from None
        return value

    @field_validator("storage_url")
    @classmethod
    def _known_storage(cls, value: str) -> str:
        from urllib.parse import urlsplit

        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme == "file":
            if not parts.path.startswith("/") or parts.netloc:
                raise ValueError("a local folder is file:///absolute/path")
            return value
        if parts.scheme != "s3":
            raise ValueError("must be empty (the local folder), file:///path or s3://bucket/prefix")
        if not _BUCKET.fullmatch(parts.netloc):
            raise ValueError("s3://bucket/prefix needs a bucket name of 3 to 63 lowercase letters, digits, dots or hyphens")
        if parts.query or parts.fragment:
            raise ValueError("s3://bucket/prefix takes no ?query or #fragment")
        return value

    @field_validator("s3_endpoint_url")
    @classmethod
    def _endpoint_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value or None

    @model_validator(mode="after")
    def _s3_credentials_in_pairs(self) -> Settings:
        key = self.s3_access_key_id is not None or self.s3_access_key_id_file is not None
        secret = self.s3_secret_access_key is not None or self.s3_secret_access_key_file is not None
        if key != secret:
            raise ValueError("S3_ACCESS_KEY_ID(_FILE) and S3_SECRET_ACCESS_KEY(_FILE) go together: set both or neither")
        return self

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("celery_task_serializer", "celery_result_serializer")
    @classmethod
    def _json_only(cls, value: str) -> str:
        # tasks take ids and JSON values; pickle would let a broker writer run code in the worker
        if value != "json":
            raise ValueError("only 'json' is supported")
        return value

    @property
    def smtp_password_value(self) -> str:
        """SMTP_PASSWORD, or the contents of SMTP_PASSWORD_FILE (docker secrets); empty when neither is set."""
        return _secret_value(self.smtp_password, self.smtp_password_file)

    @property
    def sms_auth_token_value(self) -> str:
        """SMS_AUTH_TOKEN, or the contents of SMS_AUTH_TOKEN_FILE; empty when neither is set."""
        return _secret_value(self.sms_auth_token, self.sms_auth_token_file)

    @property
    def files_dir(self) -> Path:
        return self.storage_dir or self.var_dir / "files"

    @property
    def secrets_dir(self) -> Path:
        return self.var_dir / "secrets"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def max_body_bytes(self) -> int:
        return self.max_body_mb * 1024 * 1024

    @property
    def file_memory_budget_bytes(self) -> int:
        """What reading one file may add to a worker child's baseline, in bytes."""
        return (self.worker_peak_memory_mb - WORKER_BASELINE_MB) * 1000 * 1000

    @property
    def visibility_timeout(self) -> int:
        """Seconds Redis waits before redelivering an unacked message: longer than any job's wait plus run."""
        return self.broker_visibility_timeout or self.max_queue_wait_seconds + self.task_time_limit + 60

    @property
    def stale_queued_seconds(self) -> int:
        return self.job_stale_queued_seconds or self.visibility_timeout + 60

    @property
    def stale_processing_seconds(self) -> int:
        return self.job_stale_processing_seconds or self.visibility_timeout + 60


def _secret_value(value: SecretStr | None, path: Path | None) -> str:
    if value is not None and value.get_secret_value():
        return value.get_secret_value()
    return path.read_text().strip() if path is not None else ""


def load_settings(cls: type[SettingsT] = Settings) -> SettingsT:  # type: ignore[assignment]
    """Read settings, or exit with one line per bad variable (no traceback)."""
    try:
        return cls()
    except ValidationError as exc:
        problems = "; ".join(
            f"{str(err['loc'][0]).upper() if err['loc'] else 'SETTINGS'}: {err['msg']}" for err in exc.errors()
        )
        raise SystemExit(f"timon: bad configuration: {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use (workers, beat, CLI tools)."""
    return load_settings(Settings)
