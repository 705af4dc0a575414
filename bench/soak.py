"""Soak test of the web role: 20 clients of mixed traffic for 10 minutes against gunicorn as the image runs it.

Run with `make bench` (after bench/ingest.py; `SOAK_SECONDS=60 make bench` for a short one) or
`.venv/bin/python bench/soak.py --seconds 60`. It never touches real data: it creates its own PostgreSQL
database, `rdvpasseport_soak` on the server of DATABASE_URL (or SOAK_DATABASE_URL), and drops it at the end; its
cache lives in its own Redis database (SOAK_REDIS_URL, default redis://127.0.0.1:6379/14).

- Data: the default departments' communes (`import_communes`), the most populous communes' town halls on their
  town-hall points (one "ants" source, through scrapers.ingest like a real scrape) with slots over the next
  weeks, a fifth of them without any.
- Server: gunicorn with docker/gunicorn.conf.py, DEBUG=0, 2 workers, on a free port of 127.0.0.1. Worker
  recycling (max_requests) is off unless --max-requests says otherwise: it would hide the leak looked for.
- Traffic: the home page; the search by postcode, name, INSEE code and position with varied radius, reason,
  people, dates and sort, as full pages and as htmx fragments; the autocomplete; town-hall, commune and
  department pages; the JSON API; /healthz; bad inputs, which must answer 4xx.
- Verdicts: zero 5xx, zero unanswered requests and no unexpected status (else the exit status is 1); every
  gunicorn worker's resident memory flat between the first and the last minute (growth under 10 % and under
  20 MB: printed, not part of the exit status, as memory on a shared machine is noisier than a status code).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

from common import (
    ROOT,
    children_of,
    database_create,
    database_drop,
    database_name,
    database_url_for,
    environment_configure,
    ingest_once,
    rss_bytes,
    town_halls_on_communes,
)

SOAK_DATABASE = "rdvpasseport_soak"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
MEMORY_GROWTH_RATIO = 0.10
MEMORY_GROWTH_BYTES = 20 * 2**20
MB = 2**20
# Requests per hundred of each kind: roughly what citizens do (search, refine, look at a town hall).
TRAFFIC_MIX = {
    "home": 8,
    "search_postcode": 11,
    "search_name": 9,
    "search_insee": 6,
    "search_position": 6,
    "search_htmx": 12,
    "autocomplete": 14,
    "town_hall": 9,
    "commune": 6,
    "department": 3,
    "departments": 1,
    "api_search": 6,
    "api_communes": 5,
    "healthz": 1,
    "bad_input": 3,
}


# --- The data set ---------------------------------------------------------------------------------------


def dataset_create(*, town_hall_count: int, seed: int) -> None:
    """Town halls on the most populous communes' town-hall points, and their slots, through the ingestion."""
    from django.utils import timezone

    from communes.france import PARIS
    from communes.models import Commune
    from scrapers.connectors.base import SlotData
    from scrapers.models import Source
    from slots.reasons import REASONS

    rng = random.Random(seed)
    communes = list(
        Commune.objects.filter(location_source=Commune.LocationSource.TOWN_HALL)
        .exclude(population=None)
        .prefetch_related("postal_codes")
        .order_by("-population")[:town_hall_count]
    )
    source = Source.objects.create(name="soak", kind="ants", base_url="https://editeur.example/api")
    town_halls_on_communes(source, communes)
    # Slots on weekdays of the next eight weeks, every quarter of an hour from 9:00 to 17:00.
    today = timezone.localdate()
    days = [d for d in (today + dt.timedelta(days=n) for n in range(1, 57)) if d.weekday() < 5]
    slots = []
    for commune in communes:
        if rng.random() < 0.2:
            continue  # a town hall without any slot: the page's second list and its widenings
        for _ in range(rng.randint(5, 120)):
            starts_at = dt.datetime.combine(rng.choice(days), dt.time(9), tzinfo=PARIS) + dt.timedelta(
                minutes=15 * rng.randrange(32)
            )
            slots.append(
                SlotData(
                    meeting_point_id=commune.insee,
                    starts_at=starts_at,
                    reason=rng.choice(REASONS),
                    people_max=rng.choice([None, 1, 1, 2, 3, 4]),
                    booking_url=f"https://rdv.editeur.example/{commune.insee}/reserver?creneau={int(starts_at.timestamp())}",
                )
            )
    _, run = ingest_once(source, slots, [commune.insee for commune in communes])
    print(f"   {len(communes)} town halls, {run.slots_new:,} slots (through scrapers.ingest.source_ingest)")


