"""The slots of the demo booking server: which real town halls it serves, and their generated calendars.

Town halls come from the commune data (the most populous communes with a town-hall point, spread over the
imported departments); their slots are generated, deterministic for a town hall and a five-minute time
bucket: some days are full, some town halls are booked out for weeks, and a few slots appear or disappear
from one bucket to the next.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import random
import re
from collections.abc import Iterable
from typing import Any

import holidays

from communes.france import ILE_DE_FRANCE, PARIS, RHONE_ALPES
from communes.models import Commune
from communes.names import with_preposition

# Where the demo town halls come from: (department codes, how many), filled in this order.
DEMO_SHARES: tuple[tuple[tuple[str, ...], int], ...] = ((ILE_DE_FRANCE, 30), (RHONE_ALPES, 20))

BUCKET_SECONDS = 300
_RUN_STICKINESS = 0.7  # chance that a slot is in the same state as the one before
_MAX_CELLS_PER_DAY = 32  # 08:00-12:00 and 13:30-17:30 in quarters of an hour
_POSTCODE = re.compile(r"\b(\d{5})\b")
_ARRONDISSEMENT = re.compile(r"^(?P<city>Paris|Lyon|Marseille) (?P<number>\d+(?:er|e)) Arrondissement$")


# --- Town halls ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DemoTownHall:
    """One meeting point of the demo, as `getManagedMeetingPoints` lists it."""

    id: str
    name: str
    longitude: float
    latitude: float
    public_entry_address: str
    zip_code: str
    city_name: str
    website: str = ""

    def as_ants(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "longitude": self.longitude,
            "latitude": self.latitude,
            "public_entry_address": self.public_entry_address,
            "zip_code": self.zip_code,
            "city_name": self.city_name,
        }
        if self.website:
            data["website"] = self.website
        return data


def demo_town_hall_from_commune(commune: Commune) -> DemoTownHall:
    # The directory writes "11 boulevard Jean-Pain\n38000 Grenoble": editors repeat the postcode in the
    # address too, so the address keeps it, on one line.
    address = ", ".join(part.strip() for part in commune.town_hall_address.splitlines() if part.strip())
    codes = sorted(pc.code for pc in commune.postal_codes.all())
    match = _POSTCODE.search(commune.town_hall_address)
    address_code = match.group(1) if match else ""
    # A CEDEX code in the address is no postcode of the commune: editors give the ordinary one.
    usable = address_code in codes or (address_code and not codes)
    zip_code = address_code if usable else (codes[0] if codes else "")
    arrondissement = _ARRONDISSEMENT.match(commune.name)
    return DemoTownHall(
        id=commune.insee,
        name=town_hall_name(commune.name, commune.insee),
        longitude=round(float(commune.lon), 6),
        latitude=round(float(commune.lat), 6),
        public_entry_address=address,
        zip_code=zip_code,
        # Upper case, as many editors write it; "PARIS" for an arrondissement, as the City of Paris does.
        city_name=(arrondissement.group("city") if arrondissement else commune.name).upper(),
        website=commune.website,
    )


def town_hall_name(commune_name: str, insee: str | None = None) -> str:
    """'Mairie de Grenoble', 'Mairie d’Argenteuil', 'Mairie du Plessis-Robinson', 'Mairie des Mureaux',
    'Mairie du 15e arrondissement de Paris'."""
    arrondissement = _ARRONDISSEMENT.match(commune_name)
    if arrondissement:
        return f"Mairie du {arrondissement.group('number')} arrondissement de {arrondissement.group('city')}"
    return f"Mairie {with_preposition(commune_name, 'de', insee=insee)}"


def demo_town_halls_select(
    *, shares: Iterable[tuple[Iterable[str], int]] = DEMO_SHARES
) -> list[DemoTownHall]:
    """Real town halls for the demo, chosen deterministically from the imported communes.

    For each group of departments, the most populous communes having a town-hall point and an address,
    taken in turns from each department so the demo covers the whole area (Paris does not take all thirty
    places of Île-de-France). A group short of communes leaves its places to the other groups.
    """
    candidates = (
        Commune.objects.located()
        .filter(location_source=Commune.LocationSource.TOWN_HALL)
        .exclude(town_hall_address="")
        .prefetch_related("postal_codes")
        .order_by("-population", "insee")
    )
    by_department: dict[str, list[Commune]] = {}
    for commune in candidates:
        by_department.setdefault(commune.department_id, []).append(commune)

    chosen: list[Commune] = []
    shortfall = 0
    share_list = [(tuple(codes), count) for codes, count in shares]
    for codes, count in share_list:
        picked = _round_robin([by_department.get(code, []) for code in sorted(codes)], count)
        shortfall += count - len(picked)
        chosen.extend(picked)
    if shortfall:
        taken = {c.insee for c in chosen}
        rest = [c for c in candidates if c.insee not in taken]
        chosen.extend(rest[:shortfall])
    return [demo_town_hall_from_commune(commune) for commune in chosen]


def _round_robin(queues: list[list[Commune]], count: int) -> list[Commune]:
    picked: list[Commune] = []
    depth = 0
    while len(picked) < count and any(depth < len(q) for q in queues):
        for queue in queues:
            if depth < len(queue) and len(picked) < count:
                picked.append(queue[depth])
        depth += 1
    return picked


# --- Generated slots -----------------------------------------------------------------------------------


# Town halls are closed on public holidays (1 May, 14 July, Easter Monday...); the calendar fills in by year.
FRENCH_HOLIDAYS = holidays.country_holidays("FR")


@dataclasses.dataclass(frozen=True)
class Profile:
    """How busy one demo town hall is; drawn once from its id."""

    slot_minutes: int
    booked_out_days: int  # nothing free before today + this
    horizon_days: int  # the calendar is open up to today + this
    free_ratio: float  # share of free slots on an open day
    full_day_ratio: float  # share of working days without any free slot
    saturday: bool
    periods: tuple[tuple[dt.time, dt.time], ...]


@functools.lru_cache(maxsize=4096)
def town_hall_profile(meeting_point_id: str) -> Profile:
    rng = random.Random(f"profile:{meeting_point_id}")
    kind = rng.random()
    if kind < 0.45:
        booked_out = rng.randint(0, 3)
    elif kind < 0.75:
        booked_out = rng.randint(7, 20)
    else:
        booked_out = rng.randint(28, 60)  # booked out for weeks
    morning = (dt.time(rng.choice([8, 9]), rng.choice([0, 30])), dt.time(12, 0))
    afternoon = (dt.time(13, 30) if rng.random() < 0.5 else dt.time(14, 0), dt.time(rng.choice([16, 17]), 30))
    return Profile(
        slot_minutes=rng.choice([15, 20, 30]),
        booked_out_days=booked_out,
        horizon_days=rng.randint(60, 90),
        free_ratio=rng.uniform(0.08, 0.4),
        full_day_ratio=rng.uniform(0.1, 0.4),
        saturday=rng.random() < 0.4,
        periods=(morning, afternoon),
    )


def _period_times(day: dt.date, start: dt.time, end: dt.time, minutes: int) -> list[dt.datetime]:
    current = dt.datetime.combine(day, start)
    stop = dt.datetime.combine(day, end)
    times = []
    while current + dt.timedelta(minutes=minutes) <= stop:
        times.append(current)
        current += dt.timedelta(minutes=minutes)
    return times


@functools.lru_cache(maxsize=65536)
def _base_day(meeting_point_id: str, day: dt.date) -> tuple[tuple[tuple[dt.datetime, bool], ...], ...]:
    """The slot grid of one day (Paris wall clock) before this bucket's changes: per period, (time, free)."""
    profile = town_hall_profile(meeting_point_id)
    weekday = day.weekday()
    if weekday == 6 or (weekday == 5 and not profile.saturday) or day in FRENCH_HOLIDAYS:
        return ()
    rng = random.Random(f"day:{meeting_point_id}:{day.isoformat()}")
    full = rng.random() < profile.full_day_ratio
    periods = profile.periods[:1] if weekday == 5 else profile.periods
    grid = []
    for start, end in periods:
        cells = []
        free = rng.random() < profile.free_ratio
        for at in _period_times(day, start, end, profile.slot_minutes):
            # Free slots come in runs (a cancelled afternoon, an extra agent), as families need them.
            if rng.random() >= _RUN_STICKINESS:
                free = rng.random() < profile.free_ratio
            cells.append((at, free and not full))
        grid.append(tuple(cells))
    return tuple(grid)


