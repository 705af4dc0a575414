from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from alerts.services import alert_email_send


class Command(BaseCommand):
    help = "Send one queued alert email now, by its id (what the worker's alert_email_send task does)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email_id", type=int)

    def handle(self, *args: object, email_id: int, **options: object) -> None:
        self.stdout.write(f"Email {email_id}: {alert_email_send(email_id=email_id)}")
