from __future__ import annotations

import re

import pytest

from communes.models import Commune
from slots.tests.factories import make_commune, make_department, make_town_hall

pytestmark = pytest.mark.django_db


def sitemap_urls(client) -> list[str]:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    return re.findall(r"<loc>(.*?)</loc>", response.content.decode())


def test_sitemap_lists_the_pages_worth_indexing(client, clichy):
    make_department("01", name="Ain", region="Auvergne-Rhône-Alpes")
    make_commune("92051", name="Neuilly-sur-Seine")  # no town hall: no page in the sitemap
    closed = make_town_hall(name="Mairie fermée", commune=make_commune("92062", name="Puteaux"), active=False)

    urls = sitemap_urls(client)

    assert urls == [
        "http://testserver/",
        "http://testserver/a-propos",
        "http://testserver/departements",
        "http://testserver/departement/01",
        "http://testserver/departement/92",
        "http://testserver/commune/92004",
        "http://testserver/commune/92024",
        "http://testserver/commune/92044",
        f"http://testserver/mairie/{clichy.town_hall.pk}",
        f"http://testserver/mairie/{clichy.levallois.pk}",
        f"http://testserver/mairie/{clichy.asnieres.pk}",
    ]
    assert f"/mairie/{closed.pk}" not in " ".join(urls)
    assert "/recherche" not in " ".join(urls)


def test_sitemap_lists_a_divided_city_whose_arrondissements_have_town_halls(client, db):
    paris = make_commune("75056", name="Paris", department="75")
    third = make_commune(
        "75103",
        name="Paris 3e Arrondissement",
        department="75",
        kind=Commune.Kind.ARRONDISSEMENT,
        parent=paris,
    )
    make_commune(
        "75104",
        name="Paris 4e Arrondissement",
        department="75",
        kind=Commune.Kind.ARRONDISSEMENT,
        parent=paris,
    )
    make_town_hall(name="Mairie de Paris Centre", commune=third)

    urls = sitemap_urls(client)

    communes = [url for url in urls if "/commune/" in url]
    assert communes == ["http://testserver/commune/75056", "http://testserver/commune/75103"]


def test_sitemap_uses_a_constant_number_of_queries(client, clichy, django_assert_num_queries):
    for i in range(10):
        make_town_hall(name=f"Mairie {i}", commune=make_commune(name=f"Ville {i}"))

    # Django's sitemap paginates each section listing rows (departments, communes, town halls): a count and
    # a page for each, whatever the number of rows.
    with django_assert_num_queries(6):
        urls = sitemap_urls(client)

    assert len(urls) == 3 + 1 + 13 + 13


def test_robots_txt_points_to_the_sitemap_and_keeps_crawlers_off_the_search(client, db):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    assert "Disallow: /recherche" in lines
    assert "Disallow: /api/" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    assert not any(line.startswith("Disallow: /mairie") or line == "Disallow: /" for line in lines)
