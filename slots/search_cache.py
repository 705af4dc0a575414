"""Search answers kept in the cache until the data they were computed from changes.

Many citizens search from the same place (the postcode or commune they typed, hence its town-hall point), so the
same search comes back again and again between two collections of its area. An answer is kept under a key made
of the search's parameters (the origin rounded to about 10 m, the Paris date of today) and of the generation
numbers of the areas its bounding box touches: France is cut into cells of CELL_DEGREES; a successful ingestion
increments, once committed, the generation of each cell holding a town hall it collected, and any other change
to town halls or sources (the admin, merges, imports) the global generation. An answer is kept with the
generations it was computed under, and served only while they are still the current ones.

An answer is never served past the moment it could be wrong without any write: the start of its earliest slot
(which would then be in the past) or a town hall's `stale_at` (its "données anciennes" flag), nor past
SEARCH_CACHE_SECONDS, which bounds what a missed invalidation (Redis unreachable while a run committed) could
show. The data age ("vérifié il y a …") and the stale flags are computed again at every answer from the cached
town halls' `checked_at` and `stale_at`: a cached answer states its true age.

The cache fails open (rdvpasseport.cache): without Redis every search is computed, as without this module.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from communes.geo import bounding_box
from slots.horizon import HORIZON_CACHE_KEY
from slots.search import Availability, SearchResult

logger = logging.getLogger(__name__)

CELL_DEGREES = 0.5
GLOBAL_GENERATION = "search:generation"
_PREFIX = "search:v1:"

T = TypeVar("T")


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / CELL_DEGREES), math.floor(lon / CELL_DEGREES)


def _cell_key(cell: tuple[int, int]) -> str:
    return f"search:generation:{cell[0]}:{cell[1]}"


def _cells_around(*, lat: float, lon: float, radius_km: float) -> list[tuple[int, int]]:
    box = bounding_box(lat=lat, lon=lon, radius_km=radius_km)
    low, high = _cell(box.min_lat, box.min_lon), _cell(box.max_lat, box.max_lon)
    return [(i, j) for i in range(low[0], high[0] + 1) for j in range(low[1], high[1] + 1)]


def search_cached(
    *,
    kind: str,
    parameters: tuple,
    lat: float,
    lon: float,
    radius_km: float,
    now: dt.datetime,
    compute: Callable[[], tuple[T, dt.datetime]],
) -> T:
    """What `compute` answers, from the cache while the data within `radius_km` of (lat, lon) is unchanged.

    `compute` returns its answer and the moment it could become wrong without any write (its earliest slot's
    start, a stale_at to come). `parameters` holds everything else the answer depends on. One round trip to
    the cache reads the kept answer, the generations it was computed under, and the current ones.
    """
    seconds = settings.SEARCH_CACHE_SECONDS
    if seconds <= 0:
        return compute()[0]
    described = repr((kind, round(lat, 4), round(lon, 4), parameters, timezone.localdate(now)))
    key = _PREFIX + hashlib.blake2b(described.encode(), digest_size=16).hexdigest()
    cells = _cells_around(lat=lat, lon=lon, radius_km=radius_km)
    generation_keys = [GLOBAL_GENERATION, *(_cell_key(cell) for cell in cells)]
    # Read before the database: an ingestion committed after this read bumps past it, so that what is
    # computed below is never stored under generations newer than the data it saw.
    found = cache.get_many([key, *generation_keys])
    if GLOBAL_GENERATION not in found:
        # Never set, or the cache is unavailable (an empty answer, and then adding fails too).
        if not cache.add(GLOBAL_GENERATION, 1, timeout=None):
            return compute()[0]
        found[GLOBAL_GENERATION] = 1
    generations = tuple(int(found.get(name, 0)) for name in generation_keys)
    entry = found.get(key)
    if entry is not None and entry[0] == generations and now < entry[1]:
        return entry[2]
    value, valid_until = compute()
    until = min(valid_until, now + dt.timedelta(seconds=seconds))
    if until > now:
        cache.set(key, (generations, until, value), timeout=math.ceil((until - now).total_seconds()))
    return value


NEVER = dt.datetime.max.replace(tzinfo=dt.UTC)


def results_valid_until(results: list[SearchResult], *, now: dt.datetime) -> dt.datetime:
    """When these results could turn wrong without any write: a slot starting, a town hall turning stale."""
    moments = [result.next_slot.starts_at for result in results if result.next_slot is not None]
    moments += [
        result.town_hall.stale_at
        for result in results
        if result.town_hall.stale_at is not None and result.town_hall.stale_at > now
    ]
    return min(moments, default=NEVER)


def availability_valid_until(availability: Availability) -> dt.datetime:
    """When counts of wider searches could turn wrong without any write: a first slot starting."""
    return min((first for _, first in availability.first_slots), default=NEVER)


def search_cache_bump(*, points: Iterable[tuple[float | None, float | None]]) -> None:
    """Once the current transaction commits, make the cached searches around these points obsolete."""
    cells = {_cell(lat, lon) for lat, lon in points if lat is not None and lon is not None}
    if cells:
        transaction.on_commit(lambda: _increment([_cell_key(cell) for cell in sorted(cells)]))


def search_cache_invalidate() -> None:
    """Once the current transaction commits, make every cached search obsolete (town halls or sources edited)."""
    transaction.on_commit(lambda: _increment([GLOBAL_GENERATION]))


def _increment(keys: list[str]) -> None:
    if GLOBAL_GENERATION in keys:
        cache.delete(HORIZON_CACHE_KEY)
    for key in keys:
        try:
            cache.incr(key)
        except ValueError:
            # Never bumped (or the cache is unavailable, then this is dropped too): start it past 0.
            cache.set(key, 1, timeout=None)