@dataclasses.dataclass(frozen=True)
class Targets:
    """What the clients ask about, read from the soak database before the server starts."""

    town_halls: list[tuple[int, float, float]]  # pk, lat, lon
    communes: list[tuple[str, str]]  # insee, name
    postcodes: list[str]
    departments: list[str]


def targets_load() -> Targets:
    from communes.models import Commune, Department, PostalCode
    from slots.models import TownHall

    town_halls = list(TownHall.objects.active().values_list("pk", "lat", "lon"))
    # Half of the names searched have a town hall nearby, the others are anywhere in the departments.
    near = list(Commune.objects.filter(town_halls__isnull=False).values_list("insee", "name"))
    anywhere = list(Commune.objects.located().order_by("?").values_list("insee", "name")[: len(near)])
    return Targets(
        town_halls=town_halls,
        communes=near + anywhere,
        postcodes=list(PostalCode.objects.values_list("code", flat=True)),
        departments=list(Department.objects.values_list("code", flat=True)),
    )


# --- The traffic ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Call:
    kind: str
    method: str
    path: str
    params: dict[str, str]
    expected: frozenset[int]
    htmx: bool = False


OK = frozenset({200})


def _search_options(rng: random.Random, today: dt.date) -> dict[str, str]:
    """A citizen's choices on the search form; each left out now and then, as a first visit does."""
    options = {
        "motif": rng.choice(["passeport", "cni", "cni-passeport", ""]),
        "personnes": rng.choice(["1", "1", "2", "3", "4", "6", ""]),
        "rayon": rng.choice(["5", "10", "20", "20", "30", "50", ""]),
        "tri": rng.choice(["tot", "tot", "proche", "compromis"]),
    }
    if rng.random() < 0.3:
        options["avant"] = (today + dt.timedelta(days=rng.randint(0, 150))).isoformat()
    if rng.random() < 0.1:
        options["nombre"] = str(rng.choice([60, 90]))  # "Afficher plus"
    return {name: value for name, value in options.items() if value}


def _name_typed(rng: random.Random, name: str) -> str:
    """A commune's name as people type it: as written, lower-case, or without accents and hyphens."""
    from unidecode import unidecode

    return rng.choice([name, name.lower(), unidecode(name).replace("-", " ")])


def call_choose(rng: random.Random, targets: Targets, *, today: dt.date) -> Call:
    kind = rng.choices(list(TRAFFIC_MIX), weights=list(TRAFFIC_MIX.values()))[0]
    insee, name = rng.choice(targets.communes)
    pk, lat, lon = rng.choice(targets.town_halls)
    if kind == "home":
        return Call(kind, "GET", "/", {}, OK)
    if kind == "search_postcode":
        return Call(
            kind, "GET", "/recherche", {"q": rng.choice(targets.postcodes), **_search_options(rng, today)}, OK
        )
    if kind == "search_name":
        return Call(
            kind, "GET", "/recherche", {"q": _name_typed(rng, name), **_search_options(rng, today)}, OK
        )
    if kind == "search_insee":  # the autocomplete filled the hidden field
        return Call(kind, "GET", "/recherche", {"q": name, "insee": insee, **_search_options(rng, today)}, OK)
    if kind == "search_position":
        position = {
            "lat": f"{lat + rng.uniform(-0.05, 0.05):.5f}",
            "lon": f"{lon + rng.uniform(-0.05, 0.05):.5f}",
        }
        return Call(kind, "GET", "/recherche", {**position, **_search_options(rng, today)}, OK)
    if kind == "search_htmx":  # the form refined in place, or "Afficher plus"
        place = rng.choice([{"q": rng.choice(targets.postcodes)}, {"q": name, "insee": insee}])
        return Call(kind, "GET", "/recherche", {**place, **_search_options(rng, today)}, OK, htmx=True)
    if kind == "autocomplete":
        typed = rng.choice([_name_typed(rng, name)[: rng.randint(2, 8)], rng.choice(targets.postcodes)[:3]])
        return Call(kind, "GET", "/autocomplete", {"q": typed}, OK, htmx=True)
    if kind == "town_hall":
        params = {"motif": rng.choice(["cni", "passeport", "cni-passeport"])} if rng.random() < 0.5 else {}
        return Call(kind, "GET", f"/mairie/{pk}", params, OK)
    if kind == "commune":
        return Call(kind, "GET", f"/commune/{insee}", {}, OK)
    if kind == "department":
        return Call(kind, "GET", f"/departement/{rng.choice(targets.departments)}", {}, OK)
    if kind == "departments":
        return Call(kind, "GET", "/departements", {}, OK)
    if kind == "api_search":
        return Call(kind, "GET", "/api/v1/search", _api_search_params(rng, targets, today=today), OK)
    if kind == "api_communes":
        params = {"q": _name_typed(rng, name)[: rng.randint(2, 10)], "limit": str(rng.randint(1, 20))}
        return Call(kind, "GET", "/api/v1/communes", params, OK)
    if kind == "healthz":
        return Call(kind, "GET", "/healthz", {}, OK)
    return rng.choice(BAD_CALLS)


