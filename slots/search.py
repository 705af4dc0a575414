"""Rank the active town halls around a point by their next free slot.

One search is a constant number of SQL queries whatever the number of town halls or slots: a bounding-box
prefilter on the indexed TownHall (lat, lon) columns, the exact great-circle distance computed in Python to
drop the town halls outside the radius, then one query for the slot facts of those left (first matching
slot, its booking link, number of matching starts). That query reads the per-day summary (SlotDay) for
whole days from tomorrow on and the Slot table for the rest of today, both through indexes led by
(town hall, reason): its cost follows the town halls in the radius and the days of the window, not the
slots. A day-by-day strip of slot counts costs one more query, and so does counting what a wider search
would find (`slot_availability`).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, replace

from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils import timezone

from communes.geo import bounding_box, haversine_km
from slots.models import Reason, TownHall, TownHallQuerySet

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


def _town_halls_around(*, lat: float, lon: float, radius_km: float, reason: Reason) -> TownHallQuerySet:
    box = bounding_box(lat=lat, lon=lon, radius_km=radius_km)
    return (
        TownHall.objects.active()
        .for_reason(reason)
        .in_bbox(min_lat=box.min_lat, max_lat=box.max_lat, min_lon=box.min_lon, max_lon=box.max_lon)
    )


@dataclass(frozen=True)
class _Window:
    """A search's window cut in two: the rest of today, read from the slots (some of today's slots may have
    started already), and whole days from tomorrow on, read from the per-day summary (SlotDay)."""

    today_from: dt.datetime  # exclusive
    today_until: dt.datetime  # exclusive
    first_day: dt.date
    last_day: dt.date
    people: int  # 0 when any slot will do (one person): a capacity the source gives as 0 is no filter

    @classmethod
    def of(
        cls, *, people: int, start_date: dt.date | None, end_date: dt.date | None, now: dt.datetime
    ) -> _Window:
        today = timezone.localdate(now)
        window_start, window_end = _window(start_date=start_date, end_date=end_date, now=now)
        tomorrow = today + dt.timedelta(days=1)
        tomorrow_start = paris_day_start(tomorrow)
        return cls(
            today_from=max(now, window_start) if window_start else now,
            today_until=min(tomorrow_start, window_end) if window_end else tomorrow_start,
            first_day=max(tomorrow, start_date or tomorrow),
            last_day=end_date or dt.date.max,
            people=people if people > 1 else 0,
        )

    def _today(self, *, reason: Reason, town_halls: str) -> tuple[str, list[object]]:
        """Conditions on the slots (s) of the rest of today of the town halls `s.town_hall_id {town_halls}`."""
        where = (
            f"s.town_hall_id {town_halls} AND s.reason = %s AND s.starts_at > %s AND s.starts_at < %s"
            " AND (%s = 0 OR s.people_max IS NULL OR s.people_max >= %s)"
        )
        ops = connection.ops
        bounds = [
            ops.adapt_datetimefield_value(self.today_from),
            ops.adapt_datetimefield_value(self.today_until),
        ]
        return where, [str(reason), *bounds, self.people, self.people]

    def _later(self, *, reason: Reason, town_halls: str) -> tuple[str, list[object]]:
        """Conditions on the per-day summary (d) of whole days from tomorrow on, same town halls."""
        where = f"d.town_hall_id {town_halls} AND d.reason = %s AND d.day >= %s AND d.day <= %s AND d.capacity >= %s"
        ops = connection.ops
        days = [ops.adapt_datefield_value(self.first_day), ops.adapt_datefield_value(self.last_day)]
        return where, [str(reason), *days, self.people]

    def annotations(self, *, reason: Reason) -> dict[str, RawSQL]:
        """`next_slot_at`, `next_slot_url` and `slots_count` of each town hall of a TownHall queryset.

        Each subquery goes through an index led by (town hall, reason) of the slot table or of the summary:
        the rows read per town hall follow the days of the window, never the number of slots.
        """
        town_hall = f"= {_quoted(TownHall._meta.db_table)}.{_quoted('id')}"
        today, today_params = self._today(reason=reason, town_halls=town_hall)
        later, later_params = self._later(reason=reason, town_halls=town_hall)
        firsts = (
            "SELECT at, url FROM (SELECT s.starts_at AS at, s.booking_url AS url FROM slots_slot AS s"
            f" WHERE {today} ORDER BY s.starts_at LIMIT 1) AS first_today"
            " UNION ALL SELECT at, url FROM (SELECT d.first_at AS at, d.first_url AS url FROM slots_slotday AS d"
            f" WHERE {later} ORDER BY d.day, d.first_at LIMIT 1) AS first_later"
        )
        params = [*today_params, *later_params]
        return {
            "next_slot_at": RawSQL(f"SELECT x.at FROM ({firsts}) AS x ORDER BY x.at LIMIT 1", params),
            "next_slot_url": RawSQL(f"SELECT x.url FROM ({firsts}) AS x ORDER BY x.at LIMIT 1", params),
            "slots_count": RawSQL(
                f"(SELECT count(DISTINCT s.starts_at) FROM slots_slot AS s WHERE {today})"
                f" + coalesce((SELECT sum(d.count) FROM slots_slotday AS d WHERE {later}), 0)",
                params,
            ),
        }

    def day_counts(
        self, *, reason: Reason, town_hall_ids: list[int], today: dt.date
    ) -> dict[tuple[int, dt.date], int]:
        """Matching slot starts per (town hall, Paris day) of the window, in one query."""
        ids = "IN (" + ", ".join(["%s"] * len(town_hall_ids)) + ")"
        today_where, today_params = self._today(reason=reason, town_halls=ids)
        later_where, later_params = self._later(reason=reason, town_halls=ids)
        query = (
            f"SELECT d.town_hall_id, d.day, sum(d.count) FROM slots_slotday AS d WHERE {later_where}"
            " GROUP BY d.town_hall_id, d.day"
            " UNION ALL SELECT s.town_hall_id, NULL, count(DISTINCT s.starts_at) FROM slots_slot AS s"
            f" WHERE {today_where} GROUP BY s.town_hall_id"
        )
        with connection.cursor() as cursor:
            cursor.execute(query, [*town_hall_ids, *later_params, *town_hall_ids, *today_params])
            rows = cursor.fetchall()
        return {(pk, _as_date(day) if day is not None else today): int(n) for pk, day, n in rows}


def _as_datetime(value: dt.datetime | str) -> dt.datetime:
    # SQLite (make run on a bare machine) answers a raw subquery's datetime as naive UTC, or as text.
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def _as_date(value: dt.date | str) -> dt.date:
    # SQLite (make run on a bare machine) answers a raw query's dates as text.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


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

    One query whatever the area: the town halls in the bounding box with their slot facts. With
    `strip_days`, each result with a slot also gets its matching slots counted per Paris day for that many
    days from today (or from `start_date` when later), in one more query.
    """
    now = now or timezone.now()
    sort = Sort(sort)
    reason = Reason(reason)

    window = _Window.of(people=people, start_date=start_date, end_date=end_date, now=now)
    town_halls = (
        _town_halls_around(lat=lat, lon=lon, radius_km=radius_km, reason=reason)
        .select_related("commune")
        # JSON no list shows, decoded for every row otherwise (the opening hours are the town hall page's).
        .defer("locked_fields", "commune__opening_hours")
        .order_by()  # ranked in Python below
        .with_source_kind()
        .annotate(**window.annotations(reason=reason))
    )

    results = []
    for town_hall in town_halls:
        distance = haversine_km(lat, lon, town_hall.lat, town_hall.lon)
        if distance > radius_km:
            continue
        next_slot = None
        if town_hall.next_slot_at is not None:
            next_slot = NextSlot(
                starts_at=_as_datetime(town_hall.next_slot_at),
                booking_url=town_hall.next_slot_url or town_hall.booking_url,
            )
        results.append(
            SearchResult(
                town_hall=town_hall,
                distance_km=distance,
                next_slot=next_slot,
                slots_count=int(town_hall.slots_count),
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
    today = timezone.localdate(now)
    first_day = max(today, start_date or dt.date.min)
    strip = [first_day + dt.timedelta(days=offset) for offset in range(days)]
    strip_end = strip[-1] if end_date is None else min(strip[-1], end_date)
    window = _Window.of(people=people, start_date=first_day, end_date=strip_end, now=now)
    counts = window.day_counts(reason=reason, town_hall_ids=ids, today=today)
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
    window = _Window.of(people=people, start_date=start_date, end_date=end_date, now=now)
    rows = (
        _town_halls_around(lat=lat, lon=lon, radius_km=radius_km, reason=reason)
        .order_by()
        .annotate(first_slot_at=window.annotations(reason=reason)["next_slot_at"])
        .filter(first_slot_at__isnull=False)
        .values_list("lat", "lon", "first_slot_at")
    )
    first_slots = []
    for town_hall_lat, town_hall_lon, first_slot_at in rows:
        distance = haversine_km(lat, lon, town_hall_lat, town_hall_lon)
        if distance <= radius_km:
            first_slots.append((distance, _as_datetime(first_slot_at)))
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
