"""Every periodic task of the project, as django-celery-beat rows created by `manage.py setup_schedules`.

One list for all apps, kept here because ops is the one app that sees them all (scrapers never imports ops).
Beat reads the rows (settings.CELERY_BEAT_SCHEDULER), so operators can pause or retime a task in the admin.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from alerts.tasks import alerts_expire as alerts_expire_task
from ops.tasks import heartbeat as heartbeat_task
from scrapers.tasks import slots_purge as slots_purge_task
from scrapers.tasks import sources_dispatch as sources_dispatch_task
from stats.tasks import stats_snapshot as stats_snapshot_task

DISPATCH_SCHEDULE_NAME = "Dispatch due sources every minute"
PURGE_SCHEDULE_NAME = "Purge past slots and old scrape runs daily"
HEARTBEAT_SCHEDULE_NAME = "Record the beat heartbeat every minute"
STATS_SCHEDULE_NAME = "Record the waiting-time statistics daily"
ALERTS_EXPIRE_SCHEDULE_NAME = "End expired alerts every 15 minutes"

# Task names that earlier versions scheduled: rows still naming them would send tasks no worker knows.
# "scrapers.ops_heartbeat" was the heartbeat, scheduled by CELERY_BEAT_SCHEDULE as "ops-heartbeat".
RETIRED_TASKS = ("scrapers.ops_heartbeat",)


@dataclass(frozen=True)
class SchedulesSummary:
    tasks: list[tuple[PeriodicTask, bool]]  # (row, created)
    removed: list[PeriodicTask]  # rows of retired tasks, deleted


def schedules_setup() -> SchedulesSummary:
    """Create or update the default periodic tasks and delete those of retired tasks. Safe to run again.

    The schedule and task are reset to the defaults; `enabled` is left as an operator set it.
    """
    with transaction.atomic():
        every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.MINUTES)
        every_15_minutes, _ = IntervalSchedule.objects.get_or_create(
            every=15, period=IntervalSchedule.MINUTES
        )
        nightly, _ = CrontabSchedule.objects.get_or_create(
            minute="30",
            hour="3",
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
        # Every day at the same hour, so that "days to the next slot" compares from one day to the next.
        morning, _ = CrontabSchedule.objects.get_or_create(
            minute="0",
            hour="6",
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
        removed = list(PeriodicTask.objects.filter(task__in=RETIRED_TASKS).order_by("pk"))
        PeriodicTask.objects.filter(pk__in=[row.pk for row in removed]).delete()
        tasks = []
        for name, task, schedule, description in (
            (
                DISPATCH_SCHEDULE_NAME,
                sources_dispatch_task.name,
                {"interval": every_minute, "crontab": None},
                "Enqueues one scrape per due source (created by manage.py setup_schedules).",
            ),
            (
                PURGE_SCHEDULE_NAME,
                slots_purge_task.name,
                {"crontab": nightly, "interval": None},
                "Deletes slots already started and scrape runs older than SCRAPE_RUNS_KEEP_DAYS "
                "(created by manage.py setup_schedules).",
            ),
            (
                HEARTBEAT_SCHEDULE_NAME,
                heartbeat_task.name,
                {"interval": every_minute, "crontab": None},
                "Records that beat, the broker and a worker are working, for /healthz and the ops dashboard "
                "(created by manage.py setup_schedules).",
            ),
            (
                STATS_SCHEDULE_NAME,
                stats_snapshot_task.name,
                {"crontab": morning, "interval": None},
                "Records each followed town hall's waiting time and the department figures of /statistiques "
                "(created by manage.py setup_schedules).",
            ),
            (
                ALERTS_EXPIRE_SCHEDULE_NAME,
                alerts_expire_task.name,
                {"interval": every_15_minutes, "crontab": None},
                "Deletes alerts unconfirmed after 48 hours and ends the alerts past their date, 30 days or "
                "10 emails with a last email (created by manage.py setup_schedules).",
            ),
        ):
            periodic, created = PeriodicTask.objects.update_or_create(
                name=name,
                defaults={
                    "task": task,
                    **schedule,
                    "solar": None,
                    "clocked": None,
                    "one_off": False,
                    "args": "[]",
                    "kwargs": "{}",
                    "description": description,
                    # A tick not run within a minute is useless: the next one comes.
                    "expire_seconds": 60 if schedule["interval"] else None,
                    "expires": None,
                },
            )
            tasks.append((periodic, created))
    return SchedulesSummary(tasks=tasks, removed=removed)