def _api_search_params(rng: random.Random, targets: Targets, *, today: dt.date) -> dict[str, str]:
    insee, name = rng.choice(targets.communes)
    _, lat, lon = rng.choice(targets.town_halls)
    params = rng.choice(
        [
            {"q": rng.choice(targets.postcodes)},
            {"q": name},
            {"insee": insee},
            {"lat": f"{lat:.5f}", "lon": f"{lon:.5f}"},
        ]
    )
    if rng.random() < 0.7:
        params["radius_km"] = str(rng.choice([1, 5, 10, 25.5, 50, 100]))
    if rng.random() < 0.7:
        params["reason"] = rng.choice(["CNI", "PASSPORT", "CNI-PASSPORT"])
    if rng.random() < 0.5:
        params["documents_number"] = str(rng.randint(1, 6))
    if rng.random() < 0.3:
        start = today + dt.timedelta(days=rng.randint(0, 30))
        params["start_date"] = start.isoformat()
        params["end_date"] = (start + dt.timedelta(days=rng.randint(0, 90))).isoformat()
    if rng.random() < 0.5:
        params["sort"] = rng.choice(["soonest", "nearest", "compromise"])
    return params


def _bad(path: str, params: dict[str, str], *expected: int, method: str = "GET") -> Call:
    return Call("bad_input", method, path, params, frozenset(expected))


# What crawlers, old links and hand-edited URLs send: each answered by a client error, never a 5xx.
BAD_CALLS = [
    _bad("/recherche", {"q": "75001", "rayon": "7"}, 400),
    _bad("/recherche", {"lat": "200", "lon": "2"}, 400),
    _bad("/recherche", {"lat": "nan", "lon": "inf"}, 400),
    _bad("/recherche", {"q": "x" * 101}, 400),
    _bad("/recherche", {"q": "Lyon", "avant": "2000-01-01"}, 400),
    _bad("/recherche", {"q": "Lyon", "avant": "demain"}, 400),
    _bad("/recherche", {"q": "Lyon", "motif": "visa"}, 400),
    _bad("/recherche", {"q": "Lyon", "personnes": "40"}, 400),
    _bad("/recherche", {"insee": "ABCDEFG"}, 400),
    _bad("/recherche", {"q": "Ly\x00on"}, 400),
    _bad("/recherche", {"q": "Lyon"}, 403, 405, method="POST"),
    _bad("/mairie/999999999", {}, 404),
    _bad("/mairie/abc", {}, 404),
    _bad("/commune/00000", {}, 404),
    _bad("/commune/xyz", {}, 404),
    _bad("/departement/999", {}, 404),
    _bad("/api/v1/search", {}, 400),
    _bad("/api/v1/search", {"lat": "48.8"}, 400),
    _bad("/api/v1/search", {"q": "Lyon", "radius_km": "1000"}, 400),
    _bad("/api/v1/search", {"q": "Lyon", "start_date": "2024-02-30"}, 400),
    _bad("/api/v1/search", {"q": "Lyon", "start_date": "2030-01-01", "end_date": "2029-01-01"}, 400),
    _bad("/api/v1/communes", {}, 400),
    _bad("/api/v1/communes", {"q": "pa", "limit": "99"}, 400),
    _bad("/nexiste-pas", {}, 404),
    _bad("/static/nexiste-pas.js", {}, 404),
]


