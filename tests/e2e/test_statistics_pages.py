"""The statistics in a real browser: /statistiques, a department's, and the department and town-hall pages'
parts, on a desktop and on a phone (no horizontal scrolling, charts drawn, no serious axe violation)."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.utils import timezone

from slots.tests.factories import make_commune, make_department, make_town_hall
from stats.lifetimes import bucket_of
from stats.models import AreaDay, SlotLifetime, TownHallDay
from tests.e2e.test_accessibility import axe_violations, describe


@pytest.fixture
def statistics(transactional_db) -> int:
    """60 days of figures for the area and two departments, a week of lifetimes, a town hall's 8 weeks."""
    today = timezone.localdate()
    make_department("92", name="Hauts-de-Seine")
    make_department("69", name="Rhône")
    for offset in range(60):
        day = today - dt.timedelta(days=59 - offset)
        wave = math.sin(offset / 9)
        for scope, base in (("", 18), ("92", 12), ("69", 30)):
            AreaDay.objects.create(
                day=day,
                scope=scope,
                reason="PASSPORT",
                town_halls=40,
                fresh_town_halls=38,
                median_days=round(base + 6 * wave, 1),
                p90_days=None if scope == "69" and offset > 50 else round(base * 2.5 + 10 * wave, 1),
                within_7_days=int(10 + 6 * wave),
                within_30_days=int(25 + 5 * wave),
                slots_week=int(600 + 200 * wave),
            )
    for offset in range(7):
        for department_code, seconds, count in (("92", 40 * 60, 30), ("92", 3 * 3600, 12), ("69", 86400, 20)):
            SlotLifetime.objects.create(
                day=today - dt.timedelta(days=offset),
                department_code=department_code,
                bucket=bucket_of(seconds),
                count=count,
            )
    town_hall = make_town_hall(name="Mairie de Clichy", commune=make_commune("92024", name="Clichy"))
    for offset in range(56):
        wait = None if offset in (20, 21) else 5 + (offset * 7) % 23
        TownHallDay.objects.create(
            day=today - dt.timedelta(days=55 - offset),
            town_hall=town_hall,
            reason="PASSPORT",
            department_code="92",
            days_to_next=wait,
            days_to_next_4=None if wait is None else wait + 4,
            slots_7_days=3,
            slots_30_days=12,
            fresh=True,
        )
    return town_hall.pk


PAGES = {
    "statistics": "/statistiques",
    "statistics-department": "/statistiques/92",
    "department": "/departement/92",
    "town-hall": "/mairie/{town_hall}",
}


@pytest.mark.parametrize("name", PAGES)
def test_statistics_pages_fit_a_phone_and_a_desktop(
    live_server, page, mobile_page, statistics, screenshot, name
):
    url = live_server.url + PAGES[name].format(town_hall=statistics)
    for browser_page, device in ((page, "desktop"), (mobile_page, "phone")):
        browser_page.goto(url)
        charts = browser_page.locator("svg.stats-chart")
        assert charts.count() >= 1
        assert charts.first.bounding_box()["width"] <= browser_page.viewport_size["width"]
        # Nothing wider than the screen: the department table scrolls inside its own box.
        assert (
            browser_page.evaluate("document.documentElement.scrollWidth")
            <= browser_page.viewport_size["width"]
        )
        screenshot(browser_page, f"stats-{name}-{device}")


def test_statistics_page_has_no_serious_accessibility_violation(live_server, browser, statistics):
    for viewport in ({"width": 1280, "height": 900}, {"width": 375, "height": 812}):
        context = browser.new_context(locale="fr-FR", viewport=viewport, bypass_csp=True)
        audited = context.new_page()
        audited.goto(live_server.url + "/statistiques")
        audited.locator("details.stats-table summary").first.click()  # the table alternative too

        violations = axe_violations(audited)

        context.close()
        assert not violations, describe(violations)
