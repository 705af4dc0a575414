"""The demo as a booking source: register the local demo server as a Source, or remove it and its slots."""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

from demo.context_processors import DEMO_BANNER_CACHE_KEY
from demo.server import DEMO_AUTH_HEADER, DEMO_PORT, DEMO_TOKEN
from scrapers.models import Source
from slots.models import Slot, TownHall
from slots.search_cache import search_cache_invalidate
from slots.summary import slots_changed

DEMO_SOURCE_NAME = "Demo booking server (local, generated slots)"


def demo_base_url(port: int = DEMO_PORT) -> str:
    return f"http://127.0.0.1:{port}"


@transaction.atomic
def demo_source_setup(*, base_url: str | None = None) -> Source:
    """Register the demo Source, or reset the settings the demo relies on. Safe to run again.

    An existing demo source keeps its row, meeting points, schedule and pause.
    """
    source = Source.objects.filter(is_demo=True).order_by("pk").first()
    if source is None:
        # next_run_at stays empty: due at once, a worker dispatches it as soon as it starts (scrapers.tasks).
        source = Source(is_demo=True)
    source.name = DEMO_SOURCE_NAME
    source.kind = "ants"
    source.base_url = base_url or demo_base_url()
    source.auth_header = DEMO_AUTH_HEADER
    source.token = DEMO_TOKEN
    source.enabled = True  # an operator may still pause it: that choice is kept
    source.interval_minutes = 1
    source.max_documents = 3
    source.save()
    cache.delete(DEMO_BANNER_CACHE_KEY)
    return source


@transaction.atomic
def demo_source_remove() -> int:
    """Delete every demo Source and the slots only they provided; the number of slots deleted.

    The town halls are real and stay, shown again as without online booking unless another source
    serves them.
    """
    cache.delete(DEMO_BANNER_CACHE_KEY)
    sources = list(Source.objects.filter(is_demo=True))
    if not sources:
        return 0
    town_hall_ids = set(
        TownHall.objects.filter(meeting_points__source__in=sources).values_list("pk", flat=True)
    )
    served_elsewhere = set(
        TownHall.objects.filter(pk__in=town_hall_ids, meeting_points__source__is_demo=False).values_list(
            "pk", flat=True
        )
    )
    only_demo = town_hall_ids - served_elsewhere
    # The demo's slots only: another source's slots of a town hall both follow stay.
    deleted, _ = Slot.objects.filter(source__in=sources).delete()
    slots_changed(town_hall_ids=town_hall_ids)
    search_cache_invalidate()
    TownHall.objects.filter(pk__in=only_demo).update(online_booking=False, checked_at=None, stale_at=None)
    Source.objects.filter(pk__in=[s.pk for s in sources]).delete()
    return deleted
