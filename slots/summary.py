"""The per-day slot summary (SlotDay) outside PostgreSQL, where no trigger keeps it.

On PostgreSQL, triggers on the slot table keep slots_slotday exact in the same transaction as every write
(slots/migrations/0007_slot_day_triggers.py): `slots_changed` does nothing there. Elsewhere (SQLite for
`make run` on a bare machine) each writer of slots calls `slots_changed` with the town halls it touched, and
their summary is rebuilt from their slots here, with the same rules as the trigger's SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.utils import timezone

from slots.models import Slot, SlotDay


def slots_changed(*, town_hall_ids: Iterable[int] | None) -> None:
    """Bring the summary of these town halls (None: all) up to date with their slots."""
    if connection.vendor == "postgresql":
        return
    slot_days_rebuild(town_hall_ids=town_hall_ids)


def slot_days_rebuild(
    *, town_hall_ids: Iterable[int] | None, slot_model: Any = Slot, day_model: Any = SlotDay
) -> None:
    """Rebuild the summary rows of these town halls (None: all) from their slots, in Python.

    The models can be a migration's historical ones.
    """
    slots = slot_model.objects.all()
    days = day_model.objects.all()
    if town_hall_ids is not None:
        ids = sorted(set(town_hall_ids))
        slots, days = slots.filter(town_hall_id__in=ids), days.filter(town_hall_id__in=ids)
    paris = timezone.get_default_timezone()
    # One entry per distinct start: the largest party any source takes there, and a booking link.
    starts: dict[tuple[int, str, dt.datetime], tuple[int, str]] = {}
    for town_hall_id, reason, starts_at, people_max, url in slots.values_list(
        "town_hall_id", "reason", "starts_at", "people_max", "booking_url"
    ):
        capacity = SlotDay.UNKNOWN_CAPACITY if people_max is None else people_max
        key = (town_hall_id, reason, starts_at)
        known_capacity, known_url = starts.get(key, (0, ""))
        starts[key] = (max(capacity, known_capacity), max(url, known_url))
    summary: dict[tuple[int, str, dt.date, int], list[Any]] = {}
    for (town_hall_id, reason, starts_at), (capacity, url) in sorted(starts.items()):
        key = (town_hall_id, reason, starts_at.astimezone(paris).date(), capacity)
        if key in summary:
            summary[key][0] += 1
        else:
            summary[key] = [1, starts_at, url]
    days.delete()
    day_model.objects.bulk_create(
        day_model(
            town_hall_id=town_hall_id,
            reason=reason,
            day=day,
            capacity=capacity,
            count=count,
            first_at=first_at,
            first_url=first_url,
        )
        for (town_hall_id, reason, day, capacity), (count, first_at, first_url) in summary.items()
    )
