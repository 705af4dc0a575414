"""The CSV open-data connector against a real HTTP server serving files in the documented layout."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pytest_httpserver import HTTPServer

from scrapers.connectors.base import SourceSpec
from scrapers.connectors.csv.connector import CsvConnector
from scrapers.fetching.errors import ConnectorError
from scrapers.fetching.http import HttpClient

PARIS = ZoneInfo("Europe/Paris")
TOWN_HALLS = {
    "clichy": {"name": "Mairie de Clichy", "booking_url": "https://clichy.example/rdv"},
    "grenoble": {"name": "Mairie de Grenoble", "website": "https://grenoble.example"},
}
DECEMBER = {"start": dt.date(2026, 12, 1), "end": dt.date(2026, 12, 31)}


@pytest.fixture
def connector(
    httpserver: HTTPServer, make_spec: Callable[..., SourceSpec], make_http: Callable[..., HttpClient]
) -> Callable[..., CsvConnector]:
    def make(**config: Any) -> CsvConnector:
        config.setdefault("town_halls", TOWN_HALLS)
        spec = make_spec("csv", httpserver.url_for("/opendata/creneaux.csv"), config=config)
        return CsvConnector(spec, http=make_http(spec))

    return make


@pytest.fixture
def serve(httpserver: HTTPServer, fixture_text) -> Callable[..., None]:
    def serve(name: str, content_type: str = "text/csv") -> None:
        httpserver.expect_request("/opendata/creneaux.csv").respond_with_data(
            fixture_text(f"csv/{name}").encode(), content_type=content_type
        )

    return serve


def test_it_discovers_every_configured_town_hall(connector) -> None:
    points = connector().discover()

    assert [(p.external_id, p.name) for p in points] == [
        ("clichy", "Mairie de Clichy"),
        ("grenoble", "Mairie de Grenoble"),
    ]


@pytest.mark.parametrize("name", ["slots_comma.csv", "slots_semicolon_bom.csv"])
def test_it_reads_the_documented_layout(connector, serve, name: str) -> None:
    serve(name)

    result = connector(reasons=["CNI", "PASSPORT"]).fetch_slots(["clichy", "grenoble"], **DECEMBER)

    assert [
        (s.meeting_point_id, s.starts_at, s.reason, s.people_max, s.booking_url) for s in result.slots
    ] == [
        (
            "clichy",
            dt.datetime(2026, 12, 1, 9, 0, tzinfo=PARIS),
            "CNI",
            2,
            "https://rdv.ville-clichy.example/creneau/123",
        ),
        ("clichy", dt.datetime(2026, 12, 1, 9, 30, tzinfo=PARIS), "CNI", None, "https://clichy.example/rdv"),
        (
            "clichy",
            dt.datetime(2026, 12, 1, 9, 30, tzinfo=PARIS),
            "PASSPORT",
            None,
            "https://clichy.example/rdv",
        ),
        (
            "grenoble",
            dt.datetime(2026, 12, 2, 10, 0, tzinfo=PARIS),
            "PASSPORT",
            1,
            "https://grenoble.example",
        ),
        (
            "grenoble",
            dt.datetime(2026, 12, 2, 10, 30, tzinfo=PARIS),
            "CNI-PASSPORT",
            None,
            "https://grenoble.example/rdv/2",
        ),
    ]
    assert result.covered == {"clichy", "grenoble"}
    assert result.parse_errors == 0


def test_it_returns_only_the_requested_town_halls(connector, serve) -> None:
    serve("slots_comma.csv")

    result = connector().fetch_slots(["grenoble", "unknown"], **DECEMBER)

    assert {s.meeting_point_id for s in result.slots} == {"grenoble"}
    assert result.covered == {"grenoble"}


def test_a_single_town_hall_file_needs_no_town_hall_column(httpserver: HTTPServer, connector) -> None:
    httpserver.expect_request("/opendata/creneaux.csv").respond_with_data(
        "date;time;reason\n2026-12-01;09:00;CNI\n", content_type="text/plain; charset=utf-8"
    )

    result = connector(town_halls=None, town_hall={"external_id": "th", "name": "Mairie"}).fetch_slots(
        ["th"], **DECEMBER
    )

    assert [(s.meeting_point_id, s.reason) for s in result.slots] == [("th", "CNI")]


def test_a_header_only_file_covers_the_town_halls_with_no_slot(connector, serve) -> None:
    serve("header_only.csv")

    result = connector().fetch_slots(["clichy", "grenoble"], **DECEMBER)

    assert result.slots == []
    assert result.covered == {"clichy", "grenoble"}


def test_it_skips_and_counts_rows_it_cannot_read(connector, serve) -> None:
    serve("bad_rows.csv")

    result = connector(reasons=["CNI"]).fetch_slots(["clichy"], **DECEMBER)

    assert [s.starts_at for s in result.slots] == [dt.datetime(2026, 12, 1, 9, 0, tzinfo=PARIS)]
    assert result.parse_errors == 6
    assert "1 row(s) skipped: unknown town_hall_id 'lyon'" in result.errors
    assert "1 row(s) skipped: unknown reason 'VISA'" in result.errors
    assert "1 row(s) skipped: time '9h' is not HH:MM" in result.errors


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "is empty"),
        ("id;jour;heure\n1;2026-12-01;09:00\n", "lacks the column\\(s\\) date, time"),
        ("date,time\n2026-12-01,09:00\n", "no town_hall_id column but the source configures 2 town halls"),
        (b"date,time\n\xff\xfe2026", "not valid UTF-8"),
        ('town_hall_id,date,time\nclichy,"2026-12-01"x,09:00\n', "not a readable CSV file \\(line 2\\)"),
    ],
)
def test_a_malformed_file_fails_the_fetch(
    httpserver: HTTPServer, connector, body: str | bytes, message: str
) -> None:
    httpserver.expect_request("/opendata/creneaux.csv").respond_with_data(body, content_type="text/csv")

    with pytest.raises(ConnectorError, match=message):
        connector().fetch_slots(["clichy"], **DECEMBER)
