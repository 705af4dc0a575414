"""Write what a connector fetched: town halls (via meeting points) and the slots of covered town halls.

Everything one run writes happens in one transaction, set-based: on PostgreSQL the slots go through a
temporary table filled with COPY, then one INSERT ... ON CONFLICT and one DELETE; elsewhere (SQLite on a
bare machine) through bulk_create(update_conflicts=True) and a DELETE by primary key.
A run that looks wrong (many parse errors, suddenly no slot at all, or most slots gone at once) writes
nothing but its own record: the last good data stays online until its town halls turn stale. One bad item
(an over-long id, a NUL byte, a slot in year 9999) is skipped and counted, never fails the whole run.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from alerts.tasks import alerts_match_enqueue
from communes.geo import parse_point
from communes.matching import commune_for
from communes.models import Commune
from scrapers.connectors.base import FetchResult, MeetingPointData, SlotData, web_url
from scrapers.fetching.errors import redact_token
from scrapers.models import MeetingPoint, ScrapeRun, Source
from slots.models import Slot, SlotDay, TownHall
from slots.places import PlaceData, candidates_for, same_place_among
from slots.reasons import REASONS
from slots.search_cache import search_cache_bump
from slots.summary import slots_changed
from stats.lifetimes import lifetimes_cte, lifetimes_record

logger = logging.getLogger(__name__)

ERROR_EXCERPT_CHARS = 2000
# A town hall's slots are shown as stale once this many source intervals passed without a good run.
STALE_AFTER_INTERVALS = 3
# Below this many slots in the last good run, an empty answer is plausible and not suspicious.
ZERO_SLOTS_SUSPICIOUS_FROM = 20
BATCH_SIZE = 1000
# A slot further ahead than this is a source's bug (booking calendars open a few months ahead).
SLOT_MAX_AHEAD = dt.timedelta(days=2 * 366)
ANALYZE_FROM_ROWS = 10_000
# PostgreSQL's work_mem during an ingestion: 200,000 slots are grouped and sorted without spilling to disk.
WORK_MEM = "64MB"
# A run inserting this share of the slot table's estimated rows (or more) refreshes its statistics.
STATISTICS_STALE_SHARE = 0.2

_REASONS = frozenset(REASONS)
_SLOT_KEY_FIELDS = ("town_hall_id", "starts_at", "reason")

SlotKey = tuple[int, dt.datetime, str]
# (town hall id, aware start, reason, people_max, booking_url)
SlotRow = tuple[int, dt.datetime, str, int | None, str]


@dataclass(frozen=True)
class SlotCounts:
    new: int
    kept: int
    removed: int  # every slot deleted, those whose time has come included
    removed_upcoming: int = 0  # deleted slots that had not started yet: gone from the source's answer
    changed: int = 0  # kept slots whose capacity or booking link changed

    @property
    def any_change(self) -> bool:
        """Whether the slots now differ from before this run (what a search could show differently)."""
        return bool(self.new or self.removed or self.changed)


class _Suspicious(Exception):
    """Raised inside the ingestion's transaction to roll back a run found suspicious once written."""


