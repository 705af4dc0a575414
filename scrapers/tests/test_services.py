from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.db import connection
from werkzeug import Response

from scrapers.connectors.ants import AntsConnector
from scrapers.models import MeetingPoint, ScrapeRun, Source, SourceHealth
from scrapers.services import backoff_delay, slots_purge, source_scrape, sources_dispatch
from scrapers.tests.factories import (
    TOKEN,
    make_meeting_point,
    make_run,
    make_slot,
    make_source,
    make_town_hall,
    paris,
)
from slots.models import Slot


def no_tasks(ids: list[int]) -> None:
    """For the dispatcher's tests: they check what it claims, not the broker."""


pytestmark = pytest.mark.django_db

NOW = paris(2026, 12, 1, 9, 0)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ants(httpserver, settings):
    """A local ANTS editor API at /api, reachable by the scrapers (no politeness delay)."""
    settings.SCRAPER_ALLOWED_HOSTS = [f"127.0.0.1:{httpserver.port}"]
    settings.SCRAPER_POLITE_DELAY = 0
    return httpserver


def ants_source(server, **overrides):
    values = {"base_url": server.url_for("/api"), "config": {"reasons": ["PASSPORT"]}, "interval_minutes": 5}
    values.update(overrides)
    return make_source(**values)


MEETING_POINTS = [
    {
        "id": 101,
        "name": "Mairie de Clichy",
        "longitude": 2.3048,
        "latitude": 48.9028,
        "public_entry_address": "80 boulevard Jean-Jaurès 92110 CLICHY",
        "zip_code": "92110",
        "city_name": "CLICHY",
    },
    {
        "id": "102",
        "name": "Mairie de Levallois",
        "longitude": 2.2874,
        "latitude": 48.8950,
        "public_entry_address": "Place de la République",
        "zip_code": "92300",
        "city_name": "LEVALLOIS-PERRET",
    },
]


def slots_payload(**per_point):
    return {
        mp: [{"datetime": f"{when}Z", "callback_url": f"https://rdv.example/{mp}/{when}"} for when in times]
        for mp, times in per_point.items()
    }


def serve(server, slots, meeting_points=MEETING_POINTS):
    server.expect_request("/api/getManagedMeetingPoints").respond_with_json(meeting_points)
    server.expect_request("/api/availableTimeSlots").respond_with_json(slots)


def test_a_scrape_discovers_town_halls_stores_slots_and_records_a_healthy_run(ants):
    serve(
        ants, slots_payload(**{"101": ["2026-12-03T10:00", "2026-12-03T10:30"], "102": ["2026-12-04T09:00"]})
    )
    source = ants_source(ants)

    run = source_scrape(source_id=source.pk, now=NOW)

    assert run.status == ScrapeRun.Status.SUCCESS
    assert (run.town_halls, run.slots_new, run.slots_kept, run.slots_removed) == (2, 3, 0, 0)
    assert run.discovery is True
    assert run.http_calls == 2
    assert run.bytes_received > 0
    clichy = MeetingPoint.objects.get(source=source, external_id="101").town_hall
    assert clichy.name == "Mairie de Clichy"
    assert list(clichy.slots.values_list("starts_at", flat=True)) == [
        paris(2026, 12, 3, 10, 0),
        paris(2026, 12, 3, 10, 30),
    ]
    source.refresh_from_db()
    assert source.last_success_at == NOW
    assert source.last_discovery_at == NOW
    assert source.next_run_at == NOW + dt.timedelta(minutes=5)
    assert source.consecutive_failures == 0
    assert source.claimed_until is None


def test_the_fetch_window_is_the_source_horizon(ants):
    serve(ants, slots_payload(**{"101": ["2026-12-03T10:00", "2026-12-20T10:00"]}))
    source = ants_source(ants, config={"reasons": ["PASSPORT"]}, horizon_days=10)

    run = source_scrape(source_id=source.pk, now=NOW)

    assert run.slots_new == 1
    request = [r for r, _ in ants.log if r.path.endswith("availableTimeSlots")][0]
    assert (request.args["start_date"], request.args["end_date"]) == ("2026-12-01", "2026-12-11")


