"""Addresses as a visitor reads them: one line, no CEDEX, no repeated postcode, no capitals from sources."""

from __future__ import annotations

import pytest

from communes.addresses import french_title_case, visitor_address


@pytest.mark.parametrize(
    ("text", "postcode", "city", "expected"),
    [
        (
            "Place du Docteur-Lazare-Goujon, 69601 Villeurbanne Cedex 69100",
            "",
            "",
            "Place du Docteur-Lazare-Goujon, 69100 Villeurbanne",
        ),
        (
            "Place du Docteur-Lazare-Goujon, 69601 Villeurbanne Cedex 69100",
            "69100",
            "Villeurbanne",
            "Place du Docteur-Lazare-Goujon, 69100 Villeurbanne",
        ),
        ("80 boulevard Jean-Jaurès", "92110", "Clichy", "80 boulevard Jean-Jaurès, 92110 Clichy"),
        (
            "80 boulevard Jean-Jaurès 92110 Clichy",
            "92110",
            "Clichy",
            "80 boulevard Jean-Jaurès, 92110 Clichy",
        ),
        ("80 BOULEVARD JEAN-JAURES\n92110 CLICHY", "", "", "80 boulevard Jean-Jaures, 92110 Clichy"),
        (
            "1 rue des Conches\n03106 Montluçon cedex",
            "03100",
            "Montluçon",
            "1 rue des Conches, 03100 Montluçon",
        ),
        (
            "PLACE DE L'HOTEL DE VILLE BP 12 CS 40001\n93200 SAINT-DENIS CEDEX 12",
            "",
            "",
            "Place de l’Hotel de Ville BP 12 CS 40001, 93200 Saint-Denis",
        ),
        (
            "2 rue de Paris, 94200 Ivry-sur-Seine",
            "94205",
            "Ivry-sur-Seine",
            "2 rue de Paris, 94200 Ivry-sur-Seine",
        ),
        ("\n02220 VILLE SAVOYE", "", "", "02220 Ville Savoye"),
        ("", "92110", "Clichy", "92110 Clichy"),
    ],
)
def test_addresses_read_as_a_visitor_writes_them(text: str, postcode: str, city: str, expected: str) -> None:
    assert visitor_address(text, postcode=postcode, city=city) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PLACE LOUIS XIV", "Place Louis XIV"),
        ("12 BIS RUE D'ALSACE", "12 bis rue d’Alsace"),
        ("L'HAY-LES-ROSES", "L’Hay-les-Roses"),
        ("SAINT-MAUR-DES-FOSSES", "Saint-Maur-des-Fosses"),
        ("LE VILLAGE", "Le Village"),
        ("CHATEAU DU ROI CIVIL ET MILITAIRE", "Chateau du Roi Civil et Militaire"),
        ("QUAI SOUS LE PONT EN FACE", "Quai sous le Pont en Face"),
    ],
)
def test_french_title_case_keeps_small_words_lower_and_codes_upper(text: str, expected: str) -> None:
    assert french_title_case(text) == expected


def test_an_address_already_written_well_is_kept() -> None:
    text = "Hôtel de Ville, 1 place de l’Église"
    assert visitor_address(text) == text
