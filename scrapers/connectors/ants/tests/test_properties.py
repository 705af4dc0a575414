"""Property-based tests of the ANTS connector: its datetime and address parsers, and whole fetches served by a
real HTTP server with generated bodies."""

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
from scrapers.connectors.ants.connector import AntsConnector, clean_address, display_city, parse_ants_datetime
from scrapers.connectors.base import SourceSpec
from scrapers.fetching.http import HttpClient
from scrapers.tests.properties import (
    END,
    START,
    assert_sane_points,
    assert_sane_slots,
    comparable,
    expected_start,
    fetch_or_error,
    in_slot_years,
    iso_texts,
    json_values,
    naive_minutes,
    offsets,
    property_settings,
    slot_minutes,
)

IDS = ["92024", "38185-centre"]


def _offset_text(tz: dt.timezone, *, colon: bool) -> str:
    minutes = int(tz.utcoffset(None).total_seconds() // 60)
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    return f"{sign}{minutes // 60:02d}{':' if colon else ''}{minutes % 60:02d}"


@property_settings(200)
@given(st.text(max_size=40) | naive_minutes.flatmap(iso_texts).map(lambda text: text + "Z"))
def test_any_text_is_a_datetime_or_a_value_error(text: str) -> None:
    try:
        parsed = parse_ants_datetime(text)
    except ValueError:
        return
    assert parsed.utcoffset() is not None
    assert in_slot_years(parsed)


@property_settings(150)
@given(
    naive_minutes.flatmap(lambda value: st.tuples(st.just(value), iso_texts(value))),
    st.sampled_from(["Z", ""]),
)
@example((dt.datetime(9999, 12, 31, 23, 59), "9999-12-31T23:59"), "Z")
def test_z_and_no_offset_mean_paris_wall_clock(value_and_text: tuple[dt.datetime, str], suffix: str) -> None:
    value, text = value_and_text
    if not in_slot_years(value):
        with pytest.raises(ValueError):
            parse_ants_datetime(text + suffix)
        return

    parsed = parse_ants_datetime(text + suffix)

    assert parsed.tzinfo is PARIS
    assert parsed.replace(tzinfo=None) == value


@property_settings(150)
@given(naive_minutes, offsets, st.booleans())
# An offset pushing year 1 or 9999 out of Python's range made the window check raise OverflowError.
@example(dt.datetime(1, 1, 1, 0, 0), dt.timezone(dt.timedelta(hours=23)), True)
@example(dt.datetime(9999, 12, 31, 23, 59), dt.timezone(-dt.timedelta(hours=23)), False)
def test_an_explicit_offset_is_exact(value: dt.datetime, tz: dt.timezone, colon: bool) -> None:
    text = value.isoformat(timespec="minutes") + _offset_text(tz, colon=colon)
    if not in_slot_years(value):
        with pytest.raises(ValueError):
            parse_ants_datetime(text)
        return

    parsed = parse_ants_datetime(text)

    assert parsed == value.replace(tzinfo=tz) and parsed.utcoffset() == tz.utcoffset(None)
    parsed.astimezone(PARIS)  # converting never overflows


@property_settings(150)
@given(st.text(max_size=40))
def test_display_city_is_idempotent_and_keeps_the_letters(name: str) -> None:
    shown = display_city(name)

    assert display_city(shown) == shown
    assert shown == " ".join(shown.split())
    if name != name.upper():  # a name in mixed case is the editor's own spelling
        assert shown == " ".join(name.split())


city_names = st.lists(
    st.sampled_from(["CLICHY", "Saint-Denis", "sous", "BOIS", "L'Haÿ", "les", "Roses", "d'Hères"]),
    min_size=1,
    max_size=4,
).map(" ".join)
streets = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéè ABCDEFGHIJK,;-'0123456789", max_size=40)


@property_settings(150)
@given(
    streets,
    st.text(alphabet="0123456789", min_size=5, max_size=5),
    city_names,
    st.sampled_from([" ", ", ", " - ", "  "]),
)
def test_clean_address_drops_the_repeated_postcode_and_city(
    street: str, zip_code: str, city: str, separator: str
) -> None:
    if zip_code in street:
        return
    address = f"{street}{separator}{zip_code} {city}"

    cleaned = clean_address(address, zip_code, city)

    assert zip_code not in cleaned
    assert cleaned == clean_address(street, "", "")
    assert cleaned == cleaned.rstrip(" ,;-").lstrip(" ,;")


@pytest.fixture
def connector(
    httpserver: HTTPServer, make_spec: Callable[..., SourceSpec], make_http: Callable[..., HttpClient]
) -> Callable[[], AntsConnector]:
    def make() -> AntsConnector:
        spec = make_spec("ants", httpserver.url_for("/api"), config={"reasons": ["CNI"]})
        return AntsConnector(spec, http=make_http(spec))

    return make


def serve(httpserver: HTTPServer, path: str, body: str) -> None:
    httpserver.clear()
    httpserver.expect_request(path).respond_with_data(body, content_type="application/json")


# A readable slot row: (the row, the datetime it gives).
good_rows = st.builds(
    lambda value, zone, text_of, url: (
        {"datetime": text_of(value) + zone[0], "callback_url": url},
        value.replace(tzinfo=zone[1]) if zone[1] else value,
    ),
    slot_minutes,
    st.sampled_from(
        [
            ("Z", None),
            ("", None),
            ("+01:00", dt.timezone(dt.timedelta(hours=1))),
            ("-0330", dt.timezone(-dt.timedelta(hours=3, minutes=30))),
        ]
    ),
    st.sampled_from([lambda v: v.isoformat(timespec="minutes"), lambda v: v.isoformat(sep=" ")]),
    st.sampled_from(["", "https://rdv.example/slot/1", "http://rdv.example/slot/2"]),
)
# An unreadable one: not an object, no datetime, an unknown format, a year out of range, a non-web link.
bad_rows = st.one_of(
    json_values.filter(lambda value: not isinstance(value, dict)),
    st.dictionaries(st.sampled_from(["date", "callback_url", "id"]), json_values, max_size=2),
    st.builds(lambda text: {"datetime": text}, st.sampled_from(["", "2026-12-01", "01/12/2026 09:00", "9h"])),
    st.builds(
        lambda value: {"datetime": value}, st.integers() | st.floats() | st.lists(st.integers(), max_size=2)
    ),
    st.builds(
        lambda value, tz: {"datetime": value.isoformat() + tz},
        naive_minutes.filter(lambda value: not in_slot_years(value)),
        st.sampled_from(["Z", "+23:00", "-23:59", ""]),
    ),
    st.builds(
        lambda url: {"datetime": "2026-12-02T10:00Z", "callback_url": url},
        st.sampled_from(["javascript:alert(1)", "ftp://x.example/", "/relative", 42, ["x"]]),
    ),
)


@property_settings(25, http=True)
@given(st.lists(st.tuples(st.sampled_from(IDS), st.booleans(), good_rows, bad_rows), max_size=8))
# Year 1 with an offset east of UTC: the window check raised OverflowError and the whole fetch failed.
@example([(IDS[0], False, ({}, dt.datetime(2026, 12, 1)), {"datetime": "0001-01-01T00:00+23:00"})])
def test_every_slot_row_is_read_or_counted(
    httpserver: HTTPServer, connector: Callable[[], AntsConnector], picks: list[tuple[str, bool, Any, Any]]
) -> None:
    payload: dict[str, list[Any]] = {mp: [] for mp in IDS}
    expected: set[tuple[str, dt.datetime]] = set()
    bad = 0
    for mp, is_good, (good_row, value), bad_row in picks:
        if is_good:
            payload[mp].append(good_row)
            if (starts_at := expected_start(value)) is not None:
                expected.add((mp, starts_at))
        else:
            payload[mp].append(bad_row)
            bad += 1
    serve(httpserver, "/api/availableTimeSlots", json.dumps(payload))

    with connector() as ants:
        result = ants.fetch_slots(IDS, start=START, end=END)
        again = ants.fetch_slots(IDS, start=START, end=END)

    assert_sane_slots(result, meeting_point_ids=set(IDS))
    assert result.covered == set(IDS)
    assert result.parse_errors == bad
    assert {(slot.meeting_point_id, slot.starts_at) for slot in result.slots} == expected
    assert comparable(again) == comparable(result)


@property_settings(25, http=True)
@given(json_values | st.fixed_dictionaries({}, optional=dict.fromkeys(IDS, json_values)))
def test_any_json_answer_gives_sane_slots_or_a_connector_error(
    httpserver: HTTPServer, connector: Callable[[], AntsConnector], payload: Any
) -> None:
    serve(httpserver, "/api/availableTimeSlots", json.dumps(payload))

    with connector() as ants:
        result = fetch_or_error(lambda: ants.fetch_slots(IDS, start=START, end=END))
        again = fetch_or_error(lambda: ants.fetch_slots(IDS, start=START, end=END))

    if result is not None:
        assert_sane_slots(result, meeting_point_ids=set(IDS))
    assert comparable(again) == comparable(result)


meeting_point_rows = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"id": st.integers(min_value=1) | st.text(min_size=1, max_size=10), "name": st.text(max_size=20)},
        optional={
            "public_entry_address": json_values,
            "zip_code": json_values,
            "city_name": json_values,
            "latitude": json_values,
            "longitude": json_values,
            "website": st.sampled_from(["https://mairie.example", "javascript:x", "", "http://[::1"])
            | json_values,
        },
    ),
)


@property_settings(25, http=True)
@given(st.lists(meeting_point_rows, max_size=6) | json_values)
def test_discovery_gives_sane_meeting_points_or_a_connector_error(
    httpserver: HTTPServer, connector: Callable[[], AntsConnector], payload: Any
) -> None:
    serve(httpserver, "/api/getManagedMeetingPoints", json.dumps(payload))

    with connector() as ants:
        points = fetch_or_error(ants.discover)
        again = fetch_or_error(ants.discover)

    if points is not None:
        assert_sane_points(points)
        assert len(points) <= (len(payload) if isinstance(payload, list) else 0)
    assert again == points
