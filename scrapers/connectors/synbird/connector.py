"""Synbird: one town hall (company place) per source, read through the slots API of its booking app.

Observed shape (docs/SOURCES.md, not a specification): POST {base}/v6/pro/company/getSlotsFor with a JSON body
naming the company, the prestation (service) and the place returns
{"timeSlots": [{"start_date": "2026-03-10T09:00:00+01:00"}, ...]}. start_date carries its offset (exact);
a value without offset is Paris time. Synbird does not tell how many people a slot takes (people_max None).

Source fields: `base_url` is the API host, e.g. https://api.synbird.com (the path is appended);
`auth_header`/`token` are sent when set.
Options: see Config (scrapers/connectors/synbird/config.py). The reasons asked are the configured ones that
have a prestation id; with a slug the booking page is {booking_base}/<slug>, else the town hall's booking_url.
The body sent: {"company_id", "prestation_id", "place_id", "start_date": "YYYY-MM-DD",
"end_date": "YYYY-MM-DD", **extra_body}.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from scrapers.connectors.base import (
    FetchResult,
    SlotData,
    TownHallConnector,
    describe_shape,
    iso_slots_read,
)
from scrapers.connectors.synbird.config import Config
from scrapers.fetching.errors import ConnectorError
from scrapers.fetching.http import JSON

ENDPOINT = "v6/pro/company/getSlotsFor"


class SynbirdConnector(TownHallConnector):
    kind = "synbird"
    label = "Synbird (one company place)"
    source_fields = "`base_url`: the API host; `auth_header` and `token` sent when set."
    Config = Config
    config: Config

    def booking_url(self) -> str:
        slug = self.config.slug.strip("/")
        if slug:
            base = self.config.booking_base.rstrip("/")
            return f"{base}/{quote(slug)}"
        town_hall = self.town_halls()[0]
        return town_hall.booking_url or town_hall.website

    def fetch_slots(self, meeting_point_ids: list[str], *, start: dt.date, end: dt.date) -> FetchResult:
        counters = self._start_counters()
        town_hall = self.requested_town_hall(meeting_point_ids)
        if town_hall is None:
            return self._finish(counters, slots=[], covered=set(), errors=[])
        company_id = self.config.company_id
        place_id = self.config.place_id
        extra = self.config.extra_body
        url = f"{self.spec.base_url.rstrip('/')}/{ENDPOINT}"
        booking_url = self.booking_url()

        slots: dict[tuple[dt.datetime, str], SlotData] = {}
        parse_errors = 0
        for reason, prestation_id in self.config.ids_by_reason(self.config.prestation_ids).items():
            body = {
                "company_id": company_id,
                "prestation_id": prestation_id,
                "place_id": place_id,
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
                **extra,
            }
            payload = self.http.post(url, json_body=body).expect(JSON).json()
            if not isinstance(payload, dict) or not isinstance(payload.get("timeSlots"), list):
                raise ConnectorError(
                    f"getSlotsFor (reason {reason}) must return an object with a 'timeSlots' list, "
                    f"got {describe_shape(payload)}"
                )
            parse_errors += iso_slots_read(
                payload["timeSlots"],
                when=lambda row: row.get("start_date") if isinstance(row, dict) else None,
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
