"""Cached search answers: served again while their area's data is unchanged, never once it changed.

The test settings turn the cache off (tests write slots between searches without an ingestion); these tests turn
it on, with the test settings' in-memory cache, and write through the real ingestion.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from scrapers.ingest import source_ingest
from scrapers.tests.factories import (
    fetch_result,
    make_meeting_point,
    make_run,
    make_source,
    make_town_hall,
    paris,
    slot_data,
)
from slots.models import TownHall

pytestmark = pytest.mark.django_db

NOW = paris(2026, 12, 1, 9, 0)
CLICHY = (48.9028, 2.3048)
LYON = (45.7640, 4.8357)


@pytest.fixture(autouse=True)
def search_cache_on(settings):
    settings.SEARCH_CACHE_SECONDS = 120
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def traveller():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def ingest(source, slots, covered, *, now):
    run = make_run(source, started_at=now)
    return source_ingest(
        source=source, meeting_points=None, result=fetch_result(slots, covered=covered), run=run, now=now
    )


def search(client, lat_lon=CLICHY):
    """The API's results for a search around `lat_lon`."""
    params = {"lat": lat_lon[0], "lon": lat_lon[1], "radius_km": 20, "reason": "PASSPORT"}
    response = client.get("/api/v1/search", params)
    assert response.status_code == 200
    return response.json()["results"]


def next_at(result):
    return dt.datetime.fromisoformat(result["next_slot"]["datetime"])


def followed(source, external_id, *, lat_lon=CLICHY, name="Mairie de Clichy"):
    town_hall = make_town_hall(name=name, lat=lat_lon[0], lon=lat_lon[1])
    make_meeting_point(source, external_id, town_hall=town_hall)
    return town_hall


def test_a_repeated_search_is_answered_without_searching_again(traveller, client, django_assert_num_queries):
    source = make_source()
    followed(source, "A")
    ingest(source, [slot_data("A", paris(2026, 12, 3, 10))], {"A"}, now=NOW)

    first = search(client)
    with django_assert_num_queries(0):
        again = search(client)

    assert again == first and first[0]["slots_count"] == 1


def test_a_repeated_search_reads_the_cache_once(traveller, client, monkeypatch):
    source = make_source()
    followed(source, "A")
    ingest(source, [slot_data("A", paris(2026, 12, 3, 10))], {"A"}, now=NOW)
    first = search(client)
    # The keys of each read of the search cache (other features use the cache too); reads made within a read
    # (LocMemCache's get_many asks get for each key, where Redis answers one MGET) are not round trips.
    reads = []
    depth = [0]

    def counted(method):
        def read(keys, *args, **kwargs):
            names = [keys] if isinstance(keys, str) else list(keys)
            if depth[0] == 0 and any(name.startswith("search:") for name in names):
                reads.append(names)
            depth[0] += 1
            try:
                return method(keys, *args, **kwargs)
            finally:
                depth[0] -= 1

        return read

    monkeypatch.setattr(cache, "get", counted(cache.get))
    monkeypatch.setattr(cache, "get_many", counted(cache.get_many))

    assert search(client) == first
    assert len(reads) == 1  # the answer and its area's generations in one round trip


def test_an_ingestion_in_the_area_shows_at_once(traveller, client, django_capture_on_commit_callbacks):
    source = make_source()
    followed(source, "A")
    with django_capture_on_commit_callbacks(execute=True):
        ingest(source, [slot_data("A", paris(2026, 12, 3, 10))], {"A"}, now=NOW)
    assert search(client)[0]["slots_count"] == 1

    later = NOW + dt.timedelta(minutes=1)
    traveller.move_to(later)
    with django_capture_on_commit_callbacks(execute=True):
        ingest(
            source,
            [slot_data("A", paris(2026, 12, 3, 10)), slot_data("A", paris(2026, 12, 2, 14))],
            {"A"},
            now=later,
        )

    (result,) = search(client)
    assert (result["slots_count"], next_at(result), result["data_age_seconds"]) == (
        2,
        paris(2026, 12, 2, 14),
        0,
    )


