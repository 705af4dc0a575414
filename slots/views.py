"""Citizen pages: the home page with its search form, the ranked results, the autocomplete and "À propos"."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from communes.geocoding import (
    GeocodeResult,
    GeocodingError,
    Place,
    commune_point,
    commune_suggestions,
    geocode,
    out_of_scope_suggestions,
)
from communes.models import Commune
from communes.names import normalize_search_text
from slots.forms import RADIUS_CHOICES, SearchForm, add_months, first_error, paris_today
from slots.horizon import collection_in_progress
from slots.phones import tel_href
from slots.search import (
    COMPROMISE_KM_PER_DAY,
    Availability,
    DayCount,
    SearchResult,
    slot_availability,
    town_halls_search,
)
from slots.search_cache import (
    AGE_MARKER,
    Area,
    age_marker,
    availability_valid_until,
    marked_age,
    results_valid_until,
    search_cache_get,
    search_cache_key,
    search_cache_put,
    search_generations,
)

# Days shown in each result's strip of slot counts, from today.
STRIP_DAYS = 7
# Town halls listed at first in each list (with and without a slot); "Afficher plus" adds as many again.
RESULTS_PAGE = 30
MAX_RESULTS_SHOWN = 300
MAX_SUGGESTIONS = 8
# What may follow a commune's name in the text the autocomplete puts in the field: "Clichy (92)".
_LABEL_QUALIFIER = re.compile(r"^(?:\d{2,3}|2[ab]|\d{5})?$")


@dataclass(frozen=True)
class Origin:
    """Where a search starts: a commune (with the postcode typed, if any) or the citizen's position."""

    lat: float
    lon: float
    name: str
    postcode: str | None = None
    commune: Commune | None = None

    @property
    def is_position(self) -> bool:
        return self.commune is None


@dataclass(frozen=True)
class ResultRow:
    """One search result and what the page says about it."""

    result: SearchResult
    checked: str  # "vérifié il y a 4 min", empty when never checked
    tel: str  # the phone's tel: link, empty when it holds no number
    strip: str = ""  # the day-by-day strip's items (<li>), safe HTML: see _day_strip


@dataclass(frozen=True)
class Widening:
    """A one-click wider search offered when nothing was found, with the number of town halls it gives."""

    kind: str  # "radius", "date", "no_limit" or "both"
    url: str
    count: int
    radius_km: int | None = None
    end_date: dt.date | None = None


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    form = SearchForm(initial=SearchForm.DEFAULTS)
    return render(request, "slots/home.html", {"form": form})


@require_GET
@vary_on_headers("HX-Request")
def search(request: HttpRequest) -> HttpResponse:
    """The ranked town halls around a place or a position; only the results fragment for htmx."""
    now = timezone.now()
    template = "slots/search.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#fragment"
    # With the demo on, pages are not kept: its banner comes and goes with the demo source's slots.
    key = None
    if not settings.DEMO:
        key = search_cache_key(
            kind="page", parameters=(template, request.get_full_path(), get_language()), now=now
        )
    if (kept := search_cache_get(key, now=now)) is not None:
        return HttpResponse(ages_written(kept, now=now))
    form = SearchForm.from_query(request.GET)
    context: dict[str, Any] = {"form": form, "now": now, "strip_days": STRIP_DAYS}
    status = 200
    if not form.is_valid():
        context["error"] = first_error(form) or _("Paramètres de recherche invalides.")
        status = 400
    elif not form.has_place:
        context["error"] = _(
            "Saisissez un code postal ou le nom d’une commune, ou bien utilisez « Autour de moi »."
        )
    if status == 200 and "error" not in context:
        located = _locate(form)
        if isinstance(located, dict):  # a geocoding error, or communes to choose from
            context.update(located)
        else:
            return _results_page(request, template, context, form, *located, key=key, now=now)
    return render(request, template, context, status=status)


