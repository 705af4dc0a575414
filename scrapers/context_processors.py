"""Template context the scrapers provide to every page."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest

from scrapers.demo import DEMO_BANNER_CACHE_KEY
from slots.models import Slot

BANNER_CACHE_SECONDS = 30


def demo_banner(request: HttpRequest) -> dict[str, bool]:
    """{"demo_banner": True} while the search may show demo slots (an enabled demo source has slots).

    The answer is cached for half a minute so pages pay one cache read, not a query.
    """
    shown = cache.get(DEMO_BANNER_CACHE_KEY)
    if shown is None:
        shown = (
            Slot.objects.upcoming()
            .filter(
                town_hall__meeting_points__source__is_demo=True,
                town_hall__meeting_points__source__enabled=True,
            )
            .exists()
        )
        cache.set(DEMO_BANNER_CACHE_KEY, shown, BANNER_CACHE_SECONDS)
    return {"demo_banner": shown}
