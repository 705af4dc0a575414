"""The ingestion feeds the statistics' histogram of slot lifetimes: the slots that vanished before their start,
counted per Paris day, department and lifetime range, in the transaction that deletes them."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from scrapers.ingest import _slots_replace_portable, _slots_replace_postgresql, source_ingest
from scrapers.tests.factories import (
    fetch_result,
    make_commune,
    make_meeting_point,
    make_run,
    make_slot,
    make_source,
    make_town_hall,
    paris,
    slot_data,
)
from stats.lifetimes import bucket_of
from stats.models import SlotLifetime

pytestmark = pytest.mark.django_db

NOW = paris(2026, 11, 20, 23, 30)  # already the 20th's last half hour in Paris, the 20th in UTC too
DAY = dt.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


def histogram() -> dict[tuple[dt.date, str, int], int]:
    return {(row.day, row.department_code, row.bucket): row.count for row in SlotLifetime.objects.all()}


@pytest.mark.parametrize("replace", [_slots_replace_postgresql, _slots_replace_portable])
def test_both_paths_count_the_slots_gone_before_their_time_by_department_and_lifetime(replace):
    source = make_source()
    clichy = make_town_hall(commune=make_commune(department="92"))
    lyon = make_town_hall(commune=make_commune(department="69"))
    nowhere = make_town_hall()  # no known commune
    for town_hall in (clichy, lyon, nowhere):
        make_meeting_point(source, f"mp-{town_hall.pk}", town_hall)
    make_slot(clichy, paris(2026, 12, 3, 10), first_seen=NOW - dt.timedelta(minutes=10))
    make_slot(clichy, paris(2026, 12, 3, 11), first_seen=NOW - dt.timedelta(minutes=12))
    make_slot(clichy, paris(2026, 12, 4, 11), first_seen=NOW - dt.timedelta(days=3))
    make_slot(clichy, paris(2026, 12, 5, 11), first_seen=NOW - dt.timedelta(days=3))  # still offered
    make_slot(clichy, NOW - dt.timedelta(hours=1), first_seen=NOW - dt.timedelta(days=9))  # its time came
    make_slot(lyon, paris(2026, 12, 3, 10), first_seen=NOW - dt.timedelta(hours=3))
    make_slot(nowhere, paris(2026, 12, 3, 10), first_seen=NOW - dt.timedelta(hours=3))
    rows = [(clichy.pk, paris(2026, 12, 5, 11), "PASSPORT", 1, "")]

    with transaction.atomic():
        counts = replace(
            source_id=source.pk, town_hall_ids={clichy.pk, lyon.pk, nowhere.pk}, rows=rows, now=NOW
        )

    assert (counts.removed, counts.removed_upcoming) == (6, 5)
    assert histogram() == {
        (DAY, "92", bucket_of(10 * 60)): 2,  # 10 and 12 minutes: one bucket
        (DAY, "92", bucket_of(3 * 86400)): 1,
        (DAY, "69", bucket_of(3 * 3600)): 1,
        (DAY, "", bucket_of(3 * 3600)): 1,
    }


def test_runs_of_one_day_add_up_and_the_next_day_starts_anew():
    source = make_source()
    town_hall = make_town_hall(commune=make_commune(department="92"))
    make_meeting_point(source, "A", town_hall)
    make_slot(town_hall, paris(2026, 12, 3, 10), first_seen=NOW - dt.timedelta(minutes=10))
    source_ingest(
        source=source,
        meeting_points=None,
        result=fetch_result([slot_data("A", paris(2026, 12, 3, 11))]),
        run=make_run(source),
        now=NOW,
    )
    make_slot(town_hall, paris(2026, 12, 3, 12), first_seen=NOW - dt.timedelta(minutes=8))
    later = NOW + dt.timedelta(minutes=5)
    source_ingest(
        source=source,
        meeting_points=None,
        result=fetch_result([slot_data("A", paris(2026, 12, 3, 11))]),
        run=make_run(source),
        now=later,
    )
    tomorrow = NOW + dt.timedelta(hours=1)  # half past midnight in Paris
    source_ingest(
        source=source,
        meeting_points=None,
        result=fetch_result([slot_data("A", paris(2026, 12, 3, 12))]),
        run=make_run(source),
        now=tomorrow,
    )

    ten_minutes = bucket_of(10 * 60)
    assert histogram() == {
        (DAY, "92", ten_minutes): 2,  # 10 minutes, then 13: one bucket, one row
        (DAY + dt.timedelta(days=1), "92", bucket_of(3600)): 1,  # the 11:00 slot, seen an hour earlier
    }


def test_a_suspicious_run_rolls_the_histogram_back_with_the_slots(settings):
    settings.SCRAPE_SUSPICIOUS_REMOVED_SHARE = 0.5
    source = make_source()
    town_hall = make_town_hall(commune=make_commune(department="92"))
    make_meeting_point(source, "A", town_hall)
    for day in range(1, 31):
        make_slot(town_hall, paris(2026, 12, day, 10), first_seen=NOW - dt.timedelta(hours=1))
    make_run(source, status="success", slots_new=30, started_at=NOW - dt.timedelta(minutes=5))

    run = source_ingest(
        source=source,
        meeting_points=None,
        result=fetch_result([slot_data("A", paris(2026, 12, 1, 10))]),
        run=make_run(source),
        now=NOW,
    )

    assert run.status == "suspicious"
    assert town_hall.slots.count() == 30
    assert histogram() == {}
