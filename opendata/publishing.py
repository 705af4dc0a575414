"""What our ANTS editor API publishes: the town halls marked as published, and their slots.

TownHall.published is None by default: a town hall is then published when a source follows it and none of
its sources is an ANTS editor (the national hub reads those editors itself: publishing them again would
show each slot twice there). An admin forces it on (True) or off (False).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from communes.france import PARIS
from scrapers.models import MeetingPoint
from slots.models import Slot, TownHall

ANTS_KIND = "ants"
# The hub reads `datetime` as Paris wall-clock time followed by a literal Z (docs/PUBLISHING.md).
ANTS_DATETIME_FORMAT = "%Y-%m-%dT%H:%MZ"


def published_town_halls() -> Iterable[TownHall]:
    followed_by_ants = MeetingPoint.objects.filter(town_hall=OuterRef("pk"), source__kind=ANTS_KIND)
    default = Q(published__isnull=True, online_booking=True) & ~Q(Exists(followed_by_ants))
    return TownHall.objects.active().filter(Q(published=True) | default)


def meeting_point_json(town_hall: TownHall) -> dict[str, object]:
    """A town hall as getManagedMeetingPoints lists it (needs select_related("commune"))."""
    point: dict[str, object] = {
        "id": str(town_hall.pk),
        "name": town_hall.name,
        "longitude": town_hall.lon,
        "latitude": town_hall.lat,
        "public_entry_address": town_hall.address,
        "zip_code": town_hall.postcode,
        "city_name": town_hall.commune.name if town_hall.commune else "",
    }
    if website := town_hall.contact_website:
        point["website"] = website
    return point


def ants_datetime(value: dt.datetime) -> str:
    return value.astimezone(PARIS).strftime(ANTS_DATETIME_FORMAT)


def available_time_slots(
    *,
    town_halls: list[TownHall],
    reason: str,
    documents_number: int,
    start_date: dt.date,
    end_date: dt.date,
    now: dt.datetime | None = None,
) -> dict[str, list[dict[str, str]]]:
    """Each town hall's upcoming slots between two Paris dates (end included), as availableTimeSlots answers.

    Two sources offering one start give it once. `callback_url` is the slot's booking link, else the town
    hall's default one.
    """
    start = dt.datetime.combine(start_date, dt.time(), tzinfo=PARIS)
    end = dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time(), tzinfo=PARIS)
    by_id = {town_hall.pk: town_hall for town_hall in town_halls}
    answer: dict[str, list[dict[str, str]]] = {str(pk): [] for pk in by_id}
    rows = (
        Slot.objects.upcoming(now or timezone.now())
        .for_reason(reason)
        .for_people(documents_number)
        .between(start, end)
        .filter(town_hall_id__in=list(by_id))
        .order_by("town_hall_id", "starts_at", "pk")
        .values_list("town_hall_id", "starts_at", "booking_url")
    )
    last: tuple[int, dt.datetime] | None = None
    for town_hall_id, starts_at, booking_url in rows.iterator(chunk_size=2000):
        if (town_hall_id, starts_at) == last:
            continue
        last = (town_hall_id, starts_at)
        callback = booking_url or by_id[town_hall_id].booking_url
        answer[str(town_hall_id)].append({"datetime": ants_datetime(starts_at), "callback_url": callback})
    return answer
