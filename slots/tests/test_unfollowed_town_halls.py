"""Town halls no source follows (phone, walk-in, a booking page we do not read) in search, API and pages."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from slots.models import Slot, TownHall
from slots.tests.factories import make_commune, make_slot, make_town_hall, paris
from slots.tests.test_pages import get, item_names
from slots.tests.test_views import result_item, result_names, search

HOURS = [["lundi", "vendredi", [["08:30:00", "12:00:00"], ["13:30:00", "17:30:00"]]]]


@dataclass
class Around:
    saint_ouen: TownHall  # online on its own site, contact from the directory only, passports only
    bois_colombes: TownHall  # walk-in, identity cards only


@pytest.fixture
def around(clichy) -> Around:
    """Around Clichy's fixture (two town halls with a slot, Asnières by phone): two more, no source."""
    saint_ouen_commune = make_commune(
        "93070",
        name="Saint-Ouen-sur-Seine",
        department="93",
        lat=48.9119,
        lon=2.3339,
        phone="01 49 45 67 89",
        email="accueil@saint-ouen.example",
        website="https://www.saint-ouen.example/",
        opening_hours=HOURS,
    )
    bois_colombes_commune = make_commune("92009", name="Bois-Colombes", lat=48.9175, lon=2.2683)
    return Around(
        saint_ouen=make_town_hall(
            name="Mairie de Saint-Ouen-sur-Seine",
            commune=saint_ouen_commune,
            postcode="93400",
            lat=48.9119,
            lon=2.3339,
            phone="",
            website="",
            booking_url="https://rdv.saint-ouen.example/passeport",
            online_booking=False,
            booking=TownHall.Booking.ONLINE,
            takes_cni=False,
        ),
        bois_colombes=make_town_hall(
            name="Mairie de Bois-Colombes",
            commune=bois_colombes_commune,
            postcode="92270",
            lat=48.9175,
            lon=2.2683,
            phone="",
            booking_url="",
            online_booking=False,
            booking=TownHall.Booking.WALK_IN,
            takes_passport=False,
        ),
    )


def follow(town_hall: TownHall, *, kind: str = "ants") -> None:
    """A source following `town_hall`, through the models' relations (slots sits below scrapers)."""
    source_model = Slot._meta.get_field("source").related_model
    source = source_model.objects.create(
        name=f"Éditeur {kind}", kind=kind, base_url="https://rdv.example.fr/"
    )
    town_hall.meeting_points.create(source=source, external_id=f"mp-{town_hall.pk}")
    town_hall.online_booking = True
    town_hall.save()


# Search page


def test_search_lists_them_after_those_with_a_slot_nearest_first_saying_how_to_book(client, clichy, around):
    html = search(client, q="92110", rayon="20", motif="passeport").content.decode()

    assert result_names(html) == [
        "Mairie de Levallois-Perret",  # 25 November
        "Mairie de Clichy",  # 1 December
        "Mairie d&#x27;Asnières-sur-Seine",  # 1.5 km, by phone
        "Mairie de Saint-Ouen-sur-Seine",  # 2.2 km, online on its own site
    ]  # Bois-Colombes takes identity cards only
    asnieres = result_item(html, clichy.asnieres)
    assert 'Rendez-vous par téléphone au <a href="tel:0141111213">01 41 11 12 13</a>' in asnieres
    assert "Réserver" not in asnieres
    saint_ouen = result_item(html, around.saint_ouen)
    assert re.search(
        r'<a href="https://rdv.saint-ouen.example/passeport"[^>]*>Prise de rendez-vous en ligne sur le site de '
        r"la mairie<",
        saint_ouen,
    )
    # Its phone and website come from the commune's directory entry.
    assert '<a href="tel:0149456789">01 49 45 67 89</a>' in saint_ouen
    assert 'href="https://www.saint-ouen.example/"' in saint_ouen


def test_an_identity_card_search_lists_walk_in_town_halls_taking_them_only(client, clichy, around):
    html = search(client, q="92110", rayon="20", motif="cni").content.decode()

    names = result_names(html)
    assert names[0] == "Mairie de Clichy"  # its identity-card slot
    assert "Mairie de Bois-Colombes" in names
    assert "Mairie de Saint-Ouen-sur-Seine" not in names  # passports only
    assert "Sans rendez-vous, aux horaires d’ouverture." in result_item(html, around.bois_colombes)
    both = result_names(search(client, q="92110", rayon="20", motif="cni-passeport").content.decode())
    assert "Mairie de Bois-Colombes" not in both
    assert "Mairie de Saint-Ouen-sur-Seine" not in both


def test_a_town_hall_a_source_follows_is_one_result_with_the_source_s_wording(client, clichy, around):
    follow(clichy.asnieres)  # it still says "phone": the source's slots now tell the truth

    html = search(client, q="92110", rayon="20").content.decode()

    assert result_names(html).count("Mairie d&#x27;Asnières-sur-Seine") == 1
    asnieres = result_item(html, clichy.asnieres)
    assert "Aucun créneau libre en ligne dans la période." in asnieres
    assert "Rendez-vous par téléphone" not in asnieres
    make_slot(clichy.asnieres, paris(2026, 11, 23, 9))
    asnieres = result_item(search(client, q="92110", rayon="20").content.decode(), clichy.asnieres)
    assert "Prochain créneau :" in asnieres
    assert "Rendez-vous par téléphone" not in asnieres