@dataclasses.dataclass
class Outcome:
    kind: str
    status: int  # 0: no answer (connection refused or reset, timeout)
    seconds: float
    expected: bool
    detail: str = ""


def client_run(
    *, base_url: str, targets: Targets, seed: int, stop: threading.Event, think: float, out: list[Outcome]
) -> None:
    import requests

    rng = random.Random(seed)
    today = dt.date.today()
    session = requests.Session()
    session.headers["User-Agent"] = f"rdvpasseport-soak/{seed}"
    # A few visitors read the English pages.
    session.headers["Accept-Language"] = "en" if seed % 5 == 0 else "fr-FR,fr;q=0.9"
    while not stop.is_set():
        call = call_choose(rng, targets, today=today)
        headers = {"HX-Request": "true"} if call.htmx else {}
        started = time.perf_counter()
        try:
            response = session.request(
                call.method, base_url + call.path, params=call.params, headers=headers, timeout=30
            )
            status, body = response.status_code, response.text
        except requests.RequestException as exc:
            status, body = 0, f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - started
        expected = status in call.expected and not (call.htmx and status == 200 and "<html" in body)
        detail = "" if expected else f"{call.method} {call.path} {call.params} -> {status} {body[:200]!r}"
        out.append(Outcome(call.kind, status, seconds, expected, detail))
        if think:
            stop.wait(rng.uniform(0, 2 * think))


# --- The server and its memory --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_start(*, port: int, workers: int, max_requests: int, log_path: Path) -> subprocess.Popen:
    from gunicorn.config import Config

    env = {
        **os.environ,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "RATELIMIT_ENABLED": "0",
        "DEMO": "0",
        # Its own folder: gunicorn.conf.py empties it at start, and another gunicorn may use the default one.
        "PROMETHEUS_MULTIPROC_DIR": str(ROOT / "var" / "soak-prometheus"),
    }
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "--config",
        str(ROOT / "docker" / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--max-requests",
        str(max_requests),
        "rdvpasseport.wsgi",
    ]
    if "control_socket" in Config().settings:
        # Recent gunicorns open a control socket in the home folder, shared by every gunicorn of the user.
        command[-1:-1] = ["--control-socket", str(ROOT / "var" / "soak-gunicorn.ctl")]
    log = log_path.open("w")
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def server_wait_ready(process: subprocess.Popen, base_url: str, *, workers: int, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited at start-up: see var/soak-gunicorn.log")
        try:
            answered = requests.get(base_url + "/healthz", timeout=5).status_code == 200
            if answered and len(children_of(process.pid)) >= workers:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit("gunicorn did not answer /healthz within a minute: see var/soak-gunicorn.log")


def server_stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # graceful: workers finish their requests
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def memory_sample(*, master: int, stop: threading.Event, every: float, started: float, out: list) -> None:
    """(seconds since start, worker pid, RSS bytes) of every gunicorn worker, every `every` seconds."""
    while True:
        now = time.monotonic() - started
        for pid in children_of(master):
            rss = rss_bytes(pid)
            if rss is not None:
                out.append((now, pid, rss))
        if stop.wait(every):
            return


# --- The report -----------------------------------------------------------------------------------------


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def traffic_report(outcomes: list[Outcome], elapsed: float) -> tuple[int, int, int]:
    """Print the traffic figures; (5xx, unanswered, unexpected) counts."""
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_kind[outcome.kind].append(outcome)
    print(f"\n   {'kind':<16} {'requests':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}  statuses")
    for kind in TRAFFIC_MIX:
        rows = by_kind.get(kind, [])
        latencies = sorted(o.seconds for o in rows)
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(Counter(o.status for o in rows).items()))
        print(
            f"   {kind:<16} {len(rows):>8,} {_ms(_percentile(latencies, 0.5)):>7} "
            f"{_ms(_percentile(latencies, 0.95)):>7} {_ms(_percentile(latencies, 0.99)):>7}  {statuses}"
        )
    latencies = sorted(o.seconds for o in outcomes)
    statuses = Counter(o.status for o in outcomes)
    print(
        f"   {'all':<16} {len(outcomes):>8,} {_ms(_percentile(latencies, 0.5)):>7} "
        f"{_ms(_percentile(latencies, 0.95)):>7} {_ms(_percentile(latencies, 0.99)):>7}"
    )
    counts = ", ".join(f"{status or 'no answer'}: {n:,}" for status, n in sorted(statuses.items()))
    print(f"\n   status codes: {counts}")
    print(f"   throughput: {len(outcomes) / elapsed:.1f} requests/s over {elapsed:.0f} s")
    five_xx = sum(n for s, n in statuses.items() if s >= 500)
    unanswered = statuses.get(0, 0)
    unexpected = [o for o in outcomes if not o.expected]
    for outcome in unexpected[:10]:
        print(f"   unexpected: {outcome.detail}")
    verdict = "met" if not five_xx and not unanswered else "MISSED"
    print(
        f"   5xx: {five_xx}, unanswered: {unanswered}, other unexpected statuses: "
        f"{len(unexpected) - five_xx - unanswered} -> zero 5xx {verdict}"
    )
    return five_xx, unanswered, len(unexpected)


