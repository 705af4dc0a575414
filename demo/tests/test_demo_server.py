"""The demo booking server speaks the ANTS editor API, with generated slots that move every five minutes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import requests
import time_machine

from demo.generator import DemoTownHall, demo_free_slots, demo_town_halls_select, town_hall_name
from demo.server import DEMO_TOKEN, DemoServer, DemoSite
from slots.tests.factories import make_commune

PARIS = ZoneInfo("Europe/Paris")
# A Tuesday morning, at the start of a five-minute bucket.
TUESDAY_MORNING = dt.datetime(2026, 3, 10, 10, 0, 0, tzinfo=PARIS)
HEADERS = {"X-HUB-RDV-AUTH-TOKEN": DEMO_TOKEN}
ANTS_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\dZ$")


def town_hall(id: str, name: str = "Mairie de Clichy") -> DemoTownHall:
    return DemoTownHall(
        id=id,
        name=name,
        longitude=2.3048,
        latitude=48.9028,
        public_entry_address="80 boulevard Jean-Jaurès, 92110 Clichy",
        zip_code="92110",
        city_name="CLICHY",
    )


@pytest.fixture
def server() -> Iterator[DemoServer]:
    demo = DemoServer(
        ("127.0.0.1", 0),
        sites={"": DemoSite(town_halls=[town_hall("92024"), town_hall("38185", "Grenoble")])},
    )
    demo.start_in_thread()
    yield demo
    demo.shutdown()
    demo.server_close()


def slots(server: DemoServer, **params: object) -> requests.Response:
    query = {"start_date": "2026-03-10", "end_date": "2026-06-10", "reason": "CNI", "documents_number": 1}
    query.update(params)
    return requests.get(f"{server.url}/availableTimeSlots", params=query, headers=HEADERS, timeout=10)


def test_it_lists_its_meeting_points_with_the_ants_fields(server: DemoServer) -> None:
    response = requests.get(f"{server.url}/getManagedMeetingPoints", headers=HEADERS, timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    points = response.json()
    assert [p["id"] for p in points] == ["92024", "38185"]
    assert points[0] == {
        "id": "92024",
        "name": "Mairie de Clichy",
        "longitude": 2.3048,
        "latitude": 48.9028,
        "public_entry_address": "80 boulevard Jean-Jaurès, 92110 Clichy",
        "zip_code": "92110",
        "city_name": "CLICHY",
    }


@time_machine.travel(TUESDAY_MORNING, tick=False)
def test_it_answers_slots_for_repeated_meeting_point_ids(server: DemoServer) -> None:
    response = slots(server, meeting_point_ids=["92024", "38185"])

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"92024", "38185"}
    all_slots = body["92024"] + body["38185"]
    assert all_slots, "the demo offers slots within three months"
    for slot in all_slots:
        assert ANTS_DATETIME.match(slot["datetime"])
        starts_at = dt.datetime.strptime(slot["datetime"], "%Y-%m-%dT%H:%MZ")
        # Paris wall-clock working hours, within the asked window, never in the past.
        assert dt.date(2026, 3, 10) <= starts_at.date() <= dt.date(2026, 6, 10)
        assert starts_at > dt.datetime(2026, 3, 10, 10, 0)
        assert starts_at.weekday() != 6
        assert dt.time(8, 0) <= starts_at.time() < dt.time(17, 30)
        assert slot["callback_url"].startswith(f"{server.url}/rendez-vous/")


@time_machine.travel(TUESDAY_MORNING, tick=False)
def test_its_booking_page_says_in_french_that_nothing_is_booked(server: DemoServer) -> None:
    slot = slots(server, meeting_point_ids="92024").json()["92024"][0]

    page = requests.get(slot["callback_url"], timeout=10)

    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]
    assert "Ceci est une démonstration" in page.text
    assert "Aucun rendez-vous n’a été pris" in page.text
    assert "Mairie de Clichy" in page.text


def test_its_booking_page_survives_nonsense_parameters(server: DemoServer) -> None:
    page = requests.get(f"{server.url}/rendez-vous/92024?date=hier&motif=X&personnes=-1", timeout=10)

    assert page.status_code == 200
    assert "Ceci est une démonstration" in page.text


@pytest.mark.parametrize("headers", [{}, {"X-HUB-RDV-AUTH-TOKEN": "wrong"}])
def test_it_refuses_requests_without_the_right_token(server: DemoServer, headers: dict[str, str]) -> None:
    for endpoint in ("getManagedMeetingPoints", "availableTimeSlots?meeting_point_ids=92024"):
        response = requests.get(f"{server.url}/{endpoint}", headers=headers, timeout=10)

        assert response.status_code == 401
        assert "error" in response.json()


def test_it_rejects_an_unknown_reason(server: DemoServer) -> None:
    response = slots(server, meeting_point_ids="92024", reason="VISA")

    assert response.status_code == 400
    assert response.json() == {"error": {"code": 400, "message": "Invalid reason param"}}


def test_it_rejects_a_start_after_the_end(server: DemoServer) -> None:
    response = slots(server, meeting_point_ids="92024", start_date="2026-05-01", end_date="2026-04-01")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "start_date is after end_date"


def test_it_rejects_an_unknown_meeting_point(server: DemoServer) -> None:
    response = slots(server, meeting_point_ids=["92024", "99999"])

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Unknown Meeting Point ID : 99999"


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "10/03/2026"},
        {"documents_number": "0"},
        {"documents_number": "abc"},
        {"meeting_point_ids": ""},
    ],
)
def test_it_rejects_malformed_parameters_with_details(server: DemoServer, params: dict[str, str]) -> None:
    response = slots(server, **{"meeting_point_ids": "92024", **params})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


def test_it_knows_no_application_ids(server: DemoServer) -> None:
    response = requests.get(
        f"{server.url}/searchApplicationIds",
        params={"application_ids": "ABCDE12345"},
        headers=HEADERS,
        timeout=10,
    )

    assert response.status_code == 200
    assert response.json() == {}


def test_slots_are_stable_within_a_time_bucket_and_change_across_buckets(server: DemoServer) -> None:
    def fetch() -> list[tuple[str, str]]:
        body = slots(server, meeting_point_ids=["92024", "38185"]).json()
        return sorted((mp, slot["datetime"]) for mp, items in body.items() for slot in items)

    with time_machine.travel(TUESDAY_MORNING + dt.timedelta(seconds=10), tick=False):
        first = fetch()
    with time_machine.travel(TUESDAY_MORNING + dt.timedelta(minutes=4, seconds=50), tick=False):
        same_bucket = fetch()
    with time_machine.travel(TUESDAY_MORNING + dt.timedelta(minutes=5, seconds=10), tick=False):
        next_bucket = fetch()

    assert first == same_bucket
    assert next_bucket != first
    # A few slots come and go; the calendar does not start over.
    assert len(set(first) ^ set(next_bucket)) < len(first) / 10


def test_a_family_gets_the_starts_of_enough_consecutive_free_slots() -> None:
    kwargs = {"start": dt.date(2026, 3, 10), "end": dt.date(2026, 6, 10), "now": TUESDAY_MORNING}

    alone = demo_free_slots("92024", reason="CNI", documents_number=1, **kwargs)
    family = demo_free_slots("92024", reason="CNI", documents_number=3, **kwargs)

    assert family
    assert set(family) < set(alone)


def test_no_slot_on_sundays_and_french_public_holidays() -> None:
    # Easter Monday 6 April, 1 and 8 May, Ascension 14 May and Whit Monday 25 May 2026.
    closed = {
        dt.date(2026, 4, 6),
        dt.date(2026, 5, 1),
        dt.date(2026, 5, 8),
        dt.date(2026, 5, 14),
        dt.date(2026, 5, 25),
    }
    days = set()
    for n in range(30):
        found = demo_free_slots(
            f"th{n}",
            start=dt.date(2026, 3, 10),
            end=dt.date(2026, 6, 10),
            reason="PASSPORT",
            documents_number=1,
            now=TUESDAY_MORNING,
        )
        days |= {at.date() for at in found}

    assert days
    assert not days & closed
    assert all(day.weekday() != 6 for day in days)
    assert any(day.weekday() == 0 for day in days)  # ordinary Mondays still open


def test_some_town_halls_are_booked_out_for_weeks_and_others_are_not() -> None:
    first_free = []
    for n in range(50):
        found = demo_free_slots(
            f"th{n}",
            start=dt.date(2026, 3, 10),
            end=dt.date(2026, 6, 10),
            reason="PASSPORT",
            documents_number=1,
            now=TUESDAY_MORNING,
        )
        if found:
            first_free.append((found[0].date() - dt.date(2026, 3, 10)).days)

    assert len(first_free) >= 45
    assert min(first_free) <= 3
    assert sum(1 for days in first_free if days >= 21) >= 5


@pytest.mark.django_db
def test_it_serves_real_town_halls_spread_over_the_departments() -> None:
    for n in range(12):
        make_commune(
            f"75{n + 101:03d}",
            name=f"Paris {n + 1}{'er' if n == 0 else 'e'} Arrondissement",
            kind="ARM",
            department="75",
            population=200_000 - n,
            postcodes=(f"750{n + 1:02d}",),
            town_hall_address=f"{n + 1} rue de Paris\n750{n + 1:02d} Paris",
        )
    make_commune(
        "92024",
        name="Clichy",
        department="92",
        population=60_000,
        postcodes=("92110",),
        town_hall_address="80 boulevard Jean-Jaurès\n92110 Clichy",
    )
    make_commune(
        "92012",
        name="Boulogne-Billancourt",
        department="92",
        population=120_000,
        location_source="outline",
        town_hall_address="26 avenue André-Morizet\n92100 Boulogne",
    )
    make_commune(
        "38185",
        name="Grenoble",
        department="38",
        population=158_000,
        town_hall_address="11 boulevard Jean-Pain\n38000 Grenoble",
    )

    chosen = demo_town_halls_select(shares=[(("75", "92"), 4), (("38",), 1)])

    # Turn by turn across departments, most populous first; a point outside the outline is not a town hall.
    assert [th.id for th in chosen] == ["75101", "92024", "75102", "75103", "38185"]
    clichy = chosen[1]
    assert clichy.public_entry_address == "80 boulevard Jean-Jaurès, 92110 Clichy"
    assert clichy.zip_code == "92110"
    assert clichy.city_name == "CLICHY"
    assert clichy.name == "Mairie de Clichy"
    paris_1er = chosen[0]
    assert paris_1er.name == "Mairie du 1er arrondissement de Paris"
    assert paris_1er.city_name == "PARIS"
    assert paris_1er.zip_code == "75001"


@pytest.mark.django_db
def test_it_gives_the_ordinary_postcode_of_a_town_hall_with_a_cedex_address() -> None:
    make_commune(
        "92025",
        name="Colombes",
        department="92",
        postcodes=("92700",),
        town_hall_address="Place de la République\n92701 Colombes Cedex",
    )

    (colombes,) = demo_town_halls_select(shares=[(("92",), 1)])

    assert colombes.zip_code == "92700"
    assert colombes.public_entry_address == "Place de la République, 92701 Colombes Cedex"


@pytest.mark.parametrize(
    ("commune", "town_hall"),
    [
        ("Grenoble", "Mairie de Grenoble"),
        ("Argenteuil", "Mairie d’Argenteuil"),
        ("Évry-Courcouronnes", "Mairie d’Évry-Courcouronnes"),
        ("Le Plessis-Robinson", "Mairie du Plessis-Robinson"),
        ("Les Mureaux", "Mairie des Mureaux"),
        ("La Tronche", "Mairie de La Tronche"),
        ("L'Haÿ-les-Roses", "Mairie de L’Haÿ-les-Roses"),
        ("Herblay-sur-Seine", "Mairie d’Herblay-sur-Seine"),
        ("Lyon 3e Arrondissement", "Mairie du 3e arrondissement de Lyon"),
    ],
)
def test_town_halls_are_named_as_people_say_it(commune: str, town_hall: str) -> None:
    assert town_hall_name(commune) == town_hall