def test_search_queries_stay_constant_with_town_halls_using_the_directory(
    client, clichy, around, django_assert_num_queries
):
    for i in range(10):
        commune = make_commune(f"950{i:02d}", name=f"Commune {i}", phone=f"01 00 00 00 {i:02d}")
        make_town_hall(
            name=f"Mairie par téléphone {i}",
            commune=commune,
            lat=48.90 + i / 500,
            phone="",
            online_booking=False,
        )
    client.get("/recherche", {"q": "92110"})  # warm the caches

    # Each answer also reads the sources' horizon once (slots.horizon).
    with django_assert_num_queries(4):
        html = search(client, q="92110", tri="proche", rayon="20").content.decode()
    with django_assert_num_queries(3):
        body = client.get("/api/v1/search", {"q": "92110", "radius_km": "20"}).json()

    assert len(result_names(html)) == 14
    assert "01 00 00 00 09" in html
    assert {result["town_hall"]["phone"] for result in body["results"]} >= {
        "01 00 00 00 00",
        "01 00 00 00 09",
    }


# API


def test_api_says_how_each_town_hall_books_and_fills_its_phone_from_the_directory(client, clichy, around):
    follow(clichy.town_hall, kind="ants")

    body = client.get("/api/v1/search", {"q": "92110", "radius_km": "20", "reason": "PASSPORT"}).json()

    town_halls = {result["town_hall"]["name"]: result["town_hall"] for result in body["results"]}
    assert list(town_halls) == [
        "Mairie de Levallois-Perret",
        "Mairie de Clichy",
        "Mairie d'Asnières-sur-Seine",
        "Mairie de Saint-Ouen-sur-Seine",
    ]
    assert town_halls["Mairie de Clichy"]["booking"] == "ants"
    assert town_halls["Mairie de Levallois-Perret"]["booking"] == "online"  # followed, its source unknown
    assert town_halls["Mairie d'Asnières-sur-Seine"]["booking"] == "phone"
    saint_ouen = town_halls["Mairie de Saint-Ouen-sur-Seine"]
    assert {
        key: saint_ouen[key] for key in ("booking", "booking_url", "phone", "email", "website", "reasons")
    } == {
        "booking": "online",
        "booking_url": "https://rdv.saint-ouen.example/passeport",
        "phone": "01 49 45 67 89",
        "email": "accueil@saint-ouen.example",
        "website": "https://www.saint-ouen.example/",
        "reasons": ["PASSPORT"],
    }
    assert body["results"][3]["next_slot"] is None
    cni = client.get("/api/v1/search", {"q": "92110", "radius_km": "20", "reason": "CNI"}).json()
    walk_in = next(r for r in cni["results"] if r["town_hall"]["name"] == "Mairie de Bois-Colombes")
    assert (walk_in["town_hall"]["booking"], walk_in["town_hall"]["reasons"]) == ("walk_in", ["CNI"])


# Pages


def test_town_hall_page_says_how_to_book_and_gives_the_directory_s_contact(client, clichy, around):
    html = get(client, f"/mairie/{around.saint_ouen.pk}")

    slots = html[html.index('id="creneaux"') : html.index('id="info-title"')]
    assert "Prise de rendez-vous en ligne sur le site de la mairie" in slots
    assert 'href="https://rdv.saint-ouen.example/passeport"' in slots
    assert "ne propose pas de créneaux en ligne suivis" not in slots
    info = html[html.index('id="info-title"') :]
    assert '<a href="tel:0149456789">01 49 45 67 89</a>' in info
    assert 'href="mailto:accueil@saint-ouen.example"' in info
    assert "www.saint-ouen.example/" in info
    assert "08:30–12:00" in info


def test_walk_in_town_hall_page_says_so(client, clichy, around):
    html = get(client, f"/mairie/{around.bois_colombes.pk}", motif="cni")

    assert (
        '<p class="notice booking-how booking-walk_in">Sans rendez-vous, aux horaires d’ouverture.</p>'
        in html
    )


def test_commune_and_department_pages_list_them_for_the_reason_asked(client, clichy, around):
    saint_ouen = get(client, "/commune/93070")
    assert item_names(saint_ouen) == ["Mairie de Saint-Ouen-sur-Seine"]
    assert "Prise de rendez-vous en ligne sur le site de la mairie" in saint_ouen
    assert "Mairie de Saint-Ouen-sur-Seine" not in item_names(get(client, "/commune/93070", motif="cni"))

    department = get(client, "/departement/92", motif="cni")
    assert item_names(department) == [
        "Mairie de Clichy",  # its identity-card slot first
        "Mairie d&#x27;Asnières-sur-Seine",
        "Mairie de Bois-Colombes",
        "Mairie de Levallois-Perret",
    ]
    assert "Sans rendez-vous, aux horaires d’ouverture." in department
    assert "Mairie de Bois-Colombes" not in get(client, "/departement/92", motif="passeport")


def test_commune_page_lists_a_phone_town_hall_after_the_one_with_a_slot(client, clichy):
    make_town_hall(
        name="Mairie annexe de Clichy",
        commune=clichy.commune,
        lat=48.9040,
        lon=2.3050,
        phone="",
        online_booking=False,
        booking=TownHall.Booking.PHONE,
    )

    html = get(client, "/commune/92024")

    assert item_names(html) == ["Mairie de Clichy", "Mairie annexe de Clichy"]
    # Its own phone is empty: the commune's directory number would be given, and the fixture's commune has none.
    assert "Rendez-vous par téléphone auprès de la mairie." in html
