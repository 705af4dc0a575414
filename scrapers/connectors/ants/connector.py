"""ANTS "API éditeurs": the standard every booking editor exposes (docs/SOURCES.md).

Source fields: `base_url` is the editor's API base (the endpoints are appended to it), `auth_header` and
`token` the editor's header (X-HUB-RDV-AUTH-TOKEN when left empty) and token, `max_documents` the largest number of
people asked for (documents_number 1..max_documents).

Options: see Config (scrapers/connectors/ants/config.py); one request per reason.

Discovery: GET {base}/getManagedMeetingPoints. Slots: GET {base}/availableTimeSlots with the repeated key
`meeting_point_ids=1&meeting_point_ids=2`, start_date/end_date (YYYY-MM-DD), reason, documents_number.
A slot returned for documents_number=n can take n people: people_max is the largest n it came back for.
Datetimes written with a trailing Z are Paris wall-clock time (the editors' convention, which the national
hub follows); an explicit numeric offset is exact; a naive datetime is Paris time.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from communes.geo import parse_coordinate
from scrapers.connectors.ants.config import Config
from scrapers.connectors.base import (
    SLOT_YEARS,
    Connector,
    FetchResult,
    MeetingPointData,
    SlotData,
    in_window,
    paris,
)
from scrapers.fetching.errors import (
    BlockedAddressError,
    ConnectorError,
    HttpError,
    HttpStatusError,
    ScrapeDeadlineError,
)
from scrapers.fetching.http import JSON

logger = logging.getLogger(__name__)

_DATETIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)
_UNKNOWN_POINT = re.compile(r"Unknown Meeting Point ID\s*:\s*(?P<id>[^\s\"',}]+)", re.IGNORECASE)
# Words kept in lower case inside a French commune name ("Clichy-sous-Bois", "Saint-Martin-d'Hères").
_LOWER_WORDS = {
    "sur",
    "sous",
    "les",
    "lès",
    "lez",
    "le",
    "la",
    "de",
    "des",
    "du",
    "d",
    "en",
    "et",
    "aux",
    "au",
    "l",
}


def parse_ants_datetime(value: Any) -> dt.datetime:
    """Read an ANTS `datetime`: a trailing Z means Paris wall-clock time, an offset is exact, naive is Paris.

    Formats seen: %Y-%m-%dT%H:%MZ, %Y-%m-%dT%H:%M:%S%z, %Y-%m-%dT%H:%M:%S (seconds and Z optional).
    """
    if not isinstance(value, str):
        raise ValueError(f"datetime must be a string, got {type(value).__name__}")
    match = _DATETIME.match(value.strip())
    if not match:
        raise ValueError(f"unrecognised datetime {value[:40]!r}")
    time_part = match["time"] if len(match["time"]) == 8 else match["time"] + ":00"
    naive = dt.datetime.fromisoformat(f"{match['date']}T{time_part}")
    if naive.year not in SLOT_YEARS:
        # Year 1 or 9999 is a source's bug, and with an offset it cannot even be converted to Paris time.
        raise ValueError(f"year {naive.year} out of range in {value[:40]!r}")
    tz = match["tz"]
    if tz is None or tz == "Z":
        return paris(naive)
    sign = 1 if tz[0] == "+" else -1
    digits = tz[1:].replace(":", "")
    offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    if offset >= dt.timedelta(hours=24):
        raise ValueError(f"offset out of range in {value[:40]!r}")
    return naive.replace(tzinfo=dt.timezone(sign * offset))


def display_city(name: str) -> str:
    """CLICHY-SOUS-BOIS -> Clichy-sous-Bois; a name already in mixed case is kept as is."""
    name = " ".join(name.split())
    if not name or name != name.upper():
        return name
    parts = re.split(r"([\s\-'’])", name.lower())
    words = []
    first = True
    for part in parts:
        if not part or re.fullmatch(r"[\s\-'’]", part):
            words.append(part)
            continue
        words.append(part if (part in _LOWER_WORDS and not first) else part[:1].upper() + part[1:])
        first = False
    return "".join(words)


def clean_address(address: str, zip_code: str, city: str) -> str:
    """The street address without the postcode (and the city right after it) that editors often repeat."""
    address = " ".join(address.split())
    if zip_code and zip_code in address:
        pattern = re.escape(zip_code) + r"\s*" + (f"(?:{re.escape(city)})?" if city else "")
        address = re.sub(pattern, " ", address, flags=re.IGNORECASE)
    return re.sub(r"[\s,;\-]+$", "", " ".join(address.split())).strip(" ,;")


class AntsConnector(Connector):
    kind = "ants"
    label = "ANTS editor API (getManagedMeetingPoints / availableTimeSlots)"
    source_fields = (
        "`base_url`: the editor's API base; `auth_header` (empty: `X-HUB-RDV-AUTH-TOKEN`) and `token`; "
        "`max_documents`: ask for 1 to n people (new sources: 4, families book one slot per person)."
    )
    Config = Config
    config: Config
    default_auth_header = "X-HUB-RDV-AUTH-TOKEN"
    # Families book one slot per person, several at once: like the national hub, ask documents_number 1 to 4.
    default_max_documents = 4

    def _url(self, endpoint: str) -> str:
        return f"{self.spec.base_url.rstrip('/')}/{endpoint}"

    def discover(self) -> list[MeetingPointData]:
        try:
            payload = self.http.get(self._url("getManagedMeetingPoints")).expect(JSON).json()
        except HttpStatusError as exc:
            raise ConnectorError(f"getManagedMeetingPoints failed: {describe_error(exc)}") from None
        if not isinstance(payload, list):
            raise ConnectorError(
                f"getManagedMeetingPoints must return a JSON list, got {type(payload).__name__}"
            )
        points: list[MeetingPointData] = []
        skipped: list[str] = []
        for index, row in enumerate(payload):
            try:
                points.append(self._meeting_point(row))
            except ValueError as exc:
                skipped.append(f"#{index}: {exc}")
        if skipped:
            logger.warning(
                "source %s: %d meeting point(s) skipped: %s",
                self.spec.id,
                len(skipped),
                "; ".join(skipped[:5]),
            )
        if payload and not points:
            raise ConnectorError(f"getManagedMeetingPoints returned no usable meeting point: {skipped[0]}")
        return points

    @staticmethod
    def _meeting_point(row: Any) -> MeetingPointData:
        if not isinstance(row, dict):
            raise ValueError(f"not an object ({type(row).__name__})")
        external_id = row.get("id")
        if external_id in (None, "") or isinstance(external_id, bool | dict | list):
            raise ValueError("missing id")
        name = " ".join(str(row.get("name") or "").split())
        if not name:
            raise ValueError(f"meeting point {external_id} has no name")
        zip_code = str(row.get("zip_code") or "").strip()
        raw_city = " ".join(str(row.get("city_name") or "").split())
        return MeetingPointData(
            external_id=str(external_id),
            name=name,
            address=clean_address(str(row.get("public_entry_address") or ""), zip_code, raw_city),
            postcode=zip_code,
            city=display_city(raw_city),
            # An unreadable point leaves the town hall without one (found by postcode), not unlisted.
            lat=parse_coordinate(row.get("latitude"), 90),
            lon=parse_coordinate(row.get("longitude"), 180),
            website=str(row.get("website") or "").strip(),
        )

    def fetch_slots(self, meeting_point_ids: list[str], *, start: dt.date, end: dt.date) -> FetchResult:
        if start > end:
            raise ConnectorError(f"start {start} is after end {end}")
        reasons = self.config.reasons
        batch_size = self.config.batch_size
        counters = self._start_counters()
        ids = list(dict.fromkeys(str(i) for i in meeting_point_ids))
        # (meeting point, start, reason) -> (largest documents_number seen, booking URL)
        found: dict[tuple[str, dt.datetime, str], tuple[int, str]] = {}
        covered: set[str] = set()
        errors: list[str] = []
        parse_errors = 0
        failed_batches = 0
        batches = [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]

        for batch in batches:
            try:
                batch_ok, batch_parse_errors = self._fetch_batch(batch, reasons, start, end, found, errors)
            except _BatchFailed as exc:
                failed_batches += 1
                errors.append(str(exc))
                if exc.fatal:
                    raise ConnectorError(str(exc)) from None
                continue
            parse_errors += batch_parse_errors
            covered.update(batch_ok)

        if batches and failed_batches == len(batches):
            raise ConnectorError(errors[0] if len(errors) == 1 else f"every batch failed; first: {errors[0]}")
        slots = [
            SlotData(
                meeting_point_id=mp, starts_at=starts_at, reason=reason, people_max=people, booking_url=url
            )
            for (mp, starts_at, reason), (people, url) in sorted(found.items(), key=lambda kv: kv[0][:2])
            if mp in covered
        ]
        if parse_errors:
            errors.append(f"{parse_errors} slot(s) could not be read and were skipped")
        return self._finish(counters, slots=slots, covered=covered, errors=errors, parse_errors=parse_errors)

    def _fetch_batch(
        self,
        batch: list[str],
        reasons: list[str],
        start: dt.date,
        end: dt.date,
        found: dict[tuple[str, dt.datetime, str], tuple[int, str]],
        errors: list[str],
    ) -> tuple[set[str], int]:
        """Fetch one batch for every reason and people count; return the ids fully read and parse errors.

        A meeting point missing from every answer is not read: an editor answering `{}` knows nothing of it
        (its slots must stay), which is not the same as an empty list (no slot).
        """
        remaining = list(batch)
        incomplete: set[str] = set()
        answered: set[str] = set()
        parse_errors = 0
        for reason in reasons:
            for documents in range(1, self.spec.max_documents + 1):
                payload = self._available_time_slots(remaining, reason, documents, start, end, errors)
                if not isinstance(payload, dict):
                    raise _BatchFailed(
                        f"availableTimeSlots for {_ids(remaining)} must return a JSON object, "
                        f"got {type(payload).__name__}"
                    )
                for mp in list(remaining):
                    if mp not in payload:
                        continue
                    answered.add(mp)
                    rows = payload[mp]
                    if rows is None:
                        rows = []
                    if not isinstance(rows, list):
                        parse_errors += 1
                        incomplete.add(mp)
                        errors.append(f"meeting point {mp}: slots must be a list, got {type(rows).__name__}")
                        continue
                    for row in rows:
                        try:
                            starts_at, url = _slot(row)
                        except ValueError as exc:
                            parse_errors += 1
                            logger.info("source %s, meeting point %s: %s", self.spec.id, mp, exc)
                            continue
                        if not in_window(starts_at, start, end):
                            continue
                        key = (mp, starts_at, reason)
                        people, old_url = found.get(key, (0, ""))
                        found[key] = (max(people, documents), old_url or url)
        dropped = set(batch) - set(remaining)
        unanswered = sorted(set(remaining) - answered)
        if unanswered:
            errors.append(f"{_ids(unanswered)}: missing from every answer, their slots kept")
        return set(remaining) & answered - incomplete - dropped, parse_errors

    def _available_time_slots(
        self,
        remaining: list[str],
        reason: str,
        documents: int,
        start: dt.date,
        end: dt.date,
        errors: list[str],
    ) -> Any:
        """One availableTimeSlots call; an unknown meeting point is dropped from `remaining` and retried."""
        while remaining:
            params: list[tuple[str, str]] = [("meeting_point_ids", mp) for mp in remaining]
            params += [
                ("start_date", start.isoformat()),
                ("end_date", end.isoformat()),
                ("reason", reason),
                ("documents_number", str(documents)),
            ]
            try:
                return self.http.get(self._url("availableTimeSlots"), params=params).expect(JSON).json()
            except HttpStatusError as exc:
                detail = describe_error(exc)
                unknown = _UNKNOWN_POINT.search(exc.body or "")
                if exc.status == 404 and unknown and unknown["id"] in remaining and len(remaining) > 1:
                    # One unknown id fails the whole request: drop it and ask again for the others.
                    remaining.remove(unknown["id"])
                    errors.append(f"meeting point {unknown['id']}: unknown to the editor ({detail})")
                    continue
                raise _BatchFailed(
                    f"availableTimeSlots for {_ids(remaining)} (reason {reason}, "
                    f"documents_number {documents}) failed: {detail}",
                    fatal=exc.status in (401, 403),
                ) from None
            except HttpError as exc:
                # A refused address will be refused for every batch, and past the scrape's deadline no batch
                # may be asked: stop at once.
                fatal = isinstance(exc, BlockedAddressError | ScrapeDeadlineError)
                raise _BatchFailed(
                    f"availableTimeSlots for {_ids(remaining)} failed: {exc}", fatal=fatal
                ) from None
            except ConnectorError as exc:  # invalid JSON, bad charset
                raise _BatchFailed(f"availableTimeSlots for {_ids(remaining)}: {exc}") from None
        return {}


class _BatchFailed(Exception):
    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


def _ids(ids: list[str]) -> str:
    shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
    return f"meeting point(s) {shown}"


def _slot(row: Any) -> tuple[dt.datetime, str]:
    if not isinstance(row, dict):
        raise ValueError(f"slot is not an object ({type(row).__name__})")
    starts_at = parse_ants_datetime(row.get("datetime"))
    url = row.get("callback_url") or ""
    if not isinstance(url, str) or (url and not url.startswith(("https://", "http://"))):
        raise ValueError(f"callback_url is not an http(s) URL: {str(url)[:60]!r}")
    return starts_at, url.strip()


def describe_error(exc: HttpStatusError) -> str:
    """An editor's error response in one line: `HTTP 400: Invalid reason param`, `HTTP 422: field: msg`."""
    body = (exc.body or "").strip()
    message = body
    try:
        payload = json.loads(body) if body else None
    except json.JSONDecodeError:
        payload = None
    if isinstance(payload, dict):
        message = _json_error_message(payload) or body
    elif isinstance(payload, str):
        message = payload
    if exc.status == 401 and not message:
        message = "token missing or invalid"
    where = urlsplit(exc.url).path or exc.url
    return f"HTTP {exc.status}" + (f": {message}" if message else "") + f" ({where})"


def _json_error_message(payload: dict[str, Any]) -> str:
    error = payload.get("error", payload.get("detail", payload.get("message")))
    if isinstance(error, dict):
        return str(error.get("message") or error.get("msg") or json.dumps(error, ensure_ascii=False))[:300]
    if isinstance(error, str):
        return error[:300]
    if isinstance(error, list):
        # FastAPI/pydantic 422: [{"loc": ["query", "start_date"], "msg": "...", "type": "..."}]
        parts = []
        for item in error[:5]:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", []) if p not in ("query", "body"))
                parts.append(f"{loc}: {item.get('msg', '')}".strip(": "))
            else:
                parts.append(str(item))
        return "; ".join(parts)[:300]
    return ""
