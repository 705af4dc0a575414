"""Container health checks, one per role: `python docker/healthcheck.py web|worker|beat`. Exit 0 when healthy.

- web: GET /healthz on this container's gunicorn; healthy on 200 (database and Redis answer). Sent with the
  first ALLOWED_HOSTS name as Host, so Django accepts it; /healthz is exempt from the HTTPS redirect.
- worker: this container's Celery worker answers a ping through the broker.
- beat: beat sent the every-minute heartbeat recently, as recorded in django-celery-beat's table (beat saves
  last_run_at every few minutes, hence the generous limit).
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.error
import urllib.request

BEAT_MAX_AGE_SECONDS = int(os.environ.get("HEALTHCHECK_BEAT_MAX_AGE", "420"))


def _host_header() -> str:
    for host in os.environ.get("ALLOWED_HOSTS", "localhost").split(","):
        host = host.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def check_web() -> bool:
    url = os.environ.get("HEALTHCHECK_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz")
    request = urllib.request.Request(url, headers={"Host": _host_header(), "User-Agent": "healthcheck"})
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310 (fixed local URL)
            return response.status == 200
    except urllib.error.HTTPError as exc:
        print(f"/healthz answered {exc.code}: {exc.read(500).decode(errors='replace')}", file=sys.stderr)
    except OSError as exc:
        print(f"/healthz unreachable: {exc}", file=sys.stderr)
    return False


def check_worker() -> bool:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rdvpasseport.settings.base")
    from rdvpasseport.celery import app

    node = os.environ.get("CELERY_NODE_NAME", f"celery@{socket.gethostname()}")
    replies = app.control.inspect(destination=[node], timeout=5).ping() or {}
    if node not in replies:
        print(f"Celery worker {node} did not answer a ping", file=sys.stderr)
        return False
    return True


def check_beat() -> bool:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rdvpasseport.settings.base")
    import django

    django.setup()
    from django.utils import timezone
    from django_celery_beat.models import PeriodicTask

    # The row `manage.py setup_schedules` creates (ops/schedules.py), found by its task name.
    last_run = PeriodicTask.objects.filter(task="ops.heartbeat").values_list("last_run_at", flat=True).first()
    if last_run is None:
        print("beat has not sent the ops.heartbeat task yet (did the migrate role run?)", file=sys.stderr)
        return False
    age = (timezone.now() - last_run).total_seconds()
    if age > BEAT_MAX_AGE_SECONDS:
        print(f"beat last sent ops.heartbeat {age:.0f} s ago", file=sys.stderr)
        return False
    return True


CHECKS = {"web": check_web, "worker": check_worker, "beat": check_beat}


def main(argv: list[str]) -> int:
    role = argv[1] if len(argv) > 1 else "web"
    if role not in CHECKS:
        print(f"Unknown role {role!r}: one of {', '.join(CHECKS)}", file=sys.stderr)
        return 2
    try:
        return 0 if CHECKS[role]() else 1
    except Exception as exc:  # a health check reports, it never crashes with a traceback
        print(f"{role} health check failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