def test_a_new_source_fetches_the_national_hubs_150_days(ants):
    serve(ants, slots_payload(**{"101": ["2027-04-20T10:00", "2027-05-02T10:00"]}))
    source = ants_source(ants, config={"reasons": ["PASSPORT"]})

    run = source_scrape(source_id=source.pk, now=NOW)

    assert source.horizon_days == 150
    assert run.slots_new == 1  # 2027-05-02 is past 150 days
    request = [r for r, _ in ants.log if r.path.endswith("availableTimeSlots")][0]
    assert request.args["end_date"] == "2027-04-30"


def test_discovery_is_skipped_while_recent_and_hidden_town_halls_are_not_fetched(ants):
    ants.expect_request("/api/availableTimeSlots").respond_with_json(
        slots_payload(**{"101": ["2026-12-03T10:00"]})
    )
    source = ants_source(ants, last_discovery_at=NOW - dt.timedelta(hours=1))
    make_meeting_point(source, "101")
    make_meeting_point(source, "102", make_town_hall(active=False))

    run = source_scrape(source_id=source.pk, now=NOW)

    assert run.status == ScrapeRun.Status.SUCCESS
    assert run.discovery is False
    paths = [request.path for request, _ in ants.log]
    assert paths == ["/api/availableTimeSlots"]
    assert ants.log[0][0].args.getlist("meeting_point_ids") == ["101"]


def test_discovery_runs_again_once_its_interval_is_over(ants):
    serve(ants, slots_payload(**{"101": ["2026-12-03T10:00"]}))
    source = ants_source(ants, last_discovery_at=NOW - dt.timedelta(hours=25), discovery_interval_hours=24)
    make_meeting_point(source, "101")

    run = source_scrape(source_id=source.pk, now=NOW)

    assert run.discovery is True
    assert MeetingPoint.objects.filter(source=source).count() == 2


def test_meeting_points_discovered_by_a_suspicious_run_are_discovered_again_next_run(ants):
    # The suspicious run stores nothing, its discovery included: the next run must not wait a whole
    # discovery interval to learn about the new meeting point.
    unreadable = [{"datetime": "soon", "callback_url": "https://rdv.example/x"}] * 6
    serve(ants, {"101": unreadable})
    source = ants_source(ants, last_discovery_at=NOW - dt.timedelta(hours=25), discovery_interval_hours=24)
    make_meeting_point(source, "101")

    run = source_scrape(source_id=source.pk, now=NOW)

    assert run.status == ScrapeRun.Status.SUSPICIOUS
    assert MeetingPoint.objects.filter(source=source).count() == 1
    source.refresh_from_db()
    assert source.last_discovery_at == NOW - dt.timedelta(hours=25)


def test_a_failed_discovery_falls_back_on_known_meeting_points(ants):
    ants.expect_request("/api/getManagedMeetingPoints").respond_with_data("oops", status=401)
    ants.expect_request("/api/availableTimeSlots").respond_with_json(
        slots_payload(**{"101": ["2026-12-03T10:00"]})
    )
    source = ants_source(ants)
    make_meeting_point(source, "101")

    run = source_scrape(source_id=source.pk, now=NOW)

    assert run.status == ScrapeRun.Status.SUCCESS
    assert run.slots_new == 1
    assert "Discovery failed" in run.error
    source.refresh_from_db()
    assert source.last_discovery_at is None


def test_a_connector_error_fails_the_run_keeps_the_last_good_slots_and_hides_the_token(ants):
    ants.expect_request("/api/availableTimeSlots").respond_with_data(f"bad token {TOKEN}", status=401)
    source = ants_source(ants, last_discovery_at=NOW)
    town_hall = make_town_hall()
    make_meeting_point(source, "101", town_hall)
    make_slot(town_hall, paris(2026, 12, 3, 10))

    run = source_scrape(source_id=source.pk, now=NOW)

    assert run.status == ScrapeRun.Status.FAILED
    assert "HTTP 401" in run.error
    assert TOKEN not in run.error
    assert run.http_calls == 1
    assert town_hall.slots.count() == 1
    source.refresh_from_db()
    assert source.consecutive_failures == 1
    assert source.last_success_at is None
    assert TOKEN not in source.last_error
    assert source.next_run_at == NOW + dt.timedelta(minutes=5)
    assert source.claimed_until is None


