"""The same search on the national hub's own code and on rdvpasseport, side by side, with the same editors.

The national hub (PyPI `hubrdvmairie`) asks every editor at each search; rdvpasseport collects them beforehand
and answers from PostgreSQL. Start the hub and its fake editors first (EDITORS editors speaking the ANTS editor
API on consecutive ports from EDITOR_PORT, token `editor-token-K` for the K-th, with the latency you want to
compare under), then run `.venv/bin/python bench/hub.py --editors 5`.

- Our side: its own database (`rdvpasseport_hub` on the server of DATABASE_URL, or HUB_DATABASE_URL) with the
  communes of Paris and the inner suburbs, one "ants" source per editor. Before the editors are collected, the
  slot tables hold 18 slots and are ANALYZEd with autovacuum off, as on a new deployment after its first small
  source: the first searches after collecting are timed as they come (the statistics trap).
- The search: from the centre of Paris, radius 30 km, the next 30 days, passport, one person; the hub's
  /api/SlotsFromPosition (front token header) against our /api/v1/search, each served by its own server. Ours
  is gunicorn with docker/gunicorn.conf.py, 2 workers of one thread, measured with the search cache off (every
  search computed) and on (the same search asked again).
- Printed: sequential median and p95 of each, throughput at CONNECTIONS clients (wrk), and the ratios.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from common import ROOT, database_create, database_name, database_url_for, environment_configure
from search import Load, _analyze, _slot_tables, autovacuum_restore, load_run, statistics_trap
from soak import free_port, server_start, server_stop, server_wait_ready

HUB_DATABASE = "rdvpasseport_hub"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
PARIS = (48.856613, 2.352222)
DEPARTMENTS = "75,92,93,94"


def sources_collect(*, editors: int, editor_port: int) -> None:
    from scrapers.models import MeetingPoint, ScrapeRun, Source
    from scrapers.services import source_scrape
    from slots.models import Slot, TownHall

    ScrapeRun.objects.all().delete()
    MeetingPoint.objects.all().delete()
    Source.objects.all().delete()
    TownHall.objects.all().delete()
    sources = [
        Source.objects.create(
            name=f"Éditeur {k}",
            kind="ants",
            base_url=f"http://127.0.0.1:{editor_port + k - 1}",
            auth_header="X-HUB-RDV-AUTH-TOKEN",
            token=f"editor-token-{k}",
            horizon_days=40,
        )
        for k in range(1, editors + 1)
    ]
    # A first small source, analysed: the statistics the large collection below starts from.
    source_scrape(source_id=sources[0].pk)
    statistics_trap()
    started = time.perf_counter()
    for source in sources:
        run = source_scrape(source_id=source.pk)
        assert run is not None and run.status == "success", (source, run and run.error)
    print(
        f"   {editors} editors collected in {time.perf_counter() - started:.1f} s:"
        f" {TownHall.objects.count()} town halls, {Slot.objects.count():,} slots"
    )


def ours_in_process(params: dict[str, object], *, count: int) -> list[float]:
    from django.test import Client

    client = Client()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get("/api/v1/search", params)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (response.status_code, response.content[:300])
    return times


def sequential(url: str, headers: dict[str, str], *, count: int) -> list[float]:
    import requests

    times = []
    with requests.Session() as session:
        for _ in range(count):
            started = time.perf_counter()
            response = session.get(url, headers=headers, timeout=120)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code, response.text[:300])
    return times


def _describe(times: list[float]) -> str:
    ordered = sorted(times)
    return f"median {statistics.median(ordered):7.1f} ms, p95 {ordered[int(len(ordered) * 0.95) - 1]:7.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--editors", type=int, default=5)
    parser.add_argument("--editor-port", type=int, default=18001)
    parser.add_argument("--hub", default="http://127.0.0.1:18000")
    parser.add_argument("--front-token", default="front-token")
    parser.add_argument("--requests", type=int, default=30, help="sequential requests of each (default 30)")
    parser.add_argument("--seconds", type=int, default=10, help="seconds of load on each (default 10)")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()

    database_url = database_url_for(HUB_DATABASE, explicit_variable="HUB_DATABASE_URL")
    redis_url = os.environ.get("HUB_REDIS_URL", DEFAULT_REDIS)
    database_create(database_url)
    environment_configure(database_url=database_url, redis_url=redis_url)
    # The fake editors listen on 127.0.0.1, which the fetch layer refuses by default.
    os.environ.update(
        SCRAPER_ALLOW_PRIVATE_ADDRESSES="1",
        GUNICORN_THREADS="1",
        ALLOWED_HOSTS="127.0.0.1,testserver",
        SECURE_SSL_REDIRECT="0",
    )

    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("import_communes", "--departments", DEPARTMENTS, verbosity=0)
    print(f"Hub comparison: database {database_name(database_url)}, {args.editors} editors, hub {args.hub}")
    sources_collect(editors=args.editors, editor_port=args.editor_port)

    today = timezone.localdate()
    end = today + dt.timedelta(days=30)
    ours = {
        "lat": PARIS[0],
        "lon": PARIS[1],
        "radius_km": 30,
        "reason": "PASSPORT",
        "documents_number": 1,
        "start_date": today.isoformat(),
        "end_date": end.isoformat(),
    }
    hub_query = {
        "longitude": PARIS[1],
        "latitude": PARIS[0],
        "radius_km": 30,
        "reason": "PASSPORT",
        "documents_number": 1,
        "start_date": today.isoformat(),
        "end_date": end.isoformat(),
    }
    hub_url = f"{args.hub}/api/SlotsFromPosition?{urlencode(hub_query)}"
    hub_headers = {"X-HUB-RDV-FRONT-AUTH-TOKEN": args.front_token}

    os.environ["SEARCH_CACHE_SECONDS"] = "0"
    from django.conf import settings

    settings.SEARCH_CACHE_SECONDS = 0
    first = ours_in_process(ours, count=10)
    print(f"   our first searches after collecting (statistics of 18 slots): {_describe(first)}")
    _analyze(_slot_tables())
    autovacuum_restore()
    steady = ours_in_process(ours, count=10)
    print(f"   the same once ANALYZEd:                                  {_describe(steady)}")

    hub_times = sequential(hub_url, hub_headers, count=args.requests)
    print(f"Sequential, {args.requests} requests each:")
    print(f"   national hub                     {_describe(hub_times)}")
    results: dict[str, tuple[list[float], Load]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        hub_load = load_run(
            args.hub,
            [f"/api/SlotsFromPosition?{urlencode(hub_query)}"],
            seconds=args.seconds,
            connections=args.connections,
            workdir=Path(tmp),
            headers=hub_headers,
        )
        for label, cache_seconds in (("computed", "0"), ("cached", "600")):
            os.environ["SEARCH_CACHE_SECONDS"] = cache_seconds
            cache.clear()
            port = free_port()
            base_url = f"http://127.0.0.1:{port}"
            process = server_start(
                port=port, workers=2, max_requests=0, log_path=ROOT / "var" / "hub-gunicorn.log"
            )
            try:
                server_wait_ready(process, base_url, workers=2)
                times = sequential(f"{base_url}/api/v1/search?{urlencode(ours)}", {}, count=args.requests)
                load = load_run(
                    base_url,
                    [f"/api/v1/search?{urlencode(ours)}"],
                    seconds=args.seconds,
                    connections=args.connections,
                    workdir=Path(tmp),
                )
            finally:
                server_stop(process)
            results[label] = (times, load)
            print(f"   rdvpasseport, {label:<8}          {_describe(times)}")
    hub_median = statistics.median(hub_times)
    print(f"Throughput, {args.connections} clients for {args.seconds} s each:")
    print(
        f"   national hub                     {hub_load.requests_per_second:8.1f} req/s ({hub_load.bad} errors)"
    )
    for label, (times, load) in results.items():
        print(
            f"   rdvpasseport, {label:<8}          {load.requests_per_second:8.1f} req/s ({load.bad} errors):"
            f" x{load.requests_per_second / hub_load.requests_per_second:.0f} the hub's throughput,"
            f" median 1/{hub_median / statistics.median(times):.0f} of the hub's"
        )
    print("   goal: >= 100x the hub's throughput and <= 1/100 of its median")
    return 0


if __name__ == "__main__":
    sys.exit(main())
