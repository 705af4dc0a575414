"""Geocoding what citizens type (names, postcodes, INSEE codes) over the real default departments."""

from __future__ import annotations

import pytest

from communes.geocoding import GeocodeResult, GeocodingError, commune_point, commune_suggestions, geocode
from communes.importer import ImportSummary
from communes.models import Commune
from communes.names import normalize_search_text


def origin(result: GeocodeResult) -> str:
    return result.places[0].commune.insee


def inseees(result: GeocodeResult) -> list[str]:
    return [place.commune.insee for place in result.places]


@pytest.mark.parametrize("query", ["92110", "92 110", " 92110 "])
def test_a_postcode_resolves_to_its_commune(france: ImportSummary, query: str) -> None:
    result = geocode(query)
    assert origin(result) == "92024"
    place = result.places[0]
    assert place.postcode == "92110"
    assert (place.lat, place.lon) == commune_point(place.commune)
    assert not result.ambiguous
    assert result.others == []


def test_an_insee_code_resolves_to_its_commune(france: ImportSummary) -> None:
    result = geocode("92024")
    assert inseees(result) == ["92024"]
    assert result.places[0].postcode is None


@pytest.mark.parametrize("query", ["clichy", "Clichy", "CLICHY", " clichy  "])
def test_an_exact_name_comes_first_and_is_not_ambiguous(france: ImportSummary, query: str) -> None:
    result = geocode(query)
    assert origin(result) == "92024"
    assert not result.ambiguous
    # Communes whose name starts the same way are offered after it.
    assert "93014" in inseees(result)  # Clichy-sous-Bois


@pytest.mark.parametrize("query", ["Saint Ouen", "saint-ouen", "St Ouen", "st-ouen"])
def test_a_partial_name_offers_candidates_most_populous_first(france: ImportSummary, query: str) -> None:
    result = geocode(query)
    assert result.ambiguous
    assert origin(result) == "93070"  # Saint-Ouen-sur-Seine
    names = {place.commune.name for place in result.places}
    assert {"Saint-Ouen-l'Aumône", "Saint-Ouen-en-Brie"} <= names
    assert {place.commune.department.code for place in result.places} >= {"93", "95", "77"}


@pytest.mark.parametrize("query", ["saint-ouen-sur-seine", "Saint Ouen sur Seine", "SAINT OUEN SUR SEINE"])
def test_a_full_name_is_found_whatever_its_spelling(france: ImportSummary, query: str) -> None:
    result = geocode(query)
    assert inseees(result) == ["93070"]
    assert not result.ambiguous


@pytest.mark.parametrize("query", ["Asnieres", "asnières", "ASNIÈRES"])
def test_accents_do_not_matter_and_the_most_populous_comes_first(france: ImportSummary, query: str) -> None:
    result = geocode(query)
    assert origin(result) == "92004"  # Asnières-sur-Seine
    assert result.ambiguous
    assert "95026" in inseees(result)  # Asnières-sur-Oise


@pytest.mark.parametrize("query", ["le pecq", "Le Pecq", "pecq", "LE-PECQ"])
def test_the_article_is_optional(france: ImportSummary, query: str) -> None:
    result = geocode(query)
    assert origin(result) == "78481"
    assert not result.ambiguous


@pytest.mark.parametrize("query", ["L'Haÿ-les-Roses", "lhay les roses", "l hay les roses", "Hay-les-Roses"])
def test_apostrophes_and_diaereses_do_not_matter(france: ImportSummary, query: str) -> None:
    assert origin(geocode(query)) == "94038"


def test_a_prefix_shared_by_many_communes_lists_them(france: ImportSummary) -> None:
    result = geocode("Villeneuve")
    assert result.ambiguous
    assert 2 < len(result.places) <= 10
    names = [place.commune.name for place in result.places]
    assert all(name.startswith("Villeneuve") for name in names)
    assert names[0] == "Villeneuve-Saint-Georges"  # the most populous of the default departments
    assert len({place.commune.department_id for place in result.places}) > 1