def error_excerpt(text: str, *, token: str = "", limit: int = ERROR_EXCERPT_CHARS) -> str:
    """The text with the source's token redacted (raw and URL-encoded), cut to `limit` characters."""
    text = redact_token(text, token).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def source_ingest(
    *,
    source: Source,
    meeting_points: list[MeetingPointData] | None,
    result: FetchResult,
    run: ScrapeRun,
    now: dt.datetime | None = None,
) -> ScrapeRun:
    """Write one fetch of `source` and record its outcome on `run` (saved).

    `meeting_points` is the discovery answer (None when this run did not discover). Slots of covered
    meeting points replace their town hall's slots; other town halls keep theirs. Sets run.status to
    SUCCESS, SUSPICIOUS or FAILED (nothing answered); only SUCCESS writes town halls and slots.
    """
    now = now or timezone.now()
    run.discovery = meeting_points is not None
    run.parse_errors = result.parse_errors
    run.http_calls = result.http_calls
    run.bytes_received = result.bytes_received

    # Any future slot at all? (stops at the first one: cheap even for a large payload)
    has_future = any(slot.starts_at > now for slot in result.slots if slot.starts_at.tzinfo is not None)
    problem, status = _problem(source=source, result=result, run=run, has_future=has_future)
    if problem:
        run.status = status
        run.error = error_excerpt("\n".join([problem, *result.errors]), token=source.token)
        run.finished_at = timezone.now()
        run.save()
        logger.warning("Source %s: %s run, nothing replaced: %s", source.pk, status, problem)
        return run

    try:
        with transaction.atomic():
            rejected: list[str] = []
            if meeting_points is not None:
                rejected = meeting_points_upsert(
                    source=source, meeting_points=meeting_points, now=now
                ).rejected
            town_hall_of = dict(
                MeetingPoint.objects.filter(source=source).values_list("external_id", "town_hall_id")
            )
            covered_of = {
                str(mp_id): town_hall_of[str(mp_id)] for mp_id in result.covered if str(mp_id) in town_hall_of
            }
            covered = set(covered_of.values())
            rows, invalid = _slot_rows(result.slots, town_hall_of=covered_of, now=now)
            counts = slots_replace(source_id=source.pk, town_hall_ids=covered, rows=rows, now=now)
            problem = _removal_problem(source=source, run=run, counts=counts)
            if problem:
                raise _Suspicious(problem)
            # Cached searches around these town halls are obsolete once this commits, when a search could
            # show them differently: other slots, other details (discovery), or a town hall no longer stale
            # (or checked for the first time). A run that finds everything as it was keeps them: their data
            # ages then say when the data was checked before this run, which is still true, and
            # SEARCH_CACHE_SECONDS bounds how long they say so.
            covered_town_halls = TownHall.objects.filter(pk__in=covered)
            if (
                counts.any_change
                or meeting_points is not None
                or covered_town_halls.filter(Q(stale_at__isnull=True) | Q(stale_at__lte=now)).exists()
            ):
                search_cache_bump(points=covered_town_halls.values_list("lat", "lon"))
            # Another source may follow these town halls too: their data is as fresh as the freshest source.
            stale_at = now + STALE_AFTER_INTERVALS * source.interval
            covered_town_halls.update(
                checked_at=now,
                stale_at=Case(When(stale_at__gt=stale_at, then=F("stale_at")), default=Value(stale_at)),
            )
            run.status = ScrapeRun.Status.SUCCESS
            run.town_halls = len(covered)
            run.slots_new, run.slots_kept, run.slots_removed = counts.new, counts.kept, counts.removed
            run.parse_errors = result.parse_errors + invalid + len(rejected)
            errors = [*rejected, *result.errors]
            if invalid:
                errors.append(
                    f"{invalid} slot(s) skipped: unknown reason, bad capacity or an impossible date"
                )
            run.error = error_excerpt("\n".join(errors), token=source.token)
            run.finished_at = timezone.now()
            run.save()
            if counts.new:
                # After commit, so the worker sees the new slots; a broker outage never fails the run.
                town_hall_ids = sorted(covered)
                transaction.on_commit(lambda: alerts_match_enqueue(town_hall_ids=town_hall_ids), robust=True)
    except _Suspicious as exc:
        # Everything this run wrote is rolled back: the last good data stays.
        run.status = ScrapeRun.Status.SUSPICIOUS
        run.error = error_excerpt("\n".join([str(exc), *result.errors]), token=source.token)
        run.finished_at = timezone.now()
        run.save()
        logger.warning("Source %s: suspicious run, nothing replaced: %s", source.pk, exc)
    return run


def _problem(*, source: Source, result: FetchResult, run: ScrapeRun, has_future: bool) -> tuple[str, str]:
    """Why this fetch must not replace anything (empty when it may), and the run status to record."""
    total = len(result.slots) + result.parse_errors
    min_errors = settings.SCRAPE_SUSPICIOUS_PARSE_ERRORS
    ratio = settings.SCRAPE_SUSPICIOUS_PARSE_ERROR_RATIO
    if result.parse_errors >= min_errors and result.parse_errors > ratio * total:
        return (
            f"{result.parse_errors} parse errors for {len(result.slots)} slots read "
            f"(threshold: {min_errors} errors and {ratio:.0%} of the items)",
            ScrapeRun.Status.SUSPICIOUS,
        )
    if not result.covered and result.errors:
        return "No meeting point answered", ScrapeRun.Status.FAILED
    if not has_future and result.covered:
        return _zero_slots_problem(source=source, run=run), ScrapeRun.Status.SUSPICIOUS
    return "", ""


