"""The town-hall page in a real browser: slots by day, the reason selector, the map, a phone-sized screen."""

from __future__ import annotations

import datetime as dt
import struct
import zlib

import pytest
from django.utils import timezone

from slots.models import Reason, TownHall
from slots.tests.factories import make_commune, make_slot, make_town_hall

HOURS = [
    ["lundi", "vendredi", [["08:30:00", "12:00:00"], ["13:30:00", "17:30:00"]]],
    ["samedi", "samedi", [["09:00:00", "12:00:00"]]],
]


def grey_tile() -> bytes:
    """A 256×256 light grey PNG: stands in for OpenStreetMap tiles (no internet here)."""
    width = height = 256
    raw = b"".join(b"\x00" + b"\xe5\xe3\xdf" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


TILE = grey_tile()


def block_tiles(page) -> list[str]:
    """Answer every tile request locally; returns the list of tile URLs asked for."""
    asked: list[str] = []

    def fulfil(route) -> None:
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=TILE)

    page.route("https://tile.openstreetmap.org/**", fulfil)
    return asked


@pytest.fixture
def clichy_town_hall(transactional_db) -> TownHall:
    now = timezone.now()
    today = timezone.localdate()
    clichy = make_commune(
        "92024",
        name="Clichy",
        postcodes=("92110",),
        lat=48.9028,
        lon=2.3048,
        opening_hours=HOURS,
        accessibility="ACC",
        email="etat-civil@ville-clichy.example",
    )
    levallois = make_commune("92044", name="Levallois-Perret", lat=48.8950, lon=2.2870)
    town_hall = make_town_hall(
        name="Mairie de Clichy",
        address="80 boulevard Jean-Jaurès",
        postcode="92110",
        commune=clichy,
        lat=48.9028,
        lon=2.3048,
        phone="01 47 15 30 00",
        website="https://www.ville-clichy.fr/",
        checked_at=now - dt.timedelta(minutes=3),
        stale_at=now + dt.timedelta(minutes=30),
    )
    paris = timezone.get_default_timezone()
    for offset in (2, 3, 6):
        day = today + dt.timedelta(days=offset)
        for hour, minute in ((9, 0), (9, 30), (10, 15), (14, 0), (16, 45)):
            make_slot(town_hall, dt.datetime.combine(day, dt.time(hour, minute), tzinfo=paris))
    make_slot(
        town_hall,
        dt.datetime.combine(today + dt.timedelta(days=4), dt.time(11, 0), tzinfo=paris),
        reason=Reason.CNI,
    )
    neighbour = make_town_hall(
        name="Mairie de Levallois-Perret", commune=levallois, lat=48.8950, lon=2.2870, checked_at=now
    )
    make_slot(neighbour, now + dt.timedelta(days=1, hours=2))
    make_town_hall(
        name="Mairie d'Asnières-sur-Seine", lat=48.9110, lon=2.2890, online_booking=False, booking_url=""
    )
    return town_hall


def test_town_hall_page_shows_slots_by_day_and_switches_reason(
    live_server, page, clichy_town_hall, screenshot
):
    tiles = block_tiles(page)
    page.goto(f"{live_server.url}/mairie/{clichy_town_hall.pk}")

    assert page.get_by_role("heading", level=1).inner_text() == "Mairie de Clichy"
    assert page.locator(".slot-day").count() == 3
    assert page.locator(".slot-day").first.locator(".slot-time").count() == 5
    first_slot = page.locator("a.slot-time").first
    assert first_slot.inner_text().startswith("09:00")
    assert first_slot.get_attribute("href").startswith("https://rdv.example.fr/")
    assert page.locator(".town-hall-info").get_by_text("Du lundi au vendredi").is_visible()
    assert page.locator(".alternatives .place-name").all_inner_texts() == [
        "Mairie de Levallois-Perret",  # 1.6 km, a slot: first
        "Mairie d'Asnières-sur-Seine",  # 1.5 km, no slot
    ]

    # The map shows once Leaflet has loaded, with tiles served locally.
    page.locator("#town-hall-map.leaflet-container").wait_for()
    page.locator("#town-hall-map .leaflet-tile-loaded").first.wait_for()
    assert tiles and all(url.startswith("https://tile.openstreetmap.org/") for url in tiles)
    page.wait_for_load_state("networkidle")
    screenshot(page, "town-hall-desktop")

    page.get_by_role("navigation", name="Motif du rendez-vous").get_by_role(
        "link", name="Carte d’identité"
    ).click()
    page.wait_for_url("**motif=cni**")
    assert page.locator(".slot-day").count() == 1
    assert page.locator("a.slot-time time").all_inner_texts() == ["11:00"]


def test_town_hall_page_fits_a_phone_screen(live_server, mobile_page, clichy_town_hall, screenshot):
    block_tiles(mobile_page)
    mobile_page.goto(f"{live_server.url}/mairie/{clichy_town_hall.pk}")
    mobile_page.locator("#town-hall-map .leaflet-tile-loaded").first.wait_for()
    mobile_page.wait_for_load_state("networkidle")

    assert mobile_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert mobile_page.locator("a.slot-time").first.bounding_box()["height"] >= 44
    screenshot(mobile_page, "town-hall-mobile")


def test_town_hall_page_works_without_javascript(live_server, browser, clichy_town_hall):
    context = browser.new_context(java_script_enabled=False, locale="fr-FR", timezone_id="Europe/Paris")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/mairie/{clichy_town_hall.pk}")

        assert not page.locator("#town-hall-map").is_visible()
        assert page.get_by_role("link", name="Voir sur une carte").is_visible()
        assert page.locator("a.slot-time").count() == 15
    finally:
        context.close()
