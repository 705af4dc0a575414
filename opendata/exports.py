"""The open-data files: every followed town hall and every upcoming slot, with their Table Schemas.

Files are generated from the database when asked for, streamed row by row, and kept in the cache until the
next ingestion (their version is the time of the last successful collection, or of the last edit of a town
hall). Their columns and the Table Schemas (the frictionless format) come from the one list below.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from communes.france import PARIS
from scrapers.models import Source
from slots.models import Reason, Slot, TownHall

LICENCE = {
    "name": "etalab-2.0",
    "title": "Licence Ouverte / Open Licence version 2.0",
    "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}
SOURCES = [
    {"title": "Créneaux : collectés par rdvpasseport auprès des sites de réservation des mairies"},
    {
        "title": "Communes, codes postaux et coordonnées des mairies : INSEE, IGN ADMIN EXPRESS, DILA, La Poste"
    },
]
CHUNK_ROWS = 2000


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str | Promise
    required: bool = False
    constraints: dict[str, Any] = field(default_factory=dict)
    format: str = ""

    def schema(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "description": str(self.description),
        }
        if self.format:
            described["format"] = self.format
        elif self.type == "datetime":
            described["format"] = "any"
        constraints = dict(self.constraints)
        if self.required:
            constraints["required"] = True
        if constraints:
            described["constraints"] = constraints
        return described


TOWN_HALL_COLUMNS = [
    Column(
        "id",
        "integer",
        _("Identifiant de la mairie chez rdvpasseport (/mairie/<id>)."),
        True,
        {"unique": True},
    ),
    Column(
        "insee", "string", _("Code INSEE de sa commune."), constraints={"pattern": "[0-9][0-9AB][0-9]{3}"}
    ),
    Column("name", "string", _("Nom de la mairie."), True),
    Column("address", "string", _("Adresse (numéro et voie).")),
    Column("postcode", "string", _("Code postal."), constraints={"pattern": "[0-9]{5}"}),
    Column("lat", "number", _("Latitude (WGS 84)."), constraints={"minimum": -90, "maximum": 90}),
    Column("lon", "number", _("Longitude (WGS 84)."), constraints={"minimum": -180, "maximum": 180}),
    Column("phone", "string", _("Téléphone (le sien, sinon celui de l’annuaire de la commune).")),
    Column("website", "string", _("Site web (le sien, sinon celui de l’annuaire de la commune).")),
    Column(
        "booking",
        "string",
        _(
            "Comment on y réserve : le type de la source qui la suit (ants, ics, csv, html…), sinon online "
            "(page de réservation que nous ne lisons pas), phone (téléphone) ou walk_in (sans rendez-vous)."
        ),
    ),
    Column(
        "reasons",
        "string",
        _("Demandes reçues, séparées par une espace : CNI (carte d’identité), PASSPORT (passeport)."),
        constraints={"pattern": "((CNI|PASSPORT)( (CNI|PASSPORT))?)?"},
    ),
    Column(
        "next_slot_cni", "datetime", _("Premier créneau libre pour une carte d’identité (heure de Paris).")
    ),
    Column("next_slot_passport", "datetime", _("Premier créneau libre pour un passeport (heure de Paris).")),
    Column(
        "next_slot_cni_passport",
        "datetime",
        _("Premier créneau libre pour une carte d’identité et un passeport à la fois (heure de Paris)."),
    ),
    Column(
        "slots_7_days",
        "integer",
        _("Créneaux libres (heures de début distinctes) dans les 7 jours."),
        True,
        {"minimum": 0},
    ),
    Column(
        "slots_30_days",
        "integer",
        _("Créneaux libres (heures de début distinctes) dans les 30 jours."),
        True,
        {"minimum": 0},
    ),
    Column("checked_at", "datetime", _("Dernière collecte réussie de ses créneaux ; vide si aucune.")),
    Column(
        "data_age_seconds",
        "integer",
        _("Âge de ses créneaux en secondes quand le fichier a été produit ; vide si jamais collectés."),
        constraints={"minimum": 0},
    ),
]
SLOT_COLUMNS = [
    Column("town_hall_id", "integer", _("Identifiant de la mairie (colonne id de mairies.csv)."), True),
    Column("starts_at", "datetime", _("Début du créneau, avec son décalage horaire (heure de Paris)."), True),
    Column(
        "reason",
        "string",
        _("Motif : CNI, PASSPORT ou CNI-PASSPORT (les deux à la fois)."),
        True,
        {"enum": [str(reason) for reason in Reason.values]},
    ),
    Column(
        "people_max",
        "integer",
        _("Nombre de personnes que ce créneau peut recevoir au plus, quand le site de réservation le dit."),
        constraints={"minimum": 1},
    ),
    Column("booking_url", "string", _("Page où réserver ce créneau."), format="uri"),
]


def table_schema(columns: list[Column], *, primary_key: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"fields": [column.schema() for column in columns], "missingValues": [""]}
    if primary_key:
        schema["primaryKey"] = primary_key
    return schema


def town_halls_schema() -> dict[str, Any]:
    return table_schema(TOWN_HALL_COLUMNS, primary_key=["id"])


def slots_schema() -> dict[str, Any]:
    schema = table_schema(SLOT_COLUMNS, primary_key=["town_hall_id", "starts_at", "reason"])
    schema["foreignKeys"] = [{"fields": "town_hall_id", "reference": {"resource": "mairies", "fields": "id"}}]
    return schema


def data_package(*, base_url: str) -> dict[str, Any]:
    """The Data Package describing the files (frictionless format), with absolute paths under base_url."""
    return {
        "name": "rdvpasseport",
        "title": "Rendez-vous passeport et carte d’identité en mairie",
        "licenses": [LICENCE],
        "sources": SOURCES,
        "resources": [
            {
                "name": "mairies",
                "path": f"{base_url}/mairies.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": town_halls_schema(),
            },
            {
                "name": "mairies-json",
                "path": f"{base_url}/mairies.json",
                "format": "json",
                "mediatype": "application/json",
                "schema": town_halls_schema(),
            },
            {
                "name": "creneaux",
                "path": f"{base_url}/creneaux.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": slots_schema(),
            },
        ],
    }


def exports_version() -> dt.datetime | None:
    """When the exported data last changed: the last successful collection or the last town-hall edit."""
    moments = [
        Source.objects.aggregate(moment=Max("last_success_at"))["moment"],
        TownHall.objects.aggregate(moment=Max("updated_at"))["moment"],
    ]
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(PARIS).isoformat() if value is not None else None


def town_hall_rows(*, now: dt.datetime | None = None) -> Iterator[dict[str, Any]]:
    """Every active town hall, its next slot per reason and its slot counts (one query, read in chunks)."""
    now = now or timezone.now()
    upcoming = Slot.objects.upcoming(now).filter(town_hall=OuterRef("pk")).order_by()

    def first(reason: str) -> Subquery:
        return Subquery(upcoming.filter(reason=reason).order_by("starts_at").values("starts_at")[:1])

    def count(days: int) -> Subquery:
        within = upcoming.filter(starts_at__lt=now + dt.timedelta(days=days)).values("town_hall")
        return Subquery(within.annotate(n=Count("starts_at", distinct=True)).values("n")[:1])

    town_halls = (
        TownHall.objects.active()
        .with_source_kind()
        .select_related("commune")
        .annotate(
            next_cni=first(Reason.CNI),
            next_passport=first(Reason.PASSPORT),
            next_both=first(Reason.CNI_PASSPORT),
            slots_7=count(7),
            slots_30=count(30),
        )
        .order_by("pk")
    )
    for town_hall in town_halls.iterator(chunk_size=CHUNK_ROWS):
        age = town_hall.data_age(now)
        yield {
            "id": town_hall.pk,
            "insee": town_hall.commune_id or None,
            "name": town_hall.name,
            "address": town_hall.address or None,
            "postcode": town_hall.postcode or None,
            "lat": town_hall.lat,
            "lon": town_hall.lon,
            "phone": town_hall.contact_phone or None,
            "website": town_hall.contact_website or None,
            "booking": town_hall.api_booking() or None,
            "reasons": " ".join(town_hall.reasons_taken()) or None,
            "next_slot_cni": _iso(town_hall.next_cni),
            "next_slot_passport": _iso(town_hall.next_passport),
            "next_slot_cni_passport": _iso(town_hall.next_both),
            "slots_7_days": town_hall.slots_7 or 0,
            "slots_30_days": town_hall.slots_30 or 0,
            "checked_at": _iso(town_hall.checked_at),
            "data_age_seconds": max(0, int(age.total_seconds())) if age is not None else None,
        }


def slot_rows(*, now: dt.datetime | None = None) -> Iterator[dict[str, Any]]:
    """Every upcoming slot of an active town hall, a start and reason given once whatever the sources."""
    slots = (
        Slot.objects.upcoming(now or timezone.now())
        .filter(town_hall__in=TownHall.objects.active())
        .order_by("town_hall_id", "starts_at", "reason", "-people_max", "pk")
        .values_list("town_hall_id", "starts_at", "reason", "people_max", "booking_url")
    )
    last = None
    for town_hall_id, starts_at, reason, people_max, booking_url in slots.iterator(chunk_size=CHUNK_ROWS):
        if (town_hall_id, starts_at, reason) == last:
            continue
        last = (town_hall_id, starts_at, reason)
        yield {
            "town_hall_id": town_hall_id,
            "starts_at": _iso(starts_at),
            "reason": reason,
            "people_max": people_max,
            "booking_url": booking_url or None,
        }


def csv_lines(columns: list[Column], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The CSV text, a chunk of rows at a time (comma-separated, UTF-8, CRLF line ends as RFC 4180 says)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.name for column in columns])
    for n, row in enumerate(rows, start=1):
        writer.writerow(["" if row[column.name] is None else row[column.name] for column in columns])
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A JSON array of objects, one per line."""
    yield "["
    separator = "\n"
    for row in rows:
        yield separator + json.dumps(row, ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"
