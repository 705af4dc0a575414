"""The proof with a real client: our own `ants` connector, the one that reads booking editors, reads our ANTS
endpoints served by a live server, and a second rdvpasseport (its own database) ingests what it read."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.utils import timezone

from opendata.publishing import published_town_halls
from opendata.tests.factories import World, make_world
from scrapers.connectors.ants import AntsConnector
from scrapers.connectors.base import SourceSpec
from scrapers.fetching.http import HttpClient
from slots.models import Reason, Slot

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def live_world(transactional_db) -> World:
    # Real time: the live server answers from another thread, and slots are "upcoming" relative to now.
    return make_world(timezone.now())


def _connector(base_url: str, token: str) -> AntsConnector:
    spec = SourceSpec(
        id=1,
        name="rdvpasseport",
        kind="ants",
        base_url=base_url,
        auth_header="X-HUB-RDV-AUTH-TOKEN",
        token=token,
        config={"reasons": list(Reason.values)},
        max_documents=3,
    )
    return AntsConnector(
        spec, http=HttpClient(auth_header=spec.auth_header, token=token, backoff=0, limiter=None)
    )


def _expected_slots() -> set[tuple[str, dt.datetime, str]]:
    """(meeting point id, start, reason) of every upcoming slot of a published town hall, once each."""
    rows = Slot.objects.upcoming().filter(town_hall__in=published_town_halls())
    return {
        (str(town_hall_id), starts_at, reason)
        for town_hall_id, starts_at, reason in rows.values_list("town_hall_id", "starts_at", "reason")
    }


def test_our_ants_connector_reads_back_the_published_town_halls_and_slots(live_server, live_world) -> None:
    connector = _connector(f"{live_server.url}/ants", live_world.token)

    points = connector.discover()
    assert [
        (p.external_id, p.name, p.address, p.postcode, p.city, p.lat, p.lon, p.website) for p in points
    ] == [
        (
            str(live_world.clichy.pk),
            "Mairie de Clichy",
            "80 boulevard Jean-Jaurès",
            "92110",
            "Clichy",
            48.9028,
            2.3048,
            "https://www.ville-clichy.fr/",
        )
    ]

    today = timezone.localdate()
    result = connector.fetch_slots(
        [p.external_id for p in points], start=today, end=today + dt.timedelta(days=60)
    )

    assert result.errors == []
    assert result.covered == {str(live_world.clichy.pk)}
    read = {(slot.meeting_point_id, slot.starts_at, slot.reason) for slot in result.slots}
    assert read == _expected_slots()
    # Largest party: the 09:20 slot takes three people, the one of unknown capacity is offered to three too.
    people = {
        (slot.starts_at.hour, slot.starts_at.minute, slot.reason): slot.people_max for slot in result.slots
    }
    assert people[(9, 20, "CNI")] == 3
    assert people[(9, 0, "CNI")] == 1


def test_a_wrong_token_fails_our_connector_at_once(live_server, live_world) -> None:
    from scrapers.fetching.errors import ConnectorError

    with pytest.raises(ConnectorError, match="401"):
        _connector(f"{live_server.url}/ants", "rdvp_wrong").discover()


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_a_second_rdvpasseport_ingests_our_endpoints_into_its_own_database(
    live_server, live_world, tmp_path: Path
) -> None:
    db = settings.DATABASES["default"]
    mirror = f"{db['NAME']}_mirror"
    credentials = db["USER"] + (f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else "")
    server = f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{mirror}"')
        conn.execute(f'CREATE DATABASE "{mirror}"')
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "rdvpasseport.settings.test",
        "DATABASE_URL": f"{server}/{mirror}",
        "SCRAPER_ALLOW_PRIVATE_ADDRESSES": "1",
        "RDVP_TOKEN": live_world.token,
    }
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n"
        "  - name: rdvpasseport (éditeur)\n"
        "    kind: ants\n"
        f"    url: {live_server.url}/ants\n"
        "    token_env: RDVP_TOKEN\n"
        "    max_documents: 3\n"
        "    config:\n"
        "      reasons: [CNI, PASSPORT, CNI-PASSPORT]\n",
        encoding="utf-8",
    )
    try:
        _manage(env, "migrate", "--noinput")
        _manage(env, "load_sources", str(sources))
        _manage(env, "scrape", "--all", "--sync")
        with psycopg.connect(f"{server}/{mirror}") as conn:
            town_halls = conn.execute(
                "SELECT t.name, t.address, t.postcode, m.external_id FROM slots_townhall t "
                "JOIN scrapers_meetingpoint m ON m.town_hall_id = t.id"
            ).fetchall()
            slots = conn.execute(
                "SELECT m.external_id, s.starts_at, s.reason FROM slots_slot s "
                "JOIN scrapers_meetingpoint m ON m.town_hall_id = s.town_hall_id"
            ).fetchall()
            run = conn.execute("SELECT status, error FROM scrapers_scraperun").fetchall()
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{mirror}" WITH (FORCE)')

    assert run == [("success", "")]
    assert town_halls == [
        ("Mairie de Clichy", "80 boulevard Jean-Jaurès", "92110", str(live_world.clichy.pk))
    ]
    assert {(external_id, starts_at, reason) for external_id, starts_at, reason in slots} == _expected_slots()
