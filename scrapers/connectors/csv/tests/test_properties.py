"""Property-based tests of the CSV connector: files written by the csv module from generated rows read back
through a real HTTP server, and any text served as a file."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from communes.france import PARIS
from scrapers.connectors.base import SourceSpec
from scrapers.connectors.csv.connector import KNOWN_COLUMNS, CsvConnector
from scrapers.fetching.http import HttpClient
from scrapers.tests.properties import (
    END,
    START,
    assert_sane_slots,
    comparable,
    expected_start,
    fetch_or_error,
    property_settings,
    slot_minutes,
)

TOWN_HALLS = {
    "clichy": {"name": "Mairie de Clichy", "booking_url": "https://clichy.example/rdv"},
    "grenoble": {"name": "Mairie de Grenoble"},
}
REASONS = ["CNI", "PASSPORT"]
PATH = "/opendata/creneaux.csv"

# The reason cell, and the reasons it stands for.
reason_cells = st.sampled_from(
    [
        ("CNI", ["CNI"]),
        ("passport", ["PASSPORT"]),
        ("Passeport", ["PASSPORT"]),
        ("CNI-PASSEPORT", ["CNI-PASSPORT"]),
        ("cni+passport", ["CNI-PASSPORT"]),
        ("", REASONS),
    ]
)
date_formats = st.sampled_from(["%Y-%m-%d", "%d/%m/%Y"])
good_rows = st.builds(
    lambda town_hall, value, date_format, reason, people, url: (
        {
            "town_hall_id": town_hall,
            "date": f"{value:{date_format}}",
            "time": f"{value:%H:%M}",
            "reason": reason[0],
            "people_max": people,
            "booking_url": url,
        },
        town_hall,
        value,
        reason[1],
    ),
    st.sampled_from(list(TOWN_HALLS)),
    slot_minutes,
    date_formats,
    reason_cells,
    st.sampled_from(["", "1", "20", " 3 "]),
    st.sampled_from(["", "https://clichy.example/creneau/1", 'http://x.example/a;b,c"d']),
)
# What makes a row unreadable, put in one cell of a good row.
spoilers = st.sampled_from(
    [
        ("town_hall_id", "lyon"),
        ("date", "2026-02-30"),
        ("date", "1 décembre"),
        ("date", ""),
        ("time", "9h"),
        ("time", "25:00"),
        ("time", ""),
        ("reason", "RDV"),
        ("people_max", "0"),
        ("people_max", "21"),
        ("people_max", "deux"),
        ("people_max", "²"),
        ("booking_url", "javascript:alert(1)"),
    ]
)


@pytest.fixture
def connector(
    httpserver: HTTPServer, make_spec: Callable[..., SourceSpec], make_http: Callable[..., HttpClient]
) -> Callable[[], CsvConnector]:
    def make() -> CsvConnector:
        spec = make_spec(
            "csv", httpserver.url_for(PATH), config={"town_halls": TOWN_HALLS, "reasons": REASONS}
        )
        return CsvConnector(spec, http=make_http(spec))

    return make


def serve(httpserver: HTTPServer, body: str) -> None:
    httpserver.clear()
    httpserver.expect_request(PATH).respond_with_data(body.encode(), content_type="text/csv; charset=utf-8")


@property_settings(30, http=True)
@given(
    st.lists(st.tuples(good_rows, st.none() | spoilers), max_size=8),
    st.sampled_from([",", ";"]),
    st.sampled_from(["", "\ufeff"]),
    st.sampled_from(["\r\n", "\n"]),
)
def test_every_row_written_is_read_or_counted(
    httpserver: HTTPServer,
    connector: Callable[[], CsvConnector],
    rows: list[tuple[tuple[dict[str, str], str, dt.datetime, list[str]], tuple[str, str] | None]],
    delimiter: str,
    bom: str,
    line_end: str,
) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=KNOWN_COLUMNS, delimiter=delimiter, lineterminator=line_end)
    writer.writeheader()
    expected: set[tuple[str, dt.datetime, str]] = set()
    bad = 0
    for (row, town_hall, value, reasons), spoiler in rows:
        if spoiler:
            writer.writerow({**row, spoiler[0]: spoiler[1]})
            bad += 1
        else:
            writer.writerow(row)
            if (starts_at := expected_start(value)) is not None:
                expected |= {(town_hall, starts_at, reason) for reason in reasons}
    serve(httpserver, bom + out.getvalue())

    with connector() as reader:
        result = reader.fetch_slots(list(TOWN_HALLS), start=START, end=END)
        again = reader.fetch_slots(list(TOWN_HALLS), start=START, end=END)

    assert_sane_slots(result, meeting_point_ids=set(TOWN_HALLS))
    assert result.covered == set(TOWN_HALLS)
    assert result.parse_errors == bad
    assert {(slot.meeting_point_id, slot.starts_at, slot.reason) for slot in result.slots} == expected
    assert all(slot.starts_at.tzinfo is PARIS for slot in result.slots)
    assert comparable(again) == comparable(result)


csv_cells = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=12)
csv_texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.lists(csv_cells | st.sampled_from(list(KNOWN_COLUMNS)), max_size=7), max_size=6).map(
        lambda rows: "\n".join(",".join(row) for row in rows)
    ),
    st.lists(csv_cells, max_size=6).map(lambda cells: "date;time;reason\n" + "\n".join(cells)),
)


@property_settings(40, http=True)
@given(csv_texts)
# A stray quote in the header row: csv.Error escaped before any row was read.
@example('"date,time\n')
@example('date,"time"x\n2026-12-01,09:00\n')
def test_any_text_gives_sane_slots_or_a_connector_error(
    httpserver: HTTPServer, connector: Callable[[], CsvConnector], text: str
) -> None:
    serve(httpserver, text)

    with connector() as reader:
        result = fetch_or_error(lambda: reader.fetch_slots(list(TOWN_HALLS), start=START, end=END))
        again = fetch_or_error(lambda: reader.fetch_slots(list(TOWN_HALLS), start=START, end=END))

    if result is not None:
        assert_sane_slots(result, meeting_point_ids=set(TOWN_HALLS))
    assert comparable(again) == comparable(result)
