# The one Python image: auth, veterinaria, petshop, the web console, the Celery worker, beat and Flower.
# `docker compose up -d` builds it; every service picks its process with `command:`.
FROM python:3.11-slim-bookworm

# Tesseract language data only: the tesserocr wheel bundles the engine. Spanish, English and
# orientation, plus the languages a foreign page is read again in (documents/read/languages.py) and the
# Latin script's model, whose recogniser reads the letters of foreign names (documents/read/engine.py).
# --no-install-recommends keeps Debian's tesseract-ocr binary (and its X/Leptonica tail) out of the image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr-spa tesseract-ocr-eng tesseract-ocr-osd \
    tesseract-ocr-fra tesseract-ocr-deu tesseract-ocr-nld tesseract-ocr-ita tesseract-ocr-por tesseract-ocr-cat \
    tesseract-ocr-script-latn \
 && rm -rf /var/lib/apt/lists/*

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TESSDATA_PREFIX=/usr/share/tesseract-ocr/5/tessdata \
    OMP_THREAD_LIMIT=1 \
    PYTHONPATH=/app \
    VAR_DIR=/app/var \
    XDG_CACHE_HOME=/app/cache \
    REMAP_SIGTERM=SIGQUIT

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so a code change does not reinstall them.
# Only [project].dependencies: the [dev] extra is for tests.
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; open('/tmp/requirements.txt', 'w').write('\n'.join(deps) + '\n')" \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The code runs from /app (PYTHONPATH), not from a copy in site-packages: common.migrate finds
# alembic.ini and migrations/ next to the packages, and Flower reads flowerconfig.py from the
# working directory.
COPY alembic.ini flowerconfig.py ./
COPY migrations ./migrations
COPY common ./common
COPY auth ./auth
COPY veterinaria ./veterinaria
COPY petshop ./petshop
COPY console ./console

# Code stays root-owned and read-only to the app; only var/ (secrets, uploads, beat schedule)
# is writable. The fixed uid lets other machines give it access to shared storage (NFS).
RUN groupadd --system --gid 10001 timon \
 && useradd --system --uid 10001 --gid timon --home-dir /app --no-create-home --shell /usr/sbin/nologin timon \
 && mkdir -p /app/var/files /app/var/secrets \
 && chown -R timon:timon /app/var \
 && chmod 0700 /app/var/secrets \
 && python -m compileall -q common auth veterinaria petshop console migrations \
 && python -c "from veterinaria.app.documents.read.languages import OTHER_LANGUAGES; \
from veterinaria.app.documents.read.spelling import Speller; Speller(); \
[Speller((code, 'spa', 'eng')) for code in OTHER_LANGUAGES.values()]; \
from veterinaria.app.documents.read.engine import find_tessdata, names_model; names_model(find_tessdata())"
# ^ the OCR's word lists (documents/read/spelling.py) built into the image's /app/cache, ours and
#   those of a page read in French, Dutch… (about 7 s each), and the Latin recogniser without its
#   word list (engine.names_model): no worker builds them
USER timon

EXPOSE 8000 8001 8002 8004 5555

# REMAP_SIGTERM=SIGQUIT: `docker stop` (SIGTERM) gives running jobs WORKER_SOFT_SHUTDOWN_TIMEOUT to
# finish, then hands them back to Redis (Celery's cold shutdown), instead of waiting for the kill.
# Without a command the container is a worker for both queues (seed command), which is what
# an extra worker machine runs.
CMD ["celery", "-A", "common.celery_app", "worker", "--loglevel=info", "--queues=veterinaria,petshop"]
