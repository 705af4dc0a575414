"""The ANTS editor API connector against a real HTTP server replaying spec-shaped payloads."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from scrapers.connectors import get_connector
from scrapers.connectors.ants.connector import AntsConnector, display_city, parse_ants_datetime
from scrapers.connectors.base import SourceSpec
from scrapers.fetching.errors import ConnectorError
from scrapers.fetching.http import HttpClient

PARIS = ZoneInfo("Europe/Paris")
DECEMBER = {"start": dt.date(2026, 12, 1), "end": dt.date(2026, 12, 31)}
TOKEN = "s3cr3t-t0ken-value"
IDS = ["92024", "38185-centre", "93014"]


@pytest.fixture
def connector(
    httpserver: HTTPServer, make_spec: Callable[..., SourceSpec], make_http: Callable[..., HttpClient]
) -> Callable[..., AntsConnector]:
    def make(config: dict[str, Any] | None = None, max_documents: int = 1, **http: Any) -> AntsConnector:
        spec = make_spec("ants", httpserver.url_for("/api"), config=config or {}, max_documents=max_documents)
        return AntsConnector(spec, http=make_http(spec, **http))

    return make


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, content_type="application/json")


def query(request: Request) -> dict[str, list[str]]:
    return parse_qs(request.query_string.decode())


def test_it_discovers_meeting_points(httpserver: HTTPServer, connector, fixture_json) -> None:
    httpserver.expect_request(
        "/api/getManagedMeetingPoints", headers={"X-HUB-RDV-AUTH-TOKEN": TOKEN}
    ).respond_with_json(fixture_json("ants/getManagedMeetingPoints.json"))

    points = connector().discover()

    assert [p.external_id for p in points] == IDS
    clichy, grenoble, clichy_sous_bois = points
    assert clichy.name == "Mairie de Clichy"
    assert clichy.address == "80 boulevard Jean-Jaurès"
    assert (clichy.postcode, clichy.city) == ("92110", "Clichy")
    assert (clichy.lat, clichy.lon) == (48.9028, 2.3048)
    assert clichy.website == "https://www.ville-clichy.fr"
    assert grenoble.address == "11 boulevard Jean-Pain"
    assert (grenoble.lat, grenoble.lon) == (45.1866, 5.7363)
    assert clichy_sous_bois.city == "Clichy-sous-Bois"
    assert clichy_sous_bois.address == "Place du 11 Novembre 1918"


def test_it_skips_unusable_meeting_points(httpserver: HTTPServer, connector) -> None:
    httpserver.expect_request("/api/getManagedMeetingPoints").respond_with_json(
        [{"id": 1, "name": "Mairie A", "zip_code": "75001"}, {"name": "no id"}, "junk", {"id": 2, "name": ""}]
    )

    points = connector().discover()

    assert [p.external_id for p in points] == ["1"]


def test_it_discovers_nothing_from_an_empty_list(httpserver: HTTPServer, connector) -> None:
    httpserver.expect_request("/api/getManagedMeetingPoints").respond_with_json([])

    assert connector().discover() == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"id": 1', "invalid JSON"),
        ('{"id": 1}', "must return a JSON list, got dict"),
        ('[{"name": "no id"}]', "no usable meeting point"),
    ],
)
def test_it_refuses_a_malformed_meeting_point_list(
    httpserver: HTTPServer, connector, body: str, message: str
) -> None:
    httpserver.expect_request("/api/getManagedMeetingPoints").respond_with_data(
        body, content_type="application/json"
    )

    with pytest.raises(ConnectorError, match=message):
        connector().discover()


def test_it_fetches_slots_with_repeated_meeting_point_ids(
    httpserver: HTTPServer, connector, fixture_json
) -> None:
    httpserver.expect_request("/api/availableTimeSlots").respond_with_json(
        fixture_json("ants/availableTimeSlots.json")
    )

    result = connector(config={"reasons": ["CNI"]}).fetch_slots(IDS, **DECEMBER)

    request = httpserver.log[0][0]
    raw_query = request.query_string.decode()
    assert "meeting_point_ids=92024&meeting_point_ids=38185-centre&meeting_point_ids=93014" in raw_query
    assert "%5B" not in raw_query and "[" not in raw_query
    assert query(request) == {
        "meeting_point_ids": IDS,
        "start_date": ["2026-12-01"],
        "end_date": ["2026-12-31"],
        "reason": ["CNI"],
        "documents_number": ["1"],
    }
    assert request.headers["X-HUB-RDV-AUTH-TOKEN"] == TOKEN
    assert result.covered == set(IDS)
    assert result.errors == []
    assert result.http_calls == 1
    assert result.bytes_received > 0
    assert [(s.meeting_point_id, s.starts_at, s.reason, s.people_max) for s in result.slots] == [
        ("38185-centre", dt.datetime(2026, 12, 3, 10, 30, tzinfo=PARIS), "CNI", 1),
        ("92024", dt.datetime(2026, 12, 1, 9, 0, tzinfo=PARIS), "CNI", 1),
        ("92024", dt.datetime(2026, 12, 1, 9, 20, tzinfo=PARIS), "CNI", 1),
        ("92024", dt.datetime(2026, 12, 2, 14, 0, tzinfo=PARIS), "CNI", 1),
    ]
    assert result.slots[1].booking_url == "https://rdv.example-editor.fr/clichy/creneau/20261201-0900"


def test_a_z_datetime_is_paris_wall_clock_time() -> None:
    starts_at = parse_ants_datetime("2026-12-01T09:00Z")

    assert starts_at.astimezone(PARIS).strftime("%H:%M") == "09:00"
    assert starts_at.astimezone(dt.UTC) == dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        ("2026-07-01T09:00Z", dt.datetime(2026, 7, 1, 7, 0, tzinfo=dt.UTC)),  # summer time
        ("2026-12-01T09:00:00+01:00", dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)),
        ("2026-12-01T09:00:00+0000", dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)),  # an offset is exact
        ("2026-12-01T09:00:00", dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)),
    ],
)
def test_it_reads_every_datetime_format(raw: str, utc: dt.datetime) -> None:
    assert parse_ants_datetime(raw) == utc


@pytest.mark.parametrize("raw", ["01/12/2026 09:00", "2026-12-01", "2026-12-01T25:00Z", "", None, 1733040000])
def test_it_refuses_unreadable_datetimes(raw: Any) -> None:
    with pytest.raises(ValueError):
        parse_ants_datetime(raw)


def test_it_titles_upper_case_city_names() -> None:
    assert display_city("SAINT-DENIS") == "Saint-Denis"
    assert display_city("L'HAY-LES-ROSES") == "L'Hay-les-Roses"
    assert display_city("Villefranche-sur-Saône") == "Villefranche-sur-Saône"


def test_it_asks_every_reason_and_people_count_and_keeps_the_largest(
    httpserver: HTTPServer, connector
) -> None:
    def handler(request: Request) -> Response:
        documents = int(query(request)["documents_number"][0])
        reason = query(request)["reason"][0]
        slots = [{"datetime": "2026-12-01T09:00Z", "callback_url": f"https://e.example/{reason}"}]
        if documents == 1:
            slots.append({"datetime": "2026-12-01T09:10Z", "callback_url": "https://e.example/solo"})
        if documents <= 2:
            slots.append({"datetime": "2026-12-01T09:20Z", "callback_url": "https://e.example/duo"})
        return json_response({"92024": slots} if reason != "CNI-PASSPORT" else {})

    httpserver.expect_request("/api/availableTimeSlots").respond_with_handler(handler)

    result = connector(max_documents=3).fetch_slots(["92024"], **DECEMBER)

    asked = {(query(r)["reason"][0], query(r)["documents_number"][0]) for r, _ in httpserver.log}
    assert asked == {(r, n) for r in ("CNI", "PASSPORT", "CNI-PASSPORT") for n in ("1", "2", "3")}
    people = {(s.reason, s.starts_at.strftime("%H:%M")): s.people_max for s in result.slots}
    assert people == {
        ("CNI", "09:00"): 3,
        ("CNI", "09:10"): 1,
        ("CNI", "09:20"): 2,
        ("PASSPORT", "09:00"): 3,
        ("PASSPORT", "09:10"): 1,
        ("PASSPORT", "09:20"): 2,
    }
    assert result.http_calls == 9
    assert {s.booking_url for s in result.slots if s.starts_at.minute == 0} == {
        "https://e.example/CNI",
        "https://e.example/PASSPORT",
    }


def test_it_asks_only_the_configured_reasons(httpserver: HTTPServer, connector) -> None:
    httpserver.expect_request("/api/availableTimeSlots").respond_with_json({})

    connector(config={"reasons": ["PASSPORT"]}).fetch_slots(["92024"], **DECEMBER)

    assert [query(r)["reason"] for r, _ in httpserver.log] == [["PASSPORT"]]


def test_it_refuses_an_unknown_configured_reason(connector) -> None:
    with pytest.raises(ConnectorError, match="unknown values \\['PASSEPORT'\\]"):
        connector(config={"reasons": ["PASSEPORT"]}).fetch_slots(["92024"], **DECEMBER)


def test_empty_lists_cover_every_meeting_point_with_no_slot(httpserver: HTTPServer, connector) -> None:
    httpserver.expect_request("/api/availableTimeSlots").respond_with_json({mp: [] for mp in IDS})

    result = connector(config={"reasons": ["CNI"]}).fetch_slots(IDS, **DECEMBER)

    assert result.slots == []
    assert result.covered == set(IDS)


def test_meeting_points_missing_from_every_answer_are_not_covered(httpserver: HTTPServer, connector) -> None:
    # An editor answering {} for 9 of 10 batches once gave a "success" run that deleted 90 % of the slots.
    def handler(request: Request) -> Response:
        ids = query(request)["meeting_point_ids"]
        return json_response({mp: [] for mp in ids if mp == "92024"})

    httpserver.expect_request("/api/availableTimeSlots").respond_with_handler(handler)

    result = connector(config={"reasons": ["CNI", "PASSPORT"], "batch_size": 2}).fetch_slots(IDS, **DECEMBER)

    assert result.covered == {"92024"}
    assert any("missing from every answer, their slots kept" in error for error in result.errors)


def test_a_meeting_point_in_one_answer_of_its_batch_is_covered(httpserver: HTTPServer, connector) -> None:
    def handler(request: Request) -> Response:
        ids = query(request)["meeting_point_ids"]
        return json_response({mp: [] for mp in ids} if query(request)["reason"] == ["CNI"] else {})

    httpserver.expect_request("/api/availableTimeSlots").respond_with_handler(handler)

    result = connector(config={"reasons": ["CNI", "PASSPORT"]}).fetch_slots(IDS, **DECEMBER)

    assert result.covered == set(IDS)


def test_it_keeps_other_batches_when_one_fails(httpserver: HTTPServer, connector) -> None:
    def handler(request: Request) -> Response:
        ids = query(request)["meeting_point_ids"]
        if "3" in ids:
            return Response("upstream database down", status=500, content_type="text/plain")
        return json_response({mp: [{"datetime": "2026-12-01T09:00Z", "callback_url": ""}] for mp in ids})

    httpserver.expect_request("/api/availableTimeSlots").respond_with_handler(handler)

    result = connector(config={"batch_size": 2, "reasons": ["CNI"]}).fetch_slots(
        ["1", "2", "3", "4", "5"], **DECEMBER
    )

    assert [query(r)["meeting_point_ids"] for r, _ in httpserver.log] == [["1", "2"], ["3", "4"], ["5"]]
    assert result.covered == {"1", "2", "5"}
    assert {s.meeting_point_id for s in result.slots} == {"1", "2", "5"}
    assert len(result.errors) == 1
    assert "meeting point(s) 3, 4" in result.errors[0]
    assert "HTTP 500: upstream database down" in result.errors[0]


def test_it_fails_when_every_batch_fails(httpserver: HTTPServer, connector) -> None:
    httpserver.expect_request("/api/availableTimeSlots").respond_with_data("boom", status=500)

    with pytest.raises(ConnectorError, match="HTTP 500: boom"):
        connector(config={"reasons": ["CNI"]}).fetch_slots(["1", "2"], **DECEMBER)


def test_it_skips_unreadable_slots_and_counts_them(httpserver: HTTPServer, connector, fixture_json) -> None:
    httpserver.expect_request("/api/availableTimeSlots").respond_with_json(
        fixture_json("ants/availableTimeSlots_malformed_rows.json")
    )

    result = connector(config={"reasons": ["CNI"]}).fetch_slots(["92024"], **DECEMBER)

    assert [s.starts_at for s in result.slots] == [dt.datetime(2026, 12, 1, 9, 0, tzinfo=PARIS)]
    assert result.parse_errors == 4
    assert result.covered == {"92024"}
    assert result.errors == ["4 slot(s) could not be read and were skipped"]


def test_it_drops_slots_outside_the_window(httpserver: HTTPServer, connector) -> None:
    httpserver.expect_request("/api/availableTimeSlots").respond_with_json(
        {
            "1": [
                {"datetime": "2026-11-30T23:30Z"},
                {"datetime": "2026-12-31T23:30Z"},
                {"datetime": "2027-01-01T00:00Z"},
            ]
        }
    )

    result = connector(config={"reasons": ["CNI"]}).fetch_slots(["1"], **DECEMBER)

    assert [s.starts_at for s in result.slots] == [dt.datetime(2026, 12, 31, 23, 30, tzinfo=PARIS)]


@pytest.mark.parametrize(
    ("fixture", "content_type", "message"),
    [
        ("ants/error_401.txt", "text/plain", "HTTP 401: Unauthorized"),
        (
            "ants/error_401.json",
            "application/json",
            "HTTP 401: X-HUB-RDV-AUTH-TOKEN header missing or invalid",
        ),
    ],
)
def test_it_reports_an_authentication_failure(
    httpserver: HTTPServer, connector, fixture_text, fixture: str, content_type: str, message: str
) -> None:
    httpserver.expect_request("/api/availableTimeSlots").respond_with_data(
        fixture_text(fixture), status=401, content_type=content_type
    )

    with pytest.raises(ConnectorError) as excinfo:
        # A 401 stops the whole fetch: the other batches would fail the same way.
        connector(config={"batch_size": 1, "reasons": ["CNI"]}).fetch_slots(["1", "2"], **DECEMBER)

    assert message in str(excinfo.value)
    assert TOKEN not in str(excinfo.value)
    assert len(httpserver.log) == 1


@pytest.mark.parametrize(
    ("fixture", "status", "message"),
    [
        ("ants/error_400_invalid_reason.json", 400, "HTTP 400: Invalid reason param"),
        ("ants/error_400_dates.json", 400, "HTTP 400: start_date is after end_date"),
        (
            "ants/error_422.json",
            422,
            "HTTP 422: start_date: invalid date format; documents_number: ensure this value is greater",
        ),
    ],
)
def test_it_reports_editor_error_bodies_precisely(
    httpserver: HTTPServer, connector, fixture_text, fixture: str, status: int, message: str
) -> None:
    httpserver.expect_request("/api/availableTimeSlots").respond_with_data(
        fixture_text(fixture), status=status, content_type="application/json"
    )

    with pytest.raises(ConnectorError, match="availableTimeSlots for meeting point\\(s\\) 1") as excinfo:
        connector(config={"reasons": ["CNI"]}).fetch_slots(["1"], **DECEMBER)

    assert message in str(excinfo.value)
    assert "(/api/availableTimeSlots)" in str(excinfo.value)


def test_it_drops_an_unknown_meeting_point_and_asks_again(
    httpserver: HTTPServer, connector, fixture_text
) -> None:
    def handler(request: Request) -> Response:
        ids = query(request)["meeting_point_ids"]
        if "99999" in ids:
            return Response(fixture_text("ants/error_404_unknown_meeting_point.txt"), status=404)
        return json_response({mp: [{"datetime": "2026-12-01T09:00Z"}] for mp in ids})

    httpserver.expect_request("/api/availableTimeSlots").respond_with_handler(handler)

    result = connector(config={"reasons": ["CNI"]}).fetch_slots(["92024", "99999", "93014"], **DECEMBER)

    assert [query(r)["meeting_point_ids"] for r, _ in httpserver.log] == [
        ["92024", "99999", "93014"],
        ["92024", "93014"],
    ]
    assert result.covered == {"92024", "93014"}
    assert len(result.slots) == 2
    assert result.errors == [
        "meeting point 99999: unknown to the editor "
        "(HTTP 404: Unknown Meeting Point ID : 99999 (/api/availableTimeSlots))"
    ]


def test_a_meeting_point_whose_slots_are_not_a_list_is_not_covered(httpserver: HTTPServer, connector) -> None:
    httpserver.expect_request("/api/availableTimeSlots").respond_with_json(
        {"1": {"datetime": "2026-12-01T09:00Z"}, "2": [{"datetime": "2026-12-01T10:00Z"}]}
    )

    result = connector(config={"reasons": ["CNI"]}).fetch_slots(["1", "2"], **DECEMBER)

    assert result.covered == {"2"}
    assert [s.meeting_point_id for s in result.slots] == ["2"]
    assert "meeting point 1: slots must be a list, got dict" in result.errors


def test_the_registry_builds_an_ants_connector_with_its_own_client(
    httpserver: HTTPServer, make_spec, fixture_json
) -> None:
    httpserver.expect_request(
        "/api/getManagedMeetingPoints", headers={"X-Editor-Key": "k-123"}
    ).respond_with_json(fixture_json("ants/getManagedMeetingPoints.json"))
    spec = make_spec("ants", httpserver.url_for("/api/"), auth_header="X-Editor-Key", token="k-123")

    connector = get_connector(spec)

    assert isinstance(connector, AntsConnector)
    assert len(connector.discover()) == 3
    assert connector.http.calls == 1
