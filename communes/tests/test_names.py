"""Names as people write them, and the normalised form both stored names and queries are compared in."""

from __future__ import annotations

import pytest

from communes.names import commune_full_name, normalize_search_text


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
