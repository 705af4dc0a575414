"""Celery tasks: thin wrappers around scrapers.services, owning the retry policy.

The worker runs a thread pool (settings CELERY_WORKER_POOL / CELERY_WORKER_CONCURRENCY). Django keeps one
database connection per thread, and Celery's Django fix-up closes the executing thread's connections
before and after every task (task_prerun / task_postrun), so no connection outlives its task.
"""

from __future__ import annotations

import datetime as dt
import logging
import random

from celery import Task, shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db import DatabaseError

from scrapers import services

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def sources_dispatch() -> list[int]:
    """Every minute (django-celery-beat): enqueue one source_scrape per due source."""
    return services.sources_dispatch(enqueue=lambda ids: sources_enqueue(source_ids=ids))


def sources_enqueue(*, source_ids: list[int]) -> None:
    """Send one scrape task per source to the broker (after commit: the sources are claimed)."""
    for source_id in source_ids:
        source_scrape.delay(source_id)


# Retries of a scrape after a database error: 5 s, 15 s, 45 s, 2 min 15 s, 5 min (about 8 minutes in all),
# each ±25 %, so that an outage of a few minutes is waited out without hammering the database.
RETRY_BASE_SECONDS = 5
RETRY_MAX_SECONDS = 300
MAX_RETRIES = 5


def retry_countdown(retries: int) -> float:
    """Seconds before retry number `retries` + 1."""
    base = min(RETRY_BASE_SECONDS * 3**retries, RETRY_MAX_SECONDS)
    return base * random.uniform(0.75, 1.25)


@shared_task(
    bind=True,
    ignore_result=True,
    soft_time_limit=settings.SCRAPE_SOFT_TIME_LIMIT,
    time_limit=settings.SCRAPE_TIME_LIMIT,
    max_retries=MAX_RETRIES,
)
def source_scrape(self: Task, source_id: int, reclaim: str | None = None) -> str:
    """Scrape one source; return the run's status ("skipped" when another worker holds the source).

    Only database hiccups are retried: a source's own failure (ConnectorError) is recorded as a failed run
    and slowed down by the circuit breaker instead.
    """
    try:
        run = services.source_scrape(
            source_id=source_id, reclaim=dt.datetime.fromisoformat(reclaim) if reclaim else None
        )
    except (services.TransientScrapeError, *services.TRANSIENT_ERRORS) as exc:
        lease = exc.lease_until.isoformat() if isinstance(exc, services.TransientScrapeError) else reclaim
        raise self.retry(
            exc=exc, countdown=retry_countdown(self.request.retries), args=(source_id, lease)
        ) from exc
    return run.status if run is not None else "skipped"


@worker_ready.connect
def runs_interrupted_close(**_: object) -> None:
    """On worker start: close the runs a killed worker left "running"."""
    try:
        closed = services.runs_interrupted_close()
    except DatabaseError as exc:
        logger.warning("Could not close interrupted runs at start-up: %s", exc)
        return
    if closed:
        logger.info("Closed %d interrupted scrape run(s)", closed)


@worker_ready.connect
def sources_dispatch_at_start(**_: object) -> None:
    """On worker start: dispatch the due sources at once rather than at beat's next tick, up to a minute
    later (a fresh `make run`'s demo source, sources that fell due while no worker ran).

    Safe with several workers starting together: the dispatch claims each source once.
    """
    try:
        ids = services.sources_dispatch(enqueue=lambda ids: sources_enqueue(source_ids=ids))
    except DatabaseError as exc:
        logger.warning("Could not dispatch the due sources at start-up: %s", exc)
        return
    if ids:
        logger.info("Dispatched %d due source(s) at start-up", len(ids))


@shared_task(ignore_result=True)
def slots_purge() -> dict[str, int]:
    """Daily: delete slots already started and old scrape runs."""
    counts = services.slots_purge()
    return {"slots": counts.slots, "runs": counts.runs}
