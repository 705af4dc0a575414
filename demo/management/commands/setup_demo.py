"""Register the demo booking server as a source (DEMO on, the default), or remove it (DEMO=0)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from demo.server import DEMO_PORT
from demo.services import demo_base_url, demo_source_remove, demo_source_setup


class Command(BaseCommand):
    help = (
        "With DEMO on (the default), register the local demo booking server as a source scraped every "
        "minute; with DEMO=0, delete that source and the slots it provided. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port", type=int, default=DEMO_PORT, help=f"Port of the demo server (default {DEMO_PORT})."
        )
        parser.add_argument(
            "--is-enabled",
            action="store_true",
            help="Change nothing; print 1 and exit with status 0 when DEMO is on, print 0 and exit with "
            "status 1 when it is off (for the Makefile).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["is_enabled"]:
            self.stdout.write("1" if settings.DEMO else "0")
            if not settings.DEMO:
                raise SystemExit(1)
            return
        if settings.DEMO:
            source = demo_source_setup(base_url=demo_base_url(options["port"]))
            self.stdout.write(
                f"Demo source #{source.pk} registered: {source.base_url}, scraped every "
                f"{source.interval_minutes} minute(s). Set DEMO=0 to remove it."
            )
        else:
            deleted = demo_source_remove()
            self.stdout.write(f"DEMO is off: demo source removed ({deleted} demo slots deleted).")
