"""The "de/à + commune" filters: French elision and contraction, the bare name in English."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils import translation

from communes.tests.factories import make_commune
from slots.tests.factories import make_town_hall

pytestmark = pytest.mark.django_db

_TEMPLATE = Template("{% load french %}près {{ place|de_commune }}, {{ place|a_commune }}")


def _render(place: object) -> str:
    return _TEMPLATE.render(Context({"place": place}))


def test_a_commune_reads_as_french_writes_it() -> None:
    assert _render(make_commune(name="Le Pecq")) == "près du Pecq, au Pecq"
    assert _render(make_commune(name="Argenteuil")) == "près d’Argenteuil, à Argenteuil"
    assert _render(make_commune(name="Les Mureaux")) == "près des Mureaux, aux Mureaux"


def test_the_insee_code_tells_an_aspirated_h() -> None:
    assert _render(make_commune("78310", name="Houdan")) == "près de Houdan, à Houdan"
    assert _render(make_commune("78311", name="Houilles")) == "près d’Houilles, à Houilles"


def test_anything_with_a_commune_or_a_plain_name_works() -> None:
    class Origin:
        commune = make_commune(name="L'Haÿ-les-Roses")
        name = "ignored"

    assert _render(Origin()) == "près de L’Haÿ-les-Roses, à L’Haÿ-les-Roses"
    assert _render("Asnières-sur-Seine") == "près d’Asnières-sur-Seine, à Asnières-sur-Seine"
    assert _render("") == "près , "


def test_names_are_escaped() -> None:
    assert _render("A & <b>") == "près d’A &amp; &lt;b&gt;, à A &amp; &lt;b&gt;"


def test_english_gets_the_bare_name_its_translation_places() -> None:
    with translation.override("en"):
        assert _render(make_commune(name="Le Pecq")) == "près Le Pecq, Le Pecq"


def test_the_search_and_commune_pages_use_them(client) -> None:
    commune = make_commune(name="Les Mureaux", postcodes=("78130",), department="78", lat=48.99, lon=1.91)
    make_town_hall(commune=commune, lat=48.99, lon=1.91)

    page = client.get(f"/commune/{commune.insee}").content.decode()
    results = client.get("/recherche", {"q": "Les Mureaux", "insee": commune.insee}).content.decode()
    english = client.get(f"/commune/{commune.insee}", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "<h1>Passeport et carte d’identité aux Mureaux</h1>" in page
    assert "Chercher un rendez-vous autour des Mureaux" in page
    assert "<title>Rendez-vous près des Mureaux — rdvpasseport</title>" in results
    assert "km des Mureaux" in results
    assert "<h1>Passport and identity card in Les Mureaux</h1>" in english


def test_pages_show_a_visitors_address_and_the_api_the_stored_one(client) -> None:
    commune = make_commune(
        "69266", name="Villeurbanne", postcodes=("69100",), department="69", lat=45.77, lon=4.88
    )
    stored = "PLACE DU DOCTEUR LAZARE GOUJON\n69601 VILLEURBANNE CEDEX 69100"
    town_hall = make_town_hall(
        name="Mairie de Villeurbanne", commune=commune, address=stored, postcode="69100", lat=45.77, lon=4.88
    )

    page = client.get(f"/mairie/{town_hall.pk}").content.decode()
    list_page = client.get(f"/commune/{commune.insee}").content.decode()
    results = client.get("/recherche", {"q": "Villeurbanne", "insee": commune.insee}).content.decode()
    api = client.get("/api/v1/search", {"q": "69100", "reason": "PASSPORT"}).json()

    expected = "Place du Docteur Lazare Goujon, 69100 Villeurbanne"
    assert f'<p class="lead town-hall-address">{expected}</p>' in page
    assert f'<p class="place-address">{expected}</p>' in list_page
    assert f"<li>{expected}</li>" in results
    assert "CEDEX" not in page + list_page + results
    assert [result["town_hall"]["address"] for result in api["results"]] == [stored]
