"""Rate limits per client address on search, autocomplete and the API (rdvpasseport/ratelimit.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import redis
import time_machine
from django.conf import settings
from django.http import HttpResponse
from django.test import override_settings
from django.utils import translation

from rdvpasseport import ratelimit
from rdvpasseport.ratelimit import Rate, RateLimitMiddleware, client_key, parse_rate
from rdvpasseport.settings import base as base_settings
from tests.test_deploy import clean_env, run_python

# Paths with no view behind them (404): the limit applies before any view runs.
TEST_RULES = [("search", ("/recherche-limitee",), "3/m"), ("api", ("/api/limitee",), "2/m")]
START = dt.datetime(2026, 3, 2, 9, 0, 5, tzinfo=dt.UTC)  # 55 s before the minute's window ends


@pytest.fixture(autouse=True)
def _fresh_counters() -> Iterator[None]:
    """Counters live in the real Redis: forget those of earlier runs (tests freeze the same instants)."""

    def forget() -> None:
        client = redis.Redis.from_url(settings.REDIS_URL)
        keys = list(client.scan_iter("ratelimit:*"))
        if keys:
            client.delete(*keys)

    forget()
    with override_settings(RATELIMIT_ENABLED=True, RATELIMITS=TEST_RULES):
        yield
    forget()


@pytest.mark.django_db
def test_the_request_past_the_limit_gets_a_french_429_page_with_retry_after(client) -> None:
    with time_machine.travel(START, tick=False):
        allowed = [client.get("/recherche-limitee").status_code for _ in range(3)]
        refused = client.get("/recherche-limitee")

    assert allowed == [404, 404, 404]
    assert refused.status_code == 429
    assert refused["Retry-After"] == "55"
    assert refused["Content-Type"].startswith("text/html")
    page = refused.content.decode()
    assert "Trop de requêtes" in page
    assert "Merci de patienter 55 secondes" in page
    assert "<html" in page  # the site's layout, not a bare error


@pytest.mark.django_db
def test_the_429_speaks_the_language_the_citizen_chose(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with time_machine.travel(START, tick=False):
        for _ in range(3):
            client.get("/recherche-limitee")
        translation.activate("fr")  # what the thread's previous request, from somebody else, left
        page = client.get("/recherche-limitee").content.decode()
        for _ in range(2):
            client.get("/api/limitee")
        translation.activate("fr")
        api = client.get("/api/limitee")

    assert '<html lang="en">' in page
    assert "Too many requests" in page
    assert api.json()["error"] == "Too many requests: please try again in 55 seconds."


@pytest.mark.django_db
def test_the_client_may_search_again_once_the_window_is_over(client) -> None:
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            client.get("/recherche-limitee")
    with time_machine.travel(START + dt.timedelta(seconds=55), tick=False):
        response = client.get("/recherche-limitee")

    assert response.status_code == 404


@pytest.mark.django_db
def test_the_api_answers_429_in_json(client) -> None:
    with time_machine.travel(START, tick=False):
        client.get("/api/limitee")
        client.get("/api/limitee")
        refused = client.get("/api/limitee")

    assert refused.status_code == 429
    assert refused["Retry-After"] == "55"
    assert refused.json() == {
        "error": "Trop de requêtes : merci de réessayer dans 55 secondes.",
        "retry_after": 55,
    }


@pytest.mark.django_db
def test_each_client_address_has_its_own_allowance(client) -> None:
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            client.get("/recherche-limitee", REMOTE_ADDR="198.51.100.1")
        other = client.get("/recherche-limitee", REMOTE_ADDR="198.51.100.2")

    assert other.status_code == 404


@pytest.mark.django_db
def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(client) -> None:
    # Without a trusted proxy, a client cannot escape its limit by inventing X-Forwarded-For values.
    with time_machine.travel(START, tick=False):
        responses = [
            client.get("/recherche-limitee", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}") for n in range(4)
        ]

    statuses = [response.status_code for response in responses]
    assert statuses == [404, 404, 404, 429]


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_clients_are_told_apart_by_forwarded_for(client) -> None:
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            client.get("/recherche-limitee", HTTP_X_FORWARDED_FOR="203.0.113.7")
        # The proxy appends the real address: what the client wrote before it does not count.
        spoofed = client.get("/recherche-limitee", HTTP_X_FORWARDED_FOR="198.51.100.99, 203.0.113.7")
        neighbour = client.get("/recherche-limitee", HTTP_X_FORWARDED_FOR="203.0.113.8")

    assert spoofed.status_code == 429
    assert neighbour.status_code == 404


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_a_trusted_proxy_that_is_not_there_is_warned_about_once(client, caplog, monkeypatch) -> None:
    # TRUSTED_PROXY_COUNT=1 without a proxy lets clients write their own address: the first request that
    # did not come through the proxy (no X-Forwarded-For) says so in the logs.
    monkeypatch.setattr(ratelimit, "_missing_proxy_warned", [False])
    with caplog.at_level("WARNING", logger="rdvpasseport.ratelimit"):
        client.get("/recherche-limitee", REMOTE_ADDR="198.51.100.1")
        client.get("/recherche-limitee", REMOTE_ADDR="198.51.100.2")
        client.get("/recherche-limitee", HTTP_X_FORWARDED_FOR="203.0.113.7")

    warnings = [r.getMessage() for r in caplog.records if "TRUSTED_PROXY_COUNT" in r.getMessage()]
    assert warnings == [
        "TRUSTED_PROXY_COUNT=1, but a request from 198.51.100.1 carried 0 X-Forwarded-For entries: is the proxy "
        "in front of every request? Without one, clients choose the address rate limits see; set "
        "TRUSTED_PROXY_COUNT=0 (docs/OPERATIONS.md, Client addresses)"
    ]


@pytest.mark.django_db
def test_the_default_rules_cover_search_autocomplete_and_the_api(client) -> None:
    # The prefixes configured for production, each allowing one request.
    rules = [(bucket, prefixes, "1/m") for bucket, prefixes, _rate in base_settings.RATELIMITS]
    with override_settings(RATELIMITS=rules):
        first_search = client.get("/recherche")
        second_search = client.get("/recherche")
        first_api = client.get("/api/v1/communes", {"q": "Cli"})
        second_api = client.get("/api/v1/search", {"q": "Clichy"})
        first_suggestions = client.get("/autocomplete", {"q": "Cli"})
        second_suggestions = client.get("/autocomplete", {"q": "Clic"})
        home = [client.get("/").status_code for _ in range(3)]

    assert first_search.status_code != 429
    assert second_search.status_code == 429
    assert first_api.status_code != 429
    assert second_api.status_code == 429
    assert first_suggestions.status_code != 429
    assert second_suggestions.status_code == 429
    assert 429 not in home


@pytest.mark.django_db
def test_requests_go_through_when_redis_is_down(client) -> None:
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        statuses = [client.get("/recherche-limitee").status_code for _ in range(5)]

    assert statuses == [404] * 5


@pytest.mark.django_db
def test_without_redis_the_limit_is_counted_in_django_cache(client) -> None:
    with override_settings(REDIS_URL=""), time_machine.travel(START, tick=False):
        statuses = [client.get("/recherche-limitee", REMOTE_ADDR="192.0.2.50").status_code for _ in range(4)]

    assert statuses == [404, 404, 404, 429]


@pytest.mark.django_db
@override_settings(RATELIMIT_ENABLED=False)
def test_it_can_be_turned_off(client) -> None:
    statuses = [client.get("/recherche-limitee").status_code for _ in range(5)]

    assert statuses == [404] * 5


def test_rates_are_read_from_settings_text() -> None:
    assert parse_rate("30/m") == Rate(limit=30, window=60)
    assert parse_rate("100/h") == Rate(limit=100, window=3600)
    assert parse_rate("10/5m") == Rate(limit=10, window=300)
    assert parse_rate("off") is None
    with pytest.raises(ValueError):
        parse_rate("thirty per minute")


def test_a_rate_over_a_zero_long_period_stops_the_start_instead_of_failing_every_search() -> None:
    with pytest.raises(ValueError):
        parse_rate("10/0m")
    with override_settings(RATELIMITS=[("search", ("/recherche",), "10/0m")]), pytest.raises(ValueError):
        RateLimitMiddleware(lambda request: HttpResponse())

    result = run_python(["manage.py", "check"], clean_env(DEBUG="1", RATELIMIT_SEARCH="10/0m"))

    assert result.returncode != 0
    assert "RATELIMIT_SEARCH must look like" in result.stderr


def test_ipv6_clients_are_limited_per_64_network() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert client_key("192.0.2.1") == "192.0.2.1"
