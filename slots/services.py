"""Changes to town halls that span several rows: merging two town halls an admin found to be one place."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Exists, OuterRef

from slots.models import Slot, TownHall
from slots.search_cache import search_cache_invalidate
from slots.summary import slots_changed

_FILLED_FROM_OTHERS = (
    "address",
    "postcode",
    "phone",
    "email",
    "website",
    "booking_url",
    "booking",
    "lat",
    "lon",
    "commune_id",
)


@transaction.atomic
def town_halls_merge(*, keep: TownHall, others: list[TownHall]) -> TownHall:
    """Make `others` one town hall with `keep`: their meeting points and slots move to it, then they go.

    Nothing the admins or the sources gave is lost: a field an admin corrected on another town hall (and not
    on `keep`) is taken with its lock, an empty field of `keep` is filled from the others, and a slot that
    the same source offers at both (same start and reason) is kept once.
    """
    keep = TownHall.objects.select_for_update().get(pk=keep.pk)
    locked = set(keep.locked_fields or ())
    for other in (
        TownHall.objects.select_for_update().filter(pk__in=[o.pk for o in others]).exclude(pk=keep.pk)
    ):
        for name in other.locked_fields or ():
            if name in TownHall.LOCKABLE_FIELDS and name not in locked:
                setattr(keep, name, getattr(other, name))
                locked.add(name)
        if other.location_locked and not keep.location_locked:
            keep.lat, keep.lon, keep.location_locked = other.lat, other.lon, True
        for name in _FILLED_FROM_OTHERS:
            if getattr(keep, name) in ("", None) and getattr(other, name) not in ("", None):
                setattr(keep, name, getattr(other, name))
        keep.online_booking = keep.online_booking or other.online_booking
        keep.checked_at = max(filter(None, (keep.checked_at, other.checked_at)), default=None)
        keep.stale_at = max(filter(None, (keep.stale_at, other.stale_at)), default=None)

        same_at_keep = Slot.objects.filter(
            town_hall=keep,
            source=OuterRef("source"),
            starts_at=OuterRef("starts_at"),
            reason=OuterRef("reason"),
        )
        other.slots.filter(Exists(same_at_keep)).delete()
        other.slots.update(town_hall=keep)
        # Through the reverse relation: meeting points are the scrapers' (above this app).
        other.meeting_points.update(town_hall=keep)
        other.delete()
    keep.locked_fields = [name for name in TownHall.LOCKABLE_FIELDS if name in locked]
    keep.save()
    slots_changed(town_hall_ids=[keep.pk])
    search_cache_invalidate()
    return keep
