"""Distances, bounding boxes and coordinates as sources write them."""

from __future__ import annotations

import math

import pytest

from communes.geo import bounding_box, haversine_km, parse_coordinate, parse_point


def test_haversine_gives_the_paris_lyon_distance():
    assert haversine_km(48.8530, 2.3499, 45.7640, 4.8357) == pytest.approx(392, abs=2)


def test_bounding_box_contains_every_point_of_the_circle():
    for lat in (0.0, 45.0, 48.9, -60.0):
        box = bounding_box(lat=lat, lon=2.0, radius_km=50)
        for bearing in range(0, 360, 15):
            # Destination point 49.9 km away along `bearing` (spherical formula).
            delta = 49.9 / 6371.0088
            phi1, lam1, theta = math.radians(lat), math.radians(2.0), math.radians(bearing)
            phi2 = math.asin(
                math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
            )
            lam2 = lam1 + math.atan2(
                math.sin(theta) * math.sin(delta) * math.cos(phi1),
                math.cos(delta) - math.sin(phi1) * math.sin(phi2),
            )
            point_lat, point_lon = math.degrees(phi2), math.degrees(lam2)
            assert box.min_lat <= point_lat <= box.max_lat
            assert box.min_lon <= point_lon <= box.max_lon


@pytest.mark.parametrize(
    ("value", "bound", "expected"),
    [
        (48.9, 90, 48.9),
        ("2.3048", 180, 2.3048),
        (-90, 90, -90.0),
        (90.5, 90, None),
        ("181", 180, None),
        ("nan", 90, None),
        ("", 90, None),
        (None, 180, None),
        ("north", 90, None),
    ],
)
def test_a_coordinate_is_a_number_within_its_bound(
    value: object, bound: float, expected: float | None
) -> None:
    assert parse_coordinate(value, bound) == expected


def test_a_point_needs_both_coordinates() -> None:
    assert parse_point("48.9", 2.3) == (48.9, 2.3)
    assert parse_point(48.9, None) is None
    assert parse_point(91, 2.3) is None
