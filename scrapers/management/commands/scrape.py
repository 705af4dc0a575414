"""Scrape sources now: in this process (--sync, with a summary) or by enqueueing Celery tasks."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scrapers.models import ScrapeRun, Source
from scrapers.services import source_scrape
from scrapers.tasks import sources_enqueue


class Command(BaseCommand):
    help = (
        "Scrape one source (--source ID, repeatable) or every enabled, unpaused source (--all). "
        "With --sync the scrape runs here and a summary is printed per source; otherwise one Celery "
        "task per source is enqueued for the workers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--source", type=int, action="append", metavar="ID", help="Id of a source.")
        which.add_argument("--all", action="store_true", help="Every enabled source that is not paused.")
        parser.add_argument("--sync", action="store_true", help="Scrape in this process and print a summary.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["all"]:
            sources = list(Source.objects.filter(enabled=True, paused=False).order_by("pk"))
        else:
            wanted = list(dict.fromkeys(options["source"]))
            sources = list(Source.objects.filter(pk__in=wanted).order_by("pk"))
            missing = sorted(set(wanted) - {s.pk for s in sources})
            if missing:
                raise CommandError(f"No source with id {', '.join(map(str, missing))}.")
        if not sources:
            self.stdout.write("No source to scrape.")
            return
        if not options["sync"]:
            sources_enqueue(source_ids=[s.pk for s in sources])
            ids = ", ".join(str(s.pk) for s in sources)
            self.stdout.write(f"Enqueued {len(sources)} scrape task(s): {ids}.")
            return
        failed = 0
        for source in sources:
            run = source_scrape(source_id=source.pk)
            if run is None:
                self.stdout.write(f"#{source.pk} {source.name}: skipped, another worker is scraping it.")
                continue
            self.stdout.write(self._summary(source, run))
            failed += run.status == ScrapeRun.Status.FAILED
        if failed:
            raise CommandError(f"{failed} of {len(sources)} source(s) failed.")

    def _summary(self, source: Source, run: ScrapeRun) -> str:
        duration = run.duration.total_seconds() if run.duration is not None else 0.0
        line = (
            f"#{source.pk} {source.name}: {run.status}; {run.town_halls} town hall(s); slots "
            f"{run.slots_new} new, {run.slots_kept} kept, {run.slots_removed} removed; "
            f"{run.parse_errors} parse error(s); {run.http_calls} HTTP call(s), "
            f"{run.bytes_received:,} bytes; {duration:.1f} s"
        )
        if run.error:
            line += "\n    " + run.error.replace("\n", "\n    ")
        return line
