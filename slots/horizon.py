"""What the sources being scraped let us know: how far ahead slots are known, and whether the first
collection is still under way.

Searches, the date picker and the pages never promise more than the horizon: a window past it would list
every town hall as "no slot" when nobody looked. While a source has not finished its first run, an empty
page means "not collected yet", not "no town hall".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Max, QuerySet

from slots.models import Slot

# The national hub's window (rendezvouspasseport.ants.gouv.fr asks editors about 150 days ahead): a source's
# default, and the horizon when no source is active.
DEFAULT_HORIZON_DAYS = 150
MAX_HORIZON_DAYS = 366


def _active_sources() -> QuerySet[Any]:
    # By the model's name, not an import: slots sits below scrapers (as Slot.source does).
    source_model = Slot._meta.get_field("source").related_model
    return source_model.objects.filter(enabled=True, paused=False)


def horizon_days() -> int:
    """The furthest horizon, in days, among enabled and unpaused sources; DEFAULT_HORIZON_DAYS without any."""
    furthest = _active_sources().aggregate(days=Max("horizon_days"))
    return furthest["days"] or DEFAULT_HORIZON_DAYS


def collection_in_progress() -> bool:
    """Whether an active source has not finished its first run yet (its town halls may still come)."""
    return _active_sources().filter(last_run_at__isnull=True).exists()


def horizon_date(today: dt.date) -> dt.date:
    """The last Paris date whose slots are collected, seen from `today`."""
    return today + dt.timedelta(days=horizon_days())
