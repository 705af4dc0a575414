"""The alert pages in a real browser, on a phone (375 px) and a desktop: sign up with htmx and without
JavaScript, confirm, manage. Screenshots under test-artifacts/screenshots/alerts-*.png.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from alerts.models import Alert
from alerts.services import confirm_token
from alerts.tests.factories import make_alert, make_commune, make_slot, make_town_hall


@pytest.fixture
def area(transactional_db, live_server):
    make_commune("92024", name="Clichy", postcodes=("92110",), lat=48.9028, lon=2.3048, population=63_000)
    now = timezone.now()
    town_hall = make_town_hall(
        name="Mairie de Clichy",
        lat=48.9028,
        lon=2.3048,
        checked_at=now - dt.timedelta(minutes=4),
        stale_at=now + dt.timedelta(minutes=26),
    )
    start = timezone.localtime(now).replace(hour=9, minute=0, second=0, microsecond=0) + dt.timedelta(days=2)
    for day in range(3):
        make_slot(
            town_hall, start + dt.timedelta(days=day), booking_url=f"{live_server.url}/reservation-demo"
        )


def watch(page) -> list[str]:
    """No map tiles from the network; collect Content-Security-Policy violations."""
    page.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    return violations


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_signing_up_from_the_results_on_a_phone(live_server, mobile_page, area, screenshot):
    page = mobile_page
    violations = watch(page)
    page.goto(f"{live_server.url}/recherche?q=92110&motif=passeport")
    box = page.locator("#alert-box")
    box.scroll_into_view_if_needed()
    assert box.get_by_role("heading").inner_text() == "Prévenez-moi dès qu’un créneau se libère"
    honeypot = page.locator(".honeypot").bounding_box()
    assert honeypot["x"] + honeypot["width"] <= 0  # out of sight
    assert fits_the_screen(page)
    box.screenshot(path=str(screenshot(page, "alerts-phone-results").with_name("alerts-phone-box.png")))

    page.get_by_label("Votre adresse électronique").fill("camille@example.org")
    page.get_by_role("button", name="Prévenez-moi").click()

    page.get_by_text("Vérifiez votre boîte de réception").wait_for()
    assert page.url.endswith("/recherche?q=92110&motif=passeport")  # swapped in place by htmx
    assert Alert.objects.get().state == Alert.State.PENDING
    page.locator("#alert-box").screenshot(
        path=str(screenshot(page, "alerts-phone-sent").with_name("alerts-phone-sent-box.png"))
    )
    assert violations == []


def test_signing_up_without_javascript(live_server, browser, area, screenshot):
    context = browser.new_context(
        java_script_enabled=False, locale="fr-FR", viewport={"width": 375, "height": 812}, is_mobile=True
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/recherche?q=92110&motif=passeport&rayon=10")
        page.get_by_label("Votre adresse électronique").fill("camille@example.org")
        page.get_by_role("button", name="Prévenez-moi").click()

        assert page.url == f"{live_server.url}/alertes"
        assert page.get_by_text("Vérifiez votre boîte de réception").is_visible()
        assert Alert.objects.get().radius_km == 10
        screenshot(page, "alerts-phone-sent-nojs")

        page.goto(f"{live_server.url}/alertes?q=Clichy&insee=92024&rayon=20&motif=cni")
        assert page.get_by_text("à moins de 20 km de Clichy").is_visible()
        assert fits_the_screen(page)
        screenshot(page, "alerts-phone-form")
    finally:
        context.close()


def test_confirming_and_managing_on_a_phone(live_server, mobile_page, area, screenshot):
    page = mobile_page
    violations = watch(page)
    alert = make_alert(state=Alert.State.PENDING, confirmed_at=None, seen_until=None)

    page.goto(f"{live_server.url}/alertes/confirmer/{confirm_token(alert)}")
    assert fits_the_screen(page)
    screenshot(page, "alerts-phone-confirm")
    page.get_by_role("button", name="Activer l’alerte").click()
    page.get_by_role("heading", name="Votre alerte est active").wait_for()
    screenshot(page, "alerts-phone-confirmed")

    page.get_by_role("link", name="Voir mes alertes").click()
    page.get_by_role("heading", name="Mes alertes").wait_for()
    assert fits_the_screen(page)
    screenshot(page, "alerts-phone-manage")
    page.get_by_role("button", name="Mettre en pause").click()
    page.get_by_role("button", name="Reprendre").wait_for()
    alert.refresh_from_db()
    assert alert.state == Alert.State.PAUSED
    assert violations == []


def test_the_alert_box_on_a_desktop(live_server, page, area, screenshot):
    violations = watch(page)
    page.goto(f"{live_server.url}/recherche?q=92110&motif=passeport")
    page.locator("#alert-box").scroll_into_view_if_needed()
    screenshot(page, "alerts-desktop-results")
    page.goto(f"{live_server.url}/alertes?q=Clichy&insee=92024&rayon=20&motif=passeport")
    screenshot(page, "alerts-desktop-form")
    assert violations == []
