"""An alert from sign-up to unsubscribe, for real: a local ANTS server, a Celery worker, an SMTP server.

Subscribe, confirm with the emailed link, a run of the ANTS source brings a new slot, one alert email books
that slot; a run with nothing new and a run within the hour send nothing; the List-Unsubscribe URL ends it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.test import Client
from django.utils import timezone
from werkzeug.wrappers import Response

from alerts.models import Alert, AlertEmail
from alerts.tests.smtp import smtp_server
from communes.tests.factories import make_commune
from rdvpasseport.celery import app as celery_app
from scrapers.services import source_scrape
from scrapers.tests.factories import make_source
from slots.models import Slot

MEETING_POINT = {
    "id": "clichy",
    "name": "Mairie de Clichy",
    "longitude": 2.3048,
    "latitude": 48.9028,
    "public_entry_address": "80 boulevard Jean-Jaurès",
    "zip_code": "92110",
    "city_name": "CLICHY",
}


def wait_for(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError(f"nothing happened within {timeout} s")


def stays(predicate, seconds: float = 3.0) -> bool:
    """Whether `predicate` holds all along `seconds` (the worker had time to do what it would do)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not predicate():
            return False
        time.sleep(0.1)
    return True


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_alert_from_sign_up_to_unsubscribe(httpserver, settings):
    settings.SCRAPER_ALLOWED_HOSTS = [f"127.0.0.1:{httpserver.port}"]
    settings.ALERT_MIN_INTERVAL_MINUTES = 60
    day = timezone.localdate() + dt.timedelta(days=3)
    offered: list[dict[str, str]] = []

    def slot(hour: int) -> dict[str, str]:
        return {
            "datetime": f"{day:%Y-%m-%d}T{hour:02d}:00Z",
            "callback_url": f"https://rdv.example.fr/clichy/{hour}",
        }

    httpserver.expect_request("/api/getManagedMeetingPoints").respond_with_json([MEETING_POINT])
    httpserver.expect_request("/api/availableTimeSlots").respond_with_handler(
        lambda request: Response(json.dumps({"clichy": offered}), content_type="application/json")
    )
    make_commune("92024", name="Clichy", postcodes=("92110",), lat=48.9028, lon=2.3048)
    source = make_source(
        base_url=httpserver.url_for("/api"), config={"reasons": ["PASSPORT"]}, next_run_at=None
    )
    client = Client()
    celery_app.control.purge()

    with (
        smtp_server(settings) as inbox,
        start_worker(
            celery_app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=30
        ),
    ):
        offered.append(slot(15))
        assert source_scrape(source_id=source.pk).status == "success"

        # Sign up from the results page's form, then confirm with the emailed link.
        response = client.post(
            "/alertes",
            {
                "q": "Clichy",
                "insee": "92024",
                "rayon": "10",
                "motif": "passeport",
                "personnes": "1",
                "email": "camille@example.org",
            },
        )
        assert response.status_code == 200
        confirmation = wait_for(lambda: inbox.messages[:1])[0]
        link = re.search(r"https://rdv\.example(/alertes/confirmer/\S+)", inbox.texts(confirmation)[0]).group(
            1
        )
        assert "Votre alerte est active" in client.post(link).content.decode()

        # A run brings a new slot, earlier than the one known: one email, whose link books it.
        offered.insert(0, slot(9))
        assert source_scrape(source_id=source.pk).slots_new == 1
        alert_email = wait_for(lambda: inbox.messages[1:2])[0]
        assert alert_email["Subject"] == "Nouveaux créneaux près de Clichy"
        text, html = inbox.texts(alert_email)
        assert "Réserver : https://rdv.example.fr/clichy/9" in text
        assert 'href="https://rdv.example.fr/clichy/9"' in html
        assert Slot.objects.filter(booking_url="https://rdv.example.fr/clichy/9").exists()

        # A run with nothing new sends nothing; a run with news within the hour neither.
        assert source_scrape(source_id=source.pk).slots_new == 0
        offered.append(slot(16))
        assert source_scrape(source_id=source.pk).slots_new == 1
        assert stays(lambda: len(inbox.messages) == 2)

        # The one-click unsubscribe of the header (RFC 8058), then nothing at all.
        assert alert_email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = re.fullmatch(
            r"<https://rdv\.example(/alertes/desabonner/\S+)>", alert_email["List-Unsubscribe"].strip()
        ).group(1)
        assert (
            Client(enforce_csrf_checks=True).post(url, {"List-Unsubscribe": "One-Click"}).status_code == 200
        )
        assert not Alert.objects.exists() and not AlertEmail.objects.exists()
        settings.ALERT_MIN_INTERVAL_MINUTES = 0
        offered.append(slot(17))
        assert source_scrape(source_id=source.pk).slots_new == 1
        assert stays(lambda: len(inbox.messages) == 2)