def memory_report(samples: list[tuple[float, int, int]], *, elapsed: float, workers: int) -> bool:
    """Print each worker's RSS: first, max, last, growth from the first minute to the last; whether flat."""
    window = min(60.0, elapsed / 3)  # a short run compares its first and last thirds
    by_pid: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for seconds, pid, rss in samples:
        by_pid[pid].append((seconds, rss))
    rounds = sorted({seconds for seconds, _, _ in samples})
    print(
        f"\n   gunicorn workers' resident memory (RSS, MB), sampled {len(rounds)} times each;"
        f" growth = median of the last {window:.0f} s - median of the first {window:.0f} s"
    )
    flat = True
    for pid, rows in sorted(by_pid.items()):
        first_at, last_at = rows[0][0], rows[-1][0]
        head = [rss for seconds, rss in rows if seconds <= first_at + window]
        tail = [rss for seconds, rss in rows if seconds >= last_at - window]
        growth = statistics.median(tail) - statistics.median(head)
        ratio = growth / statistics.median(head)
        lived = last_at - first_at
        # A worker that did not live through the run (recycled or killed) has no flat line to judge.
        judged = first_at == rounds[0] and last_at == rounds[-1]
        ok = growth < MEMORY_GROWTH_BYTES and ratio < MEMORY_GROWTH_RATIO
        flat = flat and (ok or not judged)
        print(
            f"   worker {pid}: first {rows[0][1] / MB:.1f}, max {max(r for _, r in rows) / MB:.1f}, "
            f"last {rows[-1][1] / MB:.1f}; growth {growth / MB:+.1f} MB ({ratio:+.1%}) over {lived:.0f} s"
            + ("" if judged else " (did not live through the run)")
        )
    if len(by_pid) > workers:
        print(f"   {len(by_pid)} worker processes seen: some were restarted (see var/soak-gunicorn.log)")
    verdict = "met" if flat and by_pid else "MISSED"
    print(
        f"   target: growth under {MEMORY_GROWTH_RATIO:.0%} and under {MEMORY_GROWTH_BYTES / MB:.0f} MB per"
        f" worker -> {verdict}"
    )
    return flat and bool(by_pid)


def log_report(log_path: Path) -> None:
    """Errors the server logged (tracebacks, killed workers), which a client may not notice."""
    marks = ("ERROR", "CRITICAL", "Traceback", "WORKER TIMEOUT")
    problems = [line for line in log_path.read_text().splitlines() if any(mark in line for mark in marks)]
    print(f"\n   server log: {len(problems)} error line(s) in {log_path.relative_to(ROOT)}")
    for line in problems[:5]:
        print(f"   {line[:200]}")


# --- Main -----------------------------------------------------------------------------------------------


