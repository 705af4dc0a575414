from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from slots.models import Reason
from slots.search import (
    COMPROMISE_KM_PER_DAY,
    DayCount,
    Sort,
    slot_availability,
    town_halls_search,
)
from slots.tests.factories import make_commune, make_slot, make_town_hall, paris

NOW = paris(2026, 11, 20, 10, 0)
ORIGIN = (48.9028, 2.3048)  # Clichy town hall
KM_LAT = 1 / 111.195  # one kilometre northwards, in degrees of latitude

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


def north(km: float) -> dict[str, float]:
    """Town-hall coordinates `km` kilometres north of the origin."""
    return {"lat": ORIGIN[0] + km * KM_LAT, "lon": ORIGIN[1]}


def search(**overrides):
    params = {"lat": ORIGIN[0], "lon": ORIGIN[1], "radius_km": 20, "reason": Reason.PASSPORT}
    params.update(overrides)
    return town_halls_search(**params)


def names(results) -> list[str]:
    return [result.town_hall.name for result in results]


def test_soonest_ranks_by_next_slot_first():
    near_late = make_town_hall(name="Proche tardive", **north(1))
    far_early = make_town_hall(name="Lointaine rapide", **north(15))
    make_slot(near_late, paris(2026, 12, 10, 9))
    make_slot(far_early, paris(2026, 11, 25, 9))

    results = search()

    assert names(results) == ["Lointaine rapide", "Proche tardive"]
    assert results[0].next_slot.starts_at == paris(2026, 11, 25, 9)
    assert results[0].distance_km == pytest.approx(15, abs=0.05)


def test_soonest_breaks_ties_by_distance():
    far = make_town_hall(name="Loin", **north(9))
    near = make_town_hall(name="Près", **north(3))
    middle = make_town_hall(name="Milieu", **north(6))
    for town_hall in (far, near, middle):
        make_slot(town_hall, paris(2026, 11, 23, 14, 30))

    assert names(search(sort=Sort.SOONEST)) == ["Près", "Milieu", "Loin"]


def test_nearest_ranks_by_distance_with_town_halls_without_slot_last():
    make_slot(make_town_hall(name="Loin", **north(12)), paris(2026, 11, 21, 9))
    make_slot(make_town_hall(name="Près", **north(2)), paris(2027, 1, 5, 9))
    make_town_hall(name="Tout près sans créneau", **north(0.5))
    make_town_hall(name="Loin sans créneau", **north(18))

    results = search(sort="nearest")

    assert names(results) == ["Près", "Loin", "Tout près sans créneau", "Loin sans créneau"]
    assert results[2].next_slot is None
    assert results[2].slots_count == 0


def test_compromise_weighs_waiting_days_against_distance():
    # 5 km and 4 days away: score 4 + 0.5 = 4.5; 19 km and 3 days away: 3 + 1.9 = 4.9;
    # 1 km and 6 days away: 6.1. The soonest sort would put the 19 km one first.
    make_slot(make_town_hall(name="Moyenne", **north(5)), NOW + dt.timedelta(days=4))
    make_slot(make_town_hall(name="Loin mais tôt", **north(19)), NOW + dt.timedelta(days=3))
    make_slot(make_town_hall(name="Porte à côté", **north(1)), NOW + dt.timedelta(days=6))
    assert COMPROMISE_KM_PER_DAY == 10.0

    assert names(search(sort=Sort.COMPROMISE)) == ["Moyenne", "Loin mais tôt", "Porte à côté"]
    assert names(search(sort=Sort.SOONEST)) == ["Loin mais tôt", "Moyenne", "Porte à côté"]


def test_town_halls_without_matching_slot_come_last_nearest_first():
    make_town_hall(name="Sans créneau loin", online_booking=False, **north(8))
    make_town_hall(name="Sans créneau près", online_booking=False, **north(2))
    make_slot(make_town_hall(name="Avec créneau", **north(15)), paris(2027, 3, 1, 9))

    results = search()

    assert names(results) == ["Avec créneau", "Sans créneau près", "Sans créneau loin"]
    assert [result.has_slot for result in results] == [True, False, False]


def test_it_keeps_only_town_halls_within_the_radius():
    make_town_hall(name="Dedans", **north(19.5))
    make_town_hall(name="Dehors", **north(20.5))
    # Inside the bounding box (a corner) but 22 km away.
    make_town_hall(name="Coin", lat=ORIGIN[0] + 15 * KM_LAT, lon=ORIGIN[1] + 0.2)

    assert names(search(radius_km=20)) == ["Dedans"]
    assert sorted(names(search(radius_km=30))) == ["Coin", "Dedans", "Dehors"]


