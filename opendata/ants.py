"""Our ANTS "API éditeurs": the three endpoints the national hub reads from every booking editor.

Same fields, types and error bodies as the editors the `ants` connector reads (docs/PUBLISHING.md). The
hub is a machine speaking the editors' English: error messages are those of the specification, not French.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from opendata.publishing import available_time_slots, meeting_point_json, published_town_halls
from opendata.services import api_token_authenticate
from slots.models import Reason

AUTH_HEADER = "X-HUB-RDV-AUTH-TOKEN"
DEFAULT_REASON = Reason.CNI
MAX_MEETING_POINTS = 200
MAX_DOCUMENTS = 20
MAX_WINDOW_DAYS = 366
MAX_APPLICATION_IDS = 50
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_APPLICATION_ID = re.compile(r"^[A-Za-z0-9]{10}$")

View = Callable[[HttpRequest], HttpResponse]


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": status, "message": message}}, status=status)


def _token_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        if api_token_authenticate(clear=request.headers.get(AUTH_HEADER, "")) is None:
            return JsonResponse({"error": f"{AUTH_HEADER} header missing or invalid"}, status=401)
        return view(request)

    return wrapper


@require_GET
@never_cache
@_token_required
def get_managed_meeting_points(request: HttpRequest) -> JsonResponse:
    town_halls = published_town_halls().select_related("commune").order_by("pk")
    return JsonResponse([meeting_point_json(town_hall) for town_hall in town_halls], safe=False)


@require_GET
@never_cache
@_token_required
def available_time_slots_view(request: HttpRequest) -> JsonResponse:
    ids = [value.strip() for value in request.GET.getlist("meeting_point_ids")]
    if not ids or not all(ids):
        return _error(400, "meeting_point_ids param is required")
    if len(ids) > MAX_MEETING_POINTS:
        return _error(400, f"Too many meeting_point_ids ({MAX_MEETING_POINTS} at most)")
    dates = {}
    for name in ("start_date", "end_date"):
        raw = request.GET.get(name, "")
        try:
            if not _DATE.match(raw):
                raise ValueError
            dates[name] = dt.date.fromisoformat(raw)
        except ValueError:
            return _error(400, f"Invalid {name} param (YYYY-MM-DD)")
    start, end = dates["start_date"], dates["end_date"]
    if start > end:
        return _error(400, "start_date is after end_date")
    if (end - start).days > MAX_WINDOW_DAYS:
        return _error(400, f"The period from start_date to end_date may not exceed {MAX_WINDOW_DAYS} days")
    reason = request.GET.get("reason") or DEFAULT_REASON
    if reason not in Reason.values:
        return _error(400, "Invalid reason param")
    try:
        documents_number = int(request.GET.get("documents_number") or 1)
    except ValueError:
        documents_number = 0
    if not 1 <= documents_number <= MAX_DOCUMENTS:
        return _error(400, "Invalid documents_number param")

    unique_ids = list(dict.fromkeys(ids))
    numeric = [int(value) for value in unique_ids if value.isdigit() and len(value) < 19]
    town_halls = {str(th.pk): th for th in published_town_halls().filter(pk__in=numeric)}
    unknown = next((value for value in unique_ids if value not in town_halls), None)
    if unknown is not None:
        return _error(404, f"Unknown Meeting Point ID : {unknown[:64]}")
    slots = available_time_slots(
        town_halls=[town_halls[value] for value in unique_ids],
        reason=reason,
        documents_number=documents_number,
        start_date=start,
        end_date=end,
    )
    return JsonResponse(slots)


@require_GET
@never_cache
@_token_required
def search_application_ids(request: HttpRequest) -> JsonResponse:
    """We take no bookings: every well-formed application number has no appointment with us."""
    ids = request.GET.getlist("application_ids")
    if not ids:
        return _error(400, "application_ids param is required")
    if len(ids) > MAX_APPLICATION_IDS or not all(_APPLICATION_ID.match(value) for value in ids):
        return _error(400, "Invalid application_ids param")
    return JsonResponse({value: [] for value in ids})
