"""Points on the Earth: great-circle distances, the bounding box of a circle, coordinates read from sources."""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LAT = EARTH_RADIUS_KM * math.pi / 180


@dataclass(frozen=True)
class BoundingBox:
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two WGS84 points, in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(*, lat: float, lon: float, radius_km: float) -> BoundingBox:
    """A lat/lon rectangle that contains every point within `radius_km` of (lat, lon).

    The longitude span is computed at the box's latitude farthest from the equator, where a degree
    of longitude is shortest, so that no point inside the circle is missed.
    """
    dlat = radius_km / KM_PER_DEGREE_LAT
    far_lat = min(89.9, abs(lat) + dlat)
    dlon = min(180.0, radius_km / (KM_PER_DEGREE_LAT * math.cos(math.radians(far_lat))))
    return BoundingBox(
        min_lat=max(-90.0, lat - dlat),
        max_lat=min(90.0, lat + dlat),
        min_lon=lon - dlon,
        max_lon=lon + dlon,
    )


def parse_coordinate(value: object, bound: float) -> float | None:
    """A latitude (bound 90) or longitude (bound 180) as a source gave it; None when unusable."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if math.isnan(number) or not -bound <= number <= bound:
        return None
    return number


def parse_point(lat: object, lon: object) -> tuple[float, float] | None:
    """(lat, lon) when both coordinates are usable, else None: half a point is no point."""
    latitude, longitude = parse_coordinate(lat, 90), parse_coordinate(lon, 180)
    if latitude is None or longitude is None:
        return None
    return latitude, longitude
