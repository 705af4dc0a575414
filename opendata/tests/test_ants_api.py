"""Our ANTS editor endpoints against the specification's examples and error cases."""

from __future__ import annotations

import pytest
from django.test import Client

from opendata.models import ApiToken
from opendata.services import api_token_create
from opendata.tests.factories import World
from slots.models import TownHall

pytestmark = pytest.mark.django_db
BASE = "/ants"


def get(client: Client, world: World, endpoint: str, token: str | None = None, **params: object):
    headers = {"X-HUB-RDV-AUTH-TOKEN": world.token if token is None else token}
    return client.get(f"{BASE}/{endpoint}", params, headers=headers)


def slots_query(world: World, *ids: object, **extra: object) -> dict[str, object]:
    params: dict[str, object] = {
        "meeting_point_ids": [str(i) for i in ids] or [str(world.clichy.pk)],
        "start_date": "2026-11-20",
        "end_date": "2026-11-30",
    }
    params.update(extra)
    return params


@pytest.mark.parametrize("token", ["", "rdvp_not-a-real-token"])
def test_it_refuses_a_missing_or_unknown_token(client: Client, world: World, token: str) -> None:
    for endpoint in ("getManagedMeetingPoints", "availableTimeSlots", "searchApplicationIds"):
        response = get(client, world, endpoint, token=token)

        assert response.status_code == 401
        assert response.json() == {"error": "X-HUB-RDV-AUTH-TOKEN header missing or invalid"}


def test_it_refuses_a_revoked_token(client: Client, world: World) -> None:
    ApiToken.objects.update(revoked_at=world.now)

    response = get(client, world, "getManagedMeetingPoints")

    assert response.status_code == 401


def test_it_lists_the_published_town_halls_as_meeting_points(client: Client, world: World) -> None:
    response = get(client, world, "getManagedMeetingPoints")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    # Levallois is forced off, Grenoble's editor already speaks to the hub, Bourg books by phone.
    assert response.json() == [
        {
            "id": str(world.clichy.pk),
            "name": "Mairie de Clichy",
            "longitude": 2.3048,
            "latitude": 48.9028,
            "public_entry_address": "80 boulevard Jean-Jaurès",
            "zip_code": "92110",
            "city_name": "Clichy",
            "website": "https://www.ville-clichy.fr/",
        }
    ]


def test_an_admin_can_force_a_town_hall_on_or_off(client: Client, world: World) -> None:
    TownHall.objects.filter(pk=world.grenoble.pk).update(published=True)
    TownHall.objects.filter(pk=world.clichy.pk).update(published=False)

    ids = [point["id"] for point in get(client, world, "getManagedMeetingPoints").json()]

    assert ids == [str(world.grenoble.pk)]


def test_it_answers_slots_in_paris_wall_clock_time_with_a_literal_z(client: Client, world: World) -> None:
    response = get(client, world, "availableTimeSlots", **slots_query(world))

    assert response.status_code == 200
    # The reason defaults to CNI; 09:20 offered by two sources is given once; an empty slot link falls back
    # to the town hall's booking page.
    assert response.json() == {
        str(world.clichy.pk): [
            {"datetime": "2026-11-21T09:00Z", "callback_url": "https://rdv.clichy.example/"},
            {
                "datetime": "2026-11-21T09:20Z",
                "callback_url": f"https://rdv.example.fr/{world.clichy.pk}/202611210920",
            },
        ]
    }


def test_it_filters_by_reason_dates_and_documents_number(client: Client, world: World) -> None:
    passport = get(client, world, "availableTimeSlots", **slots_query(world, reason="PASSPORT")).json()
    assert [slot["datetime"] for slot in passport[str(world.clichy.pk)]] == ["2026-11-22T14:00Z"]

    december = get(
        client,
        world,
        "availableTimeSlots",
        **slots_query(world, reason="PASSPORT", start_date="2026-12-01", end_date="2026-12-11"),
    ).json()
    assert [slot["datetime"] for slot in december[str(world.clichy.pk)]] == ["2026-12-11T11:00Z"]

    # Three people: only the slot taking three (the one whose capacity is unknown would be kept too).
    family = get(client, world, "availableTimeSlots", **slots_query(world, documents_number=3)).json()
    assert [slot["datetime"] for slot in family[str(world.clichy.pk)]] == ["2026-11-21T09:20Z"]


