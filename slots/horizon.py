"""How far ahead slots are known: the furthest horizon among the sources being scraped.

Searches, the date picker and the pages never promise more than that: a window past it would list every
town hall as "no slot" when nobody looked.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Max

from slots.models import Slot

# The national hub's window (rendezvouspasseport.ants.gouv.fr asks editors about 150 days ahead): a source's
# default, and the horizon when no source is active.
DEFAULT_HORIZON_DAYS = 150
MAX_HORIZON_DAYS = 366


def horizon_days() -> int:
    """The furthest horizon, in days, among enabled and unpaused sources; DEFAULT_HORIZON_DAYS without any."""
    # By the model's name, not an import: slots sits below scrapers (as Slot.source does).
    source_model = Slot._meta.get_field("source").related_model
    furthest = source_model.objects.filter(enabled=True, paused=False).aggregate(days=Max("horizon_days"))
    return furthest["days"] or DEFAULT_HORIZON_DAYS


def horizon_date(today: dt.date) -> dt.date:
    """The last Paris date whose slots are collected, seen from `today`."""
    return today + dt.timedelta(days=horizon_days())
