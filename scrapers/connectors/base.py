"""The one small interface every connector implements, and the plain data it returns.

Connectors never touch the ORM: the ingestion (scrapers/ingest.py) builds a `SourceSpec` from a
`scrapers.models.Source`, calls `discover()` and `fetch_slots()`, and writes what comes back.
Each kind declares its options as a `Config` (a pydantic model, subclass of `ConnectorConfig`): the admin and
`load_sources` validate a source's config against it when it is saved (`config_problems`), the connector
reads the validated object (`self.config`), and the README's connector table is generated from it.
A connector only speaks HTTP through `self.http` (scrapers.fetching.http.HttpClient), which owns timeouts,
the size cap, the SSRF guard, retries and the per-host limit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, TypeVar, Union, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
)
from pydantic_core import ErrorDetails

from communes.france import PARIS
from scrapers.fetching.errors import ConfigError
from scrapers.fetching.http import HttpClient
from slots.reasons import REASONS


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
# An absolute http(s) URL whose host part is plain ASCII without brackets: what urlsplit would accept, found
# without it (web_url runs for every slot of every run).
_PLAIN_WEB_URL = re.compile(r"https?://[!$&-.0-9:;=A-Z_a-z~%]+(?:[/?#][\x21-\x7e]*)?", re.IGNORECASE)
# Slots outside these years are a source's bug (year 1, 9999), and some cannot even be converted to Paris time.
SLOT_YEARS = range(2000, 2200)


def web_url(value: str) -> str:
    """The URL if it is an absolute http(s) link, else "" (never javascript:, data:, relative...).

    A URL with a control character (a NUL byte, a line break) is no link either.
    """
    value = (value or "").strip()
    if _PLAIN_WEB_URL.fullmatch(value):
        return value
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


# Configuration: the options a kind declares, their validation and the messages naming them.


def _none_as_empty(value: Any) -> Any:
    return "" if value is None else value


def _empty_as_none(value: Any) -> Any:
    return None if value == "" else value


def _web_url_or_empty(value: str) -> str:
    if value and not web_url(value):
        raise ValueError("must be an absolute http(s) URL")
    return value


def _reasons(value: Any) -> list[str]:
    if value in (None, "", []):
        return list(REASONS)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        raise ValueError(f"must be a list of {', '.join(REASONS)}")
    unknown = [r for r in value if r not in REASONS]
    if unknown:
        raise ValueError(f"unknown values {unknown!r}; allowed: {', '.join(REASONS)}")
    return list(dict.fromkeys(value))


def _reason_keys(value: dict[str, str]) -> dict[str, str]:
    unknown = [key for key in value if key not in REASONS]
    if unknown:
        raise ValueError(f"unknown reasons {unknown!r}; allowed: {', '.join(REASONS)}")
    if not any(value.values()):
        raise ValueError(f"must map {', '.join(REASONS)} to the source's ids")
    return value


def ids_cover_reasons(value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
    """A field validator for a ReasonIds option: at least one configured reason has an id."""
    reasons = info.data.get("reasons")  # absent when `reasons` itself was refused
    if reasons is not None and not any(value.get(reason) for reason in reasons):
        raise ValueError(f"has no id for the configured reasons {reasons}")
    return value


Text = Annotated[str, BeforeValidator(_none_as_empty)]
WebUrl = Annotated[str, BeforeValidator(_none_as_empty), AfterValidator(_web_url_or_empty)]
Reasons = Annotated[list[str], BeforeValidator(_reasons)]
OptionalCount = Annotated[int | None, BeforeValidator(_empty_as_none)]
# {"CNI": "<the source's id for it>", ...}: a reason without an id is not asked.
ReasonIds = Annotated[dict[str, Text], AfterValidator(_reason_keys)]


class ConnectorConfig(BaseModel):
    """Options every kind accepts; a kind's `Config` subclasses it and declares its own."""

    # Unknown keys are refused (a typo must not pass for a default); numbers in JSON ids are read as text.
    model_config = ConfigDict(
        extra="forbid", frozen=True, coerce_numbers_to_str=True, str_strip_whitespace=True
    )


class ReasonsConfig(ConnectorConfig):
    reasons: Reasons = Field(
        default_factory=lambda: list(REASONS),
        description=f"The reasons asked or offered, among {', '.join(REASONS)} (default: all three).",
    )