def test_an_unexpected_error_of_a_connector_is_recorded_as_a_failed_run(ants, monkeypatch):
    def broken(self, meeting_point_ids, *, start, end):
        raise KeyError("datetime")

    monkeypatch.setattr(AntsConnector, "fetch_slots", broken)
    source = ants_source(ants, last_discovery_at=NOW)
    make_meeting_point(source, "101")

    run = source_scrape(source_id=source.pk, now=NOW)

    assert run.status == ScrapeRun.Status.FAILED
    assert "Unexpected error: KeyError" in run.error
    source.refresh_from_db()
    assert source.consecutive_failures == 1
    assert source.claimed_until is None


@pytest.mark.django_db(transaction=True)
def test_a_scrape_that_outlived_its_claim_stores_nothing(ants):
    source = ants_source(ants, last_discovery_at=NOW)
    make_meeting_point(source, "101")
    taken_over_until = NOW + dt.timedelta(hours=1)

    def slow_answer(request):
        # Meanwhile the claim ran out and another worker claimed the source.
        Source.objects.filter(pk=source.pk).update(claimed_until=taken_over_until)
        connection.close()  # this server thread's own connection
        return Response(
            json.dumps(slots_payload(**{"101": ["2026-12-03T10:00"]})), mimetype="application/json"
        )

    ants.expect_request("/api/availableTimeSlots").respond_with_handler(slow_answer)

    run = source_scrape(source_id=source.pk, now=NOW)

    assert run.status == ScrapeRun.Status.FAILED
    assert "claim on this source expired" in run.error
    assert not Slot.objects.exists()
    source.refresh_from_db()
    # The source is the other worker's: its claim, health and schedule are left alone.
    assert (source.claimed_until, source.consecutive_failures, source.next_run_at) == (
        taken_over_until,
        0,
        None,
    )


def test_the_circuit_breaker_backs_off_after_three_failures_in_a_row(ants):
    ants.expect_request("/api/availableTimeSlots").respond_with_data("no", status=403)
    source = ants_source(ants, last_discovery_at=NOW, consecutive_failures=4)
    make_meeting_point(source, "101")

    source_scrape(source_id=source.pk, now=NOW)

    source.refresh_from_db()
    assert source.consecutive_failures == 5
    assert source.next_run_at == NOW + dt.timedelta(minutes=20)
    assert source.health == SourceHealth.FAILING


def test_a_success_closes_the_circuit_breaker(ants):
    serve(ants, slots_payload(**{"101": ["2026-12-03T10:00"], "102": []}))
    source = ants_source(ants, consecutive_failures=7, last_error="HTTP 500")

    source_scrape(source_id=source.pk, now=NOW)

    source.refresh_from_db()
    assert (source.consecutive_failures, source.last_error) == (0, "")
    assert source.next_run_at == NOW + dt.timedelta(minutes=5)


@pytest.mark.parametrize(
    ("failures", "minutes"),
    [(1, 5), (2, 5), (3, 5), (4, 10), (5, 20), (6, 40), (9, 320), (10, 360), (60, 360)],
)
def test_backoff_doubles_per_failure_beyond_the_third_up_to_six_hours(failures, minutes):
    assert backoff_delay(interval=dt.timedelta(minutes=5), failures=failures) == dt.timedelta(minutes=minutes)


def test_a_source_held_by_another_worker_is_not_scraped_twice(ants):
    source = ants_source(ants, claimed_until=NOW + dt.timedelta(seconds=30))

    assert source_scrape(source_id=source.pk, now=NOW) is None

    assert not ScrapeRun.objects.exists()
    assert ants.log == []
    source.refresh_from_db()
    assert source.claimed_until == NOW + dt.timedelta(seconds=30)


