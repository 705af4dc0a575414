# syntax=docker/dockerfile:1
# One image for every role: `web` (gunicorn, the default), `worker` (Celery worker), `beat` (Celery beat),
# `migrate` (migrations, commune import, default schedules), `manage <command>`. See docs/OPERATIONS.md.

ARG PYTHON_VERSION=3.11

# ---- builder: dependencies in a virtualenv, compiled translations, collected static files ----
FROM python:${PYTHON_VERSION}-slim-bookworm AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

# A compiler for any dependency without a wheel for this platform, gettext for compilemessages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential gettext \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv && pip install --upgrade pip

WORKDIR /src
# Dependencies first, from pyproject.toml alone: this layer is rebuilt only when they change.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

COPY . .
# Build-time only values: nothing here is a secret, nothing is connected to.
ENV BUILD_ENV="DEBUG=0 SECRET_KEY=build-only-not-a-secret DATABASE_URL=sqlite:////tmp/build.sqlite3 REDIS_URL= CELERY_BROKER_URL=memory://"
RUN if [ -d locale ]; then env $BUILD_ENV python manage.py compilemessages; fi \
    && env $BUILD_ENV python manage.py collectstatic --noinput \
    && rm -rf var /tmp/build.sqlite3

# ---- runtime: the virtualenv and the code, no compiler, a non-root user ----
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=rdvpasseport.settings.base \
    PORT=8000

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# The code stays owned by root (read-only for the app user); only var/ is writable.
COPY --from=builder /src /app
RUN mkdir -p /app/var && chown app:app /app/var && chmod 0755 /app/docker/entrypoint.sh

USER app
EXPOSE 8000

# The web role's check; docker-compose.yml gives the worker and beat roles their own.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py", "web"]

ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
