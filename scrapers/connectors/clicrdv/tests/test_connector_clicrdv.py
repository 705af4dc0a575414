"""The ClicRDV connector against a real HTTP server replaying payloads of the observed shape."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pytest_httpserver import HTTPServer

from scrapers.connectors import get_connector
from scrapers.connectors.base import SourceSpec
from scrapers.connectors.clicrdv.connector import ClicRdvConnector
from scrapers.fetching.errors import ConnectorError
from scrapers.fetching.http import HttpClient

PARIS = ZoneInfo("Europe/Paris")
KEY = "w1dg3t-k3y/value"
TOWN_HALL = {"external_id": "clic-1", "name": "Mairie de Vannes", "postcode": "56000", "insee": "56260"}
CONFIG = {
    "town_hall": TOWN_HALL,
    "group_id": 117,
    "interventions": {"CNI": 4021, "PASSPORT": 4022},
    "calendar_ids": [5512],
    "booking_url": "https://www.clicrdv.com/mairie-de-vannes",
}
DECEMBER = {"start": dt.date(2026, 12, 1), "end": dt.date(2026, 12, 31)}
PATH = "/api/v2/availabletimeslots"


@pytest.fixture
def connector(
    httpserver: HTTPServer, make_spec: Callable[..., SourceSpec], make_http: Callable[..., HttpClient]
) -> Callable[..., ClicRdvConnector]:
    def make(config: dict[str, Any] | None = None, **spec: Any) -> ClicRdvConnector:
        values = {"auth_header": "", "token": KEY, "config": {**CONFIG, **(config or {})}, **spec}
        source = make_spec("clicrdv", httpserver.url_for("/"), **values)
        return ClicRdvConnector(source, http=make_http(source))

    return make


def serve(httpserver: HTTPServer, fixture_text: Callable[[str], str], name: str) -> None:
    httpserver.expect_request(PATH).respond_with_data(
        fixture_text(f"clicrdv/{name}"), content_type="application/json; charset=utf-8"
    )


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=PARIS)


def test_it_asks_each_reason_and_reads_naive_paris_times(httpserver, connector, fixture_text) -> None:
    serve(httpserver, fixture_text, "availabletimeslots.json")

    result = connector().fetch_slots(["clic-1"], **DECEMBER)

    queries = [request.args.to_dict() for request, _ in httpserver.log]
    assert queries == [
        {
            "group_id": "117",
            "appointments[0][intervention_id]": intervention,
            "appointments[0][calendar_id]": "5512",
            "start": "2026-12-01 00:00:00",
            "end": "2026-12-31 23:59:59",
            "apikey": KEY,
        }
        for intervention in ("4021", "4022")
    ]
    assert "X-HUB-RDV-AUTH-TOKEN" not in httpserver.log[0][0].headers
    assert [(s.starts_at, s.reason) for s in result.slots] == [
        (at(3, 9), "CNI"),
        (at(3, 9), "PASSPORT"),
        (at(3, 9, 15), "CNI"),
        (at(3, 9, 15), "PASSPORT"),
        (at(10, 14, 30), "CNI"),
        (at(10, 14, 30), "PASSPORT"),
    ]
    assert {(s.meeting_point_id, s.people_max, s.booking_url) for s in result.slots} == {
        ("clic-1", None, "https://www.clicrdv.com/mairie-de-vannes")
    }
    assert (result.covered, result.errors, result.parse_errors, result.http_calls) == ({"clic-1"}, [], 0, 2)


def test_it_reads_a_list_of_plain_strings(httpserver, connector, fixture_text) -> None:
    serve(httpserver, fixture_text, "availabletimeslots_strings.json")

    result = connector({"interventions": {"CNI": 4021}}).fetch_slots(["clic-1"], **DECEMBER)

    assert [s.starts_at for s in result.slots] == [at(4, 10), at(4, 10, 15)]


def test_an_empty_answer_covers_the_town_hall_with_no_slot(httpserver, connector, fixture_text) -> None:
    serve(httpserver, fixture_text, "availabletimeslots_empty.json")

    result = connector().fetch_slots(["clic-1"], **DECEMBER)

    assert (result.slots, result.covered, result.errors) == ([], {"clic-1"}, [])


def test_it_counts_unreadable_time_slots_and_keeps_the_others(httpserver, connector, fixture_text) -> None:
    serve(httpserver, fixture_text, "availabletimeslots_malformed.json")

    result = connector({"interventions": {"CNI": 4021}}).fetch_slots(["clic-1"], **DECEMBER)

    assert [s.starts_at for s in result.slots] == [at(3, 9)]
    assert result.parse_errors == 5
    assert result.errors == ["5 time slot(s) could not be read and were skipped"]


def test_it_drops_slots_outside_the_window(httpserver, connector, fixture_text) -> None:
    serve(httpserver, fixture_text, "availabletimeslots_out_of_window.json")

    result = connector({"interventions": {"CNI": 4021}}).fetch_slots(["clic-1"], **DECEMBER)

    assert [s.starts_at for s in result.slots] == [at(1, 8, 30), at(31, 17, 45)]


def test_a_slot_offered_by_two_calendars_is_one_slot(httpserver, connector, fixture_text) -> None:
    serve(httpserver, fixture_text, "availabletimeslots_strings.json")

    result = connector({"interventions": {"CNI": 4021}, "calendar_ids": [5512, 5513]}).fetch_slots(
        ["clic-1"], **DECEMBER
    )

    assert [request.args["appointments[0][calendar_id]"] for request, _ in httpserver.log] == ["5512", "5513"]
    assert [s.starts_at for s in result.slots] == [at(4, 10), at(4, 10, 15)]


def test_a_town_hall_not_asked_for_sends_no_request(httpserver, connector) -> None:
    result = connector().fetch_slots(["other"], **DECEMBER)

    assert (result.slots, result.covered, httpserver.log) == ([], set(), [])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '{"slots": []}',
            "must return an object with an 'availabletimeslots' list, got an object with keys slots",
        ),
        ("[]", "got list"),
        ('{"availabletimeslots": [', "invalid JSON"),
    ],
)
def test_a_malformed_answer_fails_the_fetch(httpserver, connector, body: str, message: str) -> None:
    httpserver.expect_request(PATH).respond_with_data(body, content_type="application/json")

    with pytest.raises(ConnectorError, match=message):
        connector().fetch_slots(["clic-1"], **DECEMBER)


def test_a_refused_key_fails_the_fetch_without_showing_it(
    httpserver, connector, fixture_text, caplog
) -> None:
    httpserver.expect_request(PATH).respond_with_data(
        fixture_text("clicrdv/error_invalid_apikey.json"), status=403, content_type="application/json"
    )
    caplog.set_level(logging.DEBUG, logger="scrapers")

    with pytest.raises(ConnectorError, match="HTTP 403") as excinfo:
        connector().fetch_slots(["clic-1"], **DECEMBER)

    logged = [r.getMessage() for r in caplog.records if r.name.startswith("scrapers")]
    assert logged  # the client logged the request, with the key redacted
    assert "apikey=[redacted]" in str(excinfo.value)
    for text in [str(excinfo.value), *logged]:
        assert KEY not in text
        assert "w1dg3t-k3y%2Fvalue" not in text


def test_a_source_without_a_widget_key_is_refused(httpserver, connector) -> None:
    with pytest.raises(ConnectorError, match="needs its widget key as the source's token"):
        connector(token="").fetch_slots(["clic-1"], **DECEMBER)

    assert httpserver.log == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"group_id": "abc"}, "config.group_id: must be a whole number"),
        ({"interventions": {}}, "config.interventions: must map CNI, PASSPORT, CNI-PASSPORT"),
        ({"interventions": {"PASSEPORT": 1}}, "config.interventions: unknown reasons \\['PASSEPORT'\\]"),
        ({"calendar_ids": []}, "config.calendar_ids: "),
        ({"booking_url": "javascript:alert(1)"}, "config.booking_url: must be an absolute http\\(s\\) URL"),
        ({"reasons": ["CNI-PASSPORT"]}, "config.interventions: has no id for the configured reasons"),
    ],
)
def test_a_config_that_does_not_fit_names_the_option(make_spec, config: dict[str, Any], message: str) -> None:
    spec = make_spec("clicrdv", "https://www.clicrdv.com", config={**CONFIG, **config})

    with pytest.raises(ConnectorError, match=message):
        get_connector(spec)


def test_a_single_calendar_id_is_read_as_a_list(make_spec) -> None:
    spec = make_spec("clicrdv", "https://www.clicrdv.com", config={**CONFIG, "calendar_ids": 5512})

    with get_connector(spec) as connector:
        assert connector.config.calendar_ids == ["5512"]
