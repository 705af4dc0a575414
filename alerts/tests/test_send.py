"""Sending: a mail server that does not answer is retried with backoff, then counted as failed; never blocks."""

from __future__ import annotations

import pytest

from alerts.models import AlertEmail, EmailTally
from alerts.services import SendFailed, alert_email_send
from alerts.tasks import SEND_MAX_RETRIES
from alerts.tasks import alert_email_send as alert_email_send_task
from alerts.tests.factories import make_alert
from alerts.tests.smtp import free_port


@pytest.fixture
def no_mail_server(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens there
    settings.EMAIL_TIMEOUT = 2


def test_a_refused_send_is_retried_then_counted_as_failed(db, no_mail_server):
    alert = make_alert(email="camille@example.org")
    send = AlertEmail.objects.create(alert=alert, kind=AlertEmail.Kind.CONFIRM)

    # Run eagerly, the task's retries follow one another at once (a worker waits 30 s, 1 min 30, ...).
    result = alert_email_send_task.apply(args=[send.pk])

    assert result.result == AlertEmail.Status.FAILED
    send.refresh_from_db()
    assert (send.status, send.attempts) == (AlertEmail.Status.FAILED, 1 + SEND_MAX_RETRIES)
    assert send.error == f"ConnectionRefusedError (attempt {1 + SEND_MAX_RETRIES})"  # never the address
    assert EmailTally.objects.get(kind="confirm", status="failed").count == 1


def test_a_failed_attempt_before_the_last_stays_queued_for_the_retry(db, no_mail_server):
    send = AlertEmail.objects.create(alert=make_alert(), kind=AlertEmail.Kind.MANAGE)

    with pytest.raises(SendFailed):
        alert_email_send(email_id=send.pk, last_attempt=False)

    send.refresh_from_db()
    assert (send.status, send.attempts) == (AlertEmail.Status.QUEUED, 1)
    assert not EmailTally.objects.exists()


def test_the_send_task_of_a_deleted_alert_does_nothing(db, mailoutbox):
    alert = make_alert()
    send = AlertEmail.objects.create(alert=alert, kind=AlertEmail.Kind.MATCH)
    alert.delete()

    assert alert_email_send(email_id=send.pk) == "gone"
    assert mailoutbox == []
