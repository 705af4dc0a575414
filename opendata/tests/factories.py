"""The rows the opendata tests need: town halls followed by an iCalendar source (published by default), by an
ANTS editor (not published by default), a phone-only one, and their slots."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from opendata.services import api_token_create
from scrapers.models import Source
from scrapers.tests.factories import make_meeting_point, make_source
from slots.models import Reason, TownHall
from slots.tests.factories import make_commune, make_slot, make_town_hall, paris

__all__ = ["World", "make_world", "paris"]


@dataclass
class World:
    now: dt.datetime
    token: str
    ics: Source
    ants: Source
    clichy: TownHall  # followed by the iCalendar source: published by default
    levallois: TownHall  # followed by the iCalendar source, forced off
    grenoble: TownHall  # followed by an ANTS editor: not published by default
    phone_only: TownHall  # no source


def make_world(now: dt.datetime) -> World:
    clichy_commune = make_commune("92024", name="Clichy", postcodes=("92110",), lat=48.9028, lon=2.3048)
    ics = make_source(
        name="Calendrier de Clichy",
        kind="ics",
        base_url="https://prive.clichy.example/agenda.ics?cle=SECRETKEY",
        token="ics-secret-token",
        last_success_at=now - dt.timedelta(minutes=2),
        last_run_at=now - dt.timedelta(minutes=2),
        last_error="HTTP 500: Internal error with stack trace SECRETBODY",
    )
    ants = make_source(name="Éditeur ANTS", kind="ants", last_success_at=now - dt.timedelta(minutes=3))
    clichy = make_town_hall(
        name="Mairie de Clichy",
        address="80 boulevard Jean-Jaurès",
        postcode="92110",
        commune=clichy_commune,
        lat=48.9028,
        lon=2.3048,
        website="https://www.ville-clichy.fr/",
        booking_url="https://rdv.clichy.example/",
        checked_at=now - dt.timedelta(minutes=2),
        stale_at=now + dt.timedelta(minutes=13),
    )
    levallois = make_town_hall(name="Mairie de Levallois", published=False, checked_at=now)
    grenoble = make_town_hall(name="Hôtel de ville de Grenoble", postcode="38000", lat=45.1866, lon=5.7363)
    phone_only = make_town_hall(name="Mairie de Bourg", online_booking=False, booking="phone", booking_url="")
    make_meeting_point(ics, "clichy", clichy)
    make_meeting_point(ics, "levallois", levallois)
    make_meeting_point(ants, "38185", grenoble)
    csv_source = make_source(
        name="Fichier de Clichy", kind="csv", base_url="https://clichy.example/creneaux.csv"
    )
    make_meeting_point(csv_source, "clichy", clichy)

    day = now.astimezone(paris(2026, 1, 1).tzinfo).date() + dt.timedelta(days=1)

    def at(days: int, hour: int, minute: int = 0) -> dt.datetime:
        moment = day + dt.timedelta(days=days)
        return paris(moment.year, moment.month, moment.day, hour, minute)

    make_slot(clichy, at(0, 9), source=ics, reason=Reason.CNI, people_max=1, booking_url="")
    make_slot(clichy, at(0, 9, 20), source=ics, reason=Reason.CNI, people_max=3)
    make_slot(clichy, at(1, 14), source=ics, reason=Reason.PASSPORT, people_max=None)
    make_slot(clichy, at(20, 11), source=ics, reason=Reason.PASSPORT, people_max=2)
    # The same start offered by a second source: given once.
    make_slot(clichy, at(0, 9, 20), source=csv_source, reason=Reason.CNI, people_max=1)
    make_slot(levallois, at(0, 10), source=ics, reason=Reason.CNI)
    make_slot(grenoble, at(0, 11), source=ants, reason=Reason.CNI)
    _, token = api_token_create(name="Portail national ANTS")
    return World(
        now=now,
        token=token,
        ics=ics,
        ants=ants,
        clichy=clichy,
        levallois=levallois,
        grenoble=grenoble,
        phone_only=phone_only,
    )
