"""The Citopia / rendezvousonline.fr connector against a real HTTP server replaying observed payloads."""

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

from scrapers.connectors.base import SourceSpec
from scrapers.connectors.rendezvousonline.connector import RendezvousOnlineConnector
from scrapers.fetching.errors import ConnectorError
from scrapers.fetching.http import HttpClient

PARIS = ZoneInfo("Europe/Paris")
TOWN_HALL = {
    "external_id": "rvo-1234",
    "name": "Mairie de Meaux",
    "address": "2 place de l'Hôtel de Ville",
    "postcode": "77100",
    "insee": "77284",
    "lat": 48.9601,
    "lon": 2.8788,
    "booking_url": "https://www.meaux.fr/rendez-vous",
}
CONFIG = {
    "town_hall": TOWN_HALL,
    "structure_id": 1234,
    "reason_ids": {"CNI": 51, "PASSPORT": 52},
    "reasons": ["CNI"],
    "alias": "mairie-de-meaux",
    "motif": "cni-passeport",
}
WEEK_PATH = "/api-web/structures/1234/availabilities/week"


@pytest.fixture
def connector(
    httpserver: HTTPServer, make_spec: Callable[..., SourceSpec], make_http: Callable[..., HttpClient]
) -> Callable[..., RendezvousOnlineConnector]:
    def make(config: dict[str, Any] | None = None, max_documents: int = 1) -> RendezvousOnlineConnector:
        spec = make_spec(
            "rendezvousonline",
            httpserver.url_for("/api-web"),
            config={**CONFIG, **(config or {})},
            max_documents=max_documents,
            token="",
        )
        return RendezvousOnlineConnector(spec, http=make_http(spec))

    return make


@pytest.fixture
def session(httpserver: HTTPServer, fixture_json) -> None:
    httpserver.expect_request("/api-web/auth/session").respond_with_json(
        fixture_json("rendezvousonline/session.json")
    )
    httpserver.expect_request(
        "/api-web/availabilities/unlock", method="PUT", json={"session_id": "a1b2c3d4e5f6"}
    ).respond_with_json(fixture_json("rendezvousonline/unlock.json"))


def week_params(request: Request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.query_string.decode()).items()}


def week_requests(httpserver: HTTPServer) -> list[dict[str, str]]:
    return [week_params(r) for r, _ in httpserver.log if r.path == WEEK_PATH]


def test_it_discovers_its_configured_town_hall(connector) -> None:
    (point,) = connector().discover()

    assert point.external_id == "rvo-1234"
    assert point.name == "Mairie de Meaux"
    assert (point.lat, point.lon) == (48.9601, 2.8788)
    assert point.insee == "77284"


def test_it_fetches_visible_slots_week_after_week(
    httpserver: HTTPServer, connector, session, fixture_json
) -> None:
    weeks = {
        "2026-12-01": fixture_json("rendezvousonline/week_2026-12-01.json"),
        "2026-12-08": fixture_json("rendezvousonline/week_2026-12-08.json"),
    }
    httpserver.expect_request(WEEK_PATH).respond_with_handler(
        lambda request: Response(
            json.dumps(weeks[week_params(request)["date"]]), content_type="application/json"
        )
    )

    result = connector().fetch_slots(["rvo-1234"], start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 10))

    assert week_requests(httpserver) == [
        {"session_id": "a1b2c3d4e5f6", "reasons": '{"51":1}', "date": "2026-12-01", "direction": "1"},
        {"session_id": "a1b2c3d4e5f6", "reasons": '{"51":1}', "date": "2026-12-08", "direction": "1"},
    ]
    assert [s.starts_at for s in result.slots] == [
        dt.datetime(2026, 12, 1, 9, 0, tzinfo=PARIS),
        dt.datetime(2026, 12, 3, 14, 30, tzinfo=PARIS),
        dt.datetime(2026, 12, 7, 10, 0, tzinfo=PARIS),
        dt.datetime(2026, 12, 8, 11, 45, tzinfo=PARIS),
    ]
    assert {s.reason for s in result.slots} == {"CNI"}
    assert {s.booking_url for s in result.slots} == {
        "https://rendezvousonline.fr/alias/mairie-de-meaux/service/cni-passeport"
    }
    assert result.covered == {"rvo-1234"}
    assert result.http_calls == 4


