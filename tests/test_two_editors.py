"""Two ANTS editors listing the same town hall: one place for the citizen, each editor's slots its own.

End to end through real local HTTP servers, the connectors, the ingestion and the search. Before, the second
editor created a second "Mairie de Clichy" (the search listed it twice, one of them "Aucun créneau"), and each
editor's run deleted the other's slots.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from pytest_httpserver import HTTPServer

from scrapers.models import MeetingPoint, ScrapeRun
from scrapers.services import source_scrape
from scrapers.tests.factories import make_commune, make_source, paris
from slots.models import Slot, TownHall
from slots.search import town_halls_search

pytestmark = pytest.mark.django_db

NOW = paris(2026, 12, 1, 9, 0)

EDITOR_A = [
    {
        "id": 21,
        "name": "Mairie de Clichy",
        "latitude": 48.9028,
        "longitude": 2.3048,
        "public_entry_address": "80 boulevard Jean-Jaurès",
        "zip_code": "92110",
        "city_name": "CLICHY",
    }
]
# The same town hall, another id, another name, a point 80 m away.
EDITOR_B = [
    {
        "id": "CLI-71",
        "name": "HOTEL DE VILLE CLICHY LA GARENNE",
        "latitude": 48.90352,
        "longitude": 2.30495,
        "public_entry_address": "80 BD JEAN JAURES 92110 CLICHY",
        "zip_code": "92110",
        "city_name": "CLICHY",
    }
]


def answer(meeting_point: str, *times: str) -> dict:
    return {
        meeting_point: [
            {"datetime": f"{t}Z", "callback_url": f"https://{meeting_point}.example/{t}"} for t in times
        ]
    }


@pytest.fixture
def editors(settings) -> Iterator[tuple[HTTPServer, HTTPServer]]:
    servers = (HTTPServer(host="127.0.0.1", port=0), HTTPServer(host="127.0.0.1", port=0))
    for server in servers:
        server.start()
    settings.SCRAPER_ALLOWED_HOSTS = [f"127.0.0.1:{server.port}" for server in servers]
    settings.SCRAPER_POLITE_DELAY = 0
    with time_machine.travel(NOW, tick=False):
        yield servers
    for server in servers:
        server.clear()
        server.stop()


def serve(server: HTTPServer, meeting_points: list[dict], slots: dict) -> None:
    server.clear()
    server.expect_request("/api/getManagedMeetingPoints").respond_with_json(meeting_points)
    server.expect_request("/api/availableTimeSlots").respond_with_json(slots)


def test_two_editors_of_one_town_hall_give_one_result_with_both_editors_slots(editors) -> None:
    server_a, server_b = editors
    clichy = make_commune("92024", name="Clichy", postcodes=("92110",), lat=48.9028, lon=2.3048)
    source_a = make_source(
        name="Éditeur A", base_url=server_a.url_for("/api"), config={"reasons": ["PASSPORT"]}
    )
    source_b = make_source(
        name="Éditeur B", base_url=server_b.url_for("/api"), config={"reasons": ["PASSPORT"]}
    )
    serve(server_a, EDITOR_A, answer("21", "2026-12-03T10:00", "2026-12-03T10:30"))
    serve(server_b, EDITOR_B, answer("CLI-71", "2026-12-03T10:30", "2026-12-04T14:00"))

    runs = [source_scrape(source_id=source.pk, now=NOW) for source in (source_a, source_b)]

    assert [run.status for run in runs] == [ScrapeRun.Status.SUCCESS] * 2
    town_hall = TownHall.objects.get()
    assert town_hall.name == "Mairie de Clichy"  # the first source's; the second links to it
    assert town_hall.commune == clichy
    assert set(MeetingPoint.objects.values_list("external_id", "town_hall")) == {
        ("21", town_hall.pk),
        ("CLI-71", town_hall.pk),
    }
    results = town_halls_search(lat=48.9028, lon=2.3048, radius_km=5, reason="PASSPORT", now=NOW)
    assert [result.town_hall.pk for result in results] == [town_hall.pk]
    # 10:30 is offered by both editors: three slots for the citizen, not four.
    assert results[0].slots_count == 3
    assert results[0].next_slot.starts_at == paris(2026, 12, 3, 10)

    # Editor A's next run no longer has 10:00: only its own slot goes, editor B's stay.
    serve(server_a, EDITOR_A, answer("21", "2026-12-03T10:30"))
    later = NOW + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        assert source_scrape(source_id=source_a.pk, now=later).status == ScrapeRun.Status.SUCCESS

    assert set(Slot.objects.values_list("source__name", "starts_at")) == {
        ("Éditeur A", paris(2026, 12, 3, 10, 30)),
        ("Éditeur B", paris(2026, 12, 3, 10, 30)),
        ("Éditeur B", paris(2026, 12, 4, 14)),
    }


def test_a_meeting_point_elsewhere_in_the_commune_is_another_town_hall(editors) -> None:
    server_a, server_b = editors
    make_commune("92024", name="Clichy", postcodes=("92110",), lat=48.9028, lon=2.3048)
    annexe = [
        {
            **EDITOR_B[0],
            "id": "CLI-ANNEXE",
            "name": "Mairie annexe de Clichy",
            "public_entry_address": "12 rue Martre",
            "latitude": 48.9072,  # about 500 m north
        }
    ]
    for server, points in ((server_a, EDITOR_A), (server_b, annexe)):
        serve(server, points, {str(points[0]["id"]): []})
        source = make_source(base_url=server.url_for("/api"), config={"reasons": ["PASSPORT"]})
        source_scrape(source_id=source.pk, now=NOW)

    assert sorted(TownHall.objects.values_list("name", flat=True)) == [
        "Mairie annexe de Clichy",
        "Mairie de Clichy",
    ]
