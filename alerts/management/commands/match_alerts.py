from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from alerts.services import alert_email_send, alerts_match, alerts_notify


class Command(BaseCommand):
    help = (
        "Match the alerts against the new slots of these town halls and send their emails now, in this process "
        "(what the worker's alerts_match, alerts_notify and alert_email_send tasks do after a run)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("town_hall_ids", nargs="+", type=int, metavar="TOWN_HALL_ID")

    def handle(self, *args: object, town_hall_ids: list[int], **options: object) -> None:
        batches: list[list[int]] = []
        summary = alerts_match(town_hall_ids=town_hall_ids, enqueue=batches.append)
        statuses: dict[str, int] = {}
        for batch in batches:
            for email_id in alerts_notify(alert_ids=batch, enqueue_sends=False):
                status = alert_email_send(email_id=email_id)
                statuses[status] = statuses.get(status, 0) + 1
        self.stdout.write(
            f"{summary.town_halls} town halls, {summary.candidates} candidate alerts, {summary.matched} with "
            f"news, {summary.due} due an email; emails: {statuses or 'none'}"
        )
