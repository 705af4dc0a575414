"""Shared pieces of the connectors' property-based tests (`<kind>/tests/test_properties.py`).

What every connector promises whatever a source sends: it returns plain, sane data or raises ConnectorError
for the whole fetch; an item it cannot read is counted as a parse error and the rest is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from communes.france import PARIS
from scrapers.connectors.base import SLOT_YEARS, FetchResult, MeetingPointData, web_url
from scrapers.fetching.errors import ConnectorError
from slots.reasons import REASONS

T = TypeVar("T")

# The window every property test asks for, and days around it: slots just outside must be left out.
START, END = dt.date(2026, 12, 1), dt.date(2026, 12, 31)
NEAR_WINDOW = (dt.datetime(2026, 11, 29), dt.datetime(2027, 1, 2, 23, 59))


def property_settings(max_examples: int, *, http: bool = False) -> settings:
    """Few examples (the suite runs on a slow shared machine), no deadline, no example database on disk.

    With `http`, the test takes pytest-httpserver's function-scoped fixture and clears it each example.
    """
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture] if http else [],
    )


# JSON as a source may send it (NaN and Infinity included: Python's json reads them).
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)

# Offsets a datetime text may carry, up to the largest Python accepts.
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)
# Naive wall-clock times, whole minutes: mostly around the window, sometimes anywhere in Python's range.
naive_minutes = st.one_of(
    st.datetimes(min_value=NEAR_WINDOW[0], max_value=NEAR_WINDOW[1]),
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59)),
).map(lambda value: value.replace(second=0, microsecond=0))
# Naive times a slot may have (years 2000-2199, as SlotData requires), mostly around the window.
slot_minutes = st.one_of(
    st.datetimes(min_value=NEAR_WINDOW[0], max_value=NEAR_WINDOW[1]),
    st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2199, 12, 31, 23, 59)),
).map(lambda value: value.replace(second=0, microsecond=0))
aware_minutes = st.builds(lambda naive, tz: naive.replace(tzinfo=tz), naive_minutes, offsets | st.just(PARIS))


def iso_texts(value: dt.datetime) -> st.SearchStrategy[str]:
    """The ways a source writes this naive datetime in ISO 8601 (T or space, with or without seconds)."""
    ways = [("T", "seconds"), (" ", "seconds"), ("T", "minutes"), (" ", "minutes")]
    return st.sampled_from(ways).map(lambda way: value.isoformat(sep=way[0], timespec=way[1]))


# (text, value) of a readable ISO 8601 datetime: naive (Paris time), Z (UTC) or with an exact offset.
iso_datetimes = st.builds(
    lambda value, text_of, zone: (
        text_of(value) + zone[0],
        value.replace(tzinfo=zone[1]) if zone[1] else value,
    ),
    slot_minutes,
    st.sampled_from(
        [
            lambda value: value.isoformat(timespec="minutes"),
            lambda value: value.isoformat(sep=" "),
            lambda value: value.isoformat(timespec="microseconds"),
        ]
    ),
    st.sampled_from(
        [
            ("", None),
            ("Z", dt.UTC),
            ("+01:00", dt.timezone(dt.timedelta(hours=1))),
            ("-03:30", dt.timezone(-dt.timedelta(hours=3, minutes=30))),
        ]
    ),
)
# Texts that are no slot's datetime: junk, a date alone, a year out of range (with an offset, not convertible).
bad_datetime_texts = st.one_of(
    st.sampled_from(
        ["", " ", "2026-12-01", "01/12/2026 09:00", "9h00", "2026-13-01T09:00", "2026-12-01T25:00"]
    ),
    st.text(max_size=20).filter(lambda text: not text.strip()[:1].isdigit()),
    st.builds(
        lambda value, tz: value.isoformat() + tz,
        naive_minutes.filter(lambda value: value.year not in SLOT_YEARS),
        st.sampled_from(["Z", "+23:00", "-23:59", ""]),
    ),
)

# Links a source may give: web links, and what must never reach a citizen's href.
urls = st.one_of(
    st.just(""),
    st.sampled_from(["https://rdv.example/slot/1", "http://rdv.example/a?b=c", "HTTPS://RDV.EXAMPLE/x"]),
    st.sampled_from(
        ["javascript:alert(1)", "data:text/html,x", "/relative", "ftp://x.example/", "http://[::1"]
    ),
    st.text(max_size=20).map(lambda tail: "https://rdv.example/" + tail),
    st.text(max_size=30),
)


def in_slot_years(value: dt.datetime) -> bool:
    return value.year in SLOT_YEARS


def expected_start(value: dt.datetime) -> dt.datetime | None:
    """A slot's start as a connector must return it (naive is Paris time), or None outside the window."""
    starts_at = (value if value.tzinfo else value.replace(tzinfo=PARIS)).astimezone(PARIS)
    return starts_at if START <= starts_at.date() <= END else None


def fetch_or_error(fetch: Callable[[], T]) -> T | None:
    """The fetch's result, or None when it failed as a whole: any other exception fails the test."""
    try:
        return fetch()
    except ConnectorError:
        return None


def assert_sane_slots(result: FetchResult, *, meeting_point_ids: set[str]) -> None:
    """Every slot is aware, in Paris time, within the window, for a known reason, with a web link or none."""
    assert result.parse_errors >= 0
    assert result.covered <= meeting_point_ids
    for slot in result.slots:
        assert slot.meeting_point_id in result.covered
        assert slot.starts_at.tzinfo is PARIS and slot.starts_at.utcoffset() is not None
        assert START <= slot.starts_at.date() <= END
        assert slot.reason in REASONS
        assert slot.booking_url == "" or web_url(slot.booking_url) == slot.booking_url
        assert slot.booking_url == "" or slot.booking_url.lower().startswith(("http://", "https://"))
        assert slot.people_max is None or slot.people_max >= 1
    keys = [(slot.meeting_point_id, slot.starts_at, slot.reason) for slot in result.slots]
    assert len(keys) == len(set(keys)), "a slot is returned twice"


def assert_sane_points(points: list[MeetingPointData]) -> None:
    for point in points:
        assert point.external_id and point.name.strip()
        assert point.website == "" or web_url(point.website) == point.website
        assert point.booking_url == "" or web_url(point.booking_url) == point.booking_url
        assert point.lat is None or -90 <= point.lat <= 90
        assert point.lon is None or -180 <= point.lon <= 180


def comparable(result: FetchResult | None) -> Any:
    """What two fetches of the same body must share (the byte and call counters aside)."""
    if result is None:
        return None
    return result.slots, result.covered, result.errors, result.parse_errors
