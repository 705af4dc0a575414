"""Small builders for the rows the slots tests need; reference data is made by hand, never imported."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from communes.models import Commune, Department, PostalCode
from communes.services import normalize_search_text
from slots.models import Reason, Slot, TownHall

_sequence = itertools.count(1)

PARIS = timezone.get_default_timezone()


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """An aware datetime given in Paris wall-clock time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS)


def make_department(code: str = "92", **overrides: Any) -> Department:
    defaults: dict[str, Any] = {"name": f"Département {code}", "region": "Île-de-France"}
    defaults.update(overrides)
    department, _ = Department.objects.get_or_create(code=code, defaults=defaults)
    return department


def make_commune(
    insee: str | None = None,
    *,
    name: str | None = None,
    postcodes: tuple[str, ...] = (),
    department: Department | str = "92",
    **overrides: Any,
) -> Commune:
    n = next(_sequence)
    insee = insee or f"9{n:04d}"
    name = name or f"Commune {n}"
    if not isinstance(department, Department):
        department = make_department(department)
    defaults: dict[str, Any] = {
        "insee": insee,
        "name": name,
        "search_name": normalize_search_text(name),
        "department": department,
        "population": 10_000,
        "lat": 48.9,
        "lon": 2.3,
        "location_source": Commune.LocationSource.TOWN_HALL,
    }
    defaults.update(overrides)
    commune = Commune.objects.create(**defaults)
    for code in postcodes:
        postal_code, _ = PostalCode.objects.get_or_create(code=code)
        postal_code.communes.add(commune)
    return commune


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
    defaults: dict[str, Any] = {
        "reason": Reason.PASSPORT,
        "booking_url": f"https://rdv.example.fr/{town_hall.pk}/{starts_at:%Y%m%d%H%M}",
    }
    defaults.update(overrides)
    return Slot.objects.create(town_hall=town_hall, starts_at=starts_at, **defaults)
