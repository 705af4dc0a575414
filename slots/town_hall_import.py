"""Import equipped town halls that no source follows (phone, walk-in, a booking page we do not read) from CSV.

The format is described in docs/TOWN_HALLS.md. Every line is checked before anything is written, and the
whole file goes in one transaction: a file with one wrong line changes nothing. A town hall is known by its
commune's INSEE code and its name, so re-importing a corrected file updates the rows it created.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction

from communes.models import Commune
from slots.models import TownHall
from slots.search_cache import search_cache_invalidate

COLUMNS = (
    "insee",
    "name",
    "address",
    "postcode",
    "phone",
    "email",
    "website",
    "booking_url",
    "booking",
    "reasons",
    "lat",
    "lon",
)
REASONS = {"CNI": "takes_cni", "PASSPORT": "takes_passport"}
# The fields an import sets, each locked against discovery once set (as an admin's edit would be).
_LOCKABLE = set(TownHall.LOCKABLE_FIELDS)
_MAX_LENGTHS = {name: TownHall._meta.get_field(name).max_length for name in ("name", "address", "phone")}
_url = URLValidator(schemes=["http", "https"])
_email = EmailValidator()


@dataclass(frozen=True)
class LineError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)


class TownHallImportError(Exception):
    def __init__(self, errors: list[LineError]) -> None:
        super().__init__(f"{len(errors)} error(s), nothing imported")
        self.errors = errors


def town_halls_import(*, data: bytes) -> ImportReport:
    """Create or update the town halls listed in the CSV `data`; raise TownHallImportError if any line is wrong."""
    rows, errors = _parse(data)
    if not rows:  # the header (or the whole file) is unreadable: no line can be checked
        raise TownHallImportError(errors)
    communes = Commune.objects.in_bulk({row["insee"].upper() for _line, row in rows})
    values: list[tuple[int, dict[str, Any]]] = []
    for line, row in rows:
        cleaned = _clean(line, row, communes, errors)
        if cleaned is not None:
            values.append((line, cleaned))
    seen: dict[tuple[str, str], int] = {}
    for line, cleaned in values:
        key = (cleaned["commune"].insee, cleaned["name"])
        if key in seen:
            errors.append(LineError(line, "name", f"same commune and name as line {seen[key]}"))
        seen.setdefault(key, line)
    if errors:
        raise TownHallImportError(sorted(errors, key=lambda error: error.line))

    report = ImportReport()
    with transaction.atomic():
        search_cache_invalidate()
        existing = {
            (town_hall.commune_id, town_hall.name): town_hall
            for town_hall in TownHall.objects.select_for_update().filter(
                commune__in=[cleaned["commune"] for _line, cleaned in values]
            )
        }
        for _line, cleaned in values:
            town_hall = existing.get((cleaned["commune"].insee, cleaned["name"]))
            if town_hall is not None and town_hall.location_locked and not cleaned["location_locked"]:
                # A point an admin corrected stays, unless the file gives one.
                for name in ("lat", "lon", "location_locked"):
                    del cleaned[name]
            if town_hall is None:
                TownHall.objects.create(**cleaned, locked_fields=_locked(cleaned, []))
                report.created += 1
                continue
            changed = [name for name, value in cleaned.items() if getattr(town_hall, name) != value]
            locked = _locked(cleaned, town_hall.locked_fields or [])
            if not changed and locked == (town_hall.locked_fields or []):
                report.unchanged += 1
                continue
            for name in changed:
                setattr(town_hall, name, cleaned[name])
            town_hall.locked_fields = locked
            town_hall.save()
            report.updated += 1
    return report


def default_name(commune_name: str) -> str:
    """ "Mairie de Clichy", "Mairie d’Asnières-sur-Seine", "Mairie du Pecq", "Mairie des Mureaux"."""
    for article, contracted in (("Le ", "du "), ("Les ", "des ")):
        if commune_name.startswith(article):
            return f"Mairie {contracted}{commune_name.removeprefix(article)}"
    if commune_name[:1].upper() in "AEIOUYÉÈÊÂÎÔ":
        return f"Mairie d’{commune_name}"
    return f"Mairie de {commune_name}"


def _locked(cleaned: dict[str, Any], current: list[str]) -> list[str]:
    """What discovery must no longer overwrite: the lockable fields this file fills in."""
    given = {name for name in _LOCKABLE if cleaned.get(name)}
    return [name for name in TownHall.LOCKABLE_FIELDS if name in given or name in current]


def _parse(data: bytes) -> tuple[list[tuple[int, dict[str, str]]], list[LineError]]:
    """The rows by line number, or the errors that make the file unreadable."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return [], [LineError(line, "-", "not UTF-8 text (save the file as CSV UTF-8)")]
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        return [], [LineError(1, "-", "empty file: a header row is required")]
    errors = [
        LineError(1, name or "(empty)", f"unknown column (expected among: {', '.join(COLUMNS)})")
        for name in header
        if name not in COLUMNS
    ]
    if "insee" not in header:
        errors.append(LineError(1, "insee", "required column missing"))
    if len(set(header)) != len(header):
        errors.append(LineError(1, "-", "a column appears twice"))
    if errors:
        return [], errors
    rows: list[tuple[int, dict[str, str]]] = []
    line = reader.line_num
    for cells in reader:
        line, start = reader.line_num, line + 1
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, often at the end of a spreadsheet's export
        if len(cells) != len(header):
            errors.append(LineError(start, "-", f"{len(cells)} cells where the header has {len(header)}"))
            continue
        rows.append((start, {name: cell.strip() for name, cell in zip(header, cells, strict=True)}))
    if not rows and not errors:
        errors.append(LineError(2, "-", "no town hall in the file"))
    return rows, errors


