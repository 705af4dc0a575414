"""The open-data files: their content, their Table Schemas (validated with frictionless), streaming and
caching until the next ingestion."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from frictionless import Resource, Schema, validate

from opendata import exports
from opendata.tests.factories import World
from scrapers.models import Source
from slots.models import Slot

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def body(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8")


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_town_halls_csv_lists_every_active_town_hall_with_its_next_slots(
    client: Client, world: World
) -> None:
    response = client.get("/donnees/mairies.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = {row["name"]: row for row in csv_rows(body(response))}
    assert set(rows) == {
        "Mairie de Clichy",
        "Mairie de Levallois",
        "Hôtel de ville de Grenoble",
        "Mairie de Bourg",
    }
    clichy = rows["Mairie de Clichy"]
    assert clichy == {
        "id": str(world.clichy.pk),
        "insee": "92024",
        "name": "Mairie de Clichy",
        "address": "80 boulevard Jean-Jaurès",
        "postcode": "92110",
        "lat": "48.9028",
        "lon": "2.3048",
        "phone": "01 23 45 67 89",
        "website": "https://www.ville-clichy.fr/",
        "booking": "ics",
        "reasons": "CNI PASSPORT",
        "next_slot_cni": "2026-11-21T09:00:00+01:00",
        "next_slot_passport": "2026-11-22T14:00:00+01:00",
        "next_slot_cni_passport": "",
        # Distinct starts: 09:00, 09:20 (two sources) and 14:00 within 7 days, plus 11 December within 30.
        "slots_7_days": "3",
        "slots_30_days": "4",
        "checked_at": "2026-11-20T09:58:00+01:00",
        "data_age_seconds": "120",
    }
    assert rows["Mairie de Bourg"]["booking"] == "phone"
    assert rows["Mairie de Bourg"]["checked_at"] == ""


def test_town_halls_json_holds_the_same_rows_typed(client: Client, world: World) -> None:
    response = client.get("/donnees/mairies.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    rows = json.loads(body(response))
    clichy = next(row for row in rows if row["id"] == world.clichy.pk)
    assert clichy["lat"] == 48.9028
    assert clichy["slots_30_days"] == 4
    assert clichy["next_slot_cni_passport"] is None
    assert len(rows) == 4


def test_slots_csv_gives_every_upcoming_slot_once(client: Client, world: World) -> None:
    Slot.objects.create(
        source=world.ics, town_hall=world.clichy, starts_at=world.now - dt.timedelta(hours=1), reason="CNI"
    )

    rows = csv_rows(body(client.get("/donnees/creneaux.csv")))

    clichy = [row for row in rows if row["town_hall_id"] == str(world.clichy.pk)]
    assert [(row["starts_at"], row["reason"], row["people_max"]) for row in clichy] == [
        ("2026-11-21T09:00:00+01:00", "CNI", "1"),
        # Offered by two sources (for 3 and for 1 people): once, with the largest party.
        ("2026-11-21T09:20:00+01:00", "CNI", "3"),
        ("2026-11-22T14:00:00+01:00", "PASSPORT", ""),
        ("2026-12-11T11:00:00+01:00", "PASSPORT", "2"),
    ]
    assert len(rows) == 6


def _validate(tmp_path: Path, name: str, text: str, schema: dict, fmt: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    report = validate(
        Resource(path=name, basepath=str(tmp_path), format=fmt, schema=Schema.from_descriptor(schema))
    )
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_every_file_matches_its_published_table_schema(client: Client, world: World, tmp_path: Path) -> None:
    town_halls_schema = client.get("/donnees/mairies.schema.json").json()
    slots_schema = client.get("/donnees/creneaux.schema.json").json()
    # The slots' foreign key names a resource of the data package: checked here as a plain table.
    slots_schema.pop("foreignKeys")

    _validate(tmp_path, "mairies.csv", body(client.get("/donnees/mairies.csv")), town_halls_schema, "csv")
    _validate(tmp_path, "mairies.json", body(client.get("/donnees/mairies.json")), town_halls_schema, "json")
    _validate(tmp_path, "creneaux.csv", body(client.get("/donnees/creneaux.csv")), slots_schema, "csv")


def test_a_file_breaking_its_schema_is_caught(world: World, tmp_path: Path) -> None:
    path = tmp_path / "creneaux.csv"
    path.write_text(
        "town_hall_id,starts_at,reason,people_max,booking_url\n1,demain,VISA,0,\n", encoding="utf-8"
    )
    schema = exports.slots_schema()
    schema.pop("foreignKeys")

    report = validate(Resource(path=path.name, basepath=str(tmp_path), schema=Schema.from_descriptor(schema)))

    assert not report.valid
    assert {error[1] for error in report.flatten(["rowNumber", "fieldName"])} >= {
        "starts_at",
        "reason",
        "people_max",
    }


def test_the_data_package_describes_the_three_files(client: Client, world: World) -> None:
    package = client.get("/donnees/datapackage.json").json()

    assert package["licenses"][0]["name"] == "etalab-2.0"
    assert [resource["path"] for resource in package["resources"]] == [
        "http://testserver/donnees/mairies.csv",
        "http://testserver/donnees/mairies.json",
        "http://testserver/donnees/creneaux.csv",
    ]


def test_files_answer_304_until_the_next_ingestion(client: Client, world: World) -> None:
    first = client.get("/donnees/creneaux.csv")
    body(first)
    etag, last_modified = first["ETag"], first["Last-Modified"]

    assert client.get("/donnees/creneaux.csv", headers={"If-None-Match": etag}).status_code == 304
    assert (
        client.get("/donnees/creneaux.csv", headers={"If-Modified-Since": last_modified}).status_code == 304
    )

    Source.objects.filter(pk=world.ics.pk).update(last_success_at=world.now + dt.timedelta(seconds=1))
    again = client.get("/donnees/creneaux.csv", headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert again["ETag"] != etag


def test_files_are_served_from_the_cache_until_the_next_ingestion(
    client: Client, world: World, django_assert_num_queries
) -> None:
    first = body(client.get("/donnees/mairies.csv"))
    Slot.objects.filter(town_hall=world.clichy).delete()

    # The data version (two aggregates), then the cached text: no export query.
    with django_assert_num_queries(2):
        cached = body(client.get("/donnees/mairies.csv"))
    assert cached == first

    Source.objects.filter(pk=world.ics.pk).update(last_success_at=world.now + dt.timedelta(seconds=1))
    fresh = csv_rows(body(client.get("/donnees/mairies.csv")))
    assert next(row for row in fresh if row["id"] == str(world.clichy.pk))["slots_30_days"] == "0"


def test_the_town_halls_file_takes_a_constant_number_of_queries(
    client: Client, world: World, django_assert_num_queries
) -> None:
    for n in range(10):
        Slot.objects.create(
            source=world.ics,
            town_hall=world.levallois,
            starts_at=world.now + dt.timedelta(days=n + 1, hours=3),
            reason="CNI",
        )

    # The version (two aggregates), then one query for every town hall and its annotations.
    with django_assert_num_queries(3):
        body(client.get("/donnees/mairies.csv"))


def test_the_data_page_describes_the_files_and_their_licence(client: Client, world: World) -> None:
    response = client.get("/donnees")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Licence Ouverte 2.0" in page
    assert 'href="/donnees/creneaux.csv"' in page
    assert "next_slot_passport" in page and "people_max" in page
    assert "IGN ADMIN EXPRESS" in page
    assert 'href="/donnees"' in client.get("/").content.decode()


def test_head_tells_the_version_without_producing_the_file(
    client: Client, world: World, django_assert_num_queries
) -> None:
    with django_assert_num_queries(2):
        response = client.head("/donnees/mairies.csv")

    assert response.status_code == 200
    assert response["ETag"] and response["Last-Modified"]
    assert client.post("/donnees/mairies.csv").status_code == 405
