"""Property-based tests of the HTML connector: its datetime reader (French names, ISO 8601, patterns), and
pages built from generated fragments read through a real HTTP server."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from communes.france import PARIS
from scrapers.connectors.base import SourceSpec
from scrapers.connectors.html.connector import HtmlConnector, parse_datetime
from scrapers.fetching.http import HttpClient
from scrapers.tests.properties import (
    END,
    START,
    assert_sane_slots,
    bad_datetime_texts,
    comparable,
    expected_start,
    fetch_or_error,
    in_slot_years,
    iso_datetimes,
    property_settings,
    slot_minutes,
)

MONTHS = [
    *("janvier", "février", "mars", "avril", "mai", "juin"),
    *("juillet", "août", "septembre", "octobre", "novembre", "décembre"),
]
DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
FRENCH_FORMAT = "%A %d %B %Y à %Hh%M"
TOWN_HALL = {"external_id": "stgenis", "name": "Mairie de Saint-Genis"}
PATH = "/rdv/agenda"


def french(value: dt.datetime, *, case: Callable[[str], str], first: bool) -> str:
    """The datetime as a town hall's page writes it: "mardi 1er décembre 2026 à 09h30"."""
    day = "1er" if first and value.day == 1 else str(value.day)
    weekday, month = case(DAYS[value.weekday()]), case(MONTHS[value.month - 1])
    return f"{weekday} {day} {month} {value.year} à {value:%Hh%M}"


@property_settings(150)
@given(slot_minutes, st.sampled_from([str, str.capitalize, str.upper]), st.booleans())
def test_french_dates_read_back_as_paris_wall_clock(
    value: dt.datetime, case: Callable[[str], str], first: bool
) -> None:
    parsed = parse_datetime(french(value, case=case, first=first), date_format=FRENCH_FORMAT)

    assert parsed.tzinfo is PARIS and parsed.replace(tzinfo=None) == value


@property_settings(100)
@given(iso_datetimes, st.text(max_size=10).map(lambda text: text.replace("2", "")))
def test_a_pattern_cuts_an_iso_datetime_out_of_any_text(
    text_and_value: tuple[str, dt.datetime], noise: str
) -> None:
    text, value = text_and_value
    pattern = re.compile(r"(\d{4}-\d\d-\d\d[T ][\d:.]+(?:Z|[+-]\d\d:\d\d)?)")

    parsed = parse_datetime(f"Créneau {noise} : {text} (libre)", date_format="", pattern=pattern)

    assert parsed == (value if value.tzinfo else value.replace(tzinfo=PARIS))


@property_settings(200)
@given(
    st.text(max_size=40) | bad_datetime_texts,
    st.sampled_from(["", FRENCH_FORMAT, "%d/%m/%Y à %H:%M", "%Y-%m-%d %H:%M%z", "%d %b %Y"]),
    st.sampled_from([None, r"(\d.*)", r"(\d+)?h", r"\d+"]),
)
# An optional group that did not match gave None to strptime: TypeError.
@example("h", "%d/%m/%Y à %H:%M", r"(\d+)?h")
# An offset pushing year 9999 past Python's range: OverflowError when compared with the window.
@example("9999-12-31 23:59-2300", "%Y-%m-%d %H:%M%z", None)
def test_any_text_is_a_datetime_or_a_value_error(text: str, date_format: str, pattern: str | None) -> None:
    try:
        parsed = parse_datetime(
            text, date_format=date_format, pattern=re.compile(pattern) if pattern else None
        )
    except ValueError:
        return
    assert parsed.utcoffset() is not None and in_slot_years(parsed)
    parsed.astimezone(PARIS)  # converting never overflows


@pytest.fixture
def connector(
    httpserver: HTTPServer, make_spec: Callable[..., SourceSpec], make_http: Callable[..., HttpClient]
) -> Callable[..., HtmlConnector]:
    def make(**config: Any) -> HtmlConnector:
        spec = make_spec(
            "html", httpserver.url_for(PATH), config={"town_hall": TOWN_HALL, "reasons": ["CNI"], **config}
        )
        return HtmlConnector(spec, http=make_http(spec))

    return make


def serve(httpserver: HTTPServer, body: str) -> None:
    httpserver.clear()
    httpserver.expect_request(PATH).respond_with_data(body, content_type="text/html; charset=utf-8")


hrefs = st.sampled_from(
    [
        "",
        "/rdv/reserver?id=1",
        "https://rdv.example/1",
        "javascript:alert(1)",
        "http://[oops/",
        "mailto:x@y.fr",
    ]
)


@property_settings(30, http=True)
@given(st.lists(st.tuples(st.booleans(), slot_minutes, st.text(max_size=15), hrefs), max_size=8))
# A link to an unbalanced IPv6 host: urljoin raised ValueError and the whole fetch failed.
@example([(True, dt.datetime(2026, 12, 2, 9, 0), "", "http://[oops/")])
def test_every_slot_element_is_read_or_counted(
    httpserver: HTTPServer,
    connector: Callable[..., HtmlConnector],
    items: list[tuple[bool, dt.datetime, str, str]],
) -> None:
    fragments, expected, bad = [], set(), 0
    for readable, value, junk, href in items:
        text = french(value, case=str, first=True) if readable else "Complet " + junk
        inner = (
            f'<a href="{html.escape(href)}">{html.escape(text)}</a>'
            if href
            else f"<span>{html.escape(text)}</span>"
        )
        fragments.append(f'<li class="creneau">{inner}</li>')
        if not readable:
            bad += 1
        elif (starts_at := expected_start(value)) is not None:
            expected.add(starts_at)
    serve(httpserver, f"<!doctype html><html><body><ul>{''.join(fragments)}</ul></body></html>")

    with connector(slot_selector="li.creneau", date_format=FRENCH_FORMAT, link_selector="a[href]") as page:
        result = page.fetch_slots(["stgenis"], start=START, end=END)
        again = page.fetch_slots(["stgenis"], start=START, end=END)

    assert_sane_slots(result, meeting_point_ids={"stgenis"})
    assert result.parse_errors == bad
    assert {slot.starts_at for slot in result.slots} == expected
    assert comparable(again) == comparable(result)


html_fragments = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["<li class='creneau'>", "</li>", "<a href='", "'>", "<time datetime='", "<!--", "<![CDATA["]
    ),
    iso_datetimes.map(lambda text_and_value: text_and_value[0]),
)


@property_settings(40, http=True)
@given(st.lists(html_fragments, max_size=10).map("".join))
def test_any_page_gives_sane_slots_or_a_connector_error(
    httpserver: HTTPServer, connector: Callable[..., HtmlConnector], body: str
) -> None:
    serve(httpserver, body)

    with connector(slot_selector="li.creneau", link_selector="a") as page:
        result = fetch_or_error(lambda: page.fetch_slots(["stgenis"], start=START, end=END))
        again = fetch_or_error(lambda: page.fetch_slots(["stgenis"], start=START, end=END))

    if result is not None:
        assert_sane_slots(result, meeting_point_ids={"stgenis"})
    assert comparable(again) == comparable(result)
