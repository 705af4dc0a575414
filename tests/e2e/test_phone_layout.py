"""What a phone (375 px) shows: nothing cut, a week strip whose cells all read alike, the town hall's phone and
opening hours before its times, results scrolled into view after a new search, a favicon, French error pages.

Screenshots under test-artifacts/screenshots/phone-*.png.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from slots.models import Reason, TownHall
from slots.tests.factories import make_commune, make_slot, make_town_hall

HOURS = [
    ["lundi", "vendredi", [["08:30:00", "12:00:00"], ["13:30:00", "17:30:00"]]],
    ["samedi", "", [["09:00:00", "12:00:00"]]],
]


@pytest.fixture
def town_hall(transactional_db, live_server) -> TownHall:
    """Clichy's town hall with a week of slots for both reasons, and its directory's phone and hours."""
    commune = make_commune(
        "92024", name="Clichy", postcodes=("92110",), lat=48.9028, lon=2.3048, opening_hours=HOURS
    )
    now = timezone.now()
    town_hall = make_town_hall(
        name="Mairie de Clichy",
        address="80 BOULEVARD JEAN JAURES\n92110 CLICHY CEDEX",
        commune=commune,
        lat=48.9028,
        lon=2.3048,
        phone="01 47 15 30 00",
        booking_url=f"{live_server.url}/reservation-demo",
        checked_at=now - dt.timedelta(minutes=4),
        stale_at=now + dt.timedelta(minutes=26),
    )
    start = timezone.localtime(now).replace(hour=9, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    for day in range(7):
        for quarter in range(12):
            for reason in (Reason.PASSPORT, Reason.CNI):
                make_slot(town_hall, start + dt.timedelta(days=day, minutes=15 * quarter), reason=reason)
    return town_hall


def _violations(page) -> list[str]:
    found: list[str] = []
    page.on(
        "console", lambda message: found.append(message.text) if "Content Security" in message.text else None
    )
    return found


def test_the_search_form_and_results_fit_a_phone(live_server, mobile_page, town_hall, screenshot) -> None:
    page = mobile_page
    violations = _violations(page)
    page.goto(f"{live_server.url}/recherche?q=92110&motif=passeport")
    page.wait_for_selector("#results .result")

    # Every reason reads in full in the form's select, whichever is chosen.
    for motif in ("cni", "passeport", "cni-passeport"):
        page.select_option("#id_motif", motif)
        cut = page.eval_on_selector(
            "#id_motif",
            """select => {
                const context = document.createElement("canvas").getContext("2d");
                context.font = getComputedStyle(select).font;
                const text = context.measureText(select.options[select.selectedIndex].text).width;
                const style = getComputedStyle(select);
                const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
                return text > room - 16;  // the arrow takes about 16 px of the right padding's side
            }""",
        )
        assert not cut, motif

    # The week strip: every cell's label takes the same number of lines.
    heights = page.eval_on_selector_all(".result .days span", "spans => spans.map(span => span.offsetHeight)")
    assert len(heights) == 7 and len(set(heights)) == 1, heights
    assert page.locator(".result-contact li").first.inner_text() == "80 boulevard Jean Jaures, 92110 Clichy"
    screenshot(page, "phone-results")

    # Searching again from the form, at the top of the page, brings the new results into view.
    page.evaluate("window.scrollTo(0, 0)")
    page.select_option("#id_motif", "cni")
    page.click("#search-form button[type=submit]")
    page.wait_for_function("() => new URL(location.href).searchParams.get('motif') === 'cni'")
    page.wait_for_function("() => !document.getElementById('results').hasAttribute('aria-busy')")
    page.wait_for_function(
        "() => { const top = document.getElementById('results').getBoundingClientRect().top;"
        " return top >= -1 && top < window.innerHeight / 2; }"
    )
    assert violations == []


def test_the_town_hall_page_gives_phone_and_hours_before_the_times(
    live_server, mobile_page, town_hall, screenshot
) -> None:
    page = mobile_page
    violations = _violations(page)
    page.goto(f"{live_server.url}/mairie/{town_hall.pk}?motif=cni")
    page.wait_for_selector(".slot-day")

    phone = page.locator(".town-hall-quick a[href^='tel:']")
    hours = page.locator(".town-hall-quick .opening-hours")
    first_day = page.locator(".slot-day").first
    assert phone.is_visible() and phone.inner_text() == "01 47 15 30 00"
    assert "Du lundi au vendredi" in hours.inner_text()
    assert phone.bounding_box()["y"] < hours.bounding_box()["y"] < first_day.bounding_box()["y"]
    assert page.locator(".town-hall-address").inner_text() == "80 boulevard Jean Jaures, 92110 Clichy"

    # The reason tabs read in full: no label wider than its tab.
    overflowing = page.eval_on_selector_all(
        ".reason-tabs a", "links => links.filter(a => a.scrollWidth > a.clientWidth).map(a => a.textContent)"
    )
    assert page.locator(".reason-tabs a").count() == 3 and overflowing == []
    screenshot(page, "phone-town-hall")
    assert violations == []


def test_the_quick_contact_is_left_to_the_aside_on_wide_screens(live_server, page, town_hall) -> None:
    page.goto(f"{live_server.url}/mairie/{town_hall.pk}")

    assert not page.locator(".town-hall-quick").is_visible()
    assert page.locator(".town-hall-info a[href^='tel:']").is_visible()


def test_the_favicon_is_served_under_the_csp(live_server, page) -> None:
    violations = _violations(page)
    page.goto(f"{live_server.url}/")

    icons = page.eval_on_selector_all("link[rel=icon]", "links => links.map(link => [link.type, link.href])")
    answers = [page.request.get(href) for _, href in icons]

    assert [kind for kind, _ in icons] == ["image/svg+xml", "image/png"]
    assert [answer.status for answer in answers] == [200, 200]
    assert answers[0].headers["content-type"].startswith("image/svg+xml")
    assert answers[1].body()[:8] == b"\x89PNG\r\n\x1a\n"
    assert violations == []


def test_a_missing_page_says_so_in_french_and_in_english(
    live_server, mobile_page, browser, screenshot
) -> None:
    response = mobile_page.goto(f"{live_server.url}/mairie/999999")

    assert response.status == 404
    assert mobile_page.locator("h1").inner_text() == "Page introuvable"
    assert mobile_page.locator("html").get_attribute("lang") == "fr"
    screenshot(mobile_page, "phone-404")

    context = browser.new_context(locale="en-GB")
    try:
        english = context.new_page()
        english.goto(f"{live_server.url}/mairie/999999")
        assert english.locator("h1").inner_text() == "Page not found"
    finally:
        context.close()
