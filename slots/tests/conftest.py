from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine

from communes.models import Commune
from slots.models import Reason, TownHall
from slots.tests.factories import make_commune, make_slot, make_town_hall, paris

NOW = paris(2026, 11, 20, 10, 0)


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@dataclass
class Clichy:
    commune: Commune
    town_hall: TownHall
    levallois: TownHall
    asnieres: TownHall


@pytest.fixture
def clichy(db, frozen_now) -> Clichy:
    """Clichy (92110) and two neighbours: one fresh slot, one stale earlier slot, one phone-only town hall."""
    commune = make_commune(
        "92024", name="Clichy", postcodes=("92110",), lat=48.9028, lon=2.3048, population=63_000
    )
    levallois_commune = make_commune(
        "92044", name="Levallois-Perret", postcodes=("92300",), lat=48.8950, lon=2.2870, population=66_000
    )
    asnieres_commune = make_commune(
        "92004", name="Asnières-sur-Seine", postcodes=("92600",), lat=48.9110, lon=2.2890, population=87_000
    )
    town_hall = make_town_hall(
        name="Mairie de Clichy",
        address="80 boulevard Jean-Jaurès",
        postcode="92110",
        commune=commune,
        lat=48.9028,
        lon=2.3048,
        phone="01 47 15 30 00",
        website="https://www.ville-clichy.fr/",
        booking_url="https://rdv.example.fr/clichy/",
        checked_at=NOW - dt.timedelta(minutes=4),
        stale_at=NOW + dt.timedelta(minutes=26),
    )
    make_slot(
        town_hall, paris(2026, 12, 1, 9, 0), booking_url="https://rdv.example.fr/clichy/2026-12-01T09:00"
    )
    make_slot(town_hall, paris(2026, 12, 2, 10, 0))
    make_slot(town_hall, paris(2026, 12, 3, 11, 0), reason=Reason.CNI)
    levallois = make_town_hall(
        name="Mairie de Levallois-Perret",
        commune=levallois_commune,
        postcode="92300",
        lat=48.8950,
        lon=2.2870,
        checked_at=NOW - dt.timedelta(hours=3),
        stale_at=NOW - dt.timedelta(hours=2),
    )
    make_slot(levallois, paris(2026, 11, 25, 14, 30), people_max=2)
    asnieres = make_town_hall(
        name="Mairie d'Asnières-sur-Seine",
        commune=asnieres_commune,
        postcode="92600",
        lat=48.9110,
        lon=2.2890,
        phone="01 41 11 12 13",
        online_booking=False,
        booking=TownHall.Booking.PHONE,
        booking_url="",
    )
    return Clichy(commune=commune, town_hall=town_hall, levallois=levallois, asnieres=asnieres)


@pytest.fixture
def shared_postcode(db) -> list[Commune]:
    """77130: Montereau-Fault-Yonne, the most populous, and two smaller communes."""
    return [
        make_commune(
            "77305",
            name="Montereau-Fault-Yonne",
            department="77",
            postcodes=("77130",),
            lat=48.3853,
            lon=2.9508,
            population=20_000,
        ),
        make_commune(
            "77059",
            name="Cannes-Écluse",
            department="77",
            postcodes=("77130",),
            lat=48.3636,
            lon=2.9889,
            population=2_700,
        ),
        make_commune(
            "77483",
            name="Varennes-sur-Seine",
            department="77",
            postcodes=("77130",),
            lat=48.3719,
            lon=2.9256,
            population=3_600,
        ),
    ]


@pytest.fixture
def homonyms(db) -> list[Commune]:
    """Two communes named exactly Saint-Denis."""
    return [
        make_commune(
            "93066",
            name="Saint-Denis",
            department="93",
            postcodes=("93200",),
            lat=48.9356,
            lon=2.3539,
            population=113_000,
        ),
        make_commune(
            "11339",
            name="Saint-Denis",
            department="11",
            postcodes=("11310",),
            lat=43.3540,
            lon=2.2220,
            population=500,
        ),
    ]
