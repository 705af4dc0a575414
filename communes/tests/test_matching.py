"""Which commune a booking source's meeting point belongs to (what ingestion links its town hall to)."""

from __future__ import annotations

from typing import Any

import pytest

from communes.matching import commune_for
from communes.tests.factories import make_commune

pytestmark = pytest.mark.django_db


def place(
    *,
    insee: str = "",
    postcode: str = "92110",
    city: str = "CLICHY",
    lat: float | None = 48.9028,
    lon: float | None = 2.3048,
) -> dict[str, Any]:
    """What a meeting point tells of its place (by default, what the scrapers' test meeting points tell)."""
    point = None if lat is None or lon is None else (lat, lon)
    return {"insee": insee, "postcode": postcode, "city": city, "point": point}


def test_the_commune_is_found_by_insee_code_first():
    make_commune("92024", name="Clichy", postcodes=("92110",))
    levallois = make_commune("92044", name="Levallois-Perret", postcodes=("92300",))

    assert commune_for(**place(insee="92044", postcode="92110", city="Clichy")) == levallois


def test_the_commune_is_found_by_postcode_and_normalised_name():
    make_commune("77305", name="Montereau-Fault-Yonne", postcodes=("77130",), department="77")
    saint = make_commune("77400", name="Saint-Germain-Laval", postcodes=("77130",), department="77")

    found = commune_for(**place(postcode="77130", city="ST GERMAIN LAVAL", lat=None, lon=None))

    assert found == saint


def test_the_arrondissement_of_the_postcode_is_preferred_to_the_whole_city():
    lyon = make_commune("69123", name="Lyon", postcodes=("69001", "69002"), department="69")
    first = make_commune(
        "69381", name="Lyon 1er Arrondissement", postcodes=("69001",), department="69", parent=lyon
    )

    assert commune_for(**place(postcode="69001", city="LYON")) == first


def test_without_a_name_match_the_nearest_commune_of_the_postcode_is_chosen():
    make_commune(
        "77305", name="Montereau-Fault-Yonne", postcodes=("77130",), department="77", lat=48.38, lon=2.95
    )
    near = make_commune(
        "77400", name="Varennes-sur-Seine", postcodes=("77130",), department="77", lat=48.37, lon=3.0
    )

    found = commune_for(**place(postcode="77130", city="Mairie annexe", lat=48.371, lon=3.001))

    assert found == near


def test_without_postcode_the_commune_with_the_nearest_town_hall_is_chosen():
    make_commune("38185", name="Grenoble", department="38", lat=45.1866, lon=5.7363)
    make_commune("92024", name="Clichy", lat=48.9028, lon=2.3048)
    meylan = make_commune("38229", name="Meylan", department="38", lat=45.2094, lon=5.7797)

    found = commune_for(**place(postcode="", city="", lat=45.21, lon=5.78))

    assert found == meylan


def test_no_commune_for_a_meeting_point_far_outside_the_imported_communes():
    make_commune("26362", name="Valence", department="26", lat=44.9334, lon=4.8924)

    # Marseille's town hall, about 190 km south: the nearest imported commune is not its commune.
    assert commune_for(**place(postcode="", city="", lat=43.2965, lon=5.3698)) is None


def test_no_commune_when_nothing_matches():
    make_commune("92024", name="Clichy", postcodes=("92110",))

    assert commune_for(**place(postcode="99999", city="Nowhere", lat=None, lon=None)) is None
