from __future__ import annotations

import pytest

from slots.models import Reason
from slots.tests.factories import make_commune, make_slot, make_town_hall, paris

pytestmark = pytest.mark.django_db


def api_search(client, **params):
    return client.get("/api/v1/search", params)


# /api/v1/communes


def test_communes_suggests_by_name_prefix(client, clichy):
    response = client.get("/api/v1/communes", {"q": "cli"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "results": [
            {
                "insee": "92024",
                "name": "Clichy",
                "department": "92",
                "postcodes": ["92110"],
                "population": 63_000,
                "lat": 48.9028,
                "lon": 2.3048,
            }
        ]
    }


def test_communes_suggests_by_postcode_prefix(client, clichy):
    response = client.get("/api/v1/communes", {"q": "923"})

    assert [commune["name"] for commune in response.json()["results"]] == ["Levallois-Perret"]


def test_communes_honours_the_limit(client, shared_postcode):
    response = client.get("/api/v1/communes", {"q": "77130", "limit": "2"})

    assert [commune["insee"] for commune in response.json()["results"]] == ["77305", "77483"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Le paramètre q"),
        ({"q": "  "}, "Le paramètre q"),
        ({"q": "x" * 10_000}, "trop long"),
        ({"q": "cli", "limit": "abc"}, "limit"),
        ({"q": "cli", "limit": "0"}, "limit"),
        ({"q": "cli", "limit": "500"}, "limit"),
    ],
)
def test_communes_rejects_bad_parameters(client, params, message):
    response = client.get("/api/v1/communes", params)

    assert response.status_code == 400
    assert message in response.json()["error"]


# /api/v1/search


def test_search_returns_ranked_town_halls(client, clichy):
    response = api_search(client, q="92110", radius_km="20", reason="PASSPORT", documents_number="1")

    assert response.status_code == 200
    body = response.json()
    assert body["origin"] == {"insee": "92024", "name": "Clichy", "lat": 48.9028, "lon": 2.3048}
    assert "candidates" not in body
    assert "other_communes" not in body
    assert [result["town_hall"]["name"] for result in body["results"]] == [
        "Mairie de Levallois-Perret",
        "Mairie de Clichy",
        "Mairie d'Asnières-sur-Seine",
    ]
    clichy_result = body["results"][1]
    assert clichy_result == {
        "town_hall": {
            "id": clichy.town_hall.pk,
            "name": "Mairie de Clichy",
            "address": "80 boulevard Jean-Jaurès",
            "postcode": "92110",
            "insee": "92024",
            "lat": 48.9028,
            "lon": 2.3048,
            "phone": "01 47 15 30 00",
            "email": "",
            "website": "https://www.ville-clichy.fr/",
            "booking": "online",
            "booking_url": "https://rdv.example.fr/clichy/",
            "reasons": ["CNI", "PASSPORT"],
        },
        "distance_km": 0.0,
        "next_slot": {
            "datetime": "2026-12-01T09:00:00+01:00",
            "booking_url": "https://rdv.example.fr/clichy/2026-12-01T09:00",
        },
        "slots_count": 2,
        "data_age_seconds": 240,
        "stale": False,
    }
    levallois = body["results"][0]
    assert levallois["stale"] is True
    assert levallois["data_age_seconds"] == 3 * 3600
    assert levallois["distance_km"] == pytest.approx(1.56, abs=0.01)
    asnieres = body["results"][2]
    assert (asnieres["next_slot"], asnieres["slots_count"], asnieres["data_age_seconds"]) == (None, 0, None)


def test_search_writes_summer_datetimes_with_their_offset(client, clichy):
    make_slot(clichy.town_hall, paris(2027, 4, 2, 8, 30), reason=Reason.CNI_PASSPORT)

    body = api_search(client, q="92110", reason="CNI-PASSPORT", end_date="2027-04-30").json()

    assert body["results"][0]["next_slot"]["datetime"] == "2027-04-02T08:30:00+02:00"


def test_search_defaults_and_filters(client, clichy):
    passport = api_search(client, q="Clichy").json()
    cni = api_search(client, q="Clichy", reason="CNI").json()
    three = api_search(client, q="Clichy", documents_number="3").json()

    assert passport["results"][1]["slots_count"] == 2
    assert cni["results"][0]["town_hall"]["name"] == "Mairie de Clichy"
    assert cni["results"][0]["slots_count"] == 1
    assert [r["slots_count"] for r in three["results"]] == [2, 0, 0]


def test_search_by_insee_code(client, clichy):
    body = api_search(client, q="92044", radius_km="1").json()

    assert body["origin"]["name"] == "Levallois-Perret"
    assert [result["town_hall"]["name"] for result in body["results"]] == ["Mairie de Levallois-Perret"]


def test_insee_says_which_commune_when_its_code_is_another_communes_postcode(client):
    # Ferney-Voltaire's INSEE code 01160 is Neuville-sur-Ain's postcode.
    make_commune(
        "01160", name="Ferney-Voltaire", postcodes=("01210",), department="01", lat=46.2558, lon=6.1081
    )
    make_commune(
        "01273", name="Neuville-sur-Ain", postcodes=("01160",), department="01", lat=46.0717, lon=5.3769
    )

    by_q = api_search(client, q="01160").json()
    by_insee = api_search(client, insee="01160").json()

    assert by_q["origin"]["name"] == "Neuville-sur-Ain"
    assert by_insee["origin"] == {"insee": "01160", "name": "Ferney-Voltaire", "lat": 46.2558, "lon": 6.1081}


