"""The admin's ops dashboard in a real browser: logged in as staff, under the strict Content-Security-Policy."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone

from ops.health import WORKERS_KEY
from ops.tasks import heartbeat as heartbeat_task
from scrapers.models import ScrapeRun, Source
from scrapers.tests.factories import make_meeting_point, make_run, make_slot, make_source, make_town_hall

PASSWORD = "correct horse battery staple"


@pytest.fixture
def operations(transactional_db) -> dict[str, Source]:
    now = timezone.now()
    get_user_model().objects.create_superuser("ops", "ops@example.org", PASSWORD)
    cache.set(WORKERS_KEY, {"names": ["celery@worker-1", "celery@worker-2"], "stuck": []}, timeout=300)
    heartbeat_task.apply()
    healthy = make_source(name="ANTS — éditeur national", last_success_at=now - dt.timedelta(minutes=2))
    failing = make_source(
        name="Synbird Hauts-de-Seine",
        kind="synbird",
        consecutive_failures=4,
        last_success_at=now - dt.timedelta(hours=3, minutes=12),
        last_error="HTTP 503 Service Unavailable: the editor's API answered 'maintenance in progress'",
        next_run_at=now + dt.timedelta(minutes=17),
    )
    stale = make_source(
        name="Flux ICS de la mairie de Clichy",
        kind="ics",
        interval_minutes=15,
        last_success_at=now - dt.timedelta(hours=1, minutes=5),
        next_run_at=now + dt.timedelta(minutes=3),
    )
    paused = make_source(name="RendezVousOnline (jeton à renouveler)", kind="rendezvousonline", paused=True)
    for n in range(3):
        town_hall = make_town_hall()
        make_meeting_point(healthy, f"mp-{n}", town_hall)
        for day in range(1, 4 + n):
            make_slot(town_hall, now + dt.timedelta(days=day))
    make_meeting_point(failing, "sb-1")
    # A day of runs: the national editor every 20 minutes, a few suspicious ones; Synbird failing since 3 h.
    for minutes in range(0, 24 * 60, 20):
        started = now - dt.timedelta(minutes=minutes + 1)
        make_run(healthy, started_at=started, status="suspicious" if minutes % 340 == 0 else "success")
        status = ScrapeRun.Status.FAILED if minutes < 200 else ScrapeRun.Status.SUCCESS
        make_run(failing, started_at=started, status=status, error="HTTP 503" if status == "failed" else "")
    for minutes in range(65, 24 * 60, 60):
        make_run(stale, started_at=now - dt.timedelta(minutes=minutes), status="success")
    return {"ok": healthy, "failing": failing, "stale": stale, "paused": paused}


def test_staff_read_the_dashboard_and_pause_a_source(live_server, page, operations, screenshot) -> None:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.click("text=Tableau de bord d’exploitation")

    page.wait_for_selector("svg.ops-chart")
    assert page.locator("#health-failing").get_by_text("Synbird Hauts-de-Seine").is_visible()
    assert page.locator("svg.ops-chart g.ops-bar").count() == 24
    screenshot(page, "ops-dashboard")

    failing = operations["failing"]
    page.locator(f"#source-{failing.pk}").get_by_role("button", name="Mettre en pause").click()

    page.wait_for_selector(f"#health-paused #source-{failing.pk}")
    assert "Synbird Hauts-de-Seine est en pause" in page.locator(".messagelist").inner_text()
    failing.refresh_from_db()
    assert failing.paused is True
    assert violations == []
