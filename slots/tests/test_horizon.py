"""Searches never look past the furthest horizon of the active sources, and say until when slots are known."""

from __future__ import annotations

import datetime as dt

import pytest

from communes.tests.factories import make_department
from slots.horizon import DEFAULT_HORIZON_DAYS, horizon_date, horizon_days
from slots.models import Slot
from slots.tests.factories import make_slot, make_town_hall, paris

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

SOURCE = Slot._meta.get_field("source").related_model  # by name: slots sits below scrapers


def make_source(name: str, horizon_days: int, **fields: object):
    return SOURCE.objects.create(
        name=name, kind="csv", base_url="https://donnees.example/c.csv", horizon_days=horizon_days, **fields
    )


def test_the_horizon_is_the_furthest_of_the_active_sources():
    assert horizon_days() == DEFAULT_HORIZON_DAYS == 150  # no source: the national hub's window
    make_source("Court", 30)
    make_source("Long", 90)
    make_source("En pause", 300, paused=True)
    make_source("Désactivée", 366, enabled=False)

    assert horizon_days() == 90
    assert horizon_date(dt.date(2026, 11, 20)) == dt.date(2027, 2, 18)


def test_the_date_picker_and_the_results_stop_at_the_horizon(client, clichy):
    SOURCE.objects.update(horizon_days=30)

    home = client.get("/").content.decode()
    results = client.get("/recherche", {"q": "92110"}).content.decode()
    before = client.get("/recherche", {"q": "92110", "avant": "2026-12-01"}).content.decode()
    beyond = client.get("/recherche", {"q": "92110", "avant": "2027-01-10"})

    assert 'max="2026-12-20"' in home
    assert "Créneaux connus jusqu’au 20 décembre 2026, en heure de Paris." in results
    assert "Créneaux d’ici le 1 décembre 2026 (connus jusqu’au 20 décembre 2026)" in before
    assert beyond.status_code == 400
    assert "Les créneaux ne sont connus que jusqu’au 20 décembre 2026" in beyond.content.decode()


def test_the_api_answers_as_far_as_slots_are_known(client, clichy):
    SOURCE.objects.update(horizon_days=30)
    # Left over from when the source looked further: past the horizon, nothing is known any more.
    far = make_town_hall(name="Mairie à l’agenda lointain", commune=clichy.commune, lat=48.903, lon=2.305)
    make_slot(far, paris(2027, 1, 15, 9))

    response = client.get("/api/v1/search", {"q": "92110", "end_date": "2027-03-01"})

    assert response.status_code == 200
    results = {r["town_hall"]["name"]: r for r in response.json()["results"]}
    assert results["Mairie à l’agenda lointain"]["next_slot"] is None
    assert results["Mairie de Clichy"]["next_slot"] is not None


def test_until_a_source_has_run_once_empty_pages_say_collection_is_under_way(client, clichy):
    far = {"lat": "43.3", "lon": "5.4", "rayon": "50"}  # no town hall around: an empty search
    make_department("07", name="Ardèche")
    before = client.get("/recherche", far).content.decode()
    department_before = client.get("/departement/07").content.decode()
    new = make_source("Première collecte", 150)  # enabled, never run (as `make run`'s demo source)

    during = client.get("/recherche", far).content.decode()
    department_during = client.get("/departement/07").content.decode()
    new.last_run_at = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    new.save()
    after = client.get("/recherche", far).content.decode()

    collecting = "Collecte des créneaux en cours…"
    assert collecting not in before and collecting not in after and collecting not in department_before
    assert "Nous ne suivons aucune mairie dans ce rayon." in before and "Nous ne suivons aucune" in after
    assert collecting in during and collecting in department_during
    assert "Nous ne suivons aucune mairie dans ce rayon." not in during
    assert "Nous ne suivons encore aucune mairie" not in department_during
