"""The publication pages in a real browser, on a phone and a desktop: /donnees, /api and /etat."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from opendata.tests.factories import make_world
from scrapers.models import ScrapeRun, Source
from tests.e2e.test_accessibility import axe_violations, describe


@pytest.fixture
def published(transactional_db) -> None:
    world = make_world(timezone.now())
    since = timezone.now() - dt.timedelta(hours=3)
    for n in range(3):
        ScrapeRun.objects.create(
            source=world.ics, started_at=since + dt.timedelta(minutes=5 * n), status="failed"
        )
    Source.objects.filter(pk=world.ics.pk).update(
        consecutive_failures=3, last_success_at=since - dt.timedelta(minutes=5)
    )


@pytest.mark.parametrize("path", ["/donnees", "/api", "/etat"])
def test_publication_pages_read_on_a_phone_and_a_desktop(
    live_server, page, mobile_page, published, screenshot, path: str
) -> None:
    name = path.strip("/")
    for browser_page, device in ((mobile_page, "phone"), (page, "desktop")):
        response = browser_page.goto(f"{live_server.url}{path}")
        assert response.status == 200
        # Nothing wider than the screen but the tables, which scroll inside their own box.
        overflow = browser_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} on {device}: {overflow} px too wide"
        path_taken = screenshot(browser_page, f"opendata-{name}-{device}")
        # The first screen alone too: a long page's full shot is unreadable once scaled down.
        browser_page.screenshot(path=str(path_taken.with_name(f"opendata-{name}-{device}-first-screen.png")))

    assert page.get_by_role("link", name="Données ouvertes").is_visible()
    assert page.get_by_role("link", name="État du service").is_visible()


def test_the_status_page_shows_failing_town_halls_first(live_server, page, published) -> None:
    page.goto(f"{live_server.url}/etat")

    first = page.locator("#mairies ~ .status-list .status-item").first
    assert "Mairie de Levallois" in first.inner_text()
    assert "en échec" in first.inner_text()


@pytest.mark.parametrize("path", ["/donnees", "/api", "/etat"])
def test_publication_pages_pass_the_accessibility_audit(live_server, browser, published, path: str) -> None:
    for viewport in ({"width": 1280, "height": 900}, {"width": 375, "height": 812}):
        # The context bypasses our CSP only to inject axe's own script.
        context = browser.new_context(
            locale="fr-FR", timezone_id="Europe/Paris", viewport=viewport, bypass_csp=True
        )
        try:
            page = context.new_page()
            page.goto(f"{live_server.url}{path}")
            violations = axe_violations(page)
            assert not violations, f"{path} at {viewport['width']} px:\n{describe(violations)}"
        finally:
            context.close()
