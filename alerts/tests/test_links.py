"""The links of the emails: confirmation (48 hours), the address's alerts, one-click unsubscribe (RFC 8058)."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone

from alerts.models import Alert, AlertEmail
from alerts.services import confirm_token, email_key, manage_token, unsubscribe_token
from alerts.tests.factories import make_alert


def test_a_confirmation_link_expires_after_48_hours(client, db):
    alert = make_alert(state=Alert.State.PENDING, confirmed_at=None, seen_until=None)
    link = f"/alertes/confirmer/{confirm_token(alert)}"

    with time_machine.travel(timezone.now() + dt.timedelta(hours=49)):
        response = client.post(link)

    assert response.status_code == 400
    assert "Ce lien a expiré ou n’est pas valide" in response.content.decode()
    alert.refresh_from_db()
    assert alert.state == Alert.State.PENDING


def test_a_forged_link_is_refused_with_a_way_to_get_a_new_one(client, db):
    response = client.get("/alertes/gerer/pas-un-jeton")

    assert response.status_code == 400
    assert "Recevoir un nouveau lien vers mes alertes" in response.content.decode()


def test_the_manage_page_lists_the_address_alerts_only(client, db, django_assert_num_queries):
    make_alert(place="Clichy", email="camille@example.org")
    make_alert(place="Grenoble", email="Camille@Example.org ", radius_km=10)
    make_alert(place="Lyon", email="someone.else@example.org")
    link = f"/alertes/gerer/{manage_token(email_key('camille@example.org'))}"

    with django_assert_num_queries(1):
        html = client.get(link).content.decode()

    assert "À moins de 20 km de Clichy" in html and "À moins de 10 km de Grenoble" in html
    assert "Lyon" not in html
    assert "camille@" not in html  # the page names the alerts, not the address


def test_an_alert_can_be_paused_resumed_and_deleted(client, db):
    alert = make_alert()
    link = f"/alertes/gerer/{manage_token(alert.email_key)}"

    assert client.post(link, {"alert": alert.pk, "action": "pause"}).status_code == 302
    alert.refresh_from_db()
    assert alert.state == Alert.State.PAUSED
    assert "Reprendre" in client.get(link).content.decode()

    client.post(link, {"alert": alert.pk, "action": "resume"})
    alert.refresh_from_db()
    assert alert.state == Alert.State.ACTIVE

    client.post(link, {"alert": alert.pk, "action": "delete"})
    assert not Alert.objects.exists()
    assert "Aucune alerte pour cette adresse" in client.get(link).content.decode()


def test_another_address_alert_cannot_be_touched(client, db):
    mine = make_alert(email="a@example.org")
    theirs = make_alert(email="b@example.org")

    response = client.post(
        f"/alertes/gerer/{manage_token(mine.email_key)}", {"alert": theirs.pk, "action": "delete"}
    )

    assert response.status_code == 400
    assert "Cette alerte n’existe plus." in response.content.decode()
    assert Alert.objects.count() == 2


def test_one_click_unsubscribe_deletes_everything_without_a_csrf_token(db):
    from django.test import Client

    alert = make_alert()
    AlertEmail.objects.create(alert=alert, kind=AlertEmail.Kind.MATCH, status=AlertEmail.Status.SENT)
    client = Client(enforce_csrf_checks=True)
    url = f"/alertes/desabonner/{unsubscribe_token(alert)}"

    assert "Supprimer cette alerte" in client.get(url).content.decode()
    response = client.post(url, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert "Alerte supprimée" in response.content.decode()
    assert not Alert.objects.exists() and not AlertEmail.objects.exists()
    assert client.post(url, {"List-Unsubscribe": "One-Click"}).status_code == 200  # twice is fine


def test_the_manage_page_keeps_csrf_protection(db):
    from django.test import Client

    alert = make_alert()
    response = Client(enforce_csrf_checks=True).post(
        f"/alertes/gerer/{manage_token(alert.email_key)}", {"alert": alert.pk, "action": "delete"}
    )

    assert response.status_code == 403
    assert Alert.objects.exists()


def test_asking_for_a_new_link_answers_the_same_for_any_address(
    client, db, django_capture_on_commit_callbacks
):
    make_alert(email="known@example.org")

    with django_capture_on_commit_callbacks() as known_callbacks:
        known = client.post("/alertes/lien", {"email": "known@example.org"})
    with django_capture_on_commit_callbacks() as unknown_callbacks:
        unknown = client.post("/alertes/lien", {"email": "unknown@example.org"})

    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    assert (len(known_callbacks), len(unknown_callbacks)) == (1, 0)
    assert AlertEmail.objects.get().kind == AlertEmail.Kind.MANAGE