def test_an_ingestion_elsewhere_keeps_the_cached_answer(
    traveller, client, django_capture_on_commit_callbacks, django_assert_num_queries
):
    source = make_source()
    followed(source, "A")
    followed(source, "L", lat_lon=LYON, name="Mairie de Lyon")
    with django_capture_on_commit_callbacks(execute=True):
        ingest(source, [slot_data("A", paris(2026, 12, 3, 10))], {"A"}, now=NOW)
    search(client)

    with django_capture_on_commit_callbacks(execute=True):
        ingest(source, [slot_data("L", paris(2026, 12, 3, 10))], {"L"}, now=NOW)

    with django_assert_num_queries(0):
        search(client)


def test_a_collection_that_finds_everything_as_it_was_keeps_the_cached_answer(
    traveller, client, django_capture_on_commit_callbacks, django_assert_num_queries
):
    source = make_source()
    followed(source, "A")
    slots = [slot_data("A", paris(2026, 12, 3, 10), booking_url="https://rdv.example.fr/A/1")]
    with django_capture_on_commit_callbacks(execute=True):
        ingest(source, slots, {"A"}, now=NOW)
    search(client)

    later = NOW + dt.timedelta(minutes=1)
    traveller.move_to(later)
    with django_capture_on_commit_callbacks(execute=True):
        run = ingest(source, slots, {"A"}, now=later)
    assert (run.slots_new, run.slots_kept, run.slots_removed) == (0, 1, 0)
    with django_assert_num_queries(0):
        (result,) = search(client)
    # Its age is that of the check it was computed from: older than the last check, never younger.
    assert result["data_age_seconds"] == 60

    # A new booking link for the same slot is a change: the next search shows it.
    relinked = [slot_data("A", paris(2026, 12, 3, 10), booking_url="https://rdv.example.fr/A/2")]
    with django_capture_on_commit_callbacks(execute=True):
        ingest(source, relinked, {"A"}, now=later)
    (result,) = search(client)
    assert (result["next_slot"]["booking_url"], result["data_age_seconds"]) == (
        "https://rdv.example.fr/A/2",
        0,
    )


def test_a_collection_that_brings_a_stale_town_hall_back_drops_the_cached_answer(
    traveller, client, settings, django_capture_on_commit_callbacks
):
    settings.SEARCH_CACHE_SECONDS = 3600
    source = make_source(interval_minutes=5)
    followed(source, "A")
    slots = [slot_data("A", paris(2026, 12, 9, 10))]
    with django_capture_on_commit_callbacks(execute=True):
        ingest(source, slots, {"A"}, now=NOW)
    later = NOW + dt.timedelta(minutes=16)  # three intervals without a good run
    traveller.move_to(later)
    assert search(client)[0]["stale"]

    with django_capture_on_commit_callbacks(execute=True):
        ingest(source, slots, {"A"}, now=later)  # the same slots, checked again

    assert not search(client)[0]["stale"]


def test_a_cached_answer_says_its_true_age_and_never_shows_a_slot_that_started(traveller, client, settings):
    settings.SEARCH_CACHE_SECONDS = 3600
    source = make_source(interval_minutes=60)
    followed(source, "A")
    ingest(
        source,
        [slot_data("A", paris(2026, 12, 1, 9, 30)), slot_data("A", paris(2026, 12, 1, 11))],
        {"A"},
        now=NOW,
    )
    (result,) = search(client)
    assert next_at(result) == paris(2026, 12, 1, 9, 30)

    traveller.move_to(NOW + dt.timedelta(minutes=20))
    (result,) = search(client)
    assert (next_at(result), result["data_age_seconds"]) == (paris(2026, 12, 1, 9, 30), 20 * 60)

    traveller.move_to(NOW + dt.timedelta(minutes=40))
    (result,) = search(client)
    # 9:30 has passed: the answer is computed again, not served with a slot the citizen can no longer book.
    assert (next_at(result), result["slots_count"]) == (paris(2026, 12, 1, 11), 1)


def test_the_stale_flag_appears_when_its_time_comes_even_on_a_cached_answer(traveller, client, settings):
    settings.SEARCH_CACHE_SECONDS = 3600
    source = make_source(interval_minutes=5)
    followed(source, "A")
    ingest(source, [slot_data("A", paris(2026, 12, 9, 10))], {"A"}, now=NOW)
    assert not search(client)[0]["stale"]

    traveller.move_to(NOW + dt.timedelta(minutes=16))  # three intervals without a good run
    assert search(client)[0]["stale"]


