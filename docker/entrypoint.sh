#!/bin/sh
# Entry point of the image: the first argument names the role (docs/OPERATIONS.md, "Processes").
set -eu

role="${1:-web}"
[ "$#" -gt 0 ] && shift

case "$role" in
    web)
        exec gunicorn --config /app/docker/gunicorn.conf.py "$@" rdvpasseport.wsgi
        ;;
    worker)
        # Pool and concurrency come from CELERY_WORKER_POOL / CELERY_WORKER_CONCURRENCY.
        exec celery --app rdvpasseport worker --loglevel "${LOG_LEVEL:-INFO}" "$@"
        ;;
    beat)
        # Exactly one beat for the whole deployment: two would send every scheduled task twice.
        exec celery --app rdvpasseport beat --loglevel "${LOG_LEVEL:-INFO}" "$@"
        ;;
    migrate)
        # Safe to run on every deployment: each step does nothing when already done.
        python manage.py migrate --noinput
        python manage.py import_communes
        exec python manage.py setup_schedules
        ;;
    manage)
        exec python manage.py "$@"
        ;;
    *)
        exec "$role" "$@"
        ;;
esac
