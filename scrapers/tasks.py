"""Celery tasks: thin wrappers around scrapers.services, owning the retry policy.

The worker runs a thread pool (settings CELERY_WORKER_POOL / CELERY_WORKER_CONCURRENCY). Django keeps one
database connection per thread, and Celery's Django fix-up closes the executing thread's connections
before and after every task (task_prerun / task_postrun), so no connection outlives its task.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from scrapers import services


@shared_task(ignore_result=True)
def sources_dispatch() -> list[int]:
    """Every minute (django-celery-beat): enqueue one source_scrape per due source."""
    return services.sources_dispatch()


@shared_task(
    ignore_result=True,
    soft_time_limit=settings.SCRAPE_SOFT_TIME_LIMIT,
    time_limit=settings.SCRAPE_TIME_LIMIT,
    # Only database hiccups are retried: a source's own failure (ConnectorError) is recorded as a failed
    # run and slowed down by the circuit breaker instead.
    autoretry_for=services.TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=3,
)
def source_scrape(source_id: int) -> str:
    """Scrape one source; return the run's status ("skipped" when another worker holds the source)."""
    run = services.source_scrape(source_id=source_id)
    return run.status if run is not None else "skipped"


@shared_task(ignore_result=True)
def slots_purge() -> dict[str, int]:
    """Daily: delete slots already started and old scrape runs."""
    counts = services.slots_purge()
    return {"slots": counts.slots, "runs": counts.runs}
