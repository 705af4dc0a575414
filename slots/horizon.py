"""What the sources being scraped let us know: how far ahead slots are known, and whether the first
collection is still under way.

Searches, the date picker and the pages never promise more than the horizon: a window past it would list
every town hall as "no slot" when nobody looked. While a source has not finished its first run, an empty
page means "not collected yet", not "no town hall".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max, QuerySet

from slots.models import Slot

# The national hub's window (rendezvouspasseport.ants.gouv.fr asks editors about 150 days ahead): a source's
# default, and the horizon when no source is active.
DEFAULT_HORIZON_DAYS = 150
HORIZON_CACHE_KEY = "search:horizon-days"
HORIZON_CACHE_SECONDS = 30
MAX_HORIZON_DAYS = 366


def _active_sources() -> QuerySet[Any]:
    # By the model's name, not an import: slots sits below scrapers (as Slot.source does).
    source_model = Slot._meta.get_field("source").related_model
    return source_model.objects.filter(enabled=True, paused=False)


def horizon_days() -> int:
    """The furthest horizon, in days, among enabled and unpaused sources; DEFAULT_HORIZON_DAYS without any.

    Every search form asks it: with the search cache on, the answer is kept HORIZON_CACHE_SECONDS (an admin's
    edit of a source drops it at once, slots.search_cache.search_cache_invalidate).
    """
    keep = min(HORIZON_CACHE_SECONDS, settings.SEARCH_CACHE_SECONDS)
    if keep > 0 and (days := cache.get(HORIZON_CACHE_KEY)) is not None:
        return days
    furthest = _active_sources().aggregate(days=Max("horizon_days"))
    days = furthest["days"] or DEFAULT_HORIZON_DAYS
    if keep > 0:
        cache.set(HORIZON_CACHE_KEY, days, timeout=keep)
    return days


def collection_in_progress() -> bool:
    """Whether an active source has not finished its first run yet (its town halls may still come)."""
    return _active_sources().filter(last_run_at__isnull=True).exists()


def horizon_date(today: dt.date) -> dt.date:
    """The last Paris date whose slots are collected, seen from `today`."""
    return today + dt.timedelta(days=horizon_days())