class TownHall(BaseModel):
    """A town hall as a source's config describes it (for the kinds whose data does not)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, coerce_numbers_to_str=True, str_strip_whitespace=True
    )

    external_id: str = Field(min_length=1, description="The id the source's data gives this town hall.")
    name: str = Field(min_length=1, description="The town hall's name, as citizens read it.")
    address: Text = ""
    postcode: Text = ""
    city: Text = ""
    insee: Text = ""
    lat: Annotated[float | None, BeforeValidator(_empty_as_none)] = Field(None, ge=-90, le=90)
    lon: Annotated[float | None, BeforeValidator(_empty_as_none)] = Field(None, ge=-180, le=180)
    phone: Text = ""
    website: WebUrl = ""
    booking_url: WebUrl = ""

    def meeting_point(self) -> MeetingPointData:
        return MeetingPointData(**self.model_dump())


TOWN_HALL_HELP = (
    "The town hall: external_id and name required; address, postcode, city, insee, lat, lon, phone, "
    "website, booking_url optional."
)


class OneTownHallConfig(ReasonsConfig):
    """The options of a kind reading the slots of one town hall, described in its config."""

    town_hall: TownHall = Field(description=TOWN_HALL_HELP)

    def configured_town_halls(self) -> list[TownHall]:
        return [self.town_hall]

    def ids_by_reason(self, ids: dict[str, str]) -> dict[str, str]:
        """The configured reasons that have an id in `ids`, with it."""
        return {reason: ids[reason] for reason in self.reasons if ids.get(reason)}


ConfigT = TypeVar("ConfigT", bound=ConnectorConfig)


def config_problems(config_class: type[ConnectorConfig], data: Any, *, kind: str) -> list[str]:
    """Every problem of `data` as a config of this kind, one line each, naming the option ("config.x: ...")."""
    try:
        config_class.model_validate(data)
    except ValidationError as exc:
        return [_problem(error, kind=kind) for error in exc.errors()]
    return []


def validated_config(config_class: type[ConfigT], data: Any, *, kind: str) -> ConfigT:
    """The config object; ConfigError listing every problem when `data` does not fit."""
    try:
        return config_class.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("; ".join(_problem(error, kind=kind) for error in exc.errors())) from None


def _problem(error: ErrorDetails, *, kind: str) -> str:
    where = ".".join(["config", *(str(part) for part in error["loc"])])
    return f"{where}: {_message(error, kind=kind)}"


def _message(error: ErrorDetails, *, kind: str) -> str:
    kind_of_error, ctx = error["type"], error.get("ctx") or {}
    shown = repr(error.get("input"))[:60]
    bounds = {
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
    }
    if kind_of_error in bounds:
        words, key = bounds[kind_of_error]
        return f"must be {words} {ctx.get(key)}"
    if kind_of_error == "missing":
        return "is required"
    if kind_of_error == "extra_forbidden":
        return f"is not an option of {kind} sources"
    if kind_of_error == "string_too_short":
        return (
            "is required"
            if ctx.get("min_length") == 1
            else f"needs at least {ctx.get('min_length')} characters"
        )
    if kind_of_error in {"int_parsing", "int_type", "int_from_float"}:
        return f"must be a whole number, got {shown}"
    if kind_of_error in {"float_parsing", "float_type", "finite_number"}:
        return f"must be a number, got {shown}"
    if kind_of_error in {"string_type", "model_type", "dict_type", "list_type", "bool_type", "bool_parsing"}:
        expected = {
            "string_type": "a text",
            "model_type": "an object",
            "dict_type": "an object",
            "list_type": "a list",
            "bool_type": "true or false",
            "bool_parsing": "true or false",
        }[kind_of_error]
        return f"must be {expected}, got {shown}"
    if kind_of_error in {"value_error", "assertion_error"}:
        return str(ctx.get("error") or error["msg"])
    return error["msg"][:1].lower() + error["msg"][1:]


def config_options(config_class: type[ConnectorConfig]) -> list[ConfigOption]:
    """The options a Config declares, in declaration order: for the admin's help and the README's table."""
    options = []
    for name, field_info in config_class.model_fields.items():
        bounds = [
            f"{word} {getattr(meta, attr)}"
            for meta in field_info.metadata
            for attr, word in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"))
            if getattr(meta, attr, None) is not None
        ]
        default = None if field_info.is_required() else field_info.get_default(call_default_factory=True)
        options.append(
            ConfigOption(
                name=name,
                type=_type_name(field_info.annotation),
                required=field_info.is_required(),
                default=default,
                bounds=", ".join(bounds),
                help=field_info.description or "",
            )
        )
    return options


@dataclass(frozen=True)
class ConfigOption:
    name: str
    type: str
    required: bool
    default: Any
    bounds: str
    help: str

    def default_text(self) -> str:
        if self.required:
            return "required"
        if self.default in (None, "", [], {}):
            return "optional"
        if isinstance(self.default, list):
            return "default " + ", ".join(map(str, self.default))
        return f"default {self.default}"


def _type_name(annotation: Any) -> str:
    """A reader's name for an option's type: "whole number", "list of text", "object"..."""
    origin, args = get_origin(annotation), [a for a in get_args(annotation) if a is not type(None)]
    if origin is Annotated:
        return _type_name(args[0])
    if origin is list:
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict or (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return "object"
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    names = {str: "text", int: "whole number", float: "number", bool: "true/false"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


class Connector:
    """Base of every connector: subclasses set `kind`, `label` and `Config`, and implement two methods."""

    kind: ClassVar[str]
    label: ClassVar[str]  # what it reads, in a few words (the admin's choice, the README's table)
    source_fields: ClassVar[str] = ""  # how it uses the source's base_url, auth_header, token... (Markdown)
    Config: ClassVar[type[ConnectorConfig]] = ConnectorConfig
    # The header carrying the token when the source names none (a standard API's own header).
    default_auth_header: ClassVar[str] = ""
    # The max_documents of a new source that names none (1 for kinds that do not ask by number of people).
    default_max_documents: ClassVar[int] = 1

    def __init__(self, spec: SourceSpec, *, http: HttpClient | None = None) -> None:
        # A config that does not fit fails here, before any request, with the option's name.
        self.config = validated_config(self.Config, spec.config, kind=self.kind)
        if not spec.auth_header and self.default_auth_header:
            spec = dataclasses.replace(spec, auth_header=self.default_auth_header)
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
    """A source describing its own town hall(s) in its config (`configured_town_halls()` of its Config)."""

    config: OneTownHallConfig

    def town_halls(self) -> list[MeetingPointData]:
        return [town_hall.meeting_point() for town_hall in self.config.configured_town_halls()]

    def discover(self) -> list[MeetingPointData]:
        return self.town_halls()

    def requested_town_hall(self, meeting_point_ids: list[str]) -> MeetingPointData | None:
        """For a connector reading one town hall: that town hall if it is asked for, else None."""
        town_hall = self.town_halls()[0]
        return town_hall if town_hall.external_id in {str(i) for i in meeting_point_ids} else None

    def _finish_town_hall(
        self,
        counters: tuple[int, int],
        *,
        town_hall: MeetingPointData,
        slots: Iterable[SlotData],
        parse_errors: int,
        unreadable: str,
    ) -> FetchResult:
        """The result of a fetch that read its one town hall completely; `unreadable` names what a parse
        error is ("time slot(s)", "event(s)"...) in the run's error text."""
        errors = [f"{parse_errors} {unreadable} could not be read and were skipped"] if parse_errors else []
        return self._finish(
            counters, slots=slots, covered={town_hall.external_id}, errors=errors, parse_errors=parse_errors
        )


