"""Operations on sources shared by the ops dashboard's buttons and the source list's admin actions.

Each operation (run now, pause, resume) writes a django.contrib.admin LogEntry per source, so that it shows
in the admin's "Recent actions" and in each source's history like any change made through a form.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.utils import timezone

from scrapers.models import Source
from scrapers.tasks import sources_enqueue


class Operation(StrEnum):
    RUN_NOW = "run_now"
    PAUSE = "pause"
    RESUME = "resume"


# What the LogEntry says, followed by where it was done ("from the ops dashboard").
OPERATION_LOG = {
    Operation.RUN_NOW: "Scrape queued (run now)",
    Operation.PAUSE: "Paused",
    Operation.RESUME: "Resumed",
}


def sources_operate(
    *,
    operation: Operation,
    source_ids: list[int],
    user_id: int,
    origin: str,
    now: dt.datetime | None = None,
) -> int:
    """Run now, pause or resume sources, recording a CHANGE LogEntry for each; returns how many exist.

    "Run now" enqueues one scrape per source after commit (paused ones too: an operator may test a source
    before resuming it). "Resume" makes the source due at the next dispatch.
    """
    now = now or timezone.now()
    with transaction.atomic():
        sources = list(Source.objects.filter(pk__in=source_ids).order_by("pk"))
        ids = [source.pk for source in sources]
        if operation == Operation.PAUSE:
            Source.objects.filter(pk__in=ids).update(paused=True)
        elif operation == Operation.RESUME:
            Source.objects.filter(pk__in=ids).update(paused=False, next_run_at=now)
        elif ids:
            transaction.on_commit(lambda: sources_enqueue(source_ids=ids))
        if sources:
            LogEntry.objects.log_actions(
                user_id=user_id,
                queryset=sources,
                action_flag=CHANGE,
                change_message=f"{OPERATION_LOG[operation]} {origin}",
            )
    return len(sources)
