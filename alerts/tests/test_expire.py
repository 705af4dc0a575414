"""Alerts end on their own: unconfirmed after 48 hours, at their date, after ALERT_MAX_DAYS."""

from __future__ import annotations

import datetime as dt

import time_machine

from alerts.models import Alert, AlertCell, AlertEmail
from alerts.services import alert_email_send, alerts_expire
from alerts.tests.factories import make_alert, paris

NOW = paris(2026, 11, 20, 10, 0)


def test_unconfirmed_alerts_are_deleted_after_48_hours(db):
    with time_machine.travel(NOW, tick=False) as clock:
        old = make_alert(state=Alert.State.PENDING, confirmed_at=None)
        clock.shift(dt.timedelta(hours=47))
        recent = make_alert(state=Alert.State.PENDING, confirmed_at=None)
        clock.shift(dt.timedelta(hours=2))

        summary = alerts_expire()

    assert summary.pending_deleted == 1
    assert list(Alert.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not AlertCell.objects.filter(alert_id=old.pk).exists()


def test_an_alert_past_its_date_or_30_days_gets_a_last_email_then_is_deleted(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False) as clock:
        dated = make_alert(before=dt.date(2026, 11, 25), place="Clichy")
        month_old = make_alert(place="Grenoble")
        running = make_alert(place="Lyon")
        clock.shift(dt.timedelta(days=31))
        Alert.objects.filter(pk=running.pk).update(confirmed_at=NOW + dt.timedelta(days=30))

        with django_capture_on_commit_callbacks() as callbacks:
            summary = alerts_expire()
        assert summary.ended == 2 and len(callbacks) == 1
        statuses = [alert_email_send(email_id=pk) for pk in AlertEmail.objects.values_list("pk", flat=True)]

    assert statuses == ["sent", "sent"]
    assert sorted(message.subject for message in mailoutbox) == ["Votre alerte rdvpasseport est terminée"] * 2
    assert (
        "Pour la renouveler : https://" in mailoutbox[0].body
        or "Pour la renouveler : http://" in mailoutbox[0].body
    )
    assert list(Alert.objects.values_list("pk", flat=True)) == [running.pk]
    assert not Alert.objects.filter(pk__in=[dated.pk, month_old.pk]).exists()
