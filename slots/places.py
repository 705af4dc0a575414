"""Is this meeting point a town hall we already follow? One place, however many sources list it.

Two booking editors may list the same town hall under their own ids, names ("Mairie de Clichy", "HOTEL DE
VILLE CLICHY LA GARENNE") and points tens of metres apart. As the national hub de-duplicates, a meeting point
is the same place as a known town hall when both are in the same commune within SAME_PLACE_KM, or share a
postcode and a name or an address once written alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from communes.geo import haversine_km
from communes.names import normalize_search_text
from slots.models import TownHall

SAME_PLACE_KM = 0.25
# Words that say "a town hall" without saying which one.
_GENERIC = re.compile(
    r"\b(?:mairie|hotel de ville|hotel|ville|service|etat civil|accueil|de|du|des|d|la|le|les|l)\b"
)
_POSTCODE = re.compile(r"\b\d{5}\b")


@dataclass(frozen=True)
class PlaceData:
    """What a source says of a meeting point, as ingestion cleaned it."""

    commune_id: int | None
    postcode: str
    name: str
    address: str
    point: tuple[float, float] | None


def _words(text: str) -> str:
    return " ".join(_GENERIC.sub(" ", normalize_search_text(_POSTCODE.sub(" ", text or ""))).split())


def _same_place(place: PlaceData, town_hall: TownHall) -> float | None:
    """The distance to `town_hall` in km (0 when unknown) if it is the same place, else None."""
    distance = None
    if place.point is not None and town_hall.lat is not None and town_hall.lon is not None:
        distance = haversine_km(*place.point, town_hall.lat, town_hall.lon)
    same_commune = place.commune_id is not None and place.commune_id == town_hall.commune_id
    if same_commune and distance is not None and distance <= SAME_PLACE_KM:
        return distance
    if place.postcode and place.postcode == town_hall.postcode:
        name, address = _words(place.name), _words(place.address)
        if (name and name == _words(town_hall.name)) or (address and address == _words(town_hall.address)):
            return distance or 0.0
    return None


def same_place_among(place: PlaceData, town_halls: Iterable[TownHall]) -> TownHall | None:
    """The nearest of `town_halls` that is the same place as `place`, if any."""
    matches = [
        (distance, town_hall.pk, town_hall)
        for town_hall in town_halls
        if (distance := _same_place(place, town_hall)) is not None
    ]
    return min(matches, key=lambda match: match[:2])[2] if matches else None


def candidates_for(places: Iterable[PlaceData]) -> list[TownHall]:
    """The known town halls that may be one of `places`: same commune or same postcode (one query)."""
    places = list(places)
    communes = {place.commune_id for place in places if place.commune_id is not None}
    postcodes = {place.postcode for place in places if place.postcode}
    if not communes and not postcodes:
        return []
    return list(
        TownHall.objects.filter(Q(commune_id__in=communes) | Q(postcode__in=postcodes)).only(
            "pk", "name", "address", "postcode", "commune_id", "lat", "lon"
        )
    )
