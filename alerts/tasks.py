"""Celery tasks: thin wrappers around alerts.services, owning the retry policy."""

from __future__ import annotations

import logging
import random

from celery import Task, shared_task

from alerts import services

logger = logging.getLogger(__name__)

# Retries of a failed send: 30 s, 1 min 30, 4 min 30, 13 min 30, then about 40 min (±25 %).
SEND_RETRY_BASE_SECONDS = 30
SEND_MAX_RETRIES = 5


@shared_task(ignore_result=True)
def alerts_match(town_hall_ids: list[int]) -> int:
    """After an ingestion run that added slots: find the alerts with news, enqueue alerts_notify batches."""
    return services.alerts_match(town_hall_ids=town_hall_ids).due


@shared_task(ignore_result=True)
def alerts_notify(alert_ids: list[int]) -> int:
    """Claim a batch of alerts due an email and queue their sends."""
    return len(services.alerts_notify(alert_ids=alert_ids))


def alerts_notify_enqueue(*, alert_ids: list[int]) -> None:
    try:
        alerts_notify.apply_async(args=[alert_ids], retry=False)
    except Exception as exc:  # the broker's errors vary with the transport
        logger.warning("Alert notification not queued (%d alerts): %s", len(alert_ids), exc)


def alerts_match_enqueue(*, town_hall_ids: list[int]) -> None:
    """Called after the ingestion's commit. Never raises: a broker outage must not fail the scrape."""
    try:
        alerts_match.apply_async(args=[sorted(town_hall_ids)], retry=False)
    except Exception as exc:  # the broker's errors vary with the transport
        logger.warning("Alert matching not queued (%d town halls): %s", len(town_hall_ids), exc)


@shared_task(bind=True, ignore_result=True, max_retries=SEND_MAX_RETRIES)
def alert_email_send(self: Task, email_id: int) -> str:
    last = self.request.retries >= SEND_MAX_RETRIES
    try:
        return services.alert_email_send(email_id=email_id, last_attempt=last)
    except services.SendFailed as exc:
        countdown = SEND_RETRY_BASE_SECONDS * 3**self.request.retries * random.uniform(0.75, 1.25)
        raise self.retry(exc=exc, countdown=countdown) from exc


def alert_emails_enqueue(*, email_ids: list[int]) -> None:
    for email_id in email_ids:
        try:
            alert_email_send.apply_async(args=[email_id], retry=False)
        except Exception as exc:  # the broker's errors vary with the transport
            logger.warning("Alert email %s not queued: %s", email_id, exc)


@shared_task(ignore_result=True)
def alerts_expire() -> int:
    """Every 15 minutes: delete unconfirmed alerts after 48 hours, end the alerts past their end."""
    summary = services.alerts_expire()
    return summary.pending_deleted + summary.ended
