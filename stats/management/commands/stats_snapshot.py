"""Record today's waiting-time snapshot now, in this process (what the daily task does)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from stats.services import stats_snapshot


class Command(BaseCommand):
    help = (
        "Record today's waiting times of every followed town hall and reason, and their department and "
        "whole-area figures (what the daily stats_snapshot task does). Running it again the same day "
        "replaces that day's figures."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        summary = stats_snapshot()
        self.stdout.write(
            f"Snapshot of {summary.day.isoformat()}: {summary.town_hall_rows} town-hall rows, "
            f"{summary.area_rows} department and area rows; {summary.purged} old town-hall rows deleted."
        )
