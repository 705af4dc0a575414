"""The local demo booking server: about fifty real town halls speaking the ANTS editor API.

`python manage.py demo_server` serves it; `python manage.py setup_demo` registers it as a Source so the
worker scrapes it like any editor (demo/services.py). What it serves comes from demo/generator.py.

The HTTP server is built on the standard library (`ThreadingHTTPServer`) and never touches the database
after start-up. It can host several independent sites under path prefixes (the benchmark serves a thousand
sources from one server that way).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from communes.france import PARIS
from demo.generator import DemoTownHall, demo_free_slots, time_bucket
from slots.reasons import REASONS, Reason

logger = logging.getLogger(__name__)

DEMO_PORT = 8765
DEMO_TOKEN = "demo-token"
DEMO_AUTH_HEADER = "X-HUB-RDV-AUTH-TOKEN"


@dataclasses.dataclass
class DemoSite:
    """One editor of the demo: a token and its meeting points, served under a path prefix."""

    town_halls: list[DemoTownHall]
    token: str = DEMO_TOKEN
    auth_header: str = DEMO_AUTH_HEADER

    def __post_init__(self) -> None:
        self.by_id = {th.id: th for th in self.town_halls}


class DemoServer(ThreadingHTTPServer):
    """A threaded HTTP server hosting demo sites: {"": site} serves one at the root.

    `latency` (seconds) delays every answer, to imitate a remote editor. `public_url` is the address
    written in callback URLs (the booking page the citizen's browser opens).
    """

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self,
        address: tuple[str, int],
        *,
        sites: dict[str, DemoSite],
        latency: float = 0.0,
        public_url: str = "",
        clock: Callable[[], dt.datetime] | None = None,
        cache_size: int = 512,
    ) -> None:
        super().__init__(address, DemoRequestHandler)
        self.sites = {prefix.rstrip("/"): site for prefix, site in sites.items()}
        self.latency = latency
        host, port = self.server_address[:2]
        self.public_url = (public_url or f"http://{host}:{port}").rstrip("/")
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        # Answers are fixed within a time bucket: the last `cache_size` ones are kept, like editors cache.
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._cache_lock = threading.Lock()

    def cached(self, key: tuple[object, ...], build: Callable[[], bytes]) -> bytes:
        with self._cache_lock:
            body = self._cache.get(key)
            if body is not None:
                self._cache.move_to_end(key)
                return body
        body = build()
        with self._cache_lock:
            self._cache[key] = body
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return body

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.1}, name="demo-server", daemon=True
        )
        thread.start()
        return thread


class DemoRequestHandler(BaseHTTPRequestHandler):
    server: DemoServer
    protocol_version = "HTTP/1.1"
    server_version = "rdvpasseport-demo/1"

    def log_message(self, format: str, *args: Any) -> None:  # the stdlib's signature
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:  # the stdlib's name
        if self.server.latency:
            time.sleep(self.server.latency)
        try:
            self._route()
        except Exception:  # a demo must answer, even to what it did not foresee
            logger.exception("Demo server failed on %s", self.path)
            self._json(
                HTTPStatus.INTERNAL_SERVER_ERROR, {"error": {"code": 500, "message": "Internal error"}}
            )

    def _route(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        prefix, _, endpoint = parts.path.rstrip("/").rpartition("/")
        if prefix == "" and endpoint == "":
            self._html(HTTPStatus.OK, _render_page("demo/home.html", {}))
            return
        if endpoint and prefix.endswith("/rendez-vous"):
            self._booking_page(prefix.removesuffix("/rendez-vous"), endpoint, query)
            return
        site = self.server.sites.get(prefix)
        handlers = {
            "getManagedMeetingPoints": self._meeting_points,
            "availableTimeSlots": self._available_time_slots,
            "searchApplicationIds": self._search_application_ids,
        }
        if site is None or endpoint not in handlers:
            self._json(HTTPStatus.NOT_FOUND, {"detail": "Not Found"})
            return
        if not site.token or self.headers.get(site.auth_header) != site.token:
            self._json(HTTPStatus.UNAUTHORIZED, {"error": f"{site.auth_header} header missing or invalid"})
            return
        handlers[endpoint](site, prefix, query)

    # --- API endpoints

    def _meeting_points(self, site: DemoSite, prefix: str, query: dict[str, list[str]]) -> None:
        self._json(HTTPStatus.OK, [th.as_ants() for th in site.town_halls])

    def _available_time_slots(self, site: DemoSite, prefix: str, query: dict[str, list[str]]) -> None:
        ids = [value for value in query.get("meeting_point_ids", []) if value != ""]
        if not ids:
            self._unprocessable("meeting_point_ids", "field required")
            return
        try:
            start = dt.date.fromisoformat(_last(query, "start_date"))
        except ValueError:
            self._unprocessable("start_date", "invalid date format, expected YYYY-MM-DD")
            return
        try:
            end = dt.date.fromisoformat(_last(query, "end_date"))
        except ValueError:
            self._unprocessable("end_date", "invalid date format, expected YYYY-MM-DD")
            return
        reason = _last(query, "reason") or "CNI"
        if reason not in REASONS:
            self._error(HTTPStatus.BAD_REQUEST, "Invalid reason param")
            return
        raw_number = _last(query, "documents_number") or "1"
        if not raw_number.isdigit() or not 1 <= int(raw_number) <= 20:
            self._unprocessable("documents_number", "value is not a valid integer between 1 and 20")
            return
        if start > end:
            self._error(HTTPStatus.BAD_REQUEST, "start_date is after end_date")
            return
        for meeting_point_id in ids:
            if meeting_point_id not in site.by_id:
                self._error(HTTPStatus.NOT_FOUND, f"Unknown Meeting Point ID : {meeting_point_id}")
                return

        now = self.server.clock()
        documents = int(raw_number)
        unique_ids = tuple(dict.fromkeys(ids))

        def build() -> bytes:
            body: dict[str, list[dict[str, str]]] = {}
            for meeting_point_id in unique_ids:
                slots = demo_free_slots(
                    meeting_point_id, start=start, end=end, reason=reason, documents_number=documents, now=now
                )
                body[meeting_point_id] = [
                    {
                        # Paris wall-clock time followed by a literal Z, as real editors write it.
                        "datetime": at.strftime("%Y-%m-%dT%H:%MZ"),
                        "callback_url": self._callback_url(prefix, meeting_point_id, at, reason, documents),
                    }
                    for at in slots
                ]
            return json.dumps(body, ensure_ascii=False).encode()

        key = (prefix, unique_ids, start, end, reason, documents, time_bucket(now))
        self._send(HTTPStatus.OK, self.server.cached(key, build), "application/json")

    def _search_application_ids(self, site: DemoSite, prefix: str, query: dict[str, list[str]]) -> None:
        # The demo books nothing, so it knows no application.
        self._json(HTTPStatus.OK, {})

    def _callback_url(
        self, prefix: str, meeting_point_id: str, at: dt.datetime, reason: str, people: int
    ) -> str:
        query = urlencode({"date": at.strftime("%Y-%m-%dT%H:%M"), "motif": reason, "personnes": people})
        return f"{self.server.public_url}{prefix}/rendez-vous/{meeting_point_id}?{query}"

    # --- The booking page a callback URL opens

    def _booking_page(self, prefix: str, meeting_point_id: str, query: dict[str, list[str]]) -> None:
        site = self.server.sites.get(prefix)
        town_hall = site.by_id.get(meeting_point_id) if site else None
        try:
            at: dt.datetime | None = dt.datetime.strptime(_last(query, "date"), "%Y-%m-%dT%H:%M")
        except ValueError:
            at = None
        reason = _last(query, "motif")
        people = _last(query, "personnes")
        context = {
            "town_hall": town_hall,
            "starts_at": at.replace(tzinfo=PARIS) if at else None,
            "reason": Reason(reason).label if reason in REASONS else "",
            "people": int(people) if people.isdigit() and 1 <= int(people) <= 20 else None,
        }
        status = HTTPStatus.OK if town_hall else HTTPStatus.NOT_FOUND
        self._html(status, _render_page("demo/booking.html", context))

    # --- Responses

    def _error(self, status: HTTPStatus, message: str) -> None:
        self._json(status, {"error": {"code": int(status), "message": message}})

    def _unprocessable(self, field: str, message: str) -> None:
        detail = [{"loc": ["query", field], "msg": message, "type": "value_error"}]
        self._json(HTTPStatus.UNPROCESSABLE_ENTITY, {"detail": detail})

    def _json(self, status: HTTPStatus, payload: Any) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode(), "application/json")

    def _html(self, status: HTTPStatus, html: str) -> None:
        self._send(status, html.encode(), "text/html; charset=utf-8")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _last(query: dict[str, list[str]], key: str) -> str:
    values = query.get(key)
    return values[-1].strip() if values else ""


def _render_page(template: str, context: dict[str, Any]) -> str:
    # Request threads start with no active language: the pages are for citizens, in French.
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(template, context)
