"""Property-based tests of the Synbird connector: the ISO 8601 reader it shares (parse_iso_datetime) and whole
fetches served by a real HTTP server with generated getSlotsFor answers."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from communes.france import PARIS
from scrapers.connectors.base import SourceSpec, parse_iso_datetime
from scrapers.connectors.synbird.connector import SynbirdConnector
from scrapers.fetching.http import HttpClient
from scrapers.tests.properties import (
    END,
    START,
    assert_sane_slots,
    bad_datetime_texts,
    comparable,
    expected_start,
    fetch_or_error,
    in_slot_years,
    iso_datetimes,
    json_values,
    property_settings,
)

TOWN_HALL = {"external_id": "syn-1", "name": "Mairie d'Annecy"}
CONFIG = {
    "town_hall": TOWN_HALL,
    "company_id": 812,
    "place_id": "pl-3",
    "prestation_ids": {"CNI": 11},
    "reasons": ["CNI"],
    "slug": "mairie-annecy",
}
PATH = "/v6/pro/company/getSlotsFor"


@property_settings(150)
@given(iso_datetimes)
def test_an_iso_datetime_reads_back_exactly(text_and_value: tuple[str, dt.datetime]) -> None:
    text, value = text_and_value

    parsed = parse_iso_datetime(text)

    assert parsed == (value if value.tzinfo else value.replace(tzinfo=PARIS))
    assert parsed.replace(tzinfo=None) == value.replace(tzinfo=None)  # the wall clock written is kept


@property_settings(150)
@given(bad_datetime_texts | st.text(max_size=40) | json_values)
# Year 9999 just before midnight UTC is year 10000 in Paris: the window check raised OverflowError.
@example("9999-12-31T23:59:00Z")
def test_any_value_is_a_datetime_or_a_value_error(value: Any) -> None:
    try:
        parsed = parse_iso_datetime(value)
    except ValueError:
        return
    assert parsed.utcoffset() is not None and in_slot_years(parsed)
    parsed.astimezone(PARIS)  # converting never overflows


@pytest.fixture
def connector(
    httpserver: HTTPServer, make_spec: Callable[..., SourceSpec], make_http: Callable[..., HttpClient]
) -> Callable[[], SynbirdConnector]:
    def make() -> SynbirdConnector:
        spec = make_spec("synbird", httpserver.url_for("/"), config=CONFIG)
        return SynbirdConnector(spec, http=make_http(spec))

    return make


def serve(httpserver: HTTPServer, body: str) -> None:
    httpserver.clear()
    httpserver.expect_request(PATH, method="POST").respond_with_data(body, content_type="application/json")


bad_rows = json_values.filter(lambda value: not isinstance(value, dict)) | st.builds(
    lambda value: {"start_date": value}, bad_datetime_texts | st.integers() | st.none()
)


@property_settings(25, http=True)
@given(st.lists(st.tuples(st.booleans(), iso_datetimes, bad_rows), max_size=8))
@example([(False, ("", dt.datetime(2026, 12, 1)), {"start_date": "9999-12-31T23:59:00Z"})])
def test_every_time_slot_is_read_or_counted(
    httpserver: HTTPServer,
    connector: Callable[[], SynbirdConnector],
    picks: list[tuple[bool, tuple[str, dt.datetime], Any]],
) -> None:
    rows, expected, bad = [], set(), 0
    for is_good, (text, value), bad_row in picks:
        if is_good:
            rows.append({"start_date": text, "end_date": text})
            if (starts_at := expected_start(value)) is not None:
                expected.add(starts_at)
        else:
            rows.append(bad_row)
            bad += 1
    serve(httpserver, json.dumps({"timeSlots": rows}))

    with connector() as synbird:
        result = synbird.fetch_slots(["syn-1"], start=START, end=END)
        again = synbird.fetch_slots(["syn-1"], start=START, end=END)

    assert_sane_slots(result, meeting_point_ids={"syn-1"})
    assert result.parse_errors == bad
    assert {slot.starts_at for slot in result.slots} == expected
    assert all(slot.booking_url == "https://app.synbird.com/mairie-annecy" for slot in result.slots)
    assert comparable(again) == comparable(result)


@property_settings(25, http=True)
@given(json_values | st.fixed_dictionaries({"timeSlots": st.lists(json_values, max_size=5)}))
def test_any_json_answer_gives_sane_slots_or_a_connector_error(
    httpserver: HTTPServer, connector: Callable[[], SynbirdConnector], payload: Any
) -> None:
    serve(httpserver, json.dumps(payload))

    with connector() as synbird:
        result = fetch_or_error(lambda: synbird.fetch_slots(["syn-1"], start=START, end=END))
        again = fetch_or_error(lambda: synbird.fetch_slots(["syn-1"], start=START, end=END))

    if result is not None:
        assert_sane_slots(result, meeting_point_ids={"syn-1"})
    assert comparable(again) == comparable(result)
