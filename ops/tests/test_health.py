"""/healthz: which parts of the service answer, and when the load balancer must stop sending traffic."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import StringIO

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from ops.health import WORKERS_KEY, stuck_workers
from ops.tasks import heartbeat as heartbeat_task
from rdvpasseport.celery import app as celery_app
from scrapers.models import Source, SourceHealth
from scrapers.tests.factories import make_source

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    # The heartbeat and the cached worker ping live in the cache: each test starts without them.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def worker() -> Iterator[None]:
    """A real Celery worker (in a thread of this process) on the test Redis broker."""
    with start_worker(
        celery_app, pool="threads", concurrency=1, perform_ping_check=False, shutdown_timeout=10
    ):
        yield


@pytest.mark.django_db(transaction=True)
def test_it_is_ok_when_database_redis_beat_and_a_worker_answer(client, worker) -> None:
    heartbeat_task.apply()

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok", body
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["redis"] == {"ok": True}
    assert body["checks"]["workers"]["ok"] is True
    assert body["checks"]["workers"]["count"] >= 1
    assert body["checks"]["beat"]["ok"] is True
    assert body["checks"]["sources"]["ok"] is True


@pytest.mark.django_db
def test_it_stays_up_but_degraded_when_redis_is_unreachable(client) -> None:
    # Pages and the API keep answering without Redis: a load balancer must not take the web processes out.
    with override_settings(REDIS_URL=CLOSED_PORT_REDIS, CELERY_BROKER_URL=CLOSED_PORT_REDIS):
        response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["ok"] is False
    assert "Connection" in body["checks"]["redis"]["error"]
    assert body["checks"]["database"]["ok"] is True
    assert "skipped" in body["checks"]["workers"]["error"]


@pytest.mark.django_db
def test_redis_can_be_made_critical(client) -> None:
    with override_settings(
        REDIS_URL=CLOSED_PORT_REDIS,
        CELERY_BROKER_URL=CLOSED_PORT_REDIS,
        HEALTHZ_CRITICAL_CHECKS=["database", "redis"],
    ):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "error"


@pytest.mark.django_db
def test_it_stays_up_but_degraded_without_any_worker(client) -> None:
    heartbeat_task.apply()

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["workers"] == {
        "ok": False,
        "count": 0,
        "names": [],
        "error": "no Celery worker answered: scrapes are not running",
    }


@pytest.mark.django_db
def test_a_missing_worker_is_fatal_when_configured_critical(client) -> None:
    heartbeat_task.apply()

    with override_settings(HEALTHZ_CRITICAL_CHECKS=["database", "redis", "workers"]):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "error"


@pytest.mark.django_db
def test_it_reports_beat_late_when_the_heartbeat_is_old(client) -> None:
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False):
        heartbeat_task.apply()
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 10, tzinfo=dt.UTC), tick=False):
        response = client.get("/healthz")

    assert response.status_code == 200
    beat = response.json()["checks"]["beat"]
    assert beat["ok"] is False
    assert beat["age_seconds"] == 600
    assert beat["last_heartbeat"] == "2026-03-02T09:00:00+00:00"
    assert "600 s ago" in beat["error"]


@pytest.mark.django_db
def test_it_reports_beat_down_when_no_heartbeat_was_ever_recorded(client) -> None:
    response = client.get("/healthz")

    beat = response.json()["checks"]["beat"]
    assert beat["ok"] is False
    assert "no heartbeat" in beat["error"]


@pytest.mark.django_db
def test_it_counts_failing_in_error_and_stale_sources_but_not_paused_or_disabled_ones(client) -> None:
    now = timezone.now()
    make_source(name="Healthy", last_success_at=now - dt.timedelta(minutes=4))
    make_source(name="Failing", last_success_at=now - dt.timedelta(minutes=4), consecutive_failures=3)
    make_source(name="Stale", interval_minutes=5, last_success_at=now - dt.timedelta(minutes=16))
    make_source(
        name="Paused", paused=True, consecutive_failures=9, last_success_at=now - dt.timedelta(days=2)
    )
    make_source(name="Disabled", enabled=False, consecutive_failures=9)
    make_source(name="One hiccup", last_success_at=now - dt.timedelta(minutes=2), consecutive_failures=1)
    make_source(name="Never worked", consecutive_failures=1)  # HTTP 401 on its first run: failing at once

    response = client.get("/healthz")

    assert response.status_code == 200
    sources = response.json()["checks"]["sources"]
    assert sources["ok"] is False
    assert sources["active"] == 5
    assert (sources["failing"], sources["in_error"], sources["stale"]) == (2, 1, 1)
    assert sorted(sources["failing_names"]) == ["Failing", "Never worked"]
    assert sources["in_error_names"] == ["One hiccup"]
    assert sources["stale_names"] == ["Stale"]


@pytest.mark.django_db
def test_it_is_reachable_over_plain_http_without_login_while_the_site_redirects_to_https(client) -> None:
    with override_settings(SECURE_SSL_REDIRECT=True):
        page = client.get("/a-propos")
        health = client.get("/healthz")

    assert page.status_code == 301
    assert page["Location"].startswith("https://")
    assert health.status_code == 200
    assert health["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db(transaction=True)  # django-celery-beat closes the connection it finds in a transaction
def test_beat_schedules_the_heartbeat_every_minute_and_workers_know_the_task() -> None:
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    call_command("setup_schedules", stdout=StringIO())
    DatabaseScheduler(app=celery_app)  # what `celery beat` does at start
    celery_app.loader.import_default_modules()  # what a worker does at start

    heartbeat = PeriodicTask.objects.get(task="ops.heartbeat")
    assert (heartbeat.interval.every, heartbeat.interval.period) == (1, "minutes")
    assert heartbeat.expire_seconds == 60
    assert heartbeat.enabled is True
    assert "ops.heartbeat" in celery_app.tasks
    assert not PeriodicTask.objects.filter(task="scrapers.ops_heartbeat").exists()


# One definition of a source's health (SourceQuerySet), and every place that shows it.
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
# name: (expected health, fields, created how long before NOW); intervals are 5 minutes unless said.
HEALTH_CASES: dict[str, tuple[str, dict[str, object], dt.timedelta]] = {
    "Succeeding": ("ok", {"last_success_at": NOW - 14 * MINUTE}, dt.timedelta(days=30)),
    "Two failures in a row": (
        "error",
        {"consecutive_failures": 2, "last_success_at": NOW - 6 * MINUTE},
        dt.timedelta(days=30),
    ),
    "New, not run yet": ("ok", {}, 14 * MINUTE),
    "Hourly, in time": (
        "ok",
        {"interval_minutes": 60, "last_success_at": NOW - 179 * MINUTE},
        dt.timedelta(days=30),
    ),
    "Three failures in a row": (
        "failing",
        {"consecutive_failures": 3, "last_success_at": NOW - MINUTE},
        dt.timedelta(days=30),
    ),
    "Failing for days": (
        "failing",
        {"consecutive_failures": 40, "last_success_at": NOW - dt.timedelta(days=3)},
        dt.timedelta(days=30),
    ),
    "No success for 16 minutes": ("stale", {"last_success_at": NOW - 16 * MINUTE}, dt.timedelta(days=30)),
    "Hourly, late": (
        "stale",
        {"interval_minutes": 60, "last_success_at": NOW - 181 * MINUTE},
        dt.timedelta(days=30),
    ),
    "Last run failed, once": (
        "error",
        {"consecutive_failures": 1, "last_success_at": NOW - 4 * MINUTE},
        dt.timedelta(days=30),
    ),
    "Never succeeded": ("failing", {"consecutive_failures": 1}, 16 * MINUTE),
    "First run failed at once": ("failing", {"consecutive_failures": 1}, MINUTE),
    "Never run, late": ("stale", {}, 16 * MINUTE),
    "Paused": (
        "paused",
        {"paused": True, "consecutive_failures": 9, "last_success_at": NOW - dt.timedelta(days=3)},
        dt.timedelta(days=30),
    ),
    "Disabled": ("paused", {"enabled": False}, dt.timedelta(days=30)),
}
EXPECTED = {name: health for name, (health, _, _) in HEALTH_CASES.items()}


def names_in(health: str) -> set[str]:
    return {name for name, expected in EXPECTED.items() if expected == health}


@pytest.fixture
def sources_of_every_health() -> Iterator[None]:
    for name, (_, fields, age) in HEALTH_CASES.items():
        with time_machine.travel(NOW - age, tick=False):
            make_source(name=name, **fields)
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.django_db
def test_each_source_has_one_health_which_the_queryset_methods_select(sources_of_every_health) -> None:
    annotated = dict(Source.objects.with_health(NOW).values_list("name", "computed_health"))
    computed = {source.name: source.health for source in Source.objects.all()}  # no annotation: in Python

    assert annotated == EXPECTED
    assert computed == EXPECTED
    selected = {
        "ok": Source.objects.healthy(NOW),
        "stale": Source.objects.stale(NOW),
        "error": Source.objects.in_error(),
        "failing": Source.objects.failing(),
        "paused": Source.objects.paused(),
    }
    for health, queryset in selected.items():
        assert set(queryset.values_list("name", flat=True)) == names_in(health), health
        assert set(Source.objects.in_health(health, NOW).values_list("name", flat=True)) == names_in(health)
    assert Source.objects.active().count() == len(EXPECTED) - len(names_in("paused"))
    assert not Source.objects.in_health("unknown").exists()


@pytest.mark.django_db
@override_settings(HEALTH_SOURCE_FAILURES=1, HEALTH_SOURCE_STALE_INTERVALS=4)
def test_the_thresholds_are_the_settings(sources_of_every_health) -> None:
    health = dict(Source.objects.with_health(NOW).values_list("name", "computed_health"))

    assert health["Two failures in a row"] == health["Last run failed, once"] == "failing"
    assert health["Never succeeded"] == "failing"
    assert health["No success for 16 minutes"] == "ok"  # 4 intervals of 5 minutes: 20 minutes
    assert Source.objects.get(name="No success for 16 minutes").health == "ok"


@pytest.mark.django_db
@override_settings(METRICS_ALLOWED_NETWORKS=["127.0.0.1/32"])
def test_the_admin_dashboard_healthz_and_metrics_agree_on_every_source(
    sources_of_every_health, admin_client, client
) -> None:
    cache.set(WORKERS_KEY, {"names": ["celery@worker-1"], "stuck": []}, timeout=60)
    changelist_url = reverse("admin:scrapers_source_changelist")

    listed = admin_client.get(changelist_url)
    filtered = {
        health: admin_client.get(changelist_url, {"health": health}) for health in SourceHealth.values
    }
    dashboard = admin_client.get(reverse("admin:scrapers_dashboard"))
    healthz = client.get("/healthz").json()["checks"]["sources"]
    metrics = {
        sample.labels["state"]: sample.value
        for family in text_string_to_metric_families(client.get("/metrics").content.decode())
        for sample in family.samples
        if sample.name == "rdvpasseport_sources"
    }

    assert {source.name: source.health for source in listed.context["cl"].result_list} == EXPECTED
    assert "Three failures in a row" in listed.content.decode()
    for health, response in filtered.items():
        assert {source.name for source in response.context["cl"].result_list} == names_in(health), health
    groups = {
        group.health: {s.name for s in group.sources} for group in dashboard.context["dashboard"].groups
    }
    assert groups == {health: names_in(health) for health in SourceHealth.values}
    assert set(healthz["failing_names"]) == names_in("failing")
    assert set(healthz["in_error_names"]) == names_in("error")
    assert set(healthz["stale_names"]) == names_in("stale")
    assert (healthz["failing"], healthz["in_error"], healthz["stale"], healthz["active"]) == (4, 2, 3, 12)
    assert (metrics["failing"], metrics["error"], metrics["stale"]) == (4, 2, 3)
    assert (metrics["enabled"], metrics["paused"], metrics["disabled"]) == (12, 1, 1)


def test_a_worker_whose_threads_are_all_stuck_past_the_deadline_is_noticed(settings) -> None:
    # A worker answers pings from its consumer thread even when every pool thread hangs on a hostile source.
    settings.SCRAPE_TIME_LIMIT = 150
    now = 1_000_000.0
    stuck_task = {"name": "scrapers.tasks.source_scrape", "time_start": now - 400}
    fresh_task = {"name": "scrapers.tasks.source_scrape", "time_start": now - 20}
    active = {
        "celery@stuck": [stuck_task, stuck_task],
        "celery@busy": [stuck_task, fresh_task],
        "celery@idle": [],
    }
    stats = {name: {"pool": {"max-concurrency": 2}} for name in active}

    assert stuck_workers(active, stats, now=now) == ["celery@stuck"]


@pytest.mark.django_db
def test_healthz_is_degraded_while_a_worker_is_stuck(client) -> None:
    heartbeat_task.apply()
    cache.set(WORKERS_KEY, {"names": ["celery@a", "celery@b"], "stuck": ["celery@b"]}, timeout=60)

    body = client.get("/healthz").json()

    assert body["status"] == "degraded"
    assert body["checks"]["workers"]["ok"] is False
    assert body["checks"]["workers"]["stuck"] == ["celery@b"]
    assert "celery@b" in body["checks"]["workers"]["error"]
