"""Property-based tests of the iCalendar connector: feeds built from generated events read back through a real
HTTP server, and any text served as a feed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from communes.france import PARIS
from scrapers.connectors.base import SourceSpec
from scrapers.connectors.ics.connector import IcsConnector
from scrapers.fetching.http import HttpClient
from scrapers.tests.properties import (
    END,
    START,
    assert_sane_slots,
    comparable,
    expected_start,
    fetch_or_error,
    naive_minutes,
    property_settings,
    slot_minutes,
)

TOWN_HALL = {"external_id": "clichy", "name": "Mairie de Clichy", "booking_url": "https://clichy.example/rdv"}
PATH = "/creneaux.ics"
NEW_YORK = ZoneInfo("America/New_York")


def _stamp(value: dt.datetime) -> str:
    return f"{value.year:04d}{value:%m%dT%H%M%S}"


# A readable DTSTART line and the start it gives: floating (Paris), UTC, or in a named zone.
good_starts = st.builds(
    lambda value, zone: (
        {
            "floating": f"DTSTART:{_stamp(value)}",
            "utc": f"DTSTART:{_stamp(value)}Z",
            "paris": f"DTSTART;TZID=Europe/Paris:{_stamp(value)}",
            "new york": f"DTSTART;TZID=America/New_York:{_stamp(value)}",
        }[zone],
        value.replace(tzinfo={"floating": None, "utc": dt.UTC, "paris": PARIS, "new york": NEW_YORK}[zone]),
    ),
    slot_minutes,
    st.sampled_from(["floating", "utc", "paris", "new york"]),
)
# An event no slot can be read from: no DTSTART, a date only, a broken value, a year out of range.
bad_starts = st.one_of(
    st.sampled_from(["", "DTSTART;VALUE=DATE:20261201", "DTSTART:garbage", "DTSTART:20261201T250000"]),
    naive_minutes.filter(lambda value: value.year not in range(2000, 2200)).map(
        lambda value: f"DTSTART:{_stamp(value)}Z"
    ),
)
url_lines = st.sampled_from(["", "URL:https://clichy.example/creneau/1", "URL:javascript:alert(1)", "URL:/x"])


def calendar(events: list[list[str]]) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//rdvpasseport tests//FR"]
    for index, event in enumerate(events):
        lines += [
            "BEGIN:VEVENT",
            f"UID:slot-{index}@clichy.example",
            *[line for line in event if line],
            "END:VEVENT",
        ]
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


@pytest.fixture
def connector(
    httpserver: HTTPServer, make_spec: Callable[..., SourceSpec], make_http: Callable[..., HttpClient]
) -> Callable[[], IcsConnector]:
    def make() -> IcsConnector:
        spec = make_spec("ics", httpserver.url_for(PATH), config={"town_hall": TOWN_HALL, "reasons": ["CNI"]})
        return IcsConnector(spec, http=make_http(spec))

    return make


def serve(httpserver: HTTPServer, body: str) -> None:
    httpserver.clear()
    httpserver.expect_request(PATH).respond_with_data(body, content_type="text/calendar; charset=utf-8")


@property_settings(30, http=True)
@given(
    st.lists(
        st.tuples(st.sampled_from(["good", "bad", "cancelled"]), good_starts, bad_starts, url_lines),
        max_size=8,
    )
)
# Year 9999 just before midnight UTC is year 10000 in Paris: the window check raised OverflowError.
@example([("bad", ("", dt.datetime(2026, 12, 1)), "DTSTART:99991231T235900Z", "")])
def test_every_event_is_read_counted_or_skipped_when_cancelled(
    httpserver: HTTPServer,
    connector: Callable[[], IcsConnector],
    events: list[tuple[str, tuple[str, dt.datetime], str, str]],
) -> None:
    lines: list[list[str]] = []
    expected: set[dt.datetime] = set()
    bad = 0
    for what, (good_line, value), bad_line, url_line in events:
        if what == "good":
            lines.append([good_line, "SUMMARY:Créneau libre", url_line])
            if (starts_at := expected_start(value)) is not None:
                expected.add(starts_at)
        elif what == "cancelled":
            lines.append([good_line, "STATUS:CANCELLED", url_line])
        else:
            lines.append([bad_line, url_line])
            bad += 1
    serve(httpserver, calendar(lines))

    with connector() as feed:
        result = feed.fetch_slots(["clichy"], start=START, end=END)
        again = feed.fetch_slots(["clichy"], start=START, end=END)

    assert_sane_slots(result, meeting_point_ids={"clichy"})
    assert result.parse_errors == bad
    assert {slot.starts_at for slot in result.slots} == expected
    assert {slot.booking_url for slot in result.slots} <= {
        "https://clichy.example/creneau/1",
        TOWN_HALL["booking_url"],
    }
    assert comparable(again) == comparable(result)


ics_lines = st.one_of(
    st.sampled_from(
        ["BEGIN:VEVENT", "END:VEVENT", "DTSTART:20261202T100000", "STATUS:CANCELLED", "BEGIN:VTODO"]
    ),
    st.text(max_size=30).map(lambda text: "DTSTART:" + text),
    st.text(max_size=30),
)


@property_settings(40, http=True)
@given(st.text(max_size=200) | st.lists(ics_lines, max_size=8).map(lambda lines: calendar([lines])))
def test_any_text_gives_sane_slots_or_a_connector_error(
    httpserver: HTTPServer, connector: Callable[[], IcsConnector], text: str
) -> None:
    serve(httpserver, text)

    with connector() as feed:
        result = fetch_or_error(lambda: feed.fetch_slots(["clichy"], start=START, end=END))
        again = fetch_or_error(lambda: feed.fetch_slots(["clichy"], start=START, end=END))

    if result is not None:
        assert_sane_slots(result, meeting_point_ids={"clichy"})
    assert comparable(again) == comparable(result)
