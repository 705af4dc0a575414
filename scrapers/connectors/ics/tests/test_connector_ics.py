"""The iCalendar feed connector against a real HTTP server serving .ics files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pytest_httpserver import HTTPServer

from scrapers.connectors.base import SourceSpec
from scrapers.connectors.ics.connector import IcsConnector
from scrapers.fetching.errors import ConnectorError
from scrapers.fetching.http import HttpClient

PARIS = ZoneInfo("Europe/Paris")
TOWN_HALL = {"external_id": "clichy", "name": "Mairie de Clichy", "booking_url": "https://clichy.example/rdv"}
DECEMBER = {"start": dt.date(2026, 12, 1), "end": dt.date(2026, 12, 31)}


@pytest.fixture
def connector(
    httpserver: HTTPServer, make_spec: Callable[..., SourceSpec], make_http: Callable[..., HttpClient]
) -> Callable[..., IcsConnector]:
    def make(**config: Any) -> IcsConnector:
        spec = make_spec(
            "ics", httpserver.url_for("/creneaux.ics"), config={"town_hall": TOWN_HALL, **config}
        )
        return IcsConnector(spec, http=make_http(spec))

    return make


@pytest.fixture
def serve(httpserver: HTTPServer, fixture_text) -> Callable[[str], None]:
    def serve(name: str, content_type: str = "text/calendar; charset=utf-8") -> None:
        httpserver.expect_request("/creneaux.ics").respond_with_data(
            fixture_text(f"ics/{name}"), content_type=content_type
        )

    return serve


def test_it_reads_free_slots_in_every_time_form(connector, serve) -> None:
    serve("free_slots.ics")

    result = connector(reasons=["CNI"]).fetch_slots(["clichy"], **DECEMBER)

    assert [(s.starts_at, s.booking_url) for s in result.slots] == [
        (dt.datetime(2026, 12, 1, 9, 0, tzinfo=PARIS), "https://rdv.ville-clichy.example/creneau/1"),  # TZID
        (dt.datetime(2026, 12, 1, 14, 0, tzinfo=PARIS), "https://clichy.example/rdv"),  # 13:00 UTC
        (dt.datetime(2026, 12, 2, 10, 0, tzinfo=PARIS), "https://clichy.example/rdv"),  # floating: Paris
        (dt.datetime(2026, 12, 2, 11, 0, tzinfo=PARIS), "https://clichy.example/rdv"),
    ]
    assert result.covered == {"clichy"}
    assert result.parse_errors == 0


def test_it_filters_on_the_summary_and_skips_cancelled_events(connector, serve) -> None:
    serve("free_slots.ics")

    result = connector(reasons=["CNI"], summary_contains="créneau libre".replace("é", "e")).fetch_slots(
        ["clichy"], **DECEMBER
    )

    assert [s.starts_at.strftime("%d %H:%M") for s in result.slots] == ["01 09:00", "01 14:00", "02 10:00"]


def test_each_slot_is_offered_for_every_configured_reason(connector, serve) -> None:
    serve("free_slots.ics")

    result = connector(
        summary_contains="libre", people_max=2, booking_url="https://clichy.example/agenda"
    ).fetch_slots(["clichy"], start=dt.date(2026, 12, 2), end=dt.date(2026, 12, 2))

    assert [(s.reason, s.people_max, s.booking_url) for s in result.slots] == [
        ("CNI", 2, "https://clichy.example/agenda"),
        ("CNI-PASSPORT", 2, "https://clichy.example/agenda"),
        ("PASSPORT", 2, "https://clichy.example/agenda"),
    ]


def test_an_empty_calendar_covers_the_town_hall_with_no_slot(connector, serve) -> None:
    serve("empty.ics")

    result = connector().fetch_slots(["clichy"], **DECEMBER)

    assert result.slots == []
    assert result.covered == {"clichy"}


def test_it_counts_events_it_cannot_read(connector, serve) -> None:
    serve("malformed_events.ics")

    result = connector(reasons=["PASSPORT"]).fetch_slots(["clichy"], **DECEMBER)

    assert [s.starts_at for s in result.slots] == [dt.datetime(2026, 12, 1, 9, 0, tzinfo=PARIS)]
    assert result.parse_errors == 3
    assert result.errors == ["3 event(s) could not be read and were skipped"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("this is not a calendar", "is not a valid iCalendar file"),
        ("BEGIN:VEVENT\r\nDTSTART:20261201T090000\r\nEND:VEVENT\r\n", "does not contain a VCALENDAR"),
    ],
)
def test_a_malformed_feed_fails_the_fetch(httpserver: HTTPServer, connector, body: str, message: str) -> None:
    httpserver.expect_request("/creneaux.ics").respond_with_data(body, content_type="text/calendar")

    with pytest.raises(ConnectorError, match=message):
        connector().fetch_slots(["clichy"], **DECEMBER)


def test_it_refuses_a_bad_people_max(connector) -> None:
    with pytest.raises(ConnectorError, match="people_max"):
        connector(people_max="many").fetch_slots(["clichy"], **DECEMBER)
