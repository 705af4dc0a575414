from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection, transaction

from scrapers.ingest import (
    _slots_replace_portable,
    _slots_replace_postgresql,
    error_excerpt,
    source_ingest,
)
from scrapers.models import MeetingPoint, ScrapeRun
from scrapers.tests.factories import (
    TOKEN,
    fetch_result,
    make_commune,
    make_meeting_point,
    make_run,
    make_slot,
    make_source,
    make_town_hall,
    meeting_point_data,
    paris,
    slot_data,
)
from slots.models import Slot, TownHall

pytestmark = pytest.mark.django_db

NOW = paris(2026, 12, 1, 9, 0)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


def ingest(source, result, meeting_points=None, now=NOW):
    run = make_run(source, started_at=now)
    return source_ingest(source=source, meeting_points=meeting_points, result=result, run=run, now=now)


def slot_keys(town_hall):
    return set(town_hall.slots.values_list("starts_at", "reason"))


def test_it_creates_town_halls_for_new_meeting_points_and_stores_their_slots():
    clichy = make_commune("92024", name="Clichy", postcodes=("92110",), lat=48.9028, lon=2.3048)
    source = make_source(interval_minutes=10)
    slots = [slot_data("A", paris(2026, 12, 3, 10)), slot_data("A", paris(2026, 12, 3, 10, 30))]

    run = ingest(
        source, fetch_result(slots), meeting_points=[meeting_point_data("A", name="Mairie de Clichy")]
    )

    assert run.status == ScrapeRun.Status.SUCCESS
    assert (run.slots_new, run.slots_kept, run.slots_removed, run.town_halls) == (2, 0, 0, 1)
    assert run.discovery is True
    town_hall = MeetingPoint.objects.get(source=source, external_id="A").town_hall
    assert town_hall.name == "Mairie de Clichy"
    assert town_hall.online_booking is True
    assert town_hall.active is True
    assert town_hall.commune == clichy
    assert town_hall.checked_at == NOW
    assert town_hall.stale_at == NOW + dt.timedelta(minutes=30)
    assert slot_keys(town_hall) == {
        (paris(2026, 12, 3, 10), "PASSPORT"),
        (paris(2026, 12, 3, 10, 30), "PASSPORT"),
    }
    slot = town_hall.slots.get(starts_at=paris(2026, 12, 3, 10))
    assert slot.booking_url == "https://rdv.example.fr/A/202612031000"
    assert slot.first_seen == NOW


def test_ingesting_the_same_payload_twice_leaves_the_same_rows_and_keeps_first_seen():
    source = make_source()
    slots = [slot_data("A", paris(2026, 12, 3, 10)), slot_data("A", paris(2026, 12, 4, 11), reason="CNI")]
    ingest(source, fetch_result(slots), meeting_points=[meeting_point_data("A")])
    before = list(Slot.objects.values_list("pk", "town_hall_id", "starts_at", "reason", "first_seen"))

    later = NOW + dt.timedelta(minutes=5)
    run = ingest(source, fetch_result(slots), meeting_points=[meeting_point_data("A")], now=later)

    assert (run.slots_new, run.slots_kept, run.slots_removed) == (0, 2, 0)
    after = list(Slot.objects.values_list("pk", "town_hall_id", "starts_at", "reason", "first_seen"))
    assert after == before
    if connection.vendor == "postgresql":
        # Nothing rewritten either: a collection that finds the same slots writes no new row version.
        with connection.cursor() as cursor:
            cursor.execute("SELECT xmin::text FROM slots_slot ORDER BY id")
            versions = cursor.fetchall()
        ingest(source, fetch_result(slots), now=later + dt.timedelta(minutes=5))
        with connection.cursor() as cursor:
            cursor.execute("SELECT xmin::text FROM slots_slot ORDER BY id")
            assert cursor.fetchall() == versions
    assert TownHall.objects.count() == 1
    assert MeetingPoint.objects.count() == 1


