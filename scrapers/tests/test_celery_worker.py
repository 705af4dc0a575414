"""One integration test with a real Celery worker (thread pool, as in production) on the Redis broker."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.utils import timezone

from rdvpasseport.celery import app as celery_app
from scrapers.models import ScrapeRun
from scrapers.tasks import sources_dispatch as sources_dispatch_task
from scrapers.tests.factories import make_source
from slots.models import TownHall


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"nothing happened within {timeout} s")


def other_connections() -> int:
    """Open connections to the test database besides this thread's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_scrapes_dispatched_sources_and_writes_their_slots(httpserver, settings):
    settings.SCRAPER_ALLOWED_HOSTS = [f"127.0.0.1:{httpserver.port}"]
    settings.SCRAPER_POLITE_DELAY = 0
    day = timezone.localdate() + dt.timedelta(days=2)
    httpserver.expect_request("/api/getManagedMeetingPoints").respond_with_json(
        [
            {
                "id": "g1",
                "name": "Mairie de Grenoble",
                "longitude": 5.7363,
                "latitude": 45.1866,
                "public_entry_address": "11 boulevard Jean-Pain",
                "zip_code": "38000",
                "city_name": "GRENOBLE",
            }
        ]
    )
    httpserver.expect_request("/api/availableTimeSlots").respond_with_json(
        {
            "g1": [
                {"datetime": f"{day:%Y-%m-%d}T{hour:02d}:00Z", "callback_url": "https://rdv.example/g1"}
                for hour in (9, 10, 11)
            ]
        }
    )
    sources = [
        make_source(base_url=httpserver.url_for("/api"), config={"reasons": ["CNI"]}, next_run_at=None)
        for _ in range(3)
    ]
    celery_app.control.purge()

    with start_worker(
        celery_app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=30
    ):
        # Outside any transaction: the tasks go to the broker as soon as the dispatcher commits.
        assert sorted(sources_dispatch_task.apply().get()) == sorted(s.pk for s in sources)
        wait_for(lambda: ScrapeRun.objects.exclude(status=ScrapeRun.Status.RUNNING).count() == 3)
        # Each task closed its thread's database connection when it finished.
        wait_for(lambda: other_connections() == 0, timeout=10)

    runs = ScrapeRun.objects.order_by("source_id")
    assert [run.status for run in runs] == [ScrapeRun.Status.SUCCESS] * 3
    # The three sources list the same town hall, discovered at the same moment by concurrent threads: one
    # town hall, each source with its own three slots.
    town_hall = TownHall.objects.get()
    assert town_hall.name == "Mairie de Grenoble"
    assert town_hall.meeting_points.count() == 3
    for source in sources:
        assert town_hall.slots.filter(source=source).count() == 3
        source.refresh_from_db()
        assert source.claimed_until is None
        assert source.next_run_at > timezone.now()
