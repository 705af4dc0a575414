"""What the statistics pages and fragments show, built from the stored rows in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from stats.charts import LineChart, line_chart
from stats.lifetimes import histogram_median
from stats.models import AreaDay, TownHallDay

# Lifetimes of vanished slots are summed over this many days: one day is too few in a small department.
LIFETIME_DAYS = 7
# A town-hall page shows its history over this many days.
TOWN_HALL_DAYS = 56

MEDIAN_COLOR = "#000091"
P90_COLOR = "#b3541e"
WEEK_COLOR = "#2e7d32"
MONTH_COLOR = "#7a4b00"
SLOTS_COLOR = "#6a3d9a"


def chart_since(today: dt.date | None = None) -> dt.date:
    today = today or timezone.localdate()
    return today - dt.timedelta(days=settings.STATS_CHART_DAYS - 1)


@dataclass(frozen=True)
class Range:
    low: float
    high: float


def _range(values: Sequence[float | None]) -> Range | None:
    known = [value for value in values if value is not None]
    return Range(low=min(known), high=max(known)) if known else None


@dataclass(frozen=True)
class ScopeStats:
    """One scope's (a department or the covered area) current figures and history."""

    scope: str  # department code, "" for the covered area
    name: str
    history: list[AreaDay]  # oldest first
    lifetime_median: float | None  # seconds, over the last LIFETIME_DAYS days
    lifetime_count: int

    @property
    def latest(self) -> AreaDay | None:
        return self.history[-1] if self.history else None

    @property
    def days(self) -> list[dt.date]:
        return [row.day for row in self.history]

    @property
    def share_7_days_percent(self) -> float | None:
        latest = self.latest
        share = latest.share_7_days if latest else None
        return None if share is None else round(share * 100, 1)

    @property
    def share_30_days_percent(self) -> float | None:
        latest = self.latest
        share = latest.share_30_days if latest else None
        return None if share is None else round(share * 100, 1)

    @property
    def lifetime_median_hours(self) -> float | None:
        return None if self.lifetime_median is None else self.lifetime_median / 3600

    @property
    def lifetime_median_minutes(self) -> float | None:
        return None if self.lifetime_median is None else self.lifetime_median / 60

    @property
    def wait_chart(self) -> LineChart:
        return line_chart(
            self.days,
            [
                ("median", str(_("Médiane")), MEDIAN_COLOR, [row.median_days for row in self.history]),
                ("p90", str(_("9 mairies sur 10")), P90_COLOR, [row.p90_days for row in self.history]),
            ],
        )

    @property
    def median_range(self) -> Range | None:
        return _range([row.median_days for row in self.history])

    @property
    def share_chart(self) -> LineChart:
        def percent(share: float | None) -> float | None:
            return None if share is None else round(share * 100, 1)

        return line_chart(
            self.days,
            [
                (
                    "week",
                    str(_("Sous 7 jours")),
                    WEEK_COLOR,
                    [percent(row.share_7_days) for row in self.history],
                ),
                (
                    "month",
                    str(_("Sous 30 jours")),
                    MONTH_COLOR,
                    [percent(row.share_30_days) for row in self.history],
                ),
            ],
            percent=True,
        )

    @property
    def share_range(self) -> Range | None:
        return _range(
            [None if row.share_7_days is None else round(row.share_7_days * 100, 1) for row in self.history]
        )

    @property
    def slots_chart(self) -> LineChart:
        return line_chart(
            self.days,
            [("slots", str(_("Créneaux")), SLOTS_COLOR, [float(row.slots_week) for row in self.history])],
        )

    @property
    def slots_range(self) -> Range | None:
        return _range([float(row.slots_week) for row in self.history])


def scope_stats(
    *, scope: str, name: str, history: list[AreaDay], lifetimes: Sequence[int] | None
) -> ScopeStats:
    return ScopeStats(
        scope=scope,
        name=name,
        history=history,
        lifetime_median=histogram_median(lifetimes or []),
        lifetime_count=sum(lifetimes or []),
    )


@dataclass(frozen=True)
class TownHallHistory:
    rows: list[TownHallDay]  # oldest first

    @property
    def latest(self) -> TownHallDay | None:
        return self.rows[-1] if self.rows else None

    @property
    def chart(self) -> LineChart:
        return line_chart(
            [row.day for row in self.rows],
            [
                (
                    "median",
                    str(_("1 personne")),
                    MEDIAN_COLOR,
                    [None if row.days_to_next is None else float(row.days_to_next) for row in self.rows],
                ),
                (
                    "p90",
                    str(_("4 personnes")),
                    P90_COLOR,
                    [None if row.days_to_next_4 is None else float(row.days_to_next_4) for row in self.rows],
                ),
            ],
        )

    @property
    def wait_range(self) -> Range | None:
        return _range([None if row.days_to_next is None else float(row.days_to_next) for row in self.rows])


def town_hall_history(*, town_hall_id: int, reason: str, today: dt.date | None = None) -> TownHallHistory:
    """A town hall's daily rows of the last TOWN_HALL_DAYS days for `reason`: one query."""
    today = today or timezone.localdate()
    since = today - dt.timedelta(days=TOWN_HALL_DAYS - 1)
    rows = TownHallDay.objects.filter(town_hall_id=town_hall_id, reason=reason, day__gte=since).order_by(
        "day"
    )
    return TownHallHistory(rows=list(rows))
