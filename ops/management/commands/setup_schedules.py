"""Create or update the periodic tasks in the database (django-celery-beat): safe to run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ops.schedules import schedules_setup


class Command(BaseCommand):
    help = (
        "Create or update the default periodic tasks (django-celery-beat): dispatch due sources and record "
        "the beat heartbeat every minute, purge past slots and old scrape runs daily, record the waiting-time "
        "statistics every morning; delete the periodic "
        "tasks of retired task names. An operator's enabled/disabled choice is kept."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        summary = schedules_setup()
        for task in summary.removed:
            self.stdout.write(
                f"Removed periodic task {task.name!r} ({task.task}): that task no longer exists."
            )
        for task, created in summary.tasks:
            verb = "Created" if created else "Updated"
            state = "enabled" if task.enabled else "disabled"
            self.stdout.write(f"{verb} periodic task {task.name!r} ({task.task}, {state}).")
