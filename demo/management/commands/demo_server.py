"""Serve the demo booking server: the ANTS editor API for about fifty real town halls, generated slots."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from demo.generator import demo_town_halls_select
from demo.server import DEMO_PORT, DEMO_TOKEN, DemoServer, DemoSite


class Command(BaseCommand):
    help = (
        "Serve the local demo booking server (ANTS editor API) with generated slots for about fifty real "
        "town halls read from the commune data at start."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port", type=int, default=DEMO_PORT, help=f"Port to listen on (default {DEMO_PORT})."
        )
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument(
            "--public-url",
            default="",
            help="Base URL written in the booking links (default http://HOST:PORT).",
        )
        parser.add_argument("--token", default=DEMO_TOKEN, help="Expected X-HUB-RDV-AUTH-TOKEN value.")
        parser.add_argument(
            "--latency", type=float, default=0.0, help="Seconds to wait before each answer (default 0)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        town_halls = demo_town_halls_select()
        connection.close()  # the server never reads the database again
        if not town_halls:
            self.stderr.write(
                "No commune with a town-hall point and an address: the demo serves no town hall. "
                "Run `python manage.py import_communes` first, then restart the demo server."
            )
        try:
            server = DemoServer(
                (options["host"], options["port"]),
                sites={"": DemoSite(town_halls=town_halls, token=options["token"])},
                latency=max(0.0, options["latency"]),
                public_url=options["public_url"],
            )
        except OSError as exc:
            raise CommandError(f"Cannot listen on {options['host']}:{options['port']}: {exc}") from exc
        self.stdout.write(
            f"Demo booking server on {server.url}/ serving {len(town_halls)} town halls "
            f"(header X-HUB-RDV-AUTH-TOKEN: {options['token']}). Ctrl-C stops it."
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
