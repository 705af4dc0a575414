"""Search at France scale: throughput and latency of the search against a trivial view of the same server.

Run with `make bench` (after bench/ingest.py) or `.venv/bin/python bench/search.py --seconds 10`. It never touches
real data: its PostgreSQL database is `rdvpasseport_search` on the server of DATABASE_URL (or
SEARCH_DATABASE_URL), kept between runs so that the communes of all France are imported once (`--fresh` drops
it); its cache lives in its own Redis database (SEARCH_REDIS_URL, default redis://127.0.0.1:6379/13).

- Data: every commune of France (`import_communes --all`), then TOWN_HALLS town halls on real town-hall points
  drawn at random (seed fixed), followed by five "ants" sources, with about SLOTS slots each over the 150 days of
  the sources' horizon (weekdays, 9:00-17:00, a capacity of 1 to 4 or unknown), written through the project's
  own ingestion (scrapers.ingest.source_ingest), summary upkeep included.
- Statistics trap: before that ingestion the slot tables hold 18 slots and are ANALYZEd, and autovacuum is off on
  them, as on a new deployment after its first small source. The first searches after the large ingestion are
  timed before any ANALYZE, then again once statistics are gathered: both must be about the same.
- Server: gunicorn with docker/gunicorn.conf.py, DEBUG=0, rate limits off, WORKERS workers of one thread each
  (default 2; GUNICORN_THREADS=1), on a free port of 127.0.0.1. Load: wrk (Debian package, installed by
  `make bench-deps`), CONNECTIONS connections for
  SECONDS seconds per target, each request drawn from origins weighted by population (searches come from where
  people live): the trivial view (/robots.txt), /api/v1/search at 20 and 50 km (30-day window, passport,
  1 person) and the HTML results page at 20 km. Printed: req/s, p50, p95, p99 and each ratio to the trivial
  view. `--scale` also runs the API at 20 km against 1 worker, to show what a second web process adds.
- Memory: the resident size of every gunicorn worker after the load, and of a Celery worker process that has
  imported the project and run one search (what a worker holds at France scale).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from common import (
    ROOT,
    children_of,
    database_create,
    database_name,
    database_url_for,
    environment_configure,
    ingest_once,
    rss_bytes,
    town_halls_on_communes,
)
from soak import free_port, server_start, server_stop, server_wait_ready

SEARCH_DATABASE = "rdvpasseport_search"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
SOURCES = 5
ORIGINS = 1_000
MB = 2**20
# What the issue asks of the search, as ratios of the trivial view's throughput.
GOALS = {"api20": 0.50, "api50": 0.35, "html20": 0.30}
LABELS = {
    "trivial": "/robots.txt (trivial)",
    "api20": "/api/v1/search 20 km",
    "api50": "/api/v1/search 50 km",
    "html20": "/recherche 20 km (HTML)",
}
P95_GOAL = 5.0

WRK_SCRIPT = r"""
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end
function init(args)
  math.randomseed(1000 + id)
end
function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


# --- The data set ---------------------------------------------------------------------------------------


def communes_import() -> None:
    from django.core.management import call_command

    from communes.models import Commune

    if Commune.objects.count() > 30_000:
        print(f"   communes: {Commune.objects.count():,} already imported")
        return
    started = time.perf_counter()
    call_command("import_communes", "--all", verbosity=0)
    print(f"   communes: {Commune.objects.count():,} imported in {time.perf_counter() - started:.0f} s")


def town_halls_create(*, count: int, seed: int) -> list[list[str]]:
    """`count` town halls on real town-hall points, split over SOURCES sources; their meeting point ids."""

    from communes.models import Commune
    from scrapers.models import Source

    rng = random.Random(seed)
    communes = list(
        Commune.objects.filter(location_source=Commune.LocationSource.TOWN_HALL)
        .prefetch_related("postal_codes")
        .order_by("insee")
    )
    chosen = rng.sample(communes, min(count, len(communes)))
    groups: list[list[str]] = []
    for index in range(SOURCES):
        part = chosen[index::SOURCES]
        source = Source.objects.create(
            name=f"bench-search-{index}", kind="ants", base_url=f"https://editeur{index}.example/api"
        )
        town_halls_on_communes(source, part)
        groups.append([commune.insee for commune in part])
    return groups