def _zero_slots_problem(*, source: Source, run: ScrapeRun) -> str:
    """Suspicious when the last good run had many slots, unless this is confirmed by repeated runs.

    An editor may really run out of slots: after SCRAPE_ZERO_SLOTS_CONFIRMATIONS empty answers in a
    row (this one included), the empty answer is accepted.
    """
    recent = (
        ScrapeRun.objects.filter(source=source).exclude(pk=run.pk).exclude(status=ScrapeRun.Status.RUNNING)
    )
    last_success = recent.filter(status=ScrapeRun.Status.SUCCESS).order_by("-started_at").first()
    if last_success is None:
        return ""
    previous_total = last_success.slots_new + last_success.slots_kept
    if previous_total < ZERO_SLOTS_SUSPICIOUS_FROM:
        return ""
    if _confirmed(source=source, run=run, since=last_success):
        return ""
    return f"No slot at all, while the last successful run had {previous_total}"


def _confirmed(*, source: Source, run: ScrapeRun, since: ScrapeRun | None) -> bool:
    """Whether this run is the SCRAPE_ZERO_SLOTS_CONFIRMATIONS-th suspicious answer in a row since `since`:
    an editor may really lose its slots, and repeated identical answers say so."""
    recent = ScrapeRun.objects.filter(source=source, status=ScrapeRun.Status.SUSPICIOUS).exclude(pk=run.pk)
    if since is not None:
        recent = recent.filter(started_at__gt=since.started_at)
    return recent.count() + 1 >= settings.SCRAPE_ZERO_SLOTS_CONFIRMATIONS


def _removal_problem(*, source: Source, run: ScrapeRun, counts: SlotCounts) -> str:
    """Suspicious when the run would remove more than SCRAPE_SUSPICIOUS_REMOVED_SHARE of the upcoming slots
    of the town halls it answered for (an answer that left them out, read as "no slot"), unless confirmed."""
    before = counts.kept + counts.removed_upcoming
    share = settings.SCRAPE_SUSPICIOUS_REMOVED_SHARE
    if before < ZERO_SLOTS_SUSPICIOUS_FROM or counts.removed_upcoming <= share * before:
        return ""
    last_success = (
        ScrapeRun.objects.filter(source=source, status=ScrapeRun.Status.SUCCESS)
        .exclude(pk=run.pk)
        .order_by("-started_at")
        .first()
    )
    if _confirmed(source=source, run=run, since=last_success):
        return ""
    return (
        f"Would remove {counts.removed_upcoming} of the {before} upcoming slots it had "
        f"(more than SCRAPE_SUSPICIOUS_REMOVED_SHARE = {share:.0%})"
    )


def _slot_rows(
    slots: Iterable[SlotData], *, town_hall_of: dict[str, int], now: dt.datetime
) -> tuple[list[SlotRow], int]:
    """Rows of the slots of covered meeting points (duplicates and past ones left to slots_replace).

    Returns the rows and how many slots were unusable (unknown reason, naive or impossible datetime, bad
    capacity, or anything else wrong with one slot). Kept to a minimum per slot: this loop runs over every
    slot of every run.
    """
    rows: list[SlotRow] = []
    append = rows.append
    invalid = 0
    reasons = _REASONS
    latest = now + SLOT_MAX_AHEAD
    for slot in slots:
        try:
            town_hall_id = town_hall_of.get(slot.meeting_point_id)
            if town_hall_id is None:
                town_hall_id = town_hall_of.get(str(slot.meeting_point_id))  # an id given as a number
                if town_hall_id is None:
                    continue
            starts_at, reason, people_max = slot.starts_at, slot.reason, slot.people_max
            if reason not in reasons or starts_at.tzinfo is None or starts_at > latest:
                invalid += 1
                continue
            if people_max is not None:
                people_max = min(max(int(people_max), 1), 32767)
            booking_url = web_url(slot.booking_url)
        except Exception:  # one unreadable slot is skipped and counted, whatever is wrong with it
            invalid += 1
            continue
        append((town_hall_id, starts_at, reason, people_max, booking_url))
    return rows, invalid


