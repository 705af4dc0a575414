"""Template context the demo provides to every page: its banner (shown in templates/base.html)."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest

from slots.models import Slot

# The cached answer; setup_demo (demo/services.py) forgets it so the banner follows at once.
DEMO_BANNER_CACHE_KEY = "scrapers:demo-banner"
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
