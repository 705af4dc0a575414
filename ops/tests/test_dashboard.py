"""The ops dashboard in the admin: sources by health, last runs, queue, workers, beat, the 24-hour chart, and
its buttons (run now, pause, resume), each recorded in the admin's log."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
import redis
import time_machine
from bs4 import BeautifulSoup
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from ops.health import WORKERS_KEY
from ops.tasks import heartbeat as heartbeat_task
from rdvpasseport.celery import app as celery_app
from scrapers.models import ScrapeRun, Source
from scrapers.tests.factories import make_meeting_point, make_run, make_slot, make_source, make_town_hall

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 11, 30, tzinfo=dt.UTC)  # 12:30 in Paris
DASHBOARD = "admin:scrapers_dashboard"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def ops_state() -> Iterator[None]:
    """One worker answered the (cached) ping a moment ago and beat's heartbeat ran 40 s ago."""
    cache.clear()
    cache.set(WORKERS_KEY, {"names": ["celery@worker-1"], "stuck": []}, timeout=60)
    with time_machine.travel(NOW - dt.timedelta(seconds=40), tick=False):
        heartbeat_task.apply()
    yield
    cache.clear()


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """The test Redis broker, its default queue emptied before and after."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queue = celery_app.conf.task_default_queue
    client.delete(queue)
    yield client
    client.delete(queue)
    client.close()


def dashboard(client):
    return client.get(reverse(DASHBOARD))


def operate(client, source: Source, operation: str, **extra):
    return client.post(
        reverse("admin:scrapers_dashboard_operate", args=[source.pk]), {"operation": operation}, **extra
    )


def staff_user(*permissions: str):
    user = get_user_model().objects.create_user("operator", "operator@example.org", "pw", is_staff=True)
    for codename in permissions:
        user.user_permissions.add(
            Permission.objects.get(codename=codename, content_type__app_label="scrapers")
        )
    return user


def row(html: str, source: Source):
    return BeautifulSoup(html, "html.parser").find(id=f"source-{source.pk}")


def test_staff_see_sources_grouped_by_health_with_last_runs_counts_and_errors(admin_client) -> None:
    ok = make_source(name="Éditeur sain", last_success_at=NOW - dt.timedelta(minutes=3))
    failing = make_source(
        name="Éditeur en panne",
        consecutive_failures=4,
        last_success_at=NOW - dt.timedelta(hours=5),
        last_error="HTTP 503 Service Unavailable from the editor",
        next_run_at=NOW + dt.timedelta(minutes=40),
    )
    stale = make_source(name="Flux ICS lent", kind="ics", last_success_at=NOW - dt.timedelta(minutes=20))
    paused = make_source(name="Éditeur suspendu", paused=True)
    in_error = make_source(
        name="Éditeur refusé", consecutive_failures=1, last_success_at=NOW - dt.timedelta(minutes=4)
    )
    statuses = ["success", "failed", "suspicious", "failed", "success", "success", "success"]
    for minutes, status in enumerate(statuses):  # latest first
        make_run(failing, started_at=NOW - dt.timedelta(minutes=10 * minutes + 1), status=status)
    make_run(ok, started_at=NOW - dt.timedelta(minutes=3), status=ScrapeRun.Status.SUCCESS)
    town_hall = make_town_hall()
    make_meeting_point(ok, "a", town_hall)
    make_meeting_point(ok, "b", make_town_hall())
    make_slot(town_hall, NOW + dt.timedelta(days=1))
    make_slot(town_hall, NOW + dt.timedelta(days=2))
    make_slot(town_hall, NOW - dt.timedelta(hours=1))  # past: not counted

    response = dashboard(admin_client)

    assert response.status_code == 200
    groups = {g.health: [s.name for s in g.sources] for g in response.context["dashboard"].groups}
    assert groups == {
        "ok": ["Éditeur sain"],
        "stale": ["Flux ICS lent"],
        "failing": ["Éditeur en panne"],
        "error": ["Éditeur refusé"],
        "paused": ["Éditeur suspendu"],
    }
    html = response.content.decode()
    soup = BeautifulSoup(html, "html.parser")
    pairs = [("ok", ok), ("stale", stale), ("failing", failing), ("error", in_error), ("paused", paused)]
    for health, source in pairs:
        assert soup.find(id=f"health-{health}").find(id=f"source-{source.pk}") is not None
    failing_row = row(html, failing)
    badges = [li["class"][1] for li in failing_row.select("ol.ops-runs li")]
    assert badges == [f"ops-run--{status}" for status in statuses[:5]]
    error = soup.find(id=f"source-{failing.pk}-error").get_text(" ", strip=True)
    assert error == "Last error: HTTP 503 Service Unavailable from the editor"
    assert soup.find(id=f"source-{ok.pk}-error") is None
    cells = [cell.get_text(" ", strip=True) for cell in failing_row.find_all("td")]
    assert cells[1:4] == ["02/03 07:30", "4", "02/03 13:10"]  # last success, failures, next run (Paris)
    ok_cells = [cell.get_text(strip=True) for cell in row(html, ok).find_all("td")]
    assert ok_cells[4:6] == ["2", "2"]  # town halls, upcoming slots
    assert "never run" in row(html, stale).get_text()
    assert "Resume" in row(html, paused).get_text()
    assert "Pause" in row(html, ok).get_text()


def test_it_shows_the_queue_length_workers_and_beat_heartbeat_age(admin_client, broker) -> None:
    broker.rpush(celery_app.conf.task_default_queue, "a", "b", "c")

    response = dashboard(admin_client)

    board = response.context["dashboard"]
    assert board.queue_length == 3
    assert board.workers["names"] == ["celery@worker-1"]
    assert board.beat["age_seconds"] == 40
    tiles = [
        tile.get_text(" ", strip=True)
        for tile in BeautifulSoup(response.content, "html.parser").select(".ops-tile")
    ]
    assert "3 tasks waiting in the queue" in tiles
    assert "1 worker answering" in tiles
    assert "40 s since the beat heartbeat" in tiles


def test_the_queue_length_is_unknown_when_the_broker_is_not_redis(admin_client) -> None:
    with override_settings(CELERY_BROKER_URL="filesystem://"):
        response = dashboard(admin_client)

    assert response.context["dashboard"].queue_length is None
    assert "unknown tasks waiting in the queue" in BeautifulSoup(response.content, "html.parser").get_text(
        " ", strip=True
    )


def test_late_beat_and_missing_workers_are_spelled_out(admin_client) -> None:
    cache.set(WORKERS_KEY, {"names": [], "stuck": []}, timeout=60)

    with time_machine.travel(NOW + dt.timedelta(minutes=10), tick=False):
        response = dashboard(admin_client)

    problems = BeautifulSoup(response.content, "html.parser").select_one(".ops-problems").get_text()
    assert "no Celery worker answered" in problems
    assert "last heartbeat 640 s ago" in problems


def test_the_chart_counts_finished_runs_per_hour_over_the_last_24_hours(admin_client) -> None:
    source = make_source()
    for started_at, status in [
        (NOW - dt.timedelta(minutes=25), "success"),  # 11:05 UTC = 12:05 Paris
        (NOW - dt.timedelta(minutes=20), "success"),
        (NOW - dt.timedelta(minutes=10), "failed"),
        (NOW - dt.timedelta(minutes=2), "running"),  # not finished: not counted
        (NOW - dt.timedelta(minutes=91), "suspicious"),  # 09:59 UTC
        (NOW - dt.timedelta(minutes=90), "success"),  # 10:00 UTC
        (NOW - dt.timedelta(hours=23, minutes=30), "failed"),  # 12:00 UTC yesterday: the first hour
        (NOW - dt.timedelta(hours=23, minutes=31), "failed"),  # 11:59 UTC yesterday: too old
    ]:
        make_run(source, started_at=started_at, status=status)

    response = dashboard(admin_client)

    chart = response.context["dashboard"].chart
    assert len(chart.buckets) == 24
    counts = {
        bucket.start: (bucket.success, bucket.suspicious, bucket.failed)
        for bucket in chart.buckets
        if bucket.total
    }
    assert counts == {
        dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC): (0, 0, 1),
        dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC): (0, 1, 0),
        dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC): (1, 0, 0),
        dt.datetime(2026, 3, 2, 11, tzinfo=dt.UTC): (2, 0, 1),
    }
    assert chart.totals == {"success": 3, "suspicious": 1, "failed": 2}
    soup = BeautifulSoup(response.content, "html.parser")
    svg = soup.select_one("svg.ops-chart")
    bars = {
        group.title.get_text(): [
            (rect["class"][1], int(rect["data-count"])) for rect in group.find_all("rect")
        ]
        for group in svg.select("g.ops-bar")
    }
    assert len(bars) == 24
    assert bars["12:00–13:00: 2 successful, 0 suspicious, 1 failed"] == [
        ("ops-seg--success", 2),
        ("ops-seg--failed", 1),
    ]
    assert bars["10:00–11:00: 0 successful, 1 suspicious, 0 failed"] == [("ops-seg--suspicious", 1)]
    assert bars["13:00–14:00: 0 successful, 0 suspicious, 1 failed"] == [("ops-seg--failed", 1)]
    assert sum(len(segments) for segments in bars.values()) == 5
    # The tallest bar (3 runs) is three times the height of a one-run bar.
    heights = {
        title: sum(float(rect["height"]) for rect in group.find_all("rect"))
        for group in svg.select("g.ops-bar")
        if (title := group.title.get_text())
    }
    assert heights["12:00–13:00: 2 successful, 0 suspicious, 1 failed"] == pytest.approx(
        3 * heights["11:00–12:00: 1 successful, 0 suspicious, 0 failed"]
    )
    table = {
        tr.th.get_text(): [td.get_text() for td in tr.find_all("td")]
        for tr in soup.select(".ops-chart-table tbody tr")
    }
    assert table["12:00–13:00"] == ["2", "0", "1"]
    assert table["11:00–12:00"] == ["1", "0", "0"]
    assert table["10:00–11:00"] == ["0", "1", "0"]
    assert 'style="' not in str(svg)
    assert "<script" not in response.content.decode().split('id="content-main"')[1]


def test_anonymous_and_non_staff_users_are_sent_to_the_login_page(client) -> None:
    anonymous = dashboard(client)
    citizen = get_user_model().objects.create_user("citizen", "c@example.org", "pw")
    client.force_login(citizen)
    non_staff = dashboard(client)
    source = make_source()
    post = operate(client, source, "pause")

    for response in (anonymous, non_staff, post):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    source.refresh_from_db()
    assert source.paused is False


def test_staff_without_the_source_permissions_are_refused(client) -> None:
    client.force_login(staff_user())
    source = make_source()

    assert dashboard(client).status_code == 403
    assert operate(client, source, "pause").status_code == 403


def test_staff_who_may_only_view_sources_see_the_dashboard_without_buttons(client) -> None:
    client.force_login(staff_user("view_source"))
    source = make_source()

    response = dashboard(client)
    refused = operate(client, source, "pause")

    assert response.status_code == 200
    assert row(response.content.decode(), source).find("form") is None
    assert refused.status_code == 403
    source.refresh_from_db()
    assert source.paused is False
    assert not LogEntry.objects.exists()


def test_run_now_enqueues_a_scrape_after_commit_and_records_it(
    client, broker, django_capture_on_commit_callbacks
) -> None:
    user = staff_user("view_source", "change_source")
    client.force_login(user)
    source = make_source(name="Éditeur à relancer", paused=True)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = operate(client, source, "run_now")

    assert response.status_code == 302
    assert response["Location"] == reverse(DASHBOARD) + f"#source-{source.pk}"
    assert len(callbacks) == 1
    messages = broker.lrange(celery_app.conf.task_default_queue, 0, -1)
    assert len(messages) == 1
    headers = json.loads(messages[0])["headers"]
    assert headers["task"] == "scrapers.tasks.source_scrape"
    assert headers["argsrepr"] == f"({source.pk},)"
    entry = LogEntry.objects.get()
    assert (entry.user, entry.object_id, entry.action_flag) == (user, str(source.pk), CHANGE)
    assert entry.get_change_message() == "Scrape queued (run now) from the ops dashboard"
    page = client.get(response["Location"])
    assert "Queued a scrape of Éditeur à relancer" in page.content.decode()
    assert page.context["dashboard"].queue_length == 1


def test_pause_and_resume_buttons_change_the_source_and_are_logged(admin_client, admin_user) -> None:
    source = make_source(name="Éditeur capricieux", next_run_at=NOW + dt.timedelta(hours=2))

    paused = operate(admin_client, source, "pause", follow=True)

    assert "Paused Éditeur capricieux" in paused.content.decode()
    source.refresh_from_db()
    assert source.paused is True
    assert source.health == "paused"
    assert not Source.objects.due(NOW).filter(pk=source.pk).exists()

    resumed = operate(admin_client, source, "resume", follow=True)

    assert "Resumed Éditeur capricieux" in resumed.content.decode()
    source.refresh_from_db()
    assert (source.paused, source.next_run_at) == (False, NOW)
    assert Source.objects.due(NOW).filter(pk=source.pk).exists()
    entries = LogEntry.objects.order_by("pk")
    assert [e.get_change_message() for e in entries] == [
        "Paused from the ops dashboard",
        "Resumed from the ops dashboard",
    ]
    assert {(e.user_id, e.object_repr, e.action_flag) for e in entries} == {
        (admin_user.pk, "Éditeur capricieux", CHANGE)
    }
    history = admin_client.get(reverse("admin:scrapers_source_history", args=[source.pk])).content.decode()
    assert "Paused from the ops dashboard" in history
    index = admin_client.get(reverse("admin:index"))
    recent = BeautifulSoup(index.content, "html.parser").select_one("#recent-actions-module").get_text()
    assert "Éditeur capricieux" in recent


def test_bad_button_requests_are_refused_without_a_change(admin_client) -> None:
    source = make_source()
    url = reverse("admin:scrapers_dashboard_operate", args=[source.pk])

    assert admin_client.post(url, {"operation": "delete"}).status_code == 400
    assert admin_client.post(url, {}).status_code == 400
    assert admin_client.get(url).status_code == 405
    missing = reverse("admin:scrapers_dashboard_operate", args=[source.pk + 1000])
    assert admin_client.post(missing, {"operation": "pause"}).status_code == 404
    source.refresh_from_db()
    assert source.paused is False
    assert not LogEntry.objects.exists()


def test_the_buttons_need_the_csrf_token(admin_user) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    source = make_source()

    response = operate(client, source, "pause")

    assert response.status_code == 403
    source.refresh_from_db()
    assert source.paused is False


def make_busy_sources(count: int) -> None:
    for _ in range(count):
        source = make_source(last_success_at=NOW - dt.timedelta(minutes=2))
        for minutes in range(6):
            make_run(source, started_at=NOW - dt.timedelta(minutes=5 * minutes))
        make_meeting_point(source, "1")


def test_it_runs_a_constant_number_of_queries(admin_client, django_assert_num_queries) -> None:
    make_busy_sources(2)
    dashboard(admin_client)  # warm the session and content types

    # Session, user, then the sources (health, counts, last runs) and the runs per hour.
    with django_assert_num_queries(4):
        small = dashboard(admin_client)
    make_busy_sources(10)
    with django_assert_num_queries(4):
        large = dashboard(admin_client)

    assert small.context["dashboard"].source_count == 2
    assert large.context["dashboard"].source_count == 12


def test_the_admin_index_and_the_source_list_link_to_the_dashboard(admin_client, client) -> None:
    url = reverse(DASHBOARD)

    index = admin_client.get(reverse("admin:index")).content.decode()
    sources = admin_client.get(reverse("admin:scrapers_source_changelist")).content.decode()

    assert f'href="{url}"' in index
    assert f'href="{url}"' in sources
    client.force_login(staff_user())
    assert f'href="{url}"' not in client.get(reverse("admin:index")).content.decode()
