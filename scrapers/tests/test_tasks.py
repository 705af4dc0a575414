from __future__ import annotations

import datetime as dt

import pytest
from django.db import OperationalError
from django.utils import timezone

from scrapers import services
from scrapers.models import ScrapeRun
from scrapers.tasks import slots_purge as slots_purge_task
from scrapers.tasks import source_scrape as source_scrape_task
from scrapers.tasks import sources_dispatch as sources_dispatch_task
from scrapers.tests.factories import make_meeting_point, make_slot, make_source, make_town_hall

pytestmark = pytest.mark.django_db


@pytest.fixture
def ants(httpserver, settings):
    settings.SCRAPER_ALLOWED_HOSTS = [f"127.0.0.1:{httpserver.port}"]
    settings.SCRAPER_POLITE_DELAY = 0
    return httpserver


def tomorrow_at_ten() -> str:
    day = timezone.localdate() + dt.timedelta(days=1)
    return f"{day:%Y-%m-%d}T10:00Z"


def ants_source(server, **overrides):
    values = {
        "base_url": server.url_for("/api"),
        "config": {"reasons": ["CNI"]},
        "last_discovery_at": timezone.now(),
    }
    values.update(overrides)
    source = make_source(**values)
    make_meeting_point(source, "1")
    return source


def test_the_scrape_task_scrapes_the_source_and_returns_the_run_status(ants):
    ants.expect_request("/api/availableTimeSlots").respond_with_json(
        {"1": [{"datetime": tomorrow_at_ten(), "callback_url": "https://rdv.example/1"}]}
    )
    source = ants_source(ants)

    result = source_scrape_task.apply(args=[source.pk])

    assert result.get() == "success"
    assert source.meeting_points.get().town_hall.slots.count() == 1


def test_a_connector_error_is_recorded_once_and_not_retried(ants):
    ants.expect_request("/api/availableTimeSlots").respond_with_data("invalid token", status=401)
    source = ants_source(ants)

    result = source_scrape_task.apply(args=[source.pk])

    assert result.get() == "failed"
    assert ScrapeRun.objects.filter(source=source).count() == 1
    assert len(ants.log) == 1
    source.refresh_from_db()
    assert source.consecutive_failures == 1


def test_a_database_hiccup_is_retried_without_counting_as_a_source_failure(ants, monkeypatch):
    ants.expect_request("/api/availableTimeSlots").respond_with_json(
        {"1": [{"datetime": tomorrow_at_ten(), "callback_url": "https://rdv.example/1"}]}
    )
    source = ants_source(ants)
    real_ingest = services.source_ingest
    calls = []

    def flaky_ingest(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_ingest(**kwargs)

    monkeypatch.setattr(services, "source_ingest", flaky_ingest)

    source_scrape_task.apply(args=[source.pk])

    statuses = list(ScrapeRun.objects.filter(source=source).order_by("pk").values_list("status", flat=True))
    assert statuses == [ScrapeRun.Status.FAILED, ScrapeRun.Status.SUCCESS]
    source.refresh_from_db()
    assert source.consecutive_failures == 0
    assert source.claimed_until is None
    assert source.meeting_points.get().town_hall.slots.count() == 1


def test_the_scrape_task_has_time_limits_and_bounded_retries(settings):
    assert source_scrape_task.soft_time_limit == settings.SCRAPE_SOFT_TIME_LIMIT == 120
    assert source_scrape_task.time_limit == settings.SCRAPE_TIME_LIMIT == 150
    assert source_scrape_task.max_retries == 3
    assert source_scrape_task.retry_backoff is True
    assert source_scrape_task.retry_jitter is True
    assert OperationalError in source_scrape_task.autoretry_for
    assert not any(issubclass(services.ConnectorError, kind) for kind in source_scrape_task.autoretry_for)


def test_the_dispatch_task_returns_the_due_sources(django_capture_on_commit_callbacks):
    due = make_source(next_run_at=None)
    make_source(next_run_at=timezone.now() + dt.timedelta(minutes=3))

    with django_capture_on_commit_callbacks() as callbacks:
        result = sources_dispatch_task.apply()

    assert result.get() == [due.pk]
    assert len(callbacks) == 1


def test_the_purge_task_deletes_past_slots():
    town_hall = make_town_hall()
    make_slot(town_hall, timezone.now() - dt.timedelta(hours=1))
    make_slot(town_hall, timezone.now() + dt.timedelta(hours=1))

    result = slots_purge_task.apply()

    assert result.get() == {"slots": 1, "runs": 0}
    assert town_hall.slots.count() == 1
