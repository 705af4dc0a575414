"""Scraping a source end to end, dispatching due sources, purging old data.

Tasks (scrapers/tasks.py) and commands (`manage.py scrape`) are thin wrappers around these functions.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from scrapers.connectors import (
    CONNECTOR_KINDS,
    get_connector,
    kind_config_problems,
    kind_default_max_documents,
)
from scrapers.connectors.base import FetchResult, MeetingPointData, SourceSpec
from scrapers.fetching.errors import ConnectorError
from scrapers.ingest import error_excerpt, source_ingest
from scrapers.models import (
    DISCOVERY_INTERVAL_HOURS_MAX,
    INTERVAL_MINUTES_MAX,
    MeetingPoint,
    ScrapeRun,
    Source,
)
from slots.horizon import MAX_HORIZON_DAYS
from slots.models import Slot, TownHall
from slots.search_cache import search_cache_invalidate
from slots.summary import slots_changed

logger = logging.getLogger(__name__)

# Circuit breaker: past this many failures in a row, wait interval × 2^(failures - this), at most BACKOFF_MAX.
FAILURES_BEFORE_BACKOFF = 3
BACKOFF_MAX = dt.timedelta(hours=6)
# Errors of the database (not of the source) that the task retries rather than records as a source failure.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)


class ClaimLostError(Exception):
    """The scrape outlived its claim and another worker took the source over."""


class TransientScrapeError(Exception):
    """The database failed during a scrape; the task retries and may take its own claim back.

    `lease_until` identifies the claim this attempt held (it may not have been released, the database being
    down): a retry presenting it re-claims the source at once instead of waiting for the claim to expire.
    """

    def __init__(self, message: str, *, lease_until: dt.datetime) -> None:
        super().__init__(message)
        self.lease_until = lease_until


def _claim_lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.SCRAPE_TIME_LIMIT)


def source_scrape(
    *, source_id: int, now: dt.datetime | None = None, reclaim: dt.datetime | None = None
) -> ScrapeRun | None:
    """Scrape one source: discover its meeting points when due, fetch their slots, ingest, record health.

    Returns the run, or None when the source does not exist or another worker holds it. A ConnectorError
    (or any unexpected error of the connector) is recorded as a FAILED run and counted by the circuit
    breaker; a database error is recorded when possible and raised as TransientScrapeError for the task to
    retry. `reclaim` is the claim a failed attempt of the same task held: that claim is taken over.
    """
    now = now or timezone.now()
    lease_until = now + _claim_lease()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    if reclaim is not None:
        free |= Q(claimed_until=reclaim)
    claimed = Source.objects.filter(pk=source_id).filter(free).update(claimed_until=lease_until)
    if not claimed:
        logger.info("Source %s: not claimed (missing, or another worker holds it)", source_id)
        return None
    released = False
    try:
        source = Source.objects.get(pk=source_id)
        run = ScrapeRun.objects.create(source=source, started_at=now)
        try:
            _scrape(source=source, run=run, now=now, lease_until=lease_until)
        except ClaimLostError as exc:
            # The source's health and schedule are the other worker's now: only this run is recorded.
            _run_failed(source=source, run=run, message=str(exc))
            released = True
            return run
        except ConnectorError as exc:
            _run_failed(source=source, run=run, message=str(exc))
        except SoftTimeLimitExceeded:
            _run_failed(source=source, run=run, message="Soft time limit exceeded (SCRAPE_SOFT_TIME_LIMIT)")
        except TRANSIENT_ERRORS as exc:
            logger.warning("Source %s: database error, the task will retry: %s", source_id, exc)
            _run_failed(source=source, run=run, message=f"Database error: {exc}", count=False)
            raise TransientScrapeError(str(exc), lease_until=lease_until) from exc
        except Exception as exc:
            logger.exception("Source %s: unexpected error", source_id)
            _run_failed(source=source, run=run, message=f"Unexpected error: {type(exc).__name__}: {exc}")
        _health_record(source=source, run=run, now=now, lease_until=lease_until)
        released = True
        return run
    finally:
        try:
            if not released:
                Source.objects.filter(pk=source_id, claimed_until=lease_until).update(claimed_until=None)
        except DatabaseError:
            logger.warning("Source %s: could not release the claim; it expires at %s", source_id, lease_until)


def _scrape(*, source: Source, run: ScrapeRun, now: dt.datetime, lease_until: dt.datetime) -> None:
    connector = get_connector(SourceSpec.from_source(source))
    # Whatever the worker's pool (the thread pool enforces no task time limit), no request starts or goes on
    # past this: the run then fails with ScrapeDeadlineError and counts for the circuit breaker.
    connector.http.deadline = time.monotonic() + settings.SCRAPE_SOFT_TIME_LIMIT
    try:
        known = dict(
            MeetingPoint.objects.filter(source=source).values_list("external_id", "town_hall__active")
        )
        meeting_points: list[MeetingPointData] | None = None
        discovery_error = ""
        if _discovery_due(source=source, now=now, known=bool(known)):
            try:
                meeting_points = connector.discover()
            except ConnectorError as exc:
                if not known:
                    raise
                # Known meeting points still give fresh slots: go on with them.
                discovery_error = f"Discovery failed, known meeting points used: {exc}"
        ids = [external_id for external_id, active in known.items() if active]
        if meeting_points is not None:
            ids += [str(mp.external_id) for mp in meeting_points if str(mp.external_id) not in known]
        ids = list(dict.fromkeys(ids))

        start = timezone.localdate(now)
        end = start + dt.timedelta(days=source.horizon_days)
        result = connector.fetch_slots(ids, start=start, end=end) if ids else FetchResult([], set(), [])
        if discovery_error:
            result.errors.insert(0, discovery_error)
        # The run counts every request, discovery included.
        result.http_calls = connector.http.calls
        result.bytes_received = connector.http.bytes_received
        with transaction.atomic():
            # The thread pool enforces no time limit: a scrape that outlived its claim may have been
            # overtaken by another worker, whose fresher slots its older answer must not replace. The row
            # lock keeps the claim ours until the slots are written.
            if (
                not Source.objects.select_for_update()
                .filter(pk=source.pk, claimed_until=lease_until)
                .exists()
            ):
                raise ClaimLostError(
                    "The claim on this source expired before the scrape finished (SCRAPE_TIME_LIMIT) and "
                    "another worker took it over: nothing was stored"
                )
            source_ingest(source=source, meeting_points=meeting_points, result=result, run=run, now=now)
        # Only a successful run stores what discovery found: after any other, discover again next time.
        if meeting_points is not None and run.status == ScrapeRun.Status.SUCCESS:
            Source.objects.filter(pk=source.pk).update(last_discovery_at=now)
    finally:
        run.http_calls = connector.http.calls
        run.bytes_received = connector.http.bytes_received
        connector.http.close()


def _discovery_due(*, source: Source, now: dt.datetime, known: bool) -> bool:
    if not known or source.last_discovery_at is None:
        return True
    return source.last_discovery_at <= now - dt.timedelta(hours=source.discovery_interval_hours)


def _run_failed(*, source: Source, run: ScrapeRun, message: str, count: bool = True) -> None:
    run.status = ScrapeRun.Status.FAILED
    run.town_halls = run.slots_new = run.slots_kept = run.slots_removed = 0
    run.error = error_excerpt(message, token=source.token)
    run.finished_at = timezone.now()
    try:
        run.save()
    except DatabaseError:
        if count:
            raise
        logger.warning("Source %s: could not record the failed run", source.pk)


def _health_record(*, source: Source, run: ScrapeRun, now: dt.datetime, lease_until: dt.datetime) -> None:
    """Update the source's health from the run (last success/error, failures in a row, next run) and
    release the claim, if still ours, in the same UPDATE."""
    values: dict[str, object] = {"last_run_at": now}
    if run.status == ScrapeRun.Status.SUCCESS:
        values.update(
            last_success_at=now,
            last_error=run.error,
            consecutive_failures=0,
            next_run_at=now + source.interval,
        )
    elif run.status == ScrapeRun.Status.SUSPICIOUS:
        # Not the source's fault as far as we know: no backoff, but the error shows in the admin.
        values.update(last_error=run.error, next_run_at=now + source.interval)
    else:
        failures = source.consecutive_failures + 1
        values.update(
            last_error=run.error,
            consecutive_failures=failures,
            next_run_at=now + backoff_delay(interval=source.interval, failures=failures),
        )
    if source.last_run_at is None:
        # Empty searches say "collection in progress" until every source has run once (collection_in_progress).
        search_cache_invalidate()
    release = Case(When(claimed_until=lease_until, then=Value(None)), default=F("claimed_until"))
    Source.objects.filter(pk=source.pk).update(**values, claimed_until=release)
    for name, value in values.items():
        setattr(source, name, value)


def runs_interrupted_close(*, now: dt.datetime | None = None) -> int:
    """Close as INTERRUPTED the runs still "running" past their claim: their worker was killed, or lost the
    database before it could record the outcome. Returns how many were closed.

    A run claims its source for SCRAPE_TIME_LIMIT seconds from its start: past that (with a minute's grace
    for a run writing its last rows), no worker may still store anything for it.
    """
    now = now or timezone.now()
    return ScrapeRun.objects.filter(
        status=ScrapeRun.Status.RUNNING, started_at__lt=now - _claim_lease() - dt.timedelta(minutes=1)
    ).update(
        status=ScrapeRun.Status.INTERRUPTED,
        finished_at=now,
        error="Interrupted: the worker stopped (killed, or lost the database) before recording the outcome",
    )


@transaction.atomic
def meeting_point_detach(*, meeting_point: MeetingPoint) -> TownHall:
    """Give a meeting point a town hall of its own (an admin found it was matched to the wrong place).

    The new town hall starts from the current one's details (an admin then corrects them), and takes this
    source's slots of the meeting point's town hall with it; the other sources' slots stay where they were.
    Discovery never moves it back: only new meeting points are matched to known town halls.
    """
    current = meeting_point.town_hall
    detached = TownHall.objects.create(
        name=current.name,
        address=current.address,
        postcode=current.postcode,
        commune=current.commune,
        lat=current.lat,
        lon=current.lon,
        phone=current.phone,
        website=current.website,
        booking_url=current.booking_url,
        online_booking=True,
        active=current.active,
        checked_at=current.checked_at,
        stale_at=current.stale_at,
    )
    Slot.objects.filter(town_hall=current, source_id=meeting_point.source_id).update(town_hall=detached)
    slots_changed(town_hall_ids=[current.pk, detached.pk])
    search_cache_invalidate()
    MeetingPoint.objects.filter(pk=meeting_point.pk).update(town_hall=detached)
    meeting_point.town_hall = detached
    return detached


def backoff_delay(*, interval: dt.timedelta, failures: int) -> dt.timedelta:
    """Delay before the next run: the interval, doubled per failure beyond the third, at most 6 hours."""
    exponent = max(0, failures - FAILURES_BEFORE_BACKOFF)
    cap = max(BACKOFF_MAX, interval)
    if exponent >= 20:  # beyond any cap, and 2**exponent stays small
        return cap
    return min(interval * (2**exponent), cap)


DISPATCH_SLACK = dt.timedelta(seconds=10)


def sources_dispatch(*, enqueue: Callable[[list[int]], None], now: dt.datetime | None = None) -> list[int]:
    """Claim the due sources and, after commit, hand their ids to `enqueue`; return their ids.

    `enqueue` sends the scrape tasks (scrapers.tasks.sources_enqueue): the tasks call this module, so it
    takes them as an argument rather than importing them.

    Each dispatched source's next_run_at moves to the end of a claim lease, so that a second dispatcher
    tick does not enqueue it again; the scrape sets the real next run when it finishes (and if the task
    is lost, the source is due again once the lease is over).
    """
    now = now or timezone.now()
    runs_interrupted_close(now=now)
    with transaction.atomic():
        ids = list(
            # A source scraped right after the previous tick is due a few milliseconds after this one:
            # without the slack, a 1-minute source would run every 2 minutes.
            Source.objects.due(now + DISPATCH_SLACK)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
            .order_by("next_run_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        if ids:
            Source.objects.filter(pk__in=ids).update(next_run_at=now + _claim_lease())
            transaction.on_commit(lambda: enqueue(ids))
    return ids


@dataclass(frozen=True)
class PurgeCounts:
    slots: int
    runs: int


def slots_purge(*, now: dt.datetime | None = None) -> PurgeCounts:
    """Delete slots already started and scrape runs older than SCRAPE_RUNS_KEEP_DAYS."""
    now = now or timezone.now()
    slots, _ = Slot.objects.filter(starts_at__lte=now).delete()
    slots_changed(town_hall_ids=None)
    runs, _ = ScrapeRun.objects.filter(
        started_at__lt=now - dt.timedelta(days=settings.SCRAPE_RUNS_KEEP_DAYS)
    ).delete()
    return PurgeCounts(slots=slots, runs=runs)


# Loading sources from a file (manage.py load_sources).


class SourceFileError(ValueError):
    """A sources file that cannot be loaded; the message lists every problem, in English."""


_SOURCE_KEYS = {
    "name",
    "kind",
    "url",
    "auth_header",
    "token",
    "token_env",
    "interval_minutes",
    "discovery_interval_hours",
    "horizon_days",
    "max_documents",
    "enabled",
    "config",
}


@dataclass(frozen=True)
class LoadSummary:
    created: list[str]
    updated: list[str]
    unchanged: list[str]


def sources_load(*, data: object, environ: dict[str, str]) -> LoadSummary:
    """Create or update sources by name from parsed YAML `{"sources": [...]}`; all or nothing.

    Keys absent from an entry keep the stored value of an existing source (model default for a new one);
    the token can be given as `token` or read from the environment variable named by `token_env`.
    """
    if not isinstance(data, dict) or "sources" not in data:
        raise SourceFileError('The file must be a mapping with a "sources" list at the top level.')
    entries = data["sources"]
    if not isinstance(entries, list) or not entries:
        raise SourceFileError('"sources" must be a non-empty list of sources.')
    extra = sorted(str(key) for key in data if key != "sources")
    if extra:
        raise SourceFileError(f'Unknown top-level key(s): {", ".join(extra)}; only "sources" is allowed.')

    kinds = [kind for kind, _label in CONNECTOR_KINDS]
    problems: list[str] = []
    parsed: list[dict[str, object]] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        where = f"sources[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a mapping of keys to values, got {type(entry).__name__}.")
            continue
        name = entry.get("name")
        if isinstance(name, str) and name.strip():
            where = f"{where} ({name.strip()})"
        values, entry_problems = _source_values(entry, kinds=kinds, environ=environ)
        if not entry_problems:
            entry_problems = _config_problems(values)
        problems += [f"{where}: {problem}" for problem in entry_problems]
        if not entry_problems:
            if values["name"] in seen:
                problems.append(f"{where}: the name {values['name']!r} appears twice in the file.")
            seen.add(str(values["name"]))
            parsed.append(values)
    if problems:
        raise SourceFileError("\n".join(problems))

    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    with transaction.atomic():
        existing = {s.name: s for s in Source.objects.select_for_update().filter(name__in=seen)}
        for values in parsed:
            name = str(values.pop("name"))
            source = existing.get(name)
            if source is None:
                values.setdefault("max_documents", kind_default_max_documents(str(values["kind"])))
                Source.objects.create(name=name, **values)
                created.append(name)
                continue
            dirty = [field for field, value in values.items() if getattr(source, field) != value]
            if dirty:
                for field in dirty:
                    setattr(source, field, values[field])
                source.save(update_fields=[*dirty, "updated_at"])
                updated.append(name)
            else:
                unchanged.append(name)
    return LoadSummary(created=created, updated=updated, unchanged=unchanged)


def _config_problems(values: dict[str, object]) -> list[str]:
    """The config a source will have (given, else stored, else empty) checked against its kind."""
    if "config" in values:
        config = values["config"]
    else:
        config = Source.objects.filter(name=values["name"]).values_list("config", flat=True).first() or {}
    return kind_config_problems(str(values["kind"]), config)


def _source_values(
    entry: dict[object, object], *, kinds: list[str], environ: dict[str, str]
) -> tuple[dict[str, object], list[str]]:
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    problems: list[str] = []
    values: dict[str, object] = {}
    unknown = sorted(str(key) for key in entry if key not in _SOURCE_KEYS)
    if unknown:
        problems.append(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_SOURCE_KEYS))}.")

    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append('"name" is missing or empty.')
    elif len(name.strip()) > 200:
        problems.append('"name" is longer than 200 characters.')
    else:
        values["name"] = name.strip()

    kind = entry.get("kind")
    if kind is None:
        problems.append(f'"kind" is missing; expected one of: {", ".join(kinds)}.')
    elif kind not in kinds:
        problems.append(f"unknown kind {kind!r}; expected one of: {', '.join(kinds)}.")
    else:
        values["kind"] = kind

    url = entry.get("url")
    if url is None or url == "":
        problems.append('"url" is missing (the base URL of the source).')
    elif not isinstance(url, str) or len(url) > 1000:
        problems.append(f'"url" must be an http(s) URL of at most 1,000 characters, got {url!r}.')
    else:
        try:
            URLValidator(schemes=["http", "https"])(url)
            values["base_url"] = url
        except ValidationError:
            problems.append(f'"url" is not a valid http(s) URL: {url!r}.')

    if "auth_header" in entry:
        header = entry["auth_header"]
        if header is None:
            header = ""
        if not isinstance(header, str) or len(header) > 100 or any(c in header for c in ": \r\n"):
            problems.append(f'"auth_header" must be an HTTP header name, got {header!r}.')
        else:
            values["auth_header"] = header

    if "token" in entry and "token_env" in entry:
        problems.append('give either "token" or "token_env", not both.')
    elif "token" in entry:
        token = entry["token"]
        if token is None:
            token = ""
        # Never a number: YAML reads 0123 as 83 and 0x1F as 31, so str() would store another token.
        if not isinstance(token, str) or len(token) > 500:
            problems.append(
                '"token" must be a string of at most 500 characters (quote a token YAML would read as '
                "a number or a date)."
            )
        else:
            values["token"] = token
    elif "token_env" in entry:
        variable = entry["token_env"]
        if not isinstance(variable, str) or not variable:
            problems.append('"token_env" must name an environment variable.')
        elif not environ.get(variable):
            problems.append(f'"token_env": the environment variable {variable} is not set or empty.')
        elif len(environ[variable]) > 500:
            problems.append(f'"token_env": the variable {variable} is longer than 500 characters.')
        else:
            values["token"] = environ[variable]

    for key, minimum, maximum in (
        ("interval_minutes", 1, INTERVAL_MINUTES_MAX),
        ("discovery_interval_hours", 1, DISCOVERY_INTERVAL_HOURS_MAX),
        ("horizon_days", 1, MAX_HORIZON_DAYS),
        ("max_documents", 1, 6),
    ):
        if key in entry:
            value = entry[key]
            if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
                problems.append(f'"{key}" must be a whole number from {minimum} to {maximum}, got {value!r}.')
            else:
                values[key] = value

    if "enabled" in entry:
        if not isinstance(entry["enabled"], bool):
            problems.append(f'"enabled" must be true or false, got {entry["enabled"]!r}.')
        else:
            values["enabled"] = entry["enabled"]

    if "config" in entry:
        config = entry["config"]
        if config is None:
            config = {}
        if not isinstance(config, dict):
            problems.append(f'"config" must be a mapping, got {type(config).__name__}.')
        else:
            values["config"] = config
    return values, problems
