"""Admins fix the matching of meeting points to town halls: merge two town halls, detach a meeting point."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from scrapers.models import MeetingPoint
from scrapers.tests.factories import make_meeting_point, make_slot, make_source, make_town_hall
from slots.models import Slot, TownHall
from slots.services import town_halls_merge

pytestmark = pytest.mark.django_db


def soon(hours: int) -> dt.datetime:
    return timezone.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=2, hours=hours)


def test_merging_keeps_meeting_points_slots_and_corrections():
    editor_a, editor_b = make_source(name="A"), make_source(name="B")
    keep = make_town_hall(name="Mairie de Clichy", phone="", locked_fields=["name"])
    other = make_town_hall(
        name="HOTEL DE VILLE",
        phone="01 47 15 30 00",
        website="https://www.ville-clichy.fr/",
        locked_fields=["phone"],
    )
    make_meeting_point(editor_a, "21", keep)
    make_meeting_point(editor_b, "CLI-71", other)
    make_slot(keep, soon(1), source=editor_a)
    make_slot(other, soon(1), source=editor_b)  # the same start, offered by the other editor: both kept
    make_slot(other, soon(2), source=editor_b)

    merged = town_halls_merge(keep=keep, others=[other])

    assert list(TownHall.objects.values_list("pk", flat=True)) == [keep.pk]
    assert set(MeetingPoint.objects.values_list("external_id", "town_hall")) == {
        ("21", keep.pk),
        ("CLI-71", keep.pk),
    }
    assert Slot.objects.filter(town_hall=keep).count() == 3
    assert (merged.name, merged.phone) == ("Mairie de Clichy", "01 47 15 30 00")
    assert merged.locked_fields == ["name", "phone"]


def test_merging_a_town_hall_entered_by_hand_keeps_how_it_books_and_its_email():
    followed = make_town_hall(name="Mairie de Clichy")
    by_hand = make_town_hall(
        name="Mairie de Clichy-la-Garenne",
        online_booking=False,
        booking=TownHall.Booking.PHONE,
        email="etat-civil@clichy.example",
    )

    merged = town_halls_merge(keep=followed, others=[by_hand])

    assert (merged.booking, merged.email, merged.online_booking) == (
        "phone",
        "etat-civil@clichy.example",
        True,
    )


def test_a_slot_one_source_gave_to_both_town_halls_is_kept_once():
    editor = make_source()
    keep, other = make_town_hall(), make_town_hall()
    make_meeting_point(editor, "1", keep)
    make_meeting_point(editor, "2", other)
    make_slot(keep, soon(1), source=editor)
    make_slot(other, soon(1), source=editor)

    town_halls_merge(keep=keep, others=[other])

    assert Slot.objects.filter(town_hall=keep).count() == 1


def test_the_admin_merges_the_selected_town_halls_into_the_oldest(admin_client):
    first, second = make_town_hall(name="Mairie de Clichy"), make_town_hall(name="HOTEL DE VILLE CLICHY")

    response = admin_client.post(
        "/admin/slots/townhall/",
        {"action": "merge", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert list(TownHall.objects.values_list("pk", flat=True)) == [first.pk]
    assert "fusionnée(s) dans « Mairie de Clichy »" in response.content.decode()
    assert LogEntry.objects.filter(object_id=str(first.pk)).exists()


def test_detaching_gives_the_meeting_point_its_own_town_hall_with_its_sources_slots(admin_client):
    editor_a, editor_b = make_source(name="A"), make_source(name="B")
    shared = make_town_hall(name="Mairie de Clichy")
    make_meeting_point(editor_a, "21", shared)
    wrong = make_meeting_point(editor_b, "ANNEXE", shared)
    make_slot(shared, soon(1), source=editor_a)
    make_slot(shared, soon(3), source=editor_b)

    response = admin_client.post(
        "/admin/scrapers/meetingpoint/", {"action": "detach", "_selected_action": [wrong.pk]}, follow=True
    )

    assert response.status_code == 200
    wrong.refresh_from_db()
    assert wrong.town_hall_id != shared.pk
    assert list(Slot.objects.filter(town_hall=shared).values_list("source__name", flat=True)) == ["A"]
    assert list(Slot.objects.filter(town_hall=wrong.town_hall).values_list("source__name", flat=True)) == [
        "B"
    ]
    assert "détaché" in response.content.decode()
