"""Rank the active town halls around a point by their next free slot.

One search is a constant number of SQL queries whatever the number of town halls: a bounding-box
prefilter on the indexed TownHall (lat, lon) columns, with correlated subqueries (next slot time,
its booking URL, slot count) that each use the Slot (town_hall, reason, starts_at) index. The exact
great-circle distance is then computed in Python and the town halls outside the radius dropped.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from slots.models import Reason, Slot, TownHall

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LAT = EARTH_RADIUS_KM * math.pi / 180

MIN_RADIUS_KM = 1
MAX_RADIUS_KM = 100
MIN_PEOPLE = 1
MAX_PEOPLE = 6

# The "compromise" sort scores a town hall with `days until its next slot + distance_km / K`:
# travelling K kilometres is worth as much as waiting one more day. 10 km/day means a slot 30 km
# away beats one 5 km away only if it comes at least 2.5 days sooner.
COMPROMISE_KM_PER_DAY = 10.0


class Sort(enum.StrEnum):
    SOONEST = "soonest"
    NEAREST = "nearest"
    COMPROMISE = "compromise"


@dataclass(frozen=True)
class NextSlot:
    starts_at: dt.datetime
    booking_url: str


@dataclass(frozen=True)
class SearchResult:
    town_hall: TownHall
    distance_km: float
    next_slot: NextSlot | None
    slots_count: int
    data_age: dt.timedelta | None
    stale: bool

    @property
    def has_slot(self) -> bool:
        return self.next_slot is not None


@dataclass(frozen=True)
class BoundingBox:
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two WGS84 points, in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(*, lat: float, lon: float, radius_km: float) -> BoundingBox:
    """A lat/lon rectangle that contains every point within `radius_km` of (lat, lon).

    The longitude span is computed at the box's latitude farthest from the equator, where a degree
    of longitude is shortest, so that no point inside the circle is missed.
    """
    dlat = radius_km / KM_PER_DEGREE_LAT
    far_lat = min(89.9, abs(lat) + dlat)
    dlon = min(180.0, radius_km / (KM_PER_DEGREE_LAT * math.cos(math.radians(far_lat))))
    return BoundingBox(
        min_lat=max(-90.0, lat - dlat),
        max_lat=min(90.0, lat + dlat),
        min_lon=lon - dlon,
        max_lon=lon + dlon,
    )


def paris_day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day`, Paris time (as an aware datetime)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def town_halls_search(
    *,
    lat: float,
    lon: float,
    radius_km: float,
    reason: Reason | str,
    people: int = 1,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    sort: Sort | str = Sort.SOONEST,
    now: dt.datetime | None = None,
) -> list[SearchResult]:
    """Every active town hall within `radius_km` of (lat, lon), best first.

    A matching slot is for `reason`, can take `people` (or does not tell its capacity), starts after
    `now` and falls within [start_date, end_date] (Paris dates, both inclusive; None leaves that end
    open). Town halls without a matching slot are listed after those with one, nearest first: the
    citizen can still phone them.
    """
    now = now or timezone.now()
    sort = Sort(sort)
    reason = Reason(reason)

    # upcoming(now) already excludes past slots: a window start is only worth a condition when later.
    window_start = None
    if start_date is not None and paris_day_start(start_date) > now:
        window_start = paris_day_start(start_date)
    window_end = paris_day_start(end_date + dt.timedelta(days=1)) if end_date is not None else None

    matching = (
        Slot.objects.filter(town_hall=OuterRef("pk"))
        .for_reason(reason)
        .upcoming(now)
        .between(window_start, window_end)
        .for_people(people)
    )
    first = matching.order_by("starts_at")
    count = matching.order_by().values("town_hall").annotate(n=Count("pk")).values("n")

    box = bounding_box(lat=lat, lon=lon, radius_km=radius_km)
    town_halls = (
        TownHall.objects.active()
        .in_bbox(min_lat=box.min_lat, max_lat=box.max_lat, min_lon=box.min_lon, max_lon=box.max_lon)
        .select_related("commune")
        .order_by()  # ranked in Python below
        .annotate(
            next_slot_at=Subquery(first.values("starts_at")[:1]),
            next_slot_url=Subquery(first.values("booking_url")[:1]),
            slots_count=Coalesce(Subquery(count, output_field=IntegerField()), Value(0)),
        )
    )

    results = []
    for town_hall in town_halls:
        distance = haversine_km(lat, lon, town_hall.lat, town_hall.lon)
        if distance > radius_km:
            continue
        next_slot = None
        if town_hall.next_slot_at is not None:
            next_slot = NextSlot(
                starts_at=town_hall.next_slot_at,
                booking_url=town_hall.next_slot_url or town_hall.booking_url,
            )
        results.append(
            SearchResult(
                town_hall=town_hall,
                distance_km=distance,
                next_slot=next_slot,
                slots_count=town_hall.slots_count,
                data_age=town_hall.data_age(now),
                stale=town_hall.is_stale(now),
            )
        )
    results.sort(key=lambda result: _sort_key(result, sort=sort, now=now))
    return results


def compromise_score(*, result: SearchResult, now: dt.datetime) -> float:
    """Days until the next slot plus distance_km / COMPROMISE_KM_PER_DAY (lower is better)."""
    assert result.next_slot is not None
    days = (result.next_slot.starts_at - now).total_seconds() / 86400
    return days + result.distance_km / COMPROMISE_KM_PER_DAY


def _sort_key(result: SearchResult, *, sort: Sort, now: dt.datetime) -> tuple:
    # The primary key ends every key so that equal results keep a stable, reproducible order.
    tail = (result.distance_km, result.town_hall.pk)
    if result.next_slot is None:
        return (1, 0.0, *tail)
    if sort is Sort.NEAREST:
        return (0, 0.0, *tail)
    if sort is Sort.COMPROMISE:
        return (0, compromise_score(result=result, now=now), *tail)
    return (0, result.next_slot.starts_at.timestamp(), *tail)
