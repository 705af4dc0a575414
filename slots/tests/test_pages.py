from __future__ import annotations

import datetime as dt
import re

import pytest

from communes.models import Commune
from slots.models import Reason
from slots.pages import accessibility_text, opening_hours_lines, tel_href
from slots.tests.factories import make_commune, make_department, make_slot, make_town_hall, paris

pytestmark = pytest.mark.django_db

HOURS = [
    ["vendredi", "vendredi", [["08:30:00", "12:00:00"]]],
    ["lundi", "jeudi", [["08:30:00", "12:00:00"], ["13:30:00", "17:30:00"]]],
    ["samedi", "", [["09:00:00", "11:30:00"]]],
]


def get(client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def item_names(html: str) -> list[str]:
    return re.findall(r'class="place-name"><a href="[^"]*">(.*?)</a>', html)


def slot_days(html: str) -> list[str]:
    return re.findall(r'<div class="slot-day">\s*<h3><time datetime="([\d-]+)">', html)


def warm(client) -> None:
    """One request to cache the demo-banner flag, so that query counts cover the page alone."""
    client.get("/a-propos")


# Town-hall page


def test_town_hall_page_lists_passport_slots_by_paris_day_with_booking_links(client, clichy):
    # 00:30 on 4 December in Paris is still 3 December in UTC: it belongs to the 4th.
    make_slot(clichy.town_hall, paris(2026, 12, 4, 0, 30))

    html = get(client, f"/mairie/{clichy.town_hall.pk}")

    assert "<h1>Mairie de Clichy</h1>" in html
    assert '<p class="lead town-hall-address">80 boulevard Jean-Jaurès, 92110 Clichy</p>' in html
    assert slot_days(html) == ["2026-12-01", "2026-12-02", "2026-12-04"]
    assert ">Mardi 1 décembre</time>" in html
    assert (
        '<a class="slot-time" href="https://rdv.example.fr/clichy/2026-12-01T09:00" rel="external noopener">'
        '<time datetime="2026-12-01T09:00:00+01:00">09:00</time>'
    ) in html
    assert '<time datetime="2026-12-04T00:30:00+01:00">00:30</time>' in html
    # The identity-card slot of 3 December is not a passport slot.
    assert "2026-12-03" not in html


def test_town_hall_page_counts_slots_per_reason_in_its_selector(client, clichy):
    html = get(client, f"/mairie/{clichy.town_hall.pk}")

    tabs = re.findall(r'<a href="\?motif=([a-z-]+)#creneaux"( class="selected" aria-current="page")?>', html)
    assert tabs == [
        ("passeport", ' class="selected" aria-current="page"'),
        ("cni", ""),
        ("cni-passeport", ""),
    ]
    # The heading above the tabs gives the period they count over (the tabs fit one line on a phone).
    assert "Créneaux libres des quatre prochaines semaines" in html
    assert 'Passeport <span class="tab-count">2 créneaux</span>' in html
    assert 'Carte d’identité <span class="tab-count">1 créneau</span>' in html
    assert 'Les deux <span class="tab-count">0 ' in html


def test_town_hall_page_shows_the_reason_asked_for(client, clichy):
    html = get(client, f"/mairie/{clichy.town_hall.pk}", motif="cni")

    assert slot_days(html) == ["2026-12-03"]
    assert '<a href="?motif=cni#creneaux" class="selected" aria-current="page">' in html


def test_town_hall_page_falls_back_to_passport_on_an_unknown_reason(client, clichy):
    html = get(client, f"/mairie/{clichy.town_hall.pk}", motif="visa")

    assert slot_days(html) == ["2026-12-01", "2026-12-02"]
    assert '<a href="?motif=passeport#creneaux" class="selected"' in html


def test_town_hall_page_stops_after_four_weeks(client, clichy):
    make_slot(clichy.town_hall, paris(2026, 12, 18, 23, 30))  # last day: 20 November + 28 days
    make_slot(clichy.town_hall, paris(2026, 12, 19, 0, 0))
    make_slot(clichy.town_hall, paris(2026, 11, 20, 9, 0))  # already past (now is 10:00)

    html = get(client, f"/mairie/{clichy.town_hall.pk}")

    assert slot_days(html) == ["2026-12-01", "2026-12-02", "2026-12-18"]


def test_town_hall_page_sends_to_the_booking_site_when_no_slot_is_free(client, clichy):
    html = get(client, f"/mairie/{clichy.town_hall.pk}", motif="cni-passeport")

    assert slot_days(html) == []
    assert "Aucun créneau libre en ligne pour ce motif d’ici le 18 décembre 2026." in html
    assert '<a class="button" href="https://rdv.example.fr/clichy/" rel="external noopener">' in html


def test_town_hall_page_links_slots_without_their_own_link_to_the_booking_site(client, clichy):
    make_slot(clichy.town_hall, paris(2026, 12, 7, 15, 0), booking_url="")

    html = get(client, f"/mairie/{clichy.town_hall.pk}")

    assert '<a class="slot-time" href="https://rdv.example.fr/clichy/" rel="external noopener">' in html


def test_town_hall_page_gives_practical_details_from_the_directory(client, clichy):
    commune = clichy.commune
    commune.opening_hours = HOURS
    commune.accessibility = "ACC"
    commune.email = "etat-civil@ville-clichy.fr"
    commune.save()

    html = get(client, f"/mairie/{clichy.town_hall.pk}")

    assert '<a href="tel:0147153000">01 47 15 30 00</a>' in html
    assert '<a href="https://www.ville-clichy.fr/" rel="external noopener">www.ville-clichy.fr/</a>' in html
    assert '<a href="mailto:etat-civil@ville-clichy.fr">' in html
    hours = re.findall(
        r'<li><span class="opening-days">(.*?)</span> <span class="opening-ranges">(.*?)</span></li>', html
    )
    hours = [(days, re.sub(r"<[^>]+>", "", ranges)) for days, ranges in hours]
    # Twice: first above the times (shown on phones), then in the practical information.
    assert hours == 2 * [
        ("Du lundi au jeudi", "08:30–12:00, 13:30–17:30"),
        ("Vendredi", "08:30–12:00"),
        ("Samedi", "09:00–11:30"),
    ]
    assert "Accessible aux personnes à mobilité réduite." in html


def test_town_hall_page_takes_address_phone_and_website_from_the_commune_when_it_has_none(client, clichy):
    clichy.town_hall.address = ""
    clichy.town_hall.phone = ""
    clichy.town_hall.website = ""
    clichy.town_hall.save()
    clichy.commune.town_hall_address = "80 boulevard Jean-Jaurès\n92110 Clichy"
    clichy.commune.phone = "+33 1.47.15.31.00"
    clichy.commune.website = "https://www.clichy.example/"
    clichy.commune.save()

    html = get(client, f"/mairie/{clichy.town_hall.pk}")

    assert '<p class="lead town-hall-address">80 boulevard Jean-Jaurès, 92110 Clichy</p>' in html

    assert '<a href="tel:+33147153100">+33 1.47.15.31.00</a>' in html
    assert 'href="https://www.clichy.example/"' in html


def test_town_hall_page_tells_how_fresh_its_slots_are(client, clichy):
    fresh = get(client, f"/mairie/{clichy.town_hall.pk}")
    stale = get(client, f"/mairie/{clichy.levallois.pk}")

    assert "Créneaux vérifiés il y a 4\xa0minutes." in fresh
    assert "Données anciennes" not in fresh
    assert "Créneaux vérifiés il y a 3\xa0heures." in stale
    assert '<p class="notice notice-warning" role="status">Données anciennes' in stale


def test_town_hall_page_of_a_town_hall_booking_by_phone_gives_its_number(client, clichy):
    html = get(client, f"/mairie/{clichy.asnieres.pk}")

    assert (
        '<p class="notice booking-how booking-phone">Rendez-vous par téléphone au '
        '<a href="tel:0141111213">01 41 11 12 13</a></p>'
    ) in html
    assert '<a href="tel:0141111213">01 41 11 12 13</a>' in html
    assert slot_days(html) == []


def test_town_hall_page_offers_the_nearest_other_town_halls_with_their_next_slot(client, clichy):
    html = get(client, f"/mairie/{clichy.town_hall.pk}")

    alternatives = html[html.index('id="alternatives-title"') :]
    # The one with a slot first, then the one booking by phone (nearer).
    assert item_names(alternatives) == ["Mairie de Levallois-Perret", "Mairie d&#x27;Asnières-sur-Seine"]
    assert f'href="/mairie/{clichy.levallois.pk}"' in alternatives
    assert (
        '<time datetime="2026-11-25T14:30:00+01:00">mercredi 25 novembre 2026 à 14:30</time>' in alternatives
    )
    assert "(données anciennes)" in alternatives
    assert 'Rendez-vous par téléphone au <a href="tel:0141111213">01 41 11 12 13</a>' in alternatives
    assert 'href="/recherche?q=Clichy&amp;insee=92024&amp;motif=passeport"' in alternatives


def test_town_hall_page_compares_around_its_commune_even_when_the_insee_code_is_another_postcode(
    client, frozen_now
):
    # Ferney-Voltaire's INSEE code, 01160, is the postcode of Neuville-sur-Ain, 60 km away.
    ferney = make_commune("01160", name="Ferney-Voltaire", department="01", lat=46.2558, lon=6.1081)
    make_commune("01267", name="Neuville-sur-Ain", postcodes=("01160",), department="01", lat=46.07, lon=5.38)
    town_hall = make_town_hall(name="Mairie de Ferney-Voltaire", commune=ferney, lat=46.2558, lon=6.1081)
    html = get(client, f"/mairie/{town_hall.pk}")
    compare_url = re.search(r'href="(/recherche\?[^"]*)">Comparer toutes les mairies autour', html)[1]

    results = get(client, compare_url.replace("&amp;", "&"))

    assert "à moins de 20 km de Ferney-Voltaire" in results
    assert "Mairie de Ferney-Voltaire" in results


def test_town_hall_page_offers_five_alternatives_at_most_with_a_slot_first_then_nearest(client, clichy):
    for i in range(6):
        make_town_hall(name=f"Mairie à {i + 1} km", lat=48.9028 + (i + 1) / 111.2, lon=2.3048)

    html = get(client, f"/mairie/{clichy.town_hall.pk}")

    alternatives = html[html.index('id="alternatives-title"') :]
    assert item_names(alternatives) == [
        "Mairie de Levallois-Perret",  # 1.6 km, a slot
        "Mairie à 1 km",
        "Mairie d&#x27;Asnières-sur-Seine",  # 1.5 km
        "Mairie à 2 km",
        "Mairie à 3 km",
    ]


def test_town_hall_page_runs_a_constant_number_of_queries(client, clichy, django_assert_num_queries):
    for i in range(12):
        neighbour = make_town_hall(name=f"Voisine {i}", lat=48.90 + i / 500)
        make_slot(neighbour, paris(2026, 12, 5, 9 + i % 8))
    for day in range(1, 20):
        for hour in (9, 10, 11, 14, 15):
            make_slot(clichy.town_hall, paris(2026, 12, day, hour, 30))
    warm(client)

    # The town hall with its commune, its slots, its slot counts per reason, its neighbours, then its
    # waiting-time history (the stats app's template tag).
    with django_assert_num_queries(5):
        html = get(client, f"/mairie/{clichy.town_hall.pk}")

    assert len(slot_days(html)) == 18  # 1 to 18 December: the 19th is past the four weeks


@pytest.mark.parametrize("path", ["/mairie/999999", "/mairie/99999999999999999999999", "/mairie/abc"])
def test_unknown_town_halls_get_a_french_not_found_page(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()


def test_inactive_town_halls_are_not_found(client, clichy):
    clichy.town_hall.active = False
    clichy.town_hall.save()

    response = client.get(f"/mairie/{clichy.town_hall.pk}")

    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()


def test_town_hall_page_loads_its_map_as_a_static_script_only(client, clichy):
    html = get(client, f"/mairie/{clichy.town_hall.pk}")

    assert '<div id="town-hall-map" class="town-hall-map" hidden' in html
    assert 'data-lat="48.902800" data-lon="2.304800"' in html
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert "/static/js/town_hall_map.js" in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assert "style=" not in html
    assert 'href="https://www.openstreetmap.org/?mlat=48.902800&amp;mlon=2.304800' in html


# Commune page


def test_commune_page_lists_its_town_halls_with_their_next_slot(client, clichy):
    annex = make_town_hall(name="Mairie annexe de Clichy", commune=clichy.commune, lat=48.905, lon=2.31)

    html = get(client, "/commune/92024")

    assert "<h1>Passeport et carte d’identité à Clichy</h1>" in html
    assert item_names(html) == ["Mairie de Clichy", "Mairie annexe de Clichy"]  # with a slot first
    assert f'href="/mairie/{annex.pk}"' in html
    assert '<time datetime="2026-12-01T09:00:00+01:00">mardi 1 décembre 2026 à 09:00</time>' in html
    assert "Aucun créneau libre en ligne pour l’instant." in html
    assert 'href="/recherche?q=Clichy&amp;insee=92024&amp;motif=passeport"' in html
    assert 'href="/departement/92"' in html


def test_commune_page_follows_the_reason_asked_for(client, clichy):
    html = get(client, "/commune/92024", motif="cni")

    assert '<time datetime="2026-12-03T11:00:00+01:00">' in html
    assert f'href="/mairie/{clichy.town_hall.pk}?motif=cni"' in html
    assert 'href="/recherche?q=Clichy&amp;insee=92024&amp;motif=cni"' in html


def test_commune_without_town_hall_offers_the_nearest_equipped_ones(client, clichy):
    make_commune("92051", name="Neuilly-sur-Seine", lat=48.8846, lon=2.2697, phone="01 40 88 88 88")

    html = get(client, "/commune/92051")

    # We only know which town halls we follow: never that a commune takes no applications.
    assert "ne reçoit pas" not in html
    assert (
        "Nous ne suivons pas encore la mairie de Neuilly-sur-Seine : appelez-la au "
        '<a href="tel:0140888888">01 40 88 88 88</a> ou choisissez une mairie suivie ci-dessous.'
    ) in html
    assert "Mairies suivies les plus proches" in html
    assert item_names(html) == [
        "Mairie de Levallois-Perret",  # 1.7 km, a slot
        "Mairie de Clichy",  # 3.27 km, a slot
        "Mairie d&#x27;Asnières-sur-Seine",  # 3.26 km, by phone
    ]
    assert "Levallois-Perret · à 1,7 km" in html
    assert 'href="/recherche?q=Neuilly-sur-Seine&amp;insee=92051&amp;motif=passeport"' in html


def test_commune_without_location_or_neighbours_still_offers_the_search(client, db):
    make_commune("92999", name="Lieu-Perdu", lat=None, lon=None)

    html = get(client, "/commune/92999")

    assert "Nous ne suivons pas encore la mairie de Lieu-Perdu : renseignez-vous auprès d’elle" in html
    assert "Nous ne suivons aucune mairie à moins de 30 km." in html
    assert 'href="/recherche?q=Lieu-Perdu&amp;insee=92999&amp;motif=passeport"' in html


def test_divided_city_lists_its_arrondissements_and_their_town_halls(client, frozen_now):
    paris_city = make_commune("75056", name="Paris", department="75", lat=48.8566, lon=2.3522)
    arrondissements = [
        make_commune(
            f"751{n:02d}",
            name=f"Paris {n}e Arrondissement",
            department="75",
            kind=Commune.Kind.ARRONDISSEMENT,
            parent=paris_city,
            lat=48.86,
            lon=2.35,
        )
        for n in (3, 4, 17)
    ]
    centre = make_town_hall(name="Mairie de Paris Centre", commune=arrondissements[0], lat=48.863, lon=2.36)
    make_town_hall(name="Mairie du 17e", commune=arrondissements[2], lat=48.884, lon=2.32)
    make_slot(centre, paris(2026, 11, 30, 9, 0))

    html = get(client, "/commune/75056")

    assert item_names(html) == ["Mairie de Paris Centre", "Mairie du 17e"]
    assert re.findall(r'<li><a href="/commune/(751\d\d)">', html) == ["75103", "75104", "75117"]

    fourth = get(client, "/commune/75104")
    assert '<a href="/commune/75056">Paris</a>' in fourth
    assert "Arrondissement de Paris" in fourth
    assert item_names(fourth)[0] == "Mairie de Paris Centre"  # the nearest, serving the 4e


def test_commune_page_accepts_a_lower_case_corsican_code(client, db):
    make_commune("2A004", name="Ajaccio", department="2A", lat=41.9192, lon=8.7386)

    html = get(client, "/commune/2a004")

    assert "<h1>Passeport et carte d’identité à Ajaccio</h1>" in html


@pytest.mark.parametrize("insee", ["00000", "x" * 300, "92024%00"])
def test_unknown_communes_get_a_french_not_found_page(client, clichy, insee):
    response = client.get(f"/commune/{insee}")

    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()


def test_commune_page_runs_a_constant_number_of_queries(client, clichy, django_assert_num_queries):
    for i in range(10):
        make_town_hall(name=f"Annexe {i}", commune=clichy.commune, lat=48.90 + i / 500)
    make_commune("92051", name="Neuilly-sur-Seine", lat=48.8846, lon=2.2697)
    warm(client)

    # The commune, its arrondissements, its town halls with their next slot.
    with django_assert_num_queries(3):
        html = get(client, "/commune/92024")
    assert len(item_names(html)) == 11

    # ... and, without a town hall of its own, the search around it.
    with django_assert_num_queries(4):
        html = get(client, "/commune/92051")
    assert len(item_names(html)) == 8


# Department pages


def test_department_page_lists_its_town_halls_by_commune_with_their_next_slot(client, clichy):
    other = make_commune("78646", name="Versailles", department="78", lat=48.8049, lon=2.1204)
    make_town_hall(name="Mairie de Versailles", commune=other, lat=48.8049, lon=2.1204)
    make_department("92", name="Hauts-de-Seine")

    html = get(client, "/departement/92")

    assert item_names(html) == [  # those with a slot first, each group by commune
        "Mairie de Clichy",
        "Mairie de Levallois-Perret",
        "Mairie d&#x27;Asnières-sur-Seine",
    ]
    assert "3 mairies suivies dans ce département, dont 2 avec un créneau libre en ligne." in html
    assert "reçoivent" not in html
    assert ", dont 2 avec un créneau libre en ligne." in html
    assert '<time datetime="2026-11-25T14:30:00+01:00">' in html


def test_department_page_runs_a_constant_number_of_queries(client, clichy, django_assert_num_queries):
    for i in range(10):
        town_hall = make_town_hall(name=f"Annexe {i}", commune=clichy.commune)
        make_slot(town_hall, paris(2026, 12, 1 + i, 9))
    warm(client)

    # The department, its town halls, then its waiting-time figures (the stats app's template tag).
    with django_assert_num_queries(3):
        html = get(client, "/departement/92", motif="cni")

    assert len(item_names(html)) == 13


def test_department_without_town_hall_says_so(client, db):
    make_department("07", name="Ardèche", region="Auvergne-Rhône-Alpes")

    html = get(client, "/departement/07")

    assert "Nous ne suivons encore aucune mairie de ce département." in html


@pytest.mark.parametrize("code", ["99", "2C", "x" * 200, "92%00"])
def test_unknown_departments_get_a_french_not_found_page(client, clichy, code):
    response = client.get(f"/departement/{code}")

    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()


def test_department_index_lists_departments_by_region_with_town_hall_counts(
    client, clichy, django_assert_num_queries
):
    make_department("92", name="Hauts-de-Seine")
    make_department("01", name="Ain", region="Auvergne-Rhône-Alpes")
    inactive = make_town_hall(name="Mairie fermée", commune=clichy.commune, active=False)
    assert not inactive.active
    warm(client)

    with django_assert_num_queries(1):
        html = get(client, "/departements")

    regions = re.findall(r'<h2 id="region-\d+">(.*?)</h2>', html)
    assert regions == ["Auvergne-Rhône-Alpes", "Île-de-France"]
    assert '<a href="/departement/01">Ain (01)</a>' in html
    assert "0 mairie" in html
    assert '<a href="/departement/92">Département 92 (92)</a>' in html
    assert "3 mairies suivies" in html


def test_footer_links_to_the_department_index(client, db):
    html = get(client, "/")

    assert '<a href="/departements">Mairies par département</a>' in html


# Helpers


def test_opening_hours_are_read_in_weekday_order_and_bad_entries_skipped():
    lines = opening_hours_lines(
        [
            ["samedi", "samedi", [["09:00:00", "12:00:00"]]],
            ["lundi", "mardi", [["08:00:00", "12:00:00"], ["14:00", "24:00:00"]]],
            ["mercredi", "vendredi", [["nonsense", "12:00:00"], ["13:30:00", "17:00:00"]]],
            ["funday", "funday", [["09:00:00", "12:00:00"]]],
            ["jeudi", "jeudi", []],
            "garbage",
            ["dimanche"],
        ]
    )

    assert [(line.days, line.ranges) for line in lines] == [
        ("lundi et mardi", [(dt.time(8), dt.time(12)), (dt.time(14), dt.time(23, 59))]),
        ("du mercredi au vendredi", [(dt.time(13, 30), dt.time(17))]),
        ("samedi", [(dt.time(9), dt.time(12))]),
    ]
    assert opening_hours_lines(None) == []
    assert opening_hours_lines({"lundi": "9-12"}) == []


def test_accessibility_codes_read_as_french_sentences():
    assert accessibility_text("ACC") == "Accessible aux personnes à mobilité réduite."
    assert "sur demande préalable" in accessibility_text("DEM")
    assert accessibility_text("NAC").startswith("Accessibilité non signalée")
    assert accessibility_text("") == ""
    assert accessibility_text("XYZ") == ""


def test_tel_links_keep_digits_and_a_leading_plus():
    assert tel_href("01 47 15 30 00") == "tel:0147153000"
    assert tel_href("+33 (0)1.47.15.30.00") == "tel:+330147153000"
    assert tel_href("n/c") == ""


def test_reason_values_match_the_search_motifs():
    # The pages reuse the search's ?motif= vocabulary: each one maps to a stored Reason.
    from slots.forms import MOTIFS

    assert set(MOTIFS.values()) == set(Reason)


def test_search_results_link_each_town_hall_to_its_page_for_the_same_reason(client, clichy):
    html = get(client, "/recherche", q="92110", motif="cni")

    assert (
        f'<a class="result-link" href="/mairie/{clichy.town_hall.pk}?motif=cni">'
        '<h3 class="result-name">Mairie de Clichy</h3></a>'
    ) in html
    assert f'href="/mairie/{clichy.asnieres.pk}?motif=cni"' in html
