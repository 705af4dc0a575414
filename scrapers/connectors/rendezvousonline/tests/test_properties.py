"""Property-based tests of the rendezvousonline connector: its week reader, and whole fetches served by a real
HTTP server with generated week answers."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from communes.france import PARIS
from scrapers.connectors.base import SourceSpec
from scrapers.connectors.rendezvousonline.connector import RendezvousOnlineConnector, _read_week
from scrapers.fetching.http import HttpClient
from scrapers.tests.properties import (
    END,
    START,
    assert_sane_slots,
    comparable,
    fetch_or_error,
    json_values,
    naive_minutes,
    property_settings,
    slot_minutes,
)

CONFIG = {
    "town_hall": {"external_id": "rvo-1", "name": "Mairie de Meaux"},
    "structure_id": 1234,
    "reason_ids": {"CNI": 51},
    "reasons": ["CNI"],
    "alias": "mairie-de-meaux",
    "motif": "cni-passeport",
    "max_weeks": 2,
}
BOOKING_URL = "https://rendezvousonline.fr/alias/mairie-de-meaux/service/cni-passeport"
WEEK_PATH = "/api-web/structures/1234/availabilities/week"

# One availability: (the item, the start it gives or None when hidden, whether it is unreadable).
availabilities = st.one_of(
    slot_minutes.map(lambda v: ({"start_at": v.isoformat(sep=" "), "is_visible": True}, v, False)),
    slot_minutes.map(lambda v: ({"start_at": v.isoformat(sep=" ")}, v, False)),
    slot_minutes.map(lambda v: ({"start_at": v.isoformat(sep=" "), "is_visible": False}, None, False)),
    json_values.filter(lambda value: not isinstance(value, dict)).map(lambda value: (value, None, True)),
    st.sampled_from(["", "2026-12-01", "2026-12-01T09:00:00", "01/12/2026 09:00:00", None, 7]).map(
        lambda value: ({"start_at": value}, None, True)
    ),
)
days = slot_minutes.map(lambda value: value.date())
# Entries no day can be read from, with how many errors each counts.
bad_entries = st.one_of(
    json_values.filter(lambda value: not isinstance(value, dict)),
    st.builds(
        lambda date: {"date": date, "availabilities": []},
        st.sampled_from(["", "2026-02-30", "12/01/2026", None, 2026.5, "demain"])
        | naive_minutes.filter(lambda v: v.year not in range(2000, 2200)).map(lambda v: v.date().isoformat()),
    ),
)


@property_settings(100)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("day"), days, st.lists(availabilities, max_size=4)),
            st.tuples(
                st.just("bad list"), days, st.sampled_from(["x", 1, {"start_at": "2026-12-01 09:00:00"}])
            ),
            st.tuples(st.just("bad entry"), bad_entries, st.none()),
        ),
        max_size=6,
    )
)
# The last day of a week answer in year 9999: the next week's date overflowed and failed the whole fetch.
@example([("bad entry", {"date": "9999-12-31", "availabilities": []}, None)])
def test_every_entry_of_a_week_is_read_or_counted(entries: list[tuple[str, Any, Any]]) -> None:
    payload: dict[str, Any] = {}
    expected_starts: list[dt.datetime] = []
    expected_days: list[dt.date] = []
    expected_errors = 0
    for index, (what, value, items) in enumerate(entries):
        if what == "day":
            payload[str(index)] = {
                "date": value.isoformat(),
                "availabilities": [item for item, _, _ in items],
            }
            expected_days.append(value)
            expected_starts += [start.replace(tzinfo=PARIS) for _, start, _ in items if start is not None]
            expected_errors += sum(unreadable for _, _, unreadable in items)
        elif what == "bad list":
            payload[str(index)] = {"date": value.isoformat(), "availabilities": items}
            expected_days.append(value)
            expected_errors += 1
        else:
            payload[str(index)] = value
            expected_errors += 1

    last_day, starts, errors = _read_week(payload)

    assert last_day == (max(expected_days) if expected_days else None)
    assert starts == expected_starts
    assert errors == expected_errors
    assert all(start.tzinfo is PARIS for start in starts)


@pytest.fixture
def connector(
    httpserver: HTTPServer, make_spec: Callable[..., SourceSpec], make_http: Callable[..., HttpClient]
) -> Callable[[], RendezvousOnlineConnector]:
    def make() -> RendezvousOnlineConnector:
        spec = make_spec("rendezvousonline", httpserver.url_for("/api-web"), config=CONFIG, token="")
        return RendezvousOnlineConnector(spec, http=make_http(spec))

    return make


@property_settings(20, http=True)
@given(json_values | st.dictionaries(st.text(max_size=3), json_values | bad_entries, max_size=4))
@example({"0": {"date": "9999-12-31", "availabilities": []}})
def test_any_week_answer_gives_sane_slots_or_a_connector_error(
    httpserver: HTTPServer, connector: Callable[[], RendezvousOnlineConnector], payload: Any
) -> None:
    httpserver.clear()
    httpserver.expect_request("/api-web/auth/session").respond_with_json({"session_id": "s-1"})
    httpserver.expect_request("/api-web/availabilities/unlock", method="PUT").respond_with_json({})
    httpserver.expect_request(WEEK_PATH).respond_with_data(
        json.dumps(payload), content_type="application/json"
    )

    with connector() as rvo:
        result = fetch_or_error(lambda: rvo.fetch_slots(["rvo-1"], start=START, end=END))
        again = fetch_or_error(lambda: rvo.fetch_slots(["rvo-1"], start=START, end=END))

    if result is not None:
        assert_sane_slots(result, meeting_point_ids={"rvo-1"})
        assert all(slot.booking_url == BOOKING_URL for slot in result.slots)
    assert comparable(again) == comparable(result)
