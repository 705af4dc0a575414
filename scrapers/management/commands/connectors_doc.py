"""Print, or write into README.md, the connector table generated from the kinds' Configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from scrapers.connectors.doc import connectors_table, readme_with_table


class Command(BaseCommand):
    help = "Print the connector table generated from each kind's Config; --write updates README.md."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", action="store_true", help="Rewrite the table in README.md.")
        parser.add_argument(
            "--readme", type=Path, default=Path(settings.BASE_DIR) / "README.md", help="The README to update."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["write"]:
            self.stdout.write(connectors_table())
            return
        path: Path = options["readme"]
        text = path.read_text(encoding="utf-8")
        updated = readme_with_table(text)
        if updated == text:
            self.stdout.write(f"{path} is up to date.")
            return
        path.write_text(updated, encoding="utf-8")
        self.stdout.write(f"Updated the connector table in {path}.")