def slots_generate(meeting_point_ids: list[str], *, per_town_hall: int, seed: int) -> list:
    from django.utils import timezone

    from communes.france import PARIS
    from scrapers.connectors.base import SlotData
    from slots.reasons import REASONS

    rng = random.Random(seed)
    today = timezone.localdate()
    days = [d for d in (today + dt.timedelta(days=n) for n in range(1, 150)) if d.weekday() < 5]
    slots = []
    for insee in meeting_point_ids:
        # Some town halls are nearly full, others have room: the first slot varies from days to months.
        first = rng.randrange(len(days) // 2)
        for _ in range(per_town_hall):
            starts_at = dt.datetime.combine(
                rng.choice(days[first:]), dt.time(9), tzinfo=PARIS
            ) + dt.timedelta(minutes=15 * rng.randrange(32))
            slots.append(
                SlotData(
                    meeting_point_id=insee,
                    starts_at=starts_at,
                    reason=rng.choice(REASONS),
                    people_max=rng.choice([None, 1, 1, 2, 4]),
                    booking_url=f"https://rdv.editeur.example/{insee}/reserver?creneau={int(starts_at.timestamp())}",
                )
            )
    return slots


def statistics_trap() -> None:
    """18 slots, ANALYZEd, and no autovacuum: the statistics of a new deployment after its first small source."""
    from django.db import connection

    from slots.models import Slot

    tables = _slot_tables()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"TRUNCATE {table}")
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
    source_id, town_hall_id = Slot.source.field.related_model.objects.values_list(
        "pk", "meeting_points__town_hall"
    )[0]
    now = dt.datetime.now(dt.UTC)
    Slot.objects.bulk_create(
        Slot(
            source_id=source_id,
            town_hall_id=town_hall_id,
            starts_at=now + dt.timedelta(days=3, hours=n),
            reason="PASSPORT",
        )
        for n in range(18)
    )
    _analyze(tables)


def _slot_tables() -> list[str]:
    from django.apps import apps

    # The slot table and, when the search reads one, the summary the ingestion keeps beside it.
    names = ["slots_slot"]
    with contextlib.suppress(LookupError):
        names.append(apps.get_model("slots", "SlotDay")._meta.db_table)
    return names