def _results_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    form: SearchForm,
    origin: Origin,
    others: list[Commune],
    *,
    key: str | None,
    now: dt.datetime,
) -> HttpResponse:
    """The results page, rendered once for everybody asking the same search until its area's data changes.

    The page is kept with a marker where each town hall's data age goes: the ages are written at each answer,
    so that a kept page states how old its data is now (slots/search_cache.py says when a page is dropped).
    """
    # An empty search offers wider ones (up to the widest radius): their counts are on the page too.
    area = Area(lat=origin.lat, lon=origin.lon, radius_km=max(RADIUS_CHOICES))
    generations = search_generations(key, area)
    results_context = _search_context(request.GET, form, origin, others, now=now)
    valid_until = results_context.pop("valid_until")
    body = render_to_string(template, {**context, **results_context}, request)
    search_cache_put(key, area=area, generations=generations, value=body, valid_until=valid_until, now=now)
    return HttpResponse(ages_written(body, now=now))


@require_GET
@cache_control(max_age=300, private=True)  # the browser may reuse it; shared caches ignore the language
def autocomplete(request: HttpRequest) -> HttpResponse:
    """Commune suggestions for the search field, as the HTML fragment of an ARIA listbox."""
    query = request.GET.get("q", "")
    communes = commune_suggestions(query, limit=MAX_SUGGESTIONS) if query.strip() else []
    # Nothing imported matches: a commune of a department not covered yet is said to be so.
    not_covered = out_of_scope_suggestions(query) if query.strip() and not communes else []
    context = {"communes": communes, "not_covered": not_covered[:1], "query": query.strip()}
    return render(request, "slots/_suggestions.html", context)


@require_GET
def about(request: HttpRequest) -> HttpResponse:
    return render(request, "slots/about.html", {"source_code_url": settings.SOURCE_CODE_URL})


def _locate(form: SearchForm) -> tuple[Origin, list[Commune]] | dict[str, Any]:
    """Where the search starts and the other communes of its postcode; else the page's error or candidates."""
    if position := form.position:
        return Origin(lat=position[0], lon=position[1], name=_("votre position")), []
    try:
        geocoded = _geocode(form)
    except GeocodingError as exc:
        return {"error": exc.message}
    if geocoded.ambiguous:
        candidates = [place.commune for place in geocoded.places]
        prefetch_related_objects(candidates, "postal_codes")  # shown beside each name
        return {"candidates": candidates}
    place = geocoded.places[0]
    origin = Origin(
        lat=place.lat,
        lon=place.lon,
        name=place.commune.name,
        postcode=place.postcode,
        commune=place.commune,
    )
    return origin, geocoded.others


def _search_context(
    query: QueryDict, form: SearchForm, origin: Origin, others: list[Commune], *, now: dt.datetime
) -> dict[str, Any]:
    """What the results page shows, and `valid_until`: when it could turn wrong without any write."""
    start_date, end_date = form.window
    results = town_halls_search(
        lat=origin.lat,
        lon=origin.lon,
        radius_km=form.cleaned_data["rayon"],
        reason=form.reason,
        people=form.cleaned_data["personnes"],
        start_date=start_date,
        end_date=end_date,
        sort=form.sort,
        strip_days=STRIP_DAYS,
        now=now,
    )
    # A dense area can hold hundreds of town halls: the page lists the first ones of each list and
    # offers more, so that it stays light on a phone.
    shown = _results_shown(query)
    with_slot = [result for result in results if result.has_slot]
    without_slot = [result for result in results if not result.has_slot]
    listed_with_slot, listed_without_slot = with_slot[:shown], without_slot[:shown]
    hidden = len(with_slot) + len(without_slot) - len(listed_with_slot) - len(listed_without_slot)
    context: dict[str, Any] = {
        "origin": origin,
        "others": others,
        "results": results,
        "with_slot": _rows(listed_with_slot),
        "without_slot": _rows(listed_without_slot),
        "with_slot_count": len(with_slot),
        "without_slot_count": len(without_slot),
        "hidden_count": hidden,
        "more_url": _search_url(query, nombre=shown + RESULTS_PAGE) if hidden else "",
        "end_date": end_date,
        "horizon": form.latest,
        "sorts": _sort_links(query, form),
        "compromise_km": int(COMPROMISE_KM_PER_DAY),
        "map_data": _map_data(origin, listed_with_slot + listed_without_slot),
        "valid_until": results_valid_until(results, now=now),
    }
    if not with_slot:
        availability = _availability(form, origin, now=now)
        context["widenings"] = _widenings(query, form, availability)
        context["valid_until"] = min(context["valid_until"], availability_valid_until(availability))
        # Right after start-up nothing is known yet: say so rather than "no town hall".
        context["collecting"] = collection_in_progress()
    return context