def slots_replace(
    *, source_id: int, town_hall_ids: set[int], rows: list[SlotRow], now: dt.datetime
) -> SlotCounts:
    """Make this source's future slots of these town halls exactly `rows`: insert new ones, refresh kept
    ones, delete the rest (past slots included). Other sources' slots of the same town halls are untouched.

    Rows are (town hall id, aware start, reason, people_max, booking_url), for these town halls only; rows
    starting at or before `now` are skipped; duplicates are merged (unknown capacity wins, else the
    largest). Kept slots keep first_seen and get the new booking URL and capacity.
    Must run inside a transaction.
    """
    if not town_hall_ids:
        return SlotCounts(0, 0, 0)
    if connection.vendor == "postgresql":
        return _slots_replace_postgresql(source_id=source_id, town_hall_ids=town_hall_ids, rows=rows, now=now)
    return _slots_replace_portable(source_id=source_id, town_hall_ids=town_hall_ids, rows=rows, now=now)


def _slots_replace_postgresql(
    *, source_id: int, town_hall_ids: set[int], rows: list[SlotRow], now: dt.datetime
) -> SlotCounts:
    slot_table = connection.ops.quote_name(Slot._meta.db_table)
    url_max = Slot._meta.get_field("booking_url").max_length
    temp = "scrapers_ingest_slot"
    with connection.cursor() as cursor:
        # For this transaction: a large run's sorts and groupings in memory, and no JIT compilation (its
        # hundreds of milliseconds buy nothing for statements that take a few).
        cursor.execute("SELECT set_config('work_mem', %s, true), set_config('jit', 'off', true)", [WORK_MEM])
        # ON COMMIT DROP, and an explicit DROP below for callers inside a longer transaction (DDL is
        # transactional: an error in between rolls the CREATE back with the rest).
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temp} (town_hall_id bigint NOT NULL, starts_at timestamptz NOT NULL,"
            " reason text NOT NULL, people_max smallint, booking_url text NOT NULL) ON COMMIT DROP"
        )
        raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
        with raw.copy(
            f"COPY {temp} (town_hall_id, starts_at, reason, people_max, booking_url) FROM STDIN"
        ) as copy:
            copy.set_types(["int8", "timestamptz", "text", "int2", "text"])
            write_row = copy.write_row
            for row in rows:
                write_row(row)
        # Whether this source had slots in these town halls: a first collection has nothing to delete.
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {slot_table} WHERE source_id = %s AND town_hall_id = ANY(%s))",
            [source_id, sorted(town_hall_ids)],
        )
        (had_slots,) = cursor.fetchone()
        # Duplicates merged and past slots dropped in SQL (cheaper than hashing aware datetimes in Python).
        # A kept slot is written only when its capacity or link changed: most of a run's slots are the same
        # as the last run's, and rewriting them cost a new row version (and index entries) each.
        # xmax = 0 on a row returned by INSERT ... ON CONFLICT means it was inserted, not updated.
        cursor.execute(
            f"""
            WITH merged AS (
                SELECT town_hall_id, starts_at, reason,
                       CASE WHEN bool_or(people_max IS NULL) THEN NULL ELSE max(people_max) END AS people_max,
                       coalesce(max(booking_url) FILTER (WHERE length(booking_url) <= %s), '') AS booking_url
                FROM {temp}
                WHERE starts_at > %s
                GROUP BY town_hall_id, starts_at, reason
            ),
            upserted AS (
                INSERT INTO {slot_table} AS s
                    (source_id, town_hall_id, starts_at, reason, people_max, booking_url, first_seen)
                SELECT %s, town_hall_id, starts_at, reason, people_max, booking_url, %s FROM merged
                ORDER BY town_hall_id, starts_at, reason
                ON CONFLICT (source_id, town_hall_id, starts_at, reason) DO UPDATE
                    SET people_max = EXCLUDED.people_max, booking_url = EXCLUDED.booking_url
                    WHERE (s.people_max, s.booking_url) IS DISTINCT FROM (EXCLUDED.people_max, EXCLUDED.booking_url)
                RETURNING (s.xmax = 0) AS inserted
            )
            SELECT new, (SELECT count(*) FROM merged) - new, changed
            FROM (
                SELECT count(*) FILTER (WHERE inserted) AS new, count(*) FILTER (WHERE NOT inserted) AS changed
                FROM upserted
            ) AS written
            """,
            [url_max, now, source_id, now],
        )
        new, kept, changed = cursor.fetchone()
        if new >= ANALYZE_FROM_ROWS:
            _statistics_refresh(cursor, new_rows=new)
        removed = removed_upcoming = 0
        if had_slots:
            removed, removed_upcoming = _slots_gone_delete(
                cursor, source_id=source_id, town_hall_ids=town_hall_ids, temp=temp, now=now
            )
        cursor.execute(f"DROP TABLE {temp}")
    return SlotCounts(new=new, kept=kept, removed=removed, removed_upcoming=removed_upcoming, changed=changed)