def _bucket_changes(meeting_point_id: str, bucket: int, today: dt.date) -> set[tuple[dt.date, int]]:
    """The few (day, slot index) cells whose state flips during this bucket: bookings and cancellations."""
    profile = town_hall_profile(meeting_point_id)
    rng = random.Random(f"bucket:{meeting_point_id}:{bucket}")
    first = profile.booked_out_days
    changes = set()
    for _ in range(rng.randint(3, 8)):
        day = today + dt.timedelta(days=rng.randint(first, profile.horizon_days))
        changes.add((day, rng.randrange(_MAX_CELLS_PER_DAY)))
    return changes


def time_bucket(now: dt.datetime) -> int:
    return int(now.timestamp()) // BUCKET_SECONDS


def demo_free_slots(
    meeting_point_id: str,
    *,
    start: dt.date,
    end: dt.date,
    reason: str,
    documents_number: int,
    now: dt.datetime,
) -> list[dt.datetime]:
    """Free slot start times (naive Paris wall clock) of one town hall, from start to end included.

    A slot for several people needs as many consecutive free slots (a family books one per person);
    an identity card and a passport at once take two per person.
    """
    profile = town_hall_profile(meeting_point_id)
    local_now = now.astimezone(PARIS).replace(tzinfo=None)
    today = local_now.date()
    first = max(start, today + dt.timedelta(days=profile.booked_out_days))
    last = min(end, today + dt.timedelta(days=profile.horizon_days))
    changes = _bucket_changes(meeting_point_id, time_bucket(now), today)
    needed = documents_number * (2 if reason == "CNI-PASSPORT" else 1)
    found: list[dt.datetime] = []
    day = first
    while day <= last:
        index = 0
        for period in _base_day(meeting_point_id, day):
            cells = []
            for at, free in period:
                cells.append((at, not free if (day, index) in changes else free))
                index += 1
            for i in range(len(cells) - needed + 1):
                at = cells[i][0]
                if at > local_now and all(cells[j][1] for j in range(i, i + needed)):
                    found.append(at)
        day += dt.timedelta(days=1)
    return found
