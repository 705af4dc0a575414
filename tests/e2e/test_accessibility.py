"""Accessibility audit with axe-core (vendored from npm by `make vendor`) on every kind of citizen page.

No serious or critical violation may appear, on a desktop and on a phone. axe runs in the page once it has
settled (the map drawn, htmx loaded); the context bypasses our CSP only to inject axe's own script.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_town_hall_page import block_tiles
from tests.e2e.test_town_hall_page import clichy_town_hall as clichy_town_hall  # a fixture

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}

PAGES = {
    "home": "/",
    "search": "/recherche?q=Clichy&insee=92024&rayon=20&motif=passeport",
    "search-empty": "/recherche?q=Clichy&insee=92024&rayon=5&motif=cni&personnes=6",
    "search-error": "/recherche?q=zzzz",
    "town-hall": "/mairie/{town_hall}",
    "commune": "/commune/92024",
    "departments": "/departements",
    "department": "/departement/92",
    "about": "/a-propos",
    "not-found": "/mairie/999999",
}


@pytest.fixture(params=["desktop", "phone"])
def audited_page(request, browser) -> Iterator:
    viewport = {"width": 1280, "height": 900} if request.param == "desktop" else {"width": 375, "height": 812}
    context = browser.new_context(
        locale="fr-FR", timezone_id="Europe/Paris", viewport=viewport, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = [node["target"] for node in violation["nodes"][:3]]
        lines.append(
            f"{violation['impact']}: {violation['id']} ({violation['help']}) at {json.dumps(targets)}"
        )
    return "\n".join(lines)


@pytest.mark.parametrize("name", PAGES)
def test_citizen_pages_have_no_serious_accessibility_violation(
    live_server,
    audited_page,
    clichy_town_hall,
    name,  # noqa: F811
):
    block_tiles(audited_page)
    audited_page.goto(live_server.url + PAGES[name].format(town_hall=clichy_town_hall.pk))
    audited_page.wait_for_load_state("networkidle")

    violations = axe_violations(audited_page)

    assert not violations, f"{name}:\n{describe(violations)}"
