"""Builders for the alerts tests."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from alerts.models import Alert, AlertCell
from alerts.services import email_key
from slots.models import Reason
from slots.tests.factories import make_commune, make_slot, make_town_hall, paris

__all__ = ["make_alert", "make_commune", "make_slot", "make_town_hall", "paris"]


def make_alert(**overrides: Any) -> Alert:
    """An active alert around Clichy (20 km, passport), confirmed an hour before `confirmed_at` or now."""
    address = overrides.pop("email", "camille@example.org")
    now = timezone.now()
    defaults: dict[str, Any] = {
        "email": address,
        "email_key": email_key(address),
        "state": Alert.State.ACTIVE,
        "place": "Clichy",
        "query": "Clichy",
        "insee": "92024",
        "lat": 48.9028,
        "lon": 2.3048,
        "radius_km": 20,
        "reason": Reason.PASSPORT,
        "people": 1,
        "created_at": now,
        "confirmed_at": now,
        "seen_until": now,
    }
    defaults.update(overrides)
    alert = Alert(**defaults)
    alert.set_area()
    alert.save()
    AlertCell.objects.bulk_create([AlertCell(alert=alert, cell=cell) for cell in alert.cells()])
    return alert