def _slots_gone_delete(
    cursor: CursorWrapper, *, source_id: int, town_hall_ids: set[int], temp: str, now: dt.datetime
) -> tuple[int, int]:
    """Delete the source's slots of these town halls missing from the answer in `temp` (past ones included);
    how many, and how many of them had not started."""
    slot_table = connection.ops.quote_name(Slot._meta.db_table)
    # The slots gone before their time also go to the statistics' lifetime histogram, in this statement.
    # The slots to delete are found by grouping the source's slots with the answer's rows: whatever the
    # planner believes of the temporary table (no statistics) or of a new source, a grouping is linear,
    # where the anti-join it chose (a nested loop) cost the product of both sides' rows.
    lifetimes_sql, lifetimes_params = lifetimes_cte(deleted="deleted", now=now)
    cursor.execute(
        f"""
        WITH deleted AS (
            DELETE FROM {slot_table} AS s
            WHERE s.id = ANY(ARRAY(
                SELECT max(id) FROM (
                    SELECT id, town_hall_id, starts_at, reason::text AS reason FROM {slot_table}
                    WHERE source_id = %s AND town_hall_id = ANY(%s)
                    UNION ALL
                    SELECT NULL, town_hall_id, starts_at, reason FROM {temp} WHERE starts_at > %s
                ) AS sides
                GROUP BY town_hall_id, starts_at, reason
                HAVING count(id) = count(*)
            ))
            RETURNING s.starts_at, s.first_seen, s.town_hall_id
        ), {lifetimes_sql}
        SELECT count(*), count(*) FILTER (WHERE starts_at > %s) FROM deleted
        """,
        [source_id, sorted(town_hall_ids), now, *lifetimes_params, now],
    )
    return cursor.fetchone()


def _statistics_refresh(cursor: CursorWrapper, *, new_rows: int) -> None:
    """ANALYZE the slot table and its per-day summary when this run grew them by a large share.

    The planner's statistics otherwise stay those of a much smaller table until autovacuum gets there: on a
    new deployment whose first small source was analysed (18 slots), the first large ingestion took minutes
    (its DELETE planned as if the table were tiny) and searches hundreds of milliseconds. ANALYZE inside this
    transaction counts the rows it inserted; it samples a bounded number of rows whatever the table's size.
    """
    slot_table = connection.ops.quote_name(Slot._meta.db_table)
    cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [Slot._meta.db_table])
    known = max(cursor.fetchone()[0], 0)
    if new_rows < STATISTICS_STALE_SHARE * known:
        return
    day_table = connection.ops.quote_name(SlotDay._meta.db_table)
    cursor.execute(f"ANALYZE {slot_table}, {day_table}")
    logger.info("Slot statistics refreshed: %s new slots, %s before", new_rows, int(known))


