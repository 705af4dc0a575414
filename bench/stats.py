"""Benchmarks of the statistics: the daily snapshot at France scale, the cost the lifetime histogram adds to the
ingestion's DELETE, and the statistics page's time with a year of history.

Run with `.venv/bin/python bench/stats.py` (`--help` for the sizes). It works in its own PostgreSQL database,
`rdvpasseport_bench_stats` on the server of DATABASE_URL (or BENCH_DATABASE_URL), dropped and created afresh.

1. Snapshot: T followed town halls over 16 departments, each with S slots per reason spread over 150 days;
   stats_snapshot timed on its first run and on a second run the same day (the upsert path).
2. Ingestion: one source of M town halls × N slots; steady-state runs where 10 % of the upcoming slots vanish,
   timed with the lifetime CTE and with it replaced by an empty CTE (same statement otherwise).
3. Page: /statistiques with 365 days of figures for the area and 16 departments, and a week of lifetimes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time

from common import database_create, database_url_for, environment_configure

BENCH_DATABASE = "rdvpasseport_bench_stats"
DEPARTMENTS = ["01", "07", "26", "38", "42", "69", "73", "74", "75", "77", "78", "91", "92", "93", "94", "95"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--town-halls", type=int, default=2700)
    parser.add_argument("--slots-per-reason", type=int, default=60)
    parser.add_argument("--ingest-town-halls", type=int, default=100)
    parser.add_argument(
        "--ingest-slots", type=int, default=300, help="slots per town hall in the ingestion test"
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    url = database_url_for(BENCH_DATABASE, explicit_variable="BENCH_DATABASE_URL")
    database_create(url, fresh=True)
    environment_configure(database_url=url, redis_url="")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    snapshot_bench(args)
    ingest_bench(args)
    page_bench()


def _town_halls(count: int, *, prefix: str) -> list:
    from django.utils import timezone

    from communes.models import Commune, Department
    from slots.models import TownHall

    for code in DEPARTMENTS:
        Department.objects.get_or_create(code=code, defaults={"name": f"Département {code}", "region": "R"})
    communes = Commune.objects.bulk_create(
        [
            Commune(
                insee=f"{prefix}{i:04d}",
                name=f"Commune {prefix}{i}",
                search_name=f"commune {prefix}{i}",
                department_id=DEPARTMENTS[i % len(DEPARTMENTS)],
            )
            for i in range(count)
        ]
    )
    now = timezone.now()
    return TownHall.objects.bulk_create(
        [
            TownHall(
                name=f"Mairie {commune.insee}",
                commune=commune,
                lat=45.0,
                lon=5.0,
                online_booking=True,
                checked_at=now,
                stale_at=now + dt.timedelta(days=2),
            )
            for commune in communes
        ],
        batch_size=2000,
    )


def _copy_slots(source_id: int, rows: list[tuple]) -> None:
    from django.db import connection

    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            "COPY slots_slot (source_id, town_hall_id, starts_at, reason, people_max, booking_url, first_seen)"
            " FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row((source_id, *row))


def snapshot_bench(args: argparse.Namespace) -> None:
    from django.utils import timezone

    from scrapers.models import Source
    from stats.services import stats_snapshot

    town_halls = _town_halls(args.town_halls, prefix="9")
    source = Source.objects.create(name="Bench", kind="csv", base_url="https://bench.example/")
    now = timezone.now()
    rng = random.Random(1)
    rows = []
    for town_hall in town_halls:
        for reason in ("CNI", "PASSPORT", "CNI-PASSPORT"):
            starts = {
                now + dt.timedelta(minutes=rng.randrange(60, 150 * 24 * 60))
                for _ in range(args.slots_per_reason)
            }
            for start in starts:
                rows.append((town_hall.pk, start, reason, rng.choice([None, 1, 4]), "", now))
    _copy_slots(source.pk, rows)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE slots_slot")
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        summary = stats_snapshot()
        timings.append(time.perf_counter() - started)
    print(
        f"Snapshot: {len(town_halls)} town halls, {len(rows)} upcoming slots -> {summary.town_hall_rows} town-hall "
        f"rows, {summary.area_rows} area rows: first run {timings[0]:.2f} s, second run (upsert) {timings[1]:.2f} s"
    )


def ingest_bench(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.utils import timezone

    import scrapers.ingest as ingest
    from scrapers.models import MeetingPoint, ScrapeRun, Source
    from slots.models import Slot

    town_halls = _town_halls(args.ingest_town_halls, prefix="8")
    source = Source.objects.create(name="Bench ingest", kind="csv", base_url="https://bench-ingest.example/")
    MeetingPoint.objects.bulk_create(
        [MeetingPoint(source=source, external_id=str(th.pk), town_hall=th) for th in town_halls]
    )
    rng = random.Random(2)
    now = timezone.now()
    base = [
        (th.pk, now + dt.timedelta(days=1, minutes=15 * i), "PASSPORT", 1, "")
        for th in town_halls
        for i in range(args.ingest_slots)
    ]
    original = ingest.lifetimes_cte
    results: dict[str, list[float]] = {"with the lifetime CTE": [], "without it": []}
    for attempt in range(args.repeat * 2):
        label = "with the lifetime CTE" if attempt % 2 == 0 else "without it"
        ingest.lifetimes_cte = (
            original if attempt % 2 == 0 else (lambda *, deleted, now: ("stats_lifetimes AS (SELECT 1)", []))
        )
        Slot.objects.filter(source=source).delete()
        _copy_slots(source.pk, [(*row, now) for row in base])
        kept = [row for row in base if rng.random() >= 0.10]  # 10 % vanish
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE slots_slot")
        with ingest.transaction.atomic():
            started = time.perf_counter()
            counts = ingest.slots_replace(
                source_id=source.pk,
                town_hall_ids={th.pk for th in town_halls},
                rows=kept,
                now=now + dt.timedelta(minutes=5),
            )
            results[label].append(time.perf_counter() - started)
    ingest.lifetimes_cte = original
    ScrapeRun.objects.all().delete()
    summary = ", ".join(
        f"{label} {statistics.median(values) * 1000:.0f} ms" for label, values in results.items()
    )
    print(
        f"Ingestion of {len(base)} slots over {len(town_halls)} town halls, about {counts.removed_upcoming} vanishing "
        f"(median of {args.repeat}): {summary}"
    )


def page_bench() -> None:
    from django.conf import settings
    from django.test import RequestFactory, override_settings
    from django.utils import timezone

    from stats.models import AreaDay, SlotLifetime
    from stats.views import statistics as statistics_view

    today = timezone.localdate()
    AreaDay.objects.all().delete()
    SlotLifetime.objects.all().delete()
    AreaDay.objects.bulk_create(
        [
            AreaDay(
                day=today - dt.timedelta(days=offset),
                scope=scope,
                reason=reason,
                town_halls=100,
                fresh_town_halls=95,
                median_days=12.5,
                p90_days=40.0,
                within_7_days=20,
                within_30_days=60,
                slots_week=900,
            )
            for offset in range(365)
            for scope in ["", *DEPARTMENTS]
            for reason in ("CNI", "PASSPORT", "CNI-PASSPORT")
        ],
        batch_size=5000,
    )
    SlotLifetime.objects.bulk_create(
        [
            SlotLifetime(day=today - dt.timedelta(days=offset), department_code=code, bucket=bucket, count=10)
            for offset in range(7)
            for code in DEPARTMENTS
            for bucket in range(14)
        ]
    )
    request = RequestFactory().get("/statistiques")
    timings = []
    # The static files are not collected here: plain URLs instead of the manifest's hashed names.
    plain = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STORAGES={**settings.STORAGES, **plain}):
        for _ in range(10):
            started = time.perf_counter()
            response = statistics_view(request)
            timings.append(time.perf_counter() - started)
    print(
        f"/statistiques with 365 days × 17 scopes × 3 reasons of figures: "
        f"median {statistics.median(timings) * 1000:.0f} ms ({len(response.content) // 1024} KiB)"
    )


if __name__ == "__main__":
    sys.exit(main())