def test_it_reads_repeated_meeting_point_ids(client: Client, world: World) -> None:
    TownHall.objects.filter(pk=world.grenoble.pk).update(published=True)

    response = get(
        client, world, "availableTimeSlots", **slots_query(world, world.clichy.pk, world.grenoble.pk)
    )

    assert response.status_code == 200
    assert list(response.json()) == [str(world.clichy.pk), str(world.grenoble.pk)]
    assert response.json()[str(world.grenoble.pk)] == [
        {
            "datetime": "2026-11-21T11:00Z",
            "callback_url": f"https://rdv.example.fr/{world.grenoble.pk}/202611211100",
        }
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"reason": "VISA"}, "Invalid reason param"),
        ({"start_date": "2026-12-01", "end_date": "2026-11-01"}, "start_date is after end_date"),
        ({"start_date": "01/12/2026"}, "Invalid start_date param (YYYY-MM-DD)"),
        ({"end_date": ""}, "Invalid end_date param (YYYY-MM-DD)"),
        ({"end_date": "2026-02-30"}, "Invalid end_date param (YYYY-MM-DD)"),
        ({"documents_number": "0"}, "Invalid documents_number param"),
        ({"documents_number": "deux"}, "Invalid documents_number param"),
        ({"meeting_point_ids": []}, "meeting_point_ids param is required"),
        (
            {"start_date": "2026-01-01", "end_date": "2027-12-31"},
            "The period from start_date to end_date may not exceed 366 days",
        ),
    ],
)
def test_it_answers_400_with_the_editors_error_body(
    client: Client, world: World, params: dict[str, object], message: str
) -> None:
    response = get(client, world, "availableTimeSlots", **slots_query(world, **params))

    assert response.status_code == 400
    assert response.json() == {"error": {"code": 400, "message": message}}


@pytest.mark.parametrize("unknown", ["999999", "abc", "unpublished"])
def test_it_answers_404_for_an_unknown_or_unpublished_meeting_point(
    client: Client, world: World, unknown: str
) -> None:
    unknown = str(world.levallois.pk) if unknown == "unpublished" else unknown

    response = get(client, world, "availableTimeSlots", **slots_query(world, world.clichy.pk, unknown))

    assert response.status_code == 404
    assert response.json() == {"error": {"code": 404, "message": f"Unknown Meeting Point ID : {unknown}"}}


def test_it_knows_no_appointment_for_any_application_id(client: Client, world: World) -> None:
    response = get(client, world, "searchApplicationIds", application_ids=["AB12CD34EF", "0123456789"])

    assert response.status_code == 200
    assert response.json() == {"AB12CD34EF": [], "0123456789": []}


@pytest.mark.parametrize("ids", [[], ["too-short"], ["AB12CD34E!"]])
def test_it_refuses_bad_application_ids(client: Client, world: World, ids: list[str]) -> None:
    response = get(client, world, "searchApplicationIds", application_ids=ids)

    assert response.status_code == 400
    assert "application_ids" in response.json()["error"]["message"]


def test_it_answers_405_to_anything_but_get(client: Client, world: World) -> None:
    response = client.post(f"{BASE}/getManagedMeetingPoints", headers={"X-HUB-RDV-AUTH-TOKEN": world.token})

    assert response.status_code == 405


def test_meeting_points_take_a_constant_number_of_queries(
    client: Client, world: World, django_assert_num_queries
) -> None:
    _, token = api_token_create(name="Recette")
    for n in range(5):
        TownHall.objects.create(name=f"Mairie {n}", lat=48.9, lon=2.3, published=True)

    # The token, its last use, the town halls with their commune.
    with django_assert_num_queries(3):
        response = get(client, world, "getManagedMeetingPoints", token=token)

    assert len(response.json()) == 6
