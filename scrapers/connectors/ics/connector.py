"""iCalendar feed of free slots published for one town hall: each VEVENT is one free slot.

Source fields: `base_url` is the feed URL (served as text/calendar); `auth_header`/`token` are sent when set.
Options: see Config (scrapers/connectors/ics/config.py); every free slot gives one slot per configured reason.
DTSTART with TZID is read in that zone, with a trailing Z as UTC, floating (no zone) as Paris time.
Events with a date only (all-day), without DTSTART or with an unreadable one are counted as parse errors;
cancelled events (STATUS:CANCELLED) are skipped. Recurrence rules (RRULE) are not expanded: a feed of free
slots lists each slot.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import icalendar

from scrapers.connectors.base import (
    SLOT_YEARS,
    FetchResult,
    SlotData,
    TownHallConnector,
    in_window,
    paris,
    web_url,
)
from scrapers.connectors.ics.config import Config
from scrapers.fetching.errors import ConnectorError
from scrapers.fetching.http import CALENDAR


class IcsConnector(TownHallConnector):
    kind = "ics"
    label = "iCalendar feed of free slots (one town hall)"
    source_fields = "`base_url`: the feed; `auth_header` and `token` sent when set."
    Config = Config
    config: Config

    def fetch_slots(self, meeting_point_ids: list[str], *, start: dt.date, end: dt.date) -> FetchResult:
        counters = self._start_counters()
        town_hall = self.requested_town_hall(meeting_point_ids)
        if town_hall is None:
            return self._finish(counters, slots=[], covered=set(), errors=[])
        reasons = self.config.reasons
        people_max = self.config.people_max
        contains = self.config.summary_contains.casefold()
        default_url = self.config.booking_url or town_hall.booking_url or town_hall.website

        response = self.http.get(self.spec.base_url).expect(CALENDAR)
        try:
            calendar = icalendar.Calendar.from_ical(response.text)
        except ValueError as exc:
            raise ConnectorError(f"{response.url} is not a valid iCalendar file: {str(exc)[:200]}") from None
        if not isinstance(calendar, icalendar.Calendar) or calendar.name != "VCALENDAR":
            raise ConnectorError(f"{response.url} does not contain a VCALENDAR")

        slots: dict[tuple[dt.datetime, str], SlotData] = {}
        parse_errors = 0
        for event in calendar.walk("VEVENT"):
            if str(event.get("STATUS", "")).upper() == "CANCELLED":
                continue
            if contains and contains not in str(event.get("SUMMARY", "")).casefold():
                continue
            try:
                starts_at = _start(event)
            except ValueError:
                parse_errors += 1
                continue
            if not in_window(starts_at, start, end):
                continue
            url = web_url(str(event.get("URL") or "")) or default_url
            for reason in reasons:
                slots[(starts_at, reason)] = SlotData(
                    meeting_point_id=town_hall.external_id,
                    starts_at=starts_at,
                    reason=reason,
                    people_max=people_max,
                    booking_url=url,
                )
        return self._finish_town_hall(
            counters,
            town_hall=town_hall,
            slots=slots.values(),
            parse_errors=parse_errors,
            unreadable="event(s)",
        )


def _start(event: Any) -> dt.datetime:
    prop = event.get("DTSTART")
    if prop is None:
        raise ValueError("no DTSTART")
    try:
        value = prop.dt
    except Exception as exc:  # icalendar raises its own error types for a broken property
        raise ValueError(f"unreadable DTSTART: {exc}") from None
    if not isinstance(value, dt.datetime):
        raise ValueError("DTSTART is a date, not a time")
    if value.year not in SLOT_YEARS:
        # Year 1 or 9999 is a feed's bug, and in UTC or a zone it cannot even be converted to Paris time.
        raise ValueError(f"DTSTART in year {value.year}")
    return value if value.tzinfo else paris(value)
