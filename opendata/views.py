"""The public pages and files of the opendata app: /donnees and its files, the API description, /etat."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import condition, require_GET, require_safe

from opendata import exports, status
from opendata.openapi import openapi_document

TOWN_HALLS_PER_PAGE = 100


def _version(request: HttpRequest) -> dt.datetime | None:
    # Asked twice per request by @condition (ETag and Last-Modified): read once.
    if not hasattr(request, "_opendata_version"):
        request._opendata_version = exports.exports_version()  # type: ignore[attr-defined]
    return request._opendata_version  # type: ignore[attr-defined]


def _etag(name: str) -> Callable[[HttpRequest], str]:
    def etag(request: HttpRequest) -> str:
        version = _version(request)
        return f"{name}-{int(version.timestamp() * 1000) if version else 0}"

    return etag


def _cached(key: str, produce: Callable[[], Iterator[str]]) -> Iterator[str]:
    """The file's text from the cache, else produced, streamed and then cached (if not too large)."""
    text = cache.get(key)
    if text is not None:
        yield text
        return
    parts: list[str] | None = []
    size = 0
    for chunk in produce():
        if parts is not None:
            parts.append(chunk)
            size += len(chunk)
            if size > settings.OPENDATA_CACHE_MAX_BYTES:
                parts = None
        yield chunk
    if parts is not None:
        cache.set(key, "".join(parts), timeout=settings.OPENDATA_CACHE_SECONDS)


def _stream(
    request: HttpRequest, name: str, content_type: str, produce: Callable[[], Iterator[str]]
) -> StreamingHttpResponse:
    key = f"opendata:{name}:{_etag(name)(request)}"
    response = StreamingHttpResponse(
        (chunk.encode("utf-8") for chunk in _cached(key, produce)), content_type=content_type
    )
    response["Content-Disposition"] = f'inline; filename="{name}"'
    # Clients revalidate (ETag, Last-Modified): a 304 until the next ingestion.
    response["Cache-Control"] = "public, max-age=60"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
@condition(etag_func=_etag("mairies.csv"), last_modified_func=_version)
def town_halls_csv(request: HttpRequest) -> StreamingHttpResponse:
    return _stream(
        request,
        "mairies.csv",
        "text/csv; charset=utf-8",
        lambda: exports.csv_lines(exports.TOWN_HALL_COLUMNS, exports.town_hall_rows()),
    )


@require_safe
@condition(etag_func=_etag("mairies.json"), last_modified_func=_version)
def town_halls_json(request: HttpRequest) -> StreamingHttpResponse:
    return _stream(
        request, "mairies.json", "application/json", lambda: exports.json_lines(exports.town_hall_rows())
    )


@require_safe
@condition(etag_func=_etag("creneaux.csv"), last_modified_func=_version)
def slots_csv(request: HttpRequest) -> StreamingHttpResponse:
    return _stream(
        request,
        "creneaux.csv",
        "text/csv; charset=utf-8",
        lambda: exports.csv_lines(exports.SLOT_COLUMNS, exports.slot_rows()),
    )


def _json(document: object) -> JsonResponse:
    response = JsonResponse(document, safe=False, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def town_halls_schema(request: HttpRequest) -> JsonResponse:
    return _json(exports.town_halls_schema())


@require_GET
def slots_schema(request: HttpRequest) -> JsonResponse:
    return _json(exports.slots_schema())


@require_GET
def data_package(request: HttpRequest) -> JsonResponse:
    base = request.build_absolute_uri(reverse("opendata:data")).rstrip("/")
    return _json(exports.data_package(base_url=base))


@require_GET
def data(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "opendata/data.html",
        {
            "town_hall_columns": exports.TOWN_HALL_COLUMNS,
            "slot_columns": exports.SLOT_COLUMNS,
            "version": exports.exports_version(),
        },
    )


def _server_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@require_GET
def openapi_json(request: HttpRequest) -> JsonResponse:
    return _json(openapi_document(server_url=_server_url(request)))


@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    document = openapi_document(server_url=_server_url(request))
    operations = [
        {"path": path, **operation}
        for path, methods in document["paths"].items()
        for operation in methods.values()
    ]
    for operation in operations:
        for parameter in operation["parameters"]:
            schema = parameter["schema"]
            parameter["bounds"] = _bounds(schema)
    schemas = {
        name: json.dumps(schema, ensure_ascii=False, indent=2)
        for name, schema in document["components"]["schemas"].items()
    }
    return render(
        request, "opendata/api.html", {"document": document, "operations": operations, "schemas": schemas}
    )


def _bounds(schema: dict) -> str:
    if "enum" in schema:
        return ", ".join(str(value) for value in schema["enum"])
    parts = []
    if "minimum" in schema or "maximum" in schema:
        parts.append(f"{schema.get('minimum', '')}–{schema.get('maximum', '')}")
    if "maxLength" in schema:
        parts.append(f"≤ {schema['maxLength']}")
    if schema.get("format") == "date":
        parts.append("AAAA-MM-JJ")
    return " ".join(parts)


@require_GET
def status_page(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    paginator = Paginator(status.town_halls_status(now=now), TOWN_HALLS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "opendata/status.html",
        {
            "kinds": status.kinds_status(now=now),
            "last_ingestion": status.last_ingestion(),
            "page": page,
            "now": now,
        },
    )
