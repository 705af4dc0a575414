"""Citizen pages: the home page with its search form, the ranked results, and "À propos"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from communes.services import GeocodingError, geocode
from slots.forms import SearchForm
from slots.search import town_halls_search


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    form = SearchForm(initial=SearchForm.DEFAULTS)
    return render(request, "slots/home.html", {"form": form})


@require_GET
@vary_on_headers("HX-Request")
def search(request: HttpRequest) -> HttpResponse:
    """The ranked town halls around a postcode or commune; only the #results fragment for htmx."""
    form = SearchForm.from_query(request.GET)
    now = timezone.now()
    context: dict[str, Any] = {"form": form, "now": now}
    status = 200
    if not form.is_valid():
        context["error"] = _first_error(form)
        status = 400
    elif not form.cleaned_data["q"]:
        context["error"] = _("Saisissez un code postal ou le nom d'une commune.")
    else:
        context.update(_search_context(form, now=now))

    template = "slots/search.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context, status=status)


@require_GET
def about(request: HttpRequest) -> HttpResponse:
    return render(request, "slots/about.html", {"source_code_url": settings.SOURCE_CODE_URL})


def _search_context(form: SearchForm, *, now: dt.datetime) -> dict[str, Any]:
    try:
        geocoded = geocode(form.cleaned_data["q"])
    except GeocodingError as exc:
        return {"error": exc.message}
    if geocoded.ambiguous:
        candidates = [place.commune for place in geocoded.places]
        prefetch_related_objects(candidates, "postal_codes")  # shown beside each name
        return {"candidates": candidates}

    origin = geocoded.places[0]
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
        now=now,
    )
    return {
        "origin": origin,
        "others": geocoded.others,
        "results": results,
        "with_slot_count": sum(1 for result in results if result.has_slot),
        "end_date": end_date,
    }


def _first_error(form: SearchForm) -> str:
    for errors in form.errors.values():
        return str(errors[0])
    return _("Paramètres de recherche invalides.")
