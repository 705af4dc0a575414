"""Which commune a place named by a booking source belongs to: by INSEE code, postcode and name, or position.

Sources describe their meeting points loosely (a postcode written on four digits, a city in capitals, an
"annexe" instead of the commune's name, sometimes only coordinates): the matching tries the surest clue first.
"""

from __future__ import annotations

import re

from .geo import bounding_box, haversine_km
from .models import Commune, PostalCode
from .names import normalize_search_text

# A place without a usable postcode belongs to the commune of the nearest town hall within this.
NEAREST_COMMUNE_MAX_KM = 20.0
# The nearest town hall is looked for within this radius first, then within NEAREST_COMMUNE_MAX_KM.
_NEAR_FIRST_KM = 5.0


def commune_for(
    *, insee: str = "", postcode: str = "", city: str = "", point: tuple[float, float] | None = None
) -> Commune | None:
    """The commune of a place: by INSEE code, else postcode and name, else the nearest town hall."""
    insee = (insee or "").strip().upper()
    if re.fullmatch(r"\d{4}", insee):
        insee = "0" + insee
    postcode = (postcode or "").strip()
    if re.fullmatch(r"\d{4}", postcode):
        postcode = "0" + postcode
    candidates: list[Commune] = []
    if re.fullmatch(r"\d{5}", postcode):
        code = PostalCode.objects.filter(code=postcode).first()
        if code is not None:
            candidates = list(code.communes.all())

    if insee:
        commune = Commune.objects.filter(insee=insee).first()
        if commune is not None:
            return _arrondissement_in(commune, candidates)

    wanted = normalize_search_text(city or "")
    if wanted and candidates:
        named = [
            c
            for c in candidates
            if wanted in {normalize_search_text(c.name), normalize_search_text(c.search_name)}
        ]
        if named:
            return _arrondissement_in(named[0], candidates)

    if candidates:
        located = [c for c in candidates if c.is_located]
        if point is not None and located:
            lat, lon = point
            return min(located, key=lambda c: haversine_km(lat, lon, c.lat, c.lon))
        if len(candidates) == 1:
            return candidates[0]
    if point is not None:
        return _nearest_commune(*point)
    return None


def _arrondissement_in(commune: Commune, candidates: list[Commune]) -> Commune:
    """Paris, Lyon, Marseille: the arrondissement the postcode points to rather than the whole city."""
    arrondissements = [c for c in candidates if c.parent_id == commune.pk]
    return arrondissements[0] if len(arrondissements) == 1 else commune


def _nearest_commune(lat: float, lon: float) -> Commune | None:
    """The commune whose town hall is nearest, if one is within NEAREST_COMMUNE_MAX_KM.

    Farther, the place lies outside the imported communes (an editor serving all of France): the nearest
    imported commune, maybe 150 km away, would be the wrong one.
    """
    # A small box first (most places are near a town hall), widened when nothing is found within its radius:
    # a box holds every point within its radius, so a nearest point within the radius is the nearest of all.
    for radius_km in (_NEAR_FIRST_KM, NEAREST_COMMUNE_MAX_KM):
        box = bounding_box(lat=lat, lon=lon, radius_km=radius_km)
        communes = Commune.objects.located().in_bbox(
            min_lat=box.min_lat, max_lat=box.max_lat, min_lon=box.min_lon, max_lon=box.max_lon
        )
        nearest = min(
            communes.only("insee", "lat", "lon"),
            key=lambda c: haversine_km(lat, lon, c.lat, c.lon),
            default=None,
        )
        if nearest is not None and haversine_km(lat, lon, nearest.lat, nearest.lon) <= radius_km:
            return nearest
    return None
