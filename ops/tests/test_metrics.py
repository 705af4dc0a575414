"""/metrics: our figures in Prometheus format, for Prometheus only."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from scrapers.models import ScrapeRun
from scrapers.tests.factories import make_run, make_slot, make_source, make_town_hall
from tests.test_deploy import clean_env, run_python

BASE_DIR = Path(__file__).resolve().parents[2]
# Prometheus scraping from this machine, allowed without a token (the default is token only).
LOCAL_PROMETHEUS = override_settings(METRICS_ALLOWED_NETWORKS=["127.0.0.1/32", "::1/128"])


def samples(content: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(content.decode())
        for sample in family.samples
    }


@pytest.mark.django_db
@LOCAL_PROMETHEUS
def test_it_exposes_runs_sources_slots_and_town_halls_from_localhost(client) -> None:
    now = timezone.now()
    ants = make_source(name="ANTS editor", kind="ants", last_success_at=now - dt.timedelta(minutes=2))
    make_source(
        name="Broken feed", kind="ics", consecutive_failures=4, last_success_at=now - dt.timedelta(hours=3)
    )
    make_source(name="Late feed", kind="csv", last_success_at=now - dt.timedelta(minutes=20))
    make_source(
        name="Hiccup", kind="csv", consecutive_failures=1, last_success_at=now - dt.timedelta(minutes=2)
    )
    make_source(name="Off", enabled=False)
    make_run(ants, status=ScrapeRun.Status.SUCCESS)
    make_run(ants, status=ScrapeRun.Status.SUCCESS)
    make_run(ants, status=ScrapeRun.Status.FAILED)
    make_run(ants, status=ScrapeRun.Status.SUCCESS, started_at=now - dt.timedelta(hours=25))
    fresh = make_town_hall(stale_at=now + dt.timedelta(minutes=10))
    make_town_hall(stale_at=now - dt.timedelta(minutes=1))
    make_town_hall(online_booking=False)
    make_slot(fresh, now + dt.timedelta(days=3), reason="CNI", source=ants)
    make_slot(fresh, now + dt.timedelta(days=4), reason="CNI", source=ants)
    make_slot(fresh, now - dt.timedelta(days=1), reason="CNI", source=ants)

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    values = samples(response.content)
    assert values[("rdvpasseport_scrape_runs_last_24h", (("status", "success"),))] == 2
    assert values[("rdvpasseport_scrape_runs_last_24h", (("status", "failed"),))] == 1
    assert values[("rdvpasseport_scrape_runs_last_24h", (("status", "suspicious"),))] == 0
    age = values[("rdvpasseport_source_data_age_seconds", (("kind", "ants"), ("source", "ANTS editor")))]
    assert 115 <= age <= 180
    assert (
        values[("rdvpasseport_source_consecutive_failures", (("kind", "ics"), ("source", "Broken feed")))]
        == 4
    )
    assert values[("rdvpasseport_sources", (("state", "enabled"),))] == 4
    assert values[("rdvpasseport_sources", (("state", "disabled"),))] == 1
    # Broken feed is failing, not also stale: each source has one health (SourceQuerySet's definition).
    assert values[("rdvpasseport_sources", (("state", "failing"),))] == 1
    assert values[("rdvpasseport_sources", (("state", "stale"),))] == 1
    assert values[("rdvpasseport_sources", (("state", "error"),))] == 1  # last run failed: never "ok"
    assert values[("rdvpasseport_slots_upcoming", (("reason", "CNI"),))] == 2
    assert values[("rdvpasseport_slots_upcoming", (("reason", "PASSPORT"),))] == 0
    assert values[("rdvpasseport_town_halls", (("state", "total"),))] == 3
    assert values[("rdvpasseport_town_halls", (("state", "online_booking"),))] == 2
    assert values[("rdvpasseport_town_halls", (("state", "stale"),))] == 1
    assert b"# TYPE rdvpasseport_search_latency_seconds histogram" in response.content


@pytest.mark.django_db
@LOCAL_PROMETHEUS
def test_searches_are_timed_in_the_latency_histogram(client) -> None:
    def count(endpoint: str) -> float:
        return (
            REGISTRY.get_sample_value("rdvpasseport_search_latency_seconds_count", {"endpoint": endpoint})
            or 0
        )

    before_page, before_api = count("slots:search"), count("slots:api_search")

    client.get("/recherche", {"q": "Clichy"})
    client.get("/api/v1/search", {"q": "Clichy"})
    client.get("/a-propos")

    assert count("slots:search") == before_page + 1
    assert count("slots:api_search") == before_api + 1
    response = client.get("/metrics")
    assert (
        b'rdvpasseport_search_latency_seconds_bucket{endpoint="slots:search",le="+Inf"}' in response.content
    )


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="ops.tests.urls_elsewhere")
def test_searches_are_labelled_by_the_view_that_answered_whatever_its_path(client) -> None:
    def count(endpoint: str) -> float:
        return (
            REGISTRY.get_sample_value("rdvpasseport_search_latency_seconds_count", {"endpoint": endpoint})
            or 0
        )

    before_page, before_api = count("slots:search"), count("slots:api_search")

    page = client.get("/ailleurs/recherche", {"q": "Clichy"})
    api = client.get("/ailleurs/api/v1/search", {"q": "Clichy"})
    other = client.get("/ailleurs/a-propos")
    missing = client.get("/recherche", {"q": "Clichy"})  # no view here under this URL configuration

    # No commune matches in an empty database: the API's 400 is an answer too, and is timed.
    assert (page.status_code, api.status_code, other.status_code, missing.status_code) == (200, 400, 200, 404)
    assert page.wsgi_request.resolver_match.view_name == "slots:search"
    assert count("slots:search") == before_page + 1
    assert count("slots:api_search") == before_api + 1
    labels = {
        sample.labels["endpoint"]
        for family in REGISTRY.collect()
        if family.name == "rdvpasseport_search_latency_seconds"
        for sample in family.samples
    }
    assert labels == {"slots:search", "slots:api_search"}


@pytest.mark.django_db
@LOCAL_PROMETHEUS
def test_it_refuses_clients_outside_the_allowed_networks_without_a_token(client) -> None:
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 403
    assert b"rdvpasseport_" not in response.content


@pytest.mark.django_db
@override_settings(METRICS_TOKEN="prometheus-token-123", METRICS_ALLOWED_NETWORKS=[])
def test_it_serves_any_address_presenting_the_bearer_token(client) -> None:
    good = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer prometheus-token-123")
    wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer guess")
    local_without_token = client.get("/metrics")

    assert good.status_code == 200
    assert b"rdvpasseport_sources" in good.content
    assert wrong.status_code == 403
    assert local_without_token.status_code == 403


@pytest.mark.django_db
@override_settings(METRICS_ALLOWED_NETWORKS=["10.20.0.0/16"])
def test_it_serves_a_configured_private_network(client) -> None:
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.21.3.4").status_code == 403


@pytest.mark.django_db
@LOCAL_PROMETHEUS
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_local_proxy_the_forwarded_client_address_is_judged(client) -> None:
    # The proxy runs on the same machine: REMOTE_ADDR is 127.0.0.1 for every visitor.
    outsider = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    spoofing = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1, 203.0.113.9")

    assert outsider.status_code == 403
    assert spoofing.status_code == 403


@pytest.mark.django_db
@override_settings(METRICS_TOKEN="", METRICS_ALLOWED_NETWORKS=[])
def test_it_is_turned_off_when_neither_token_nor_network_is_configured(client) -> None:
    assert client.get("/metrics").status_code == 404


def test_it_is_token_only_by_default() -> None:
    """Behind a reverse proxy on the same host every visitor is 127.0.0.1: a loopback default opened /metrics."""
    shown = run_python(
        [
            "manage.py",
            "shell",
            "-c",
            "from django.conf import settings; print(settings.METRICS_ALLOWED_NETWORKS)",
        ],
        clean_env(DEBUG="1"),
    )

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.django_db
def test_gunicorn_workers_latencies_are_added_up_in_multiprocess_mode(tmp_path) -> None:
    """Two forked processes (like two gunicorn workers) time a search each; /metrics counts both."""
    script = textwrap.dedent(
        """
        import os, sys
        import django
        django.setup()
        from ops.metrics import SEARCH_LATENCY, metrics_exposition
        for _ in range(2):
            pid = os.fork()
            if pid == 0:
                SEARCH_LATENCY.labels(endpoint="slots:api_search").observe(0.2)
                os._exit(0)
            os.waitpid(pid, 0)
        sys.stdout.buffer.write(metrics_exposition())
        """
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "rdvpasseport.settings.test",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DATABASE_URL": _test_database_url(),
    }

    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        timeout=60,
        check=True,
    )

    values = samples(result.stdout)
    assert values[("rdvpasseport_search_latency_seconds_count", (("endpoint", "slots:api_search"),))] == 2
    assert values[
        ("rdvpasseport_search_latency_seconds_sum", (("endpoint", "slots:api_search"),))
    ] == pytest.approx(0.4)
    assert ("rdvpasseport_sources", (("state", "enabled"),)) in values


def _test_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
