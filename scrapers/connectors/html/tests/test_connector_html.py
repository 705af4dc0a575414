"""The HTML page connector against a real HTTP server serving booking pages."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pytest_httpserver import HTTPServer

from scrapers.connectors.base import SourceSpec
from scrapers.connectors.html.connector import HtmlConnector, parse_datetime
from scrapers.fetching.errors import ConnectorError
from scrapers.fetching.http import HttpClient

PARIS = ZoneInfo("Europe/Paris")
TOWN_HALL = {"external_id": "stgenis", "name": "Mairie de Saint-Genis"}
DECEMBER = {"start": dt.date(2026, 12, 1), "end": dt.date(2026, 12, 31)}
LIST_CONFIG = {"slot_selector": "li.creneau", "date_format": "%d/%m/%Y à %H:%M", "reasons": ["CNI"]}


@pytest.fixture
def connector(
    httpserver: HTTPServer, make_spec: Callable[..., SourceSpec], make_http: Callable[..., HttpClient]
) -> Callable[..., HtmlConnector]:
    def make(**config: Any) -> HtmlConnector:
        spec = make_spec("html", httpserver.url_for("/rdv/agenda"), config={"town_hall": TOWN_HALL, **config})
        return HtmlConnector(spec, http=make_http(spec))

    return make


@pytest.fixture
def serve(httpserver: HTTPServer, fixture_text) -> Callable[[str], None]:
    def serve(name: str) -> None:
        httpserver.expect_request("/rdv/agenda").respond_with_data(
            fixture_text(f"html/{name}"), content_type="text/html; charset=utf-8"
        )

    return serve


def test_it_reads_slot_texts_with_the_configured_format(httpserver: HTTPServer, connector, serve) -> None:
    serve("booking_page.html")

    result = connector(**LIST_CONFIG, link_selector="a[href]").fetch_slots(["stgenis"], **DECEMBER)

    site = f"http://127.0.0.1:{httpserver.port}"
    assert [(s.starts_at, s.booking_url) for s in result.slots] == [
        (dt.datetime(2026, 12, 1, 9, 0, tzinfo=PARIS), f"{site}/rdv/reserver?id=101"),
        (dt.datetime(2026, 12, 1, 9, 30, tzinfo=PARIS), f"{site}/rdv/reserver?id=102"),
        (dt.datetime(2026, 12, 3, 14, 15, tzinfo=PARIS), f"{site}/rdv/agenda"),  # no link: the page
    ]
    # "Complet" is not a date: counted, never echoed as HTML.
    assert result.parse_errors == 1
    assert result.errors == [
        "1 slot element(s) could not be read with date_format '%d/%m/%Y à %H:%M' and were skipped, "
        "e.g. 'Complet'"
    ]
    assert all("<" not in error for error in result.errors)


def test_it_reads_a_datetime_attribute(connector, serve) -> None:
    serve("booking_page.html")

    result = connector(slot_selector="table.semaine time", datetime_attribute="datetime").fetch_slots(
        ["stgenis"], **DECEMBER
    )

    assert sorted({s.starts_at for s in result.slots}) == [
        dt.datetime(2026, 12, 4, 10, 0, tzinfo=PARIS),
        dt.datetime(2026, 12, 5, 10, 0, tzinfo=PARIS),
    ]
    assert {s.reason for s in result.slots} == {"CNI", "PASSPORT", "CNI-PASSPORT"}


def test_it_reads_french_day_and_month_names(connector, serve) -> None:
    serve("booking_page.html")

    result = connector(
        slot_selector="table.semaine time", date_format="%A %d %B %Y à %Hh%M", reasons=["PASSPORT"]
    ).fetch_slots(["stgenis"], **DECEMBER)

    assert [s.starts_at for s in result.slots] == [
        dt.datetime(2026, 12, 4, 10, 0, tzinfo=PARIS),
        dt.datetime(2026, 12, 5, 10, 0, tzinfo=PARIS),
    ]
    assert result.parse_errors == 0


def test_a_datetime_pattern_cuts_the_date_out_of_a_longer_text() -> None:
    parsed = parse_datetime(
        "Mardi 1er décembre 2026 à 09h30 (2 places)",
        date_format="%A %d %B %Y à %Hh%M",
        pattern=re.compile(r"(\w+ 1er \w+ \d{4} à \d\dh\d\d)"),
    )

    assert parsed == dt.datetime(2026, 12, 1, 9, 30, tzinfo=PARIS)


def test_a_page_without_slots_covers_the_town_hall_with_no_slot(connector, serve) -> None:
    serve("no_slots.html")

    result = connector(**LIST_CONFIG, require_selector="#agenda").fetch_slots(["stgenis"], **DECEMBER)

    assert result.slots == []
    assert result.covered == {"stgenis"}


def test_a_redesigned_page_fails_instead_of_reporting_no_slot(connector, serve) -> None:
    serve("redesigned.html")

    with pytest.raises(ConnectorError, match="no element matching require_selector '#agenda'"):
        connector(**LIST_CONFIG, require_selector="#agenda").fetch_slots(["stgenis"], **DECEMBER)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"slot_selector": ""}, "config.slot_selector: is required"),
        ({"slot_selector": "li[["}, "invalid CSS selector"),
        ({"datetime_pattern": "(unclosed"}, "not a valid regular expression"),
    ],
)
def test_it_refuses_a_bad_config(connector, serve, config: dict[str, Any], message: str) -> None:
    serve("booking_page.html")

    with pytest.raises(ConnectorError, match=message):
        connector(**{**LIST_CONFIG, **config}).fetch_slots(["stgenis"], **DECEMBER)


def test_it_never_returns_the_page_itself(connector, serve) -> None:
    serve("booking_page.html")

    result = connector(**LIST_CONFIG).fetch_slots(["stgenis"], **DECEMBER)

    for value in [*(dataclasses.astuple(s) for s in result.slots), result.errors]:
        assert "<li" not in repr(value) and "<html" not in repr(value)