def test_homonyms_are_ambiguous(france: ImportSummary) -> None:
    # Two communes called Châtillon: in Hauts-de-Seine and in Rhône.
    result = geocode("chatillon")
    assert result.ambiguous
    assert inseees(result)[:2] == ["92020", "69050"]


@pytest.mark.parametrize(("query", "insee"), [("Chatillon (69)", "69050"), ("chatillon 92", "92020")])
def test_a_department_narrows_a_name(france: ImportSummary, query: str, insee: str) -> None:
    result = geocode(query)
    assert inseees(result) == [insee]
    assert not result.ambiguous


@pytest.mark.parametrize("query", ["Clichy 92110", "92110 Clichy"])
def test_a_postcode_narrows_a_name(france: ImportSummary, query: str) -> None:
    result = geocode(query)
    assert inseees(result) == ["92024"]
    assert result.places[0].postcode == "92110"


def test_a_postcode_shared_by_several_communes_searches_from_the_most_populous(france: ImportSummary) -> None:
    result = geocode("77130")
    assert origin(result) == "77305"  # Montereau-Fault-Yonne
    assert len(result.places) == 1
    assert len(result.others) == 11
    assert "77305" not in [commune.insee for commune in result.others]
    names = [commune.name for commune in result.others]
    assert names == sorted(names, key=normalize_search_text)
    assert not result.ambiguous


@pytest.mark.parametrize(
    ("postcode", "insee"), [("69001", "69381"), ("75017", "75117"), ("75001", "75101"), ("75116", "75116")]
)
def test_a_city_postcode_resolves_to_its_arrondissement(
    france: ImportSummary, postcode: str, insee: str
) -> None:
    result = geocode(postcode)
    assert inseees(result) == [insee]
    assert result.others == []  # never the city as a whole


def test_paris_centre_arrondissements_search_from_the_paris_centre_town_hall(france: ImportSummary) -> None:
    first = geocode("75001").places[0]
    third = Commune.objects.get(insee="75103")
    assert (first.lat, first.lon) == (third.lat, third.lon)


@pytest.mark.parametrize(
    ("query", "insee"),
    [
        ("Paris 17e", "75117"),
        ("paris 17", "75117"),
        ("Lyon 1er", "69381"),
        ("lyon 3e arrondissement", "69383"),
    ],
)
def test_an_arrondissement_can_be_named(france: ImportSummary, query: str, insee: str) -> None:
    assert inseees(geocode(query)) == [insee]


def test_a_city_name_resolves_to_the_city_first(france: ImportSummary) -> None:
    result = geocode("Lyon")
    assert origin(result) == "69123"
    assert not result.ambiguous


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "unknown"),
        ("99999", "unknown"),
        ("75 999", "unknown"),
        ("!!!", "invalid"),
        ("12", "invalid"),
        ("x" * 201, "too_long"),
        ("a" * 10_000, "too_long"),
    ],
)
def test_what_designates_no_commune_raises_a_clear_error(
    france: ImportSummary, query: str, code: str
) -> None:
    with pytest.raises(GeocodingError) as caught:
        geocode(query)
    assert caught.value.code == code
    assert caught.value.message
    assert str(caught.value) == caught.value.message


