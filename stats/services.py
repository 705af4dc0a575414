"""The daily snapshot of waiting times and its aggregates, and what the statistics pages read.

stats_snapshot is idempotent per Paris day: running it again the same day replaces that day's rows (one per
town hall and reason, one per scope and reason), it never adds a second. It reads the followed town halls
(active, with a source following them) and their upcoming slots in two queries, computes everything in
Python (a few thousand town halls at France scale) and writes in one transaction.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from slots.models import Reason, Slot, TownHall
from slots.reasons import REASONS
from stats.lifetimes import BUCKET_COUNT
from stats.models import ALL_SCOPE, AreaDay, SlotLifetime, TownHallDay

FAMILY = 4  # "days to the next slot for a family": a slot that can take 4 people (or does not say)
_FIELDS = ("department_code", "days_to_next", "days_to_next_4", "slots_7_days", "slots_30_days", "fresh")
AREA_FIELDS = (
    "town_halls",
    "fresh_town_halls",
    "median_days",
    "p90_days",
    "within_7_days",
    "within_30_days",
    "slots_week",
)


@dataclass(frozen=True)
class SnapshotSummary:
    day: dt.date
    town_hall_rows: int
    area_rows: int
    purged: int  # town-hall rows older than STATS_TOWN_HALL_KEEP_DAYS deleted


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The `fraction` percentile of sorted `values` by linear interpolation, as PostgreSQL's percentile_cont;
    None when there are none, or when it depends on an infinite value (a town hall without any slot)."""
    if not values:
        return None
    position = fraction * (len(values) - 1)
    low, high = math.floor(position), math.ceil(position)
    if math.isinf(values[high]):
        return None
    return values[low] + (values[high] - values[low]) * (position - low)


