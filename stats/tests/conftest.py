from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from slots.tests.factories import make_department, paris
from stats.models import AreaDay, TownHallDay

NOW = paris(2026, 11, 20, 9, 0)
TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def area_day(day: dt.date, scope: str = "", reason: str = "PASSPORT", **overrides) -> AreaDay:
    values = {
        "town_halls": 10,
        "fresh_town_halls": 8,
        "median_days": 12.0,
        "p90_days": 40.0,
        "within_7_days": 2,
        "within_30_days": 6,
        "slots_week": 120,
    }
    values.update(overrides)
    return AreaDay.objects.create(day=day, scope=scope, reason=reason, **values)


@pytest.fixture
def history(db, frozen):
    """30 days of figures for the whole area and for two departments, the median falling from 30 to 1 day."""
    make_department("92", name="Hauts-de-Seine")
    make_department("69", name="Rhône")
    for offset in range(30):
        day = TODAY - dt.timedelta(days=29 - offset)
        for scope in ("", "92", "69"):
            area_day(day, scope, median_days=float(30 - offset), slots_week=100 + offset)


def town_hall_day(town_hall, day: dt.date, days_to_next: int | None, **overrides) -> TownHallDay:
    values = {
        "reason": "PASSPORT",
        "department_code": "92",
        "days_to_next": days_to_next,
        "days_to_next_4": None if days_to_next is None else days_to_next + 3,
        "slots_7_days": 3,
        "slots_30_days": 10,
        "fresh": True,
    }
    values.update(overrides)
    return TownHallDay.objects.create(day=day, town_hall=town_hall, **values)
