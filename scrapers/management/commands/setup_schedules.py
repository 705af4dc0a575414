"""Create or update the periodic tasks in the database (django-celery-beat): safe to run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from scrapers.services import schedules_setup


class Command(BaseCommand):
    help = (
        "Create or update the default periodic tasks (django-celery-beat): dispatch due sources every "
        "minute, purge past slots and old scrape runs daily. An operator's enabled/disabled choice is kept."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for task, created in schedules_setup():
            verb = "Created" if created else "Updated"
            state = "enabled" if task.enabled else "disabled"
            self.stdout.write(f"{verb} periodic task {task.name!r} ({task.task}, {state}).")