def test_it_counts_new_kept_and_removed_slots_and_updates_changed_links():
    source = make_source()
    town_hall = make_town_hall()
    make_meeting_point(source, "A", town_hall)
    kept = make_slot(town_hall, paris(2026, 12, 3, 10), booking_url="https://old.example/1", first_seen=NOW)
    make_slot(town_hall, paris(2026, 12, 3, 11))
    make_slot(town_hall, paris(2026, 12, 3, 12))
    later = NOW + dt.timedelta(minutes=5)
    slots = [
        slot_data("A", paris(2026, 12, 3, 10), booking_url="https://new.example/1", people_max=3),
        slot_data("A", paris(2026, 12, 5, 9)),
        slot_data("A", paris(2026, 12, 5, 10)),
        slot_data("A", paris(2026, 12, 5, 11)),
    ]

    run = ingest(source, fetch_result(slots), now=later)

    assert (run.slots_new, run.slots_kept, run.slots_removed) == (3, 1, 2)
    assert town_hall.slots.count() == 4
    kept.refresh_from_db()
    assert kept.booking_url == "https://new.example/1"
    assert kept.people_max == 3
    assert kept.first_seen == NOW
    assert not town_hall.slots.filter(starts_at=paris(2026, 12, 3, 11)).exists()


@pytest.mark.parametrize("replace", [_slots_replace_postgresql, _slots_replace_portable])
def test_both_replacement_paths_merge_duplicates_skip_the_past_and_count_alike(replace):
    if replace is _slots_replace_postgresql and connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL path needs PostgreSQL")
    source = make_source()
    town_hall = make_town_hall()
    make_meeting_point(source, "A", town_hall)
    make_slot(town_hall, paris(2026, 12, 3, 10), first_seen=NOW - dt.timedelta(days=1))
    make_slot(town_hall, paris(2026, 12, 3, 11))
    make_slot(town_hall, NOW - dt.timedelta(hours=1))  # started already: goes too
    rows = [
        (town_hall.pk, paris(2026, 12, 3, 10), "PASSPORT", 1, "https://x.example/"),
        (town_hall.pk, paris(2026, 12, 3, 10), "PASSPORT", 2, "https://x.example/"),
        (town_hall.pk, paris(2026, 12, 6, 10), "PASSPORT", 3, ""),
        (town_hall.pk, paris(2026, 12, 6, 10), "PASSPORT", None, "https://y.example/"),
        (town_hall.pk, paris(2026, 12, 7, 10), "CNI", 1, "https://x.example/" + "z" * 1000),
        (town_hall.pk, NOW, "PASSPORT", None, ""),
    ]

    with transaction.atomic():
        counts = replace(source_id=source.pk, town_hall_ids={town_hall.pk}, rows=rows, now=NOW)

    assert (counts.new, counts.kept, counts.removed) == (2, 1, 2)
    assert counts.changed == 1  # the kept slot's capacity and link
    slots = {(s.starts_at, s.reason): s for s in town_hall.slots.all()}
    assert set(slots) == {
        (paris(2026, 12, 3, 10), "PASSPORT"),
        (paris(2026, 12, 6, 10), "PASSPORT"),
        (paris(2026, 12, 7, 10), "CNI"),
    }
    kept = slots[(paris(2026, 12, 3, 10), "PASSPORT")]
    assert (kept.first_seen, kept.people_max) == (NOW - dt.timedelta(days=1), 2)
    merged = slots[(paris(2026, 12, 6, 10), "PASSPORT")]
    assert (merged.people_max, merged.booking_url) == (None, "https://y.example/")
    assert slots[(paris(2026, 12, 7, 10), "CNI")].booking_url == ""


def test_meeting_points_not_covered_keep_their_slots():
    source = make_source()
    covered_hall, failed_hall = make_town_hall(), make_town_hall()
    make_meeting_point(source, "A", covered_hall)
    make_meeting_point(source, "B", failed_hall)
    make_slot(covered_hall, paris(2026, 12, 3, 10))
    make_slot(failed_hall, paris(2026, 12, 3, 10))
    make_slot(failed_hall, paris(2026, 12, 3, 11))

    run = ingest(
        source,
        fetch_result(
            [slot_data("A", paris(2026, 12, 8, 9))], covered={"A"}, errors=["Meeting point B: HTTP 500"]
        ),
    )

    assert run.status == ScrapeRun.Status.SUCCESS
    assert run.error == "Meeting point B: HTTP 500"
    assert slot_keys(covered_hall) == {(paris(2026, 12, 8, 9), "PASSPORT")}
    assert failed_hall.slots.count() == 2
    failed_hall.refresh_from_db()
    covered_hall.refresh_from_db()
    assert failed_hall.checked_at is None
    assert covered_hall.checked_at == NOW


