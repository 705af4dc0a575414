"""Celery tasks of operations: thin wrappers around ops' services."""

from __future__ import annotations

from celery import shared_task

from ops.health import heartbeat_record


@shared_task(name="ops.heartbeat", ignore_result=True)
def heartbeat() -> str:
    """Every minute (django-celery-beat): record that beat, the broker and a worker are working."""
    return heartbeat_record().isoformat()
