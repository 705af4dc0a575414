"""Create a token for our ANTS editor API from the command line (the admin does the same), printed once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opendata.models import ApiToken
from opendata.services import api_token_create


class Command(BaseCommand):
    help = "Create a token for the ANTS editor API (/ants/): printed once, stored hashed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Who uses it, e.g. 'Portail national ANTS (production)'.")

    def handle(self, *args: Any, name: str, **options: Any) -> None:
        name = name.strip()
        if not name or len(name) > ApiToken._meta.get_field("name").max_length:
            raise CommandError("The name must be 1 to 100 characters long.")
        if ApiToken.objects.filter(name=name).exists():
            raise CommandError(
                f"A token named {name!r} exists already: revoke it in the admin or pick another name."
            )
        token, clear = api_token_create(name=name)
        self.stderr.write(f"Token {token.name!r} created ({token.prefix}…). It is shown this once:")
        # Alone on stdout, so that a script can capture it.
        self.stdout.write(clear)
