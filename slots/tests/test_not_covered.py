"""A commune of a department not imported is recognised: the search, the API and the autocomplete say the
service does not cover it yet, and which departments it covers."""

from __future__ import annotations

import pytest

from communes.models import OutOfScopeCommune

pytestmark = pytest.mark.django_db


@pytest.fixture
def marseille(clichy):
    for insee, name, postcodes in [
        ("13055", "Marseille", ""),
        ("13201", "Marseille 1er Arrondissement", " 13001 "),
    ]:
        OutOfScopeCommune.objects.create(
            insee=insee,
            name=name,
            search_name=name.lower(),
            postcodes=postcodes,
            department_code="13",
            department_name="Bouches-du-Rhône",
        )


@pytest.mark.parametrize(
    ("query", "name"),
    [("Marseille", "Marseille"), ("13001", "Marseille 1er Arrondissement"), ("13055", "Marseille")],
)
def test_the_search_page_says_the_department_is_not_covered_yet(client, marseille, query, name):
    response = client.get("/recherche", {"q": query})

    html = response.content.decode()
    assert f"{name} (Bouches-du-Rhône, 13) : rdvpasseport ne couvre pas encore ce département." in html
    assert "Départements couverts : Département 92 (92)." in html
    assert "Vérifiez" not in html


def test_the_api_answers_400_naming_the_department(client, marseille):
    response = client.get("/api/v1/search", {"q": "13001"})

    assert response.status_code == 400
    assert response.json()["error"] == (
        "Marseille 1er Arrondissement (Bouches-du-Rhône, 13) : rdvpasseport ne couvre pas encore ce département. "
        "Départements couverts : Département 92 (92)."
    )


def test_the_autocomplete_says_the_department_is_not_covered_yet(client, marseille):
    html = client.get("/autocomplete", {"q": "Marsei"}).content.decode()
    unknown = client.get("/autocomplete", {"q": "Atlantide"}).content.decode()

    assert 'role="option"' not in html
    assert "Marseille (13) : rdvpasseport ne couvre pas encore ce département." in html
    assert "Aucune commune ne correspond à cette saisie." in unknown