def test_a_town_hall_of_another_source_is_untouched():
    source, other = make_source(), make_source()
    mine, theirs = make_town_hall(), make_town_hall()
    make_meeting_point(source, "A", mine)
    make_meeting_point(other, "A", theirs)
    make_slot(theirs, paris(2026, 12, 3, 10))

    ingest(source, fetch_result([], covered={"A"}))

    assert theirs.slots.count() == 1


def test_slots_in_the_past_are_not_inserted():
    source = make_source()
    slots = [
        slot_data("A", NOW - dt.timedelta(minutes=1)),
        slot_data("A", NOW),
        slot_data("A", NOW + dt.timedelta(hours=1)),
    ]

    run = ingest(source, fetch_result(slots), meeting_points=[meeting_point_data("A")])

    assert run.slots_new == 1
    assert list(Slot.objects.values_list("starts_at", flat=True)) == [NOW + dt.timedelta(hours=1)]


def test_duplicated_slots_are_stored_once_with_the_larger_capacity():
    source = make_source()
    when = paris(2026, 12, 3, 10)
    slots = [
        slot_data("A", when, people_max=1),
        slot_data("A", when, people_max=4),
        slot_data("A", when, people_max=2),
    ]

    run = ingest(source, fetch_result(slots), meeting_points=[meeting_point_data("A")])

    assert run.slots_new == 1
    assert Slot.objects.get().people_max == 4


def test_a_zero_slot_answer_after_a_rich_run_is_suspicious_and_keeps_the_last_good_data():
    source = make_source()
    town_hall = make_town_hall()
    make_meeting_point(source, "A", town_hall)
    make_run(source, started_at=NOW - dt.timedelta(minutes=5), status=ScrapeRun.Status.SUCCESS, slots_new=25)
    for hour in range(8, 11):
        make_slot(town_hall, paris(2026, 12, 3, hour))

    run = ingest(source, fetch_result([], covered={"A"}))

    assert run.status == ScrapeRun.Status.SUSPICIOUS
    assert "No slot at all, while the last successful run had 25" in run.error
    assert town_hall.slots.count() == 3
    town_hall.refresh_from_db()
    assert town_hall.checked_at is None


def test_a_zero_slot_answer_is_accepted_once_repeated_enough_times(settings):
    settings.SCRAPE_ZERO_SLOTS_CONFIRMATIONS = 3
    source = make_source()
    town_hall = make_town_hall()
    make_meeting_point(source, "A", town_hall)
    make_run(
        source, started_at=NOW - dt.timedelta(minutes=30), status=ScrapeRun.Status.SUCCESS, slots_kept=40
    )
    make_slot(town_hall, paris(2026, 12, 3, 10))

    statuses = [
        ingest(source, fetch_result([], covered={"A"}), now=NOW + dt.timedelta(minutes=minutes)).status
        for minutes in (0, 5, 10)
    ]

    assert statuses == [ScrapeRun.Status.SUSPICIOUS, ScrapeRun.Status.SUSPICIOUS, ScrapeRun.Status.SUCCESS]
    assert town_hall.slots.count() == 0


def test_a_zero_slot_answer_after_a_poor_run_is_accepted():
    source = make_source()
    town_hall = make_town_hall()
    make_meeting_point(source, "A", town_hall)
    make_run(source, started_at=NOW - dt.timedelta(minutes=5), status=ScrapeRun.Status.SUCCESS, slots_new=3)
    make_slot(town_hall, paris(2026, 12, 3, 10))

    run = ingest(source, fetch_result([], covered={"A"}))

    assert run.status == ScrapeRun.Status.SUCCESS
    assert run.slots_removed == 1
    assert town_hall.slots.count() == 0


def test_many_parse_errors_make_a_run_suspicious():
    source = make_source()
    town_hall = make_town_hall()
    make_meeting_point(source, "A", town_hall)
    make_slot(town_hall, paris(2026, 12, 3, 10))

    run = ingest(source, fetch_result([slot_data("A", paris(2026, 12, 9, 10))], parse_errors=12))

    assert run.status == ScrapeRun.Status.SUSPICIOUS
    assert run.parse_errors == 12
    assert "12 parse errors" in run.error
    assert slot_keys(town_hall) == {(paris(2026, 12, 3, 10), "PASSPORT")}


def test_a_few_parse_errors_among_many_slots_are_tolerated():
    source = make_source()
    slots = [slot_data("A", paris(2026, 12, 3, 8) + dt.timedelta(minutes=15 * i)) for i in range(60)]

    run = ingest(source, fetch_result(slots, parse_errors=5), meeting_points=[meeting_point_data("A")])

    assert run.status == ScrapeRun.Status.SUCCESS
    assert run.slots_new == 60


