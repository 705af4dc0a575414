"""French by default, English on request (Accept-Language or the footer's switch), same URLs for both."""

from __future__ import annotations

import gettext
import importlib.util
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

from slots.models import Reason
from slots.tests.factories import make_slot, make_town_hall, paris

pytestmark = pytest.mark.django_db

LOCALE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
FRENCH = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES"


def test_pages_are_in_french_by_default(client):
    response = client.get("/")

    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "Trouvez le premier rendez-vous libre pour votre passeport ou votre carte d’identité" in html
    assert response["Content-Language"] == "fr"


def test_an_english_browser_gets_english_pages_at_the_same_address(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9,fr;q=0.5")

    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Find the first free appointment for your passport or identity card" in html
    assert "Trouvez le premier rendez-vous" not in html
    assert response["Content-Language"] == "en"
    assert "Accept-Language" in response["Vary"]


def test_a_browser_preferring_french_gets_french(client):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.8").content.decode()

    assert '<html lang="fr">' in html


def test_the_footer_switch_posts_the_language_without_javascript_or_csrf_cookie(client):
    response = client.get("/a-propos")

    html = response.content.decode()
    assert '<form class="language-switch" action="/i18n/setlang/" method="post">' in html
    assert '<input name="next" type="hidden" value="/a-propos">' in html
    assert '<option value="fr" lang="fr" selected>Français</option>' in html
    assert '<option value="en" lang="en">English</option>' in html
    # Public pages set no cookie at all: the switch needs no CSRF token.
    assert not response.cookies


def test_switching_to_english_keeps_the_choice_in_a_cookie(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/a-propos"})

    assert response.status_code == 302
    assert response["Location"] == "/a-propos"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en"
    assert cookie["max-age"] == 365 * 24 * 3600
    assert cookie["samesite"] == "Lax"
    assert cookie["httponly"]

    html = client.get("/a-propos").content.decode()
    assert '<html lang="en">' in html
    assert "About: how it works" in html
    assert '<option value="en" lang="en" selected>English</option>' in html


def test_the_cookie_wins_over_the_browser_language(client):
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})

    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<html lang="fr">' in html


