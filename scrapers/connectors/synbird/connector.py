"""Synbird: one town hall (company place) per source, read through the slots API of its booking app.

Observed shape (docs/SOURCES.md, not a specification): POST {base}/v6/pro/company/getSlotsFor with a JSON body
naming the company, the prestation (service) and the place returns
{"timeSlots": [{"start_date": "2026-03-10T09:00:00+01:00"}, ...]}. start_date carries its offset (exact);
a value without offset is Paris time. Synbird does not tell how many people a slot takes (people_max None).

Source fields: `base_url` is the API host, e.g. https://api.synbird.com (the path is appended);
`auth_header`/`token` are sent when set.
config keys:
- `town_hall` (required): {"external_id", "name", "address", "postcode", "city", "insee", "lat", "lon",
  "phone", "website", "booking_url"};
- `company_id` and `place_id` (required);
- `prestation_ids` (required): {"CNI": <id>, "PASSPORT": <id>, "CNI-PASSPORT": <id>}; a reason without an
  id is not asked;
- `reasons`: the reasons to ask (default: all three, limited to those in prestation_ids);
- `slug`: the booking page becomes {booking_base}/<slug>, `booking_base` defaulting to
  https://app.synbird.com; without a slug, the town hall's booking_url;
- `extra_body`: an object merged into every request body (fields a particular instance expects).
The body sent: {"company_id", "prestation_id", "place_id", "start_date": "YYYY-MM-DD",
"end_date": "YYYY-MM-DD", **extra_body}.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from scrapers.connectors.base import (
    ConnectorError,
    FetchResult,
    SlotData,
    TownHallConnector,
    in_window,
    parse_iso_datetime,
)
from scrapers.fetching.http import JSON

DEFAULT_BOOKING_BASE = "https://app.synbird.com"
ENDPOINT = "v6/pro/company/getSlotsFor"


class SynbirdConnector(TownHallConnector):
    kind = "synbird"
    label = "Synbird (one company place)"

    def _required_id(self, key: str) -> str:
        raw = self.config.get(key)
        if raw in (None, "") or isinstance(raw, dict | list | bool):
            raise ConnectorError(f"config '{key}' is required (a Synbird id)")
        return str(raw)

    def _prestation_ids(self) -> dict[str, str]:
        raw = self.config.get("prestation_ids")
        if not isinstance(raw, dict) or not raw:
            raise ConnectorError(
                "config 'prestation_ids' must map CNI/PASSPORT/CNI-PASSPORT to prestation ids"
            )
        wanted = self.configured_reasons()
        ids = {reason: str(raw[reason]) for reason in wanted if raw.get(reason) not in (None, "")}
        if not ids:
            raise ConnectorError(f"config 'prestation_ids' has no id for the configured reasons {wanted}")
        return ids

    def booking_url(self) -> str:
        slug = str(self.config.get("slug") or "").strip().strip("/")
        if slug:
            base = str(self.config.get("booking_base") or DEFAULT_BOOKING_BASE).rstrip("/")
            return f"{base}/{quote(slug)}"
        town_hall = self.town_halls()[0]
        return town_hall.booking_url or town_hall.website

    def fetch_slots(self, meeting_point_ids: list[str], *, start: dt.date, end: dt.date) -> FetchResult:
        counters = self._start_counters()
        town_hall = self.requested_town_hall(meeting_point_ids)
        if town_hall is None:
            return self._finish(counters, slots=[], covered=set(), errors=[])
        company_id = self._required_id("company_id")
        place_id = self._required_id("place_id")
        extra = self.config.get("extra_body") or {}
        if not isinstance(extra, dict):
            raise ConnectorError("config 'extra_body' must be an object")
        url = f"{self.spec.base_url.rstrip('/')}/{ENDPOINT}"
        booking_url = self.booking_url()

        slots: dict[tuple[dt.datetime, str], SlotData] = {}
        parse_errors = 0
        for reason, prestation_id in self._prestation_ids().items():
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
                    f"got {_shape(payload)}"
                )
            for row in payload["timeSlots"]:
                try:
                    starts_at = parse_iso_datetime(row.get("start_date") if isinstance(row, dict) else None)
                except ValueError:
                    parse_errors += 1
                    continue
                if in_window(starts_at, start, end):
                    slots[(starts_at, reason)] = SlotData(
                        meeting_point_id=town_hall.external_id,
                        starts_at=starts_at,
                        reason=reason,
                        people_max=None,
                        booking_url=booking_url,
                    )
        errors = [f"{parse_errors} time slot(s) could not be read and were skipped"] if parse_errors else []
        return self._finish(
            counters,
            slots=slots.values(),
            covered={town_hall.external_id},
            errors=errors,
            parse_errors=parse_errors,
        )


def _shape(payload: Any) -> str:
    if isinstance(payload, dict):
        return (
            "an object with keys " + ", ".join(sorted(map(str, payload))[:5])
            if payload
            else "an empty object"
        )
    return type(payload).__name__
