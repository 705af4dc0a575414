"""Benchmarks of the scrapers: ingestion throughput beside a plain COPY, and one full scrape cycle.

Run with `make bench` (or `.venv/bin/python bench/ingest.py --help`). It never touches real data: it works in
its own PostgreSQL database, `rdvpasseport_bench` on the server of DATABASE_URL (or BENCH_DATABASE_URL),
created and migrated here and emptied at each run, and in its own Redis database (BENCH_REDIS_URL, default
redis://127.0.0.1:6379/15) for the Celery broker and the per-host limiter.

1. Ingestion: N slots over M town halls through scrapers.ingest.source_ingest (first run: all new; steady
   state: the same slots again with 5 % changed), beside a plain COPY of the same rows into a table of the
   same shape (same columns and indexes), and into one with the slot table's foreign keys too, in the same
   run. Target: ingestion >= 25 % of COPY's rate.
2. Scrape cycle: S sources of kind "ants", each with 1 or 2 meeting points, each served on its own loopback
   address (127.1.x.y: one host per editor, as in production, so the per-host limiter and polite delay apply
   exactly as they would) by the demo server answering after 100 ms. Driven the production way: the
   dispatcher (scrapers.services.sources_dispatch) enqueues one task per source and a real Celery worker,
   started with the pool and concurrency the settings ship, runs them. A warm-up cycle discovers the meeting
   points first; the measured cycle is the steady state (slots only). Target: <= 60 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from common import (
    ROOT,
    cpu_seconds,
    database_create,
    database_url_for,
    environment_configure,
    ingest_once,
    postgres_cpu_seconds,
)

BENCH_DATABASE = "rdvpasseport_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
INGEST_TARGET = 0.25
CYCLE_TARGET_SECONDS = 60.0


# --- Environment: a database and a Redis database of the bench's own -------------------------------------


def bench_database_url() -> str:
    return database_url_for(BENCH_DATABASE, explicit_variable="BENCH_DATABASE_URL")


def tables_empty() -> None:
    from django.db import connection

    if connection.settings_dict["NAME"] != BENCH_DATABASE and not os.environ.get("BENCH_DATABASE_URL"):
        raise SystemExit(f"Refusing to empty {connection.settings_dict['NAME']}: not the bench database")
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE slots_slot, scrapers_meetingpoint, scrapers_scraperun, scrapers_source, slots_townhall "
            "RESTART IDENTITY CASCADE"
        )


def redis_clean(url: str) -> None:
    """Forget the bench's queue and limiter keys (only those: the Redis database may be shared)."""
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter("rdvpasseport:throttle:*")) + [b"celery", b"unacked", b"unacked_index"]
    if keys:
        client.delete(*keys)


# --- 1. Ingestion throughput ------------------------------------------------------------------------------