def _analyze(tables: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


def autovacuum_restore() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in _slot_tables():
            cursor.execute(f"ALTER TABLE {table} RESET (autovacuum_enabled)")


def slots_bulk_insert(groups: list[list[str]], *, per_town_hall: int, seed: int) -> None:
    """The same slots, written with bulk INSERTs instead of the ingestion (for older code, see --no-trap)."""
    from django.db import connection

    from scrapers.models import MeetingPoint, Source
    from slots.models import Slot

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE slots_slot")
    started, total = time.perf_counter(), 0
    for index, ids in enumerate(groups):
        source = Source.objects.get(name=f"bench-search-{index}")
        town_hall_of = dict(
            MeetingPoint.objects.filter(source=source).values_list("external_id", "town_hall_id")
        )
        merged = {}
        for slot in slots_generate(ids, per_town_hall=per_town_hall, seed=seed + index):
            merged[(town_hall_of[slot.meeting_point_id], slot.starts_at, slot.reason)] = slot
        Slot.objects.bulk_create(
            (
                Slot(
                    source=source,
                    town_hall_id=town_hall_id,
                    starts_at=starts_at,
                    reason=reason,
                    people_max=slot.people_max,
                    booking_url=slot.booking_url,
                )
                for (town_hall_id, starts_at, reason), slot in merged.items()
            ),
            batch_size=5_000,
        )
        total += len(merged)
    print(f"   {total:,} slots written with bulk INSERTs in {time.perf_counter() - started:.1f} s")


def slots_ingest(groups: list[list[str]], *, per_town_hall: int, seed: int) -> None:
    from scrapers.models import Source

    total, seconds = 0, 0.0
    for index, ids in enumerate(groups):
        source = Source.objects.get(name=f"bench-search-{index}")
        slots = slots_generate(ids, per_town_hall=per_town_hall, seed=seed + index)
        elapsed, run = ingest_once(source, slots, ids)
        assert run.status == "success", (run.status, run.error)
        total += run.slots_new + run.slots_kept
        seconds += elapsed
    print(f"   {total:,} slots ingested through scrapers.ingest.source_ingest in {seconds:.1f} s")


# --- Origins and targets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    insee: str
    lat: float
    lon: float


def origins_draw(*, count: int, seed: int) -> list[Origin]:
    """Commune points drawn with a probability following their population."""
    from communes.models import Commune

    rows = list(
        Commune.objects.exclude(lat=None)
        .exclude(population=None)
        .filter(population__gt=0)
        .values_list("insee", "lat", "lon", "population")
        .order_by("insee")
    )
    rng = random.Random(seed)
    picked = rng.choices(rows, weights=[row[3] for row in rows], k=count)
    return [Origin(insee, lat, lon) for insee, lat, lon, _ in picked]


def target_paths(origins: list[Origin]) -> dict[str, list[str]]:
    from django.utils import timezone

    today = timezone.localdate()
    end = today + dt.timedelta(days=30)

    def api(origin: Origin, radius: int) -> str:
        query = {
            "lat": f"{origin.lat:.5f}",
            "lon": f"{origin.lon:.5f}",
            "radius_km": radius,
            "reason": "PASSPORT",
            "documents_number": 1,
            "start_date": today.isoformat(),
            "end_date": end.isoformat(),
        }
        return "/api/v1/search?" + urlencode(query)

    def html(origin: Origin) -> str:
        query = {
            "insee": origin.insee,
            "rayon": 20,
            "motif": "passeport",
            "personnes": 1,
            "avant": end.isoformat(),
        }
        return "/recherche?" + urlencode(query)

    return {
        "trivial": ["/robots.txt"],
        "api20": [api(origin, 20) for origin in origins],
        "api50": [api(origin, 50) for origin in origins],
        "html20": [html(origin) for origin in origins],
    }


# --- Timing in process: the statistics trap --------------------------------------------------------------


def search_once(origin: Origin) -> None:
    """The search every in-process timing and plan is made of: 20 km, passport, the next 30 days."""
    from django.utils import timezone

    from slots.search import town_halls_search

    today = timezone.localdate()
    town_halls_search(
        lat=origin.lat,
        lon=origin.lon,
        radius_km=20,
        reason="PASSPORT",
        start_date=today,
        end_date=today + dt.timedelta(days=30),
    )


def searches_time(origins: list[Origin], *, label: str) -> float:
    """Median milliseconds of the search function over the origins, in this process."""
    times = []
    for origin in origins:
        started = time.perf_counter()
        search_once(origin)
        times.append((time.perf_counter() - started) * 1000)
    median = statistics.median(times)
    print(f"   {label}: median {median:.1f} ms, max {max(times):.1f} ms over {len(times)} searches")
    return median


def search_plan(origin: Origin, path: Path) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every query one API search sends, written to `path`."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        search_once(origin)
    lines = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            lines.append(query["sql"])
            lines.extend(row[0] for row in cursor.fetchall())
            lines.append("")
    path.write_text("\n".join(lines))


# --- Load -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    bad: int


def load_run(
    base_url: str,
    paths: list[str],
    *,
    seconds: int,
    connections: int,
    workdir: Path,
    headers: dict[str, str] | None = None,
) -> Load:
    paths_file = workdir / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    script = workdir / "search.lua"
    script.write_text(WRK_SCRIPT)
    completed = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            *(argument for name, value in (headers or {}).items() for argument in ("-H", f"{name}: {value}")),
            base_url,
        ],
        env={**os.environ, "WRK_PATHS": str(paths_file)},
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in completed.stdout.splitlines() if line.startswith("RESULT "))
    requests, duration_us, p50, p95, p99, status_errors, socket_errors = (int(v) for v in line.split()[1:])
    return Load(
        requests_per_second=requests / (duration_us / 1e6),
        p50_ms=p50 / 1000,
        p95_ms=p95 / 1000,
        p99_ms=p99 / 1000,
        bad=status_errors + socket_errors,
    )


def _print_load(name: str, load: Load, trivial: Load | None) -> None:
    ratio = ""
    if trivial is not None:
        ratio = (
            f"  {load.requests_per_second / trivial.requests_per_second:6.1%} of trivial,"
            f" p95 x{load.p95_ms / max(trivial.p95_ms, 0.001):.1f}"
        )
    bad = f"  ({load.bad} errors!)" if load.bad else ""
    print(
        f"   {name:<24} {load.requests_per_second:7.0f} req/s  p50 {load.p50_ms:6.1f} ms"
        f"  p95 {load.p95_ms:6.1f} ms  p99 {load.p99_ms:6.1f} ms{ratio}{bad}"
    )


