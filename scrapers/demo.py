"""The local demo booking server: about fifty real town halls speaking the ANTS editor API.

`python manage.py demo_server` serves it; `python manage.py setup_demo` registers it as a Source so the
worker scrapes it like any editor. Town halls come from the commune data (the most populous communes with
a town-hall point, spread over the imported departments); their slots are generated, deterministic for a
town hall and a five-minute time bucket: some days are full, some town halls are booked out for weeks, and
a few slots appear or disappear from one bucket to the next.

The HTTP server is built on the standard library (`ThreadingHTTPServer`) and never touches the database
after start-up. It can host several independent sites under path prefixes (the benchmark serves a thousand
sources from one server that way).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
import random
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from communes.models import Commune
from scrapers.models import Source
from slots.models import Reason, Slot, TownHall

logger = logging.getLogger(__name__)

PARIS = ZoneInfo("Europe/Paris")
REASONS = ("CNI", "PASSPORT", "CNI-PASSPORT")

DEMO_PORT = 8765
DEMO_TOKEN = "demo-token"
DEMO_SOURCE_NAME = "Demo booking server (local, generated slots)"
DEMO_AUTH_HEADER = "X-HUB-RDV-AUTH-TOKEN"
# The context processor's cached answer; setup_demo forgets it so the banner follows at once.
DEMO_BANNER_CACHE_KEY = "scrapers:demo-banner"

# Where the demo town halls come from: (department codes, how many), filled in this order.
ILE_DE_FRANCE = ("75", "77", "78", "91", "92", "93", "94", "95")
RHONE_ALPES = ("01", "07", "26", "38", "42", "69", "73", "74")
DEMO_SHARES: tuple[tuple[tuple[str, ...], int], ...] = ((ILE_DE_FRANCE, 30), (RHONE_ALPES, 20))

BUCKET_SECONDS = 300
_RUN_STICKINESS = 0.7  # chance that a slot is in the same state as the one before
_MAX_CELLS_PER_DAY = 32  # 08:00-12:00 and 13:30-17:30 in quarters of an hour
_POSTCODE = re.compile(r"\b(\d{5})\b")
_ARRONDISSEMENT = re.compile(r"^(?P<city>Paris|Lyon|Marseille) (?P<number>\d+(?:er|e)) Arrondissement$")
_VOWELS = frozenset("AEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŒ")


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
        name=town_hall_name(commune.name),
        longitude=round(float(commune.lon), 6),
        latitude=round(float(commune.lat), 6),
        public_entry_address=address,
        zip_code=zip_code,
        # Upper case, as many editors write it; "PARIS" for an arrondissement, as the City of Paris does.
        city_name=(arrondissement.group("city") if arrondissement else commune.name).upper(),
        website=commune.website,
    )


def town_hall_name(commune_name: str) -> str:
    """'Mairie de Grenoble', 'Mairie d'Argenteuil', 'Mairie du Plessis-Robinson', 'Mairie des Mureaux',
    'Mairie du 15e arrondissement de Paris'."""
    arrondissement = _ARRONDISSEMENT.match(commune_name)
    if arrondissement:
        return f"Mairie du {arrondissement.group('number')} arrondissement de {arrondissement.group('city')}"
    for article, contracted in (("Le ", "du "), ("Les ", "des ")):
        if commune_name.startswith(article):
            return f"Mairie {contracted}{commune_name.removeprefix(article)}"
    if commune_name[:1].upper() in _VOWELS:
        return f"Mairie d'{commune_name}"
    return f"Mairie de {commune_name}"


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
    if weekday == 6 or (weekday == 5 and not profile.saturday):
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


# --- The HTTP server -----------------------------------------------------------------------------------


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
            self._html(HTTPStatus.OK, _render_page("scrapers/demo/home.html", {}))
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
        self._html(status, _render_page("scrapers/demo/booking.html", context))

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


# --- The demo Source -----------------------------------------------------------------------------------


def demo_base_url(port: int = DEMO_PORT) -> str:
    return f"http://127.0.0.1:{port}"


@transaction.atomic
def demo_source_setup(*, base_url: str | None = None) -> Source:
    """Register the demo Source, or reset the settings the demo relies on. Safe to run again.

    An existing demo source keeps its row, meeting points, schedule and pause.
    """
    source = Source.objects.filter(is_demo=True).order_by("pk").first()
    if source is None:
        # next_run_at stays empty: due at once, the worker picks it up at its next dispatch.
        source = Source(is_demo=True)
    source.name = DEMO_SOURCE_NAME
    source.kind = "ants"
    source.base_url = base_url or demo_base_url()
    source.auth_header = DEMO_AUTH_HEADER
    source.token = DEMO_TOKEN
    source.enabled = True  # an operator may still pause it: that choice is kept
    source.interval_minutes = 1
    source.max_documents = 3
    source.save()
    cache.delete(DEMO_BANNER_CACHE_KEY)
    return source


@transaction.atomic
def demo_source_remove() -> int:
    """Delete every demo Source and the slots only they provided; the number of slots deleted.

    The town halls are real and stay, shown again as without online booking unless another source
    serves them.
    """
    cache.delete(DEMO_BANNER_CACHE_KEY)
    sources = list(Source.objects.filter(is_demo=True))
    if not sources:
        return 0
    town_hall_ids = set(
        TownHall.objects.filter(meeting_points__source__in=sources).values_list("pk", flat=True)
    )
    served_elsewhere = set(
        TownHall.objects.filter(pk__in=town_hall_ids, meeting_points__source__is_demo=False).values_list(
            "pk", flat=True
        )
    )
    only_demo = town_hall_ids - served_elsewhere
    deleted, _ = Slot.objects.filter(town_hall_id__in=only_demo).delete()
    TownHall.objects.filter(pk__in=only_demo).update(online_booking=False, checked_at=None, stale_at=None)
    Source.objects.filter(pk__in=[s.pk for s in sources]).delete()
    return deleted
