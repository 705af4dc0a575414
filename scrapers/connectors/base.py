"""The one small interface every connector implements, and the plain data it returns.

Connectors never touch the ORM: the ingestion (scrapers/ingest.py) builds a `SourceSpec` from a
`scrapers.models.Source`, calls `discover()` and `fetch_slots()`, and writes what comes back.
A connector only speaks HTTP through `self.http` (scrapers.fetching.http.HttpClient), which owns timeouts,
the size cap, the SSRF guard, retries and the per-host limit.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from scrapers.fetching.errors import ConnectorError
from scrapers.fetching.http import HttpClient

PARIS = ZoneInfo("Europe/Paris")
REASONS: tuple[str, ...] = ("CNI", "PASSPORT", "CNI-PASSPORT")


@dataclass(frozen=True)
class SourceSpec:
    """Plain data built from a scrapers.models.Source."""

    id: int
    name: str
    kind: str
    base_url: str
    auth_header: str
    token: str = field(repr=False)  # never in a repr, hence never in a log line
    config: dict[str, Any]
    max_documents: int

    @classmethod
    def from_source(cls, source: Any) -> SourceSpec:
        config = source.config if isinstance(source.config, dict) else {}
        return cls(
            id=source.pk,
            name=source.name,
            kind=source.kind,
            base_url=source.base_url,
            auth_header=source.auth_header or "",
            token=source.token or "",
            config=dict(config),
            max_documents=max(1, int(source.max_documents or 1)),
        )


@dataclass(frozen=True)
class MeetingPointData:
    """A town hall as the source knows it."""

    external_id: str
    name: str
    address: str = ""
    postcode: str = ""
    city: str = ""
    insee: str = ""
    lat: float | None = None
    lon: float | None = None
    phone: str = ""
    website: str = ""
    booking_url: str = ""

    def __post_init__(self) -> None:
        # These end up in an href on citizens' pages: a source may only give web links.
        object.__setattr__(self, "website", web_url(self.website))
        object.__setattr__(self, "booking_url", web_url(self.booking_url))


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# Slots outside these years are a source's bug (year 1, 9999), and some cannot even be converted to Paris time.
SLOT_YEARS = range(2000, 2200)


def web_url(value: str) -> str:
    """The URL if it is an absolute http(s) link, else "" (never javascript:, data:, relative...).

    A URL with a control character (a NUL byte, a line break) is no link either.
    """
    value = (value or "").strip()
    if _CONTROL_CHARACTERS.search(value):
        return ""
    try:
        parsed = urlsplit(value)
    except ValueError:  # an unbalanced IPv6 bracket
        return ""
    return value if parsed.scheme.lower() in {"http", "https"} and parsed.netloc else ""


@dataclass(frozen=True)
class SlotData:
    meeting_point_id: str
    starts_at: dt.datetime  # aware
    reason: str  # "CNI" | "PASSPORT" | "CNI-PASSPORT"
    people_max: int | None
    booking_url: str

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None or self.starts_at.utcoffset() is None:
            raise ValueError("SlotData.starts_at must be an aware datetime")
        if self.starts_at.year not in SLOT_YEARS:
            # Connectors count a ValueError as one unreadable slot, not as a failed fetch.
            raise ValueError(
                f"slot in year {self.starts_at.year}, outside {SLOT_YEARS.start}-{SLOT_YEARS.stop - 1}"
            )
        # One zone for every connector: comparisons, logs and tests read Paris wall-clock time.
        object.__setattr__(self, "starts_at", self.starts_at.astimezone(PARIS))
        object.__setattr__(self, "booking_url", web_url(self.booking_url))


@dataclass
class FetchResult:
    slots: list[SlotData]
    covered: set[str]  # meeting point ids whose slots were fetched completely (others: keep their old slots)
    errors: list[str]  # precise English messages (partial failures, parse errors), never the token
    parse_errors: int = 0
    http_calls: int = 0
    bytes_received: int = 0


class Connector:
    """Base of every connector: subclasses set `kind` and `label`, and implement two methods."""

    kind: ClassVar[str]
    label: ClassVar[str]

    def __init__(self, spec: SourceSpec, *, http: HttpClient | None = None) -> None:
        if http is None:
            http = HttpClient(auth_header=spec.auth_header, token=spec.token)
        self.spec = spec
        self.http = http

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client's connections."""
        self.http.close()

    def discover(self) -> list[MeetingPointData]:
        """The meeting points (town halls) this source manages. May raise ConnectorError."""
        raise NotImplementedError

    def fetch_slots(self, meeting_point_ids: list[str], *, start: dt.date, end: dt.date) -> FetchResult:
        """Free slots of these meeting points from start to end, both included. May raise ConnectorError."""
        raise NotImplementedError

    # Helpers shared by the connectors.

    @property
    def config(self) -> dict[str, Any]:
        return self.spec.config

    def config_int(self, key: str, *, default: int | None, minimum: int, maximum: int) -> int | None:
        """config[key] as a whole number within bounds; `default` when absent or empty."""
        raw = self.config.get(key)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise ConnectorError(f"config '{key}' must be an integer, got {raw!r}") from None
        if not minimum <= value <= maximum:
            raise ConnectorError(f"config '{key}' must be between {minimum} and {maximum}, got {value}")
        return value

    def configured_reasons(self) -> list[str]:
        """config["reasons"] (a subset of REASONS), all three when absent."""
        raw = self.config.get("reasons")
        if raw in (None, "", []):
            return list(REASONS)
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list):
            raise ConnectorError(f"config 'reasons' must be a list of {', '.join(REASONS)}, got {raw!r}")
        unknown = [r for r in raw if r not in REASONS]
        if unknown:
            allowed = ", ".join(REASONS)
            raise ConnectorError(f"config 'reasons' has unknown values {unknown!r}; allowed: {allowed}")
        return list(dict.fromkeys(raw))

    def _start_counters(self) -> tuple[int, int]:
        return self.http.calls, self.http.bytes_received

    def _finish(
        self,
        counters: tuple[int, int],
        *,
        slots: Iterable[SlotData],
        covered: set[str],
        errors: list[str],
        parse_errors: int = 0,
    ) -> FetchResult:
        calls, received = counters
        return FetchResult(
            # One order for every connector: runs, logs and tests read slots by town hall, time, reason.
            slots=sorted(slots, key=lambda slot: (slot.meeting_point_id, slot.starts_at, slot.reason)),
            covered=covered,
            errors=errors,
            parse_errors=parse_errors,
            http_calls=self.http.calls - calls,
            bytes_received=self.http.bytes_received - received,
        )


