"""Builders for the statistics tests: followed town halls with fresh data, and their slots."""

from __future__ import annotations

import datetime as dt
from typing import Any

from slots.models import TownHall
from slots.tests.factories import make_commune, make_department, make_slot, make_town_hall, paris

__all__ = ["followed_town_hall", "make_commune", "make_department", "make_slot", "make_town_hall", "paris"]


def followed_town_hall(
    now: dt.datetime, *, department: str = "92", fresh: bool = True, **overrides: Any
) -> TownHall:
    """A town hall a source follows, in a new commune of `department`, its data fresh at `now` (or stale)."""
    commune = make_commune(department=department)
    defaults: dict[str, Any] = {
        "commune": commune,
        "checked_at": now - dt.timedelta(minutes=5),
        "stale_at": now + dt.timedelta(minutes=10) if fresh else now - dt.timedelta(hours=1),
    }
    defaults.update(overrides)
    return make_town_hall(**defaults)
