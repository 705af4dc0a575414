"""kill -9 of a real worker during a scrape: the old slots stay, the run is closed as interrupted, and a new
worker scrapes the source once the claim has expired.

Before: the run stayed "running" forever (counted in /metrics).
"""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from scrapers.models import ScrapeRun, Source
from scrapers.services import sources_dispatch
from scrapers.tests.factories import make_meeting_point, make_slot, make_source, make_town_hall
from slots.models import Slot
from tests.chaos.conftest import send_scrape, wait_for, worker_env

# Short claims so that the test waits seconds, not minutes, for the killed worker's claim to expire.
SOFT_TIME_LIMIT, TIME_LIMIT = 5, 8
# runs_interrupted_close waits this long past a claim (for a run writing its last rows) before closing a run.
INTERRUPTED_GRACE = dt.timedelta(minutes=1)


def database_url() -> str:
    """The test database, which a worker subprocess sees once the test's rows are committed."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def slots_of(town_hall) -> set[tuple[dt.datetime, str]]:
    return set(Slot.objects.filter(town_hall=town_hall).values_list("starts_at", "booking_url"))


def blocked_write() -> int | None:
    """The backend of a worker waiting on the test's row lock in the middle of its ingestion."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            " AND query LIKE 'UPDATE \"slots_townhall\"%'"
        )
        row = cursor.fetchone()
    return row[0] if row else None


def wrote_slots(pid: int) -> bool:
    """Whether that backend's open transaction has written to the slots table (inserted or deleted rows)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE pid = %s AND relation = 'slots_slot'::regclass"
            " AND mode = 'RowExclusiveLock' AND granted",
            [pid],
        )
        return cursor.fetchone()[0] > 0


def backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] > 0


@pytest.mark.parametrize("stage", ["fetch", "write"])
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_leaves_the_old_slots_and_a_new_worker_resumes(
    stage, settings, own_redis, ants_server, workers
):
    settings.SCRAPE_SOFT_TIME_LIMIT, settings.SCRAPE_TIME_LIMIT = SOFT_TIME_LIMIT, TIME_LIMIT
    now = timezone.now()
    day = timezone.localdate() + dt.timedelta(days=3)
    # A source scraped before: known meeting point, discovery done, three slots online.
    source = make_source(
        base_url=ants_server.base_url,
        config={"reasons": ["CNI"]},
        interval_minutes=1,
        # Not due while the first worker starts (it would dispatch it itself): the test dispatches it below.
        next_run_at=now + dt.timedelta(hours=1),
        last_discovery_at=now,
    )
    town_hall = make_town_hall(name="Mairie de Grenoble")
    make_meeting_point(source, "g1", town_hall)
    for hour in (9, 10, 11):
        make_slot(town_hall, timezone.make_aware(dt.datetime.combine(day, dt.time(hour))), reason="CNI")
    old_slots = slots_of(town_hall)
    # The editor's answer now: other slots, which only a finished scrape may store.
    ants_server.slots = {
        "g1": [
            {"datetime": f"{day:%Y-%m-%d}T{hour}:30Z", "callback_url": "https://rdv.example/g1"}
            for hour in (14, 15)
        ]
    }
    env = worker_env(
        database_url=database_url(),
        redis_url=own_redis.url,
        ants=ants_server,
        SCRAPE_SOFT_TIME_LIMIT=str(SOFT_TIME_LIMIT),
        SCRAPE_TIME_LIMIT=str(TIME_LIMIT),
    )
    first = workers("first", env)
    first.wait_ready()
    Source.objects.filter(pk=source.pk).update(next_run_at=None)

    lock = None
    if stage == "fetch":
        ants_server.hold()  # the editor takes its time: the worker waits for the slots
    else:
        # The test holds the town hall's row: the worker writes the slots, then waits to mark it checked.
        lock = psycopg.connect(database_url().replace("postgres://", "postgresql://"), autocommit=False)
        lock.execute("SELECT 1 FROM slots_townhall WHERE id = %s FOR UPDATE", [town_hall.pk])
    try:
        assert sources_dispatch(enqueue=lambda ids: send_scrape(own_redis.url, ids)) == [source.pk]
        if stage == "fetch":
            wait_for(ants_server.slot_requested.is_set, timeout=60, what="the worker to ask for slots")
        else:
            pid = wait_for(blocked_write, timeout=60, what="the worker to block in its write")
            assert wrote_slots(pid)  # killed with the new slots written, not yet committed
        run = ScrapeRun.objects.get(source=source)
        assert run.status == ScrapeRun.Status.RUNNING

        first.kill()
    finally:
        ants_server.release()
        if lock is not None:
            lock.rollback()
            lock.close()
    if stage == "write":
        # Its client gone, the backend rolls back what the worker wrote as soon as the lock is free.
        wait_for(lambda: not backend_alive(pid), timeout=30, what="the killed worker's backend to end")

    # Nothing half-written: the citizen still sees the last good slots.
    assert slots_of(town_hall) == old_slots
    run.refresh_from_db()
    assert run.status == ScrapeRun.Status.RUNNING  # nobody could record the outcome
    town_hall.refresh_from_db()
    assert town_hall.checked_at is None

    # Skip the fixed minute of grace runs_interrupted_close gives a run past its claim (not the claim itself).
    ScrapeRun.objects.filter(pk=run.pk).update(started_at=F("started_at") - INTERRUPTED_GRACE)
    wait_for(
        lambda: Source.objects.get(pk=source.pk).claimed_until < timezone.now(),
        timeout=TIME_LIMIT + 30,
        what="the killed worker's claim to expire",
    )
    second = workers("second", env)
    second.wait_ready()
    run.refresh_from_db()
    assert run.status == ScrapeRun.Status.INTERRUPTED  # closed by the new worker at start-up
    assert run.finished_at is not None

    # The new worker dispatched the source, due again, as soon as it started: no wait for beat's next tick.
    resumed = wait_for(
        lambda: ScrapeRun.objects.filter(source=source).exclude(pk=run.pk).exclude(status="running").first(),
        timeout=60,
        what="a run by the new worker",
    )
    assert resumed.status == ScrapeRun.Status.SUCCESS, resumed.error
    assert {timezone.localtime(starts_at).time() for starts_at, _ in slots_of(town_hall)} == {
        dt.time(14, 30),
        dt.time(15, 30),
    }