def test_an_answer_is_kept_no_longer_than_search_cache_seconds(traveller, client, settings):
    """The bound on what a missed invalidation (Redis unreachable while a run committed) could show."""
    source = make_source(interval_minutes=60)
    town_hall = followed(source, "A")
    ingest(source, [slot_data("A", paris(2026, 12, 9, 10))], {"A"}, now=NOW)
    search(client)
    TownHall.objects.filter(pk=town_hall.pk).update(name="Hôtel de ville")  # no invalidation

    traveller.move_to(NOW + dt.timedelta(seconds=60))
    assert search(client)[0]["town_hall"]["name"] == "Mairie de Clichy"
    traveller.move_to(NOW + dt.timedelta(seconds=121))
    assert search(client)[0]["town_hall"]["name"] == "Hôtel de ville"


def test_an_admin_edit_shows_at_once(traveller, client, admin_client, django_capture_on_commit_callbacks):
    source = make_source()
    town_hall = followed(source, "A")
    ingest(source, [slot_data("A", paris(2026, 12, 3, 10))], {"A"}, now=NOW)
    search(client)

    url = reverse("admin:slots_townhall_change", args=[town_hall.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        name="Hôtel de ville de Clichy", active="on", online_booking="on", takes_cni="on", takes_passport="on"
    )
    data["locked_fields"] = []
    data.pop("commune", None)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, data)
    assert response.status_code == 302, response.content[:2000]

    assert search(client)[0]["town_hall"]["name"] == "Hôtel de ville de Clichy"


def test_the_api_answers_the_same_from_the_cache(traveller, client):
    source = make_source()
    followed(source, "A")
    ingest(source, [slot_data("A", paris(2026, 12, 3, 10))], {"A"}, now=NOW)
    params = {"lat": CLICHY[0], "lon": CLICHY[1], "radius_km": 20, "reason": "PASSPORT"}

    first = client.get("/api/v1/search", params).json()
    traveller.move_to(NOW + dt.timedelta(minutes=3))
    again = client.get("/api/v1/search", params).json()

    assert again["results"][0]["next_slot"] == first["results"][0]["next_slot"]
    assert again["results"][0]["data_age_seconds"] == first["results"][0]["data_age_seconds"] + 180


def page(client, **headers):
    response = client.get(
        "/recherche", {"lat": CLICHY[0], "lon": CLICHY[1], "rayon": 20, "motif": "passeport"}, **headers
    )
    assert response.status_code == 200
    return response.content.decode()


def test_a_kept_results_page_says_how_old_its_data_is_now(traveller, client, django_assert_num_queries):
    source = make_source()
    followed(source, "A")
    ingest(source, [slot_data("A", paris(2026, 12, 3, 10))], {"A"}, now=NOW)
    assert "vérifié à l’instant" in page(client)

    traveller.move_to(NOW + dt.timedelta(seconds=100))  # within SEARCH_CACHE_SECONDS
    # Neither the form, nor the geocoding, nor the page: the kept page with today's ages.
    with django_assert_num_queries(0):
        body = page(client)
    assert "vérifié il y a 1 min" in body
    assert "\x00" not in body


def test_a_results_page_follows_an_ingestion_and_keeps_fragment_and_language_apart(
    traveller, client, django_capture_on_commit_callbacks
):
    source = make_source()
    followed(source, "A")
    with django_capture_on_commit_callbacks(execute=True):
        ingest(source, [slot_data("A", paris(2026, 12, 3, 10))], {"A"}, now=NOW)
    assert "1 créneau libre" in page(client)
    fragment = page(client, HTTP_HX_REQUEST="true")
    assert "<html" not in fragment and "1 créneau libre" in fragment
    client.cookies["django_language"] = "en"
    assert "1 free slot" in page(client)
    del client.cookies["django_language"]

    with django_capture_on_commit_callbacks(execute=True):
        ingest(
            source,
            [slot_data("A", paris(2026, 12, 3, 10)), slot_data("A", paris(2026, 12, 3, 11))],
            {"A"},
            now=NOW,
        )
    assert "2 créneaux libres" in page(client)