def test_it_asks_for_each_people_count_and_keeps_the_largest(
    httpserver: HTTPServer, connector, session
) -> None:
    def handler(request: Request) -> Response:
        people = json.loads(week_params(request)["reasons"])["51"]
        slots = [{"start_at": "2026-12-01 09:00:00", "is_visible": True}]
        if people == 1:
            slots.append({"start_at": "2026-12-01 09:15:00", "is_visible": True})
        return Response(
            json.dumps({"0": {"date": "2026-12-01", "availabilities": slots}}),
            content_type="application/json",
        )

    httpserver.expect_request(WEEK_PATH).respond_with_handler(handler)

    result = connector(max_documents=2).fetch_slots(
        ["rvo-1234"], start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 1)
    )

    assert [(s.starts_at.strftime("%H:%M"), s.people_max) for s in result.slots] == [
        ("09:00", 2),
        ("09:15", 1),
    ]


def test_it_asks_every_configured_reason_with_its_motif(httpserver: HTTPServer, connector, session) -> None:
    httpserver.expect_request(WEEK_PATH).respond_with_json(
        {
            "0": {
                "date": "2026-12-01",
                "availabilities": [{"start_at": "2026-12-01 09:00:00", "is_visible": True}],
            }
        }
    )
    config = {"reasons": None, "motifs": {"CNI": "cni", "PASSPORT": "passeport"}, "motif": None}

    result = connector(config).fetch_slots(["rvo-1234"], start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 1))

    assert [r["reasons"] for r in week_requests(httpserver)] == ['{"51":1}', '{"52":1}']
    assert [(s.reason, s.booking_url.rsplit("/", 1)[1]) for s in result.slots] == [
        ("CNI", "cni"),
        ("PASSPORT", "passeport"),
    ]


def test_without_alias_the_town_hall_booking_page_is_the_link(
    httpserver: HTTPServer, connector, session
) -> None:
    httpserver.expect_request(WEEK_PATH).respond_with_json(
        {
            "0": {
                "date": "2026-12-01",
                "availabilities": [{"start_at": "2026-12-01 09:00:00", "is_visible": True}],
            }
        }
    )

    result = connector({"alias": ""}).fetch_slots(
        ["rvo-1234"], start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 1)
    )

    assert result.slots[0].booking_url == "https://www.meaux.fr/rendez-vous"


def test_it_counts_unreadable_availabilities(
    httpserver: HTTPServer, connector, session, fixture_json
) -> None:
    httpserver.expect_request(WEEK_PATH).respond_with_json(
        fixture_json("rendezvousonline/week_malformed.json")
    )

    result = connector().fetch_slots(["rvo-1234"], start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 1))

    assert [s.starts_at for s in result.slots] == [dt.datetime(2026, 12, 1, 9, 0, tzinfo=PARIS)]
    assert result.parse_errors == 4
    assert result.errors == ["4 availabilities could not be read and were skipped"]


def test_a_refusal_message_fails_the_fetch(httpserver: HTTPServer, connector, session, fixture_json) -> None:
    httpserver.expect_request(WEEK_PATH).respond_with_json(fixture_json("rendezvousonline/week_refused.json"))

    with pytest.raises(ConnectorError, match="availabilities/week refused the request: Session expirée"):
        connector().fetch_slots(["rvo-1234"], start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 1))


@pytest.mark.parametrize(
    ("body", "message"), [('{"token": "x"}', "no session_id"), ("[1, 2", "invalid JSON")]
)
def test_a_malformed_session_fails_the_fetch(
    httpserver: HTTPServer, connector, body: str, message: str
) -> None:
    httpserver.expect_request("/api-web/auth/session").respond_with_data(
        body, content_type="application/json"
    )

    with pytest.raises(ConnectorError, match=message):
        connector().fetch_slots(["rvo-1234"], start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 1))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"structure_id": None}, "structure_id"),
        ({"reason_ids": {}}, "reason_ids"),
        ({"reason_ids": {"PASSPORT": 52}}, "no id for the configured reasons"),
        ({"town_hall": {"name": "no id"}}, "external_id"),
    ],
)
def test_it_refuses_an_incomplete_config(connector, config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConnectorError, match=message):
        connector(config).fetch_slots(["rvo-1234"], start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 1))


def test_it_asks_nothing_for_another_meeting_point(httpserver: HTTPServer, connector) -> None:
    result = connector().fetch_slots(["other"], start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 1))

    assert result.covered == set()
    assert httpserver.log == []
