"""Rank the active town halls around a point by their next free slot.

One search is a constant number of SQL queries whatever the number of town halls: a bounding-box
prefilter on the indexed TownHall (lat, lon) columns, with correlated subqueries (next slot time,
its booking URL, slot count) that each use the Slot (town_hall, reason, starts_at) index. The exact
great-circle distance is then computed in Python and the town halls outside the radius dropped.
A day-by-day strip of slot counts costs one more query (GROUP BY town hall, Paris date), and so does
counting what a wider search would find (`slot_availability`).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, replace

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from communes.geo import bounding_box, haversine_km
from slots.models import Reason, Slot, SlotQuerySet, TownHall, TownHallQuerySet

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
class DayCount:
    """Matching slots of one town hall on one Paris day."""

    day: dt.date
    count: int


@dataclass(frozen=True)
class SearchResult:
    town_hall: TownHall
    distance_km: float
    next_slot: NextSlot | None
    slots_count: int
    data_age: dt.timedelta | None
    stale: bool
    # One entry per day of the strip asked with `strip_days` (empty otherwise), days without slot included.
    days: tuple[DayCount, ...] = ()

    @property
    def has_slot(self) -> bool:
        return self.next_slot is not None


def paris_day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day`, Paris time (as an aware datetime)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def _window(
    *, start_date: dt.date | None, end_date: dt.date | None, now: dt.datetime
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The [start, end) datetimes of a window of Paris dates, both inclusive; None leaves an end open."""
    # upcoming(now) already excludes past slots: a window start is only worth a condition when later.
    window_start = None
    if start_date is not None and paris_day_start(start_date) > now:
        window_start = paris_day_start(start_date)
    window_end = paris_day_start(end_date + dt.timedelta(days=1)) if end_date is not None else None
    return window_start, window_end


def _matching_slots(
    *,
    reason: Reason,
    people: int,
    start_date: dt.date | None,
    end_date: dt.date | None,
    now: dt.datetime,
) -> SlotQuerySet:
    window_start, window_end = _window(start_date=start_date, end_date=end_date, now=now)
    return Slot.objects.for_reason(reason).upcoming(now).between(window_start, window_end).for_people(people)


def _town_halls_around(*, lat: float, lon: float, radius_km: float, reason: Reason) -> TownHallQuerySet:
    box = bounding_box(lat=lat, lon=lon, radius_km=radius_km)
    return (
        TownHall.objects.active()
        .for_reason(reason)
        .in_bbox(min_lat=box.min_lat, max_lat=box.max_lat, min_lon=box.min_lon, max_lon=box.max_lon)
    )


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
    strip_days: int = 0,
    now: dt.datetime | None = None,
) -> list[SearchResult]:
    """Every active town hall within `radius_km` of (lat, lon), best first.

    A matching slot is for `reason`, can take `people` (or does not tell its capacity), starts after
    `now` and falls within [start_date, end_date] (Paris dates, both inclusive; None leaves that end
    open). Only town halls taking `reason` are listed. Those without a matching slot (among them the
    town halls no source follows, which book by phone, walk-in or a page we do not read) come after
    those with one, nearest first: the citizen can still book there.

    With `strip_days`, each result with a slot also gets its matching slots counted per Paris day for
    that many days from today (or from `start_date` when later), in one more query.
    """
    now = now or timezone.now()
    sort = Sort(sort)
    reason = Reason(reason)

    matching = _matching_slots(
        reason=reason, people=people, start_date=start_date, end_date=end_date, now=now
    )
    # A start offered by two sources following the town hall is one slot for the citizen.
    count = (
        matching.filter(town_hall=OuterRef("pk"))
        .order_by()
        .values("town_hall")
        .annotate(n=Count("starts_at", distinct=True))
        .values("n")
    )

    town_halls = (
        _town_halls_around(lat=lat, lon=lon, radius_km=radius_km, reason=reason)
        .select_related("commune")
        .order_by()  # ranked in Python below
        .with_next_slot(matching)
        .with_source_kind()
        .annotate(slots_count=Coalesce(Subquery(count, output_field=IntegerField()), Value(0)))
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
    if strip_days > 0:
        results = _with_day_strip(
            results,
            days=strip_days,
            reason=reason,
            people=people,
            start_date=start_date,
            end_date=end_date,
            now=now,
        )
    return results


def _with_day_strip(
    results: list[SearchResult],
    *,
    days: int,
    reason: Reason,
    people: int,
    start_date: dt.date | None,
    end_date: dt.date | None,
    now: dt.datetime,
) -> list[SearchResult]:
    """The results, those with a slot given their per-day slot counts (one query, none without slot)."""
    ids = [result.town_hall.pk for result in results if result.has_slot]
    if not ids:
        return results
    first_day = max(timezone.localdate(now), start_date or dt.date.min)
    strip = [first_day + dt.timedelta(days=offset) for offset in range(days)]
    strip_end = strip[-1] if end_date is None else min(strip[-1], end_date)
    rows = (
        _matching_slots(reason=reason, people=people, start_date=first_day, end_date=strip_end, now=now)
        .filter(town_hall_id__in=ids)
        .annotate(day=TruncDate("starts_at", tzinfo=timezone.get_default_timezone()))
        .order_by()
        .values("town_hall_id", "day")
        .annotate(count=Count("starts_at", distinct=True))
    )
    counts = {(row["town_hall_id"], row["day"]): row["count"] for row in rows}
    return [
        replace(
            result,
            days=tuple(DayCount(day=day, count=counts.get((result.town_hall.pk, day), 0)) for day in strip),
        )
        if result.has_slot
        else result
        for result in results
    ]


@dataclass(frozen=True)
class Availability:
    """Where and when the first matching slots are around a point: enough to count wider searches.

    `first_slots` holds (distance_km, first matching slot) for each town hall with one.
    """

    first_slots: tuple[tuple[float, dt.datetime], ...]

    def count(self, *, radius_km: float, end_date: dt.date | None) -> int:
        """Town halls within `radius_km` that have a matching slot on or before `end_date` (Paris)."""
        end = paris_day_start(end_date + dt.timedelta(days=1)) if end_date is not None else None
        return sum(
            1
            for distance, first in self.first_slots
            if distance <= radius_km and (end is None or first < end)
        )


def slot_availability(
    *,
    lat: float,
    lon: float,
    radius_km: float,
    reason: Reason | str,
    people: int = 1,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Availability:
    """The first matching slot of every active town hall within `radius_km`, in one query.

    Ask it once with the widest radius and the latest end date among the searches to compare, then
    count each of them with `Availability.count`: this is how a search that found nothing offers to
    widen the radius or push the date, with the number of town halls each option would give.
    """
    now = now or timezone.now()
    reason = Reason(reason)
    matching = _matching_slots(
        reason=reason, people=people, start_date=start_date, end_date=end_date, now=now
    ).filter(town_hall=OuterRef("pk"))
    rows = (
        _town_halls_around(lat=lat, lon=lon, radius_km=radius_km, reason=reason)
        .order_by()
        .annotate(first_slot_at=Subquery(matching.order_by("starts_at").values("starts_at")[:1]))
        .filter(first_slot_at__isnull=False)
        .values_list("lat", "lon", "first_slot_at")
    )
    first_slots = []
    for town_hall_lat, town_hall_lon, first_slot_at in rows:
        distance = haversine_km(lat, lon, town_hall_lat, town_hall_lon)
        if distance <= radius_km:
            first_slots.append((distance, first_slot_at))
    return Availability(first_slots=tuple(first_slots))


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
