"""The public JSON API, version 1: commune suggestions and the town-hall search.

Bad parameters answer `400 {"error": "<what is wrong, in French>"}`. Datetimes are ISO 8601 with
their Paris offset.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from communes.geocoding import (
    GeocodeResult,
    GeocodingError,
    Place,
    commune_point,
    commune_suggestions,
    geocode,
)
from communes.models import Commune
from slots.forms import MAX_QUERY_LENGTH, ApiSearchForm, first_error
from slots.search import SearchResult, town_halls_search
from slots.search_cache import (
    AGE_MARKER_JSON,
    Area,
    age_marker,
    marked_age,
    results_valid_until,
    search_cache_get,
    search_cache_key,
    search_cache_put,
    search_generations,
)

MAX_SUGGESTIONS = 20


@require_GET
def communes(request: HttpRequest) -> JsonResponse:
    query = request.GET.get("q", "").strip()
    if not query:
        return _bad_request(
            _("Le paramètre q (début d’un nom de commune ou d’un code postal) est obligatoire.")
        )
    if len(query) > MAX_QUERY_LENGTH:
        return _bad_request(_("Le texte recherché (q) est trop long pour être un lieu."))
    limit = 10
    if raw_limit := request.GET.get("limit"):
        try:
            limit = int(raw_limit)
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_SUGGESTIONS:
            return _bad_request(_("Le paramètre limit doit être un entier entre 1 et 20."))
    suggestions = commune_suggestions(query, limit=limit)
    return JsonResponse({"results": [_commune_json(commune) for commune in suggestions]})


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    # The answer is kept with a marker for each data age, written at every answer (see _result_json).
    key = search_cache_key(kind="api", parameters=(request.GET.urlencode(),), now=now)
    if (kept := search_cache_get(key, now=now)) is not None:
        return HttpResponse(_ages_written(kept, now=now), content_type="application/json")
    form = ApiSearchForm(request.GET)
    if not form.is_valid():
        return _bad_request(first_error(form))
    params = form.cleaned_data

    body: dict[str, Any] = {}
    if params["lat"] is not None:
        lat, lon = params["lat"], params["lon"]
        body["origin"] = {"insee": None, "name": None, "lat": lat, "lon": lon}
    else:
        try:
            geocoded = _geocode(params)
        except GeocodingError as exc:
            return _bad_request(exc.message)
        if geocoded.ambiguous:
            candidates = [place.commune for place in geocoded.places]
            prefetch_related_objects(candidates, "postal_codes")
            return JsonResponse(
                {
                    "origin": None,
                    "results": [],
                    "candidates": [_commune_json(commune) for commune in candidates],
                }
            )
        origin = geocoded.places[0]
        lat, lon = origin.lat, origin.lon
        body["origin"] = _origin_json(origin)
        if geocoded.others:
            prefetch_related_objects(geocoded.others, "postal_codes")
            body["other_communes"] = [_commune_json(commune) for commune in geocoded.others]

    area = Area(lat=lat, lon=lon, radius_km=params["radius_km"])
    generations = search_generations(key, area)
    results = town_halls_search(
        lat=lat,
        lon=lon,
        radius_km=params["radius_km"],
        reason=params["reason"],
        people=params["documents_number"],
        start_date=params["start_date"],
        end_date=params["end_date"],
        sort=params["sort"],
        now=now,
    )
    content = json.dumps(
        {**body, "results": [_result_json(result) for result in results]}, cls=DjangoJSONEncoder
    )
    valid_until = results_valid_until(results, now=now)
    search_cache_put(key, area=area, generations=generations, value=content, valid_until=valid_until, now=now)
    return HttpResponse(_ages_written(content, now=now), content_type="application/json")


def _ages_written(content: str, *, now: dt.datetime) -> str:
    """The answer with each data age marker replaced by the age in seconds, a number, as of `now`."""
    return AGE_MARKER_JSON.sub(lambda match: str(int(marked_age(match, now=now).total_seconds())), content)


def _geocode(params: dict[str, Any]) -> GeocodeResult:
    """The commune named by insee= when given, else what q says (postcode, name or INSEE code)."""
    insee = (params.get("insee") or "").upper()
    if not insee:
        return geocode(params["q"])
    commune = Commune.objects.filter(insee=insee).select_related("department").first()
    point = commune_point(commune) if commune is not None else None
    if commune is None or point is None:
        raise GeocodingError(_("Aucune commune connue ne porte le code INSEE %(insee)s.") % {"insee": insee})
    return GeocodeResult(
        query=insee, places=[Place(commune=commune, lat=point[0], lon=point[1], postcode=None)]
    )


def _bad_request(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


def _iso(value: dt.datetime) -> str:
    return timezone.localtime(value).isoformat()


def _origin_json(place: Place) -> dict[str, Any]:
    return {"insee": place.commune.insee, "name": place.commune.name, "lat": place.lat, "lon": place.lon}


def _commune_json(commune: Commune) -> dict[str, Any]:
    return {
        "insee": commune.insee,
        "name": commune.name,
        "department": commune.department_id,
        "postcodes": [postal_code.code for postal_code in commune.postal_codes.all()],
        "population": commune.population,
        "lat": commune.lat,
        "lon": commune.lon,
    }


def _result_json(result: SearchResult) -> dict[str, Any]:
    town_hall = result.town_hall
    next_slot = None
    if result.next_slot is not None:
        next_slot = {
            "datetime": _iso(result.next_slot.starts_at),
            "booking_url": result.next_slot.booking_url,
        }
    return {
        "town_hall": {
            "id": town_hall.pk,
            "name": town_hall.name,
            "address": town_hall.address,
            "postcode": town_hall.postcode,
            "insee": town_hall.commune_id,
            "lat": town_hall.lat,
            "lon": town_hall.lon,
            # The directory's town-hall contact fills what the town hall's own record lacks.
            "phone": town_hall.contact_phone,
            "email": town_hall.contact_email,
            "website": town_hall.contact_website,
            "booking": town_hall.api_booking(),
            "booking_url": town_hall.booking_url,
            "reasons": town_hall.reasons_taken(),
        },
        "distance_km": round(result.distance_km, 2),
        "next_slot": next_slot,
        "slots_count": result.slots_count,
        "data_age_seconds": age_marker(town_hall.checked_at),  # the age as of each answer: _ages_written
        "stale": result.stale,
    }
