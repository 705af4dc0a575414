"""Property-based tests of the ClicRDV connector: whole fetches served by a real HTTP server with generated
availabletimeslots answers (objects or plain strings)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from scrapers.connectors.base import SourceSpec
from scrapers.connectors.clicrdv.connector import ClicRdvConnector
from scrapers.fetching.http import HttpClient
from scrapers.tests.properties import (
    END,
    START,
    assert_sane_slots,
    bad_datetime_texts,
    comparable,
    expected_start,
    fetch_or_error,
    iso_datetimes,
    json_values,
    property_settings,
)

CONFIG = {
    "town_hall": {"external_id": "clic-1", "name": "Mairie de Vannes"},
    "group_id": 117,
    "interventions": {"CNI": 4021},
    "calendar_ids": [5512, 5513],
    "reasons": ["CNI"],
    "booking_url": "https://www.clicrdv.com/mairie-de-vannes",
}
PATH = "/api/v2/availabletimeslots"


@pytest.fixture
def connector(
    httpserver: HTTPServer, make_spec: Callable[..., SourceSpec], make_http: Callable[..., HttpClient]
) -> Callable[[], ClicRdvConnector]:
    def make() -> ClicRdvConnector:
        spec = make_spec("clicrdv", httpserver.url_for("/"), auth_header="", token="k3y", config=CONFIG)
        return ClicRdvConnector(spec, http=make_http(spec))

    return make


def serve(httpserver: HTTPServer, body: str) -> None:
    httpserver.clear()
    httpserver.expect_request(PATH).respond_with_data(body, content_type="application/json")


bad_rows = st.one_of(
    st.none() | st.booleans() | st.integers() | st.lists(json_values, max_size=2),
    bad_datetime_texts,
    st.builds(lambda value: {"start": value}, bad_datetime_texts | st.integers() | st.none()),
)


@property_settings(25, http=True)
@given(st.lists(st.tuples(st.booleans(), st.booleans(), iso_datetimes, bad_rows), max_size=8))
def test_every_time_slot_is_read_or_counted(
    httpserver: HTTPServer,
    connector: Callable[[], ClicRdvConnector],
    picks: list[tuple[bool, bool, tuple[str, dt.datetime], Any]],
) -> None:
    rows: list[Any] = []
    expected, bad = set(), 0
    for is_good, as_object, (text, value), bad_row in picks:
        if is_good:
            rows.append({"start": text, "intervention_id": 4021} if as_object else text)
            if (starts_at := expected_start(value)) is not None:
                expected.add(starts_at)
        else:
            rows.append(bad_row)
            bad += 1
    serve(httpserver, json.dumps({"availabletimeslots": rows}))

    with connector() as clicrdv:
        result = clicrdv.fetch_slots(["clic-1"], start=START, end=END)
        again = clicrdv.fetch_slots(["clic-1"], start=START, end=END)

    assert_sane_slots(result, meeting_point_ids={"clic-1"})
    # Both calendars get the same answer: each row is read (or counted) once per calendar.
    assert result.parse_errors == 2 * bad
    assert {slot.starts_at for slot in result.slots} == expected
    assert comparable(again) == comparable(result)


@property_settings(25, http=True)
@given(json_values | st.fixed_dictionaries({"availabletimeslots": st.lists(json_values, max_size=5)}))
def test_any_json_answer_gives_sane_slots_or_a_connector_error(
    httpserver: HTTPServer, connector: Callable[[], ClicRdvConnector], payload: Any
) -> None:
    serve(httpserver, json.dumps(payload))

    with connector() as clicrdv:
        result = fetch_or_error(lambda: clicrdv.fetch_slots(["clic-1"], start=START, end=END))
        again = fetch_or_error(lambda: clicrdv.fetch_slots(["clic-1"], start=START, end=END))

    if result is not None:
        assert_sane_slots(result, meeting_point_ids={"clic-1"})
    assert comparable(again) == comparable(result)
