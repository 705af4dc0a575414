"""Celery tasks of the statistics: thin wrappers around stats.services."""

from __future__ import annotations

from celery import shared_task

from stats import services


@shared_task(ignore_result=True)
def stats_snapshot() -> dict[str, object]:
    """Daily (django-celery-beat): record today's waiting times; running it again the same day replaces them."""
    summary = services.stats_snapshot()
    return {"day": summary.day.isoformat(), "town_halls": summary.town_hall_rows, "areas": summary.area_rows}
