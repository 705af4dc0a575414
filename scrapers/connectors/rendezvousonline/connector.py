"""Citopia / rendezvousonline.fr: one structure (town hall) per source, read through the public web API.

Observed shape (docs/SOURCES.md, not a specification): GET {base}/auth/session -> {"session_id": ".."};
PUT {base}/availabilities/unlock with {"session_id": ".."}; then per week
GET {base}/structures/<structure_id>/availabilities/week?session_id=..&reasons={"<reason id>":<people>}
&date=YYYY-MM-DD&direction=1 -> {"<key>": {"date": "YYYY-MM-DD", "availabilities":
[{"start_at": "YYYY-MM-DD HH:MM:SS", "is_visible": true}]}}. start_at is Paris time; hidden slots are skipped.

Source fields: `base_url` is the API base, e.g. https://pro.rendezvousonline.fr/api-web (no token needed).
config keys:
- `town_hall` (required): {"external_id", "name", "address", "postcode", "city", "insee", "lat", "lon",
  "phone", "website", "booking_url"};
- `structure_id` (required): the structure's numeric id;
- `reason_ids` (required): {"CNI": <id>, "PASSPORT": <id>, "CNI-PASSPORT": <id>}; a reason without an id is
  not asked;
- `reasons`: the reasons to ask (default: all three, limited to those in reason_ids);
- `alias` and `motif` (or `motifs`: {"CNI": "...", ...}): the booking page becomes
  {booking_base}/alias/<alias>/service/<motif>, `booking_base` defaulting to https://rendezvousonline.fr;
  without an alias, the town hall's booking_url;
- `max_weeks`: weeks fetched at most per reason and people count (default 10).
The `reasons` value {"<id>": n} asks for n people: people_max is the largest n a slot came back for.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import quote

from scrapers.connectors.base import (
    ConnectorError,
    FetchResult,
    SlotData,
    TownHallConnector,
    in_window,
    paris,
)
from scrapers.fetching.http import JSON

DEFAULT_BOOKING_BASE = "https://rendezvousonline.fr"
DEFAULT_MAX_WEEKS = 10


class RendezvousOnlineConnector(TownHallConnector):
    kind = "rendezvousonline"
    label = "Citopia / rendezvousonline.fr (one structure)"

    def _url(self, path: str) -> str:
        return f"{self.spec.base_url.rstrip('/')}/{path}"

    def _structure_id(self) -> str:
        raw = self.config.get("structure_id")
        if raw in (None, "") or not str(raw).isdigit():
            raise ConnectorError(f"config 'structure_id' must be a numeric id, got {raw!r}")
        return str(raw)

    def _reason_ids(self) -> dict[str, str]:
        raw = self.config.get("reason_ids")
        if not isinstance(raw, dict) or not raw:
            raise ConnectorError(
                "config 'reason_ids' must map CNI/PASSPORT/CNI-PASSPORT to Citopia reason ids"
            )
        wanted = self.configured_reasons()
        ids = {reason: str(raw[reason]) for reason in wanted if raw.get(reason) not in (None, "")}
        if not ids:
            raise ConnectorError(f"config 'reason_ids' has no id for the configured reasons {wanted}")
        return ids

    def booking_url(self, reason: str) -> str:
        alias = str(self.config.get("alias") or "").strip()
        motifs = self.config.get("motifs")
        motif = motifs.get(reason) if isinstance(motifs, dict) else self.config.get("motif")
        if alias and motif:
            base = str(self.config.get("booking_base") or DEFAULT_BOOKING_BASE).rstrip("/")
            return f"{base}/alias/{quote(alias)}/service/{quote(str(motif))}"
        town_hall = self.town_halls()[0]
        return town_hall.booking_url or town_hall.website

    def _max_weeks(self) -> int:
        return self.config_int("max_weeks", default=DEFAULT_MAX_WEEKS, minimum=1, maximum=52) or 1

    def fetch_slots(self, meeting_point_ids: list[str], *, start: dt.date, end: dt.date) -> FetchResult:
        counters = self._start_counters()
        town_hall = self.requested_town_hall(meeting_point_ids)
        if town_hall is None:
            return self._finish(counters, slots=[], covered=set(), errors=[])
        structure_id = self._structure_id()
        reason_ids = self._reason_ids()
        max_weeks = self._max_weeks()

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
        errors = [f"{parse_errors} availabilities could not be read and were skipped"] if parse_errors else []
        return self._finish(
            counters, slots=slots, covered={town_hall.external_id}, errors=errors, parse_errors=parse_errors
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
