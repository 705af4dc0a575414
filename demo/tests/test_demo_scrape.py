"""The demo source is scraped like any editor: its town halls and slots reach the search."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.test import RequestFactory, override_settings

from demo.context_processors import demo_banner
from demo.generator import demo_town_halls_select
from demo.server import DemoServer, DemoSite
from demo.services import demo_source_setup
from scrapers.models import ScrapeRun
from scrapers.services import source_scrape
from slots.models import Slot, TownHall
from slots.tests.factories import make_commune

pytestmark = pytest.mark.django_db(transaction=True)

PARIS = ZoneInfo("Europe/Paris")
TUESDAY_MORNING = dt.datetime(2026, 3, 10, 10, 0, 0, tzinfo=PARIS)


@pytest.fixture
def demo() -> Iterator[DemoServer]:
    make_commune(
        "92024",
        name="Clichy",
        department="92",
        population=60_000,
        postcodes=("92110",),
        lat=48.9028,
        lon=2.3048,
        town_hall_address="80 boulevard Jean-Jaurès\n92110 Clichy",
    )
    make_commune(
        "38185",
        name="Grenoble",
        department="38",
        population=158_000,
        postcodes=("38000",),
        lat=45.1866,
        lon=5.7363,
        town_hall_address="11 boulevard Jean-Pain\n38000 Grenoble",
    )
    server = DemoServer(("127.0.0.1", 0), sites={"": DemoSite(town_halls=demo_town_halls_select())})
    server.start_in_thread()
    cache.clear()
    yield server
    server.shutdown()
    server.server_close()
    cache.clear()


@time_machine.travel(TUESDAY_MORNING, tick=False)
def test_a_scrape_of_the_demo_source_shows_its_town_halls_slots(demo: DemoServer) -> None:
    host_port = demo.url.removeprefix("http://")
    with override_settings(SCRAPER_ALLOWED_HOSTS=[host_port], SCRAPER_POLITE_DELAY=0):
        source = demo_source_setup(base_url=demo.url)
        run = source_scrape(source_id=source.pk)

    assert run is not None
    assert run.status == ScrapeRun.Status.SUCCESS, run.error
    clichy = TownHall.objects.get(meeting_points__source=source, meeting_points__external_id="92024")
    assert clichy.commune_id == "92024"
    slots = Slot.objects.filter(town_hall=clichy)
    assert slots.exists()
    first = slots.first()
    assert first.starts_at > TUESDAY_MORNING
    assert first.booking_url.startswith(f"{demo.url}/rendez-vous/92024?")
    # Asked for up to three people, the demo tells which slots a family can take.
    assert slots.filter(people_max=3).exists()
    assert slots.filter(people_max=1).exists()
    assert demo_banner(RequestFactory().get("/"))["demo_banner"] is True
