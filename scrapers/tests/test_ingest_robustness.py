"""Ingestion against bad input: poison items, partial answers, admins' corrections."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from scrapers.ingest import source_ingest
from scrapers.models import MeetingPoint, ScrapeRun
from scrapers.tests.factories import (
    fetch_result,
    make_meeting_point,
    make_run,
    make_slot,
    make_source,
    make_town_hall,
    meeting_point_data,
    paris,
    slot_data,
)
from slots.models import Slot, TownHall

pytestmark = pytest.mark.django_db

NOW = paris(2026, 12, 1, 9, 0)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


def ingest(source, result, meeting_points=None, now=NOW):
    run = make_run(source, started_at=now)
    return source_ingest(source=source, meeting_points=meeting_points, result=result, run=run, now=now)


# Poison items: one bad item is skipped and counted; the rest of the run is stored.


def test_an_over_long_meeting_point_id_is_skipped_and_the_others_are_stored():
    source = make_source()
    poison = "x" * 201

    run = ingest(
        source,
        fetch_result([slot_data("A", paris(2026, 12, 3, 10)), slot_data(poison, paris(2026, 12, 3, 11))]),
        meeting_points=[meeting_point_data("A"), meeting_point_data(poison)],
    )

    assert run.status == ScrapeRun.Status.SUCCESS
    assert list(MeetingPoint.objects.filter(source=source).values_list("external_id", flat=True)) == ["A"]
    assert Slot.objects.count() == 1
    assert run.parse_errors == 1
    assert "skipped: an id of 201 characters" in run.error


def test_nul_bytes_in_names_and_links_never_reach_the_database():
    source = make_source()

    run = ingest(
        source,
        fetch_result([slot_data("A", paris(2026, 12, 3, 10), booking_url="https://rdv.example/\x00a")]),
        meeting_points=[
            meeting_point_data("A", name="Mairie\x00 de Clichy", website="https://clichy.example/\x00")
        ],
    )

    assert run.status == ScrapeRun.Status.SUCCESS
    town_hall = TownHall.objects.get()
    assert town_hall.name == "Mairie  de Clichy"
    assert town_hall.website == ""
    assert Slot.objects.get().booking_url == ""


def test_slots_in_impossible_years_are_refused_by_the_connector_data():
    with pytest.raises(ValueError, match="year 1,"):
        slot_data("A", dt.datetime(1, 1, 1, 10, tzinfo=dt.UTC))
    with pytest.raises(ValueError, match="year 9999"):
        slot_data("A", dt.datetime(9999, 12, 31, 10, tzinfo=dt.UTC))


def test_a_slot_years_ahead_is_skipped_and_counted():
    source = make_source()
    make_meeting_point(source, "A")

    run = ingest(
        source, fetch_result([slot_data("A", paris(2026, 12, 3, 10)), slot_data("A", paris(2031, 1, 2, 10))])
    )

    assert run.status == ScrapeRun.Status.SUCCESS
    assert Slot.objects.count() == 1
    assert run.parse_errors == 1
    assert "1 slot(s) skipped" in run.error


def test_an_unexpected_value_in_one_slot_skips_that_slot_only():
    source = make_source()
    make_meeting_point(source, "A")
    broken = slot_data("A", paris(2026, 12, 3, 11))
    object.__setattr__(broken, "people_max", object())  # a connector bug: no int() for it

    run = ingest(source, fetch_result([slot_data("A", paris(2026, 12, 3, 10)), broken]))

    assert run.status == ScrapeRun.Status.SUCCESS
    assert Slot.objects.count() == 1
    assert run.parse_errors == 1


# Partial answers: a run that would remove most slots at once keeps the last good data.


def rich_town_hall(source, external_id, hours=range(8, 18)):
    town_hall = make_town_hall()
    make_meeting_point(source, external_id, town_hall)
    for day in (3, 4, 5):
        for hour in hours:
            make_slot(town_hall, paris(2026, 12, day, hour))
    return town_hall


def test_a_run_removing_most_upcoming_slots_at_once_is_suspicious_and_writes_nothing():
    source = make_source()
    kept = rich_town_hall(source, "A")
    emptied = rich_town_hall(source, "B")
    make_run(source, started_at=NOW - dt.timedelta(minutes=5), status=ScrapeRun.Status.SUCCESS, slots_kept=60)
    answer = [slot_data("A", paris(2026, 12, 3, 8))]  # A lost 29 of 30, B all 30: 59 of 60 removed

    run = ingest(source, fetch_result(answer, covered={"A", "B"}))

    assert run.status == ScrapeRun.Status.SUSPICIOUS
    assert "Would remove 59 of the 60 upcoming slots" in run.error
    assert kept.slots.count() == emptied.slots.count() == 30
    kept.refresh_from_db()
    assert kept.checked_at is None


def test_slots_whose_time_has_come_do_not_count_as_removed_by_the_source():
    source = make_source()
    town_hall = make_town_hall()
    make_meeting_point(source, "A", town_hall)
    for hour in range(10):  # a paused source: these passed while nobody looked
        make_slot(town_hall, NOW - dt.timedelta(hours=hour + 1))
    for hour in range(8, 18):
        make_slot(town_hall, paris(2026, 12, 3, hour))
    make_run(source, started_at=NOW - dt.timedelta(days=1), status=ScrapeRun.Status.SUCCESS, slots_kept=20)

    run = ingest(source, fetch_result([slot_data("A", paris(2026, 12, 3, h)) for h in range(8, 18)]))

    assert run.status == ScrapeRun.Status.SUCCESS
    assert (run.slots_kept, run.slots_removed) == (10, 10)


def test_a_large_removal_is_accepted_once_repeated_enough_times(settings):
    settings.SCRAPE_ZERO_SLOTS_CONFIRMATIONS = 2
    source = make_source()
    town_hall = rich_town_hall(source, "A")
    make_run(source, started_at=NOW - dt.timedelta(minutes=5), status=ScrapeRun.Status.SUCCESS, slots_kept=30)
    answer = fetch_result([slot_data("A", paris(2026, 12, 3, 8))])

    first = ingest(source, answer)
    second = ingest(source, answer, now=NOW + dt.timedelta(minutes=5))

    assert (first.status, second.status) == (ScrapeRun.Status.SUSPICIOUS, ScrapeRun.Status.SUCCESS)
    assert town_hall.slots.count() == 1


def test_the_removal_share_is_configurable(settings):
    settings.SCRAPE_SUSPICIOUS_REMOVED_SHARE = 1.0
    source = make_source()
    town_hall = rich_town_hall(source, "A")

    run = ingest(source, fetch_result([slot_data("A", paris(2026, 12, 3, 8))]))

    assert run.status == ScrapeRun.Status.SUCCESS
    assert town_hall.slots.count() == 1


# Admins' corrections win over discovery.


def test_discovery_leaves_the_fields_an_admin_corrected():
    source = make_source()
    town_hall = make_town_hall(
        name="Hôtel de ville de Clichy",
        address="80 boulevard Jean-Jaurès",
        website="https://www.ville-clichy.fr",
        locked_fields=["name", "address", "website"],
    )
    make_meeting_point(source, "A", town_hall)

    ingest(
        source,
        fetch_result([slot_data("A", paris(2026, 12, 3, 10))]),
        meeting_points=[
            meeting_point_data("A", name="HOTEL DE VILLE", address="80 BD JEAN JAURES", postcode="92110")
        ],
    )

    town_hall.refresh_from_db()
    assert town_hall.name == "Hôtel de ville de Clichy"
    assert town_hall.address == "80 boulevard Jean-Jaurès"
    assert town_hall.website == "https://www.ville-clichy.fr"
    assert town_hall.booking_url == "https://rdv.example.fr/A/"  # not locked: the source's value


def test_discovery_never_blanks_a_field_the_source_does_not_give():
    source = make_source()
    town_hall = make_town_hall(phone="01 47 15 30 00", booking_url="https://rdv.clichy.example/")
    make_meeting_point(source, "A", town_hall)

    ingest(
        source,
        fetch_result([slot_data("A", paris(2026, 12, 3, 10))]),
        meeting_points=[meeting_point_data("A", phone="", booking_url="", lat=None, lon=None)],
    )

    town_hall.refresh_from_db()
    assert town_hall.phone == "01 47 15 30 00"
    assert town_hall.booking_url == "https://rdv.clichy.example/"
    assert town_hall.lat is not None
