"""The admin speaks French by default (town-hall IT staff), English through the language switch.

Every model of our apps: its list and its change form name the model and its fields in French, with none of
the English names they had; with the language cookie set to English, the same pages are in English.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone, translation

from communes.models import OutOfScopeCommune, PostalCode, ReferenceImport
from communes.tests.factories import make_commune
from scrapers.tests.factories import make_meeting_point, make_run, make_source
from slots.models import SlotDay
from slots.tests.factories import make_slot, make_town_hall

pytestmark = pytest.mark.django_db

OUR_APPS = ("communes", "slots", "scrapers", "ops", "demo")
# What the admin said before it was translated: none of it may remain on a French page.
ENGLISH = re.compile(
    r"\b(?:town halls?|scrape runs?|meeting points?|reference imports?|upcoming slots|locked fields|"
    r"Run now|Pause \(stop|Resume \(scrape|last error|consecutive failures|interval minutes|Contact and booking|"
    r"Freshness|Schedule|Ops dashboard|Booking sources|Town halls and slots|reference data|base URL|"
    r"search name|location source|opening hours|starts at|people max|first seen|last seen|external id|"
    r"slots new|parse errors|bytes received)\b",
    re.IGNORECASE,
)


@pytest.fixture
def objects() -> dict[type[models.Model], models.Model]:
    """One object of every model of our apps."""
    commune = make_commune("92024", name="Clichy", postcodes=("92110",))
    town_hall = make_town_hall(name="Mairie de Clichy", commune=commune)
    source = make_source(name="Éditeur")
    built = [
        commune.department,
        commune,
        PostalCode.objects.get(code="92110"),
        ReferenceImport.objects.create(
            scope="92", fingerprint="0" * 64, data_version="test", communes=1, postcodes=1, postcode_links=1
        ),
        town_hall,
        make_slot(town_hall, timezone.now() + dt.timedelta(days=2)),
        SlotDay.objects.get(town_hall=town_hall),  # kept by the slot table's triggers
        source,
        make_meeting_point(source, "mp-1", town_hall),
        make_run(source),
        OutOfScopeCommune.objects.create(
            insee="13055",
            name="Marseille",
            search_name="marseille",
            department_code="13",
            department_name="Bouches-du-Rhône",
        ),
    ]
    found = {type(obj): obj for obj in built}
    ours = {model for model in apps.get_models() if model._meta.app_label in OUR_APPS}
    assert set(found) == ours, "a model of our apps has no object here"
    return found


def _text(response) -> str:
    assert response.status_code == 200
    page = response.content.decode()
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL)
    # The connector kinds and their options are documented in English, as in the README (connectors_doc).
    page = re.sub(r'<div class="help" id="id_config_helptext">.*?</div>\s*</div>', " ", page, flags=re.DOTALL)
    page = re.sub(r'<select name="kind".*?</select>', " ", page, flags=re.DOTALL)
    page = re.sub(r"<[^>]+>", " ", page)  # text only: ids and field names in attributes stay English
    return " ".join(html.unescape(page).split())


def _pages(admin_client, model: type[models.Model], obj: models.Model) -> tuple[str, str]:
    opts = model._meta
    changelist = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    change = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    return _text(changelist), _text(change)


def test_every_list_and_change_form_is_in_french(admin_client, objects) -> None:
    for model, obj in objects.items():
        changelist, change = _pages(admin_client, model, obj)
        with translation.override("fr"):
            name = str(model._meta.verbose_name)
            labels = [
                str(field.verbose_name)
                for field in model._meta.fields
                if field.editable and not field.primary_key
            ]
        assert (
            f"Sélectionnez l’objet {name} à changer" in changelist
            or f"Sélectionnez l’objet {name} à afficher" in changelist
        ), model
        for label in labels:
            assert label[:1].upper() + label[1:] in change, (model, label)
        assert not ENGLISH.findall(changelist + change), (model, ENGLISH.findall(changelist + change))


def test_the_index_actions_and_dashboard_are_in_french(admin_client, objects) -> None:
    index = _text(admin_client.get(reverse("admin:index")))
    sources = _text(admin_client.get(reverse("admin:scrapers_source_changelist")))
    dashboard = _text(admin_client.get(reverse("admin:scrapers_dashboard")))

    assert "Mairies et créneaux" in index and "Sources de réservation et collectes" in index
    assert "Sélectionnez l’objet mairie à changer" in _text(
        admin_client.get(reverse("admin:slots_townhall_changelist"))
    )
    assert "Collecter maintenant (mettre une collecte en file)" in sources
    assert "Collectes des dernières 24 heures" in dashboard and "Échecs de suite" in dashboard
    assert not ENGLISH.findall(index + sources + dashboard)


def test_an_action_says_what_it_did_in_french(admin_client, objects) -> None:
    source = next(obj for obj in objects.values() if obj._meta.model_name == "source")
    response = admin_client.post(
        reverse("admin:scrapers_source_changelist"),
        {"action": "pause", "_selected_action": [source.pk]},
        follow=True,
    )

    assert "1 source mise en pause." in _text(response)


def test_the_language_cookie_gives_the_english_admin(admin_client, objects) -> None:
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    town_hall_object = next(obj for obj in objects.values() if obj._meta.model_name == "townhall")
    with translation.override(None):  # the requests activate English: the next tests get French back
        town_halls, town_hall = _pages(admin_client, type(town_hall_object), town_hall_object)
        dashboard = _text(admin_client.get(reverse("admin:scrapers_dashboard")))

    assert "Select town hall to change" in town_halls
    assert "Location locked" in town_hall and "Contact and booking" in town_hall
    assert "Runs in the last 24 hours" in dashboard and "Failures in a row" in dashboard
    assert "Sélectionnez" not in town_halls and "Modification de" not in town_hall
    assert "Emplacement verrouillé" not in town_hall and "Fraîcheur" not in town_hall
