"""How long a slot stays free: the lifetime (first seen → gone) of the slots that vanished before their start.

At France scale about a million slots churn a day: storing one row per vanished slot would grow without end.
The ingestion instead adds each deletion to a histogram with fixed buckets per Paris day and department
(SlotLifetime), in the same statement as the DELETE on PostgreSQL (set-based, from its RETURNING rows):
at most len(BUCKETS) rows per department and day, whatever the churn. A median is then read from the
histogram, interpolated within its bucket.

A slot already free when the service first saw it lived longer than we measure: lifetimes are lower bounds.
A slot that vanished may have been booked, or withdrawn by the town hall: the histogram cannot tell.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import F
from django.utils import timezone

from communes.models import Commune
from slots.models import TownHall
from stats.models import SlotLifetime

_MINUTE = 60
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
# Upper bounds of the buckets, in seconds: bucket i holds lifetimes in [BUCKETS[i-1], BUCKETS[i]), the last
# one everything from 30 days on. Finer at the short end, where "book it within the hour" is decided.
BUCKETS: tuple[int, ...] = (
    5 * _MINUTE,
    15 * _MINUTE,
    30 * _MINUTE,
    _HOUR,
    2 * _HOUR,
    4 * _HOUR,
    8 * _HOUR,
    _DAY,
    2 * _DAY,
    4 * _DAY,
    7 * _DAY,
    14 * _DAY,
    30 * _DAY,
)
BUCKET_COUNT = len(BUCKETS) + 1


def bucket_of(seconds: float) -> int:
    """The index of the bucket holding a lifetime of `seconds` (as PostgreSQL's width_bucket with BUCKETS)."""
    for index, bound in enumerate(BUCKETS):
        if seconds < bound:
            return index
    return len(BUCKETS)


def bucket_bounds(index: int) -> tuple[int, int | None]:
    """The lower and upper bounds (seconds; None: no upper bound) of a bucket."""
    lower = 0 if index == 0 else BUCKETS[index - 1]
    upper = BUCKETS[index] if index < len(BUCKETS) else None
    return lower, upper


def lifetimes_cte(*, deleted: str, now: dt.datetime) -> tuple[str, list[object]]:
    """A data-modifying CTE (SQL and its parameters) adding the rows of the CTE `deleted` that had not
    started yet to the day's histogram; `deleted` must return starts_at, first_seen and town_hall_id.

    PostgreSQL runs a data-modifying CTE to completion whether or not the main query reads it, in the same
    statement: no row leaves the database. Rows are merged in (department, bucket) order, the same in every
    transaction, so that two ingestions of one department wait for each other instead of deadlocking.
    """
    table = connection.ops.quote_name(SlotLifetime._meta.db_table)
    town_halls = connection.ops.quote_name(TownHall._meta.db_table)
    communes = connection.ops.quote_name(Commune._meta.db_table)
    commune_column = TownHall._meta.get_field("commune").column
    department_column = Commune._meta.get_field("department").column
    commune_pk = Commune._meta.pk.column
    sql = f"""
        stats_lifetimes AS (
            INSERT INTO {table} AS l (day, department_code, bucket, count)
            SELECT %s::date, coalesce(c.{department_column}, ''),
                   width_bucket(extract(epoch FROM %s::timestamptz - d.first_seen)::float8, %s::float8[]),
                   count(*)
            FROM {deleted} AS d
            JOIN {town_halls} AS th ON th.id = d.town_hall_id
            LEFT JOIN {communes} AS c ON c.{commune_pk} = th.{commune_column}
            WHERE d.starts_at > %s
            GROUP BY 1, 2, 3
            ORDER BY 2, 3
            ON CONFLICT (day, department_code, bucket) DO UPDATE SET count = l.count + EXCLUDED.count
        )
    """
    return sql, [timezone.localdate(now), now, [float(bound) for bound in BUCKETS], now]


def lifetimes_record(*, vanished: Iterable[tuple[int, dt.datetime, dt.datetime]], now: dt.datetime) -> int:
    """Add vanished slots, as (town hall id, start, first seen), to the day's histogram; those already
    started are left out. The portable path (SQLite on a bare machine); PostgreSQL uses lifetimes_cte.
    Returns how many were counted. Must run inside a transaction."""
    upcoming = [
        (town_hall_id, first_seen) for town_hall_id, starts_at, first_seen in vanished if starts_at > now
    ]
    if not upcoming:
        return 0
    department_of = dict(
        TownHall.objects.filter(pk__in={town_hall_id for town_hall_id, _ in upcoming}).values_list(
            "pk", "commune__department_id"
        )
    )
    counts = Counter(
        (department_of.get(town_hall_id) or "", bucket_of((now - first_seen).total_seconds()))
        for town_hall_id, first_seen in upcoming
    )
    day = timezone.localdate(now)
    for (department_code, bucket), count in sorted(counts.items()):
        row, created = SlotLifetime.objects.select_for_update().get_or_create(
            day=day, department_code=department_code, bucket=bucket, defaults={"count": count}
        )
        if not created:
            SlotLifetime.objects.filter(pk=row.pk).update(count=F("count") + count)
    return len(upcoming)


def histogram_median(counts: Sequence[int]) -> float | None:
    """The median lifetime in seconds from bucket counts (index = bucket), interpolated linearly within its
    bucket; None without data. In the open last bucket, its lower bound (a lifetime of at least that)."""
    total = sum(counts)
    if not total:
        return None
    half = total / 2
    seen = 0
    for index, count in enumerate(counts):
        if count and seen + count >= half:
            lower, upper = bucket_bounds(index)
            if upper is None:
                return float(lower)
            return lower + (upper - lower) * (half - seen) / count
        seen += count
    return None  # unreachable: the counts sum to total
