"""Citopia / rendezvousonline.fr: one structure (town hall) per source, read through the public web API.

Observed shape (docs/SOURCES.md, not a specification): GET {base}/auth/session -> {"session_id": ".."};
PUT {base}/availabilities/unlock with {"session_id": ".."}; then per week
GET {base}/structures/<structure_id>/availabilities/week?session_id=..&reasons={"<reason id>":<people>}
&date=YYYY-MM-DD&direction=1 -> {"<key>": {"date": "YYYY-MM-DD", "availabilities":
[{"start_at": "YYYY-MM-DD HH:MM:SS", "is_visible": true}]}}. start_at is Paris time; hidden slots are skipped.

Source fields: `base_url` is the API base, e.g. https://pro.rendezvousonline.fr/api-web (no token needed).
Options: see Config (scrapers/connectors/rendezvousonline/config.py). The reasons asked are the configured
ones that have a reason id. With an alias and a motif the booking page is
{booking_base}/alias/<alias>/service/<motif>; without, the town hall's booking_url.
The `reasons` value {"<id>": n} asks for n people: people_max is the largest n a slot came back for.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import quote

from scrapers.connectors.base import (
    SLOT_YEARS,
    FetchResult,
    SlotData,
    TownHallConnector,
    in_window,
    paris,
)
from scrapers.connectors.rendezvousonline.config import Config
from scrapers.fetching.errors import ConnectorError
from scrapers.fetching.http import JSON


class RendezvousOnlineConnector(TownHallConnector):
    kind = "rendezvousonline"
    label = "Citopia / rendezvousonline.fr (one structure)"
    source_fields = (
        "`base_url`: the API base, e.g. `https://pro.rendezvousonline.fr/api-web`; `max_documents`."
    )
    Config = Config
    config: Config

    def _url(self, path: str) -> str:
        return f"{self.spec.base_url.rstrip('/')}/{path}"

    def booking_url(self, reason: str) -> str:
        config = self.config
        motif = config.motifs.get(reason, "") if config.motifs is not None else config.motif
        if config.alias and motif:
            base = config.booking_base.rstrip("/")
            return f"{base}/alias/{quote(config.alias)}/service/{quote(motif)}"
        town_hall = self.town_halls()[0]
        return town_hall.booking_url or town_hall.website

    def fetch_slots(self, meeting_point_ids: list[str], *, start: dt.date, end: dt.date) -> FetchResult:
        counters = self._start_counters()
        town_hall = self.requested_town_hall(meeting_point_ids)
        if town_hall is None:
            return self._finish(counters, slots=[], covered=set(), errors=[])
        structure_id = str(self.config.structure_id)
        reason_ids = self.config.ids_by_reason(self.config.reason_ids)
        max_weeks = self.config.max_weeks

        session = self.http.get(self._url("auth/session")).expect(JSON).json()
        session_id = session.get("session_id") if isinstance(session, dict) else None
        if not isinstance(session_id, str | int) or session_id == "":
            raise ConnectorError("auth/session returned no session_id")
        session_id = str(session_id)

        found: dict[tuple[dt.datetime, str], int] = {}
        parse_errors = 0
        for reason, reason_id in reason_ids.items():
            self.http.put(self._url("availabilities/unlock"), json_body={"session_id": session_id})
            for people in range(1, self.spec.max_documents + 1):
                day = start
                for _week in range(max_weeks):
                    if day > end:
                        break
                    payload = self._week(structure_id, session_id, reason_id, people, day)
                    last_day, rows, errors = _read_week(payload)
                    parse_errors += errors
                    for starts_at in rows:
                        if in_window(starts_at, start, end):
                            found[(starts_at, reason)] = max(found.get((starts_at, reason), 0), people)
                    day = max(day + dt.timedelta(days=7), (last_day or day) + dt.timedelta(days=1))

        booking_urls = {reason: self.booking_url(reason) for reason in reason_ids}
        slots = [
            SlotData(
                meeting_point_id=town_hall.external_id,
                starts_at=starts_at,
                reason=reason,
                people_max=people,
                booking_url=booking_urls[reason],
            )
            for (starts_at, reason), people in sorted(found.items())
        ]
        return self._finish_town_hall(
            counters, town_hall=town_hall, slots=slots, parse_errors=parse_errors, unreadable="availabilities"
        )

    def _week(self, structure_id: str, session_id: str, reason_id: str, people: int, day: dt.date) -> Any:
        params = {
            "session_id": session_id,
            "reasons": json.dumps({reason_id: people}, separators=(",", ":")),
            "date": day.isoformat(),
            "direction": "1",
        }
        url = self._url(f"structures/{structure_id}/availabilities/week")
        payload = self.http.get(url, params=params).expect(JSON).json()
        if not isinstance(payload, dict):
            raise ConnectorError(
                f"availabilities/week must return a JSON object, got {type(payload).__name__}"
            )
        if isinstance(payload.get("message"), str):
            # The API answers 200 {"message": "..."} when it refuses (expired session, unknown reason...).
            raise ConnectorError(f"availabilities/week refused the request: {payload['message'][:200]}")
        return payload


def _read_week(payload: dict[str, Any]) -> tuple[dt.date | None, list[dt.datetime], int]:
    """(last day covered, visible slot starts, unreadable entries) of one week answer."""
    last_day: dt.date | None = None
    starts: list[dt.datetime] = []
    errors = 0
    for value in payload.values():
        if not isinstance(value, dict):
            errors += 1
            continue
        try:
            day = dt.date.fromisoformat(str(value.get("date")))
        except ValueError:
            errors += 1
            continue
        if day.year not in SLOT_YEARS:  # a source's bug; the next week after 9999-12-31 would overflow
            errors += 1
            continue
        last_day = max(last_day, day) if last_day else day
        availabilities = value.get("availabilities") or []
        if not isinstance(availabilities, list):
            errors += 1
            continue
        for item in availabilities:
            if not isinstance(item, dict):
                errors += 1
                continue
            if item.get("is_visible") is False:
                continue
            try:
                starts.append(paris(dt.datetime.strptime(str(item.get("start_at")), "%Y-%m-%d %H:%M:%S")))
            except ValueError:
                errors += 1
    return last_day, starts, errors