def _rows(results: list[SearchResult]) -> list[ResultRow]:
    labels: dict[dt.date, tuple[str, str]] = {}
    return [
        ResultRow(
            result=result,
            checked=age_marker(result.town_hall.checked_at) or "",
            tel=tel_href(result.town_hall.contact_phone),
            strip=_day_strip(result.days, labels=labels),
        )
        for result in results
    ]


def _day_strip(days: tuple[DayCount, ...], *, labels: dict[dt.date, tuple[str, str]]) -> str:
    """A result's strip of slot counts, one <li> per day: built here rather than in the template, since
    a page of twenty results holds hundreds of these items (two thirds of the page's template work), and
    every result has the same days, whose labels `labels` keeps from one result to the next."""
    items = []
    for day in days:
        label = labels.get(day.day)
        if label is None:
            label = labels[day.day] = (date_format(day.day, "D"), date_format(day.day, "j"))
        items.append(
            format_html(
                "<li{}><span>{}<br>{}</span><i> : </i><b>{}</b></li>",
                "" if day.count else mark_safe(' class="z"'),
                *label,
                day.count,
            )
        )
    return mark_safe("".join(items))


def ages_written(body: str, *, now: dt.datetime) -> str:
    """The page with each data age marker replaced by "vérifié il y a …" as of `now`."""
    return AGE_MARKER.sub(lambda match: escape(checked_text(marked_age(match, now=now))), body)


def _results_shown(query: QueryDict) -> int:
    """How many town halls each list shows: `nombre` from the "Afficher plus" link, within bounds."""
    try:
        wanted = int(query.get("nombre", RESULTS_PAGE))
    except ValueError:
        return RESULTS_PAGE
    return min(max(wanted, RESULTS_PAGE), MAX_RESULTS_SHOWN)


def _geocode(form: SearchForm) -> GeocodeResult:
    """Geocode the commune picked in the autocomplete (its INSEE code), else what was typed.

    The INSEE code is trusted only while the text still names that commune ("Clichy (92)"): a link
    shared with the code, then edited by hand without JavaScript, searches what the citizen typed.
    """
    text, insee = form.cleaned_data["q"], form.cleaned_data["insee"]
    if insee:
        commune = Commune.objects.filter(insee=insee).select_related("department").first()
        point = commune_point(commune) if commune is not None else None
        if commune is not None and point is not None:
            typed = normalize_search_text(text)
            name = commune.search_name
            if not typed or (typed.startswith(name) and _LABEL_QUALIFIER.match(typed[len(name) :].strip())):
                place = Place(commune=commune, lat=point[0], lon=point[1], postcode=None)
                return GeocodeResult(query=text, places=[place])
    return geocode(text)


