"""Is the service healthy? The checks behind /healthz, and what the beat heartbeat records.

Checks: the database (SELECT 1), Redis (PING on REDIS_URL), beat (age of the heartbeat), Celery workers
(a broadcast ping, cached for WORKERS_CACHE_SECONDS so /healthz stays fast) and sources (how many active
sources are failing or stale). Which failures make /healthz answer 503 is settings.HEALTHZ_CRITICAL_CHECKS
(the database by default: without it nothing is served; without Redis, workers or beat the site still serves
the last data it has, so it is only "degraded").

The heartbeat: beat sends the `ops.heartbeat` task (ops/tasks.py) every minute, as scheduled by
`manage.py setup_schedules` (ops/schedules.py), and the worker that runs it writes the time into the cache.
An old heartbeat therefore means beat, the broker or every worker is down; the workers check tells which.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from rdvpasseport.celery import app as celery_app
from rdvpasseport.redis_client import redis_client
from scrapers.models import Source, SourceHealth

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "ops:beat-heartbeat"
WORKERS_KEY = "ops:workers"
WORKERS_CACHE_SECONDS = 15

Check = dict[str, Any]


def heartbeat_record(*, now: dt.datetime | None = None) -> dt.datetime:
    """Record that beat, the broker and at least one worker are working (the heartbeat task, every minute)."""
    now = now or timezone.now()
    cache.set(HEARTBEAT_KEY, now.isoformat(), timeout=24 * 3600)
    return now


def beat_heartbeat() -> dt.datetime | None:
    try:
        raw = cache.get(HEARTBEAT_KEY)
    except Exception as exc:  # the cache is Redis: any of its errors means "unknown"
        logger.warning("Cannot read the beat heartbeat: %s", exc)
        return None
    if not raw:
        return None
    try:
        return dt.datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        return None


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": _error(exc)}
    return {"ok": True}


def check_redis() -> Check:
    url = settings.REDIS_URL
    if not url:
        return {"ok": True, "detail": "not configured (REDIS_URL unset)"}
    try:
        redis_client(url).ping()
    except (redis.RedisError, OSError) as exc:
        return {"ok": False, "error": _error(exc)}
    return {"ok": True}


def check_beat(*, now: dt.datetime) -> Check:
    heartbeat = beat_heartbeat()
    if heartbeat is None:
        return {"ok": False, "error": "no heartbeat recorded (beat or every worker down, or just started)"}
    age = (now - heartbeat).total_seconds()
    result: Check = {"ok": age <= settings.HEALTH_BEAT_MAX_AGE, "last_heartbeat": heartbeat.isoformat()}
    result["age_seconds"] = round(age)
    if not result["ok"]:
        result["error"] = f"last heartbeat {round(age)} s ago (more than {settings.HEALTH_BEAT_MAX_AGE} s)"
    return result


def _ping_workers() -> dict[str, list[str]]:
    """The workers that answer, and those whose every pool thread runs a task past the scrape deadline.

    A worker answers the broadcast from its own consumer thread even when its pool is stuck: answering alone
    does not mean it scrapes.
    """
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=1)
        inspect = celery_app.control.inspect(timeout=1, connection=conn)
        active = inspect.active() or {}
        stats = (inspect.stats() or {}) if active else {}
    return {"names": sorted(active), "stuck": stuck_workers(active, stats, now=time.time())}


def stuck_workers(active: dict[str, list[dict]], stats: dict[str, dict], *, now: float) -> list[str]:
    """Workers (from inspect().active() and .stats()) whose tasks fill the pool, each running for longer
    than SCRAPE_TIME_LIMIT: no scrape lasts that long, so those threads are lost to a hung request."""
    stuck = []
    for name, tasks in active.items():
        concurrency = (stats.get(name) or {}).get("pool", {}).get("max-concurrency")
        late = [
            task
            for task in tasks
            if task.get("time_start") and now - task["time_start"] > settings.SCRAPE_TIME_LIMIT
        ]
        if concurrency and len(late) >= concurrency:
            stuck.append(name)
    return sorted(stuck)


def check_workers() -> Check:
    cached = cache.get(WORKERS_KEY)
    if cached is not None:
        workers = cached
    else:
        try:
            workers = _ping_workers()
        except Exception as exc:
            return {"ok": False, "error": f"broker unreachable ({_error(exc)})"}
        cache.set(WORKERS_KEY, workers, timeout=WORKERS_CACHE_SECONDS)
    names, stuck = workers["names"], workers["stuck"]
    result: Check = {"ok": bool(names) and not stuck, "count": len(names), "names": names}
    if stuck:
        result["stuck"] = stuck
    if not names:
        result["error"] = "no Celery worker answered: scrapes are not running"
    elif not result["ok"]:
        result["error"] = (
            f"every pool thread of {', '.join(stuck)} has run a task for more than SCRAPE_TIME_LIMIT "
            f"({settings.SCRAPE_TIME_LIMIT} s): that worker scrapes nothing, restart it"
        )
    return result


def check_sources(*, now: dt.datetime) -> Check:
    """Active sources failing, in error or stale, by SourceQuerySet's definition (one query)."""
    failing: list[str] = []
    errors: list[str] = []
    stale: list[str] = []
    try:
        sources = list(Source.objects.active().with_health(now).values_list("name", "computed_health"))
    except Exception as exc:
        return {"ok": False, "error": _error(exc)}
    for name, health in sources:
        if health == SourceHealth.FAILING:
            failing.append(name)
        elif health == SourceHealth.ERROR:
            errors.append(name)
        elif health == SourceHealth.STALE:
            stale.append(name)
    result: Check = {
        "ok": not failing and not errors and not stale,
        "active": len(sources),
        "failing": len(failing),
        "in_error": len(errors),
        "stale": len(stale),
        # A few names help the person on call; the admin has the full list.
        "failing_names": failing[:10],
        "in_error_names": errors[:10],
        "stale_names": stale[:10],
    }
    if not result["ok"]:
        result["error"] = (
            f"{len(failing)} failing, {len(errors)} in error (last run failed) and {len(stale)} stale sources"
        )
    return result


def broker_queue_length() -> int | None:
    """Tasks waiting in the broker's default queue (LLEN of its Redis list); None if unknown.

    None when the broker is not Redis (the filesystem broker of a bare `make run`) or does not answer.
    """
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return None
    try:
        return int(redis_client(url).llen(celery_app.conf.task_default_queue))
    except (redis.RedisError, OSError) as exc:
        logger.warning("Cannot read the broker queue length: %s", exc)
        return None


def health_report(*, now: dt.datetime | None = None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of /healthz: {"status": "ok"|"degraded"|"error", "checks": {...}}."""
    now = now or timezone.now()
    checks: dict[str, Check] = {"database": check_database(), "redis": check_redis()}
    redis_down = not checks["redis"]["ok"]
    if redis_down and settings.CELERY_BROKER_URL == settings.REDIS_URL:
        # The broker is that same Redis: asking workers would only wait for a timeout.
        checks["workers"] = {"ok": False, "error": "skipped: the broker (Redis) is down"}
    else:
        checks["workers"] = check_workers()
    checks["beat"] = check_beat(now=now)
    if checks["database"]["ok"]:
        checks["sources"] = check_sources(now=now)
    else:
        checks["sources"] = {"ok": False, "error": "skipped: the database is down"}

    critical = set(settings.HEALTHZ_CRITICAL_CHECKS)
    failed = {name for name, check in checks.items() if not check["ok"]}
    if failed & critical:
        status, code = "error", 503
    elif failed:
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return code, {"status": status, "time": now.isoformat(), "checks": checks}