def test_it_ignores_inactive_and_unlocated_town_halls():
    make_town_hall(name="Visible", **north(1))
    make_town_hall(name="Masquée", active=False, **north(1))
    make_town_hall(name="Sans position", lat=None, lon=None)

    assert names(search()) == ["Visible"]


def test_it_counts_only_slots_for_the_reason():
    town_hall = make_town_hall(**north(1))
    make_slot(town_hall, paris(2026, 11, 21, 9), reason=Reason.CNI)
    make_slot(town_hall, paris(2026, 11, 22, 9), reason=Reason.PASSPORT)
    make_slot(town_hall, paris(2026, 11, 23, 9), reason=Reason.PASSPORT)

    [passport] = search(reason=Reason.PASSPORT)
    [cni] = search(reason="CNI")
    [both] = search(reason=Reason.CNI_PASSPORT)

    assert (passport.slots_count, passport.next_slot.starts_at) == (2, paris(2026, 11, 22, 9))
    assert (cni.slots_count, cni.next_slot.starts_at) == (1, paris(2026, 11, 21, 9))
    assert (both.slots_count, both.next_slot) == (0, None)


def test_it_keeps_slots_of_unknown_capacity_for_several_people():
    town_hall = make_town_hall(**north(1))
    make_slot(town_hall, paris(2026, 11, 21, 9), people_max=1)
    make_slot(town_hall, paris(2026, 11, 22, 9), people_max=None)
    make_slot(town_hall, paris(2026, 11, 23, 9), people_max=4)

    [one] = search(people=1)
    [three] = search(people=3)
    [five] = search(people=5)

    assert (one.slots_count, one.next_slot.starts_at) == (3, paris(2026, 11, 21, 9))
    assert (three.slots_count, three.next_slot.starts_at) == (2, paris(2026, 11, 22, 9))
    assert (five.slots_count, five.next_slot.starts_at) == (1, paris(2026, 11, 22, 9))


def test_date_window_is_inclusive_of_both_paris_dates():
    town_hall = make_town_hall(**north(1))
    make_slot(town_hall, paris(2026, 11, 30, 23, 59))  # day before the window
    make_slot(town_hall, paris(2026, 12, 1, 0, 0))
    make_slot(town_hall, paris(2026, 12, 5, 23, 30))  # last evening of the window
    make_slot(town_hall, paris(2026, 12, 6, 0, 0))  # the day after

    [result] = search(start_date=dt.date(2026, 12, 1), end_date=dt.date(2026, 12, 5))

    assert result.slots_count == 2
    assert result.next_slot.starts_at == paris(2026, 12, 1, 0, 0)


def test_it_never_counts_past_slots():
    town_hall = make_town_hall(**north(1))
    make_slot(town_hall, NOW - dt.timedelta(hours=1))
    make_slot(town_hall, NOW)
    make_slot(town_hall, NOW + dt.timedelta(hours=2))

    [result] = search(start_date=dt.date(2026, 11, 1), end_date=dt.date(2026, 11, 30))

    assert result.slots_count == 1
    assert result.next_slot.starts_at == NOW + dt.timedelta(hours=2)


def test_slot_without_link_falls_back_to_the_town_hall_booking_url():
    town_hall = make_town_hall(booking_url="https://rdv.example.fr/clichy/", **north(1))
    make_slot(town_hall, paris(2026, 11, 21, 9), booking_url="")

    [result] = search()

    assert result.next_slot.booking_url == "https://rdv.example.fr/clichy/"


def test_it_reports_data_age_and_staleness():
    fresh = make_town_hall(
        name="Fraîche",
        checked_at=NOW - dt.timedelta(minutes=4),
        stale_at=NOW + dt.timedelta(minutes=26),
        **north(1),
    )
    stale = make_town_hall(
        name="Périmée",
        checked_at=NOW - dt.timedelta(hours=3),
        stale_at=NOW - dt.timedelta(hours=2),
        **north(2),
    )
    never = make_town_hall(name="Jamais vérifiée", online_booking=False, **north(3))
    for town_hall in (fresh, stale):
        make_slot(town_hall, paris(2026, 11, 21, 9))

    by_name = {result.town_hall.name: result for result in search()}

    assert by_name["Fraîche"].data_age == dt.timedelta(minutes=4)
    assert by_name["Fraîche"].stale is False
    assert by_name["Périmée"].data_age == dt.timedelta(hours=3)
    assert by_name["Périmée"].stale is True
    assert by_name[never.name].data_age is None
    assert by_name[never.name].stale is False