def checked_text(age: dt.timedelta | None) -> str:
    """How long ago a town hall's slots were collected, in a few words: "vérifié il y a 4 min"."""
    if age is None:
        return ""
    minutes = int(age.total_seconds() // 60)
    if minutes < 1:
        return _("vérifié à l’instant")
    if minutes < 60:
        return _("vérifié il y a %(minutes)d min") % {"minutes": minutes}
    hours = minutes // 60
    if hours < 24:
        return ngettext("vérifié il y a %(hours)d heure", "vérifié il y a %(hours)d heures", hours) % {
            "hours": hours
        }
    days = hours // 24
    return ngettext("vérifié il y a %(days)d jour", "vérifié il y a %(days)d jours", days) % {"days": days}


def _search_url(query: QueryDict, **changes: Any) -> str:
    """The search page's URL with some parameters changed (None removes one)."""
    params = query.copy()
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = str(value)
    return f"{reverse('slots:search')}?{params.urlencode()}"


def _sort_links(query: QueryDict, form: SearchForm) -> list[dict[str, Any]]:
    current = form.cleaned_data["tri"]
    return [
        {"value": value, "label": label, "url": _search_url(query, tri=value), "current": value == current}
        for value, label in form.fields["tri"].choices
    ]


def _availability(form: SearchForm, origin: Origin, *, now: dt.datetime) -> Availability:
    """The first slots around the origin, up to the widest radius and the horizon: what wider searches find."""
    return slot_availability(
        lat=origin.lat,
        lon=origin.lon,
        radius_km=max(RADIUS_CHOICES),
        reason=form.reason,
        people=form.cleaned_data["personnes"],
        start_date=paris_today(),
        end_date=form.latest,
        now=now,
    )


def _widenings(query: QueryDict, form: SearchForm, availability: Availability) -> list[Widening]:
    """Wider searches worth a click (each finds at least one slot), like the national smart search.

    The next radius step that finds something, the deadline pushed by a month or removed, and when
    neither alone helps, both at their widest. All counted from one query (`availability`).
    """
    radius, avant = form.cleaned_data["rayon"], form.cleaned_data["avant"]
    latest = form.latest
    end = avant or latest
    widest_radius = max(RADIUS_CHOICES)
    widenings = []
    for km in (km for km in RADIUS_CHOICES if km > radius):
        if count := availability.count(radius_km=km, end_date=end):
            widenings.append(
                Widening(kind="radius", url=_search_url(query, rayon=km), count=count, radius_km=km)
            )
            break
    if avant is not None:
        pushed = add_months(avant, 1)
        if pushed < latest and (count := availability.count(radius_km=radius, end_date=pushed)):
            widenings.append(
                Widening(
                    kind="date",
                    url=_search_url(query, avant=pushed.isoformat()),
                    count=count,
                    end_date=pushed,
                )
            )
        if count := availability.count(radius_km=radius, end_date=latest):
            widenings.append(Widening(kind="no_limit", url=_search_url(query, avant=None), count=count))
    if (
        not widenings
        and (radius < widest_radius or avant is not None)
        and (count := availability.count(radius_km=widest_radius, end_date=latest))
    ):
        widenings.append(
            Widening(
                kind="both",
                url=_search_url(query, rayon=widest_radius, avant=None),
                count=count,
                radius_km=widest_radius,
            )
        )
    return widenings


def _slot_when(starts_at: dt.datetime) -> str:
    local = timezone.localtime(starts_at)
    return _("%(date)s à %(time)s") % {"date": date_format(local, "l j F"), "time": time_format(local, "H:i")}


def _map_data(origin: Origin, results: list[SearchResult]) -> dict[str, Any]:
    """What the results map shows (static/js/results-map.js reads it from a json_script element)."""
    points = []
    for result in results:
        town_hall = result.town_hall
        next_slot = result.next_slot
        points.append(
            {
                "id": town_hall.pk,
                "lat": round(town_hall.lat, 5),
                "lon": round(town_hall.lon, 5),
                "name": town_hall.name,
                "next": _slot_when(next_slot.starts_at) if next_slot else "",
                "url": next_slot.booking_url if next_slot else "",
            }
        )
    return {
        "origin": {"lat": round(origin.lat, 5), "lon": round(origin.lon, 5), "name": origin.name},
        "points": points,
        "labels": {
            "origin": _("Point de départ : %(place)s") % {"place": origin.name},
            "next": _("Prochain créneau :"),
            "none": _("Pas de créneau libre en ligne"),
            "book": _("Réserver"),
            "newTab": _("(nouvel onglet)"),
            "list": _("Voir dans la liste"),
        },
    }
