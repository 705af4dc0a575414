"""The ops dashboard of the admin: what it shows, and the chart of runs per hour laid out for its SVG.

The dashboard reads, in a fixed number of queries whatever the number of sources: every source with its
health (SourceQuerySet.with_health), counts and last runs; the runs of the last 24 hours per hour and status.
Then, from Redis: the broker's queue length, the workers' ping and the beat heartbeat (ops.health).
Its buttons call ops.services.sources_operate.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import TruncHour
from django.utils import timezone

from ops.health import Check, broker_queue_length, check_beat, check_workers
from scrapers.models import ScrapeRun, Source, SourceHealth

LAST_RUNS = 5
CHART_HOURS = 24
CHART_STATUSES = (ScrapeRun.Status.SUCCESS, ScrapeRun.Status.SUSPICIOUS, ScrapeRun.Status.FAILED)
# Fill attributes, for when the stylesheet (which sets the same colours) is not loaded.
CHART_FILLS = {
    ScrapeRun.Status.SUCCESS: "#2e7d32",
    ScrapeRun.Status.SUSPICIOUS: "#e0a100",
    ScrapeRun.Status.FAILED: "#c62828",
}


@dataclass(frozen=True)
class HourBucket:
    start: dt.datetime
    success: int
    suspicious: int
    failed: int

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(hours=1)

    @property
    def total(self) -> int:
        return self.success + self.suspicious + self.failed


def runs_per_hour(*, now: dt.datetime, hours: int = CHART_HOURS) -> list[HourBucket]:
    """Finished runs per hour and status, oldest first: the current hour and the `hours - 1` before it."""
    current = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    starts = [current - dt.timedelta(hours=n) for n in range(hours - 1, -1, -1)]
    # Truncated in UTC: a local truncation would merge two hours when the clocks go back.
    rows = (
        ScrapeRun.objects.filter(started_at__gte=starts[0], started_at__lte=now, status__in=CHART_STATUSES)
        .annotate(hour=TruncHour("started_at", tzinfo=dt.UTC))
        .order_by()
        .values_list("hour", "status")
        .annotate(n=Count("pk"))
    )
    counts = {(hour.astimezone(dt.UTC), status): n for hour, status, n in rows}
    return [
        HourBucket(
            start=start,
            success=counts.get((start, ScrapeRun.Status.SUCCESS), 0),
            suspicious=counts.get((start, ScrapeRun.Status.SUSPICIOUS), 0),
            failed=counts.get((start, ScrapeRun.Status.FAILED), 0),
        )
        for start in starts
    ]


@dataclass(frozen=True)
class Segment:
    status: str
    count: int
    y: float
    height: float

    @property
    def fill(self) -> str:
        return CHART_FILLS[self.status]  # type: ignore[index]


@dataclass(frozen=True)
class Bar:
    bucket: HourBucket
    x: float
    width: float
    segments: list[Segment]
    label: str  # the hour, shown under every third bar


@dataclass(frozen=True)
class Gridline:
    value: int
    y: float


@dataclass(frozen=True)
class RunsChart:
    """A stacked bar chart of runs per hour, laid out for an SVG drawn by the template."""

    buckets: list[HourBucket]
    bars: list[Bar]
    gridlines: list[Gridline]
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_bottom: int

    @property
    def totals(self) -> dict[str, int]:
        return {
            "success": sum(b.success for b in self.buckets),
            "suspicious": sum(b.suspicious for b in self.buckets),
            "failed": sum(b.failed for b in self.buckets),
        }


def _nice_step(maximum: int, lines: int = 4) -> int:
    """The smallest 1, 2 or 5 × 10^k step that covers `maximum` in at most `lines` steps."""
    raw = max(maximum, 1) / lines
    magnitude = 10 ** max(0, math.floor(math.log10(raw)))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def runs_chart(buckets: list[HourBucket], *, width: int = 900, height: int = 220) -> RunsChart:
    left, right, top, bottom = 44, width - 8, 12, height - 28
    step = _nice_step(max((b.total for b in buckets), default=0))
    top_value = step * max(1, math.ceil(max((b.total for b in buckets), default=0) / step))
    scale = (bottom - top) / top_value
    slot = (right - left) / max(len(buckets), 1)
    bars = []
    for index, bucket in enumerate(buckets):
        y = float(bottom)
        segments = []
        for status in CHART_STATUSES:
            count = getattr(bucket, status)
            if not count:
                continue
            # At least 2 px: one failure among hundreds of successes must still be seen.
            segment_height = max(count * scale, 2.0)
            y -= segment_height
            segments.append(
                Segment(status=status, count=count, y=round(y, 1), height=round(segment_height, 1))
            )
        local = timezone.localtime(bucket.start)
        bars.append(
            Bar(
                bucket=bucket,
                x=round(left + index * slot + slot * 0.15, 1),
                width=round(slot * 0.7, 1),
                segments=segments,
                label=f"{local:%H} h" if index % 3 == 0 else "",
            )
        )
    gridlines = [
        Gridline(value=value, y=round(bottom - value * scale, 1)) for value in range(0, top_value + 1, step)
    ]
    return RunsChart(
        buckets=buckets,
        bars=bars,
        gridlines=gridlines,
        width=width,
        height=height,
        plot_left=left,
        plot_right=right,
        plot_bottom=bottom,
    )


# Problems first. What each health means is SourceQuerySet's docstring (scrapers/models.py).
HEALTH_GROUPS = [
    (SourceHealth.FAILING, SourceHealth.FAILING.label),
    (SourceHealth.ERROR, SourceHealth.ERROR.label),
    (SourceHealth.STALE, SourceHealth.STALE.label),
    (SourceHealth.OK, SourceHealth.OK.label),
    (SourceHealth.PAUSED, SourceHealth.PAUSED.label),
]


@dataclass(frozen=True)
class HealthGroup:
    health: str
    label: str  # lazily translated: SourceHealth's label
    sources: list[Source]


@dataclass(frozen=True)
class Dashboard:
    now: dt.datetime
    groups: list[HealthGroup]
    chart: RunsChart
    queue_length: int | None
    workers: Check
    beat: Check

    @property
    def source_count(self) -> int:
        return sum(len(group.sources) for group in self.groups)


def dashboard_build(*, now: dt.datetime | None = None) -> Dashboard:
    """Everything the dashboard shows: two database queries, and a few Redis commands."""
    now = now or timezone.now()
    sources = list(
        Source.objects.with_health(now).with_counts(now).with_last_runs(LAST_RUNS).order_by("name")
    )
    groups = [
        HealthGroup(health=health, label=label, sources=[s for s in sources if s.health == health])
        for health, label in HEALTH_GROUPS
    ]
    return Dashboard(
        now=now,
        groups=groups,
        chart=runs_chart(runs_per_hour(now=now)),
        queue_length=broker_queue_length(),
        workers=check_workers(),
        beat=check_beat(now=now),
    )
