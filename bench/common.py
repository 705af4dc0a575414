"""What the benchmark scripts share: a PostgreSQL database of their own, the environment Django reads, /proc.

Imported by bench/ingest.py and bench/soak.py, run as scripts (their folder is on sys.path).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent


def database_url_for(name: str, *, explicit_variable: str) -> str:
    """The URL of database `name` on the server of DATABASE_URL, unless `explicit_variable` names one."""
    explicit = os.environ.get(explicit_variable)
    if explicit:
        return explicit
    base = urlparse(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/rdvpasseport")
    if not base.scheme.startswith("postgres"):
        sys.exit(f"The benchmark needs PostgreSQL; DATABASE_URL is {base.scheme}://...")
    return urlunparse(base._replace(path=f"/{name}"))


def _admin_connect(url: str) -> Any:
    import psycopg

    admin = urlunparse(urlparse(url)._replace(path="/postgres"))
    return psycopg.connect(admin, autocommit=True, connect_timeout=5)


def database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def database_create(url: str, *, fresh: bool = False) -> None:
    """Create the database of `url` if missing; `fresh` drops it first (left over from an interrupted run)."""
    if fresh:
        database_drop(url)
    name = database_name(url)
    with _admin_connect(url) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"Created the bench database {name}.")


def database_drop(url: str) -> None:
    # FORCE (PostgreSQL 13+): a connection left by a killed process must not keep the database alive.
    with _admin_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')


def environment_configure(*, database_url: str, redis_url: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="rdvpasseport.settings.base",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        # DEBUG off: Django would otherwise keep every query in memory, which no production worker does.
        DEBUG="0",
        SECRET_KEY=os.environ.get("SECRET_KEY") or "bench-only-secret-key-not-used-for-anything-else",
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
        LOG_FORMAT="plain",
        SENTRY_DSN="",
    )
    sys.path.insert(0, str(ROOT))


def town_halls_on_communes(source: Any, communes: list) -> None:
    """A meeting point of `source` at each commune's town hall (communes with their postal codes prefetched)."""
    from django.utils import timezone

    from scrapers.connectors.base import MeetingPointData
    from scrapers.ingest import meeting_points_upsert

    meeting_points_upsert(
        source=source,
        meeting_points=[
            MeetingPointData(
                external_id=commune.insee,
                name=f"Mairie de {commune.name}",
                address=commune.town_hall_address,
                postcode=min((p.code for p in commune.postal_codes.all()), default=""),
                city=commune.name,
                insee=commune.insee,
                lat=commune.lat,
                lon=commune.lon,
                phone=commune.phone,
                website=commune.website,
            )
            for commune in communes
        ],
        now=timezone.now(),
    )


def ingest_once(source: Any, slots: list, meeting_point_ids: list[str]) -> tuple[float, Any]:
    """One successful run of scrapers.ingest.source_ingest over `slots`; its seconds and its ScrapeRun."""
    from scrapers.connectors.base import FetchResult
    from scrapers.ingest import source_ingest
    from scrapers.models import ScrapeRun

    result = FetchResult(slots=slots, covered=set(meeting_point_ids), errors=[])
    run = ScrapeRun.objects.create(source=source)
    started = time.perf_counter()
    source_ingest(source=source, meeting_points=None, result=result, run=run)
    elapsed = time.perf_counter() - started
    if run.status != ScrapeRun.Status.SUCCESS:
        raise SystemExit(f"ingestion did not succeed: {run.status} {run.error}")
    return elapsed, run


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its threads so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time so far of the PostgreSQL server on this machine: its processes, and the backends that have
    exited (counted in the server's main process once it reaped them)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, rest = text.split("(", 1)[1].rsplit(")", 1)
        if name == "postgres":
            fields = rest.split()
            total += sum(int(field) for field in fields[11:15])  # utime, stime, cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int | None:
    """Resident memory of a process (VmRSS in /proc), None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (a gunicorn master's workers), from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid:
            children.append(int(entry.name))
    return sorted(children)