class TownHallConnector(Connector):
    """A source describing its own town hall(s) in config["town_hall"] (or config["town_halls"])."""

    def town_halls(self) -> list[MeetingPointData]:
        raw: Iterable[Any]
        if self.config.get("town_halls") not in (None, "", [], {}):
            value = self.config["town_halls"]
            if isinstance(value, dict):
                # {"<id used in the data>": {...town hall...}}: the key is the default external id.
                raw = [{"external_id": key, **(v if isinstance(v, dict) else {})} for key, v in value.items()]
            elif isinstance(value, list):
                raw = value
            else:
                raise ConnectorError("config 'town_halls' must be a list or an object of town halls")
        elif self.config.get("town_hall"):
            raw = [self.config["town_hall"]]
        else:
            raise ConnectorError(f"config of a {self.kind} source needs a 'town_hall' object")
        return [meeting_point_from_config(item) for item in raw]

    def discover(self) -> list[MeetingPointData]:
        return self.town_halls()

    def requested_town_hall(self, meeting_point_ids: list[str]) -> MeetingPointData | None:
        """For a connector reading one town hall: that town hall if it is asked for, else None.

        Several configured town halls are refused: all would be discovered, but only the first fetched.
        """
        town_halls = self.town_halls()
        if len(town_halls) > 1:
            raise ConnectorError(
                f"a {self.kind} source reads one town hall, but its config lists {len(town_halls)}"
            )
        town_hall = town_halls[0]
        return town_hall if town_hall.external_id in {str(i) for i in meeting_point_ids} else None


def meeting_point_from_config(item: Any) -> MeetingPointData:
    if not isinstance(item, dict):
        raise ConnectorError(f"a configured town hall must be an object, got {type(item).__name__}")
    external_id = str(item.get("external_id") or "").strip()
    name = str(item.get("name") or "").strip()
    if not external_id or not name:
        raise ConnectorError("a configured town hall needs a non-empty 'external_id' and 'name'")

    def text(key: str) -> str:
        value = item.get(key)
        return "" if value is None else str(value).strip()

    return MeetingPointData(
        external_id=external_id,
        name=name,
        address=text("address"),
        postcode=text("postcode"),
        city=text("city"),
        insee=text("insee"),
        lat=_float_or_none(item.get("lat"), "lat"),
        lon=_float_or_none(item.get("lon"), "lon"),
        phone=text("phone"),
        website=text("website"),
        booking_url=text("booking_url"),
    )


def _float_or_none(value: Any, key: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConnectorError(f"town hall '{key}' must be a number, got {value!r}") from None


def paris(naive: dt.datetime) -> dt.datetime:
    """A naive wall-clock datetime read as Paris time."""
    return naive.replace(tzinfo=PARIS)


def in_window(starts_at: dt.datetime, start: dt.date, end: dt.date) -> bool:
    local_day = starts_at.astimezone(PARIS).date()
    return start <= local_day <= end


def parse_iso_datetime(value: Any) -> dt.datetime:
    """An ISO 8601 datetime; with an offset or Z it is exact, without one it is Paris time."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"datetime must be a non-empty string, got {value!r}"[:80])
    if len(value.strip()) <= len("YYYY-MM-DD"):
        raise ValueError(f"{value[:40]!r} is a date without a time")
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"unrecognised datetime {value[:40]!r}") from None
    return parsed if parsed.tzinfo else paris(parsed)
