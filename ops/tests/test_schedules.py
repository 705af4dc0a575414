"""setup_schedules: every periodic task of the project as django-celery-beat rows, safe to run again."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django_celery_beat.models import IntervalSchedule, PeriodicTask

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_setup_schedules_creates_the_periodic_tasks_once_and_keeps_an_operator_choice():
    run("setup_schedules")
    dispatch = PeriodicTask.objects.get(task="scrapers.tasks.sources_dispatch")
    dispatch.enabled = False
    dispatch.save()

    output = run("setup_schedules")

    assert PeriodicTask.objects.filter(task="scrapers.tasks.sources_dispatch").count() == 1
    assert PeriodicTask.objects.filter(task="scrapers.tasks.slots_purge").count() == 1
    dispatch.refresh_from_db()
    assert (dispatch.interval.every, dispatch.interval.period) == (1, "minutes")
    assert dispatch.enabled is False
    purge = PeriodicTask.objects.get(task="scrapers.tasks.slots_purge")
    assert (purge.crontab.hour, purge.crontab.minute) == ("3", "30")
    snapshot = PeriodicTask.objects.get(task="stats.tasks.stats_snapshot")
    assert (snapshot.crontab.hour, snapshot.crontab.minute, str(snapshot.crontab.timezone)) == (
        "6",
        "0",
        "Europe/Paris",
    )
    assert "Updated periodic task" in output


def test_setup_schedules_schedules_the_heartbeat_and_keeps_an_operator_choice():
    run("setup_schedules")
    heartbeat = PeriodicTask.objects.get(task="ops.heartbeat")
    heartbeat.enabled = False
    heartbeat.save()

    run("setup_schedules")

    heartbeat.refresh_from_db()
    assert PeriodicTask.objects.filter(task="ops.heartbeat").count() == 1
    assert (heartbeat.interval.every, heartbeat.interval.period) == (1, "minutes")
    assert heartbeat.expire_seconds == 60
    assert heartbeat.enabled is False


def test_setup_schedules_replaces_the_heartbeat_row_of_earlier_versions():
    # What django-celery-beat made of the former CELERY_BEAT_SCHEDULE entry when beat started.
    every_60_seconds, _ = IntervalSchedule.objects.get_or_create(every=60, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="ops-heartbeat", task="scrapers.ops_heartbeat", interval=every_60_seconds
    )

    output = run("setup_schedules")
    again = run("setup_schedules")

    assert "Removed periodic task 'ops-heartbeat' (scrapers.ops_heartbeat)" in output
    assert "Removed" not in again
    assert not PeriodicTask.objects.filter(task="scrapers.ops_heartbeat").exists()
    assert sorted(PeriodicTask.objects.values_list("task", flat=True)) == [
        "alerts.tasks.alerts_expire",
        "ops.heartbeat",
        "scrapers.tasks.slots_purge",
        "scrapers.tasks.sources_dispatch",
        "stats.tasks.stats_snapshot",
    ]


def test_setup_schedules_ends_expired_alerts_every_15_minutes(db):
    run("setup_schedules")

    expire = PeriodicTask.objects.get(task="alerts.tasks.alerts_expire")
    assert (expire.interval.every, expire.interval.period, expire.enabled) == (15, "minutes", True)