def iso_slots_read(
    rows: Iterable[Any],
    *,
    when: Callable[[Any], Any],
    town_hall: MeetingPointData,
    reason: str,
    booking_url: str,
    start: dt.date,
    end: dt.date,
    into: dict[tuple[dt.datetime, str], SlotData],
) -> int:
    """Read rows each giving an ISO 8601 start (`when(row)`) into `into`, keyed by (start, reason), keeping
    those within [start, end]; return how many could not be read."""
    parse_errors = 0
    for row in rows:
        try:
            starts_at = parse_iso_datetime(when(row))
        except ValueError:
            parse_errors += 1
            continue
        if in_window(starts_at, start, end):
            into[(starts_at, reason)] = SlotData(
                meeting_point_id=town_hall.external_id,
                starts_at=starts_at,
                reason=reason,
                people_max=None,
                booking_url=booking_url,
            )
    return parse_errors


def describe_shape(payload: Any) -> str:
    """What a JSON answer is, for an error message: "an object with keys a, b", "a list", "an empty object"."""
    if isinstance(payload, dict):
        return (
            "an object with keys " + ", ".join(sorted(map(str, payload))[:5])
            if payload
            else "an empty object"
        )
    return type(payload).__name__


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
    if parsed.year not in SLOT_YEARS:
        # Year 1 or 9999 is a source's bug, and with an offset it cannot even be converted to Paris time.
        raise ValueError(f"year {parsed.year} out of range in {value[:40]!r}")
    return parsed if parsed.tzinfo else paris(parsed)
