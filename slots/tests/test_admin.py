from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from slots.models import Reason, TownHall
from slots.tests.factories import make_commune, make_slot, make_town_hall, paris

pytestmark = pytest.mark.django_db


def test_town_hall_list_shows_upcoming_slot_counts_without_a_query_per_row(admin_client, frozen_now):
    commune = make_commune("92024", name="Clichy", postcodes=("92110",))
    busy = make_town_hall(name="Mairie de Clichy", commune=commune)
    make_slot(busy, paris(2026, 11, 19, 9))  # past: not counted
    make_slot(busy, paris(2026, 11, 21, 9))
    make_slot(busy, paris(2026, 11, 21, 9), reason=Reason.CNI)
    make_town_hall(name="Mairie sans créneau", commune=commune)

    admin_client.get("/admin/slots/townhall/")  # warm the cached demo-banner flag
    with CaptureQueriesContext(connection) as few:
        response = admin_client.get("/admin/slots/townhall/")
    for i in range(10):
        make_slot(make_town_hall(name=f"Mairie {i}", commune=commune), paris(2026, 12, 1, 9))
    with CaptureQueriesContext(connection) as many:
        admin_client.get("/admin/slots/townhall/")

    assert response.status_code == 200
    html = response.content.decode()
    row = re.search(r"Mairie de Clichy.*?</tr>", html, re.S).group(0)
    assert '<td class="field-upcoming_slots">2</td>' in row
    assert len(many) == len(few)


def test_town_hall_list_filters_and_searches(admin_client, frozen_now):
    make_town_hall(name="Mairie de Clichy", commune=make_commune("92024", name="Clichy"))
    make_town_hall(name="Mairie de Grenoble", commune=make_commune("38185", name="Grenoble", department="38"))

    by_department = admin_client.get("/admin/slots/townhall/", {"commune__department__code__exact": "38"})
    by_search = admin_client.get("/admin/slots/townhall/", {"q": "clichy"})

    assert "Mairie de Grenoble" in by_department.content.decode()
    assert "Mairie de Clichy" not in by_department.content.decode()
    assert "Mairie de Clichy" in by_search.content.decode()
    assert "Mairie de Grenoble" not in by_search.content.decode()


def test_admin_can_correct_and_lock_a_location(admin_client):
    town_hall = make_town_hall(name="Mairie de Clichy", lat=48.0, lon=2.0)

    response = admin_client.post(
        f"/admin/slots/townhall/{town_hall.pk}/change/",
        {
            "name": town_hall.name,
            "address": town_hall.address,
            "postcode": town_hall.postcode,
            "active": "on",
            "lat": "48.9028",
            "lon": "2.3048",
            "location_locked": "on",
            "phone": town_hall.phone,
            "website": town_hall.website,
            "booking_url": town_hall.booking_url,
            "online_booking": "on",
        },
    )

    assert response.status_code == 302
    town_hall.refresh_from_db()
    assert (town_hall.lat, town_hall.lon, town_hall.location_locked) == (48.9028, 2.3048, True)


def test_slot_list_filters_by_reason(admin_client, frozen_now):
    town_hall = make_town_hall(name="Mairie de Clichy")
    make_slot(town_hall, paris(2026, 11, 21, 9), reason=Reason.CNI)
    make_slot(town_hall, paris(2026, 11, 22, 9), reason=Reason.PASSPORT)

    response = admin_client.get("/admin/slots/slot/", {"reason__exact": "CNI"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "21 novembre 2026" in html
    assert "22 novembre 2026" not in html


def change_form_data(town_hall, **changes):
    data = {
        "name": town_hall.name,
        "address": town_hall.address,
        "postcode": town_hall.postcode,
        "active": "on",
        "lat": town_hall.lat,
        "lon": town_hall.lon,
        "phone": town_hall.phone,
        "website": town_hall.website,
        "booking_url": town_hall.booking_url,
        "online_booking": "on",
        "takes_cni": "on",
        "takes_passport": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_fields_an_admin_edits_are_locked_against_discovery(admin_client):
    town_hall = make_town_hall(name="HOTEL DE VILLE", phone="")

    response = admin_client.post(
        f"/admin/slots/townhall/{town_hall.pk}/change/",
        change_form_data(town_hall, name="Hôtel de ville de Clichy", phone="01 47 15 30 00"),
    )

    assert response.status_code == 302
    town_hall.refresh_from_db()
    assert town_hall.name == "Hôtel de ville de Clichy"
    assert town_hall.locked_fields == ["name", "phone"]
    page = admin_client.get("/admin/slots/townhall/").content.decode()
    assert "name, phone" in page


def test_an_admin_unlocks_a_field_by_unticking_it(admin_client):
    town_hall = make_town_hall(locked_fields=["name", "phone"])

    response = admin_client.post(
        f"/admin/slots/townhall/{town_hall.pk}/change/", change_form_data(town_hall, locked_fields=["phone"])
    )

    assert response.status_code == 302
    town_hall.refresh_from_db()
    assert town_hall.locked_fields == ["phone"]


def test_moving_the_point_in_the_admin_locks_the_location(admin_client):
    town_hall = make_town_hall(lat=48.0, lon=2.0)

    admin_client.post(
        f"/admin/slots/townhall/{town_hall.pk}/change/",
        change_form_data(town_hall, lat="48.9028", lon="2.3048"),
    )

    town_hall.refresh_from_db()
    assert town_hall.location_locked is True


def test_admin_adds_a_town_hall_no_source_follows_at_its_commune_s_point(admin_client):
    commune = make_commune("92009", name="Bois-Colombes", lat=48.9175, lon=2.2683)

    response = admin_client.post(
        "/admin/slots/townhall/add/",
        {
            "name": "Mairie de Bois-Colombes",
            "commune": commune.pk,
            "postcode": "92270",
            "active": "on",
            "email": "etat-civil@bois-colombes.example",
            "booking": "walk_in",
            "takes_cni": "on",
            "locked_fields": [],
        },
    )

    assert response.status_code == 302, response.content.decode()
    town_hall = TownHall.objects.get(name="Mairie de Bois-Colombes")
    assert (town_hall.lat, town_hall.lon) == (48.9175, 2.2683)
    assert (town_hall.booking, town_hall.email) == ("walk_in", "etat-civil@bois-colombes.example")
    assert (town_hall.takes_cni, town_hall.takes_passport, town_hall.online_booking) == (True, False, False)
    form = admin_client.get(f"/admin/slots/townhall/{town_hall.pk}/change/").content.decode()
    assert 'name="booking"' in form
    assert 'name="takes_passport"' in form


def test_admin_cannot_add_a_town_hall_nowhere(admin_client):
    response = admin_client.post(
        "/admin/slots/townhall/add/", {"name": "Mairie perdue", "active": "on", "booking": "phone"}
    )

    assert response.status_code == 200
    assert "Give a location, or a commune whose town-hall point is known." in response.content.decode()
    assert not TownHall.objects.filter(name="Mairie perdue").exists()
