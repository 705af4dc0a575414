from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from alerts.services import alert_email_send, alerts_notify


class Command(BaseCommand):
    help = "Claim these alerts if their throttle allows and send their emails now (the alerts_notify task)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("alert_ids", nargs="+", type=int, metavar="ALERT_ID")

    def handle(self, *args: object, alert_ids: list[int], **options: object) -> None:
        for email_id in alerts_notify(alert_ids=alert_ids, enqueue_sends=False):
            self.stdout.write(f"Email {email_id}: {alert_email_send(email_id=email_id)}")