def _slots_replace_portable(
    *, source_id: int, town_hall_ids: set[int], rows: list[SlotRow], now: dt.datetime
) -> SlotCounts:
    url_max = Slot._meta.get_field("booking_url").max_length
    merged: dict[SlotKey, tuple[int | None, str]] = {}
    for town_hall_id, starts_at, reason, people_max, url in rows:
        if starts_at <= now:
            continue
        key = (town_hall_id, starts_at, reason)
        url = url if len(url) <= url_max else ""
        previous = merged.get(key)
        if previous is not None:
            # Two meeting points of one town hall, or a slot listed twice: unknown capacity, else the largest.
            old_people, old_url = previous
            people_max = None if old_people is None or people_max is None else max(old_people, people_max)
            url = max(old_url, url)
        merged[key] = (people_max, url)

    existing: dict[SlotKey, int] = {}
    first_seen_of: dict[SlotKey, dt.datetime] = {}
    values_of: dict[SlotKey, tuple[int | None, str]] = {}
    for ids in _chunks(sorted(town_hall_ids), 500):
        for pk, first_seen, people_max, url, town_hall_id, starts_at, reason in Slot.objects.filter(
            source_id=source_id, town_hall_id__in=ids
        ).values_list("pk", "first_seen", "people_max", "booking_url", *_SLOT_KEY_FIELDS):
            existing[(town_hall_id, starts_at, reason)] = pk
            first_seen_of[(town_hall_id, starts_at, reason)] = first_seen
            values_of[(town_hall_id, starts_at, reason)] = (people_max, url)
    kept = sum(1 for key in merged if key in existing)
    changed = sum(1 for key, values in merged.items() if key in existing and values_of[key] != values)
    removed_keys = [key for key in existing if key not in merged]
    removed_ids = [existing[key] for key in removed_keys]
    removed_upcoming = sum(1 for _, starts_at, _ in removed_keys if starts_at > now)
    objects = [
        Slot(
            source_id=source_id,
            town_hall_id=town_hall_id,
            starts_at=starts_at,
            reason=reason,
            people_max=people_max,
            booking_url=url,
            first_seen=now,
        )
        for (town_hall_id, starts_at, reason), (people_max, url) in merged.items()
    ]
    Slot.objects.bulk_create(
        objects,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["source", "town_hall", "starts_at", "reason"],
        update_fields=["booking_url", "people_max"],
    )
    for ids in _chunks(removed_ids, 500):
        Slot.objects.filter(pk__in=ids).delete()
    slots_changed(town_hall_ids=town_hall_ids)
    lifetimes_record(vanished=[(key[0], key[1], first_seen_of[key]) for key in removed_keys], now=now)
    return SlotCounts(
        new=len(merged) - kept,
        kept=kept,
        removed=len(removed_ids),
        removed_upcoming=removed_upcoming,
        changed=changed,
    )


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Meeting points and town halls.

_TOWN_HALL_TEXT_FIELDS = ("name", "address", "postcode", "phone", "website", "booking_url")
_URL_FIELDS = frozenset({"website", "booking_url"})
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class UpsertResult:
    town_hall_of: dict[str, int]  # external id -> town hall id
    rejected: list[str]  # why meeting points were skipped, one line each


