from __future__ import annotations

from django.core.management.base import BaseCommand

from alerts.services import alerts_expire


class Command(BaseCommand):
    help = "Delete unconfirmed alerts after 48 hours and end the alerts past their end (the periodic task)."

    def handle(self, *args: object, **options: object) -> None:
        summary = alerts_expire()
        self.stdout.write(
            f"{summary.pending_deleted} unconfirmed alerts deleted, {summary.ended} ended, "
            f"{summary.requeued} emails queued again"
        )