@pytest.mark.parametrize(
    ("insee", "message"),
    [
        ("0116", "Code INSEE (insee) invalide"),
        ("99999", "Aucune commune connue ne porte le code INSEE 99999"),
    ],
)
def test_a_bad_or_unknown_insee_code_is_a_400(client, insee, message):
    response = api_search(client, insee=insee)

    assert response.status_code == 400
    assert message in response.json()["error"]


def test_search_by_point(client, clichy):
    body = api_search(client, lat="48.8950", lon="2.2870", radius_km="1", sort="nearest").json()

    assert body["origin"] == {"insee": None, "name": None, "lat": 48.895, "lon": 2.287}
    assert [result["town_hall"]["name"] for result in body["results"]] == ["Mairie de Levallois-Perret"]


def test_search_sorts_by_distance(client, clichy):
    body = api_search(client, q="92110", sort="nearest").json()

    distances = [result["distance_km"] for result in body["results"][:2]]
    assert distances == sorted(distances)
    assert body["results"][0]["town_hall"]["name"] == "Mairie de Clichy"


def test_search_date_window(client, clichy):
    body = api_search(client, q="92110", start_date="2026-11-26", end_date="2026-12-01").json()

    by_name = {result["town_hall"]["name"]: result for result in body["results"]}
    assert by_name["Mairie de Clichy"]["slots_count"] == 1
    assert by_name["Mairie de Levallois-Perret"]["next_slot"] is None


def test_search_lists_other_communes_of_a_shared_postcode(client, shared_postcode, frozen_now):
    make_town_hall(name="Mairie de Montereau", lat=48.3853, lon=2.9508)

    body = api_search(client, q="77130").json()

    assert body["origin"]["name"] == "Montereau-Fault-Yonne"
    assert [commune["insee"] for commune in body["other_communes"]] == ["77059", "77483"]
    assert body["other_communes"][0]["postcodes"] == ["77130"]
    assert [result["town_hall"]["name"] for result in body["results"]] == ["Mairie de Montereau"]


def test_search_returns_candidates_for_an_ambiguous_name(client, homonyms):
    response = api_search(client, q="Saint-Denis")

    assert response.status_code == 200
    body = response.json()
    assert body["origin"] is None
    assert body["results"] == []
    assert {(c["insee"], c["department"]) for c in body["candidates"]} == {("93066", "93"), ("11339", "11")}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Indiquez un code postal"),
        ({"q": ""}, "Indiquez un code postal"),
        ({"q": "abc"}, "Aucune commune ne correspond à « abc »"),
        ({"q": "99999"}, "Aucune commune ne correspond au code postal « 99999 »"),
        ({"q": "!!!"}, "n’est ni un nom de commune ni un code postal"),
        ({"q": "x" * 10_000}, "trop long"),
        ({"q": "92110", "radius_km": "-3"}, "entre 1 et 100 km"),
        ({"q": "92110", "radius_km": "101"}, "entre 1 et 100 km"),
        ({"q": "92110", "radius_km": "loin"}, "radius_km"),
        ({"q": "92110", "reason": "FOO"}, "Motif (reason) inconnu"),
        ({"q": "92110", "documents_number": "0"}, "documents_number"),
        ({"q": "92110", "documents_number": "7"}, "documents_number"),
        ({"q": "92110", "sort": "random"}, "Tri (sort) inconnu"),
        ({"q": "92110", "start_date": "2026-12-10", "end_date": "2026-12-01"}, "précède"),
        ({"q": "92110", "start_date": "2026-11-20", "end_date": "2027-11-20"}, "six mois"),
        ({"q": "92110", "start_date": "9999-12-31"}, "l’année qui vient"),
        ({"q": "92110", "start_date": "01/12/2026"}, "start_date"),
        ({"q": "92110", "end_date": "2026-02-30"}, "end_date"),
        ({"lat": "200", "lon": "2.3"}, "La latitude (lat) doit être comprise entre -90 et 90."),
        ({"lat": "48.9", "lon": "-181"}, "longitude (lon)"),
        ({"lat": "nan", "lon": "2.3"}, "latitude (lat)"),
        ({"lat": "48.9"}, "à la fois la latitude (lat) et la longitude (lon)"),
    ],
)
def test_search_rejects_bad_parameters_with_a_french_message(client, clichy, params, message):
    response = api_search(client, **params)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert message in response.json()["error"]


def test_search_only_answers_get(client):
    assert client.post("/api/v1/search", {"q": "92110"}).status_code == 405


def test_search_runs_a_constant_number_of_queries(client, clichy, django_assert_num_queries):
    for i in range(15):
        town_hall = make_town_hall(name=f"Mairie voisine {i}", commune=clichy.commune, lat=48.90 + i / 500)
        make_slot(town_hall, paris(2026, 12, 5, 9 + i % 8))

    # The horizon of the sources, geocoding the postcode, then the search itself.
    with django_assert_num_queries(3):
        response = api_search(client, q="92110")

    assert len(response.json()["results"]) == 18
