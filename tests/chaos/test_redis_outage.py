"""Redis down or hanging: every page and the API keep answering from PostgreSQL; /healthz says "degraded".

Before: the demo banner's cache read raised, and every HTML page answered 500 (after 5 s with a hung Redis).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from slots.tests.factories import make_commune, make_slot, make_town_hall
from tests.test_deploy import clean_env, run_python

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/recherche?q=Clichy&insee=92024",
    "/mairie/{town_hall}",
    "/commune/92024",
    "/departement/92",
    "/autocomplete?q=cli",
    "/api/v1/search?insee=92024",
    "/api/v1/communes?q=cli",
]


@pytest.fixture
def clichy():
    commune = make_commune("92024", name="Clichy", postcodes=("92110",), lat=48.9028, lon=2.3048)
    town_hall = make_town_hall(name="Mairie de Clichy", commune=commune, checked_at=timezone.now())
    make_slot(town_hall, timezone.now() + dt.timedelta(days=2))
    return town_hall


def redis_settings(url: str) -> override_settings:
    """The cache and rate limits as production configures them for REDIS_URL=url (the test settings use a
    local-memory cache)."""
    shown = run_python(
        [
            "manage.py",
            "shell",
            "-c",
            "import json; from django.conf import settings; print(json.dumps(settings.CACHES))",
        ],
        clean_env(DEBUG="1", REDIS_URL=url),
    )
    assert shown.returncode == 0, shown.stderr
    return override_settings(
        REDIS_URL=url,
        CELERY_BROKER_URL=url,
        RATELIMIT_ENABLED=True,
        CACHES=json.loads(shown.stdout.strip().splitlines()[-1]),
    )


def statuses(client, town_hall) -> dict[str, int]:
    return {page: client.get(page.format(town_hall=town_hall.pk)).status_code for page in PAGES}


@pytest.mark.parametrize("fault", ["killed", "frozen"])
def test_pages_and_api_answer_while_redis_is_down(client, clichy, own_redis, fault):
    with redis_settings(own_redis.url):
        assert set(statuses(client, clichy).values()) == {200}  # with Redis: the cache is really used
        assert cache.get("scrapers:demo-banner") is not None

        own_redis.kill() if fault == "killed" else own_redis.freeze()
        during = statuses(client, clichy)
        health = client.get("/healthz")

    assert during == dict.fromkeys(PAGES, 200)
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["checks"]["redis"]["ok"] is False
