"""Search answers kept in the cache until the data they were computed from changes.

Many citizens search from the same place (the postcode or commune they typed, hence its town-hall point), so the
same search comes back again and again between two collections of its area. An answer (a results page, an API
body) is kept under a key made of the request (its query string, language, Paris date of today), with the area
it read and the generation numbers of that area: France is cut into cells of CELL_DEGREES; a successful
ingestion increments, once committed, the generation of each cell holding a town hall it collected, and any
other change to town halls or sources (the admin, merges, imports, a source's first run) the global generation.
A kept answer is served only while its area's generations are still the ones it was computed under: a hit costs
one read of the cache (two the first time a process serves it) and nothing else, neither the form nor the
geocoding nor the database.

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
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from communes.geo import bounding_box
from slots.horizon import HORIZON_CACHE_KEY
from slots.search import Availability, SearchResult

CELL_DEGREES = 0.5
GLOBAL_GENERATION = "search:generation"
_PREFIX = "search:v1:"


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / CELL_DEGREES), math.floor(lon / CELL_DEGREES)


def _cell_key(cell: tuple[int, int]) -> str:
    return f"search:generation:{cell[0]}:{cell[1]}"


def _cells_around(*, lat: float, lon: float, radius_km: float) -> list[tuple[int, int]]:
    box = bounding_box(lat=lat, lon=lon, radius_km=radius_km)
    low, high = _cell(box.min_lat, box.min_lon), _cell(box.max_lat, box.max_lon)
    return [(i, j) for i in range(low[0], high[0] + 1) for j in range(low[1], high[1] + 1)]


@dataclass(frozen=True)
class Area:
    """Where an answer's data comes from: the town halls within `radius_km` of (lat, lon)."""

    lat: float
    lon: float
    radius_km: float

    def generation_keys(self) -> list[str]:
        cells = _cells_around(lat=self.lat, lon=self.lon, radius_km=self.radius_km)
        return [GLOBAL_GENERATION, *(_cell_key(cell) for cell in cells)]


def search_cache_key(*, kind: str, parameters: tuple, now: dt.datetime) -> str | None:
    """The key of an answer to a request (`parameters`: all it depends on), or None with the cache off."""
    if settings.SEARCH_CACHE_SECONDS <= 0:
        return None
    described = repr((kind, parameters, timezone.localdate(now)))
    return _PREFIX + hashlib.blake2b(described.encode(), digest_size=16).hexdigest()


# Per process: the generation keys of the answers this process kept or served, so that asking again reads the
# answer and its area's generations in one round trip instead of two. A key's area does not change (the same
# request on the same day), and search_cache_get checks it anyway. Bounded: forgotten all at once when full.
_GENERATION_KEYS_KNOWN = 10_000
_generation_keys_of: dict[str, list[str]] = {}


def _generation_keys_remember(key: str, keys: list[str]) -> None:
    if len(_generation_keys_of) >= _GENERATION_KEYS_KNOWN:
        _generation_keys_of.clear()
    _generation_keys_of[key] = keys


def search_cache_get(key: str | None, *, now: dt.datetime) -> Any:
    """The answer kept under `key`, if its area's generations are still those it was computed under and its
    time has not come; else None. One round trip to the cache when this process knows the answer's area, two
    otherwise; none to the database."""
    if key is None:
        return None
    known = _generation_keys_of.get(key)
    found = cache.get_many([key, *known]) if known else {}
    entry = found.get(key) if known else cache.get(key)
    if entry is None:
        return None
    area, generations, until, value = entry
    if now >= until:
        return None
    keys = area.generation_keys()
    if keys != known:
        _generation_keys_remember(key, keys)
        found = cache.get_many(keys)
    if tuple(found.get(name, 0) for name in keys) != generations:
        return None
    return value


def search_generations(key: str | None, area: Area) -> tuple[int, ...] | None:
    """The current generations of `area`, to read before computing an answer to keep (None: do not keep it).

    Read before the database: an ingestion committed after this read bumps past it, so that an answer is never
    kept under generations newer than the data it saw.
    """
    if key is None:
        return None
    keys = area.generation_keys()
    found = cache.get_many(keys)
    if GLOBAL_GENERATION not in found:
        # Never set, or the cache is unavailable (an empty answer, and then adding fails too).
        if not cache.add(GLOBAL_GENERATION, 1, timeout=None):
            return None
        found[GLOBAL_GENERATION] = 1
    return tuple(found.get(name, 0) for name in keys)


def search_cache_put(
    key: str | None,
    *,
    area: Area,
    generations: tuple[int, ...] | None,
    value: Any,
    valid_until: dt.datetime,
    now: dt.datetime,
) -> None:
    """Keep `value` until `valid_until` (when it could turn wrong without any write) or SEARCH_CACHE_SECONDS."""
    if key is None or generations is None:
        return
    until = min(valid_until, now + dt.timedelta(seconds=settings.SEARCH_CACHE_SECONDS))
    if until > now:
        cache.set(key, (area, generations, until, value), timeout=math.ceil((until - now).total_seconds()))
        _generation_keys_remember(key, area.generation_keys())


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


# A data age in a kept answer: the collection's time between NUL characters, which no data can hold (PostgreSQL
# refuses them, the ingestion drops them); JSON writes them \u0000. Each answer replaces the markers by the age
# as of its own time ("vérifié il y a …" on pages, a number of seconds in the API).
AGE_MARKER = re.compile("\x00age:(\\d+)\x00")
AGE_MARKER_JSON = re.compile(r'"\\u0000age:(\d+)\\u0000"')


def age_marker(checked_at: dt.datetime | None) -> str | None:
    """The marker standing for the age of data collected at `checked_at` (None when never collected)."""
    return None if checked_at is None else f"\x00age:{int(checked_at.timestamp())}\x00"


def marked_age(match: re.Match[str], *, now: dt.datetime) -> dt.timedelta:
    """The age a marker found by AGE_MARKER or AGE_MARKER_JSON stands for, as of `now`."""
    return max(now - dt.datetime.fromtimestamp(int(match.group(1)), tz=dt.UTC), dt.timedelta(0))


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
