"""Statistics on the slots app's pages without an upward import (slots sits below stats): the department
and town-hall pages `{% load stats %}` and call these tags, each one query. Also the figures' filters."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from slots.forms import DEFAULT_MOTIF, MOTIFS
from stats.figures import chart_since, scope_stats, town_hall_history
from stats.services import area_history

register = template.Library()


@register.filter
def stats_days(value: float | None) -> str:
    """A number of days to the next slot; None: no slot among those the sources publish."""
    if value is None:
        return _("au-delà des créneaux publiés")
    number = int(value) if value == int(value) else round(value, 1)
    text = formats.number_format(number)
    # A fraction of a day reads as a plural in both languages ("1,5 jours", "1.5 days").
    count = int(value) if value == int(value) else 2
    return ngettext("%(days)s jour", "%(days)s jours", count) % {"days": text}


@register.filter
def stats_duration(seconds: float | None) -> str:
    """A slot's lifetime, in minutes under an hour, hours under two days, days beyond."""
    if seconds is None:
        return ""
    if seconds < 3600:
        return _("%(minutes)s min") % {"minutes": formats.number_format(round(seconds / 60))}
    if seconds < 2 * 86400:
        return _("%(hours)s h") % {"hours": formats.number_format(round(seconds / 3600, 1), decimal_pos=1)}
    days = round(seconds / 86400, 1)
    return ngettext("%(days)s jour", "%(days)s jours", 2) % {
        "days": formats.number_format(days, decimal_pos=1)
    }


@register.inclusion_tag("stats/_department_line.html")
def department_stats(department: Any, motif: str = DEFAULT_MOTIF) -> dict[str, Any]:
    """The department's current waiting-time figures and history chart, for its page: one query."""
    reason = MOTIFS.get(motif, MOTIFS[DEFAULT_MOTIF]).value
    history = area_history(reason=reason, since=chart_since(), scopes=[department.code])
    return {
        "department": department,
        "motif": motif,
        "scope": scope_stats(
            scope=department.code,
            name=department.name,
            history=history.get(department.code, []),
            lifetimes=None,
        ),
    }


@register.inclusion_tag("stats/_town_hall_history.html")
def town_hall_stats(town_hall: Any, reason: str) -> dict[str, Any]:
    """The town hall's days to its next slot over the last weeks, for its page: one query."""
    return {
        "town_hall": town_hall,
        "history": town_hall_history(town_hall_id=town_hall.pk, reason=str(reason)),
    }