def meeting_points_upsert(
    *, source: Source, meeting_points: list[MeetingPointData], now: dt.datetime
) -> UpsertResult:
    """Create or refresh the town halls behind these meeting points.

    New meeting points get a new town hall (online booking, linked to its commune). Existing ones have
    their town hall's details refreshed, except the fields an admin corrected (TownHall.locked_fields, and
    the location when location_locked) and the fields the source leaves empty: a source never blanks what
    it does not provide. A town hall an admin hid stays hidden. A meeting point that cannot be stored (an
    over-long id, an unexpected value) is skipped and reported in `rejected`; the others are written.
    """
    by_id: dict[str, tuple[MeetingPointData, dict[str, object]]] = {}
    rejected: list[str] = []
    max_id = MeetingPoint._meta.get_field("external_id").max_length
    for data in meeting_points:
        external_id = str(data.external_id).strip()
        try:
            if len(external_id) > max_id or _CONTROL_CHARACTERS.search(external_id):
                raise ValueError(f"an id of {len(external_id)} characters, or with control characters")
            if external_id:
                by_id[external_id] = (data, _town_hall_values(data))
        except Exception as exc:  # one bad meeting point never fails the run
            rejected.append(f"Meeting point {external_id[:40]!r} skipped: {exc}"[:300])
    existing = {
        mp.external_id: mp
        for mp in MeetingPoint.objects.filter(source=source, external_id__in=list(by_id)).select_related(
            "town_hall"
        )
    }
    changed_town_halls: list[TownHall] = []
    changed_fields: set[str] = set()
    for external_id, mp in existing.items():
        town_hall = mp.town_hall
        data, source_values = by_id[external_id]
        values = {name: value for name, value in source_values.items() if value not in ("", None)}
        for name in town_hall.locked_field_names():
            values.pop(name, None)
        if town_hall.commune_id is None:
            commune = _commune_of(data)
            if commune is not None:
                values["commune_id"] = commune.pk
        values["online_booking"] = True
        dirty = {name for name, value in values.items() if getattr(town_hall, name) != value}
        if dirty:
            for name in dirty:
                setattr(town_hall, name, values[name])
            town_hall.updated_at = now  # bulk_update does not apply auto_now
            changed_town_halls.append(town_hall)
            changed_fields |= dirty
    if changed_town_halls:
        TownHall.objects.bulk_update(changed_town_halls, sorted(changed_fields | {"updated_at"}))
    MeetingPoint.objects.filter(pk__in=[mp.pk for mp in existing.values()]).update(last_seen=now)

    new_ids = [external_id for external_id in by_id if external_id not in existing]
    places = {}
    for external_id in new_ids:
        data, values = by_id[external_id]
        commune = _commune_of(data)
        places[external_id] = (
            commune,
            PlaceData(
                commune_id=commune.pk if commune else None,
                postcode=str(values["postcode"]),
                name=str(values["name"]),
                address=str(values["address"]),
                point=None if values["lat"] is None else (values["lat"], values["lon"]),
            ),
        )
    # A meeting point another source already brought in is that town hall, not a second one. Sources
    # discovering the same new place at once (all of them, on a first deployment) would each create it:
    # its area is locked until this transaction ends, so the second one finds what the first created.
    _places_lock(place for _, place in places.values())
    known = candidates_for(place for _, place in places.values())
    town_hall_of_new: dict[str, TownHall] = {}
    created: list[TownHall] = []
    for external_id in new_ids:
        data, values = by_id[external_id]
        commune, place = places[external_id]
        match = same_place_among(place, known)
        if match is None:
            name = values["name"] or (data.city or "").strip()[:255] or f"#{external_id}"
            match = TownHall(**{**values, "name": name}, commune=commune, online_booking=True, active=True)
            created.append(match)
        town_hall_of_new[external_id] = match
    TownHall.objects.bulk_create(created, batch_size=BATCH_SIZE)
    linked = [th.pk for th in town_hall_of_new.values() if th not in created]
    TownHall.objects.filter(pk__in=linked, online_booking=False).update(online_booking=True, updated_at=now)
    MeetingPoint.objects.bulk_create(
        [
            MeetingPoint(source=source, external_id=external_id, town_hall=town_hall, last_seen=now)
            for external_id, town_hall in town_hall_of_new.items()
        ],
        batch_size=BATCH_SIZE,
    )
    mapping = {external_id: mp.town_hall_id for external_id, mp in existing.items()}
    mapping.update({external_id: town_hall.pk for external_id, town_hall in town_hall_of_new.items()})
    return UpsertResult(town_hall_of=mapping, rejected=rejected)


def _places_lock(places: Iterable[PlaceData]) -> None:
    """Take PostgreSQL's transaction-level advisory locks on the communes and postcodes of `places` (in one
    order, so that two transactions never wait for each other); elsewhere writes are serialised anyway."""
    if connection.vendor != "postgresql":
        return
    keys = set()
    for place in places:
        if place.commune_id is not None:
            keys.add(zlib.crc32(f"town-hall-commune:{place.commune_id}".encode()))
        if place.postcode:
            keys.add(zlib.crc32(f"town-hall-postcode:{place.postcode}".encode()))
    if keys:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(key) FROM unnest(%s::bigint[]) AS key ORDER BY key",
                [sorted(keys)],
            )


def _town_hall_values(data: MeetingPointData) -> dict[str, object]:
    """The town hall's fields as this source gives them, made storable: control characters (a NUL byte
    PostgreSQL refuses) removed, cut to the column's length, a URL too long to keep dropped."""
    values: dict[str, object] = {}
    for name in _TOWN_HALL_TEXT_FIELDS:
        raw = getattr(data, name, None)
        text = "" if raw is None else _CONTROL_CHARACTERS.sub(" ", str(raw)).strip()
        max_length = TownHall._meta.get_field(name).max_length
        if name in _URL_FIELDS:
            text = web_url(text) if len(text) <= max_length else ""  # a cut URL is a broken link
        values[name] = text[:max_length].strip()
    values["lat"], values["lon"] = parse_point(data.lat, data.lon) or (None, None)
    return values


def _commune_of(data: MeetingPointData) -> Commune | None:
    return commune_for(
        insee=data.insee, postcode=data.postcode, city=data.city, point=parse_point(data.lat, data.lon)
    )