def test_the_switch_never_redirects_to_another_site(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "https://evil.example/"})

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_town_hall_page_dates_and_directory_data_read_in_english(client, clichy):
    commune = clichy.commune
    commune.opening_hours = [["lundi", "vendredi", [["08:30:00", "12:00:00"]]], ["samedi", "", []]]
    commune.accessibility = "ACC"
    commune.save()

    html = client.get(f"/mairie/{clichy.town_hall.pk}", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Free slots in the next four weeks" in html
    assert '<time datetime="2026-12-01">Tuesday 1 December</time>' in html
    assert '<span class="opening-days">Monday to Friday</span>' in html
    assert "Accessible to people with reduced mobility." in html
    assert "Slots checked 4\xa0minutes ago." in html
    assert '<time datetime="2026-11-25T14:30:00+01:00">Wednesday 25 November 2026, 14:30</time>' in html


def _town_hall_with_two_passport_slots_and_one_identity_card_slot(frozen_now):
    town_hall = make_town_hall(name="Mairie de Pluriel", checked_at=frozen_now)
    make_slot(town_hall, paris(2026, 11, 24, 9, 0))
    make_slot(town_hall, paris(2026, 11, 26, 9, 30))
    make_slot(town_hall, paris(2026, 11, 27, 10, 0), reason=Reason.CNI)
    return town_hall


def _tab_counts(html: str) -> list[str]:
    return re.findall(r'<span class="tab-count">([^<]*)</span>', html)


def test_french_counts_zero_and_one_in_the_singular(client, frozen_now):
    town_hall = _town_hall_with_two_passport_slots_and_one_identity_card_slot(frozen_now)

    html = client.get(f"/mairie/{town_hall.pk}").content.decode()

    # Tabs: passport, identity card, both.
    assert _tab_counts(html) == ["2 créneaux", "1 créneau", "0 créneau"]


def test_english_counts_zero_in_the_plural(client, frozen_now):
    town_hall = _town_hall_with_two_passport_slots_and_one_identity_card_slot(frozen_now)

    html = client.get(f"/mairie/{town_hall.pk}", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert _tab_counts(html) == ["2 slots", "1 slot", "0 slots"]


def test_french_messages_without_a_french_entry_keep_their_source_text():
    with translation.override("fr"):
        assert translation.gettext("Passeport") == "Passeport"
        assert translation.ngettext("%(counter)s créneau", "%(counter)s créneaux", 0) == "%(counter)s créneau"


def test_reason_names_follow_the_language():
    with translation.override("en"):
        assert [str(label) for label in Reason.labels] == [
            "Identity card",
            "Passport",
            "Identity card and passport",
        ]
    with translation.override("fr"):
        assert str(Reason.CNI_PASSPORT.label) == "Carte d’identité et passeport"


def test_not_found_page_follows_the_language(client, db):
    french = client.get("/mairie/0").content.decode()
    english = client.get("/mairie/0", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Page introuvable" in french
    assert "Page not found" in english


# The committed catalogue


def _po_entries(path: Path) -> list[dict[str, object]]:
    """Entries of a .po file but its header and obsolete ones: msgid, msgid_plural, msgstr, msgctxt, flags."""
    entries: list[dict[str, object]] = []
    for po_entry in polib.pofile(str(path)):
        if po_entry.obsolete:
            continue
        entry: dict[str, object] = {"msgid": po_entry.msgid}
        if po_entry.flags:
            entry["flags"] = set(po_entry.flags)
        if po_entry.msgctxt is not None:
            entry["msgctxt"] = po_entry.msgctxt
        if po_entry.msgid_plural:
            entry["msgid_plural"] = po_entry.msgid_plural
            entry["msgstr"] = [po_entry.msgstr_plural[index] for index in sorted(po_entry.msgstr_plural)]
        else:
            entry["msgstr"] = [po_entry.msgstr]
        entries.append(entry)
    return entries


def test_english_catalogue_translates_every_message():
    entries = [entry for entry in _po_entries(LOCALE / "django.po") if entry["msgid"]]

    assert len(entries) > 100
    untranslated = [entry["msgid"] for entry in entries if not all(entry["msgstr"])]  # type: ignore[union-attr]
    fuzzy = [entry["msgid"] for entry in entries if "fuzzy" in entry.get("flags", set())]  # type: ignore[operator]
    assert untranslated == []
    assert fuzzy == []


@pytest.mark.parametrize("directory", [LOCALE, FRENCH], ids=["en", "fr"])
def test_compiled_catalogue_matches_its_source(directory):
    """django.mo is committed: it must hold exactly what django.po says (run `make messages` after editing)."""
    with (directory / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog  # type: ignore[attr-defined]

    for entry in _po_entries(directory / "django.po"):
        if not entry["msgid"]:
            continue
        msgid = str(entry["msgid"])
        if "msgctxt" in entry:
            msgid = f"{entry['msgctxt']}\x04{msgid}"
        strings = entry["msgstr"]
        assert isinstance(strings, list)
        # An empty translation is left out of the .mo: gettext then returns the msgid.
        if "msgid_plural" in entry:
            for index, string in enumerate(strings):
                assert compiled.get((msgid, index)) == (string or None), msgid
        else:
            assert compiled.get(msgid) == (strings[0] or None), msgid


def test_french_catalogue_gives_every_plural_message_its_french_forms():
    text = (FRENCH / "django.po").read_text(encoding="utf-8")
    assert '"Plural-Forms: nplurals=2; plural=(n > 1);\\n"' in text
    entries = [entry for entry in _po_entries(FRENCH / "django.po") if entry["msgid"]]
    plurals = [entry for entry in entries if "msgid_plural" in entry]

    assert len(plurals) >= 10
    assert "%(counter)s créneau" in {entry["msgid"] for entry in plurals}
    for entry in plurals:
        assert entry["msgstr"] == [entry["msgid"], entry["msgid_plural"]]
    # French is the source: any other French "translation" could only drift from the code's text.
    assert [
        entry["msgid"] for entry in entries if "msgid_plural" not in entry and entry["msgstr"] != [""]
    ] == []
    assert [entry["msgid"] for entry in entries if "fuzzy" in entry.get("flags", set())] == []  # type: ignore[operator]


def test_french_plurals_script_replaces_stale_guesses_of_msgmerge(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "french_plurals", Path(settings.BASE_DIR) / "scripts" / "french_plurals.py"
    )
    assert spec and spec.loader
    french_plurals = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(french_plurals)
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=2; plural=(n > 1);\\n"\n\n'
        "#: templates/slots/search.html\n"
        "#, fuzzy, python-format\n"
        '#| msgid "%(counter)s mairie"\n'
        'msgid ""\n"%(counter)s mairie "\n"équipée"\n'
        'msgid_plural "%(counter)s mairies équipées"\n'
        'msgstr[0] "%(counter)s mairie"\n'
        'msgstr[1] "%(counter)s mairies"\n\n'
        "#, fuzzy\n"
        '#| msgid "Rechercher"\n'
        'msgid "Rechercher une mairie"\n'
        'msgstr "Rechercher"\n',
        encoding="utf-8",
    )

    assert french_plurals.main([str(po)]) == 0

    entries = _po_entries(po)
    assert entries[0] == {
        "flags": {"python-format"},
        "msgid": "%(counter)s mairie équipée",
        "msgid_plural": "%(counter)s mairies équipées",
        "msgstr": ["%(counter)s mairie équipée", "%(counter)s mairies équipées"],
    }
    assert entries[1] == {"msgid": "Rechercher une mairie", "msgstr": [""]}
    # Running it again changes nothing.
    before = po.read_text(encoding="utf-8")
    french_plurals.main([str(po)])
    assert po.read_text(encoding="utf-8") == before


def test_english_translations_keep_their_placeholders():
    # An unknown %(name)s in a translation would raise at rendering time; a missing one would drop information.
    placeholder = re.compile(r"%\(\w+\)[sd]")
    for entry in _po_entries(LOCALE / "django.po"):
        wanted = set(placeholder.findall(str(entry["msgid"]) + str(entry.get("msgid_plural", ""))))
        for string in entry["msgstr"]:  # type: ignore[union-attr]
            found = set(placeholder.findall(str(string)))
            assert found <= wanted, entry["msgid"]
            # A plural's singular may spell out "one" instead of %(counter)s.
            allowed_missing = {"%(counter)s"} if "msgid_plural" in entry else set()
            assert wanted - found <= allowed_missing, entry["msgid"]
