"""The daily snapshot: each followed town hall's wait, and the department and area figures, on hand-made slots."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from slots.models import Reason, TownHall
from stats.models import AreaDay, TownHallDay
from stats.services import percentile, stats_snapshot
from stats.tasks import stats_snapshot as stats_snapshot_task
from stats.tests.factories import followed_town_hall, make_slot, make_town_hall, paris

pytestmark = pytest.mark.django_db

NOW = paris(2026, 11, 20, 6, 0)
DAY = dt.date(2026, 11, 20)
PASSPORT = Reason.PASSPORT.value


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def with_wait(days: int | None, *, department: str = "92", fresh: bool = True, **overrides) -> TownHall:
    """A followed town hall whose first passport slot is `days` days ahead, at 10:00 (None: no slot)."""
    town_hall = followed_town_hall(NOW, department=department, fresh=fresh, **overrides)
    if days is not None:
        make_slot(town_hall, paris(2026, 11, 20, 10) + dt.timedelta(days=days))
    return town_hall


def area(scope: str, reason: str = PASSPORT, day: dt.date = DAY) -> AreaDay:
    return AreaDay.objects.get(day=day, scope=scope, reason=reason)


def test_percentile_interpolates_like_percentile_cont_and_gives_up_among_the_infinite():
    assert percentile([0.0, 2.0, 10.0, float("inf")], 0.5) == 6.0
    assert percentile([float(n) for n in range(1, 11)], 0.9) == pytest.approx(9.1)
    assert percentile([0.0, 2.0, 10.0, float("inf")], 0.9) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([], 0.5) is None


def test_medians_percentiles_and_shares_per_department_and_for_the_whole_area(frozen):
    for days in (0, 2, 10, None):
        with_wait(days)
    with_wait(1, fresh=False)  # stale: recorded, left out of the figures
    for days in range(1, 11):
        with_wait(days, department="69")

    summary = stats_snapshot()

    assert summary.day == DAY
    hauts_de_seine = area("92")
    assert (hauts_de_seine.town_halls, hauts_de_seine.fresh_town_halls) == (5, 4)
    assert hauts_de_seine.median_days == 6.0  # between 2 and 10 days
    assert hauts_de_seine.p90_days is None  # falls on the town hall without any slot
    assert (hauts_de_seine.within_7_days, hauts_de_seine.within_30_days) == (2, 3)
    assert hauts_de_seine.share_7_days == 0.5
    assert hauts_de_seine.slots_week == 2
    rhone = area("69")
    assert rhone.median_days == 5.5
    assert rhone.p90_days == pytest.approx(9.1)
    assert rhone.within_7_days == 6  # waits of 1 to 6 days
    assert rhone.share_30_days == 1.0
    whole = area("")
    assert (whole.town_halls, whole.fresh_town_halls) == (15, 14)
    # Fresh waits: 0, 1, 2, 2, 3 … 10, 10, ∞: the 7th and 8th of 14 are 5 and 6.
    assert whole.median_days == 5.5
    assert whole.within_7_days == 8


def test_a_town_hall_row_gives_its_wait_for_one_person_and_for_a_family(frozen):
    town_hall = followed_town_hall(NOW)
    make_slot(town_hall, paris(2026, 11, 22, 9), people_max=1)
    make_slot(town_hall, paris(2026, 11, 25, 9))  # capacity not told: may take a family
    make_slot(town_hall, paris(2026, 12, 10, 9), people_max=4)
    make_slot(town_hall, paris(2027, 1, 20, 9), people_max=6)
    make_slot(town_hall, paris(2026, 11, 19, 9))  # already past

    stats_snapshot()

    row = TownHallDay.objects.get(town_hall=town_hall, reason=PASSPORT)
    assert (row.days_to_next, row.days_to_next_4) == (2, 5)
    assert (row.slots_7_days, row.slots_30_days) == (2, 3)
    assert row.fresh is True
    assert row.department_code == "92"


def test_days_are_paris_days_and_a_start_offered_by_two_sources_counts_once():
    late = paris(2026, 11, 20, 23, 30)
    with time_machine.travel(late, tick=False):
        town_hall = followed_town_hall(late)
        make_slot(town_hall, paris(2026, 11, 21, 0, 30))
        other_source = type(town_hall.slots.first().source).objects.create(
            name="Autre éditeur", kind="csv", base_url="https://autre.example/creneaux.csv"
        )
        make_slot(town_hall, paris(2026, 11, 21, 0, 30), source=other_source)

        stats_snapshot()

    row = TownHallDay.objects.get(town_hall=town_hall, reason=PASSPORT)
    assert row.day == DAY
    assert row.days_to_next == 1  # half past midnight, Paris time: tomorrow
    assert row.slots_7_days == 1


def test_only_followed_town_halls_and_the_reasons_they_take_are_recorded(frozen):
    passport_only = followed_town_hall(NOW, takes_cni=False)
    make_town_hall(online_booking=False, booking="phone")  # nobody reads its calendar
    followed_town_hall(NOW, active=False)

    stats_snapshot()

    assert list(TownHallDay.objects.values_list("town_hall_id", "reason")) == [(passport_only.pk, PASSPORT)]
    assert not AreaDay.objects.filter(reason=Reason.CNI).exists()


def test_a_day_is_counted_once_when_the_task_runs_twice(frozen):
    town_hall = with_wait(10)
    with_wait(3)

    stats_snapshot_task.apply()
    make_slot(town_hall, paris(2026, 11, 21, 9))  # a slot freed later that morning
    TownHall.objects.update(stale_at=NOW + dt.timedelta(hours=3))  # collected again since
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        stats_snapshot_task.apply()

    assert TownHallDay.objects.filter(day=DAY).count() == 6  # 2 town halls × 3 reasons
    assert AreaDay.objects.filter(day=DAY, reason=PASSPORT).count() == 2  # 92 and the whole area
    assert TownHallDay.objects.get(town_hall=town_hall, reason=PASSPORT).days_to_next == 1
    assert area("92").median_days == 2.0  # the second run's figures, once


def test_a_town_hall_no_longer_followed_leaves_the_day_when_the_task_runs_again(frozen):
    with_wait(2)
    gone = with_wait(4, department="69")
    stats_snapshot()
    TownHall.objects.filter(pk=gone.pk).update(active=False)

    stats_snapshot()

    assert not TownHallDay.objects.filter(town_hall=gone).exists()
    assert not AreaDay.objects.filter(scope="69").exists()
    assert area("").town_halls == 1


def test_each_day_has_its_rows_and_old_town_hall_rows_are_purged(frozen, settings):
    settings.STATS_TOWN_HALL_KEEP_DAYS = 30
    with_wait(2)
    stats_snapshot()
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        stats_snapshot()
    with time_machine.travel(NOW + dt.timedelta(days=40), tick=False):
        summary = stats_snapshot()

    assert summary.purged == 6
    assert sorted(set(TownHallDay.objects.values_list("day", flat=True))) == [DAY + dt.timedelta(days=40)]
    assert AreaDay.objects.filter(scope="", reason=PASSPORT).count() == 3  # kept: a few rows a day


def test_the_command_records_the_snapshot_and_says_so(frozen):
    with_wait(2)
    out = StringIO()

    call_command("stats_snapshot", stdout=out)

    assert "Snapshot of 2026-11-20: 3 town-hall rows, 6 department and area rows" in out.getvalue()
    assert TownHallDay.objects.count() == 3