def slots_generate(meeting_point_ids: list[str], per_town_hall: int, *, shift: int = 0) -> list:
    """Slots as a connector returns them: weekdays 9:00-16:40 every 20 minutes, one reason each.

    `shift` moves the window by that many slots: the first ones are gone (booked), new ones appear.
    """
    from communes.france import PARIS
    from scrapers.connectors.base import SlotData
    from slots.reasons import REASONS

    first_day = dt.date.today() + dt.timedelta(days=2)
    slots = []
    for mp_id in meeting_point_ids:
        for n in range(shift, shift + per_town_hall):
            day, cell = divmod(n, 24)
            date = first_day + dt.timedelta(days=day + 2 * (day // 5))  # skip weekends, roughly
            starts_at = dt.datetime.combine(date, dt.time(9, 0), tzinfo=PARIS) + dt.timedelta(
                minutes=20 * cell
            )
            reason = REASONS[n % 3]
            slots.append(
                SlotData(
                    meeting_point_id=mp_id,
                    starts_at=starts_at,
                    reason=reason,
                    people_max=1 + n % 3,  # a kept slot keeps its capacity, as in real life
                    booking_url=(
                        f"https://rdv.editeur.example/mairie-{mp_id}/reserver?creneau="
                        f"{starts_at:%Y-%m-%dT%H:%M}&motif={reason}"
                    ),
                )
            )
    return slots


def copy_once(rows: list[tuple], *, foreign_keys: bool) -> float:
    """Seconds to COPY `rows` into a new table of the slot table's shape, and commit.

    Same columns, defaults, checks and indexes (LIKE ... INCLUDING ALL); with `foreign_keys`, the slot table's
    foreign keys too (LIKE leaves them out), checked for every row as they are for the ingestion's.
    """
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_baseline")
        cursor.execute("CREATE TABLE bench_copy_baseline (LIKE slots_slot INCLUDING ALL)")
        if foreign_keys:
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = 'slots_slot'::regclass AND contype = 'f'"
            )
            for (definition,) in cursor.fetchall():
                cursor.execute(f"ALTER TABLE bench_copy_baseline ADD {definition}")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        columns = "source_id, town_hall_id, starts_at, reason, people_max, booking_url, first_seen"
        with cursor.cursor.copy(f"COPY bench_copy_baseline ({columns}) FROM STDIN") as copy:
            copy.set_types(["int8", "int8", "timestamptz", "varchar", "int2", "varchar", "timestamptz"])
            for row in rows:
                copy.write_row(row)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy_baseline")
    return elapsed


def bench_ingest(*, slot_count: int, town_hall_count: int, repeat: int) -> dict[str, float]:
    from django.utils import timezone

    from scrapers.connectors.base import MeetingPointData
    from scrapers.ingest import meeting_points_upsert
    from scrapers.models import MeetingPoint, Source
    from slots.models import Slot

    print(f"\n1. Ingestion: {slot_count:,} slots over {town_hall_count:,} town halls")
    tables_empty()
    source = Source.objects.create(name="bench-ingest", kind="ants", base_url="https://editeur.example/api")
    ids = [f"mp{n:05d}" for n in range(town_hall_count)]
    rng = random.Random(1)
    meeting_points_upsert(
        source=source,
        meeting_points=[
            MeetingPointData(
                external_id=mp_id,
                name=f"Mairie {mp_id}",
                address=f"{n} place de la Mairie",
                postcode="",
                city=f"Commune {n}",
                lat=45 + rng.random() * 4,
                lon=2 + rng.random() * 4,
            )
            for n, mp_id in enumerate(ids)
        ],
        now=timezone.now(),
    )
    town_hall_of = dict(MeetingPoint.objects.filter(source=source).values_list("external_id", "town_hall_id"))
    per_town_hall = max(1, slot_count // town_hall_count)
    slots = slots_generate(ids, per_town_hall)
    changed = slots_generate(ids, per_town_hall, shift=max(1, per_town_hall // 20))  # 5 % move on
    now = timezone.now()
    rows = [
        (
            source.pk,
            town_hall_of[s.meeting_point_id],
            s.starts_at,
            s.reason,
            s.people_max,
            s.booking_url,
            now,
        )
        for s in slots
    ]

    copy_times, copy_fk_times, cold_times, warm_times = [], [], [], []
    for _ in range(repeat):
        copy_times.append(copy_once(rows, foreign_keys=False))
        copy_fk_times.append(copy_once(rows, foreign_keys=True))
        Slot.objects.all().delete()
        elapsed, run = ingest_once(source, slots, ids)
        cold_times.append(elapsed)
        assert run.slots_new == len(slots), (run.slots_new, len(slots))
        elapsed, run = ingest_once(source, changed, ids)
        warm_times.append(elapsed)
    kept, new, removed = run.slots_kept, run.slots_new, run.slots_removed

    n = len(slots)
    copy_rate = n / min(copy_times)
    copy_fk_rate = n / min(copy_fk_times)
    cold_rate = n / min(cold_times)
    warm_rate = len(changed) / min(warm_times)
    print(
        f"   plain COPY into a table of the same shape : {copy_rate:>10,.0f} slots/s"
        f"  ({min(copy_times):.2f} s; its columns and indexes)"
    )
    print(
        f"   COPY with the slot table's foreign keys   : {copy_fk_rate:>10,.0f} slots/s"
        f"  ({min(copy_fk_times):.2f} s; every row checked against its source and town hall)"
    )
    print(
        f"   source_ingest, all new                    : {cold_rate:>10,.0f} slots/s"
        f"  ({min(cold_times):.2f} s)"
        f"  = {cold_rate / copy_rate:.0%} of COPY, {cold_rate / copy_fk_rate:.0%} of COPY with foreign keys"
    )
    print(
        f"   source_ingest, steady state               : {warm_rate:>10,.0f} slots/s"
        f"  ({min(warm_times):.2f} s)"
        f"  = {warm_rate / copy_rate:.0%} of COPY, {warm_rate / copy_fk_rate:.0%} of COPY with foreign keys"
        f"  ({kept:,} kept, {new:,} new, {removed:,} removed)"
    )
    for label, baseline in (("COPY", copy_rate), ("COPY with foreign keys", copy_fk_rate)):
        worst = min(cold_rate, warm_rate) / baseline
        verdict = "met" if worst >= INGEST_TARGET else "MISSED"
        print(
            f"   target: ingestion >= {INGEST_TARGET:.0%} of {label} -> {verdict} (worst case {worst:.0%});"
            f" best of {repeat}"
        )
    return {"copy": copy_rate, "copy_fk": copy_fk_rate, "cold": cold_rate, "warm": warm_rate}


# --- 2. Scrape cycle ------------------------------------------------------------------------------------


def loopback_address(n: int) -> str:
    return f"127.1.{n // 250}.{n % 250 + 1}"


class LoopbackListeners:
    """Feed connections made to many loopback addresses into one demo server (one host per editor)."""

    def __init__(self, server: Any, addresses: list[str]) -> None:
        self.server = server
        self.selector = selectors.DefaultSelector()
        self.sockets = []
        port = server.server_address[1]
        for address in addresses:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((address, port))
            sock.listen(64)
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ)
            self.sockets.append(sock)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="bench-listeners", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            for key, _ in self.selector.select(timeout=0.2):
                try:
                    conn, peer = key.fileobj.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(True)
                self.server.process_request(conn, peer)  # one thread per connection, as the server does

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=2)
        for sock in self.sockets:
            self.selector.unregister(sock)
            sock.close()


def sources_create(*, count: int, port: int, max_documents: int) -> dict[str, Any]:
    from demo.generator import DemoTownHall
    from demo.server import DemoSite
    from scrapers.models import Source

    sites = {}
    sources = []
    rng = random.Random(2)
    for n in range(count):
        prefix = f"/e{n:04d}"
        town_halls = [
            DemoTownHall(
                id=f"{n}-{k}",
                name=f"Mairie de Benchville {n}-{k}",
                longitude=round(2 + rng.random() * 4, 5),
                latitude=round(45 + rng.random() * 4, 5),
                public_entry_address=f"{k + 1} place de la Mairie, 99{n % 1000:03d} BENCHVILLE",
                zip_code=f"99{n % 1000:03d}",
                city_name=f"BENCHVILLE {n}",
            )
            for k in range(1 + n % 2)
        ]
        sites[prefix] = DemoSite(town_halls=town_halls, token=f"token-{n}")
        sources.append(
            Source(
                name=f"bench-source-{n:04d}",
                kind="ants",
                base_url=f"http://{loopback_address(n)}:{port}{prefix}",
                token=f"token-{n}",
                interval_minutes=1,
                max_documents=max_documents,
            )
        )
    Source.objects.bulk_create(sources)
    return sites


def worker_start(log_path: Path, extra_env: dict[str, str], *, name: str = "bench") -> subprocess.Popen:
    env = {**os.environ, **extra_env}
    command = [
        str(ROOT / ".venv/bin/celery"),
        "-A",
        "rdvpasseport",
        "worker",
        "--loglevel=INFO",
        "-n",
        f"{name}@%h",
    ]
    log = log_path.open("w")
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def workers_wait_ready(processes: list[subprocess.Popen], timeout: float = 60) -> None:
    from rdvpasseport.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes):
            raise SystemExit("A Celery worker exited at start-up: see var/bench-worker*.log")
        if len(app.control.ping(timeout=1.0)) >= len(processes):
            return
    raise SystemExit("The Celery worker did not answer within a minute: see var/bench-worker.log")


def worker_stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def cycle_run(*, count: int, timeout: float, worker_pids: list[int]) -> tuple[float, dict[str, int]]:
    """Dispatch every source at once and wait until each has finished one run; seconds and statuses."""
    from django.db.models import Count, Q, Sum

    from scrapers.models import ScrapeRun, Source
    from scrapers.tasks import sources_dispatch

    Source.objects.update(next_run_at=None, claimed_until=None)
    before = ScrapeRun.objects.count()
    started_at = dt.datetime.now(dt.UTC)
    cpu_worker, cpu_bench = sum(map(cpu_seconds, worker_pids)), cpu_seconds(os.getpid())
    cpu_database = postgres_cpu_seconds()
    summary_before = summary_seconds()
    started = time.perf_counter()
    dispatched = sources_dispatch.apply().get()
    if len(dispatched) != count:
        raise SystemExit(f"dispatched {len(dispatched)} sources instead of {count}")
    finished = 0
    while time.perf_counter() - started < timeout:
        finished = ScrapeRun.objects.filter(started_at__gte=started_at, finished_at__isnull=False).count()
        if finished >= count:
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    cpu_worker = sum(map(cpu_seconds, worker_pids)) - cpu_worker
    cpu_bench = cpu_seconds(os.getpid()) - cpu_bench
    cpu_database = postgres_cpu_seconds() - cpu_database
    runs = ScrapeRun.objects.filter(started_at__gte=started_at)
    stats: dict[str, int] = dict(
        runs.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    totals = runs.aggregate(
        calls=Sum("http_calls"),
        new=Sum("slots_new"),
        kept=Sum("slots_kept"),
        bytes=Sum("bytes_received"),
        # Runs that added and removed nothing: unless a kept slot's capacity or link changed (not recorded),
        # they leave the cached searches around their town halls in place.
        unchanged=Count("pk", filter=Q(status="success", slots_new=0, slots_removed=0)),
    )
    stats.update({k: int(v or 0) for k, v in totals.items()})
    stats["finished"] = finished
    stats["cpu_worker"] = int(cpu_worker)
    stats["cpu_server"] = int(cpu_bench)
    stats["cpu_database"] = int(cpu_database)
    summary_after = summary_seconds()
    if summary_before is not None and summary_after is not None:
        stats["summary_ms"] = int((summary_after - summary_before) * 1000)
    stats["runs_before"] = before
    durations = [
        r.duration.total_seconds() for r in runs.exclude(finished_at=None).only("started_at", "finished_at")
    ]
    if durations:
        stats["median_run_ms"] = int(statistics.median(durations) * 1000)
    return elapsed, stats


def summary_seconds() -> float | None:
    """Seconds spent so far in the triggers keeping slots_slotday (PostgreSQL's function statistics, which
    bench_cycle turns on for the bench database); None when they are off."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT current_setting('track_functions'), coalesce(sum(total_time), 0)"
            " FROM pg_stat_user_functions WHERE funcname LIKE 'slots_slotday_%%ed'"
        )
        setting, total = cursor.fetchone()
    return None if setting == "none" else total / 1000


def bench_cycle(
    *,
    source_count: int,
    latency: float,
    max_documents: int,
    timeout: float,
    profile: bool,
    concurrency: int,
    workers: int,
) -> float:
    from django.conf import settings

    from demo.server import DemoServer
    from scrapers.models import Source

    print(
        f"\n2. Scrape cycle: {source_count:,} ants sources, 1-2 meeting points each,"
        f" {latency * 1000:.0f} ms per request"
    )
    tables_empty()
    redis_clean(os.environ["REDIS_URL"])
    from django.db import DatabaseError, connection

    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    try:
        with connection.cursor() as cursor:
            # How long the summary's triggers take (sessions opened from now on: the worker's).
            cursor.execute(f"ALTER DATABASE {name} SET track_functions = 'pl'")
            cursor.execute("SET track_functions = 'pl'")
    except DatabaseError as exc:  # not the database's owner: the figure is left out
        print(f"   (the summary triggers' time is not measured: {exc})")
    # The editors' CPU is not ours: answers are cached within a time bucket, so the server costs little.
    server = DemoServer(("127.0.0.1", 0), sites={}, latency=latency, cache_size=source_count * 8)
    port = server.server_address[1]
    server.sites = {
        prefix.rstrip("/"): site
        for prefix, site in sources_create(count=source_count, port=port, max_documents=max_documents).items()
    }
    # Not due yet: a starting worker dispatches the due sources itself, and the cycle below dispatches them all.
    Source.objects.update(next_run_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    listeners = LoopbackListeners(server, [loopback_address(n) for n in range(source_count)])
    server.start_in_thread()
    allowed = ",".join(f"{loopback_address(n)}:{port}" for n in range(source_count))
    (ROOT / "var").mkdir(exist_ok=True)
    worker_env = {"SCRAPER_ALLOWED_HOSTS": allowed, "LOG_LEVEL": "INFO"}
    if concurrency:
        worker_env["CELERY_WORKER_CONCURRENCY"] = str(concurrency)
    processes = [
        worker_start(ROOT / "var" / f"bench-worker{n or ''}.log", worker_env, name=f"bench{n}")
        for n in range(workers)
    ]
    pids = [process.pid for process in processes]
    profiler = None
    try:
        workers_wait_ready(processes)
        pool = settings.CELERY_WORKER_POOL
        shipped = "as shipped" if not concurrency and workers == 1 else "OVERRIDDEN on the command line"
        print(
            f"   {workers} worker process(es): celery pool={pool} "
            f"concurrency={concurrency or settings.CELERY_WORKER_CONCURRENCY} ({shipped}); per host: "
            f"{settings.SCRAPER_HOST_CONCURRENCY} in flight, {settings.SCRAPER_POLITE_DELAY:g} s apart; "
            f"max_documents={max_documents}"
        )
        elapsed, stats = cycle_run(count=source_count, timeout=timeout, worker_pids=pids)
        print(f"   warm-up cycle (discovers the meeting points): {elapsed:.1f} s, {_describe(stats)}")
        if profile:
            profiler = profile_start(pids[0])
        elapsed, stats = cycle_run(count=source_count, timeout=timeout, worker_pids=pids)
        verdict = "met" if elapsed <= CYCLE_TARGET_SECONDS and stats["finished"] >= source_count else "MISSED"
        print(f"   steady-state cycle (slots only)             : {elapsed:.1f} s, {_describe(stats)}")
        print(f"   target: one full cycle <= {CYCLE_TARGET_SECONDS:.0f} s on this machine -> {verdict}")
    finally:
        if profiler is not None:
            profile_stop(profiler)
        for process in processes:
            worker_stop(process)
        listeners.close()
        server.shutdown()
        server.server_close()
    return elapsed


def _describe(stats: dict[str, int]) -> str:
    statuses = ", ".join(
        f"{stats.get(s, 0)} {s}" for s in ("success", "suspicious", "failed") if stats.get(s)
    )
    return (
        f"{stats['finished']} runs finished ({statuses}; {stats['unchanged']} added and removed no slot); "
        f"{stats['calls']:,} HTTP calls, "
        f"{stats['bytes'] / 1e6:.0f} MB, {stats['new'] + stats['kept']:,} slots written, "
        f"median run {stats.get('median_run_ms', 0)} ms; CPU: worker(s) {stats['cpu_worker']} s, "
        f"PostgreSQL {stats['cpu_database']} s (summary triggers {stats.get('summary_ms', 0) / 1000:.1f} s), "
        f"demo server {stats['cpu_server']} s"
    )


def profile_start(pid: int) -> subprocess.Popen | None:
    """Sample the worker with py-spy (when installed) during the measured cycle."""
    spy = ROOT / ".venv/bin/py-spy"
    if not spy.exists():
        print("   (py-spy is not installed: `.venv/bin/pip install py-spy` to profile the worker)")
        return None
    out = ROOT / "var" / "bench-worker-profile.txt"
    print(f"   profiling the worker with py-spy into {out.relative_to(ROOT)}")
    return subprocess.Popen(
        [str(spy), "record", "--pid", str(pid), "--format", "raw", "--output", str(out), "--rate", "50"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def profile_stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slots", type=int, default=200_000, help="slots ingested (default 200,000)")
    parser.add_argument(
        "--town-halls", type=int, default=1_000, help="town halls they belong to (default 1,000)"
    )
    parser.add_argument("--repeat", type=int, default=2, help="ingestion runs, the best is kept (default 2)")
    parser.add_argument(
        "--sources", type=int, default=1_000, help="sources in the scrape cycle (default 1,000)"
    )
    parser.add_argument(
        "--latency", type=float, default=0.1, help="server latency per request, s (default 0.1)"
    )
    parser.add_argument(
        "--max-documents", type=int, default=1, help="max_documents of each source (default 1)"
    )
    parser.add_argument("--timeout", type=float, default=600, help="give up a cycle after this many seconds")
    parser.add_argument(
        "--concurrency", type=int, default=0, help="override the worker's concurrency (default: as shipped)"
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1, as shipped)")
    parser.add_argument(
        "--profile", action="store_true", help="sample the worker with py-spy during the cycle"
    )
    parser.add_argument("--only", choices=["ingest", "cycle"], help="run one benchmark only")
    args = parser.parse_args()

    database_url = bench_database_url()
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    database_create(database_url)
    environment_configure(database_url=database_url, redis_url=redis_url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(
        f"Bench database {urlparse(database_url).path.lstrip('/')}, Redis {redis_url},"
        f" {os.cpu_count()} CPU(s)"
    )
    if args.only != "cycle":
        bench_ingest(slot_count=args.slots, town_hall_count=args.town_halls, repeat=max(1, args.repeat))
    if args.only != "ingest":
        bench_cycle(
            source_count=args.sources,
            latency=args.latency,
            max_documents=args.max_documents,
            timeout=args.timeout,
            profile=args.profile,
            concurrency=args.concurrency,
            workers=max(1, args.workers),
        )
    tables_empty()
    return 0


if __name__ == "__main__":
    sys.exit(main())
