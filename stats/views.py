"""The statistics pages: /statistiques (the covered area and a table of its departments),
/statistiques/<department> (one department), and the CSV exports of every daily figure.

Each page runs a constant number of queries whatever the number of days or departments.
Figures are for one reason at a time, `?motif=passeport|cni|cni-passeport` as on the other pages.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from communes.france import DEPARTMENT_CODE
from communes.models import Department
from slots.pages import REASON_CHOICES, motif_asked
from stats.figures import LIFETIME_DAYS, chart_since, scope_stats
from stats.lifetimes import bucket_bounds
from stats.models import ALL_SCOPE, AreaDay, SlotLifetime
from stats.services import AREA_FIELDS, area_history, lifetime_counts

HISTORY_FIELDS = ("day", "scope", "reason", *AREA_FIELDS)
LIFETIME_FIELDS = ("day", "department", "lifetime_from_minutes", "lifetime_to_minutes", "slots")


def _tabs(selected: str, url: str) -> list[dict[str, object]]:
    return [
        {"motif": motif, "label": label, "selected": motif == selected, "url": f"{url}?motif={motif}"}
        for motif, label in REASON_CHOICES
    ]


@require_GET
def statistics(request: HttpRequest) -> HttpResponse:
    """The covered area's figures and charts, and one line per department: three queries."""
    motif, reason = motif_asked(request)
    today = timezone.localdate()
    history = area_history(reason=reason, since=chart_since(today))
    lifetimes = lifetime_counts(since=today - dt.timedelta(days=LIFETIME_DAYS - 1))
    codes = sorted(scope for scope in history if scope)
    names = dict(Department.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}
    area = scope_stats(
        scope=ALL_SCOPE, name="", history=history.get(ALL_SCOPE, []), lifetimes=lifetimes.get(ALL_SCOPE)
    )
    departments = [
        scope_stats(
            scope=code, name=names.get(code, code), history=history[code], lifetimes=lifetimes.get(code)
        )
        for code in codes
    ]
    context = {
        "area": area,
        "departments": departments,
        "motif": motif,
        "tabs": _tabs(motif, reverse("stats:statistics")),
        "lifetime_days": LIFETIME_DAYS,
    }
    return render(request, "stats/statistics.html", context)


@require_GET
def department(request: HttpRequest, code: str) -> HttpResponse:
    """One department's figures and charts: three queries."""
    code = code.upper()
    if not DEPARTMENT_CODE.match(code):
        raise Http404("Not a department code")
    department = get_object_or_404(Department, code=code)
    motif, reason = motif_asked(request)
    today = timezone.localdate()
    history = area_history(reason=reason, since=chart_since(today), scopes=[code])
    lifetimes = lifetime_counts(since=today - dt.timedelta(days=LIFETIME_DAYS - 1), scopes=[code])
    context = {
        "department": department,
        "scope": scope_stats(
            scope=code, name=department.name, history=history.get(code, []), lifetimes=lifetimes.get(code)
        ),
        "motif": motif,
        "tabs": _tabs(motif, reverse("stats:department", args=[code])),
        "lifetime_days": LIFETIME_DAYS,
    }
    return render(request, "stats/department.html", context)


class _Echo:
    """A file-like object whose write returns the line: csv.writer then yields rows to stream."""

    def write(self, value: str) -> str:
        return value


def _csv_response(
    filename: str, header: Iterable[str], rows: Iterator[Iterable[object]]
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def history_csv(request: HttpRequest) -> StreamingHttpResponse:
    """Every daily figure of every department and of the covered area (scope empty), every reason."""
    rows = (
        AreaDay.objects.order_by("day", "scope", "reason")
        .values_list(*HISTORY_FIELDS)
        .iterator(chunk_size=2000)
    )
    return _csv_response("rdvpasseport-statistiques.csv", HISTORY_FIELDS, rows)


@require_GET
def lifetimes_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The histogram of the lifetimes of vanished slots: per day, department and lifetime range."""

    def rows() -> Iterator[tuple[object, ...]]:
        for day, department_code, bucket, count in (
            SlotLifetime.objects.order_by("day", "department_code", "bucket")
            .values_list("day", "department_code", "bucket", "count")
            .iterator(chunk_size=2000)
        ):
            lower, upper = bucket_bounds(bucket)
            yield day, department_code, lower // 60, "" if upper is None else upper // 60, count

    return _csv_response("rdvpasseport-duree-des-creneaux.csv", LIFETIME_FIELDS, rows())