def _clean(
    line: int, row: dict[str, str], communes: dict[str, Commune], errors: list[LineError]
) -> dict[str, Any] | None:
    """The TownHall field values of one row, or None after adding its errors to `errors`."""
    found: list[LineError] = []

    def error(column: str, message: str) -> None:
        found.append(LineError(line, column, message))

    insee = row["insee"].upper()
    commune = communes.get(insee)
    if not insee:
        error("insee", "required")
    elif commune is None:
        error("insee", f"no commune with INSEE code {insee!r} is imported")
    name = " ".join(row.get("name", "").split())
    if not name and commune is not None:
        name = default_name(commune.name)
    for column in ("name", "address", "phone"):
        value = name if column == "name" else row.get(column, "")
        if len(value) > _MAX_LENGTHS[column]:
            error(column, f"longer than {_MAX_LENGTHS[column]} characters")
    postcode = row.get("postcode", "")
    if postcode and not (len(postcode) == 5 and postcode.isdigit()):
        error("postcode", f"{postcode!r} is not a 5-digit postcode")
    email = row.get("email", "")
    if email:
        try:
            _email(email)
        except ValidationError:
            error("email", f"{email!r} is not an e-mail address")
    for column in ("website", "booking_url"):
        url = row.get(column, "")
        if url:
            try:
                _url(url)
            except ValidationError:
                error(column, f"{url!r} is not an http(s) address")
    booking = row.get("booking", "").lower()
    if not booking:
        booking = TownHall.Booking.ONLINE if row.get("booking_url") else TownHall.Booking.PHONE
    if booking not in TownHall.Booking.values:
        error("booking", f"{booking!r} is not one of {', '.join(TownHall.Booking.values)}")
    reasons = {part.strip().upper() for part in row.get("reasons", "").split("|") if part.strip()} or set(
        REASONS
    )
    if unknown := reasons - set(REASONS):
        error("reasons", f"unknown reason(s) {', '.join(sorted(unknown))} (CNI, PASSPORT, or CNI|PASSPORT)")
    point = _point(row, commune, error)

    if found:
        errors.extend(found)
        return None
    assert commune is not None and point is not None
    values: dict[str, Any] = {
        "commune": commune,
        "name": name,
        "address": row.get("address", ""),
        "postcode": postcode,
        "phone": row.get("phone", ""),
        "email": email,
        "website": row.get("website", ""),
        "booking_url": row.get("booking_url", ""),
        "booking": booking,
        "lat": point[0],
        "lon": point[1],
        "location_locked": bool(row.get("lat")),
    }
    values.update({flag: reason in reasons for reason, flag in REASONS.items()})
    return values


def _point(
    row: dict[str, str], commune: Commune | None, error: Callable[[str, str], None]
) -> tuple[float, float] | None:
    """The row's lat/lon when given, else the commune's town-hall point."""
    raw_lat, raw_lon = row.get("lat", ""), row.get("lon", "")
    if not raw_lat and not raw_lon:
        if commune is not None and not commune.is_located:
            error("lat", f"{commune.name} has no known point: give lat and lon")
            return None
        return (commune.lat, commune.lon) if commune is not None else None  # type: ignore[return-value]
    point = []
    for column, raw, limit in (("lat", raw_lat, 90), ("lon", raw_lon, 180)):
        try:
            value = float(raw.replace(",", "."))
        except ValueError:
            error(
                column,
                f"{raw!r} is not a number (decimal degrees, e.g. 48.9042)"
                if raw
                else "required with lat/lon",
            )
            continue
        if not -limit <= value <= limit:
            error(column, f"{value} is out of range")
            continue
        point.append(value)
    return (point[0], point[1]) if len(point) == 2 else None
