from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from alerts.services import alerts_match


class Command(BaseCommand):
    help = "Queue the emails of the alerts with new slots at these town halls (what the worker does after a run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("town_hall_ids", nargs="+", type=int, metavar="TOWN_HALL_ID")

    def handle(self, *args: object, town_hall_ids: list[int], **options: object) -> None:
        summary = alerts_match(town_hall_ids=town_hall_ids)
        self.stdout.write(
            f"{summary.town_halls} town halls, {summary.candidates} candidate alerts, "
            f"{summary.matched} with news, {summary.queued} emails queued"
        )