def stats_snapshot(*, now: dt.datetime | None = None) -> SnapshotSummary:
    """Record today's waiting times of every followed town hall and reason, and their aggregates."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    town_halls = list(
        TownHall.objects.active()
        .filter(online_booking=True)
        .values_list("pk", "commune__department_id", "takes_cni", "takes_passport", "stale_at")
    )
    takes = {
        Reason.CNI.value: lambda cni, passport: cni,
        Reason.PASSPORT.value: lambda cni, passport: passport,
        Reason.CNI_PASSPORT.value: lambda cni, passport: cni and passport,
    }
    family = Q(people_max__isnull=True) | Q(people_max__gte=FAMILY)
    # One row per town hall and reason; a start offered by two sources counts once, as on the pages.
    figures = {
        (row["town_hall_id"], row["reason"]): row
        for row in Slot.objects.upcoming(now)
        .filter(town_hall_id__in=[pk for pk, *_ in town_halls])
        .order_by()
        .values("town_hall_id", "reason")
        .annotate(
            first=Min("starts_at"),
            first_family=Min("starts_at", filter=family),
            week=Count("starts_at", distinct=True, filter=Q(starts_at__lt=now + dt.timedelta(days=7))),
            month=Count("starts_at", distinct=True, filter=Q(starts_at__lt=now + dt.timedelta(days=30))),
        )
    }

    def days_to(moment: dt.datetime | None) -> int | None:
        return None if moment is None else (timezone.localdate(moment) - day).days

    rows = []
    for pk, department_code, takes_cni, takes_passport, stale_at in town_halls:
        for reason in REASONS:
            if not takes[reason](takes_cni, takes_passport):
                continue
            found = figures.get((pk, reason), {})
            rows.append(
                TownHallDay(
                    day=day,
                    town_hall_id=pk,
                    reason=reason,
                    department_code=department_code or "",
                    days_to_next=days_to(found.get("first")),
                    days_to_next_4=days_to(found.get("first_family")),
                    slots_7_days=found.get("week", 0),
                    slots_30_days=found.get("month", 0),
                    fresh=stale_at is not None and stale_at > now,
                )
            )
    areas = area_days(rows, day=day)
    keep_from = day - dt.timedelta(days=settings.STATS_TOWN_HALL_KEEP_DAYS)
    with transaction.atomic():
        TownHallDay.objects.bulk_create(
            rows,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["day", "town_hall", "reason"],
            update_fields=list(_FIELDS),
        )
        # A town hall no longer followed (or no longer taking a reason) since a run earlier today.
        kept = {(row.town_hall_id, row.reason) for row in rows}
        gone = [
            pk
            for pk, town_hall_id, reason in TownHallDay.objects.filter(day=day).values_list(
                "pk", "town_hall_id", "reason"
            )
            if (town_hall_id, reason) not in kept
        ]
        TownHallDay.objects.filter(pk__in=gone).delete()
        AreaDay.objects.bulk_create(
            areas,
            update_conflicts=True,
            unique_fields=["day", "scope", "reason"],
            update_fields=list(AREA_FIELDS),
        )
        computed = {(area.scope, area.reason) for area in areas}
        stale_areas = [
            pk
            for pk, scope, reason in AreaDay.objects.filter(day=day).values_list("pk", "scope", "reason")
            if (scope, reason) not in computed
        ]
        AreaDay.objects.filter(pk__in=stale_areas).delete()
        purged, _ = TownHallDay.objects.filter(day__lt=keep_from).delete()
    return SnapshotSummary(day=day, town_hall_rows=len(rows), area_rows=len(areas), purged=purged)


def area_days(rows: Iterable[TownHallDay], *, day: dt.date) -> list[AreaDay]:
    """The aggregates of one day's town-hall rows: per department and for all of them, per reason.

    Counted over the town halls whose data was fresh: a stale calendar says nothing of today's wait.
    """
    groups: dict[tuple[str, str], list[TownHallDay]] = defaultdict(list)
    for row in rows:
        groups[(ALL_SCOPE, row.reason)].append(row)
        if row.department_code:
            groups[(row.department_code, row.reason)].append(row)
    areas = []
    for (scope, reason), members in sorted(groups.items()):
        fresh = [row for row in members if row.fresh]
        waits = sorted(math.inf if row.days_to_next is None else float(row.days_to_next) for row in fresh)
        areas.append(
            AreaDay(
                day=day,
                scope=scope,
                reason=reason,
                town_halls=len(members),
                fresh_town_halls=len(fresh),
                median_days=percentile(waits, 0.5),
                p90_days=percentile(waits, 0.9),
                within_7_days=sum(1 for row in fresh if row.slots_7_days),
                within_30_days=sum(1 for row in fresh if row.slots_30_days),
                slots_week=sum(row.slots_7_days for row in fresh),
            )
        )
    return areas


# What the pages read.


def area_history(
    *, reason: str, since: dt.date, scopes: Iterable[str] | None = None
) -> dict[str, list[AreaDay]]:
    """AreaDay rows from `since` on, oldest first, by scope: one query."""
    rows = AreaDay.objects.filter(reason=reason, day__gte=since).order_by("scope", "day")
    if scopes is not None:
        rows = rows.filter(scope__in=list(scopes))
    history: dict[str, list[AreaDay]] = defaultdict(list)
    for row in rows:
        history[row.scope].append(row)
    return dict(history)


def lifetime_counts(*, since: dt.date, scopes: Iterable[str] | None = None) -> dict[str, list[int]]:
    """Vanished slots per bucket from `since` on, by department and for all of them (ALL_SCOPE): one query."""
    rows = SlotLifetime.objects.filter(day__gte=since)
    wanted = None if scopes is None else set(scopes)
    if wanted is not None and ALL_SCOPE not in wanted:
        rows = rows.filter(department_code__in=wanted)
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * BUCKET_COUNT)
    for department_code, bucket, count in rows.values_list("department_code", "bucket", "count"):
        # A town hall without a known commune counts in the whole area only.
        if department_code and (wanted is None or department_code in wanted):
            counts[department_code][bucket] += count
        if wanted is None or ALL_SCOPE in wanted:
            counts[ALL_SCOPE][bucket] += count
    return dict(counts)