def redis_clean(url: str) -> None:
    """Forget the cache's keys (Django's ":1:" prefix, only those: the Redis database may be shared)."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    keys = list(client.scan_iter(":1:*"))
    if keys:
        client.delete(*keys)


def soak(args: argparse.Namespace, *, redis_url: str) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("import_communes", verbosity=0)
    dataset_create(town_hall_count=args.town_halls, seed=args.seed)
    # DEBUG=0 serves static files by their hashed names: the manifest must exist, as in the image.
    call_command("collectstatic", interactive=False, verbosity=0)
    targets = targets_load()
    connections.close_all()
    print(f"   data set ready in {time.monotonic() - started:.0f} s")

    redis_clean(redis_url)
    (ROOT / "var").mkdir(exist_ok=True)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = ROOT / "var" / "soak-gunicorn.log"
    server = server_start(port=port, workers=args.workers, max_requests=args.max_requests, log_path=log_path)
    try:
        server_wait_ready(server, base_url, workers=args.workers)
        print(
            f"\n   gunicorn (docker/gunicorn.conf.py) on {base_url}: {args.workers} workers, "
            f"max_requests={args.max_requests}; {args.clients} clients for {args.seconds} s, "
            f"think time {args.think:g} s on average; log in {log_path.relative_to(ROOT)}"
        )
        stop = threading.Event()
        outcomes: list[list[Outcome]] = [[] for _ in range(args.clients)]
        samples: list[tuple[float, int, int]] = []
        began = time.monotonic()
        sampler = threading.Thread(
            target=memory_sample,
            kwargs={
                "master": server.pid,
                "stop": stop,
                "every": args.sample_every,
                "started": began,
                "out": samples,
            },
        )
        clients = [
            threading.Thread(
                target=client_run,
                kwargs={
                    "base_url": base_url,
                    "targets": targets,
                    "seed": args.seed * 1000 + n,
                    "stop": stop,
                    "think": args.think,
                    "out": outcomes[n],
                },
                name=f"soak-client-{n}",
            )
            for n in range(args.clients)
        ]
        sampler.start()
        for client in clients:
            client.start()
        try:
            stop.wait(args.seconds)
        finally:
            stop.set()
            for client in clients:
                client.join(timeout=60)  # a request in flight ends within its 30 s timeout
            sampler.join(timeout=10)
        elapsed = time.monotonic() - began
    finally:
        server_stop(server)
        redis_clean(redis_url)

    five_xx, unanswered, unexpected = traffic_report([o for rows in outcomes for o in rows], elapsed)
    memory_report(samples, elapsed=elapsed, workers=args.workers)
    log_report(log_path)
    return 1 if five_xx or unanswered or unexpected else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds",
        type=int,
        default=int(os.environ.get("SOAK_SECONDS") or 600),
        help="how long the clients run (default: SOAK_SECONDS, else 600)",
    )
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument(
        "--think", type=float, default=0.25, help="mean pause between a client's requests, s (default 0.25)"
    )
    parser.add_argument(
        "--town-halls", type=int, default=300, help="town halls of the data set (default 300)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument(
        "--max-requests",
        type=int,
        default=0,
        help="gunicorn's worker recycling (default 0: off, so that a leak shows; the image ships 2000)",
    )
    parser.add_argument("--sample-every", type=float, default=5, help="RSS sampling period, s (default 5)")
    parser.add_argument("--seed", type=int, default=9, help="random seed of the data set and the clients")
    args = parser.parse_args()

    database_url = database_url_for(SOAK_DATABASE, explicit_variable="SOAK_DATABASE_URL")
    if database_name(database_url) == database_name(os.environ.get("DATABASE_URL", "")):
        sys.exit(
            "SOAK_DATABASE_URL names the database of DATABASE_URL: the soak drops its database at the end"
        )
    redis_url = os.environ.get("SOAK_REDIS_URL", DEFAULT_REDIS)
    print(
        f"Soak: database {database_name(database_url)} (created, then dropped), Redis {redis_url},"
        f" {os.cpu_count()} CPU(s)"
    )
    database_create(database_url, fresh=True)
    environment_configure(database_url=database_url, redis_url=redis_url)
    try:
        return soak(args, redis_url=redis_url)
    finally:
        database_drop(database_url)


if __name__ == "__main__":
    sys.exit(main())
