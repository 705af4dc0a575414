"""Partial answers and poison items from a real (local) ANTS editor, scraped end to end.

Before: an editor answering `{}` for 9 of 10 batches gave a "success" run removing 90 % of the slots, and one
poison item (an id of 300 characters, a NUL byte, a slot in year 1 or 9999) failed the whole source on every run.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from scrapers.models import ScrapeRun
from scrapers.services import source_scrape
from scrapers.tests.factories import make_meeting_point, make_slot, make_source, make_town_hall
from slots.models import Slot, TownHall

pytestmark = pytest.mark.django_db


def slot_rows(day: dt.date, *hours: int, url: str = "https://rdv.example/ok") -> list[dict[str, object]]:
    return [{"datetime": f"{day:%Y-%m-%d}T{hour:02d}:00Z", "callback_url": url} for hour in hours]


def local_times(town_hall: TownHall) -> set[dt.time]:
    return {
        timezone.localtime(starts_at).time()
        for starts_at in town_hall.slots.values_list("starts_at", flat=True)
    }


@pytest.mark.parametrize("answer", ["empty", "failed"])
def test_meeting_points_left_out_of_the_answer_keep_their_slots(answer, ants_server):
    day = timezone.localdate() + dt.timedelta(days=3)
    # One meeting point per batch: ten batches, each town hall with three slots from the last good run.
    source = make_source(
        base_url=ants_server.base_url,
        config={"reasons": ["CNI"], "batch_size": 1},
        last_discovery_at=timezone.now(),
    )
    town_halls = {}
    for n in range(10):
        town_halls[f"mp{n}"] = town_hall = make_town_hall()
        make_meeting_point(source, f"mp{n}", town_hall)
        for hour in (9, 10, 11):
            make_slot(town_hall, timezone.make_aware(dt.datetime.combine(day, dt.time(hour))), reason="CNI")
    ants_server.slots = {"mp0": slot_rows(day, 14, 15)}
    others = {f"mp{n}" for n in range(1, 10)}
    if answer == "empty":
        ants_server.left_out = others  # `{}`: the editor's answer does not mention them
    else:
        ants_server.failing = others

    run = source_scrape(source_id=source.pk)

    assert run.status == ScrapeRun.Status.SUCCESS, run.error
    assert run.town_halls == 1
    assert local_times(town_halls["mp0"]) == {dt.time(14), dt.time(15)}
    for mp in sorted(others):
        town_hall = town_halls[mp]
        assert local_times(town_hall) == {dt.time(9), dt.time(10), dt.time(11)}, mp
        town_hall.refresh_from_db()
        assert town_hall.checked_at is None, mp  # not vouched for: they turn stale if this goes on
    assert Slot.objects.count() == 2 + 9 * 3


def test_poison_meeting_points_and_links_are_skipped_and_the_rest_is_stored(ants_server):
    day = timezone.localdate() + dt.timedelta(days=3)
    long_id = "x" * 300
    ants_server.meeting_points = [
        {"id": mp, "name": f"Mairie {mp}", "zip_code": "92110", "city_name": "CLICHY"} for mp in ("p1", "p2")
    ] + [
        {"id": long_id, "name": "Mairie trop longue", "zip_code": "92110", "city_name": "CLICHY"},
        {
            "id": "nul",
            "name": "Mairie\u0000de Nul",
            "zip_code": "92110",
            "city_name": "CLI\u0000CHY",
            "latitude": 48.9028,
            "longitude": 2.3048,
        },
    ]
    ants_server.slots = {
        "p1": slot_rows(day, 9, 10, 11, 12),
        "p2": slot_rows(day, 9, 10) + slot_rows(day, 11, url="https://rdv.example/\u0000nul"),
        long_id: slot_rows(day, 9, 10),
        "nul": slot_rows(day, 9, 10),
    }
    source = make_source(base_url=ants_server.base_url, config={"reasons": ["CNI"]})

    run = source_scrape(source_id=source.pk)

    assert run.status == ScrapeRun.Status.SUCCESS, run.error
    assert run.parse_errors == 1  # the meeting point whose id no column can hold
    assert "skipped: an id of 300 characters" in run.error
    stored = {mp.external_id: mp.town_hall for mp in source.meeting_points.select_related("town_hall")}
    assert set(stored) == {"p1", "p2", "nul"}
    assert stored["nul"].name == "Mairie de Nul"
    assert {mp: len(local_times(town_hall)) for mp, town_hall in stored.items()} == {
        "p1": 4,
        "p2": 3,
        "nul": 2,
    }
    # The slot whose link had a NUL byte is offered without it (the town hall's booking page is shown instead).
    assert sorted(stored["p2"].slots.values_list("booking_url", flat=True)) == [
        "",
        *["https://rdv.example/ok"] * 2,
    ]
    # And the town hall pages answer with what was stored.
    page = Client().get(f"/mairie/{stored['nul'].pk}")
    assert page.status_code == 200
    assert "Mairie de Nul" in page.content.decode()


def test_slots_in_years_1_and_9999_are_parse_errors_and_the_rest_is_stored(ants_server):
    day = timezone.localdate() + dt.timedelta(days=3)
    ants_server.meeting_points = [
        {"id": mp, "name": f"Mairie {mp}", "zip_code": "92110", "city_name": "CLICHY"} for mp in ("p1", "p2")
    ]
    poison = [
        "0001-01-01T09:00Z",
        "0001-01-01T00:30+01:00",  # before year 1 in UTC: Python cannot convert it
        "9999-12-31T23:30Z",
        "9999-12-31T23:30-05:00",  # after year 9999 in UTC
    ]
    ants_server.slots = {
        "p1": slot_rows(day, 9, 10, 11, 12),
        "p2": slot_rows(day, 9, 10)
        + [{"datetime": value, "callback_url": "https://rdv.example/ok"} for value in poison],
    }
    source = make_source(base_url=ants_server.base_url, config={"reasons": ["CNI"]})

    run = source_scrape(source_id=source.pk)

    assert run.status == ScrapeRun.Status.SUCCESS, run.error
    assert run.parse_errors == len(poison)
    stored = {mp.external_id: mp.town_hall for mp in source.meeting_points.select_related("town_hall")}
    assert {mp: len(local_times(town_hall)) for mp, town_hall in stored.items()} == {"p1": 4, "p2": 2}
