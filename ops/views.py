"""Endpoints for machines: /healthz for load balancers and orchestrators, /metrics for Prometheus."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotFound, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from ops.health import health_report
from ops.metrics import metrics_allowed, metrics_exposition


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    status, body = health_report()
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    allowed = metrics_allowed(request)
    if allowed is None:
        return HttpResponseNotFound(
            "Metrics are turned off (no METRICS_TOKEN nor METRICS_ALLOWED_NETWORKS).\n"
        )
    if not allowed:
        return HttpResponseForbidden(
            "Send Authorization: Bearer <METRICS_TOKEN>, or scrape from an allowed network.\n"
        )
    return HttpResponse(metrics_exposition(), content_type=CONTENT_TYPE_LATEST)
