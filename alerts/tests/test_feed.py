"""The Atom feed of a search: the town halls with new slots, valid Atom for feed readers and bots."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import feedparser
import pytest
import time_machine

from alerts.tests.factories import make_commune, make_slot, make_town_hall, paris

NOW = paris(2026, 11, 20, 10, 0)
ATOM = "{http://www.w3.org/2005/Atom}"
QUERY = "q=Clichy&insee=92024&rayon=20&motif=passeport"


@pytest.fixture
def area(db):
    with time_machine.travel(NOW - dt.timedelta(days=3), tick=False):
        make_commune("92024", name="Clichy", postcodes=("92110",), lat=48.9028, lon=2.3048)
        levallois = make_town_hall(name="Mairie de Levallois-Perret", lat=48.8950, lon=2.2870)
        make_slot(levallois, paris(2026, 11, 25, 14, 30))  # three days old: not news
    with time_machine.travel(NOW - dt.timedelta(minutes=10), tick=False):
        clichy = make_town_hall(name="Mairie de Clichy", lat=48.9028, lon=2.3048)
        make_slot(clichy, paris(2026, 12, 1, 9, 0), booking_url="https://rdv.example.fr/clichy/1")
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_feed_is_valid_atom_listing_the_town_halls_with_new_slots(client, area):
    response = client.get(f"/recherche/flux?{QUERY}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Nouveaux créneaux près de Clichy"
    [entry] = parsed.entries
    assert entry.title == "Mairie de Clichy : créneau le mardi 1 décembre à 09:00"
    assert entry.link == "https://rdv.example.fr/clichy/1"

    # What RFC 4287 requires of a feed and of each entry.
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    for element in (root, *root.findall(f"{ATOM}entry")):
        for required in ("id", "title", "updated"):
            assert element.find(f"{ATOM}{required}") is not None and element.find(f"{ATOM}{required}").text
    assert root.find(f"{ATOM}link[@rel='self']") is not None


def test_bad_parameters_get_a_french_message(client, area):
    response = client.get("/recherche/flux?q=Clichy&rayon=7")

    assert response.status_code == 400
    assert response.content.decode() == "Le rayon doit être de 5, 10, 20, 30 ou 50 km."


def test_the_results_page_links_its_feed(client, area):
    html = client.get(f"/recherche?{QUERY}").content.decode()

    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert 'href="/recherche/flux?q=Clichy&amp;insee=92024&amp;rayon=20&amp;motif=passeport"' in html