def test_it_runs_one_query_whatever_the_number_of_town_halls(django_assert_num_queries):
    commune = make_commune("92024", name="Clichy", postcodes=("92110",))
    for i in range(12):
        town_hall = make_town_hall(commune=commune, **north(i))
        for day in range(1, 4):
            make_slot(town_hall, paris(2026, 11, 20 + day, 9 + i % 8))

    with django_assert_num_queries(1):
        results = search()
        # Reading what the page shows must not query again.
        summary = [(r.town_hall.commune.name, r.next_slot.booking_url, r.slots_count) for r in results]

    assert len(summary) == 12
    assert all(count == 3 for _, _, count in summary)


def test_day_strip_counts_matching_slots_per_paris_day():
    town_hall = make_town_hall(name="Mairie", **north(1))
    make_slot(town_hall, paris(2026, 11, 20, 9))  # past (now is 10:00)
    make_slot(town_hall, paris(2026, 11, 20, 23, 45))  # 22:45 UTC, still the 20th in Paris
    make_slot(town_hall, paris(2026, 11, 22, 0, 30))  # 23:30 UTC on the 21st, the 22nd in Paris
    make_slot(town_hall, paris(2026, 11, 22, 9))
    make_slot(town_hall, paris(2026, 11, 22, 10), reason=Reason.CNI)
    make_slot(town_hall, paris(2026, 11, 22, 11), people_max=1)
    make_slot(town_hall, paris(2026, 11, 23, 9))  # after the strip

    [result] = search(strip_days=3, people=2)

    assert result.days == (
        DayCount(day=dt.date(2026, 11, 20), count=1),
        DayCount(day=dt.date(2026, 11, 21), count=0),
        DayCount(day=dt.date(2026, 11, 22), count=2),
    )
    assert result.slots_count == 4


def test_day_strip_respects_the_window_and_skips_town_halls_without_slot():
    town_hall = make_town_hall(name="Avec", **north(1))
    make_town_hall(name="Sans", **north(2))
    make_slot(town_hall, paris(2026, 11, 21, 9))
    make_slot(town_hall, paris(2026, 11, 22, 9))

    results = search(strip_days=7, end_date=dt.date(2026, 11, 21))

    assert [day.count for day in results[0].days] == [0, 1, 0, 0, 0, 0, 0]
    assert results[1].days == ()


def test_day_strip_costs_one_more_query_whatever_the_number_of_town_halls(django_assert_num_queries):
    for i in range(12):
        town_hall = make_town_hall(**north(i))
        for day in range(1, 4):
            make_slot(town_hall, paris(2026, 11, 20 + day, 9 + i % 8))

    with django_assert_num_queries(2):
        results = search(strip_days=7)

    assert all([day.count for day in result.days] == [0, 1, 1, 1, 0, 0, 0] for result in results)


def test_no_strip_query_when_no_town_hall_has_a_slot(django_assert_num_queries):
    make_town_hall(**north(1))

    with django_assert_num_queries(1):
        [result] = search(strip_days=7)

    assert result.days == ()


def test_availability_counts_wider_searches_from_one_query(django_assert_num_queries):
    near_late = make_town_hall(name="Proche tardive", **north(4))
    far_early = make_town_hall(name="Lointaine rapide", **north(25))
    beyond = make_town_hall(name="Hors rayon", **north(60))
    make_town_hall(name="Sans créneau", **north(2))
    make_slot(near_late, paris(2027, 1, 10, 9))
    make_slot(near_late, paris(2026, 11, 20, 9))  # past: does not count
    make_slot(far_early, paris(2026, 11, 25, 9))
    make_slot(far_early, paris(2026, 11, 26, 9), reason=Reason.CNI)
    make_slot(beyond, paris(2026, 11, 21, 9))

    with django_assert_num_queries(1):
        availability = slot_availability(
            lat=ORIGIN[0], lon=ORIGIN[1], radius_km=50, reason=Reason.PASSPORT, end_date=dt.date(2027, 5, 1)
        )

    assert availability.count(radius_km=5, end_date=dt.date(2026, 12, 31)) == 0
    assert availability.count(radius_km=5, end_date=None) == 1
    assert availability.count(radius_km=30, end_date=dt.date(2026, 11, 25)) == 1  # the end date is inclusive
    assert availability.count(radius_km=30, end_date=dt.date(2026, 11, 24)) == 0
    assert availability.count(radius_km=50, end_date=None) == 2
