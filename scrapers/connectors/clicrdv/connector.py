"""ClicRDV: one town hall (a ClicRDV group) per source, read through the JSON API of its booking widget.

Observed shape (docs/SOURCES.md, not a specification):
GET {base}/api/v2/availabletimeslots?group_id=<group>&appointments[0][intervention_id]=<intervention>
&appointments[0][calendar_id]=<calendar>&start=YYYY-MM-DD HH:MM:SS&end=YYYY-MM-DD HH:MM:SS&apikey=<widget key>
-> {"availabletimeslots": [{"start": "2026-12-03 09:00:00", ...}, ...]}. The window parameters are an
assumption: `start` at 00:00:00 of the first day and `end` at 23:59:59 of the last, both Paris time; slots
outside it are dropped anyway. `start` is naive Paris time (an offset, if ever given, is exact); an answer
listing plain strings ("2026-12-03 09:00:00") instead of objects is read the same way. ClicRDV does not say
how many people a slot takes (people_max None).

Source fields: `base_url` is the API host, e.g. https://www.clicrdv.com (the path is appended); `token` is the
widget key, sent as the `apikey` parameter (never logged: the HTTP client redacts it from URLs and errors);
`auth_header` stays empty. Options: see Config (scrapers/connectors/clicrdv/config.py). One request per
configured reason (with an intervention id) and calendar; a slot offered by several calendars is one slot.
"""

from __future__ import annotations

import datetime as dt

from scrapers.connectors.base import (
    FetchResult,
    SlotData,
    TownHallConnector,
    describe_shape,
    iso_slots_read,
)
from scrapers.connectors.clicrdv.config import Config
from scrapers.fetching.errors import ConnectorError
from scrapers.fetching.http import JSON

ENDPOINT = "api/v2/availabletimeslots"


class ClicRdvConnector(TownHallConnector):
    kind = "clicrdv"
    label = "ClicRDV booking widget (one group)"
    source_fields = (
        "`base_url`: the API host, e.g. `https://www.clicrdv.com`; "
        "`token`: the widget key (sent as `apikey`)."
    )
    Config = Config
    config: Config

    def fetch_slots(self, meeting_point_ids: list[str], *, start: dt.date, end: dt.date) -> FetchResult:
        counters = self._start_counters()
        town_hall = self.requested_town_hall(meeting_point_ids)
        if town_hall is None:
            return self._finish(counters, slots=[], covered=set(), errors=[])
        if not self.spec.token:
            raise ConnectorError("a clicrdv source needs its widget key as the source's token")
        url = f"{self.spec.base_url.rstrip('/')}/{ENDPOINT}"
        booking_url = self.config.booking_url or town_hall.booking_url or town_hall.website

        slots: dict[tuple[dt.datetime, str], SlotData] = {}
        parse_errors = 0
        for reason, intervention_id in self.config.ids_by_reason(self.config.interventions).items():
            for calendar_id in self.config.calendar_ids:
                params = {
                    "group_id": str(self.config.group_id),
                    "appointments[0][intervention_id]": intervention_id,
                    "appointments[0][calendar_id]": calendar_id,
                    "start": f"{start.isoformat()} 00:00:00",
                    "end": f"{end.isoformat()} 23:59:59",
                    "apikey": self.spec.token,
                }
                payload = self.http.get(url, params=params).expect(JSON).json()
                rows = payload.get("availabletimeslots") if isinstance(payload, dict) else None
                if not isinstance(rows, list):
                    raise ConnectorError(
                        f"availabletimeslots (reason {reason}, calendar {calendar_id}) must return an object "
                        f"with an 'availabletimeslots' list, got {describe_shape(payload)}"
                    )
                parse_errors += iso_slots_read(
                    rows,
                    when=lambda row: row.get("start") if isinstance(row, dict) else row,
                    town_hall=town_hall,
                    reason=reason,
                    booking_url=booking_url,
                    start=start,
                    end=end,
                    into=slots,
                )
        return self._finish_town_hall(
            counters,
            town_hall=town_hall,
            slots=slots.values(),
            parse_errors=parse_errors,
            unreadable="time slot(s)",
        )
