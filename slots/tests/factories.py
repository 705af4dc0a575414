"""Small builders for the rows the slots tests need; reference data is made by hand, never imported."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from communes.france import PARIS
from communes.tests.factories import make_commune, make_department
from slots.models import Reason, Slot, TownHall

__all__ = ["make_commune", "make_department", "make_slot", "make_town_hall", "paris"]

_sequence = itertools.count(1)


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """An aware datetime given in Paris wall-clock time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS)


def make_town_hall(**overrides: Any) -> TownHall:
    n = next(_sequence)
    defaults: dict[str, Any] = {
        "name": f"Mairie {n}",
        "address": f"{n} rue de la Mairie",
        "postcode": "92110",
        "lat": 48.9028,
        "lon": 2.3048,
        "phone": "01 23 45 67 89",
        "website": f"https://mairie{n}.example.fr/",
        "booking_url": f"https://rdv.example.fr/mairie{n}/",
        "online_booking": True,
        "active": True,
    }
    defaults.update(overrides)
    return TownHall.objects.create(**defaults)


def make_slot(town_hall: TownHall, starts_at: dt.datetime, **overrides: Any) -> Slot:
    """A slot of `source` (default: the source following the town hall, else a test source)."""
    defaults: dict[str, Any] = {
        "reason": Reason.PASSPORT,
        "booking_url": f"https://rdv.example.fr/{town_hall.pk}/{starts_at:%Y%m%d%H%M}",
    }
    defaults.update(overrides)
    if "source" not in defaults and "source_id" not in defaults:
        defaults["source"] = _source_of(town_hall)
    return Slot.objects.create(town_hall=town_hall, starts_at=starts_at, **defaults)


def _source_of(town_hall: TownHall) -> Any:
    # Through the model's relations, not an import: slots sits below scrapers.
    meeting_point = town_hall.meeting_points.select_related("source").order_by("pk").first()
    if meeting_point is not None:
        return meeting_point.source
    source_model = Slot._meta.get_field("source").related_model
    # A source that has run already: pages tell "collection in progress" only for one that never did.
    source, _ = source_model.objects.get_or_create(
        name="Source des tests",
        defaults={
            "kind": "csv",
            "base_url": "https://donnees.example/creneaux.csv",
            "last_run_at": timezone.now(),
        },
    )
    return source
