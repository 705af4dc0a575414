"""What the alert pages and emails say about an alert's limits, read from the settings (never hard-coded)."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def alert_limits() -> dict[str, int]:
    return {
        "interval_minutes": settings.ALERT_MIN_INTERVAL_MINUTES,
        "daily_cap": settings.ALERT_DAILY_CAP,
        "max_days": settings.ALERT_MAX_DAYS,
        "max_emails": settings.ALERT_MAX_EMAILS,
    }
