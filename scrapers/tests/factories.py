"""Small builders for the scrapers tests: sources, meeting points, and the plain data connectors return."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from scrapers.connectors.base import FetchResult, MeetingPointData, SlotData
from scrapers.models import MeetingPoint, ScrapeRun, Source
from slots.models import TownHall
from slots.tests.factories import make_commune, make_department, make_slot, make_town_hall, paris

__all__ = [
    "fetch_result",
    "make_commune",
    "make_department",
    "make_meeting_point",
    "make_run",
    "make_slot",
    "make_source",
    "make_town_hall",
    "meeting_point_data",
    "paris",
    "slot_data",
]

_sequence = itertools.count(1)

TOKEN = "s3cr3t-t0ken-value"


def make_source(**overrides: Any) -> Source:
    n = next(_sequence)
    defaults: dict[str, Any] = {
        "name": f"Éditeur {n}",
        "kind": "ants",
        "base_url": f"https://editeur{n}.example/api",
        "token": TOKEN,
        "interval_minutes": 5,
    }
    defaults.update(overrides)
    return Source.objects.create(**defaults)


def make_meeting_point(source: Source, external_id: str, town_hall: TownHall | None = None) -> MeetingPoint:
    return MeetingPoint.objects.create(
        source=source, external_id=external_id, town_hall=town_hall or make_town_hall()
    )


def make_run(source: Source, **overrides: Any) -> ScrapeRun:
    return ScrapeRun.objects.create(source=source, **overrides)


def meeting_point_data(external_id: str, **overrides: Any) -> MeetingPointData:
    values: dict[str, Any] = {
        "external_id": external_id,
        "name": f"Mairie {external_id}",
        "address": f"{external_id} place de la Mairie",
        "postcode": "92110",
        "city": "CLICHY",
        "lat": 48.9028,
        "lon": 2.3048,
        "website": f"https://mairie-{external_id}.example.fr/",
        "booking_url": f"https://rdv.example.fr/{external_id}/",
    }
    values.update(overrides)
    return MeetingPointData(**values)


def slot_data(meeting_point_id: str, starts_at: dt.datetime, **overrides: Any) -> SlotData:
    values: dict[str, Any] = {
        "meeting_point_id": meeting_point_id,
        "starts_at": starts_at,
        "reason": "PASSPORT",
        "people_max": 1,
        "booking_url": f"https://rdv.example.fr/{meeting_point_id}/{starts_at:%Y%m%d%H%M}",
    }
    values.update(overrides)
    return SlotData(**values)


def fetch_result(slots: list[SlotData], covered: set[str] | None = None, **overrides: Any) -> FetchResult:
    values: dict[str, Any] = {
        "slots": slots,
        "covered": covered if covered is not None else {s.meeting_point_id for s in slots},
        "errors": [],
    }
    values.update(overrides)
    return FetchResult(**values)
