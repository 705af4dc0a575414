"""Small builders for reference rows made by hand (departments, communes, postcodes), never imported."""

from __future__ import annotations

import itertools
from typing import Any

from communes.models import Commune, Department, PostalCode
from communes.names import normalize_search_text

_sequence = itertools.count(1)


def make_department(code: str = "92", **overrides: Any) -> Department:
    defaults: dict[str, Any] = {"name": f"Département {code}", "region": "Île-de-France"}
    defaults.update(overrides)
    department, _ = Department.objects.get_or_create(code=code, defaults=defaults)
    return department


def make_commune(
    insee: str | None = None,
    *,
    name: str | None = None,
    postcodes: tuple[str, ...] = (),
    department: Department | str = "92",
    **overrides: Any,
) -> Commune:
    n = next(_sequence)
    insee = insee or f"9{n:04d}"
    name = name or f"Commune {n}"
    if not isinstance(department, Department):
        department = make_department(department)
    defaults: dict[str, Any] = {
        "insee": insee,
        "name": name,
        "search_name": normalize_search_text(name),
        "department": department,
        "population": 10_000,
        "lat": 48.9,
        "lon": 2.3,
        "location_source": Commune.LocationSource.TOWN_HALL,
    }
    defaults.update(overrides)
    commune = Commune.objects.create(**defaults)
    for code in postcodes:
        postal_code, _ = PostalCode.objects.get_or_create(code=code)
        postal_code.communes.add(commune)
    return commune
