from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from rdvpasseport.celery import app as celery_app
from scrapers.models import ScrapeRun, Source
from scrapers.tests.factories import (
    TOKEN,
    make_meeting_point,
    make_run,
    make_slot,
    make_source,
    make_town_hall,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """The test Redis broker, its default queue emptied before and after."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(celery_app.conf.task_default_queue)
    yield client
    client.delete(celery_app.conf.task_default_queue)
    client.close()


def changelist(admin_client, **params):
    return admin_client.get(reverse("admin:scrapers_source_changelist"), params)


def test_the_source_list_shows_health_counts_and_never_the_token(admin_client, now):
    healthy = make_source(name="Healthy", last_success_at=now - dt.timedelta(minutes=2))
    failing = make_source(name="Failing", consecutive_failures=4, last_error="HTTP 503 Service Unavailable")
    make_source(name="Paused", paused=True)
    make_source(name="Stale", last_success_at=now - dt.timedelta(hours=2))
    town_hall = make_town_hall()
    make_meeting_point(healthy, "1", town_hall)
    make_meeting_point(healthy, "2", make_town_hall())
    make_slot(town_hall, now + dt.timedelta(days=1))
    make_slot(town_hall, now + dt.timedelta(days=2))
    make_slot(town_hall, now - dt.timedelta(days=1))  # past: not counted
    make_meeting_point(failing, "9", town_hall)

    response = changelist(admin_client)

    assert response.status_code == 200
    rows = {source.name: source for source in response.context["cl"].result_list}
    assert (rows["Healthy"].town_halls_total, rows["Healthy"].slots_total) == (2, 2)
    # Failing follows the same town hall, but offers none of its slots: each source counts its own.
    assert (rows["Failing"].town_halls_total, rows["Failing"].slots_total) == (1, 0)
    html = response.content.decode()
    for label in ("failing", "stale", "paused", "ok", "HTTP 503 Service Unavailable", "Créneaux à venir"):
        assert label in html
    assert TOKEN not in html


def test_the_source_list_runs_a_constant_number_of_queries(admin_client, django_assert_max_num_queries):
    for n in range(3):
        make_meeting_point(make_source(), str(n))
    changelist(admin_client)  # warm the session and content types
    with django_assert_max_num_queries(8) as few:
        changelist(admin_client)
    for n in range(3, 12):
        make_meeting_point(make_source(), str(n))

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = changelist(admin_client)

    assert len(response.context["cl"].result_list) == 12


@pytest.mark.parametrize(
    ("health", "expected"),
    [("failing", ["F"]), ("error", ["H"]), ("stale", ["S"]), ("paused", ["P"]), ("ok", ["O"]), ("bogus", [])],
)
def test_the_health_filter_selects_sources(admin_client, now, health, expected):
    make_source(name="F", consecutive_failures=3, last_success_at=now)
    make_source(
        name="H", consecutive_failures=2, last_success_at=now - dt.timedelta(minutes=6)
    )  # last run failed
    make_source(name="S", last_success_at=now - dt.timedelta(minutes=16), interval_minutes=5)
    make_source(name="P", enabled=False, last_success_at=now)
    make_source(name="O", last_success_at=now - dt.timedelta(minutes=14), interval_minutes=5)

    response = changelist(admin_client, health=health)

    assert response.status_code == 200
    assert [source.name for source in response.context["cl"].result_list] == expected


def test_the_change_form_never_renders_the_token_and_shows_the_last_ten_runs(admin_client, now):
    source = make_source()
    for minutes in range(12):
        make_run(source, started_at=now - dt.timedelta(minutes=minutes), error=f"error of run {minutes:02d}")

    response = admin_client.get(reverse("admin:scrapers_source_change", args=[source.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert TOKEN not in html
    assert 'type="password"' in html
    assert "error of run 09" in html
    assert "error of run 10" not in html


def post_source(admin_client, source, **overrides):
    data = {
        "name": source.name,
        "kind": "ants",
        "base_url": source.base_url,
        "auth_header": source.auth_header,
        "token": "",
        "config": "{}",
        "enabled": "on",
        "interval_minutes": "5",
        "discovery_interval_hours": "24",
        "horizon_days": "150",
        "max_documents": "1",
        "runs-TOTAL_FORMS": "0",
        "runs-INITIAL_FORMS": "0",
        "runs-MIN_NUM_FORMS": "0",
        "runs-MAX_NUM_FORMS": "0",
    }
    data.update(overrides)
    return admin_client.post(reverse("admin:scrapers_source_change", args=[source.pk]), data)


def test_an_empty_token_field_keeps_the_stored_token(admin_client):
    source = make_source()

    response = post_source(admin_client, source, interval_minutes="7")

    assert response.status_code == 302
    source.refresh_from_db()
    assert (source.token, source.interval_minutes) == (TOKEN, 7)


def test_a_typed_token_replaces_it_and_the_history_does_not_show_it(admin_client):
    source = make_source()

    response = post_source(admin_client, source, token="brand-new-token")

    assert response.status_code == 302
    source.refresh_from_db()
    assert source.token == "brand-new-token"
    history = admin_client.get(reverse("admin:scrapers_source_history", args=[source.pk])).content.decode()
    assert "brand-new-token" not in history


def test_the_token_can_be_removed(admin_client):
    source = make_source()

    post_source(admin_client, source, clear_token="on")

    source.refresh_from_db()
    assert source.token == ""


def test_the_kind_must_be_a_known_connector(admin_client):
    source = make_source()

    response = post_source(admin_client, source, kind="carrier-pigeon")

    assert response.status_code == 200
    assert "kind" in response.context["adminform"].form.errors
    source.refresh_from_db()
    assert source.kind == "ants"


@pytest.mark.parametrize(
    ("kind", "config", "message"),
    [
        ("ants", '{"batch_size": 500}', "config.batch_size: must be at most 100"),
        ("ants", '{"reason": ["CNI"]}', "config.reason: is not an option of ants sources"),
        ("ics", "{}", "config.town_hall: is required"),
        ("csv", '{"town_hall": {"name": "Mairie"}}', "config.town_hall.external_id: is required"),
    ],
)
def test_a_config_that_does_not_fit_the_kind_is_refused_naming_the_option(
    admin_client, kind, config, message
):
    source = make_source(config={"reasons": ["CNI"]})

    response = post_source(admin_client, source, kind=kind, config=config)

    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors["config"]
    source.refresh_from_db()
    assert (source.kind, source.config) == ("ants", {"reasons": ["CNI"]})


def test_only_http_and_https_urls_are_accepted(admin_client):
    source = make_source()

    response = post_source(admin_client, source, base_url="ftp://editeur.example/slots")

    assert response.status_code == 200
    assert "base_url" in response.context["adminform"].form.errors
    source.refresh_from_db()
    assert source.base_url.startswith("https://")


def test_the_form_lists_the_options_of_the_saved_kind_or_of_every_kind(admin_client):
    ics = make_source(kind="ics", config={"town_hall": {"external_id": "x", "name": "Mairie"}})

    change = admin_client.get(reverse("admin:scrapers_source_change", args=[ics.pk])).content.decode()
    add = admin_client.get(reverse("admin:scrapers_source_add")).content.decode()

    assert "<code>summary_contains</code>" in change
    assert "<code>batch_size</code>" not in change
    assert "<code>batch_size</code>" in add
    assert "<code>summary_contains</code>" in add


def test_a_new_source_names_no_auth_header_unless_told(admin_client):
    response = admin_client.get(reverse("admin:scrapers_source_add"))

    assert response.context["adminform"].form["auth_header"].value() == ""


@pytest.mark.parametrize(
    ("field", "value"), [("interval_minutes", "2000000000"), ("discovery_interval_hours", "2000000000")]
)
def test_intervals_beyond_the_sources_file_bounds_are_refused(admin_client, field, value):
    # Accepted, such an interval would overflow every date computed from it and break the source list.
    source = make_source()

    response = post_source(admin_client, source, **{field: value})

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    source.refresh_from_db()
    assert getattr(source, field) != int(value)
    assert changelist(admin_client).status_code == 200


@pytest.mark.parametrize(("kind", "expected"), [("ants", 4), ("ics", 1)])
def test_a_new_source_asks_its_kinds_number_of_people_by_default(admin_client, kind, expected):
    add_url = reverse("admin:scrapers_source_add")
    form = admin_client.get(add_url)
    config = {"town_hall": {"external_id": "x", "name": "Mairie de X"}} if kind == "ics" else {}
    data = {
        "name": f"Nouvelle source {kind}",
        "kind": kind,
        "base_url": "https://editeur.example/api",
        "auth_header": "",
        "token": "",
        "config": json.dumps(config),
        "enabled": "on",
        "interval_minutes": "5",
        "discovery_interval_hours": "24",
        "horizon_days": "150",
        "max_documents": "",
        "runs-TOTAL_FORMS": "0",
        "runs-INITIAL_FORMS": "0",
        "runs-MIN_NUM_FORMS": "0",
        "runs-MAX_NUM_FORMS": "0",
    }

    response = admin_client.post(add_url, data)

    assert "les familles réservent un créneau par personne" in form.content.decode()
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Source.objects.get(name=f"Nouvelle source {kind}").max_documents == expected


def test_the_horizon_is_listed_and_edited_within_its_bounds(admin_client):
    source = make_source(name="Éditeur à 90 jours")

    saved = post_source(admin_client, source, horizon_days="90")
    refused = post_source(admin_client, source, horizon_days="400")

    assert saved.status_code == 302
    assert "horizon_days" in refused.context["adminform"].form.errors
    source.refresh_from_db()
    assert source.horizon_days == 90
    listed = changelist(admin_client)
    assert "column-horizon_days" in listed.content.decode()
    assert listed.context["cl"].result_list[0].horizon_days == 90


def test_the_run_and_meeting_point_lists_render(admin_client):
    source = make_source(name="Éditeur listé")
    make_run(source, status=ScrapeRun.Status.FAILED, error=f"HTTP 500 at {TOKEN[:3]}")
    make_meeting_point(source, "mp-42")

    runs = admin_client.get(reverse("admin:scrapers_scraperun_changelist"))
    points = admin_client.get(reverse("admin:scrapers_meetingpoint_changelist"))

    assert runs.status_code == 200
    assert "Éditeur listé" in runs.content.decode()
    assert points.status_code == 200
    assert "mp-42" in points.content.decode()
    add = admin_client.get(reverse("admin:scrapers_source_add"))
    assert add.status_code == 200
