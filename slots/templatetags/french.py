"""French as people write it in templates: "près d’Argenteuil", "au Pecq", addresses without CEDEX.

`{{ commune|de_commune }}` and `{{ commune|a_commune }}` take a Commune, anything with a `commune` (a search's
origin) or a plain name. In another language they give the bare name, the translation holding its own
preposition: the phrase is built first and passed to {% blocktranslate %} as a variable.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import translation

from communes.names import with_preposition
from slots.models import TownHall
from slots.pages import town_hall_address

register = template.Library()


def _phrase(value: Any, preposition: str) -> str:
    commune = getattr(value, "commune", None) or value
    name = str(getattr(commune, "name", commune) or "")
    if not name:
        return ""
    if not (translation.get_language() or "fr").startswith("fr"):
        return name
    return with_preposition(name, preposition, insee=getattr(commune, "insee", None))


@register.filter
def de_commune(value: Any) -> str:
    """ "d’Argenteuil", "du Pecq", "des Mureaux", "de La Boisse" (the bare name outside French)."""
    return _phrase(value, "de")


@register.filter
def a_commune(value: Any) -> str:
    """ "à Paris", "au Pecq", "aux Mureaux", "à L’Haÿ-les-Roses" (the bare name outside French)."""
    return _phrase(value, "à")


@register.filter
def visitor_address(town_hall: TownHall) -> str:
    """ "80 boulevard Jean-Jaurès, 92110 Clichy": the town hall's address without CEDEX nor capitals."""
    return town_hall_address(town_hall)
