"""The public status page (/etat): each kind of source and each followed town hall, without secrets."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from opendata.tests.factories import World
from scrapers.models import ScrapeRun, Source
from scrapers.tests.factories import make_meeting_point, make_source
from slots.models import TownHall
from slots.tests.factories import make_town_hall

pytestmark = pytest.mark.django_db


def fail_ics_since(world: World, since: dt.datetime) -> None:
    """The iCalendar source has failed three times in a row since `since`."""
    ScrapeRun.objects.create(source=world.ics, started_at=since - dt.timedelta(minutes=5), status="success")
    for n in range(3):
        ScrapeRun.objects.create(
            source=world.ics,
            started_at=since + dt.timedelta(minutes=5 * n),
            status="failed",
            error="HTTP 500 from https://prive.clichy.example/agenda.ics?cle=SECRETKEY: SECRETBODY",
        )
    Source.objects.filter(pk=world.ics.pk).update(
        consecutive_failures=3, last_success_at=since - dt.timedelta(minutes=5)
    )
    TownHall.objects.filter(pk__in=[world.clichy.pk, world.levallois.pk]).update(
        checked_at=since - dt.timedelta(minutes=5), stale_at=since + dt.timedelta(minutes=10)
    )


def test_it_shows_each_kind_and_town_hall_up_with_the_last_collection(client: Client, world: World) -> None:
    response = client.get("/etat")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Dernière collecte réussie : 20 novembre 2026 à 09:58." in page
    assert "Calendriers iCalendar publiés par les mairies" in page
    assert "Éditeurs de rendez-vous reliés à l’ANTS" in page
    assert "Mairie de Clichy" in page and "à jour" in page
    assert "state-failing" not in page
    # The phone-only town hall is not followed: not listed.
    assert "Mairie de Bourg" not in page


def test_it_tells_since_when_a_source_kind_and_its_town_halls_fail(client: Client, world: World) -> None:
    # Clichy is also followed by a CSV file that works: only Levallois, followed by the iCalendar alone, fails.
    fail_ics_since(world, world.now - dt.timedelta(hours=2))

    page = client.get("/etat").content.decode()

    assert "1 source, 1 en échec depuis le 20 novembre 2026 à 08:00." in page
    levallois = page.split("Mairie de Levallois")[1].split("</li>")[0]
    assert "en échec" in levallois
    assert "En échec depuis le 20 novembre 2026 à 08:00." in levallois
    # Failing town halls come first.
    assert page.index("Mairie de Levallois") < page.index("Mairie de Clichy")
    clichy = page.split("Mairie de Clichy")[1].split("</li>")[0]
    assert "en échec" not in clichy


def test_it_never_shows_urls_tokens_names_or_error_bodies_of_sources(client: Client, world: World) -> None:
    fail_ics_since(world, world.now - dt.timedelta(hours=2))

    page = client.get("/etat").content.decode()

    for secret in (
        "SECRETKEY",
        "SECRETBODY",
        "prive.clichy.example",
        "ics-secret-token",
        "s3cr3t",
        "Calendrier de Clichy",
        "HTTP 500",
        "editeur",
    ):
        assert secret not in page, secret


def test_a_paused_source_shows_its_town_halls_paused(client: Client, world: World) -> None:
    Source.objects.filter(pk=world.ants.pk).update(paused=True)

    page = client.get("/etat").content.decode()

    grenoble = page.split("Hôtel de ville de Grenoble")[1].split("</li>")[0]
    assert "en pause" in grenoble
    assert "Éditeurs de rendez-vous reliés à l’ANTS" not in page


def test_it_is_linked_from_every_page_footer(client: Client, world: World) -> None:
    assert 'href="/etat"' in client.get("/").content.decode()


def test_the_status_page_takes_a_constant_number_of_queries(
    client: Client, world: World, django_assert_num_queries
) -> None:
    source = make_source(name="Autre éditeur", kind="synbird")
    for n in range(10):
        make_meeting_point(source, str(n), make_town_hall(name=f"Mairie {n}"))

    # Sources by kind, last ingestion, town halls count and page.
    with django_assert_num_queries(4):
        response = client.get("/etat")

    assert response.status_code == 200
    assert "13 mairies suivies" in response.content.decode()


def test_pages_past_the_end_show_the_last_one(client: Client, world: World) -> None:
    response = client.get("/etat", {"page": "999"})
    assert response.status_code == 200
    assert client.get("/etat", {"page": "abc"}).status_code == 200
