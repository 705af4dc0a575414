"""The per-day slot summary the search reads: exact after every kind of write to the slot table."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection, transaction

from slots.models import Reason, Slot, SlotDay
from slots.search import town_halls_search
from slots.services import town_halls_merge
from slots.summary import slot_days_rebuild
from slots.tests.factories import make_slot, make_town_hall, paris

NOW = paris(2026, 3, 2, 8, 0)  # a Monday, 8:00 in Paris

pytestmark = pytest.mark.django_db


def summary(town_hall_id: int | None = None) -> set[tuple]:
    rows = SlotDay.objects.all()
    if town_hall_id is not None:
        rows = rows.filter(town_hall_id=town_hall_id)
    return set(
        rows.values_list("town_hall_id", "reason", "day", "capacity", "count", "first_at", "first_url")
    )


def make_source(name: str):
    # Through the relation, not an import: slots sits below scrapers.
    return Slot._meta.get_field("source").related_model.objects.create(
        name=name, kind="csv", base_url=f"https://donnees.example/{name}.csv"
    )


def rebuilt() -> set[tuple]:
    """What the Python rebuild (the path of databases without triggers) makes of the same slots."""
    with transaction.atomic():
        before = summary()
        slot_days_rebuild(town_hall_ids=None)
        after = summary()
        transaction.set_rollback(True)
    assert SlotDay.objects.count() == len(before)
    return after


def test_it_counts_distinct_starts_per_paris_day_and_party_size():
    town_hall = make_town_hall()
    make_slot(town_hall, paris(2026, 3, 3, 9, 0), people_max=1, booking_url="https://rdv.example.fr/a")
    make_slot(town_hall, paris(2026, 3, 3, 9, 30), people_max=1)
    make_slot(town_hall, paris(2026, 3, 3, 23, 30), people_max=None, booking_url="https://rdv.example.fr/b")
    make_slot(town_hall, paris(2026, 3, 4, 0, 15), people_max=4, booking_url="https://rdv.example.fr/c")
    make_slot(town_hall, paris(2026, 3, 4, 10, 0), reason=Reason.CNI)

    assert summary() == {
        (
            town_hall.pk,
            "PASSPORT",
            dt.date(2026, 3, 3),
            1,
            2,
            paris(2026, 3, 3, 9, 0),
            "https://rdv.example.fr/a",
        ),
        # 23:30 in Paris is 22:30 UTC: still the 3rd for a citizen.
        (
            town_hall.pk,
            "PASSPORT",
            dt.date(2026, 3, 3),
            SlotDay.UNKNOWN_CAPACITY,
            1,
            paris(2026, 3, 3, 23, 30),
            "https://rdv.example.fr/b",
        ),
        (
            town_hall.pk,
            "PASSPORT",
            dt.date(2026, 3, 4),
            4,
            1,
            paris(2026, 3, 4, 0, 15),
            "https://rdv.example.fr/c",
        ),
        (
            town_hall.pk,
            "CNI",
            dt.date(2026, 3, 4),
            SlotDay.UNKNOWN_CAPACITY,
            1,
            paris(2026, 3, 4, 10, 0),
            f"https://rdv.example.fr/{town_hall.pk}/202603041000",
        ),
    }
    assert rebuilt() == summary()


def test_a_start_two_sources_offer_counts_once_with_the_largest_party():
    town_hall = make_town_hall()
    first, second = make_source(name="Un"), make_source(name="Deux")
    make_slot(town_hall, paris(2026, 3, 3, 9, 0), source=first, people_max=1)
    make_slot(town_hall, paris(2026, 3, 3, 9, 0), source=second, people_max=3)

    ((capacity, count),) = SlotDay.objects.values_list("capacity", "count")
    assert (capacity, count) == (3, 1)
    assert rebuilt() == summary()


def test_updates_deletes_and_cascades_keep_it_exact():
    town_hall = make_town_hall()
    other = make_town_hall()
    slot = make_slot(town_hall, paris(2026, 3, 3, 9, 0), people_max=1)
    make_slot(town_hall, paris(2026, 3, 3, 10, 0), people_max=1)

    Slot.objects.filter(pk=slot.pk).update(people_max=2)
    assert set(SlotDay.objects.values_list("capacity", "count")) == {(1, 1), (2, 1)}

    Slot.objects.filter(pk=slot.pk).update(starts_at=paris(2026, 3, 5, 9, 0))
    assert set(SlotDay.objects.values_list("day", "capacity", "count")) == {
        (dt.date(2026, 3, 3), 1, 1),
        (dt.date(2026, 3, 5), 2, 1),
    }

    Slot.objects.filter(pk=slot.pk).update(town_hall=other)
    assert set(SlotDay.objects.values_list("town_hall_id", "day")) == {
        (town_hall.pk, dt.date(2026, 3, 3)),
        (other.pk, dt.date(2026, 3, 5)),
    }

    Slot.objects.filter(town_hall=town_hall).delete()
    assert set(SlotDay.objects.values_list("town_hall_id", flat=True)) == {other.pk}

    # A deleted source takes its slots along (a cascade in Django, one DELETE statement): the summary follows.
    Slot.objects.get(pk=slot.pk).source.delete()
    assert not SlotDay.objects.exists()


def test_an_update_of_columns_the_summary_does_not_read_writes_nothing_to_it():
    town_hall = make_town_hall()
    make_slot(town_hall, paris(2026, 3, 3, 9, 0))
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text FROM slots_slotday")
        (before,) = cursor.fetchone()
        Slot.objects.update(first_seen=NOW)
        cursor.execute("SELECT xmin::text FROM slots_slotday")
        (after,) = cursor.fetchone()
    assert before == after


def test_merging_town_halls_moves_their_summary():
    keep, other = make_town_hall(), make_town_hall()
    make_slot(keep, paris(2026, 3, 3, 9, 0))
    make_slot(other, paris(2026, 3, 3, 10, 0))

    town_halls_merge(keep=keep, others=[other])

    assert set(SlotDay.objects.values_list("town_hall_id", "count")) == {(keep.pk, 2)}


@time_machine.travel(NOW, tick=False)
def test_search_reads_today_from_the_slots_and_later_days_from_the_summary():
    town_hall = make_town_hall()
    make_slot(town_hall, paris(2026, 3, 2, 7, 30))  # earlier today: gone for the citizen
    make_slot(town_hall, paris(2026, 3, 2, 9, 0), people_max=1)
    make_slot(town_hall, paris(2026, 3, 3, 9, 0), people_max=2)
    make_slot(town_hall, paris(2026, 3, 4, 9, 0))

    (result,) = town_halls_search(lat=town_hall.lat, lon=town_hall.lon, radius_km=5, reason="PASSPORT")
    assert (result.next_slot.starts_at, result.slots_count) == (paris(2026, 3, 2, 9, 0), 3)

    (result,) = town_halls_search(
        lat=town_hall.lat, lon=town_hall.lon, radius_km=5, reason="PASSPORT", people=2
    )
    assert (result.next_slot.starts_at, result.slots_count) == (paris(2026, 3, 3, 9, 0), 2)

    (result,) = town_halls_search(
        lat=town_hall.lat,
        lon=town_hall.lon,
        radius_km=5,
        reason="PASSPORT",
        start_date=dt.date(2026, 3, 3),
        end_date=dt.date(2026, 3, 3),
    )
    assert (result.next_slot.starts_at, result.slots_count) == (paris(2026, 3, 3, 9, 0), 1)


@pytest.mark.django_db(transaction=True)
def test_two_sources_writing_one_town_hall_at_once_leave_both_counted():
    """Each refresh waits for the other transaction's lock on the town hall, then reads what it committed."""
    town_hall = make_town_hall()
    sources = [make_source(name="Un"), make_source(name="Deux")]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)
                for hour in range(9, 12):
                    Slot.objects.create(
                        source=sources[index],
                        town_hall=town_hall,
                        starts_at=paris(2026, 3, 3, hour, 15 * index),
                        reason="PASSPORT",
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors
    assert SlotDay.objects.get(town_hall=town_hall).count == 6