def test_a_fetch_where_no_meeting_point_answered_fails_and_keeps_data():
    source = make_source()
    town_hall = make_town_hall()
    make_meeting_point(source, "A", town_hall)
    make_slot(town_hall, paris(2026, 12, 3, 10))

    run = ingest(source, fetch_result([], covered=set(), errors=[f"Meeting point A: HTTP 503 token={TOKEN}"]))

    assert run.status == ScrapeRun.Status.FAILED
    assert TOKEN not in run.error
    assert "No meeting point answered" in run.error
    assert town_hall.slots.count() == 1


def test_discovery_never_moves_a_locked_location_nor_shows_a_hidden_town_hall():
    source = make_source()
    town_hall = make_town_hall(lat=45.0, lon=5.0, location_locked=True, active=False, name="Old name")
    make_meeting_point(source, "A", town_hall)

    ingest(
        source,
        fetch_result([slot_data("A", paris(2026, 12, 3, 10))]),
        meeting_points=[meeting_point_data("A", name="New name", lat=48.1, lon=2.1)],
    )

    town_hall.refresh_from_db()
    assert (town_hall.lat, town_hall.lon) == (45.0, 5.0)
    assert town_hall.active is False
    assert town_hall.name == "New name"
    assert town_hall.slots.count() == 1


def test_discovery_moves_an_unlocked_location():
    source = make_source()
    town_hall = make_town_hall(lat=45.0, lon=5.0)
    make_meeting_point(source, "A", town_hall)

    ingest(
        source, fetch_result([], covered=set()), meeting_points=[meeting_point_data("A", lat=48.1, lon=2.1)]
    )

    town_hall.refresh_from_db()
    assert (town_hall.lat, town_hall.lon) == (48.1, 2.1)
    assert town_hall.updated_at == NOW


def test_a_suspicious_run_creates_no_town_hall():
    source = make_source()
    make_run(source, started_at=NOW - dt.timedelta(minutes=5), status=ScrapeRun.Status.SUCCESS, slots_new=30)
    make_meeting_point(source, "A")

    run = ingest(
        source,
        fetch_result([], covered={"A"}),
        meeting_points=[meeting_point_data("A"), meeting_point_data("B")],
    )

    assert run.status == ScrapeRun.Status.SUSPICIOUS
    assert not MeetingPoint.objects.filter(external_id="B").exists()


def test_error_excerpts_hide_the_token_and_stay_short():
    text = f"GET https://x.example/?token={TOKEN}&a=1 failed " + "x" * 5000

    excerpt = error_excerpt(text, token=TOKEN)

    assert TOKEN not in excerpt
    assert "[redacted]" in excerpt
    assert len(excerpt) <= 2000


def test_a_large_first_ingestion_refreshes_the_slot_statistics_and_fills_the_summary():
    """A new deployment analysed over a handful of slots: after 12,000 more, the planner knows the table's size
    (PostgreSQL otherwise plans the next DELETEs and searches as for a tiny table, minutes and hundreds of
    milliseconds instead of milliseconds), and the per-day summary the search reads has every day."""
    from slots.models import SlotDay

    source = make_source()
    town_halls = [make_town_hall(name=f"Mairie {n}") for n in range(40)]
    for n, town_hall in enumerate(town_halls):
        make_meeting_point(source, str(n), town_hall=town_hall)
    make_slot(town_halls[0], paris(2026, 12, 2, 9))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE slots_slot")
    slots = [
        slot_data(str(n), paris(2026, 12, 2, 9) + dt.timedelta(days=day, minutes=5 * k))
        for n in range(40)
        for day in range(30)
        for k in range(10)
    ]

    run = ingest(source, fetch_result(slots, covered={str(n) for n in range(40)}))

    assert run.status == ScrapeRun.Status.SUCCESS and (run.slots_new, run.slots_kept) == (11_999, 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'slots_slot'::regclass")
        assert cursor.fetchone()[0] >= 10_000
    assert SlotDay.objects.count() == 40 * 30
    assert set(SlotDay.objects.values_list("count", flat=True)) == {10}

    # The same answer again changes nothing, the summary included.
    before = set(SlotDay.objects.values_list("pk", "count", "first_at", "first_url"))
    ingest(source, fetch_result(slots, covered={str(n) for n in range(40)}))
    assert set(SlotDay.objects.values_list("pk", "count", "first_at", "first_url")) == before
