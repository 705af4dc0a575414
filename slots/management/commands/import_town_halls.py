"""Import equipped town halls no source follows from a CSV file (format: docs/TOWN_HALLS.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from slots.town_hall_import import TownHallImportError, town_halls_import


class Command(BaseCommand):
    help = (
        "Create or update equipped town halls booking by phone, walk-in or a page no source reads, from a "
        "UTF-8 CSV file (comma or semicolon). Nothing is written if any line is wrong."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file (see docs/TOWN_HALLS.md).")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        try:
            report = town_halls_import(data=data)
        except TownHallImportError as exc:
            for error in exc.errors:
                self.stderr.write(f"{path}: {error}")
            raise CommandError(f"{len(exc.errors)} error(s) in {path}: nothing imported.") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.created} town hall(s) created, {report.updated} updated, "
                f"{report.unchanged} unchanged."
            )
        )
