"""The citizen search in a real browser: htmx swaps the results and pushes the URL; errors show in place."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from slots.tests.factories import make_commune, make_slot, make_town_hall


@pytest.fixture
def clichy_area(transactional_db) -> None:
    now = timezone.now()
    clichy = make_commune(
        "92024", name="Clichy", postcodes=("92110",), lat=48.9028, lon=2.3048, population=63_000
    )
    levallois = make_commune(
        "92044", name="Levallois-Perret", postcodes=("92300",), lat=48.8950, lon=2.2870, population=66_000
    )
    near = make_town_hall(name="Mairie de Clichy", commune=clichy, lat=48.9028, lon=2.3048, checked_at=now)
    far = make_town_hall(name="Mairie de Levallois-Perret", commune=levallois, lat=48.8950, lon=2.2870)
    make_slot(near, now + dt.timedelta(days=9))
    make_slot(far, now + dt.timedelta(days=2))


def result_names(page) -> list[str]:
    return page.locator("#results .result-name").all_inner_texts()


def test_search_from_home_then_refine_with_htmx(live_server, page, clichy_area, screenshot):
    page.goto(f"{live_server.url}/")
    page.get_by_label("Code postal ou commune").fill("92110")
    page.get_by_role("button", name="Rechercher").click()

    page.wait_for_url("**/recherche?**")
    assert result_names(page) == ["Mairie de Levallois-Perret", "Mairie de Clichy"]
    screenshot(page, "search-results")

    # Refining swaps #results only (the marker set on the page survives) and pushes the new URL.
    page.evaluate("document.body.dataset.marker = 'kept'")
    page.locator("details.more-options summary").click()
    page.get_by_label("Trier par").select_option("proche")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_url("**tri=proche**")
    first_name = "document.querySelector('#results .result-name').textContent"
    page.wait_for_function(f"{first_name} === 'Mairie de Clichy'")

    assert result_names(page) == ["Mairie de Clichy", "Mairie de Levallois-Perret"]
    assert page.evaluate("document.body.dataset.marker") == "kept"


def test_search_errors_are_shown_in_place(live_server, page, clichy_area):
    page.goto(f"{live_server.url}/recherche?q=92110")
    page.evaluate("document.body.dataset.marker = 'kept'")

    page.get_by_label("Code postal ou commune").fill("Atlantide")
    page.get_by_role("button", name="Rechercher").click()

    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Aucune commune ne correspond à « Atlantide »" in alert.inner_text()
    assert result_names(page) == []
    assert page.evaluate("document.body.dataset.marker") == "kept"


def test_home_page_fits_a_phone_screen(live_server, mobile_page, screenshot):
    mobile_page.goto(f"{live_server.url}/")

    assert mobile_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert mobile_page.get_by_label("Code postal ou commune").is_visible()
    screenshot(mobile_page, "home-mobile")