def test_the_error_message_quotes_the_query_in_french(france: ImportSummary) -> None:
    with pytest.raises(GeocodingError) as caught:
        geocode("abc")
    assert "Aucune commune ne correspond à « abc »" in caught.value.message
    with pytest.raises(GeocodingError) as caught:
        geocode("99999")
    assert "99999" in caught.value.message


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Marseille", "Marseille"),
        ("marseille", "Marseille"),
        ("13001", "Marseille 1er Arrondissement"),
        ("13055", "Marseille"),
        ("Marseille 8e", "Marseille 8e Arrondissement"),
    ],
)
def test_a_commune_outside_the_imported_departments_is_recognised(
    france: ImportSummary, query: str, name: str
) -> None:
    with pytest.raises(GeocodingError) as caught:
        geocode(query)

    assert caught.value.code == "not_covered"
    message = caught.value.message
    assert message.startswith(
        f"{name} (Bouches-du-Rhône, 13) : rdvpasseport ne couvre pas encore ce département."
    )
    assert "Départements couverts : Ain (01), Ardèche (07)" in message
    assert "Hauts-de-Seine (92)" in message
    assert "Vérifiez" not in message


def test_homonyms_outside_the_imported_departments_name_each_department(france: ImportSummary) -> None:
    with pytest.raises(GeocodingError) as caught:
        geocode("Moncontour")  # in the Côtes-d'Armor and the Vienne, none in the default departments

    assert caught.value.code == "not_covered"
    assert caught.value.message.startswith(
        "Moncontour (Côtes-d'Armor, 22 ; Vienne, 86) : rdvpasseport ne couvre pas encore ces départements."
    )


def test_control_characters_never_reach_the_database(france: ImportSummary) -> None:
    assert origin(geocode("clichy\x00")) == "92024"
    with pytest.raises(GeocodingError):
        geocode("\x00\x00")


@pytest.mark.parametrize(("query", "queries"), [("clichy", 1), ("92110", 1), ("77130", 1), ("Saint Ouen", 1)])
def test_geocoding_takes_one_query(
    france: ImportSummary, django_assert_num_queries: pytest.FixtureRequest, query: str, queries: int
) -> None:
    with django_assert_num_queries(queries):  # type: ignore[operator]
        result = geocode(query)
        [place.commune.department.name for place in result.places]


def test_suggestions_complete_a_name_with_departments_and_postcodes(
    france: ImportSummary, django_assert_num_queries: pytest.FixtureRequest
) -> None:
    with django_assert_num_queries(2):  # type: ignore[operator]
        suggestions = commune_suggestions("asni")
        described = [
            (commune.name, commune.department.code, [code.code for code in commune.postal_codes.all()])
            for commune in suggestions
        ]
    assert described[0] == ("Asnières-sur-Seine", "92", ["92600"])
    assert ("Asnières-sur-Oise", "95", ["95270"]) in described


def test_suggestions_put_the_exact_name_first(france: ImportSummary) -> None:
    assert [commune.insee for commune in commune_suggestions("Clichy", limit=2)] == ["92024", "93014"]
    assert commune_suggestions("le pecq", limit=1)[0].insee == "78481"


def test_suggestions_complete_a_postcode(france: ImportSummary) -> None:
    suggestions = commune_suggestions("7713", limit=50)
    assert {"77305", "77021"} <= {commune.insee for commune in suggestions}
    assert all(
        any(code.code.startswith("7713") for code in commune.postal_codes.all()) for commune in suggestions
    )
    assert [commune.insee for commune in commune_suggestions("75017")] == ["75117"]
    assert [commune.insee for commune in commune_suggestions("92024")] == ["92024"]


def test_suggestions_respect_the_limit(france: ImportSummary) -> None:
    assert len(commune_suggestions("saint", limit=5)) == 5
    assert len(commune_suggestions("saint")) == 10


@pytest.mark.parametrize("query", ["", "  ", "!!", "x" * 10_000, "1", "zzzzzz"])
def test_suggestions_never_raise(france: ImportSummary, query: str) -> None:
    assert commune_suggestions(query) == []


def test_a_commune_without_a_point_has_none(france: ImportSummary) -> None:
    commune = Commune(insee="00000", name="Nowhere", search_name="nowhere", department_id="75")
    assert commune_point(commune) is None
    assert commune_point(Commune.objects.get(insee="92024")) == pytest.approx((48.9028, 2.3048), abs=0.002)
