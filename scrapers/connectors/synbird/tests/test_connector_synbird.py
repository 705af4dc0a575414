"""The Synbird connector against a real HTTP server replaying observed payloads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pytest_httpserver import HTTPServer

from scrapers.connectors.base import SourceSpec
from scrapers.connectors.synbird.connector import SynbirdConnector
from scrapers.fetching.errors import ConnectorError
from scrapers.fetching.http import HttpClient

PARIS = ZoneInfo("Europe/Paris")
TOWN_HALL = {"external_id": "syn-1", "name": "Mairie d'Annecy", "postcode": "74000", "insee": "74010"}
CONFIG = {
    "town_hall": TOWN_HALL,
    "company_id": 812,
    "place_id": "pl-3",
    "prestation_ids": {"CNI": 11, "PASSPORT": 12},
    "slug": "mairie-annecy",
}
DECEMBER = {"start": dt.date(2026, 12, 1), "end": dt.date(2026, 12, 31)}
PATH = "/v6/pro/company/getSlotsFor"


@pytest.fixture
def connector(
    httpserver: HTTPServer, make_spec: Callable[..., SourceSpec], make_http: Callable[..., HttpClient]
) -> Callable[..., SynbirdConnector]:
    def make(config: dict[str, Any] | None = None) -> SynbirdConnector:
        spec = make_spec("synbird", httpserver.url_for("/"), config={**CONFIG, **(config or {})})
        return SynbirdConnector(spec, http=make_http(spec))

    return make


def test_it_posts_one_request_per_reason_and_reads_time_slots(
    httpserver: HTTPServer, connector, fixture_json
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json(fixture_json("synbird/getSlotsFor.json"))

    result = connector().fetch_slots(["syn-1"], **DECEMBER)

    bodies = [request.get_json() for request, _ in httpserver.log]
    assert bodies == [
        {
            "company_id": "812",
            "prestation_id": "11",
            "place_id": "pl-3",
            "start_date": "2026-12-01",
            "end_date": "2026-12-31",
        },
        {
            "company_id": "812",
            "prestation_id": "12",
            "place_id": "pl-3",
            "start_date": "2026-12-01",
            "end_date": "2026-12-31",
        },
    ]
    cni = [s for s in result.slots if s.reason == "CNI"]
    assert [s.starts_at for s in cni] == [
        dt.datetime(2026, 12, 1, 9, 0, tzinfo=PARIS),
        dt.datetime(2026, 12, 1, 9, 20, tzinfo=PARIS),
        dt.datetime(2026, 12, 4, 9, 0, tzinfo=PARIS),  # 08:00Z is exact here: 09:00 in Paris
        dt.datetime(2026, 12, 5, 10, 0, tzinfo=PARIS),  # no offset: Paris time
    ]
    assert len(result.slots) == 8
    assert {s.people_max for s in result.slots} == {None}
    assert {s.booking_url for s in result.slots} == {"https://app.synbird.com/mairie-annecy"}
    assert result.covered == {"syn-1"}


def test_it_merges_extra_body_fields(httpserver: HTTPServer, connector) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json({"timeSlots": []})

    connector({"prestation_ids": {"CNI": 11}, "extra_body": {"nb_persons": 1}}).fetch_slots(
        ["syn-1"], **DECEMBER
    )

    assert httpserver.log[0][0].get_json()["nb_persons"] == 1


def test_it_counts_unreadable_time_slots(httpserver: HTTPServer, connector, fixture_json) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json(
        fixture_json("synbird/getSlotsFor_malformed.json")
    )

    result = connector({"prestation_ids": {"CNI": 11}}).fetch_slots(["syn-1"], **DECEMBER)

    assert [s.starts_at for s in result.slots] == [dt.datetime(2026, 12, 1, 9, 0, tzinfo=PARIS)]
    assert result.parse_errors == 4
    assert result.errors == ["4 time slot(s) could not be read and were skipped"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"slots": []}', "must return an object with a 'timeSlots' list, got an object with keys slots"),
        ("[]", "got list"),
        ('{"timeSlots": [', "invalid JSON"),
    ],
)
def test_a_malformed_answer_fails_the_fetch(
    httpserver: HTTPServer, connector, body: str, message: str
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_data(body, content_type="application/json")

    with pytest.raises(ConnectorError, match=message):
        connector().fetch_slots(["syn-1"], **DECEMBER)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"company_id": None}, "company_id"),
        ({"place_id": ""}, "place_id"),
        ({"prestation_ids": []}, "prestation_ids"),
    ],
)
def test_it_refuses_an_incomplete_config(connector, config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConnectorError, match=message):
        connector(config).fetch_slots(["syn-1"], **DECEMBER)
