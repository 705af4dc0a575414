"""Commune names: the full name with its article, and the normalised form names and queries are compared in."""

from __future__ import annotations

import re

from unidecode import unidecode

from .elision import ASPIRATED_H

# INSEE "type de nom en clair" (TNCC): the article that precedes a commune's name.
ARTICLES = {0: "", 1: "", 2: "Le ", 3: "La ", 4: "Les ", 5: "L'", 6: "Aux ", 7: "Las ", 8: "Los "}
# A leading article typed in a query, and how a full name starting with it begins.
LEADING_ARTICLES = {
    "l": "L'",
    "le": "Le ",
    "la": "La ",
    "les": "Les ",
    "aux": "Aux ",
    "las": "Las ",
    "los": "Los ",
}
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def commune_full_name(nom: str, type_nom: int | str) -> str:
    """The name as people write it: "Boisse", 3 → "La Boisse"."""
    try:
        article = ARTICLES.get(int(type_nom), "")
    except (TypeError, ValueError):
        article = ""
    return f"{article}{nom}"


def split_article(text: str) -> tuple[str | None, str]:
    """The leading article typed (a key of LEADING_ARTICLES, or None) and the normalised rest."""
    words = _NON_ALNUM.sub(" ", unidecode(text).lower()).split()
    words = [_ABBREVIATIONS.get(word, word) for word in words]
    if len(words) > 1 and words[0] in LEADING_ARTICLES:
        return words[0], " ".join(words[1:])
    return None, " ".join(words)


def normalize_search_text(text: str) -> str:
    """Lower-case ASCII words separated by single spaces, without a leading article.

    "L'Haÿ-les-Roses" → "hay les roses", "St-Ouen" → "saint ouen". Used for stored names and for queries
    alike, so that case, accents, hyphens, apostrophes and articles never matter.
    """
    return split_article(text)[1]


# The article a full name starts with (commune_full_name's ARTICLES), and what "de" and "à" become before it,
# as INSEE's TNCC table has it: "Le Pecq" → "du Pecq", "au Pecq"; "Aux Marais" → "des Marais", "aux Marais".
_CONTRACTIONS: tuple[tuple[str, str, str], ...] = (
    ("Le ", "du ", "au "),
    ("Les ", "des ", "aux "),
    ("Aux ", "des ", "aux "),
)
# "d’" before a vowel (Œ included, as INSEE has it) and before an h unless aspirated (communes/elision.py).
_VOWELS = frozenset("AEIOUY")


def with_preposition(name: str, preposition: str, *, insee: str | None = None) -> str:
    """The preposition "de" or "à" followed by a commune's full name, elided and contracted as French writes it.

    "Argenteuil" → "d’Argenteuil", "Le Pecq" → "du Pecq" / "au Pecq", "Les Mureaux" → "des Mureaux" /
    "aux Mureaux", "La Boisse" → "de La Boisse", "L'Haÿ-les-Roses" → "de L’Haÿ-les-Roses". A name starting with
    H is elided unless `insee` is one of the aspirated ones ("de Houdan"). Apostrophes are typographic.
    """
    if preposition not in ("de", "à"):
        raise ValueError(f"Unknown preposition: {preposition!r}")
    name = name.strip().replace("'", "’")
    for article, de, a in _CONTRACTIONS:
        if name.startswith(article) and len(name) > len(article):
            return (de if preposition == "de" else a) + name[len(article) :]
    if preposition == "à":
        return f"à {name}"  # "La", "L’", "Las" and "Los" stay: "de La Boisse", "à L’Haÿ-les-Roses"
    first = unidecode(name[:1]).upper()[:1]
    if first in _VOWELS or (first == "H" and insee not in ASPIRATED_H):
        return f"d’{name}"
    return f"de {name}"