def cache_fill(base_url: str, paths: list[str], *, connections: int) -> float:
    """Ask every distinct path once (the cache's steady state for these searches); the seconds it took."""
    import requests

    distinct = sorted(set(paths))
    started = time.perf_counter()

    def ask(chunk: list[str]) -> None:
        with requests.Session() as session:
            for path in chunk:
                session.get(base_url + path, timeout=60)

    threads = [threading.Thread(target=ask, args=(distinct[n::connections],)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def server_run(
    *,
    workers: int,
    targets: dict[str, list[str]],
    names: list[str],
    seconds: int,
    connections: int,
    workdir: Path,
    cached: bool,
) -> tuple[dict[str, Load], list[int]]:
    """Each target's load against a fresh server; `cached`: with the search cache on and filled first."""
    from django.core.cache import cache

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    os.environ["SEARCH_CACHE_SECONDS"] = "600" if cached else "0"
    cache.clear()
    process = server_start(
        port=port, workers=workers, max_requests=0, log_path=ROOT / "var" / "search-gunicorn.log"
    )
    try:
        server_wait_ready(process, base_url, workers=workers)
        # Warm-up: each worker imports its templates and opens its connections before it is measured.
        load_run(
            base_url,
            targets["html20"][:50] + targets["api20"][:50],
            seconds=2,
            connections=connections,
            workdir=workdir,
        )
        if cached:
            paths = [path for name in names if name != "trivial" for path in targets[name]]
            took = cache_fill(base_url, paths, connections=connections)
            print(f"   cache filled with {len(set(paths)):,} distinct searches in {took:.0f} s")
        loads = {}
        for name in names:
            loads[name] = load_run(
                base_url, targets[name], seconds=seconds, connections=connections, workdir=workdir
            )
        memory = [rss_bytes(pid) or 0 for pid in children_of(process.pid)]
    finally:
        server_stop(process)
    return loads, memory


def loads_report(loads: dict[str, Load], names: list[str]) -> None:
    trivial = loads["trivial"]
    for name in names:
        _print_load(LABELS[name], loads[name], None if name == "trivial" else trivial)
    for name, goal in GOALS.items():
        if name not in loads:
            continue
        ratio = loads[name].requests_per_second / trivial.requests_per_second
        p95 = loads[name].p95_ms / max(trivial.p95_ms, 0.001)
        verdict = "met" if ratio >= goal and p95 <= P95_GOAL else "NOT met"
        print(f"   goal {LABELS[name]}: >= {goal:.0%} of trivial, p95 <= {P95_GOAL:.0f}x -> {verdict}")


def celery_worker_memory(redis_url: str) -> int | None:
    """Resident size of a Celery worker's child after it imported the project and ran a search."""
    code = (
        "import os, django, datetime as dt; django.setup();"
        "from rdvpasseport.celery import app;"
        "from slots.search import town_halls_search;"
        "town_halls_search(lat=48.86, lon=2.35, radius_km=50, reason='PASSPORT');"
        "print(open('/proc/self/status').read())"
    )
    completed = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-c", code], cwd=ROOT, capture_output=True, text=True, env=os.environ
    )
    for line in completed.stdout.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    print(completed.stderr[-2000:])
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--town-halls", type=int, default=5_000, help="town halls (default 5,000)")
    parser.add_argument("--slots", type=int, default=200, help="slots per town hall (default 200)")
    parser.add_argument("--seconds", type=int, default=15, help="seconds of load per target (default 15)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--scale", action="store_true", help="also measure the API at 20 km with 1 worker")
    parser.add_argument("--fresh", action="store_true", help="drop the bench database first (communes again)")
    parser.add_argument(
        "--no-trap",
        action="store_true",
        help="skip the statistics trap: write the slots with bulk INSERTs and ANALYZE before timing (for older"
        " code, whose first large ingestion into a new table stalls for many minutes)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the town halls and slots of the last run (no statistics trap)",
    )
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    database_url = database_url_for(SEARCH_DATABASE, explicit_variable="SEARCH_DATABASE_URL")
    redis_url = os.environ.get("SEARCH_REDIS_URL", DEFAULT_REDIS)
    database_create(database_url, fresh=args.fresh)
    environment_configure(database_url=database_url, redis_url=redis_url)
    # One thread per worker: the sync workers of the figures this benchmark is compared with.
    os.environ.setdefault("GUNICORN_THREADS", "1")

    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command

    from scrapers.models import MeetingPoint, ScrapeRun, Source
    from slots.models import Slot, TownHall

    call_command("migrate", verbosity=0)
    # The production static storage answers 500 for a page naming a file it has no manifest entry for.
    call_command("collectstatic", interactive=False, verbosity=0)
    print(
        f"Search benchmark: database {database_name(database_url)}, Redis {redis_url}, {os.cpu_count()} CPU(s)"
    )
    (ROOT / "var").mkdir(exist_ok=True)
    communes_import()
    origins = origins_draw(count=ORIGINS, seed=args.seed)
    sample = origins[:40]
    if args.reuse and TownHall.objects.count() == args.town_halls:
        print(
            f"   reusing the {TownHall.objects.count():,} town halls and {Slot.objects.count():,} slots in place"
        )
    else:
        ScrapeRun.objects.all().delete()
        MeetingPoint.objects.all().delete()
        Source.objects.all().delete()
        TownHall.objects.all().delete()
        groups = town_halls_create(count=args.town_halls, seed=args.seed)
        print(f"   {sum(map(len, groups)):,} town halls on town-hall points, {SOURCES} sources")
    if args.reuse:
        pass
    elif args.no_trap:
        slots_bulk_insert(groups, per_town_hall=args.slots, seed=args.seed)
        _analyze(_slot_tables())
        cache.clear()
        searches_time(sample, label="searches in process, statistics gathered")
        search_plan(sample[0], ROOT / "var" / "search-plan.txt")
    else:
        statistics_trap()
        slots_ingest(groups, per_town_hall=args.slots, seed=args.seed)
        cache.clear()
        print("Statistics trap (in process, API-shaped search at 20 km, 30 days):")
        first = searches_time(sample, label="first searches, statistics from 18 slots")
        search_plan(sample[0], ROOT / "var" / "search-plan-stale.txt")
        _analyze(_slot_tables())
        autovacuum_restore()
        steady = searches_time(sample, label="after ANALYZE                          ")
        search_plan(sample[0], ROOT / "var" / "search-plan.txt")
        print(
            f"   ratio first/steady: {first / steady:.2f} (plans: var/search-plan-stale.txt, var/search-plan.txt)"
        )

    targets = target_paths(origins)
    names = ["trivial", "api20", "api50", "html20"]
    common = {"targets": targets, "seconds": args.seconds, "connections": args.connections}
    print(
        f"Load: gunicorn {args.workers} workers of one thread, wrk {args.connections} connections,"
        f" {args.seconds} s per target, {len(origins):,} origins drawn by population"
        f" ({len(set(targets['api20'])):,} distinct)."
    )
    loads: dict[str, Load] = {}
    with tempfile.TemporaryDirectory() as tmp:
        print("Every search computed (SEARCH_CACHE_SECONDS=0): the cost of a search nobody asked before")
        cold, memory = server_run(
            workers=args.workers, names=names, workdir=Path(tmp), cached=False, **common
        )
        loads_report(cold, names)
        print("   web workers' resident memory: " + ", ".join(f"{m / MB:.0f} MB" for m in memory))
        print("Searches asked before, kept in the cache until their area's data changes")
        warm, memory = server_run(workers=args.workers, names=names, workdir=Path(tmp), cached=True, **common)
        loads_report(warm, names)
        print("   web workers' resident memory: " + ", ".join(f"{m / MB:.0f} MB" for m in memory))
        loads = {**{f"cold-{k}": v for k, v in cold.items()}, **{f"warm-{k}": v for k, v in warm.items()}}
        if args.scale:
            print("Scaling out: 1 web worker against", args.workers)
            for cached in (False, True):
                one, _ = server_run(
                    workers=1, names=["trivial", "api20"], workdir=Path(tmp), cached=cached, **common
                )
                label = "cached" if cached else "computed"
                _print_load("1 worker: trivial", one["trivial"], None)
                _print_load(f"1 worker: API 20 km {label}", one["api20"], one["trivial"])
                many = (warm if cached else cold)["api20"].requests_per_second
                print(
                    f"   API 20 km {label}: {args.workers} workers give"
                    f" x{many / one['api20'].requests_per_second:.2f} the throughput of 1"
                )
    rss = celery_worker_memory(redis_url)
    if rss:
        print(f"   a Celery worker process after a 50 km search: {rss / MB:.0f} MB resident")
    failed = sum(load.bad for load in loads.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
