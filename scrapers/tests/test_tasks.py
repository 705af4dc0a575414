from __future__ import annotations

import datetime as dt

import pytest
from django.db import OperationalError
from django.utils import timezone

from scrapers import services
from scrapers.models import ScrapeRun, Source
from scrapers.tasks import retry_countdown
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
    assert source_scrape_task.max_retries == 5


def test_retries_back_off_from_seconds_to_minutes():
    # "Retry in 0s" three times spent every retry within 70 ms of a database outage.
    countdowns = [[retry_countdown(n) for _ in range(200)] for n in range(5)]

    assert min(countdowns[0]) >= 3.75 and max(countdowns[0]) <= 6.25
    assert all(
        min(later) > max(earlier) for earlier, later in zip(countdowns[:3], countdowns[1:4], strict=True)
    )
    assert min(countdowns[4]) >= 225 and max(countdowns[4]) <= 375
    assert sum(max(c) for c in countdowns) > 8 * 60  # an outage of several minutes is waited out


def test_a_retry_takes_back_the_claim_its_failed_attempt_could_not_release(ants, monkeypatch):
    """With the database gone, the claim stays until it expires; the retry must not wait for that."""
    ants.expect_request("/api/availableTimeSlots").respond_with_json(
        {"1": [{"datetime": tomorrow_at_ten(), "callback_url": "https://rdv.example/1"}]}
    )
    source = ants_source(ants)
    stuck_lease = timezone.now() + dt.timedelta(seconds=150)
    Source.objects.filter(pk=source.pk).update(claimed_until=stuck_lease)

    other = source_scrape_task.apply(args=[source.pk])  # another task: the claim is not its own
    retried = source_scrape_task.apply(args=[source.pk, stuck_lease.isoformat()])

    assert other.get() == "skipped"
    assert retried.get() == ScrapeRun.Status.SUCCESS
    source.refresh_from_db()
    assert source.claimed_until is None


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