def test_the_claim_is_a_conditional_update_so_only_the_first_worker_gets_it(ants, settings):
    from django.db.models import Q

    source = ants_source(ants)
    claim = Source.objects.filter(pk=source.pk).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=NOW)
    )

    assert claim.update(claimed_until=NOW + dt.timedelta(seconds=settings.SCRAPE_TIME_LIMIT)) == 1
    assert source_scrape(source_id=source.pk, now=NOW) is None


def test_an_expired_claim_is_taken_over(ants):
    serve(ants, slots_payload(**{"101": ["2026-12-03T10:00"]}))
    source = ants_source(ants, claimed_until=NOW - dt.timedelta(seconds=1))

    run = source_scrape(source_id=source.pk, now=NOW)

    assert run is not None and run.status == ScrapeRun.Status.SUCCESS


def test_a_missing_source_is_skipped():
    assert source_scrape(source_id=999_999, now=NOW) is None


def test_the_dispatcher_enqueues_each_due_source_once(django_capture_on_commit_callbacks, settings):
    due = make_source(next_run_at=NOW - dt.timedelta(minutes=1))
    never_run = make_source(next_run_at=None)
    make_source(next_run_at=NOW + dt.timedelta(minutes=1))
    make_source(paused=True)
    make_source(enabled=False)
    make_source(claimed_until=NOW + dt.timedelta(minutes=1))

    with django_capture_on_commit_callbacks() as callbacks:
        first = sources_dispatch(enqueue=no_tasks, now=NOW)
        second = sources_dispatch(enqueue=no_tasks, now=NOW + dt.timedelta(seconds=30))

    assert sorted(first) == sorted([due.pk, never_run.pk])
    assert second == []
    assert len(callbacks) == 1
    due.refresh_from_db()
    assert due.next_run_at == NOW + dt.timedelta(seconds=settings.SCRAPE_TIME_LIMIT)


def test_a_source_due_just_after_the_tick_is_not_left_for_the_next_one(django_capture_on_commit_callbacks):
    # Scraped 20 ms after the previous tick with a 1-minute interval: due 20 ms after this tick.
    source = make_source(interval_minutes=1, next_run_at=NOW + dt.timedelta(milliseconds=20))
    make_source(interval_minutes=1, next_run_at=NOW + dt.timedelta(seconds=30))

    with django_capture_on_commit_callbacks():
        assert sources_dispatch(enqueue=no_tasks, now=NOW) == [source.pk]


def test_a_dispatched_source_whose_task_was_lost_is_due_again_after_the_lease(
    django_capture_on_commit_callbacks, settings
):
    source = make_source(next_run_at=None)
    with django_capture_on_commit_callbacks():
        sources_dispatch(enqueue=no_tasks, now=NOW)

    later = NOW + dt.timedelta(seconds=settings.SCRAPE_TIME_LIMIT)
    with django_capture_on_commit_callbacks():
        assert sources_dispatch(enqueue=no_tasks, now=later) == [source.pk]


def test_the_purge_deletes_started_slots_and_old_runs_only(settings):
    settings.SCRAPE_RUNS_KEEP_DAYS = 30
    town_hall = make_town_hall()
    make_slot(town_hall, NOW - dt.timedelta(minutes=1))
    future = make_slot(town_hall, NOW + dt.timedelta(minutes=1))
    source = make_source()
    make_run(source, started_at=NOW - dt.timedelta(days=31))
    recent = make_run(source, started_at=NOW - dt.timedelta(days=29))

    counts = slots_purge(now=NOW)

    assert (counts.slots, counts.runs) == (1, 1)
    assert list(Slot.objects.all()) == [future]
    assert list(ScrapeRun.objects.all()) == [recent]


def test_an_error_response_is_not_a_500_for_the_worker(ants):
    ants.expect_request("/api/getManagedMeetingPoints").respond_with_response(Response("<html>", status=200))
    source = ants_source(ants)

    run = source_scrape(source_id=source.pk, now=NOW)

    assert run.status == ScrapeRun.Status.FAILED
    assert run.error
