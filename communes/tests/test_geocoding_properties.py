"""Properties of the geocoder over any text a citizen (or a robot) may type: a result or a French message.

Hypothesis generates the input; the examples-based tests in test_geocoding.py pin the expected answers.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from communes.geocoding import MAX_QUERY_LENGTH, GeocodeResult, GeocodingError, commune_suggestions, geocode
from communes.importer import ImportSummary
from communes.names import normalize_search_text

# Letters of French place names, digits, separators, and a few characters that break naive code.
FRENCH_TEXT = st.text(
    alphabet=st.sampled_from("abcdeéèêëfghiîïjklmnoôœpqrstuùûüvwxyÿzÀÉÈ -'’()0123456789\x00\t\n%_*\\\"<>"),
    max_size=60,
)
ANY_TEXT = st.text(max_size=MAX_QUERY_LENGTH + 20)
QUERIES = st.one_of(FRENCH_TEXT, ANY_TEXT, st.from_regex(r"\A\s*\d{1,2}\s?\d{3}\s*\Z"))
EXAMPLES = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@EXAMPLES
@given(text=st.text(max_size=200))
def test_normalised_text_is_a_fixed_point_of_plain_words(text: str) -> None:
    normalised = normalize_search_text(text)

    assert normalize_search_text(normalised) == normalised
    assert normalised == normalised.strip()
    assert all(character.isalnum() and character.isascii() or character == " " for character in normalised)


@EXAMPLES
@given(query=QUERIES)
def test_any_query_gives_located_places_or_a_french_message(france: ImportSummary, query: str) -> None:
    try:
        result = geocode(query)
    except GeocodingError as exc:
        assert str(exc.message).strip()
        return
    assert isinstance(result, GeocodeResult)
    assert result.places
    for place in result.places:
        assert -90 <= place.lat <= 90 and -180 <= place.lon <= 180
    assert not (result.ambiguous and len(result.places) == 1)


@EXAMPLES
@given(query=QUERIES, limit=st.integers(min_value=1, max_value=20))
def test_suggestions_never_exceed_the_limit(france: ImportSummary, query: str, limit: int) -> None:
    suggestions = commune_suggestions(query, limit=limit)

    assert len(suggestions) <= limit
    assert len({commune.insee for commune in suggestions}) == len(suggestions)


@pytest.mark.parametrize("query", ["92110", "Clichy", "clichy (92)", "Paris 17e", "69001"])
def test_spelling_variants_of_a_found_commune_find_it_too(france: ImportSummary, query: str) -> None:
    found = geocode(query).places[0].commune.insee
    variants = {query.upper(), f"  {query}  ", query.replace(" ", "-")}

    for variant in variants:
        try:
            assert found in {place.commune.insee for place in geocode(variant).places}
        except GeocodingError:
            pytest.fail(f"{variant!r} not found while {query!r} is")
