"""Create or update booking sources from a YAML file (see scrapers/sources.example.yaml)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser

from scrapers.services import SourceFileError, sources_load


class Command(BaseCommand):
    help = (
        "Create or update booking sources, matched by name, from a YAML file with a top-level "
        '"sources" list (see scrapers/sources.example.yaml). Nothing is written if any entry is invalid.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="YAML file of sources.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CommandError(f"{path}: no such file.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: cannot read the file: {exc}") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            where = ""
            mark = getattr(exc, "problem_mark", None)
            if mark is not None:
                where = f" at line {mark.line + 1}, column {mark.column + 1}"
            problem = getattr(exc, "problem", None) or str(exc)
            raise CommandError(f"{path}: not valid YAML{where}: {problem}.") from None
        try:
            summary = sources_load(data=data, environ=dict(os.environ))
        except SourceFileError as exc:
            raise CommandError(f"{path}: nothing loaded:\n{exc}") from None
        for label, names in (
            ("Created", summary.created),
            ("Updated", summary.updated),
            ("Unchanged", summary.unchanged),
        ):
            if names:
                self.stdout.write(f"{label} {len(names)} source(s): {', '.join(names)}")
