"""French text uses the typographic apostrophe (’) everywhere: templates and the catalogue alike.

A straight one between two letters is French text written in a hurry ("l'objet"): code and HTML attributes
use quotes around whole values ({% url 'slots:home' %}, date:'c'), never between letters. Template comments
and translation contexts are English and are left out.
"""

from __future__ import annotations

import re
from pathlib import Path

import polib
from django.conf import settings

BASE = Path(settings.BASE_DIR)
_STRAIGHT = re.compile(r"[^\W\d_]'[^\W\d_]")
_ENGLISH = re.compile(r"\{% comment %\}.*?\{% endcomment %\}|\{#.*?#\}|\bcontext \"[^\"]*\"", re.DOTALL)


def _templates() -> list[Path]:
    return sorted({*BASE.glob("templates/**/*.html"), *BASE.glob("*/templates/**/*.html")})


def test_templates_have_no_straight_apostrophe_in_french_words() -> None:
    found = [
        f"{path.relative_to(BASE)}: {match.group(0)}"
        for path in _templates()
        for match in _STRAIGHT.finditer(_ENGLISH.sub("", path.read_text(encoding="utf-8")))
    ]

    assert len(_templates()) > 15
    assert found == []


def test_the_catalogue_has_no_straight_apostrophe_in_french() -> None:
    english = polib.pofile(str(BASE / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    french = polib.pofile(str(BASE / "locale" / "fr" / "LC_MESSAGES" / "django.po"))
    texts = [entry.msgid for entry in english] + [entry.msgid_plural for entry in english]
    texts += [text for entry in french for text in (entry.msgid, *entry.msgstr_plural.values())]

    assert len(english) > 100
    assert [text for text in texts if _STRAIGHT.search(text)] == []


def test_the_check_sees_a_straight_apostrophe() -> None:
    assert _STRAIGHT.search("Sélectionnez l'objet")
    assert not _STRAIGHT.search("{% url 'slots:home' %} date:'c' Sélectionnez l’objet")
    assert not _ENGLISH.sub("", '{% translate "l j F" context "a slot\'s day" %}').count("'")
