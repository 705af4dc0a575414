"""/metrics counts active alerts and the emails sent or failed, nothing personal."""

from __future__ import annotations

from django.utils import timezone

from alerts.models import Alert, EmailTally
from alerts.tests.factories import make_alert


def test_metrics_count_alerts_and_emails(client, db, settings):
    settings.METRICS_TOKEN = "t0ken"
    make_alert(email="a@example.org")
    make_alert(email="b@example.org", state=Alert.State.PAUSED)
    EmailTally.objects.create(day=timezone.localdate(), kind="match", status="sent", count=4)
    EmailTally.objects.create(day=timezone.localdate(), kind="confirm", status="failed", count=1)

    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t0ken").content.decode()

    assert 'rdvpasseport_alerts{state="active"} 1.0' in body
    assert 'rdvpasseport_alerts{state="paused"} 1.0' in body
    assert 'rdvpasseport_alert_emails_total{kind="match",status="sent"} 4.0' in body
    assert 'rdvpasseport_alert_emails_total{kind="confirm",status="failed"} 1.0' in body
    assert "example.org" not in body
