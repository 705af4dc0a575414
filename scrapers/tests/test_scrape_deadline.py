"""A scrape past its deadline fails and counts for the circuit breaker, whatever the worker's pool.

A source sending its headers one byte at a time held a worker thread for 420 s; the run never failed, so the
circuit breaker never engaged and the source was dispatched again and again onto the stuck workers.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from scrapers.fetching.tests.test_deadlines import TricklingServer
from scrapers.models import ScrapeRun
from scrapers.services import source_scrape
from scrapers.tests.factories import make_meeting_point, make_slot, make_source, make_town_hall

pytestmark = pytest.mark.django_db


@pytest.fixture
def hostile(settings):
    server = TricklingServer(pause=0.05)
    settings.SCRAPER_ALLOWED_HOSTS = [f"127.0.0.1:{server.port}"]
    settings.SCRAPER_POLITE_DELAY = 0
    yield server
    server.stop()


def test_a_source_trickling_its_answer_fails_at_the_scrape_deadline_and_keeps_its_slots(hostile, settings):
    settings.SCRAPE_SOFT_TIME_LIMIT = 1
    source = make_source(
        base_url=hostile.url.rsplit("/", 1)[0], config={"reasons": ["CNI"]}, last_discovery_at=timezone.now()
    )
    town_hall = make_town_hall()
    make_meeting_point(source, "1", town_hall)
    make_slot(town_hall, timezone.now() + dt.timedelta(days=2))

    run = source_scrape(source_id=source.pk)

    assert run.status == ScrapeRun.Status.FAILED
    assert "past its deadline (SCRAPE_SOFT_TIME_LIMIT)" in run.error
    assert town_hall.slots.count() == 1
    source.refresh_from_db()
    assert source.consecutive_failures == 1
    assert source.claimed_until is None
