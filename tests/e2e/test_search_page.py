"""The citizen's search in a real browser: from a postcode typed on a phone to the booking page.

The autocomplete with the keyboard, ranked results that htmx swaps while pushing the URL (back and forward
work), the sort, "Réserver", "Autour de moi" with the permission granted or denied, the page without
JavaScript, phone-sized screens, suggestions when nothing is found, and the map (its OpenStreetMap tiles
answered locally: there is no internet here). No page may break the Content-Security-Policy.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.utils import timezone

from slots.models import TownHall
from slots.tests.factories import make_commune, make_slot, make_town_hall

# A 1×1 light grey PNG, for every map tile.
TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGN4+vQpAAWOAsfR2SVJAAAAAElFTkSuQmCC"
)
RESULT_NAMES = "#results .result-name"


@dataclass
class Area:
    clichy: TownHall
    levallois: TownHall
    asnieres: TownHall
    booking_url: str


@pytest.fixture
def area(transactional_db, live_server) -> Area:
    """Clichy and two neighbours: Levallois has the soonest slot, Asnières takes appointments by phone."""
    now = timezone.now()
    hour = timezone.localtime(now).replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    clichy_commune = make_commune(
        "92024", name="Clichy", postcodes=("92110",), lat=48.9028, lon=2.3048, population=63_000
    )
    levallois_commune = make_commune(
        "92044", name="Levallois-Perret", postcodes=("92300",), lat=48.8950, lon=2.2870, population=66_000
    )
    asnieres_commune = make_commune(
        "92004", name="Asnières-sur-Seine", postcodes=("92600",), lat=48.9110, lon=2.2890, population=87_000
    )
    # Booking pages on the live server itself (they answer 404): following "Réserver" needs no internet.
    booking = f"{live_server.url}/reservation-demo"
    clichy = make_town_hall(
        name="Mairie de Clichy",
        address="80 boulevard Jean-Jaurès",
        commune=clichy_commune,
        lat=48.9028,
        lon=2.3048,
        phone="01 47 15 30 00",
        website="https://www.ville-clichy.fr/",
        booking_url=f"{booking}/clichy",
        checked_at=now - dt.timedelta(minutes=4),
        stale_at=now + dt.timedelta(minutes=26),
    )
    levallois = make_town_hall(
        name="Mairie de Levallois-Perret",
        commune=levallois_commune,
        postcode="92300",
        lat=48.8950,
        lon=2.2870,
        booking_url=f"{booking}/levallois",
        checked_at=now - dt.timedelta(hours=3),
        stale_at=now - dt.timedelta(hours=2),
    )
    asnieres = make_town_hall(
        name="Mairie d'Asnières-sur-Seine",
        commune=asnieres_commune,
        postcode="92600",
        lat=48.9110,
        lon=2.2890,
        phone="01 41 11 12 13",
        online_booking=False,
        booking=TownHall.Booking.PHONE,
        booking_url="",
    )
    for days, hours in ((2, 0), (2, 1), (4, 0), (10, 0)):
        starts_at = hour + dt.timedelta(days=days, hours=hours)
        make_slot(clichy, starts_at, booking_url=f"{booking}/clichy/{starts_at:%Y%m%d%H%M}")
    first_levallois = hour + dt.timedelta(days=1)
    make_slot(levallois, first_levallois, booking_url=f"{booking}/levallois/{first_levallois:%Y%m%d%H%M}")
    return Area(clichy=clichy, levallois=levallois, asnieres=asnieres, booking_url=booking)


def prepare(page) -> list[str]:
    """Answer map tiles locally and collect Content-Security-Policy violations reported by the page."""
    page.route(
        "https://tile.openstreetmap.org/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=TILE),
    )
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


def result_names(page) -> list[str]:
    return page.locator(RESULT_NAMES).all_inner_texts()


def wait_for_first_result(page, name: str) -> None:
    page.wait_for_function(
        "name => document.querySelector('#results .result-name')?.textContent === name", arg=name
    )


def mark_results(page) -> None:
    """Mark the results shown, so that `wait_for_new_results` can tell when they are replaced."""
    page.evaluate("document.querySelector('#results-body').dataset.old = 'yes'")


def wait_for_new_results(page) -> None:
    page.wait_for_function("() => document.querySelector('#results-body:not([data-old])') !== null")


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def context_factory(browser) -> Iterator:
    contexts = []

    def make(**options):
        options = {"locale": "fr-FR", "timezone_id": "Europe/Paris", **options}
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()


def test_pick_a_commune_with_the_keyboard_and_see_ranked_results(live_server, page, area, screenshot):
    violations = prepare(page)
    page.goto(f"{live_server.url}/")
    screenshot(page, "home")
    field = page.get_by_role("combobox", name="Code postal ou commune")

    field.press_sequentially("9211", delay=60)
    option = page.get_by_role("option", name=re.compile("^Clichy"))
    option.wait_for()
    assert field.get_attribute("aria-expanded") == "true"
    assert page.locator("#q-status").inner_text().startswith("1 commune proposée")
    field.press("ArrowDown")
    assert field.get_attribute("aria-activedescendant") == "q-option-0"
    assert option.get_attribute("aria-selected") == "true"
    field.press("Enter")

    assert field.input_value() == "Clichy (92)"
    assert field.get_attribute("aria-expanded") == "false"
    assert page.locator("#q-listbox").is_hidden()
    assert page.locator('#search-form input[name="insee"]').input_value() == "92024"

    field.press("Enter")  # the list is closed: Enter submits
    page.wait_for_url("**/recherche?**insee=92024**")
    assert result_names(page) == [
        "Mairie de Levallois-Perret",
        "Mairie de Clichy",
        "Mairie d'Asnières-sur-Seine",
    ]
    heading = page.get_by_role("heading", level=2).first.inner_text()
    assert heading == "2 mairies avec un créneau libre à moins de 20 km de Clichy"
    clichy = page.locator(f"#mairie-{area.clichy.pk}")
    assert "vérifié il y a 4 min" in clichy.inner_text()
    assert "données anciennes" in page.locator(f"#mairie-{area.levallois.pk}").inner_text()
    assert clichy.locator(".days li").count() == 7
    assert sum(int(count) for count in clichy.locator(".days b").all_inner_texts()) >= 2

    # On a wide screen the map is open: a marker per town hall with a slot, a circle for the others.
    page.locator(".leaflet-marker-icon").first.wait_for()
    assert page.locator(".leaflet-marker-icon").count() == 2
    assert page.locator(".leaflet-control-attribution").inner_text().endswith("© OpenStreetMap")
    page.wait_for_function("() => document.querySelectorAll('.results-map .leaflet-tile-loaded').length > 0")
    screenshot(page, "results-desktop")
    page.locator(".leaflet-marker-icon").first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "Prochain créneau :" in popup.inner_text()
    assert (
        popup.get_by_role("link", name=re.compile("^Réserver"))
        .get_attribute("href")
        .startswith(area.booking_url)
    )
    assert violations == []


def test_escape_closes_the_suggestions_and_typing_forgets_the_commune_picked(live_server, page, area):
    prepare(page)
    page.goto(f"{live_server.url}/recherche?q=Clichy+(92)&insee=92024")
    field = page.get_by_role("combobox", name="Code postal ou commune")
    assert page.locator('#search-form input[name="insee"]').input_value() == "92024"

    field.fill("")
    field.press_sequentially("levallo", delay=40)
    page.get_by_role("option", name=re.compile("^Levallois-Perret")).wait_for()
    field.press("Escape")

    assert page.locator("#q-listbox").is_hidden()
    assert field.get_attribute("aria-expanded") == "false"
    assert field.input_value() == "levallo"
    assert page.locator('#search-form input[name="insee"]').is_disabled()  # out of the next URL


def test_change_the_sort_then_go_back_and_forward(live_server, page, area):
    violations = prepare(page)
    page.goto(f"{live_server.url}/recherche?q=92110")
    page.evaluate("document.body.dataset.marker = 'kept'")

    page.get_by_role("link", name="Le plus proche").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**tri=proche**")
    wait_for_first_result(page, "Mairie de Clichy")
    # The link used is gone with the old results: the keyboard continues from the new results' heading.
    page.wait_for_function("() => document.activeElement.id === 'results-title'")
    assert page.locator("#results").get_attribute("aria-busy") is None

    # Nearest first among the town halls with a slot; the phone-only one stays after them.
    assert result_names(page) == [
        "Mairie de Clichy",
        "Mairie de Levallois-Perret",
        "Mairie d'Asnières-sur-Seine",
    ]
    assert page.evaluate("document.body.dataset.marker") == "kept"  # swapped, not reloaded
    assert page.get_by_role("link", name="Le plus proche").get_attribute("aria-current") == "true"
    assert page.locator('#search-form input[name="tri"]').input_value() == "proche"
    assert page.title() == "Rendez-vous près de Clichy — rdvpasseport"

    # A new search from the form keeps the sort.
    page.get_by_label("Rayon").select_option("10")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_url("**rayon=10**")
    assert "tri=proche" in page.url

    mark_results(page)
    page.go_back()
    wait_for_new_results(page)
    assert re.search(r"tri=proche", page.url) and "rayon=10" not in page.url
    assert page.get_by_label("Rayon").input_value() == "20"
    assert result_names(page)[0] == "Mairie de Clichy"
    mark_results(page)
    page.go_back()
    wait_for_new_results(page)
    assert page.url.endswith("/recherche?q=92110")
    assert result_names(page)[0] == "Mairie de Levallois-Perret"
    assert page.get_by_role("link", name="Le plus tôt").get_attribute("aria-current") == "true"
    assert page.locator('#search-form input[name="tri"]').input_value() == "tot"
    mark_results(page)
    page.go_forward()
    wait_for_new_results(page)
    assert "tri=proche" in page.url
    assert result_names(page)[0] == "Mairie de Clichy"
    # The map follows the results after every swap and history restore.
    page.locator(".leaflet-marker-icon").first.wait_for()
    assert page.locator(".results-map.leaflet-container").count() == 1
    assert violations == []


def test_reserver_opens_the_booking_page_of_that_slot(live_server, page, area):
    prepare(page)
    page.goto(f"{live_server.url}/recherche?q=92110")
    link = page.locator(f"#mairie-{area.clichy.pk}").get_by_role("link", name=re.compile("^Réserver"))
    href = link.get_attribute("href")
    slot = area.clichy.slots.order_by("starts_at").first()

    assert href == slot.booking_url
    assert link.get_attribute("target") == "_blank"
    assert "noopener" in link.get_attribute("rel").split()

    with page.context.expect_page() as booking_page_info:
        link.click()
    booking_page = booking_page_info.value
    booking_page.wait_for_load_state()
    assert booking_page.url == href
    assert booking_page.evaluate("window.opener") is None


def test_search_around_me_with_the_permission_granted(live_server, context_factory, area):
    page = context_factory(
        viewport={"width": 1280, "height": 900},
        permissions=["geolocation"],
        geolocation={"latitude": 48.90004, "longitude": 2.30003},
    )
    violations = prepare(page)
    page.goto(f"{live_server.url}/")

    page.get_by_role("button", name="Autour de moi").click()

    page.wait_for_url("**/recherche?**lat=48.9000**")
    assert "lon=2.3000" in page.url
    assert "q=" not in page.url.replace("?q=&", "?")  # nothing typed
    heading = page.get_by_role("heading", level=2).first.inner_text()
    assert heading.endswith("à moins de 20 km de votre position")
    assert result_names(page)[0] == "Mairie de Levallois-Perret"
    assert violations == []


def test_search_around_me_refused_says_what_to_do(live_server, context_factory, area):
    page = context_factory(viewport={"width": 1280, "height": 900})
    page.context.clear_permissions()
    page.goto(f"{live_server.url}/")

    page.get_by_role("button", name="Autour de moi").click()

    status = page.locator("#geo-status")
    page.wait_for_function("() => document.querySelector('#geo-status').textContent.includes('autorisé')")
    assert status.inner_text().startswith("Vous n’avez pas autorisé la localisation.")
    assert page.get_by_role("status").filter(has_text="autorisé").count() == 1
    assert page.url == f"{live_server.url}/"


def test_the_search_works_without_javascript(live_server, context_factory, area):
    page = context_factory(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    page.goto(f"{live_server.url}/")
    assert page.get_by_role("button", name="Autour de moi").is_hidden()

    page.get_by_label("Code postal ou commune").fill("92110")
    page.get_by_label("Motif").select_option("passeport")
    page.get_by_role("button", name="Rechercher").click()

    page.wait_for_url("**/recherche?q=92110**")
    assert "lat=" not in page.url and "insee=" not in page.url
    assert result_names(page) == [
        "Mairie de Levallois-Perret",
        "Mairie de Clichy",
        "Mairie d'Asnières-sur-Seine",
    ]
    assert page.locator("#results-map-panel").is_hidden()  # no map without its script
    page.get_by_role("link", name="Le plus proche").click()
    page.wait_for_url("**tri=proche**")
    assert result_names(page)[0] == "Mairie de Clichy"
    reserve = page.locator(f"#mairie-{area.clichy.pk}").get_by_role("link", name=re.compile("^Réserver"))
    assert reserve.get_attribute("href").startswith(f"{area.booking_url}/clichy/")


def test_results_fit_a_phone_with_the_map_behind_a_toggle(live_server, mobile_page, area, screenshot):
    violations = prepare(mobile_page)
    mobile_page.goto(f"{live_server.url}/recherche?q=92110")

    assert fits_the_screen(mobile_page)
    toggle = mobile_page.get_by_text("Voir la carte")
    assert toggle.is_visible()
    assert mobile_page.locator(".results-map").is_hidden()
    assert mobile_page.locator(".leaflet-container").count() == 0  # nothing drawn, no tile fetched
    screenshot(mobile_page, "results-mobile")

    toggle.click()
    mobile_page.locator(".leaflet-marker-icon").first.wait_for()
    assert mobile_page.locator(".leaflet-marker-icon").count() == 2
    assert fits_the_screen(mobile_page)
    assert violations == []


def test_town_halls_no_source_follows_come_after_saying_how_to_book(
    live_server, mobile_page, area, screenshot
):
    bois_colombes = make_commune(
        "92009", name="Bois-Colombes", lat=48.9175, lon=2.2683, phone="01 41 19 83 00"
    )
    make_town_hall(
        name="Mairie de Bois-Colombes",
        commune=bois_colombes,
        postcode="92270",
        lat=48.9175,
        lon=2.2683,
        phone="",
        online_booking=False,
        booking=TownHall.Booking.WALK_IN,
        booking_url="",
    )
    violations = prepare(mobile_page)
    mobile_page.goto(f"{live_server.url}/recherche?q=92110&motif=passeport")

    assert result_names(mobile_page) == [
        "Mairie de Levallois-Perret",
        "Mairie de Clichy",
        "Mairie d'Asnières-sur-Seine",
        "Mairie de Bois-Colombes",
    ]
    asnieres = mobile_page.locator(f"#mairie-{area.asnieres.pk}")
    assert "Rendez-vous par téléphone au 01 41 11 12 13" in asnieres.inner_text()
    assert asnieres.get_by_role("link", name="01 41 11 12 13").first.get_attribute("href") == "tel:0141111213"
    walk_in = mobile_page.locator(".result", has_text="Mairie de Bois-Colombes")
    assert "Sans rendez-vous, aux horaires d’ouverture." in walk_in.inner_text()
    assert "01 41 19 83 00" in walk_in.inner_text()  # the commune's directory number
    assert fits_the_screen(mobile_page)
    walk_in.scroll_into_view_if_needed()
    screenshot(mobile_page, "results-without-online-booking")
    assert violations == []


@pytest.mark.parametrize("width", [320, 640])  # 640 CSS pixels: a 1280-pixel window zoomed to 200 %
def test_pages_fit_narrow_and_zoomed_screens(live_server, context_factory, area, width):
    page = context_factory(viewport={"width": width, "height": 800})
    prepare(page)
    nothing_found = "/recherche?q=92110&rayon=5&avant=" + timezone.localdate().isoformat()
    for path in ("/", "/recherche?q=92110", nothing_found):
        page.goto(f"{live_server.url}{path}")
        assert fits_the_screen(page), path


def test_nothing_found_offers_one_click_wider_searches(live_server, page, area, screenshot):
    violations = prepare(page)
    # The area's first slot is tomorrow or later (Paris time) whatever the hour: none before tonight.
    page.goto(f"{live_server.url}/recherche?q=92110&rayon=5&avant={timezone.localdate().isoformat()}")

    assert page.get_by_role("heading", level=2).first.inner_text().startswith("Aucun créneau libre en ligne")
    suggestions = page.locator(".widenings li").all_inner_texts()
    assert any(text.startswith("Repousser la date limite au") for text in suggestions)
    assert any(text.startswith("Retirer la date limite") for text in suggestions)
    assert page.get_by_role("button", name="Prévenez-moi").is_visible()
    assert page.locator(".results-map").count() == 0  # suggestions and phone numbers first
    screenshot(page, "no-results")

    page.get_by_role("link", name="Retirer la date limite").click()
    page.wait_for_url(re.compile(r".*/recherche\?q=92110&rayon=5$"))
    wait_for_first_result(page, "Mairie de Levallois-Perret")
    assert page.get_by_label("Au plus tard le").input_value() == ""  # the form follows the new URL
    assert violations == []


def test_search_errors_are_shown_in_place(live_server, page, area):
    page.goto(f"{live_server.url}/recherche?q=92110")
    page.evaluate("document.body.dataset.marker = 'kept'")

    page.get_by_label("Code postal ou commune").fill("Atlantide")
    page.get_by_label("Code postal ou commune").press("Escape")
    page.get_by_role("button", name="Rechercher").click()

    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Aucune commune ne correspond à « Atlantide »" in alert.inner_text()
    assert result_names(page) == []
    assert page.evaluate("document.body.dataset.marker") == "kept"


def test_skip_link_leads_to_the_content_with_a_visible_focus(live_server, page, area):
    page.goto(f"{live_server.url}/")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    assert skip.evaluate("element => element === document.activeElement")
    assert skip.bounding_box()["y"] >= 0  # moved into view when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"
    # Then the search field, then "Autour de moi", each with a visible outline.
    for expected in ("id_q", "geo-button"):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == expected
        assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"


def test_home_page_fits_a_phone_screen(live_server, mobile_page, screenshot):
    mobile_page.goto(f"{live_server.url}/")

    assert fits_the_screen(mobile_page)
    assert mobile_page.get_by_label("Code postal ou commune").is_visible()
    assert mobile_page.get_by_role("button", name="Autour de moi").is_visible()
    screenshot(mobile_page, "home-mobile")
